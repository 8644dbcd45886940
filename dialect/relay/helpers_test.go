package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/relay"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
)

// Fixed keys of the tests' tenants.
const (
	writeKey = "relay-golden-key-0001" // default tenant, customers:read + customers:write
	readKey  = "relay-read-key-00001"  // default tenant, customers:read only
)

// logBuffer collects the slog output of the server and the dialect.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is the real router with the Relay dialect over a fresh SQLite file,
// with tenant "default" (50 × 50), a write key and a read-only key.
type env struct {
	t     *testing.T
	ctx   context.Context
	st    *sqlite.Store
	svc   *phonebook.Service
	ts    *httptest.Server
	logs  *logBuffer
	never []string // strings that must not reach the log
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pb.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := phonebook.NewService(st, nil)
	srv := httpapi.NewServer(log, svc, httpapi.Options{Dialects: []httpapi.Dialect{relay.New(log, svc)}})
	ts := httptest.NewServer(srv)
	e := &env{t: t, ctx: ctx, st: st, svc: svc, ts: ts, logs: logs}
	t.Cleanup(func() {
		ts.Close()
		_ = st.Close()
		out := logs.String()
		for _, s := range e.never {
			if strings.Contains(out, s) {
				t.Errorf("the log holds %q, which must never be logged", s)
			}
		}
	})
	e.tenant(phonebook.TenantInput{Slug: phonebook.DefaultTenantSlug})
	e.key(phonebook.DefaultTenantSlug, writeKey, phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite)
	e.key(phonebook.DefaultTenantSlug, readKey, phonebook.ScopeCustomersRead)
	return e
}

func (e *env) tenant(in phonebook.TenantInput) *phonebook.Tenant {
	e.t.Helper()
	tn, err := e.svc.CreateTenant(e.ctx, in)
	if err != nil {
		e.t.Fatalf("CreateTenant(%s): %v", in.Slug, err)
	}
	return tn
}

func (e *env) key(slug, secret string, scopes ...string) string {
	e.t.Helper()
	if _, _, err := e.svc.CreateAPIKey(e.ctx, phonebook.KeyInput{TenantSlug: slug, Name: "test", Scopes: scopes, Secret: secret}); err != nil {
		e.t.Fatalf("CreateAPIKey(%s): %v", slug, err)
	}
	e.never = append(e.never, secret)
	return secret
}

// customer creates a customer with external id ccid under key secret.
func (e *env) customer(secret, ccid string) *phonebook.Customer {
	e.t.Helper()
	a, err := e.svc.Authenticate(e.ctx, secret)
	if err != nil {
		e.t.Fatalf("Authenticate: %v", err)
	}
	c, err := e.svc.CreateCustomer(phonebook.NewContextWithAuth(e.ctx, a), phonebook.CustomerInput{ExternalID: ccid, Name: "Customer " + ccid})
	if err != nil {
		e.t.Fatalf("CreateCustomer(%s): %v", ccid, err)
	}
	return c
}

// path is a Relay path for action ("add_phone", "remove_phone").
func path(client, ccid, action, number string) string {
	return "/platform/v3/api/cdm/client/" + client + "/customer/" + ccid + "/" + action + "/" + number
}

// reply is one answer of the dialect.
type reply struct {
	status  int
	header  http.Header
	message string
	raw     string
}

// do sends one request; key "" sends no key header; body "" no body.
func (e *env) do(method, p, key, body string, header ...string) reply {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+p, rd)
	if err != nil {
		e.t.Fatalf("NewRequest: %v", err)
	}
	if key != "" {
		req.Header.Set("xx-relay-api-key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) reply {
	e.t.Helper()
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	var m struct {
		Message *string `json:"message"`
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &m); err != nil || m.Message == nil {
			e.t.Fatalf("%s %s: body %q is not {\"message\": ...}", req.Method, req.URL.Path, b)
		}
		r.message = *m.Message
	}
	return r
}

// add calls add_phone on tenant default with the write key.
func (e *env) add(ccid, number, body string) reply {
	e.t.Helper()
	return e.do(http.MethodPut, path(phonebook.DefaultTenantSlug, ccid, "add_phone", number), writeKey, body)
}

// v1Phone is a phone as the native API shows it.
type v1Phone struct {
	E164      string `json:"e164"`
	Raw       string `json:"raw"`
	Extension string `json:"extension"`
	Type      string `json:"type"`
	LineType  string `json:"line_type"`
	IsPrimary bool   `json:"is_primary"`
	Consent   struct {
		Type      string  `json:"type"`
		Source    string  `json:"source"`
		UpdatedAt *string `json:"updated_at"`
	} `json:"consent"`
}

// phones lists a customer's phones through GET /v1/customers/{id}/phones.
func (e *env) phones(secret string, c *phonebook.Customer) []v1Phone {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.ts.URL+"/v1/customers/"+c.UUID+"/phones", nil)
	if err != nil {
		e.t.Fatalf("NewRequest: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("GET phones: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("GET /v1/customers/%s/phones: status %d: %s", c.UUID, resp.StatusCode, b)
	}
	var out struct {
		Data []v1Phone `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatalf("decode phones: %v", err)
	}
	return out.Data
}

// e164s lists the E.164 numbers of phones.
func e164s(ps []v1Phone) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.E164)
	}
	return out
}

// check compares an answer with the wanted status and message.
func check(t *testing.T, got reply, status int, message string) {
	t.Helper()
	if got.status != status || got.message != message {
		t.Errorf("got %d %q, want %d %q (body %s)", got.status, got.message, status, message, got.raw)
	}
	if ct := got.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("got Content-Type %q, want application/json", ct)
	}
}
