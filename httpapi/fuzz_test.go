package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
	"github.com/phonebook/phonebook/store/storetest"
)

// fuzzKey is the admin key of the fuzz targets' tenant.
const fuzzKey = "fuzz-admin-key-0000000001"

// fuzzNative is the real router over a real SQLite file, built once per
// fuzz target (and per fuzzing worker): tenant acme, an admin key, and
// customer C-1 with one phone.
type fuzzNative struct {
	h        http.Handler
	customer string // /v1/customers/{id}
	phone    string // /v1/customers/{id}/phones/{phoneId}
}

func newFuzzNative(f *testing.F) *fuzzNative {
	f.Helper()
	ctx := context.Background()
	// synchronous=OFF: the fuzzer writes thousands of rows; durability is
	// not what is under test.
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "pb.db"), sqlite.Options{Synchronous: "OFF"})
	if err != nil {
		f.Fatalf("sqlite.Open: %v", err)
	}
	f.Cleanup(func() { _ = st.Close() })
	svc := phonebook.NewService(st, nil)
	svc.SetSealer(storetest.MustBox(f))
	// No rate limit: the fuzzer sends far more than a client may.
	srv := httpapi.NewServer(slog.New(slog.DiscardHandler), svc, httpapi.Options{RateLimit: &httpapi.RateLimit{}})
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
	cust := "/v1/customers/" + strconv.FormatInt(c.ID, 10)
	return &fuzzNative{h: srv, customer: cust, phone: cust + "/phones/" + strconv.FormatInt(p.ID, 10)}
}

// serve sends one request and fails t on a server error or an error that
// is not problem+json with a code.
func (s *fuzzNative) serve(t *testing.T, method, path, rawQuery string, body []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.URL.RawQuery = rawQuery
	req.Header.Set("Authorization", "Bearer "+fuzzKey)
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s?%q with body %q: status %d: %s", method, path, rawQuery, body, rec.Code, rec.Body)
	}
	if rec.Code < 400 {
		return
	}
	mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	var p struct {
		Code   string
		Status int
	}
	if mt != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Code == "" || p.Status != rec.Code {
		t.Fatalf("%s %s?%q with body %q: status %d not in problem+json: %s %s", method, path, rawQuery, body, rec.Code, mt, rec.Body)
	}
}

// FuzzNativeBody sends arbitrary bodies to every /v1 route that reads one:
// no input may cause a 5xx (a panic is answered 500 by the router).
func FuzzNativeBody(f *testing.F) {
	s := newFuzzNative(f)
	routes := []struct{ method, path string }{
		{http.MethodPost, "/v1/customers"},
		{http.MethodPatch, s.customer},
		{http.MethodPost, s.customer + "/phones"},
		{http.MethodPatch, s.phone},
		{http.MethodPut, s.phone},
		{http.MethodPost, "/v1/phones/batch"},
		{http.MethodPost, "/v1/phone-types"},
		{http.MethodPut, "/v1/numbers/5045550123/consent"},
		{http.MethodPost, "/v1/inbound/sms"},
		{http.MethodPost, "/v1/webhooks"},
	}
	for i, b := range []string{
		`{"name":"Grace","external_id":"C-2","status":"active"}`,
		`{"name":"x","name":"y","status":null}`,
		`{"number":"(504) 555-0199","extension":"12","type":"mobile","label":"cell","is_primary":true,"consent":{"type":"written","source":"web"}}`,
		`{"number":"+44 20 7946 0958","country_code":44,"line_kind":"landline","notes":"\u0000"}`,
		`{"number":"5045550123","type":"home","status":"inactive"}`,
		`{"records":[{"external_id":"C-1","number":"5045550111"},{"customer_id":1e400,"number":"x"},null,[]]}`,
		`{"name":"pager"}`,
		`{"type":"written","source":"web","evidence":"form 12","captured_at":"2026-01-02T03:04:05Z"}`,
		`{"from":"+1 504 555 0123","body":"STOP please"}`,
		`{"url":"https://example.com/hook","event_types":["phone.created","*"],"secret":"0123456789abcdef","description":"d"}`,
		`null`, `[]`, `{`, `"x"`, "\xff", `{"a":` + strings.Repeat("[", 200),
	} {
		f.Add(uint8(i), []byte(b))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		s.serve(t, r.method, r.path, "", body)
	})
}

// FuzzNativeCustomerQuery sends arbitrary query strings to GET
// /v1/customers (filters, sort, limit, cursor): never a 5xx.
func FuzzNativeCustomerQuery(f *testing.F) {
	s := newFuzzNative(f)
	for _, q := range []string{
		"", "limit=1", "limit=1&sort=name", "sort=-created_at&status=active", "q=ad&external_id=C-1",
		"phone=%2B15045550123", "phone=abc", "limit=-1&sort=bogus&status=x", "cursor=eyJzIjoibmFtZSIsImsiOiJhIiwiaSI6MX0",
		"q=%25_%5C", "q=%FF%00", "cursor=%%%", ";;&&==",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		s.serve(t, http.MethodGet, "/v1/customers", rawQuery, nil)
	})
}
