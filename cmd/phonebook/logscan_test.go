package main

// No secrets or numbers in logs: every log line of a full API run (every
// /v1 route and every dialect route, successes and errors, numbers written
// in many ways, keys, the Ticket Evolution signing secret, distinctive
// body strings, and a store that goes away at the end) is captured, and
// none may hold a number, a key, a secret or a piece of a request body.
// Every request logs one line with its method, route, status and
// duration. In the store, key secrets exist only as hashes and signing
// secrets only sealed.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/httpapi"
)

// lsBuffer is a log sink safe for concurrent writers.
type lsBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lsBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lsBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// lsFormats are the writings of +1 504 555 0123 the run sends.
var lsFormats = []string{
	"(504) 555-0123", "504-555-0123", "5045550123", "+15045550123", "+1 504 555 0123",
	"504.555.0123", "15045550123", "555-0123",
}

// lsUK is a UK number, as written in the UK.
const lsUK = "020 7946 0018"

// lsForbidden collects what must never reach a log.
type lsForbidden struct {
	numbers map[string]bool // numbers in every writing, and their digits
	secrets map[string]bool // keys and secrets
	text    []string        // body markers, matched case-insensitively
}

func (f *lsForbidden) number(ns ...string) {
	for _, n := range ns {
		f.numbers[n] = true
		d := isoDigits(n)
		if len(d) >= 7 {
			f.numbers[d] = true
			f.numbers[d[len(d)-7:]] = true
		}
	}
}

func (f *lsForbidden) secret(ss ...string) {
	for _, s := range ss {
		f.secrets[s] = true
	}
}

// TestLogScan runs the whole API with every log line captured, then scans
// the log and the store.
func TestLogScan(t *testing.T) {
	buf := &lsBuffer{}
	log := slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newIsoEnv(t, log)
	a, b := e.a, e.b
	f := &lsForbidden{numbers: map[string]bool{}, secrets: map[string]bool{}, text: []string{"zanzibar"}}
	f.number(lsFormats...)
	f.number(lsUK, "+44 20 7946 0018", "+442079460018", "442079460018", "2079460018", "7946 0018", "79460018",
		"555 0123", "504 555 0123", "(504)555-0123")
	for _, x := range []*isoTenant{a, b} {
		for _, p := range x.phones {
			f.number(isoNumberForms(p)...)
		}
		f.secret(x.admin, x.read, x.write, x.revoked, x.signed, x.signing, x.webhookSecret)
	}
	f.number("+1 212 555 0100", "2125550100", "212-555-0100", "(212) 555-0100", "+1 212 555 0101", "+1 212 555 0102")
	f.secret(isoUnknownKey)
	// A generated key ("pb_" and random): the whole secret and the part
	// after its displayed prefix.
	gk, generated, err := e.svc.CreateAPIKey(a.ctx, phonebook.KeyInput{TenantSlug: a.t.Slug, Name: "generated", Scopes: []string{phonebook.ScopeAdmin}})
	if err != nil {
		t.Fatalf("create a generated key: %v", err)
	}
	f.secret(generated, generated[len(gk.Prefix):])
	const zWebhookSecret = "zanzibar-webhook-secret-0123456789"
	f.secret(zWebhookSecret)

	// Credentials of tenant A, per API.
	bearer := func(k string) func(r *http.Request, _ string) {
		return func(r *http.Request, _ string) { isoBearer(r, k) }
	}
	apiKey := func(k string) func(r *http.Request, _ string) {
		return func(r *http.Request, _ string) { r.Header.Set("X-API-Key", k) }
	}
	relayKey := func(k string) func(r *http.Request, _ string) {
		return func(r *http.Request, _ string) { r.Header.Set("xx-relay-api-key", k) }
	}
	accessToken := func(k string) func(r *http.Request, _ string) {
		return func(r *http.Request, _ string) { isoAccessToken(r, k) }
	}
	signed := func(token, secret string) func(r *http.Request, body string) {
		sign := isoSign(secret)
		return func(r *http.Request, body string) {
			r.Header.Set("X-Token", token)
			sign(r, body)
		}
	}
	admin := bearer(a.admin)

	type req struct {
		method, path, query, body string
		ctype                     string
		cred                      func(r *http.Request, body string)
		header                    http.Header
		want                      int // 0: any
	}
	do := func(q req) *isoResp {
		t.Helper()
		ct := q.ctype
		if ct == "" && q.body != "" {
			ct = "application/json"
		}
		r := e.send(t, isoCall{method: q.method, path: q.path, query: q.query, body: q.body, ctype: ct, header: q.header, cred: q.cred})
		if q.want != 0 && r.status != q.want {
			t.Errorf("%s %s?%s: status %d, want %d: %s", q.method, q.path, q.query, r.status, q.want, isoTrunc(r.body))
		}
		return r
	}
	js := func(v any) string {
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	newCustomer := func(ext, name string) (id, uuid string) {
		t.Helper()
		r := do(req{method: "POST", path: "/v1/customers", body: js(map[string]string{"external_id": ext, "name": name}), cred: admin, want: http.StatusCreated})
		var c phonebook.Customer
		if err := json.Unmarshal(r.body, &c); err != nil {
			t.Fatalf("create customer %s: %v", ext, err)
		}
		return strconv.FormatInt(c.ID, 10), c.UUID
	}
	phoneID := func(r *isoResp) string {
		var p struct {
			ID json.Number `json:"id"`
		}
		d := json.NewDecoder(bytes.NewReader(r.body))
		d.UseNumber()
		_ = d.Decode(&p)
		return p.ID.String()
	}

	// --- /v1 ---
	cid, cuuid := newCustomer("ZB-EXT-0001", "Zanzibar-Body-Marker")
	do(req{method: "POST", path: "/v1/customers", body: `{"name":"Zanzibar-Idempotent-Marker"}`, cred: admin,
		header: http.Header{"Idempotency-Key": {"zanzibar-idem-0001"}}, want: http.StatusCreated})
	do(req{method: "POST", path: "/v1/customers", body: `{"name":"Zanzibar-Idempotent-Marker"}`, cred: admin,
		header: http.Header{"Idempotency-Key": {"zanzibar-idem-0001"}}, want: http.StatusCreated}) // replayed
	do(req{method: "POST", path: "/v1/customers", body: `{"name":"Zanzibar-Other-Body"}`, cred: admin,
		header: http.Header{"Idempotency-Key": {"zanzibar-idem-0001"}}, want: http.StatusUnprocessableEntity})
	phones := "/v1/customers/" + cid + "/phones"
	var firstPhone string
	for i, n := range lsFormats {
		r := do(req{method: "POST", path: phones, body: js(map[string]any{
			"number": n, "type": "mobile", "label": "Zanzibar-Label", "notes": "Zanzibar-Notes-Marker " + n,
			"consent": map[string]string{"type": "express", "source": "Zanzibar-Consent-Marker"},
		}), cred: admin})
		if i == 0 {
			if r.status != http.StatusCreated {
				t.Fatalf("POST %s %q: %d %s", phones, n, r.status, isoTrunc(r.body))
			}
			firstPhone = phoneID(r)
		} else if r.status < 400 || r.status >= 500 {
			// The same number again (409) or too short (422).
			t.Errorf("POST %s %q: status %d, want a 4xx: %s", phones, n, r.status, isoTrunc(r.body))
		}
	}
	r := do(req{method: "POST", path: phones, body: js(map[string]any{"number": lsUK, "country_code": "GB", "type": "work", "extension": "0123"}), cred: admin, want: http.StatusCreated})
	ukPhone := phoneID(r)
	do(req{method: "POST", path: phones, body: js(map[string]any{"number": lsUK, "type": "work"}), cred: admin, want: http.StatusUnprocessableEntity})
	do(req{method: "POST", path: phones, body: js(map[string]any{"number": "504-555-012", "type": "work"}), cred: admin, want: http.StatusUnprocessableEntity})
	do(req{method: "POST", path: phones, body: js(map[string]any{"number": "5045550123", "type": "zanzibar-no-type"}), cred: admin})
	do(req{method: "POST", path: phones, body: `{"number":"(504) 555-0123","type":"mobile"`, cred: admin, want: http.StatusBadRequest})
	do(req{method: "POST", path: phones, body: `{"numbr":"5045550123","zanzibar":"x"}`, cred: admin, want: http.StatusBadRequest})
	do(req{method: "POST", path: phones, body: `{"number":"` + strings.Repeat("5045550123", 110_000) + `"}`, cred: admin, want: http.StatusRequestEntityTooLarge})
	do(req{method: "POST", path: phones, body: "number=5045550123", ctype: "application/x-www-form-urlencoded", cred: admin})
	do(req{method: "GET", path: phones, cred: admin, want: http.StatusOK})
	one := phones + "/" + firstPhone
	r = do(req{method: "GET", path: one, cred: apiKey(a.admin), want: http.StatusOK})
	do(req{method: "GET", path: one, cred: admin, header: http.Header{"If-None-Match": {r.header.Get("ETag")}}, want: http.StatusNotModified})
	do(req{method: "PATCH", path: one, body: `{"number":"504.555.0123","notes":"Zanzibar-Patch-Marker","is_primary":true}`, cred: admin, want: http.StatusOK})
	do(req{method: "PATCH", path: one, body: `{"notes":"Zanzibar-Stale"}`, cred: admin, header: http.Header{"If-Match": {`"999"`}}, want: http.StatusPreconditionFailed})
	do(req{method: "PUT", path: one, body: `{"number":"+1 504 555 0123","type":"home","label":"Zanzibar-Put"}`, cred: admin, want: http.StatusOK})
	do(req{method: "PUT", path: phones + "/" + ukPhone, body: `{"number":"020 7946 0018","country_code":"44","type":"work"}`, cred: admin, want: http.StatusOK})
	do(req{method: "GET", path: one + "/history", cred: admin, want: http.StatusOK})
	do(req{method: "GET", path: "/v1/customers/" + cid + "/history", query: "limit=2", cred: admin, want: http.StatusOK})
	do(req{method: "GET", path: "/v1/customers/" + cuuid, cred: admin, want: http.StatusOK})
	do(req{method: "PATCH", path: "/v1/customers/" + cid, body: `{"name":"Zanzibar-Renamed-Marker"}`, cred: admin, want: http.StatusOK})
	do(req{method: "GET", path: "/v1/customers", query: "q=Zanzibar&limit=5", cred: admin, want: http.StatusOK})
	for _, n := range append(append([]string{}, lsFormats...), lsUK) {
		do(req{method: "GET", path: "/v1/customers", query: "phone=" + url.QueryEscape(n), cred: admin})
		do(req{method: "GET", path: "/v1/phones", query: "number=" + url.QueryEscape(n), cred: admin})
	}
	do(req{method: "GET", path: "/v1/phones", query: "number=" + url.QueryEscape(lsUK) + "&country_code=GB", cred: admin, want: http.StatusOK})
	do(req{method: "GET", path: "/v1/customers", query: "cursor=zanzibar5045550123", cred: admin, want: http.StatusUnprocessableEntity})
	do(req{method: "POST", path: "/v1/phones/batch", cred: admin, want: http.StatusOK, body: js(map[string]any{"records": []map[string]any{
		{"external_id": "ZB-EXT-0001", "number": "504-555-0123", "type": "home", "notes": "Zanzibar-Batch-Marker"},
		{"external_id": "ZB-EXT-0001", "number": "+15045550124", "type": "mobile"},
		{"customer_id": cid, "number": "555-0123", "type": "mobile"},
		{"external_id": "ZB-NOPE", "number": "(504) 555-0123", "type": "mobile"},
		{"customer_id": cuuid, "number": lsUK, "country_code": "GB", "type": "fax"},
	}})})
	do(req{method: "GET", path: "/v1/phone-types", cred: admin, want: http.StatusOK})
	do(req{method: "POST", path: "/v1/phone-types", body: `{"name":"zanzibar-type"}`, cred: admin, want: http.StatusCreated})
	do(req{method: "POST", path: "/v1/phone-types", body: `{"name":"zanzibar-type"}`, cred: admin, want: http.StatusConflict})
	do(req{method: "DELETE", path: "/v1/phone-types/zanzibar-type", cred: admin, want: http.StatusNoContent})
	do(req{method: "DELETE", path: "/v1/phone-types/mobile", cred: admin, want: http.StatusConflict})
	for _, n := range []string{"(504) 555-0123", "+15045550123", "5045550123"} {
		do(req{method: "PUT", path: "/v1/numbers/" + url.PathEscape(n) + "/consent", cred: admin, want: http.StatusOK,
			body: `{"type":"written","source":"Zanzibar-Source-Marker","evidence":"Zanzibar-Evidence-Marker 504-555-0123"}`})
		do(req{method: "GET", path: "/v1/numbers/" + url.PathEscape(n) + "/consent", query: "history=true", cred: admin, want: http.StatusOK})
	}
	do(req{method: "PUT", path: "/v1/numbers/" + url.PathEscape(lsUK) + "/consent", query: "country_code=GB", cred: admin, want: http.StatusOK, body: `{"type":"express"}`})
	do(req{method: "PUT", path: "/v1/numbers/555-0123/consent", cred: admin, body: `{"type":"written"}`, want: http.StatusUnprocessableEntity})
	do(req{method: "POST", path: "/v1/inbound/sms", cred: admin, want: http.StatusOK, body: `{"from":"+1 504 555 0123","body":"STOP Zanzibar-SMS-Marker"}`})
	do(req{method: "POST", path: "/v1/inbound/sms", cred: admin, want: http.StatusOK, body: `{"from":"(504) 555-0123","body":"START"}`})
	r = do(req{method: "POST", path: "/v1/webhooks", cred: admin, want: http.StatusCreated, header: http.Header{"Idempotency-Key": {"zanzibar-hook-1"}},
		body: js(map[string]any{"url": "https://zanzibar-hooks.example/x?n=5045550123", "secret": zWebhookSecret, "description": "Zanzibar-Hook-Marker"})})
	hook := phoneID(r)
	do(req{method: "POST", path: "/v1/webhooks", cred: admin, want: http.StatusCreated, body: `{"url":"https://zanzibar-hooks.example/y","event_types":["phone.created"]}`})
	do(req{method: "POST", path: "/v1/webhooks", cred: admin, want: http.StatusUnprocessableEntity, body: `{"url":"ftp://zanzibar/5045550123"}`})
	do(req{method: "GET", path: "/v1/webhooks", cred: admin, want: http.StatusOK})
	do(req{method: "GET", path: "/v1/webhooks/" + hook, cred: admin, want: http.StatusOK})
	do(req{method: "POST", path: phones, body: `{"number":"(504) 555-0177","type":"mobile"}`, cred: admin, want: http.StatusCreated}) // an event for the hook
	r = do(req{method: "GET", path: "/v1/webhooks/" + hook + "/deliveries", cred: admin, want: http.StatusOK})
	var dl struct {
		Data []struct {
			ID int64 `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.body, &dl); err != nil || len(dl.Data) == 0 {
		t.Fatalf("deliveries of webhook %s: %v %s", hook, err, isoTrunc(r.body))
	}
	do(req{method: "POST", path: "/v1/webhooks/" + hook + "/deliveries/" + strconv.FormatInt(dl.Data[0].ID, 10) + "/redeliver", cred: admin, want: http.StatusAccepted})
	do(req{method: "DELETE", path: "/v1/webhooks/" + hook, cred: admin, want: http.StatusNoContent})
	// Keys that are refused.
	for _, cred := range []func(r *http.Request, _ string){nil, bearer(isoUnknownKey), bearer(a.revoked), apiKey(a.revoked),
		func(r *http.Request, _ string) { r.Header.Set("Authorization", "Basic "+a.admin) }, bearer(generated[:len(generated)-1])} {
		do(req{method: "POST", path: phones, body: `{"number":"(504) 555-0123","type":"mobile","notes":"Zanzibar-Refused"}`, cred: cred, want: http.StatusUnauthorized})
	}
	do(req{method: "POST", path: phones, body: `{"number":"(504) 555-0123","type":"mobile"}`, cred: bearer(a.read), want: http.StatusForbidden})
	do(req{method: "POST", path: "/v1/phone-types", body: `{"name":"zanzibar-w"}`, cred: bearer(a.write), want: http.StatusForbidden})
	do(req{method: "GET", path: "/v1/customers", cred: bearer(generated), want: http.StatusOK})
	do(req{method: "GET", path: "/v1/customers/" + strconv.FormatInt(b.cust.ID, 10), cred: admin, want: http.StatusNotFound})
	// The router's own answers: paths that hold numbers.
	do(req{method: "GET", path: "/v1/nope/5045550123", cred: admin, want: http.StatusNotFound})
	do(req{method: "GET", path: "/platform/v3/api/cdm/client/" + a.t.Slug + "/customer/ZB-EXT-0001/add_phone/5045550123", cred: relayKey(a.admin), want: http.StatusMethodNotAllowed})
	do(req{method: "DELETE", path: "/v1/phones", query: "number=5045550123", cred: admin, want: http.StatusMethodNotAllowed})

	// --- Cross River ---
	_, crUUID := newCustomer("ZB-CR-0001", "Zanzibar-CrossRiver-Customer")
	cr := "/core/v1/cm/customers/" + crUUID + "/phones"
	do(req{method: "POST", path: cr, cred: admin, want: http.StatusOK, body: `{"isPrimary":true,"phoneType":"work","phoneNumber":"5045550123","extension":"12","notes":"Zanzibar-CR-Notes"}`})
	do(req{method: "POST", path: cr, cred: admin, want: http.StatusBadRequest, body: `{"isPrimary":false,"phoneType":"home","phoneNumber":"15045550123","extension":"12"}`})
	do(req{method: "POST", path: cr, cred: admin, want: http.StatusBadRequest, body: `{"isPrimary":false,"phoneType":"home","phoneNumber":"504-555-0123"}`})
	do(req{method: "POST", path: cr, cred: admin, want: http.StatusOK, body: `{"isPrimary":false,"phoneType":"home","phoneNumber":"442079460018"}`})
	do(req{method: "POST", path: cr, cred: admin, want: http.StatusBadRequest, body: `{"phoneNumber":"5550123","notes":"Zanzibar"}`})
	do(req{method: "POST", path: cr, cred: admin, want: http.StatusBadRequest, body: `{"phoneNumber":"5045550123",`})
	do(req{method: "GET", path: cr, cred: admin, want: http.StatusOK})
	do(req{method: "GET", path: cr, cred: bearer(isoUnknownKey), want: http.StatusUnauthorized})
	do(req{method: "POST", path: cr, cred: bearer(a.read), want: http.StatusForbidden, body: `{"isPrimary":true,"phoneType":"work","phoneNumber":"5045550123"}`})

	// --- Ticket Evolution (signed) ---
	v9id, _ := newCustomer("ZB-V9-0001", "Zanzibar-V9-Customer")
	v9 := "/v9/clients/" + v9id + "/phone_numbers"
	tok := signed(a.signed, a.signing)
	r = do(req{method: "POST", path: v9, cred: tok, want: http.StatusCreated, body: `{"phone_numbers":[{"label":"Zanzibar","country_code":"+1","number":"504-555-0123","extension":"7"},{"label":"cell","country_code":"44","number":"020 7946 0018"}]}`})
	var page struct {
		PhoneNumbers []struct {
			ID int64 `json:"id"`
		} `json:"phone_numbers"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.PhoneNumbers) == 0 {
		t.Fatalf("v9 create: %v %s", err, isoTrunc(r.body))
	}
	v9one := v9 + "/" + strconv.FormatInt(page.PhoneNumbers[0].ID, 10)
	do(req{method: "POST", path: v9, cred: tok, want: http.StatusUnprocessableEntity, body: `{"phone_numbers":[{"label":"home","number":"(504) 555-0123","extension":"7"}]}`})
	do(req{method: "POST", path: v9, cred: tok, want: http.StatusUnprocessableEntity, body: `{"phone_numbers":[{"label":"home","number":"555-0123"}]}`})
	do(req{method: "GET", path: v9, query: "page=1&per_page=10", cred: tok, want: http.StatusOK})
	do(req{method: "GET", path: v9one, cred: tok, want: http.StatusOK})
	do(req{method: "PUT", path: v9one, cred: tok, want: http.StatusOK, body: `{"number":"504.555.0123","label":"Zanzibar-V9-Label"}`})
	do(req{method: "PUT", path: v9one, cred: signed(a.signed, "zanzibar-wrong-secret-0123456789"), want: http.StatusUnauthorized, body: `{"number":"5045550123"}`})
	do(req{method: "PUT", path: v9one, cred: func(r *http.Request, _ string) { r.Header.Set("X-Token", a.signed) }, want: http.StatusUnauthorized, body: `{"number":"5045550123"}`})
	do(req{method: "GET", path: v9one, cred: func(r *http.Request, _ string) { r.Header.Set("X-Token", a.admin) }, want: http.StatusOK})
	do(req{method: "GET", path: v9one, cred: func(r *http.Request, _ string) { r.Header.Set("X-Token", isoUnknownKey) }, want: http.StatusUnauthorized})
	do(req{method: "GET", path: "/v9/clients/" + v9id + "/phone_numbers/5045550123", cred: tok, want: http.StatusNotFound})

	// --- RamBase ---
	rbid, _ := newCustomer("ZB-RB-0001", "Zanzibar-RamBase-Customer")
	rb := "/collaboration/contacts/" + rbid + "/phones"
	r = do(req{method: "POST", path: rb, cred: accessToken(a.admin), want: http.StatusCreated, ctype: "application/xml",
		body: `<Phone><Type>BUSINESS</Type><IsDefault>true</IsDefault><PhoneNumber>+1 (504) 555-0123</PhoneNumber></Phone>`})
	loc := r.header.Get("Location")
	if loc == "" {
		t.Fatalf("RamBase POST: no Location: %s", isoTrunc(r.body))
	}
	do(req{method: "PUT", path: loc, query: "$format=json&$db=" + a.t.Slug, cred: admin, want: http.StatusOK, body: `{"Phone":{"PhoneNumber":"504.555.0123","Type":"MOBILE"}}`})
	do(req{method: "PUT", path: loc, query: "$format=html", cred: accessToken(a.admin), want: http.StatusOK, body: `<Phone><PhoneNumber>(504) 555-0123</PhoneNumber></Phone>`, ctype: "text/xml"})
	do(req{method: "POST", path: rb, cred: admin, want: http.StatusBadRequest, ctype: "application/xml", body: `<Phone><PhoneNumber>504-555-0123 Zanzibar</PhoneNumber></Phone>`})
	do(req{method: "POST", path: rb, cred: admin, want: http.StatusBadRequest, ctype: "application/xml", body: `<Phone><PhoneNumber>555-0123</PhoneNumber></Phone>`})
	do(req{method: "POST", path: rb, cred: admin, want: http.StatusBadRequest, ctype: "application/xml", body: `<!DOCTYPE x [<!ENTITY z "5045550123">]><Phone><PhoneNumber>&z;</PhoneNumber></Phone>`})
	do(req{method: "POST", path: rb, cred: admin, want: http.StatusBadRequest, body: `{"Phone":{"PhoneNumber":"+15045550123","Zanzibar":"x"}}`})
	do(req{method: "POST", path: rb, query: "$db=" + b.t.Slug, cred: admin, want: http.StatusForbidden, body: `{"Phone":{"PhoneNumber":"+15045550123"}}`})
	do(req{method: "POST", path: rb, cred: accessToken(isoUnknownKey), want: http.StatusUnauthorized, body: `{"Phone":{"PhoneNumber":"+15045550123"}}`})
	do(req{method: "POST", path: rb, cred: accessToken(a.read), want: http.StatusForbidden, body: `{"Phone":{"PhoneNumber":"+15045550123"}}`})

	// --- Relay ---
	newCustomer("ZB-RL-0001", "Zanzibar-Relay-Customer")
	rk := relayKey(a.admin)
	relay := "/platform/v3/api/cdm/client/" + a.t.Slug + "/customer/ZB-RL-0001"
	rbody := `{"consent_type":"express","phone_type":"mobile","client_source":"Zanzibar-Relay-Source","country_code":"1"}`
	do(req{method: "PUT", path: relay + "/add_phone/5045550123", cred: rk, want: http.StatusOK, body: rbody})
	do(req{method: "POST", path: relay + "/add_phone/15045550123", cred: rk, want: http.StatusConflict, body: rbody})
	do(req{method: "PUT", path: relay + "/add_phone/2079460018", cred: rk, want: http.StatusOK, body: `{"country_code":"44","phone_type":"landline"}`})
	do(req{method: "PUT", path: relay + "/add_phone/5550123", cred: rk, want: http.StatusBadRequest})
	do(req{method: "PUT", path: relay + "/add_phone/504-555-0123", cred: rk, want: http.StatusBadRequest})
	do(req{method: "PUT", path: relay + "/add_phone/5045550124", cred: rk, want: http.StatusBadRequest, body: `{"consent_type":"zanzibar"`})
	do(req{method: "PUT", path: relay + "/remove_phone/15045550123", cred: rk, want: http.StatusOK})
	do(req{method: "POST", path: relay + "/remove_phone/5045550123", cred: rk, want: http.StatusNotFound, body: `{"country_code":"1"}`})
	do(req{method: "PUT", path: "/platform/v3/api/cdm/client/" + a.t.Slug + "/customer/ZB-NOPE/add_phone/5045550123", cred: rk, want: http.StatusNotFound})
	do(req{method: "PUT", path: "/platform/v3/api/cdm/client/" + b.t.Slug + "/customer/ZB-RL-0001/add_phone/5045550123", cred: rk, want: http.StatusNotFound})
	do(req{method: "PUT", path: relay + "/add_phone/5045550123", cred: relayKey(isoUnknownKey), want: http.StatusUnauthorized})
	do(req{method: "PUT", path: relay + "/add_phone/5045550123", cred: relayKey(a.read), want: http.StatusUnauthorized})
	consent := "/platform/v3/api/messaging/client/" + a.t.Slug + "/consent/channel_addr/"
	do(req{method: "PUT", path: consent + "5045550123/channel_type/sms", cred: rk, want: http.StatusOK, body: `{"consent_type":"stop","client_source":"Zanzibar-Relay-Consent"}`})
	do(req{method: "PUT", path: consent + "15045550123/channel_type/sms", cred: rk, want: http.StatusBadRequest, body: `{"consent_type":"none"}`})
	do(req{method: "PUT", path: consent + "5550123/channel_type/sms", cred: rk, want: http.StatusBadRequest, body: `{"consent_type":"stop"}`})

	// --- Wasp ---
	newCustomer("ZB-WS-0001", "Zanzibar-Wasp-Customer")
	ws := "/public-api/phones/customer/save"
	do(req{method: "POST", path: ws, cred: admin, want: http.StatusOK, body: js([]map[string]any{
		{"CustomerNumber": "ZB-WS-0001", "PhoneNumber": "(504) 555-0123", "PhoneTypeName": "mobile", "FormId": "Zanzibar-Form"},
		{"CustomerNo": "ZB-WS-0001", "PhoneNumber": "+1 504 555 0123", "PhoneTypeName": "home"},
		{"CustomerNumber": "ZB-WS-0001", "PhoneNumber": "+44 20 7946 0018", "PhoneTypeName": "work", "PhoneExtension": "5045"},
		{"CustomerNumber": "ZB-WS-0001", "PhoneNumber": "555-0123", "PhoneTypeName": "mobile"},
		{"CustomerNumber": "ZB-WS-0001", "PhoneNumber": "504.555.0123", "PhoneTypeName": "zanzibar-type"},
		{"CustomerNumber": "ZB-NOPE", "PhoneNumber": "15045550123", "PhoneTypeName": "mobile"},
		{"CustomerNumber": "ZB-WS-0001", "PhoneNumber": 5045550123, "PhoneTypeName": "mobile"},
	})})
	do(req{method: "POST", path: ws, cred: admin, want: http.StatusBadRequest, body: `[{"PhoneNumber":"5045550123"`})
	do(req{method: "POST", path: ws, cred: admin, want: http.StatusUnsupportedMediaType, ctype: "text/plain", body: `[{"PhoneNumber":"5045550123"}]`})
	do(req{method: "POST", path: ws, cred: bearer(isoUnknownKey), want: http.StatusUnauthorized, body: `[{"PhoneNumber":"5045550123"}]`})
	do(req{method: "POST", path: ws, cred: bearer(a.read), want: http.StatusForbidden, body: `[{"PhoneNumber":"5045550123"}]`})

	// --- every route: B's keys against A's ids, then A's own ---
	fams := e.families()
	specs := e.specs()
	routes := lsAPIRoutes(e.srv.Routes())
	sort.SliceStable(routes, func(i, j int) bool {
		return routes[i].Method != http.MethodDelete && routes[j].Method == http.MethodDelete
	})
	for _, who := range []*isoTenant{b, a} {
		for _, rt := range routes {
			if rt.Public {
				if who == a {
					do(req{method: rt.Method, path: strings.TrimSuffix(rt.Pattern, "{$}")})
				}
				continue
			}
			fam := e.familyOf(t, fams, rt.Pattern)
			if fam == nil {
				continue
			}
			ids := a.ids()
			path, ok := isoFill(t, fam.name, rt.Pattern, ids)
			if !ok {
				continue
			}
			shots, ok := e.shots(t, specs, rt, ids)
			if !ok {
				continue
			}
			for _, sh := range shots {
				cred := fam.creds[0]
				var c func(r *http.Request, body string)
				if fam.name == "ticketevolution" {
					c = signed(who.signed, who.signing)
				} else {
					c = func(r *http.Request, _ string) { cred.set(r, who.admin) }
				}
				do(req{method: rt.Method, path: path, query: sh.query, body: sh.body, ctype: sh.ctype, cred: c, header: fam.header.Clone()})
				// And an unknown key on every route.
				do(req{method: rt.Method, path: path, query: sh.query, body: sh.body, ctype: sh.ctype, header: fam.header.Clone(),
					cred: func(r *http.Request, _ string) { cred.set(r, isoUnknownKey) }})
			}
		}
	}

	// --- the SQL: secrets only hashed or sealed ---
	t.Run("store holds secrets only hashed or sealed", func(t *testing.T) { lsCheckStore(t, e, f, gk.ID, generated) })

	// --- the store goes away: every route fails on the server side ---
	if err := e.st.Close(); err != nil {
		t.Fatalf("close the store: %v", err)
	}
	t.Run("store closed: every route answers 5xx", func(t *testing.T) {
		for _, rt := range routes {
			var fam *isoFamily
			famName := ""
			if !rt.Public {
				if fam = e.familyOf(t, fams, rt.Pattern); fam == nil {
					continue
				}
				famName = fam.name
			}
			ids := a.ids()
			path, ok := isoFill(t, famName, rt.Pattern, ids)
			if !ok {
				continue
			}
			q := req{method: rt.Method, path: strings.TrimSuffix(path, "{$}")}
			if !rt.Public {
				shots, ok := e.shots(t, specs, rt, ids)
				if !ok || len(shots) == 0 {
					continue
				}
				cred := fam.creds[0]
				q.query, q.body, q.ctype, q.header = shots[0].query, shots[0].body, shots[0].ctype, fam.header.Clone()
				if fam.name == "ticketevolution" {
					q.cred = signed(a.signed, a.signing)
				} else {
					q.cred = func(r *http.Request, _ string) { cred.set(r, a.admin) }
				}
			}
			r := do(q)
			if !rt.Public && r.status < 500 {
				t.Errorf("%s %s with the store closed: status %d, want 5xx: %s", q.method, q.path, r.status, isoTrunc(r.body))
			}
		}
	})

	lsCheckLog(t, e, f, buf.String())
}

// lsTime blanks the time of a log line: its digits are not the request's.
var lsTime = regexp.MustCompile(`"time":"[^"]*"`)

// lsCheckLog scans the captured log: no forbidden string, and one request
// line per request with method, route, status and duration_ms.
func lsCheckLog(t *testing.T, e *isoEnv, f *lsForbidden, log string) {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) < len(e.sent) {
		t.Fatalf("%d log lines for %d requests", len(lines), len(e.sent))
	}
	type reqLine struct {
		n    int
		line map[string]any
	}
	byID := map[string]*reqLine{}
	leaks := map[string][]int{}
	for i, line := range lines {
		scan := lsTime.ReplaceAllString(line, `"time":""`)
		lower := strings.ToLower(scan)
		for n := range f.numbers {
			if strings.Contains(scan, n) {
				leaks["number "+strconv.Quote(n)] = append(leaks["number "+strconv.Quote(n)], i)
			}
		}
		for s := range f.secrets {
			if strings.Contains(scan, s) {
				leaks["secret "+strconv.Quote(s)] = append(leaks["secret "+strconv.Quote(s)], i)
			}
		}
		for _, s := range f.text {
			if strings.Contains(lower, s) {
				leaks["body text "+strconv.Quote(s)] = append(leaks["body text "+strconv.Quote(s)], i)
			}
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line %d is not JSON: %v: %s", i, err, line)
			continue
		}
		// A number written some other way ("504 555-0123"): the digits of
		// each string value.
		for _, v := range lsStrings(m) {
			d := isoDigits(v)
			if len(d) < 7 {
				continue
			}
			for n := range f.numbers {
				if len(n) >= 7 && isoDigits(n) == n && strings.Contains(d, n) {
					k := "the digits " + strconv.Quote(n) + " in " + strconv.Quote(v)
					leaks[k] = append(leaks[k], i)
				}
			}
		}
		if m["msg"] != "request" {
			continue
		}
		id, _ := m["request_id"].(string)
		if x, ok := byID[id]; ok {
			x.n++
			continue
		}
		byID[id] = &reqLine{n: 1, line: m}
	}
	var kinds []string
	for k := range leaks {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		i := leaks[k][0]
		t.Errorf("the log holds %s (%d lines), e.g. line %d: %s", k, len(leaks[k]), i, isoTrunc([]byte(lines[i])))
	}

	seen := map[string]bool{}
	for _, s := range e.sent {
		x := byID[s.reqID]
		if x == nil {
			t.Errorf("%s (request id %q): no request log line", s.what, s.reqID)
			continue
		}
		if x.n != 1 {
			t.Errorf("%s: %d request log lines, want 1", s.what, x.n)
		}
		m := x.line
		if m["method"] != s.method || m["route"] != s.route {
			t.Errorf("%s: logged method %v route %v, want %s %s", s.what, m["method"], m["route"], s.method, s.route)
		}
		if st, ok := m["status"].(float64); !ok || int(st) != s.status {
			t.Errorf("%s: logged status %v, want %d", s.what, m["status"], s.status)
		}
		if d, ok := m["duration_ms"].(float64); !ok || d < 0 {
			t.Errorf("%s: logged duration_ms %v, want a number ≥ 0", s.what, m["duration_ms"])
		}
		if s.status >= 500 {
			if m["level"] != "ERROR" {
				t.Errorf("%s: a %d logged at level %v, want ERROR", s.what, s.status, m["level"])
			}
		}
		seen[s.method+" "+s.route] = true
	}
	for _, rt := range lsAPIRoutes(e.srv.Routes()) {
		if !seen[rt.Method+" "+rt.Pattern] {
			t.Errorf("route %s %s was not called during the run", rt.Method, rt.Pattern)
		}
	}
	if t.Failed() {
		t.Logf("%d requests, %d log lines", len(e.sent), len(lines))
	}
}

// lsStrings returns the string values of a log line, time and request id
// aside.
func lsStrings(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "time" || k == "request_id" {
				continue
			}
			out = append(out, lsStrings(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, lsStrings(x)...)
		}
	case string:
		out = append(out, v)
	}
	return out
}

// lsCheckStore reads every table of the store: no key secret, signing
// secret or webhook secret in clear anywhere; keys stored as their
// SHA-256; signing secrets sealed ("v1:").
func lsCheckStore(t *testing.T, e *isoEnv, f *lsForbidden, generatedID int64, generated string) {
	dump := isoDump(t, e.db, 0)
	var tables []string
	for name := range dump {
		tables = append(tables, name)
	}
	sort.Strings(tables)
	for _, name := range tables {
		for _, row := range dump[name] {
			for s := range f.secrets {
				if strings.Contains(row, s) || strings.Contains(row, hex.EncodeToString([]byte(s))) {
					t.Errorf("table %s holds the secret %q in clear: %s", name, s, isoTrunc([]byte(row)))
				}
			}
		}
	}
	type keyRow struct {
		hash    []byte
		signing string
	}
	keys := map[string]keyRow{}
	rows, err := e.db.Query(`SELECT k.key_hash, k.signing_secret, t.slug, k.name, k.id FROM api_keys k JOIN tenants t ON t.id = k.tenant_id`)
	if err != nil {
		t.Fatalf("read api_keys: %v", err)
	}
	for rows.Next() {
		var kr keyRow
		var slug, name string
		var id int64
		if err := rows.Scan(&kr.hash, &kr.signing, &slug, &name, &id); err != nil {
			t.Fatalf("read api_keys: %v", err)
		}
		if id == generatedID {
			name = "generated"
		}
		keys[slug+"/"+name] = kr
	}
	rows.Close()
	for _, x := range []*isoTenant{e.a, e.b} {
		for name, secret := range map[string]string{"admin": x.admin, "read": x.read, "write": x.write, "revoked": x.revoked, "signed": x.signed} {
			kr, ok := keys[x.t.Slug+"/"+name]
			if !ok {
				t.Errorf("api_keys: no key %s/%s", x.t.Slug, name)
				continue
			}
			sum := sha256.Sum256([]byte(secret))
			if !bytes.Equal(kr.hash, sum[:]) {
				t.Errorf("api_keys %s/%s: key_hash is not the SHA-256 of the secret", x.t.Slug, name)
			}
			switch {
			case name == "signed" && !strings.HasPrefix(kr.signing, "v1:"):
				t.Errorf("api_keys %s/%s: signing_secret %q is not sealed (v1:...)", x.t.Slug, name, kr.signing)
			case name == "signed" && strings.Contains(kr.signing, x.signing):
				t.Errorf("api_keys %s/%s: signing_secret holds the secret in clear", x.t.Slug, name)
			case name != "signed" && kr.signing != "":
				t.Errorf("api_keys %s/%s: signing_secret %q for a key without one", x.t.Slug, name, kr.signing)
			}
		}
	}
	if kr, ok := keys[e.a.t.Slug+"/generated"]; !ok {
		t.Errorf("api_keys: no generated key")
	} else if sum := sha256.Sum256([]byte(generated)); !bytes.Equal(kr.hash, sum[:]) {
		t.Errorf("api_keys: the generated key's key_hash is not the SHA-256 of its secret")
	}
	for _, row := range dump["webhooks"] {
		if !strings.Contains(row, "secret=v1:") {
			t.Errorf("webhooks: a secret is not sealed: %s", isoTrunc([]byte(row)))
		}
	}
}

// lsAPIRoutes are the routes of the APIs (/v1, the dialects and the system
// routes): the console's HTML pages have a suite of their own in
// web/console, which checks their logs too.
func lsAPIRoutes(all []httpapi.Route) []httpapi.Route {
	var out []httpapi.Route
	for _, rt := range all {
		if rt.Source != "console" {
			out = append(out, rt)
		}
	}
	return out
}
