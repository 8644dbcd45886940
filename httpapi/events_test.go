package httpapi_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/crossriver"
	"github.com/phonebook/phonebook/dialect/relay"
	"github.com/phonebook/phonebook/httpapi"
)

// newEnvWithDialects is newEnv with the Relay and Cross River dialects
// mounted next to /v1 (same store, keys and log checks).
func newEnvWithDialects(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.srv.Close()
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.api = httpapi.NewServer(log, e.svc, httpapi.Options{Dialects: []httpapi.Dialect{
		relay.New(log, e.svc), crossriver.New(log, e.svc),
	}})
	e.srv = httptest.NewServer(e.api)
	return e
}

// keyOf returns the key holding secret (its id and name, for history).
func (e *env) keyOf(t *testing.T, secret string) *phonebook.APIKey {
	t.Helper()
	a, err := e.svc.Authenticate(t.Context(), secret)
	must(t, err, "Authenticate")
	return a.Key
}

// numPath is the consent path of number, escaped.
func numPath(number string) string {
	return "/v1/numbers/" + url.PathEscape(number) + "/consent"
}

func TestWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	b := e.MustTenant(t, phonebook.TenantInput{Slug: "other"})

	h, hook := e.mustDo(t, http.StatusCreated, "POST", "/v1/webhooks", a.admin, obj{
		"url": "https://example.com/hooks/phonebook", "event_types": []string{"phone.created", "phone.deleted"}, "description": "crm sync",
	})
	secret := str(hook, "secret")
	e.remember(secret)
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 30 {
		t.Errorf("POST /v1/webhooks: got secret %q, want a generated whsec_ secret", secret)
	}
	if got, want := h.Get("Location"), "/v1/webhooks/"+idOf(hook); got != want {
		t.Errorf("POST /v1/webhooks: got Location %q, want %q", got, want)
	}
	for _, c := range []struct{ path, want string }{
		{"url", "https://example.com/hooks/phonebook"}, {"event_types", `["phone.created","phone.deleted"]`}, {"description", "crm sync"},
	} {
		if got := str(hook, c.path); got != c.want {
			t.Errorf("created webhook %s: got %q, want %q", c.path, got, c.want)
		}
	}
	if num(hook, "id") < 1 || str(hook, "created_at") == "" {
		t.Errorf("created webhook: got %v, want an id and created_at", hook)
	}
	given := "my-own-signing-secret-0001"
	e.remember(given)
	_, all := e.mustDo(t, http.StatusCreated, "POST", "/v1/webhooks", a.admin, obj{"url": "http://hooks.example.net:8080/in", "secret": given})
	if got := str(all, "secret"); got != given {
		t.Errorf("webhook with a given secret: got secret %q, want %q", got, given)
	}
	if got, want := str(all, "event_types"), `["*"]`; got != want {
		t.Errorf("webhook without event_types: got %s, want %s", got, want)
	}

	t.Run("SecretShownOnce", func(t *testing.T) {
		for _, path := range []string{"/v1/webhooks", "/v1/webhooks/" + idOf(hook), "/v1/webhooks/" + idOf(all)} {
			status, _, raw := e.doRaw(t, "GET", path, a.admin, nil)
			if status != http.StatusOK {
				t.Fatalf("GET %s: got %d %s", path, status, raw)
			}
			if s := string(raw); strings.Contains(s, secret) || strings.Contains(s, given) || strings.Contains(s, `"secret"`) {
				t.Errorf("GET %s shows a secret: %s", path, s)
			}
		}
		m := e.MustGet(t, a.admin, "/v1/webhooks")
		var ids []string
		for _, w := range list(m, "data") {
			ids = append(ids, str(w, "id"))
		}
		if want := []string{idOf(hook), idOf(all)}; !slices.Equal(ids, want) {
			t.Errorf("GET /v1/webhooks: got ids %q, want %q", ids, want)
		}
		if got := e.MustGet(t, a.admin, "/v1/webhooks/"+idOf(hook)); str(got, "url") != str(hook, "url") || str(got, "event_types") != str(hook, "event_types") {
			t.Errorf("GET /v1/webhooks/{id}: got %v, want the webhook", got)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		cases := []struct {
			name        string
			body        any
			status      int
			code, field string
		}{
			{"no url", obj{}, http.StatusUnprocessableEntity, "validation", "url"},
			{"relative url", obj{"url": "/hook"}, http.StatusUnprocessableEntity, "validation", "url"},
			{"ftp url", obj{"url": "ftp://example.com/x"}, http.StatusUnprocessableEntity, "validation", "url"},
			{"unknown event type", obj{"url": "https://example.com", "event_types": []string{"phone.eaten"}}, http.StatusUnprocessableEntity, "validation", "event_types"},
			{"event_types not an array", obj{"url": "https://example.com", "event_types": "*"}, http.StatusUnprocessableEntity, "validation", "event_types"},
			{"short secret", obj{"url": "https://example.com", "secret": "short"}, http.StatusUnprocessableEntity, "validation", "secret"},
			{"long description", obj{"url": "https://example.com", "description": strings.Repeat("d", 201)}, http.StatusUnprocessableEntity, "validation", "description"},
			{"unknown field", obj{"url": "https://example.com", "events": []string{"*"}}, http.StatusBadRequest, "unknown_field", "events"},
			{"not JSON", rawBody("{"), http.StatusBadRequest, "malformed_json", ""},
		}
		for _, tc := range cases {
			status, h, body := e.do(t, "POST", "/v1/webhooks", a.admin, tc.body)
			wantProblem(t, "POST /v1/webhooks "+tc.name, status, h, body, tc.status, tc.code, tc.field)
		}
		for _, path := range []string{"/v1/webhooks/abc", "/v1/webhooks/0", "/v1/webhooks/-1", "/v1/webhooks/999999", "/v1/webhooks/99999999999999999999"} {
			status, h, body := e.do(t, "GET", path, a.admin, nil)
			wantProblem(t, "GET "+path, status, h, body, http.StatusNotFound, "not_found", "")
		}
		if got, want := len(list(e.MustGet(t, a.admin, "/v1/webhooks"), "data")), 2; got != want {
			t.Errorf("after bad creates: got %d webhooks, want %d", got, want)
		}
	})

	// Changes queue deliveries for the webhooks that subscribe to them.
	c := e.MustCustomer(t, a.write, obj{"name": "Hooked"})
	p := e.MustPhone(t, a.write, c, obj{"number": "(504) 555-0123"})
	e.mustDo(t, http.StatusNoContent, "DELETE", phonePath(p), a.write, nil)

	t.Run("Deliveries", func(t *testing.T) {
		m := e.MustGet(t, a.admin, "/v1/webhooks/"+idOf(hook)+"/deliveries")
		var types []string
		for _, d := range list(m, "data") {
			types = append(types, str(d, "event_type"))
			if str(d, "status") != "pending" || str(d, "attempt_log") != "[]" || str(d, "webhook_id") != idOf(hook) || str(d, "event_id") == "" {
				t.Errorf("delivery: got %v, want pending, attempt_log [], webhook %s, an event id", d, idOf(hook))
			}
		}
		if want := []string{"phone.deleted", "phone.created"}; !slices.Equal(types, want) {
			t.Errorf("deliveries of the phone-only webhook (newest first): got %q, want %q", types, want)
		}
		m = e.MustGet(t, a.admin, "/v1/webhooks/"+idOf(all)+"/deliveries")
		if got := len(list(m, "data")); got < 3 {
			t.Errorf("deliveries of the * webhook: got %d, want every change (>= 3)", got)
		}
		if got := len(list(e.MustGet(t, a.admin, "/v1/webhooks/"+idOf(all)+"/deliveries?limit=1"), "data")); got != 1 {
			t.Errorf("?limit=1: got %d deliveries, want 1", got)
		}
		for _, l := range []string{"0", "501", "x", "-1"} {
			status, h, body := e.do(t, "GET", "/v1/webhooks/"+idOf(all)+"/deliveries?limit="+l, a.admin, nil)
			wantProblem(t, "deliveries ?limit="+l, status, h, body, http.StatusUnprocessableEntity, "validation", "limit")
		}
		status, h, body := e.do(t, "GET", "/v1/webhooks/999999/deliveries", a.admin, nil)
		wantProblem(t, "deliveries of an unknown webhook", status, h, body, http.StatusNotFound, "not_found", "")
	})

	t.Run("AttemptsAndRedeliver", func(t *testing.T) {
		claimed, err := e.svc.ClaimDeliveries(t.Context(), time.Minute, 100)
		must(t, err, "ClaimDeliveries")
		var mine *phonebook.ClaimedDelivery
		for _, cd := range claimed {
			if fmt.Sprint(cd.Webhook.ID) == idOf(hook) && cd.Event.Type == phonebook.EventPhoneCreated {
				mine = cd
			}
			if fmt.Sprint(cd.Webhook.ID) == idOf(all) && cd.Webhook.Secret != given {
				t.Errorf("claimed delivery: got the webhook secret %q, want the given one", cd.Webhook.Secret)
			}
		}
		if mine == nil {
			t.Fatalf("ClaimDeliveries: no phone.created delivery of webhook %s among %d", idOf(hook), len(claimed))
		}
		must(t, e.svc.RecordAttempt(t.Context(), mine.Delivery, phonebook.DeliveryAttempt{
			N: 1, At: time.Now().UTC(), StatusCode: 503, Error: "upstream unavailable", DurationMS: 12,
		}, false), "RecordAttempt")
		did := fmt.Sprint(mine.Delivery.ID)
		m := e.MustGet(t, a.admin, "/v1/webhooks/"+idOf(hook)+"/deliveries")
		var d any
		for _, x := range list(m, "data") {
			if str(x, "id") == did {
				d = x
			}
		}
		if d == nil {
			t.Fatalf("delivery %s is not listed: %v", did, m)
		}
		if str(d, "status") != "pending" || str(d, "attempts") != "1" || str(d, "next_attempt_at") == "" ||
			len(list(d, "attempt_log")) != 1 || str(d, "attempt_log.0.status_code") != "503" ||
			str(d, "attempt_log.0.error") != "upstream unavailable" || str(d, "attempt_log.0.attempt") != "1" {
			t.Errorf("delivery after a failed attempt: got %v, want pending, 1 attempt logged with 503", d)
		}

		path := "/v1/webhooks/" + idOf(hook) + "/deliveries/" + did + "/redeliver"
		s1, h1, r1 := e.doRaw(t, "POST", path, a.admin, nil, "Idempotency-Key", "redeliver-1")
		if s1 != http.StatusAccepted {
			t.Fatalf("POST %s: got %d %s, want 202", path, s1, r1)
		}
		if got, want := h1.Get("Content-Type"), "application/json"; got != want {
			t.Errorf("redeliver: got Content-Type %q, want %q", got, want)
		}
		_, rd := e.mustDo(t, http.StatusAccepted, "POST", path, a.admin, nil)
		if str(rd, "id") != did || str(rd, "status") != "pending" || str(rd, "attempts") != "1" || str(rd, "next_attempt_at") == "" {
			t.Errorf("redeliver: got %v, want delivery %s pending, 1 attempt, due now", rd, did)
		}
		if log, ok := rd["attempt_log"]; ok && len(list(rd, "attempt_log")) != 1 {
			t.Errorf("redeliver: got attempt_log %v, want it absent or the one attempt", log)
		}
		// The requeued delivery is due again: a worker claims it at once.
		again, err := e.svc.ClaimDeliveries(t.Context(), time.Minute, 100)
		must(t, err, "ClaimDeliveries after redeliver")
		if !slices.ContainsFunc(again, func(cd *phonebook.ClaimedDelivery) bool { return fmt.Sprint(cd.Delivery.ID) == did }) {
			t.Errorf("after redeliver: delivery %s is not claimable", did)
		}
		s2, h2, r2 := e.doRaw(t, "POST", path, a.admin, nil, "Idempotency-Key", "redeliver-1")
		if s2 != s1 || string(r2) != string(r1) || h2.Get("Idempotent-Replayed") != "true" {
			t.Errorf("redeliver replay: got %d %s (replayed %q), want the first answer", s2, r2, h2.Get("Idempotent-Replayed"))
		}
		for _, bad := range []string{
			"/v1/webhooks/" + idOf(hook) + "/deliveries/999999/redeliver",
			"/v1/webhooks/" + idOf(hook) + "/deliveries/x/redeliver",
			"/v1/webhooks/" + idOf(all) + "/deliveries/" + did + "/redeliver", // another webhook's delivery
			"/v1/webhooks/999999/deliveries/" + did + "/redeliver",
		} {
			status, h, body := e.do(t, "POST", bad, a.admin, nil)
			wantProblem(t, "POST "+bad, status, h, body, http.StatusNotFound, "not_found", "")
		}
	})

	t.Run("Scopes", func(t *testing.T) {
		routes := []struct {
			method, path string
			body         any
		}{
			{"POST", "/v1/webhooks", obj{"url": "https://example.com"}},
			{"GET", "/v1/webhooks", nil},
			{"GET", "/v1/webhooks/" + idOf(hook), nil},
			{"DELETE", "/v1/webhooks/" + idOf(hook), nil},
			{"GET", "/v1/webhooks/" + idOf(hook) + "/deliveries", nil},
			{"POST", "/v1/webhooks/" + idOf(hook) + "/deliveries/1/redeliver", nil},
		}
		for _, rt := range routes {
			for _, key := range []string{a.write, a.read} {
				status, h, body := e.do(t, rt.method, rt.path, key, rt.body)
				wantProblem(t, "non-admin key: "+rt.method+" "+rt.path, status, h, body, http.StatusForbidden, "forbidden", "")
			}
			status, h, body := e.do(t, rt.method, rt.path, "", rt.body)
			wantProblem(t, "no key: "+rt.method+" "+rt.path, status, h, body, http.StatusUnauthorized, "unauthorized", "")
		}
	})

	t.Run("OtherTenant", func(t *testing.T) {
		if got := list(e.MustGet(t, b.admin, "/v1/webhooks"), "data"); len(got) != 0 {
			t.Errorf("tenant B's webhooks: got %v, want none", got)
		}
		for _, rt := range []struct{ method, path string }{
			{"GET", "/v1/webhooks/" + idOf(hook)},
			{"DELETE", "/v1/webhooks/" + idOf(hook)},
			{"GET", "/v1/webhooks/" + idOf(hook) + "/deliveries"},
			{"POST", "/v1/webhooks/" + idOf(hook) + "/deliveries/1/redeliver"},
		} {
			status, h, body := e.do(t, rt.method, rt.path, b.admin, nil)
			wantProblem(t, "tenant B: "+rt.method+" "+rt.path, status, h, body, http.StatusNotFound, "not_found", "")
		}
		// B's own changes queue nothing for A's webhooks.
		before := len(list(e.MustGet(t, a.admin, "/v1/webhooks/"+idOf(all)+"/deliveries?limit=500"), "data"))
		e.MustCustomer(t, b.write, obj{"name": "B's"})
		if after := len(list(e.MustGet(t, a.admin, "/v1/webhooks/"+idOf(all)+"/deliveries?limit=500"), "data")); after != before {
			t.Errorf("tenant B's change queued a delivery for A: %d -> %d", before, after)
		}
	})

	t.Run("IdempotentCreate", func(t *testing.T) {
		body := obj{"url": "https://example.com/once"}
		s1, _, r1 := e.doRaw(t, "POST", "/v1/webhooks", a.admin, body, "Idempotency-Key", "hook-1")
		s2, h2, r2 := e.doRaw(t, "POST", "/v1/webhooks", a.admin, body, "Idempotency-Key", "hook-1")
		if s1 != http.StatusCreated || s2 != s1 || string(r2) != string(r1) || h2.Get("Idempotent-Replayed") != "true" {
			t.Errorf("webhook create replay: got %d then %d (replayed %q)", s1, s2, h2.Get("Idempotent-Replayed"))
		}
		if got, want := len(list(e.MustGet(t, a.admin, "/v1/webhooks"), "data")), 3; got != want {
			t.Errorf("after a replayed create: got %d webhooks, want %d", got, want)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		e.mustDo(t, http.StatusNoContent, "DELETE", "/v1/webhooks/"+idOf(hook), a.admin, nil)
		for _, rt := range []struct{ method, path string }{
			{"GET", "/v1/webhooks/" + idOf(hook)},
			{"DELETE", "/v1/webhooks/" + idOf(hook)},
			{"GET", "/v1/webhooks/" + idOf(hook) + "/deliveries"},
		} {
			status, h, body := e.do(t, rt.method, rt.path, a.admin, nil)
			wantProblem(t, "deleted webhook: "+rt.method+" "+rt.path, status, h, body, http.StatusNotFound, "not_found", "")
		}
		for _, w := range list(e.MustGet(t, a.admin, "/v1/webhooks"), "data") {
			if str(w, "id") == idOf(hook) {
				t.Errorf("the deleted webhook is still listed")
			}
		}
	})
}

// historyTypes lists "type/source" of each entry of a history answer.
func historyTypes(m obj) []string {
	var out []string
	for _, h := range list(m, "data") {
		out = append(out, str(h, "type")+"/"+str(h, "source"))
	}
	return out
}

// findEntry is the first history entry of type typ.
func findEntry(t *testing.T, m obj, typ string) any {
	t.Helper()
	for _, h := range list(m, "data") {
		if str(h, "type") == typ {
			return h
		}
	}
	t.Fatalf("history has no %s entry: %q", typ, historyTypes(m))
	return nil
}

func TestHistory(t *testing.T) {
	t.Parallel()
	e := newEnvWithDialects(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	b := e.MustTenant(t, phonebook.TenantInput{Slug: "other"})
	wk := e.keyOf(t, a.write)

	c := e.MustCustomer(t, a.write, obj{"name": "Carol", "external_id": "CC-1"})
	e.mustDo(t, http.StatusOK, "PATCH", custPath(c), a.write, obj{"name": "Caroline"})
	p := e.MustPhone(t, a.write, c, obj{"number": "(504) 555-0123", "label": "desk"})
	e.mustDo(t, http.StatusOK, "PATCH", phonePath(p), a.write, obj{"label": "cell"})
	e.mustDo(t, http.StatusNoContent, "DELETE", phonePath(p), a.write, nil)

	t.Run("Customer", func(t *testing.T) {
		m := e.MustGet(t, a.read, custPath(c)+"/history")
		want := []string{"customer.created/v1", "customer.updated/v1", "phone.created/v1", "phone.updated/v1", "phone.deleted/v1"}
		if got := historyTypes(m); !slices.Equal(got, want) {
			t.Fatalf("customer history: got %q, want %q", got, want)
		}
		if str(m, "has_more") != "false" || get(m, "next_cursor") != nil {
			t.Errorf("customer history: got has_more %s next_cursor %v, want the last page", str(m, "has_more"), get(m, "next_cursor"))
		}
		var last int64
		for i, h := range list(m, "data") {
			if s := num(h, "seq"); s <= last {
				t.Errorf("entry %d: seq %d after %d, want increasing", i, s, last)
			} else {
				last = s
			}
			if len(str(h, "id")) != 36 || str(h, "at") == "" || str(h, "customer_id") != idOf(c) {
				t.Errorf("entry %d: got %v, want an event uuid, at and customer_id %s", i, h, idOf(c))
			}
			if str(h, "key.id") != fmt.Sprint(wk.ID) || str(h, "key.name") != wk.Name {
				t.Errorf("entry %d: got key %v, want {%d %s}", i, get(h, "key"), wk.ID, wk.Name)
			}
		}
		created := findEntry(t, m, "customer.created")
		if get(created, "before") != nil || str(created, "after.name") != "Carol" || get(created, "phone_id") != nil {
			t.Errorf("customer.created: got %v, want before null, after.name Carol, phone_id null", created)
		}
		updated := findEntry(t, m, "customer.updated")
		if str(updated, "before.name") != "Carol" || str(updated, "after.name") != "Caroline" {
			t.Errorf("customer.updated: got before %v after %v, want Carol -> Caroline", get(updated, "before"), get(updated, "after"))
		}
	})

	t.Run("Phone", func(t *testing.T) {
		// The phone is deleted: its history stays reachable by its integer id.
		m := e.MustGet(t, a.read, phonePath(p)+"/history")
		want := []string{"phone.created/v1", "phone.updated/v1", "phone.deleted/v1"}
		if got := historyTypes(m); !slices.Equal(got, want) {
			t.Fatalf("phone history: got %q, want %q", got, want)
		}
		for _, h := range list(m, "data") {
			if str(h, "phone_id") != idOf(p) {
				t.Errorf("phone history entry: got phone_id %s, want %s", str(h, "phone_id"), idOf(p))
			}
		}
		if c := findEntry(t, m, "phone.created"); get(c, "before") != nil || str(c, "after.e164") != "+15045550123" || str(c, "after.label") != "desk" {
			t.Errorf("phone.created: got %v, want before null, after +15045550123 desk", c)
		}
		if u := findEntry(t, m, "phone.updated"); str(u, "before.label") != "desk" || str(u, "after.label") != "cell" {
			t.Errorf("phone.updated: got before %v after %v, want desk -> cell", get(u, "before"), get(u, "after"))
		}
		if d := findEntry(t, m, "phone.deleted"); str(d, "before.e164") != "+15045550123" || get(d, "after") != nil {
			t.Errorf("phone.deleted: got %v, want before the phone, after null", d)
		}
		// By uuid a deleted phone is gone.
		status, h, body := e.do(t, "GET", custPath(c)+"/phones/"+str(p, "uuid")+"/history", a.read, nil)
		wantProblem(t, "history of a deleted phone by uuid", status, h, body, http.StatusNotFound, "not_found", "")
	})

	t.Run("Dialects", func(t *testing.T) {
		rk := e.keyOf(t, a.admin)
		relayPath := "/platform/v3/api/cdm/client/acme/customer/CC-1/"
		e.mustDo(t, http.StatusOK, "PUT", relayPath+"add_phone/5045550177", "", obj{"consent_type": "express", "phone_type": "mobile"}, "xx-relay-api-key", a.admin)
		e.mustDo(t, http.StatusOK, "PUT", relayPath+"remove_phone/5045550177", "", nil, "xx-relay-api-key", a.admin)
		_, cr := e.mustDo(t, http.StatusOK, "POST", "/core/v1/cm/customers/"+str(c, "uuid")+"/phones", a.write,
			obj{"isPrimary": true, "phoneType": "work", "phoneNumber": "5045550188"})

		m := e.MustGet(t, a.read, custPath(c)+"/history?limit=500")
		got := historyTypes(m)
		want := []string{"phone.created/relay", "phone.deleted/relay", "phone.created/crossriver"}
		if len(got) < 3 || !slices.Equal(got[len(got)-3:], want) {
			t.Fatalf("customer history after dialect calls: got %q, want it to end with %q", got, want)
		}
		data := list(m, "data")
		added, removed, crossed := data[len(data)-3], data[len(data)-2], data[len(data)-1]
		if str(added, "after.e164") != "+15045550177" || str(added, "after.consent.type") != "express" || str(added, "after.consent.source") != "relay" || get(added, "before") != nil {
			t.Errorf("relay add_phone: got %v, want after +15045550177 with consent express from relay", added)
		}
		if str(added, "key.id") != fmt.Sprint(rk.ID) || str(added, "key.name") != rk.Name {
			t.Errorf("relay add_phone: got key %v, want the relay caller's {%d %s}", get(added, "key"), rk.ID, rk.Name)
		}
		if str(removed, "before.e164") != "+15045550177" || get(removed, "after") != nil {
			t.Errorf("relay remove_phone: got %v, want before the phone, after null", removed)
		}
		if str(crossed, "after.e164") != "+15045550188" || str(crossed, "after.uuid") != str(cr, "id") || str(crossed, "key.id") != fmt.Sprint(wk.ID) {
			t.Errorf("crossriver phone: got %v, want after +15045550188 (uuid %s) by key %d", crossed, str(cr, "id"), wk.ID)
		}
		ph := e.MustGet(t, a.read, custPath(c)+"/phones/"+str(removed, "phone_id")+"/history")
		if got, want := historyTypes(ph), []string{"phone.created/relay", "phone.deleted/relay"}; !slices.Equal(got, want) {
			t.Errorf("history of the Relay phone: got %q, want %q", got, want)
		}
	})

	t.Run("Pages", func(t *testing.T) {
		full := e.MustGet(t, a.read, custPath(c)+"/history")
		var want []string
		for _, h := range list(full, "data") {
			want = append(want, str(h, "id"))
		}
		var got []string
		path := custPath(c) + "/history?limit=2"
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatalf("too many pages")
			}
			m := e.MustGet(t, a.read, path)
			if n := len(list(m, "data")); n > 2 || n == 0 {
				t.Fatalf("page %d: got %d entries, want 1 or 2", pages, n)
			}
			for _, h := range list(m, "data") {
				got = append(got, str(h, "id"))
			}
			if str(m, "has_more") != "true" {
				if get(m, "next_cursor") != nil {
					t.Errorf("last page: got next_cursor %v, want null", get(m, "next_cursor"))
				}
				break
			}
			path = custPath(c) + "/history?limit=2&cursor=" + q(str(m, "next_cursor"))
		}
		if !slices.Equal(got, want) {
			t.Errorf("paged history: got %q, want %q", got, want)
		}
		// A page that ends exactly on the last entry says so.
		m := e.MustGet(t, a.read, custPath(c)+"/history?limit="+fmt.Sprint(len(want)))
		if str(m, "has_more") != "false" || get(m, "next_cursor") != nil {
			t.Errorf("a page of exactly every entry: got has_more %s next_cursor %v, want the last page", str(m, "has_more"), get(m, "next_cursor"))
		}
		e.MustCustomer(t, a.write, obj{"name": "Second"})
		customersCursor := str(e.MustGet(t, a.read, "/v1/customers?limit=1"), "next_cursor")
		if customersCursor == "" {
			t.Fatalf("GET /v1/customers?limit=1: no next_cursor")
		}
		for _, query := range []string{"limit=0", "limit=501", "limit=x", "cursor=garbage", "cursor=" + q(customersCursor)} {
			field := strings.SplitN(query, "=", 2)[0]
			for _, hp := range []string{custPath(c) + "/history", phonePath(p) + "/history"} {
				status, h, body := e.do(t, "GET", hp+"?"+query, a.read, nil)
				wantProblem(t, "GET "+hp+"?"+query, status, h, body, http.StatusUnprocessableEntity, "validation", field)
			}
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		other := e.MustCustomer(t, a.write, obj{"name": "Other"})
		cb := e.MustCustomer(t, b.write, obj{"name": "B's"})
		cases := []struct {
			key, path string
		}{
			{a.read, "/v1/customers/999999/history"},
			{a.read, "/v1/customers/x/history"},
			{a.read, custPath(other) + "/phones/" + idOf(p) + "/history"}, // A's phone under another customer
			{a.read, custPath(c) + "/phones/999999/history"},
			{b.read, custPath(c) + "/history"},
			{b.read, "/v1/customers/" + str(c, "uuid") + "/history"},
			{b.read, phonePath(p) + "/history"},
			{b.read, custPath(cb) + "/phones/" + idOf(p) + "/history"},
		}
		for _, tc := range cases {
			status, h, body := e.do(t, "GET", tc.path, tc.key, nil)
			wantProblem(t, "GET "+tc.path, status, h, body, http.StatusNotFound, "not_found", "")
			if strings.Contains(jsonString(body), "Carol") {
				t.Errorf("GET %s leaks the history: %v", tc.path, body)
			}
		}
		if got := historyTypes(e.MustGet(t, b.read, custPath(cb)+"/history")); !slices.Equal(got, []string{"customer.created/v1"}) {
			t.Errorf("B's own customer: got %q, want only its creation", got)
		}
		status, h, body := e.do(t, "GET", custPath(c)+"/history", "", nil)
		wantProblem(t, "history without a key", status, h, body, http.StatusUnauthorized, "unauthorized", "")
	})

	t.Run("DeletedCustomer", func(t *testing.T) {
		gone := e.MustCustomer(t, a.write, obj{"name": "Gone"})
		e.mustDo(t, http.StatusNoContent, "DELETE", custPath(gone), a.write, nil)
		// phonebook.Service.History looks the customer up first: a deleted
		// customer's history (customer.deleted included) is not reachable
		// through this route.
		status, h, body := e.do(t, "GET", custPath(gone)+"/history", a.read, nil)
		wantProblem(t, "history of a deleted customer", status, h, body, http.StatusNotFound, "not_found", "")
	})
}

func TestConsentLedger(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	b := e.MustTenant(t, phonebook.TenantInput{Slug: "other"})
	wk := e.keyOf(t, a.write)
	c := e.MustCustomer(t, a.write, obj{"name": "Holder"})
	p := e.MustPhone(t, a.write, c, obj{"number": "+1 504 555 0123"})

	now := time.Now().UTC().Truncate(time.Second)
	t1, t2, t3 := now.Add(-3*time.Hour), now.Add(-2*time.Hour), now.Add(-1*time.Hour)
	steps := []struct {
		number string
		at     time.Time
		typ    string
		source string
	}{
		{"+15045550123", t1, "written", "paper form"},
		{"5045550123", t2, "express", "web"},
		{"(504) 555-0123", t3, "stop", "call center"},
	}
	for i, s := range steps {
		_, m := e.mustDo(t, http.StatusOK, "PUT", numPath(s.number), a.write, obj{
			"type": s.typ, "source": s.source, "evidence": fmt.Sprintf("step %d", i+1), "captured_at": s.at.Format(time.RFC3339),
		})
		r := get(m, "record")
		for _, f := range []struct{ path, want string }{
			{"e164", "+15045550123"}, {"type", s.typ}, {"source", s.source}, {"evidence", fmt.Sprintf("step %d", i+1)},
			{"captured_at", s.at.Format(time.RFC3339)}, {"via", "v1"}, {"key_id", fmt.Sprint(wk.ID)}, {"key_name", wk.Name},
		} {
			if got := str(r, f.path); got != f.want {
				t.Errorf("PUT %s step %d: record.%s got %q, want %q", s.number, i+1, f.path, got, f.want)
			}
		}
		if str(r, "recorded_at") == "" || num(r, "id") < 1 {
			t.Errorf("PUT step %d: record got %v, want an id and recorded_at", i+1, r)
		}
		if got := str(m, "state.type"); got != s.typ {
			t.Errorf("PUT step %d: state.type got %q, want %q", i+1, got, s.typ)
		}
	}

	t.Run("At", func(t *testing.T) {
		cases := []struct {
			at, want string
		}{
			{t1.Add(-time.Minute).Format(time.RFC3339), "none"},
			{t1.Format(time.RFC3339), "written"},
			{t1.Add(30 * time.Minute).Format(time.RFC3339), "written"},
			{t2.Add(30 * time.Minute).Format(time.RFC3339Nano), "express"},
			{t3.Add(30 * time.Minute).Format(time.RFC3339), "stop"},
			{t2.Add(30 * time.Minute).In(time.FixedZone("", 2*3600)).Format(time.RFC3339), "express"}, // +02:00, escaped
			{"", "stop"},
		}
		for _, tc := range cases {
			path := numPath("+15045550123")
			if tc.at != "" {
				path += "?at=" + q(tc.at)
			}
			m := e.MustGet(t, a.read, path)
			if got := str(m, "type"); got != tc.want {
				t.Errorf("GET %s: type got %q, want %q", path, got, tc.want)
			}
			if str(m, "e164") != "+15045550123" || str(m, "at") == "" {
				t.Errorf("GET %s: got %v, want e164 and at", path, m)
			}
			if tc.want == "none" {
				if get(m, "record") != nil {
					t.Errorf("GET %s: record got %v, want null", path, get(m, "record"))
				}
			} else if str(m, "record.type") != tc.want {
				t.Errorf("GET %s: record got %v, want the %s record", path, get(m, "record"), tc.want)
			}
			if _, ok := m["history"]; ok {
				t.Errorf("GET %s: got history without ?history=true", path)
			}
		}
		// An unescaped "+" of the offset arrives as a space; it is read as "+".
		m := e.MustGet(t, a.read, numPath("5045550123")+"?at="+t2.Add(30*time.Minute).In(time.FixedZone("", 2*3600)).Format(time.RFC3339))
		if got := str(m, "type"); got != "express" {
			t.Errorf("?at= with an unescaped +02:00: type got %q, want express", got)
		}
	})

	t.Run("History", func(t *testing.T) {
		m := e.MustGet(t, a.read, numPath("(504) 555-0123")+"?history=true")
		var got []string
		for _, r := range list(m, "history") {
			got = append(got, str(r, "type")+"/"+str(r, "source"))
		}
		if want := []string{"written/paper form", "express/web", "stop/call center"}; !slices.Equal(got, want) {
			t.Errorf("?history=true: got %q, want %q", got, want)
		}
		if m := e.MustGet(t, a.read, numPath("+15045550199")+"?history=true"); str(m, "history") != "[]" || str(m, "type") != "none" {
			t.Errorf("a number without a ledger, ?history=true: got %v, want type none, history []", m)
		}
		if m := e.MustGet(t, a.read, numPath("+15045550123")+"?history=false"); m["history"] != nil {
			t.Errorf("?history=false: got history %v", m["history"])
		}
	})

	t.Run("PhonesFlagged", func(t *testing.T) {
		got := e.MustGet(t, a.read, phonePath(p))
		if str(got, "consent.type") != "stop" || str(got, "consent.source") != "call center" {
			t.Errorf("the phone holding the number: got consent %v, want stop from call center", get(got, "consent"))
		}
		var types []string
		for _, h := range list(e.MustGet(t, a.read, phonePath(p)+"/history"), "data") {
			if str(h, "type") == phonebook.EventConsentChanged {
				types = append(types, str(h, "before.type")+">"+str(h, "after.type")+"/"+str(h, "source"))
			}
		}
		if want := []string{"none>written/v1", "written>express/v1", "express>stop/v1"}; !slices.Equal(types, want) {
			t.Errorf("consent changes in the phone's history: got %q, want %q", types, want)
		}
	})

	t.Run("BackDated", func(t *testing.T) {
		_, m := e.mustDo(t, http.StatusOK, "PUT", numPath("5045550123"), a.write, obj{
			"type": "express", "source": "old record", "captured_at": t2.Add(10 * time.Minute).Format(time.RFC3339),
		})
		if str(m, "record.type") != "express" || str(m, "state.type") != "stop" {
			t.Errorf("back-dated record: got record %s, state %s; want express recorded, state still stop", str(m, "record.type"), str(m, "state.type"))
		}
		if got := e.MustGet(t, a.read, phonePath(p)); str(got, "consent.type") != "stop" {
			t.Errorf("after a back-dated record: phone consent got %v, want stop", get(got, "consent"))
		}
		if got := str(e.MustGet(t, a.read, numPath("5045550123")+"?at="+q(t2.Add(20*time.Minute).Format(time.RFC3339))), "record.source"); got != "old record" {
			t.Errorf("the back-dated record at its time: got source %q, want old record", got)
		}
	})

	t.Run("CountryCode", func(t *testing.T) {
		_, m := e.mustDo(t, http.StatusOK, "PUT", numPath("20 7946 0958")+"?country_code=44", a.write, obj{"type": "written"})
		if got := str(m, "record.e164"); got != "+442079460958" {
			t.Errorf("?country_code=44: got e164 %q, want +442079460958", got)
		}
		if got := str(e.MustGet(t, a.read, numPath("+44 20 7946 0958")), "type"); got != "written" {
			t.Errorf("GET the UK number: got %q, want written", got)
		}
		if got := str(e.MustGet(t, a.read, numPath("020 7946 0958")+"?country_code=GB"), "type"); got != "written" {
			t.Errorf("GET the UK number by region: got %q, want written", got)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		cases := []struct {
			name        string
			method      string
			path        string
			key         string
			body        any
			status      int
			code, field string
		}{
			{"bad at", "GET", numPath("5045550123") + "?at=yesterday", a.read, nil, 422, "validation", "at"},
			{"at without a zone", "GET", numPath("5045550123") + "?at=2026-01-02T10:00:00", a.read, nil, 422, "validation", "at"},
			{"bad history", "GET", numPath("5045550123") + "?history=maybe", a.read, nil, 422, "validation", "history"},
			{"bad number", "GET", numPath("banana"), a.read, nil, 422, "invalid_number", "number"},
			{"bad country", "GET", numPath("5045550123") + "?country_code=ZZ", a.read, nil, 422, "validation", "country_code"},
			{"bad captured_at", "PUT", numPath("5045550123"), a.write, obj{"type": "stop", "captured_at": "last tuesday"}, 422, "validation", "captured_at"},
			{"captured_at a number", "PUT", numPath("5045550123"), a.write, obj{"type": "stop", "captured_at": 5}, 422, "validation", "captured_at"},
			{"captured_at in the future", "PUT", numPath("5045550123"), a.write, obj{"type": "stop", "captured_at": future}, 422, "validation", "captured_at"},
			{"no type", "PUT", numPath("5045550123"), a.write, obj{"source": "x"}, 422, "validation", "type"},
			{"type none", "PUT", numPath("5045550123"), a.write, obj{"type": "none"}, 422, "validation", "type"},
			{"long source", "PUT", numPath("5045550123"), a.write, obj{"type": "stop", "source": strings.Repeat("s", 101)}, 422, "validation", "source"},
			{"long evidence", "PUT", numPath("5045550123"), a.write, obj{"type": "stop", "evidence": strings.Repeat("e", 2001)}, 422, "validation", "evidence"},
			{"bad number on PUT", "PUT", numPath("12"), a.write, obj{"type": "stop"}, 422, "invalid_number", "number"},
			{"unknown field", "PUT", numPath("5045550123"), a.write, obj{"type": "stop", "kind": "x"}, 400, "unknown_field", "kind"},
			{"no body", "PUT", numPath("5045550123"), a.write, nil, 415, "unsupported_media_type", ""},
			{"read key writes", "PUT", numPath("5045550123"), a.read, obj{"type": "stop"}, 403, "forbidden", ""},
			{"no key reads", "GET", numPath("5045550123"), "", nil, 401, "unauthorized", ""},
			{"no key writes", "PUT", numPath("5045550123"), "", obj{"type": "stop"}, 401, "unauthorized", ""},
			{"POST", "POST", numPath("5045550123"), a.write, obj{"type": "stop"}, 405, "method_not_allowed", ""},
		}
		for _, tc := range cases {
			status, h, body := e.do(t, tc.method, tc.path, tc.key, tc.body)
			wantProblem(t, tc.name+": "+tc.method+" "+tc.path, status, h, body, tc.status, tc.code, tc.field)
		}
		m := e.MustGet(t, a.read, numPath("5045550123")+"?history=true")
		if got := len(list(m, "history")); got != 4 {
			t.Errorf("after refused writes: got %d ledger entries, want 4", got)
		}
	})

	t.Run("OtherTenant", func(t *testing.T) {
		if m := e.MustGet(t, b.read, numPath("5045550123")+"?history=true"); str(m, "type") != "none" || str(m, "history") != "[]" {
			t.Errorf("tenant B reads A's ledger: got %v, want none and []", m)
		}
		e.mustDo(t, http.StatusOK, "PUT", numPath("5045550123"), b.write, obj{"type": "written"})
		if got := str(e.MustGet(t, a.read, numPath("5045550123")), "type"); got != "stop" {
			t.Errorf("tenant B's write changed A's state: got %q, want stop", got)
		}
		if got := e.MustGet(t, a.read, phonePath(p)); str(got, "consent.type") != "stop" {
			t.Errorf("tenant B's write changed A's phone: %v", get(got, "consent"))
		}
	})

	t.Run("WriteOnlyKey", func(t *testing.T) {
		wo := e.MustKey(t, "acme", phonebook.ScopeCustomersWrite)
		_, m := e.mustDo(t, http.StatusOK, "PUT", numPath("5045550166"), wo, obj{"type": "express"})
		if str(m, "record.type") != "express" {
			t.Errorf("write-only key: got %v, want the record", m)
		}
		if _, ok := m["state"]; ok {
			t.Errorf("write-only key: got state %v, want none (the key may not read)", m["state"])
		}
	})
}

func TestInboundSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	b := e.MustTenant(t, phonebook.TenantInput{Slug: "other"})

	// Three customers hold the number, each written another way; a fourth
	// holds another number; tenant B holds the same number.
	var holders []obj
	for i, n := range []string{"(504) 555-0123", "+1 504 555 0123", "5045550123"} {
		c := e.MustCustomer(t, a.write, obj{"name": fmt.Sprintf("Holder %d", i+1)})
		e.MustPhone(t, a.write, c, obj{"number": n, "consent": obj{"type": "express", "source": "signup"}})
		holders = append(holders, c)
	}
	bystander := e.MustCustomer(t, a.write, obj{"name": "Bystander"})
	e.MustPhone(t, a.write, bystander, obj{"number": "(504) 555-0199"})
	cb := e.MustCustomer(t, b.write, obj{"name": "B's holder"})
	e.MustPhone(t, b.write, cb, obj{"number": "(504) 555-0123"})

	consentOf := func(t *testing.T, key string, c obj) []string {
		t.Helper()
		var out []string
		for _, p := range list(e.MustGet(t, key, custPath(c)+"/phones"), "data") {
			out = append(out, str(p, "consent.type"))
		}
		return out
	}

	t.Run("StopFlagsEveryHolder", func(t *testing.T) {
		_, m := e.mustDo(t, http.StatusOK, "POST", "/v1/inbound/sms", a.write, obj{"from": "+1 (504) 555-0123", "body": "Stop."})
		for _, f := range []struct{ path, want string }{
			{"e164", "+15045550123"}, {"keyword", "STOP"}, {"action", "stop"}, {"phones", "3"},
			{"record.type", "stop"}, {"record.source", "inbound_sms"}, {"record.evidence", "SMS keyword STOP"}, {"record.via", "v1"},
		} {
			if got := str(m, f.path); got != f.want {
				t.Errorf("inbound STOP: %s got %q, want %q (%v)", f.path, got, f.want, m)
			}
		}
		for _, c := range holders {
			if got := consentOf(t, a.read, c); !slices.Equal(got, []string{"stop"}) {
				t.Errorf("%s after STOP: got consent %q, want [stop]", str(c, "name"), got)
			}
		}
		if got := consentOf(t, a.read, bystander); !slices.Equal(got, []string{"none"}) {
			t.Errorf("bystander after STOP: got %q, want [none]", got)
		}
		if got := consentOf(t, b.read, cb); !slices.Equal(got, []string{"none"}) {
			t.Errorf("tenant B's holder after A's STOP: got %q, want [none]", got)
		}
		if got := str(e.MustGet(t, a.read, numPath("5045550123")), "type"); got != "stop" {
			t.Errorf("ledger after STOP: got %q, want stop", got)
		}
		// A phone added later for the number is stopped too.
		late := e.MustCustomer(t, a.write, obj{"name": "Late"})
		if p := e.MustPhone(t, a.write, late, obj{"number": "504.555.0123"}); str(p, "consent.type") != "stop" {
			t.Errorf("a phone added after STOP: got consent %v, want stop", get(p, "consent"))
		}
		holders = append(holders, late)
	})

	t.Run("StartAndKeywords", func(t *testing.T) {
		cases := []struct {
			body, keyword, action string
		}{
			{"start", "START", "express"},
			{"STOPALL", "STOPALL", "stop"},
			{"UNSTOP", "UNSTOP", "express"},
			{"unsubscribe me", "UNSUBSCRIBE", "stop"},
			{"Start!", "START", "express"},
			{"cancel", "CANCEL", "stop"},
			{"END", "END", "stop"},
			{"  quit  ", "QUIT", "stop"},
			{"Revoke", "REVOKE", "stop"},
			{"optout", "OPTOUT", "stop"},
			{"hello, please stop", "", "none"},
			{"", "", "none"},
		}
		state := "stop"
		for _, tc := range cases {
			_, m := e.mustDo(t, http.StatusOK, "POST", "/v1/inbound/sms", a.write, obj{"from": "5045550123", "body": tc.body})
			if str(m, "keyword") != tc.keyword || str(m, "action") != tc.action || str(m, "phones") != "4" {
				t.Errorf("inbound %q: got %v, want keyword %q action %q phones 4", tc.body, m, tc.keyword, tc.action)
			}
			if tc.action == "none" {
				if _, ok := m["record"]; ok {
					t.Errorf("inbound %q: got a record %v, want none", tc.body, m["record"])
				}
			} else {
				state = tc.action
			}
			for _, c := range holders {
				if got := consentOf(t, a.read, c); !slices.Equal(got, []string{state}) {
					t.Errorf("after %q: %s got consent %q, want [%s]", tc.body, str(c, "name"), got, state)
				}
			}
		}
	})

	t.Run("UnknownNumber", func(t *testing.T) {
		_, m := e.mustDo(t, http.StatusOK, "POST", "/v1/inbound/sms", a.write, obj{"from": "+15045550100", "body": "STOP"})
		if str(m, "action") != "stop" || str(m, "phones") != "0" || str(m, "record.type") != "stop" {
			t.Errorf("STOP from a number nobody holds: got %v, want stop recorded, phones 0", m)
		}
	})

	t.Run("Idempotent", func(t *testing.T) {
		before := len(list(e.MustGet(t, a.read, numPath("5045550123")+"?history=true"), "history"))
		body := obj{"from": "5045550123", "body": "STOP"}
		s1, _, r1 := e.doRaw(t, "POST", "/v1/inbound/sms", a.write, body, "Idempotency-Key", "sms-1")
		s2, h2, r2 := e.doRaw(t, "POST", "/v1/inbound/sms", a.write, body, "Idempotency-Key", "sms-1")
		if s1 != http.StatusOK || s2 != s1 || string(r2) != string(r1) || h2.Get("Idempotent-Replayed") != "true" {
			t.Errorf("inbound replay: got %d then %d (replayed %q)", s1, s2, h2.Get("Idempotent-Replayed"))
		}
		if after := len(list(e.MustGet(t, a.read, numPath("5045550123")+"?history=true"), "history")); after != before+1 {
			t.Errorf("inbound replay: ledger grew %d -> %d, want one entry", before, after)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		cases := []struct {
			name        string
			key         string
			body        any
			status      int
			code, field string
		}{
			{"no from", a.write, obj{"body": "STOP"}, 422, "validation", "from"},
			{"bad from", a.write, obj{"from": "banana", "body": "STOP"}, 422, "invalid_number", "from"},
			{"long body", a.write, obj{"from": "5045550123", "body": strings.Repeat("x", 2001)}, 422, "validation", "body"},
			{"body a number", a.write, obj{"from": "5045550123", "body": 5}, 422, "validation", "body"},
			{"unknown field", a.write, obj{"from": "5045550123", "text": "STOP"}, 400, "unknown_field", "text"},
			{"read key", a.read, obj{"from": "5045550123", "body": "STOP"}, 403, "forbidden", ""},
			{"no key", "", obj{"from": "5045550123", "body": "STOP"}, 401, "unauthorized", ""},
		}
		for _, tc := range cases {
			status, h, body := e.do(t, "POST", "/v1/inbound/sms", tc.key, tc.body)
			wantProblem(t, "POST /v1/inbound/sms "+tc.name, status, h, body, tc.status, tc.code, tc.field)
		}
	})

	t.Run("OtherTenant", func(t *testing.T) {
		_, m := e.mustDo(t, http.StatusOK, "POST", "/v1/inbound/sms", b.write, obj{"from": "5045550123", "body": "START"})
		if str(m, "phones") != "1" {
			t.Errorf("tenant B's inbound: got %v, want its one phone", m)
		}
		if got := consentOf(t, b.read, cb); !slices.Equal(got, []string{"express"}) {
			t.Errorf("tenant B's holder: got %q, want [express]", got)
		}
		if got := consentOf(t, a.read, holders[0]); !slices.Equal(got, []string{"stop"}) {
			t.Errorf("tenant A's holder after B's START: got %q, want [stop]", got)
		}
	})
}
