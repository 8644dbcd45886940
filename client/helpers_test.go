package client_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/client"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
)

// env is one real server (httpapi over a fresh SQLite file) with a tenant
// and clients of each key kind.
type env struct {
	srv    *httptest.Server
	svc    *phonebook.Service
	admin  *client.Client // every scope
	writer *client.Client // customers:read + customers:write
	reader *client.Client // customers:read
	keys   []string       // every secret, to prove none leaks into errors
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pb.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	svc := phonebook.NewService(st, nil)
	srv := httptest.NewServer(httpapi.NewServer(slog.New(slog.DiscardHandler), svc, httpapi.Options{}))
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	if _, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "acme"}); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	e := &env{srv: srv, svc: svc}
	key := func(scopes ...string) *client.Client {
		_, secret, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Name: strings.Join(scopes, "+"), Scopes: scopes})
		if err != nil {
			t.Fatalf("CreateAPIKey(%v): %v", scopes, err)
		}
		e.keys = append(e.keys, secret)
		return client.New(srv.URL, secret)
	}
	e.admin = key(phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite, phonebook.ScopeAdmin)
	e.writer = key(phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite)
	e.reader = key(phonebook.ScopeCustomersRead)
	return e
}

// checkNoKey fails when err's message holds an API key secret.
func (e *env) checkNoKey(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, k := range e.keys {
		if strings.Contains(err.Error(), k) {
			t.Errorf("error %q holds an API key", err)
		}
	}
}

func (e *env) mustCustomer(t *testing.T, in client.CustomerInput) *client.Customer {
	t.Helper()
	c, err := e.writer.CreateCustomer(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateCustomer(%+v): %v", in, err)
	}
	return c
}

func (e *env) mustPhone(t *testing.T, c *client.Customer, in client.PhoneInput) *client.Phone {
	t.Helper()
	p, err := e.writer.AddPhone(context.Background(), client.ID(c.ID), in)
	if err != nil {
		t.Fatalf("AddPhone(%d, %+v): %v", c.ID, in, err)
	}
	return p
}

// wantErr describes an expected *client.Error: status, code and (when not
// empty) the field of its first field error.
type wantErr struct {
	status int
	code   string
	field  string
}

// checkErr compares err with want; a zero want expects no error.
func checkErr(t *testing.T, what string, err error, want wantErr) {
	t.Helper()
	if want == (wantErr{}) {
		if err != nil {
			t.Errorf("%s: got error %v, want none", what, err)
		}
		return
	}
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Errorf("%s: got error %v (%T), want *client.Error %d %s", what, err, err, want.status, want.code)
		return
	}
	if ce.Status != want.status || ce.Code != want.code {
		t.Errorf("%s: got %d %s, want %d %s (%v)", what, ce.Status, ce.Code, want.status, want.code, err)
	}
	if got := client.ErrorCode(err); got != want.code {
		t.Errorf("%s: ErrorCode: got %q, want %q", what, got, want.code)
	}
	if got := client.StatusCode(err); got != want.status {
		t.Errorf("%s: StatusCode: got %d, want %d", what, got, want.status)
	}
	if want.field != "" {
		if len(ce.Errors) == 0 || ce.Errors[0].Field != want.field {
			t.Errorf("%s: got field errors %+v, want the first on %q", what, ce.Errors, want.field)
		}
		if _, ok := ce.Field(want.field); !ok {
			t.Errorf("%s: Field(%q) not found in %+v", what, want.field, ce.Errors)
		}
	}
	if ce.Type != "https://phonebook.dev/problems/"+want.code {
		t.Errorf("%s: got type %q, want the problem URI of %s", what, ce.Type, want.code)
	}
	if ce.Title == "" || ce.Detail == "" {
		t.Errorf("%s: got title %q detail %q, want both", what, ce.Title, ce.Detail)
	}
	if ce.RequestID == "" {
		t.Errorf("%s: no RequestID", what)
	}
}
