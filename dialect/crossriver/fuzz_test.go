package crossriver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/crossriver"
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
	srv := httpapi.NewServer(log, svc, httpapi.Options{Dialects: []httpapi.Dialect{crossriver.New(log, svc)}, RateLimit: &httpapi.RateLimit{}})
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

// FuzzCrossRiverRequest sends arbitrary bodies to POST
// /core/v1/cm/customers/{customerId}/phones: no input may cause a 5xx (a
// panic is answered 500 by the router), and every refusal is in Cross
// River's {"Errors":[{"Code","Message"}]} shape.
func FuzzCrossRiverRequest(f *testing.F) {
	s := newFuzzServer(f)
	for _, b := range []string{
		`{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212","extension":"123","notes":"n"}`,
		`{"ISPRIMARY":false,"phonetype":"MOBILE","phoneNumber":"442071838750"}`,
		`{"isPrimary":"yes","phoneType":1,"phoneNumber":5045550111,"extension":12,"notes":{}}`,
		`{"isPrimary":false,"phoneType":"home","phoneNumber":"5045550123"}`,
		`{"isPrimary":null,"phoneType":null,"phoneNumber":null}`,
		`{"isPrimary":false,"phoneType":"fax","phoneNumber":"99999999999999999999"}`,
		`{}`, `null`, `[]`, `{`, `{} {}`, "\xff", ``,
	} {
		f.Add([]byte(b))
	}
	path := "/core/v1/cm/customers/" + s.customer.UUID + "/phones"
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+fuzzKey)
		rec := s.serve(t, req, body)
		if rec.Code == http.StatusOK {
			return
		}
		var out struct {
			Errors []struct {
				Code    int
				Message string
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Errors) == 0 || out.Errors[0].Code < 1000 || out.Errors[0].Message == "" {
			t.Fatalf("body %q: status %d not in Cross River's error shape: %s", body, rec.Code, rec.Body)
		}
	})
}
