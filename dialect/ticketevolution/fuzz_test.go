package ticketevolution_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/ticketevolution"
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
	srv := httpapi.NewServer(log, svc, httpapi.Options{Dialects: []httpapi.Dialect{ticketevolution.New(log, svc)}, RateLimit: &httpapi.RateLimit{}})
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

// FuzzTicketEvolutionRequest sends arbitrary bodies to the v9 create
// (POST /v9/clients/{client_id}/phone_numbers) and update (PUT
// .../phone_numbers/{id}) decoders: no input may cause a 5xx, and every
// refusal is v9's {"error": "..."}.
func FuzzTicketEvolutionRequest(f *testing.F) {
	s := newFuzzServer(f)
	for _, c := range []struct {
		put  bool
		body string
	}{
		{false, `{"phone_numbers":[{"label":"home","country_code":"+1","number":"504-555-0199","extension":null,"is_primary":false}]}`},
		{false, `{"phone_numbers":[{"label":"Cell","country_code":44,"number":"20 7946 0958","extension":5},{"number":"abc"}]}`},
		{false, `{"phone_numbers":[1,null,[],{"number":true,"is_primary":"yes","label":{}}]}`},
		{false, `{"phone_numbers":"x"}`},
		{true, `{"label":"work","number":"(504) 555-0177","extension":"12","is_primary":true}`},
		{true, `{"country_code":"ZZ","number":null,"label":null,"extension":null}`},
		{true, `{}`},
		{true, `[]`},
		{false, `{`},
		{true, "\xff"},
	} {
		f.Add(c.put, []byte(c.body))
	}
	create := "/v9/clients/" + strconv.FormatInt(s.customer.ID, 10) + "/phone_numbers"
	update := create + "/" + strconv.FormatInt(s.phone.ID, 10)
	f.Fuzz(func(t *testing.T, put bool, body []byte) {
		method, path := http.MethodPost, create
		if put {
			method, path = http.MethodPut, update
		}
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("X-Token", fuzzKey)
		req.Header.Set("Content-Type", "application/json")
		rec := s.serve(t, req, body)
		if rec.Code < 400 {
			return
		}
		var out struct{ Error string }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Error == "" {
			t.Fatalf("%s body %q: status %d not in v9's error shape: %s", method, body, rec.Code, rec.Body)
		}
	})
}
