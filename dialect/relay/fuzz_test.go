package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/relay"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
)

// fuzzKey is the admin key of the fuzz target's tenant.
const fuzzKey = "fuzz-admin-key-0000000001"

// fuzzServer is the real router with this dialect over a real SQLite
// file, built once per fuzz target (and per fuzzing worker): tenant acme,
// an admin key, and customer C-1 (external id) with one phone.
type fuzzServer struct {
	h        http.Handler
	customer *phonebook.Customer
	phone    *phonebook.Phone
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	ctx := context.Background()
	// synchronous=OFF: the fuzzer writes many rows; durability is not
	// what is under test.
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "pb.db"), sqlite.Options{Synchronous: "OFF"})
	if err != nil {
		f.Fatalf("sqlite.Open: %v", err)
	}
	f.Cleanup(func() { _ = st.Close() })
	svc := phonebook.NewService(st, nil)
	log := slog.New(slog.DiscardHandler)
	// No rate limit: the fuzzer sends far more than a client may.
	srv := httpapi.NewServer(log, svc, httpapi.Options{Dialects: []httpapi.Dialect{relay.New(log, svc)}, RateLimit: &httpapi.RateLimit{}})
	t, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "acme"})
	if err != nil {
		f.Fatalf("create tenant: %v", err)
	}
	if _, _, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Name: "fuzz", Scopes: []string{phonebook.ScopeAdmin}, Secret: fuzzKey}); err != nil {
		f.Fatalf("create key: %v", err)
	}
	actx := phonebook.NewContextWithAuth(ctx, &phonebook.Auth{Tenant: t, Source: "test"})
	c, err := svc.CreateCustomer(actx, phonebook.CustomerInput{ExternalID: "C-1", Name: "Ada"})
	if err != nil {
		f.Fatalf("create customer: %v", err)
	}
	p, err := svc.AddPhone(actx, phonebook.CustomerRef{ID: c.ID}, phonebook.PhoneInput{Number: "+1 504 555 0123", Type: "home"})
	if err != nil {
		f.Fatalf("add phone: %v", err)
	}
	return &fuzzServer{h: srv, customer: c, phone: p}
}

// serve sends req with the dialect's credential and fails t on a 5xx.
func (s *fuzzServer) serve(t *testing.T, req *http.Request, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s with body %q: status %d: %s", req.Method, req.URL, body, rec.Code, rec.Body)
	}
	return rec
}

// FuzzRelayRequest sends arbitrary number path segments and bodies to
// add_phone, remove_phone (action 0, 1) and the consent route (action 2,
// channel_addr): no input may cause a 5xx, and every answer of the dialect
// is Relay's {"message": "..."} (paths no route matches are the router's,
// in problem+json).
func FuzzRelayRequest(f *testing.F) {
	s := newFuzzServer(f)
	for _, c := range []struct {
		action uint8
		number string
		body   string
	}{
		{0, "5045550199", `{"consent_type":"express","phone_type":"mobile","country_code":"1","client_source":"patient-portal"}`},
		{0, "15045550188", ``},
		{0, "2071838750", `{"country_code":44}`},
		{0, "5045550123", `null`},
		{0, "abc", `{"consent_type":"none","phone_type":"satellite","client_source":"\u0000","country_code":"12345678901"}`},
		{0, "5045550177", `{"country_code":true,"consent_type":5}`},
		{1, "5045550123", `{"country_code":"+1"}`},
		{1, "5045550100", ``},
		{1, "+1 (504)", `[`},
		{2, "5045550123", `{"consent_type":"stop","client_source":"sms"}`},
		{2, "5045550123", ``},
		{2, "25045550123", `{"consent_type":"written","country_code":"1"}`},
		{0, "", `{}`},
		{0, "..", ``},
	} {
		f.Add(c.action, c.number, []byte(c.body))
	}
	add := "/platform/v3/api/cdm/client/acme/customer/" + url.PathEscape(s.customer.ExternalID) + "/add_phone/"
	remove := "/platform/v3/api/cdm/client/acme/customer/" + url.PathEscape(s.customer.ExternalID) + "/remove_phone/"
	f.Fuzz(func(t *testing.T, action uint8, number string, body []byte) {
		method, path := http.MethodPut, ""
		switch action % 3 {
		case 0:
			path = add + url.PathEscape(number)
		case 1:
			path = remove + url.PathEscape(number)
		default:
			path = "/platform/v3/api/messaging/client/acme/consent/channel_addr/" + url.PathEscape(number) + "/channel_type/sms"
		}
		if action%3 != 2 && len(body)%2 == 1 {
			method = http.MethodPost // add and remove are served on POST too
		}
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("xx-relay-api-key", fuzzKey)
		rec := s.serve(t, req, body)
		mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
		if mt != "application/json" {
			if rec.Code < 300 {
				t.Fatalf("%s %s body %q: status %d with Content-Type %q", method, path, body, rec.Code, mt)
			}
			return // the router's own answer (404, 405, a redirect of an unclean path)
		}
		var out map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out) != 1 || out["message"] == "" {
			t.Fatalf("%s %s body %q: status %d not Relay's {\"message\"}: %s", method, path, body, rec.Code, rec.Body)
		}
	})
}
