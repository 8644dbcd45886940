package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
	"github.com/phonebook/phonebook/store/storetest"
)

// obj is a decoded JSON object of a response.
type obj = map[string]any

// logBuffer is the slog output of one server, safe for the handlers'
// goroutines.
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

// sent is one request made through do, for the log assertions.
type sent struct {
	id     string // X-Request-ID
	method string
	path   string
	body   string
	status int
}

// env is one server on its own SQLite file, reached over real HTTP.
type env struct {
	svc  *phonebook.Service
	srv  *httptest.Server
	api  *httpapi.Server
	logs *logBuffer

	mu      sync.Mutex
	sent    []sent
	secrets []string // every key secret made, to prove none is logged
	seq     atomic.Int64
}

// newEnv starts the real router over a fresh SQLite file. At the end of
// the test it checks that no key secret and no request body reached the
// log.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pb.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	e := &env{svc: phonebook.NewService(st, nil), logs: &logBuffer{}}
	e.svc.SetSealer(storetest.MustBox(t))
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.api = httpapi.NewServer(log, e.svc, httpapi.Options{})
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(func() {
		e.srv.Close() // waits for every handler, so every log line is written
		st.Close()
		if t.Failed() {
			return
		}
		logs := e.logs.String()
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, s := range e.secrets {
			if strings.Contains(logs, s) {
				t.Errorf("the log holds an API key secret (%s...)", s[:6])
			}
		}
		for _, s := range e.sent {
			if len(s.body) >= 12 && strings.Contains(logs, s.body) {
				t.Errorf("the log holds the body of %s %s: %.60s", s.method, s.path, s.body)
			}
		}
	})
	return e
}

// tenant is one tenant with keys of each kind.
type tenant struct {
	*phonebook.Tenant
	admin, write, read string          // secrets: all scopes; read+write; read only
	ctx                context.Context // a caller with every scope, for fast setup through the service
}

// MustTenant creates a tenant (in.Slug) with an admin, a read-write and a
// read-only key.
func (e *env) MustTenant(t *testing.T, in phonebook.TenantInput) *tenant {
	t.Helper()
	ctx := context.Background()
	tn, err := e.svc.CreateTenant(ctx, in)
	if err != nil {
		t.Fatalf("CreateTenant(%q): %v", in.Slug, err)
	}
	tt := &tenant{Tenant: tn}
	tt.admin = e.MustKey(t, tn.Slug, phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite, phonebook.ScopeAdmin)
	tt.write = e.MustKey(t, tn.Slug, phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite)
	tt.read = e.MustKey(t, tn.Slug, phonebook.ScopeCustomersRead)
	a, err := e.svc.Authenticate(ctx, tt.admin)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	tt.ctx = phonebook.NewContextWithAuth(ctx, a)
	return tt
}

// MustKey creates a key of tenant slug with scopes and returns its secret.
func (e *env) MustKey(t *testing.T, slug string, scopes ...string) string {
	t.Helper()
	_, secret, err := e.svc.CreateAPIKey(context.Background(), phonebook.KeyInput{TenantSlug: slug, Name: "test " + strings.Join(scopes, "+"), Scopes: scopes})
	if err != nil {
		t.Fatalf("CreateAPIKey(%s, %v): %v", slug, scopes, err)
	}
	e.remember(secret)
	return secret
}

// remember adds a key secret to those the log must never hold.
func (e *env) remember(secret string) {
	e.mu.Lock()
	e.secrets = append(e.secrets, secret)
	e.mu.Unlock()
}

// rawBody is a request body sent as is (no JSON encoding).
type rawBody string

// request builds a request: key goes in Authorization: Bearer (unless a
// header sets Authorization or X-API-Key itself); body is nil, a rawBody, or
// a value encoded as JSON; headers are name, value pairs. A JSON body gets
// Content-Type application/json unless a header says otherwise.
func (e *env) request(t *testing.T, method, path, key string, body any, headers ...string) (*http.Request, string) {
	t.Helper()
	var payload []byte
	switch b := body.(type) {
	case nil:
	case rawBody:
		payload = []byte(b)
	case []byte:
		payload = b
	default:
		var err error
		if payload, err = json.Marshal(b); err != nil {
			t.Fatalf("encode body: %v", err)
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatalf("NewRequest(%s %s): %v", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if len(headers)%2 != 0 {
		t.Fatalf("headers must be name, value pairs: %q", headers)
	}
	for i := 0; i < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	if req.Header.Get("X-Request-ID") == "" {
		req.Header.Set("X-Request-ID", "t"+strconv.FormatInt(e.seq.Add(1), 10))
	}
	return req, string(payload)
}

// doRaw sends a request and returns the status, headers and raw body.
func (e *env) doRaw(t *testing.T, method, path, key string, body any, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	req, payload := e.request(t, method, path, key, body, headers...)
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	e.mu.Lock()
	e.sent = append(e.sent, sent{id: req.Header.Get("X-Request-ID"), method: method, path: path, body: payload, status: res.StatusCode})
	e.mu.Unlock()
	return res.StatusCode, res.Header, b
}

// do sends a request and decodes a JSON object answer (nil for an empty
// body). A body that is not a JSON object fails the test.
func (e *env) do(t *testing.T, method, path, key string, body any, headers ...string) (int, http.Header, obj) {
	t.Helper()
	status, h, b := e.doRaw(t, method, path, key, body, headers...)
	if len(b) == 0 {
		return status, h, nil
	}
	var m obj
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s %s: %d, body is not a JSON object: %v\n%s", method, path, status, err, b)
	}
	return status, h, m
}

// mustDo is do that fails the test unless the status is want.
func (e *env) mustDo(t *testing.T, want int, method, path, key string, body any, headers ...string) (http.Header, obj) {
	t.Helper()
	status, h, m := e.do(t, method, path, key, body, headers...)
	if status != want {
		t.Fatalf("%s %s: got status %d, want %d; body %v", method, path, status, want, m)
	}
	return h, m
}

// last is the latest request sent through do.
func (e *env) last() sent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sent[len(e.sent)-1]
}

// MustCustomer creates a customer through POST /v1/customers.
func (e *env) MustCustomer(t *testing.T, key string, body obj) obj {
	t.Helper()
	_, c := e.mustDo(t, http.StatusCreated, "POST", "/v1/customers", key, body)
	return c
}

// MustPhone adds a phone through POST /v1/customers/{id}/phones.
func (e *env) MustPhone(t *testing.T, key string, customer obj, body obj) obj {
	t.Helper()
	_, p := e.mustDo(t, http.StatusCreated, "POST", custPath(customer)+"/phones", key, body)
	return p
}

// MustGet reads path, which must answer 200.
func (e *env) MustGet(t *testing.T, key, path string) obj {
	t.Helper()
	_, m := e.mustDo(t, http.StatusOK, "GET", path, key, nil)
	return m
}

// custPath is the path of a customer by its integer id.
func custPath(c obj) string { return "/v1/customers/" + idOf(c) }

// phonePath is the path of a phone by integer ids.
func phonePath(p obj) string {
	return "/v1/customers/" + str(p, "customer_id") + "/phones/" + idOf(p)
}

// idOf is the integer id of a customer or phone, as a string.
func idOf(m obj) string { return str(m, "id") }

// get walks a dotted path ("data.0.phone.e164") through decoded JSON.
func get(v any, path string) any {
	if path == "" {
		return v
	}
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// str is the value at path as a string ("" when absent; numbers and
// booleans in their JSON form).
func str(v any, path string) string {
	switch x := get(v, path).(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// list is the array at path (nil when absent or not an array).
func list(v any, path string) []any {
	a, _ := get(v, path).([]any)
	return a
}

// num is the integer at path (-1 when absent).
func num(v any, path string) int64 {
	n, ok := get(v, path).(json.Number)
	if !ok {
		return -1
	}
	i, err := n.Int64()
	if err != nil {
		return -1
	}
	return i
}

// wantProblem checks an RFC 9457 answer: the status, the problem+json
// content type, the members type/title/status/detail, the code, and (when
// field is not "") an errors[] entry naming field.
func wantProblem(t *testing.T, what string, status int, h http.Header, body obj, wantStatus int, code, field string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("%s: got status %d, want %d; body %v", what, status, wantStatus, body)
		return
	}
	if got, want := h.Get("Content-Type"), "application/problem+json"; got != want {
		t.Errorf("%s: got Content-Type %q, want %q", what, got, want)
	}
	if got, want := str(body, "code"), code; got != want {
		t.Errorf("%s: got code %q, want %q; body %v", what, got, want, body)
	}
	if got, want := num(body, "status"), int64(wantStatus); got != want {
		t.Errorf("%s: got problem status %d, want %d", what, got, want)
	}
	if got := str(body, "type"); !strings.HasSuffix(got, "/"+code) || !strings.Contains(got, "://") {
		t.Errorf("%s: got problem type %q, want a URI ending in /%s", what, got, code)
	}
	for _, m := range []string{"title", "detail"} {
		if str(body, m) == "" {
			t.Errorf("%s: the problem has no %s: %v", what, m, body)
		}
	}
	if _, ok := get(body, "errors").([]any); !ok {
		t.Errorf("%s: the problem has no errors array: %v", what, body)
	}
	if field != "" && !hasField(body, field) {
		t.Errorf("%s: got errors %v, want one with field %q", what, get(body, "errors"), field)
	}
}

// hasField reports whether a problem's errors[] names field.
func hasField(body obj, field string) bool {
	for _, fe := range list(body, "errors") {
		if str(fe, "field") == field {
			return true
		}
	}
	return false
}

// q escapes a query value.
func q(s string) string { return url.QueryEscape(s) }

// must fails t on err.
func must(t *testing.T, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// countCustomers counts the customers key's tenant sees (up to 500).
func (e *env) countCustomers(t *testing.T, key string) int {
	t.Helper()
	m := e.MustGet(t, key, "/v1/customers?limit=500")
	if str(m, "has_more") == "true" {
		t.Fatalf("countCustomers: more than 500 customers")
	}
	return len(list(m, "data"))
}
