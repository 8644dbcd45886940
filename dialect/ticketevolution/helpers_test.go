package ticketevolution_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/ticketevolution"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/secretbox"
	"github.com/phonebook/phonebook/store/sqlite"
)

// obj is a decoded JSON object.
type obj = map[string]any

// Key secrets of the test tenant (operator-chosen secrets, ≥ 16 chars).
const (
	signedKey     = "te-signed-key-000000001"   // read+write, signs with signingSecret
	signingSecret = "te-signing-secret-0000001" // the signed key's API secret
	plainKey      = "te-plain-key-0000000001"   // read+write, no signing secret
	readKey       = "te-read-key-00000000001"   // read only
	writeKey      = "te-write-key-0000000001"   // write only
	otherKey      = "te-other-key-0000000001"   // read+write of the other tenant
)

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

// env is the real router with the dialect over a fresh SQLite file: tenant
// "te" with a key of each kind, and tenant "other".
type env struct {
	svc   *phonebook.Service
	store *sqlite.Store
	srv   *httptest.Server
	logs  *logBuffer
	ctx   context.Context // a caller of tenant "te" with every scope
	other context.Context // a caller of tenant "other"
}

// newEnv starts the server; tenant "te" is created with in (its slug is
// set here). At the end it checks that no secret, number or body reached
// the log.
func newEnv(t *testing.T, in phonebook.TenantInput) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pb.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	e := &env{svc: phonebook.NewService(st, nil), store: st, logs: &logBuffer{}}
	// Signing secrets are kept encrypted under the server key.
	box, err := secretbox.New("te-test-server-key-0000001")
	if err != nil {
		t.Fatalf("secretbox.New: %v", err)
	}
	e.svc.SetSealer(box)
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httpapi.NewServer(log, e.svc, httpapi.Options{Dialects: []httpapi.Dialect{ticketevolution.New(log, e.svc)}})
	e.srv = httptest.NewServer(srv)
	t.Cleanup(func() {
		e.srv.Close()
		st.Close()
		logs := e.logs.String()
		for _, s := range []string{signedKey, signingSecret, plainKey, readKey, writeKey, otherKey, "555-0", "+1504555", "+1541555", "phone_numbers\":"} {
			if strings.Contains(logs, s) {
				t.Errorf("the log holds %q", s)
			}
		}
	})
	in.Slug = "te"
	if _, err := e.svc.CreateTenant(ctx, in); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if _, err := e.svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "other"}); err != nil {
		t.Fatalf("CreateTenant(other): %v", err)
	}
	all := []string{phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite}
	for _, k := range []phonebook.KeyInput{
		{TenantSlug: "te", Name: "signed", Scopes: all, Secret: signedKey, SigningSecret: signingSecret},
		{TenantSlug: "te", Name: "plain", Scopes: all, Secret: plainKey},
		{TenantSlug: "te", Name: "read", Scopes: []string{phonebook.ScopeCustomersRead}, Secret: readKey},
		{TenantSlug: "te", Name: "write", Scopes: []string{phonebook.ScopeCustomersWrite}, Secret: writeKey},
		{TenantSlug: "te", Name: "admin", Scopes: phonebook.AllScopes, Secret: "te-admin-key-0000000001"},
		{TenantSlug: "other", Name: "other", Scopes: phonebook.AllScopes, Secret: otherKey},
	} {
		if _, _, err := e.svc.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("CreateAPIKey(%s): %v", k.Name, err)
		}
	}
	e.ctx = e.mustAuth(t, "te-admin-key-0000000001")
	e.other = e.mustAuth(t, otherKey)
	return e
}

func (e *env) mustAuth(t *testing.T, secret string) context.Context {
	t.Helper()
	a, err := e.svc.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return phonebook.NewContextWithAuth(context.Background(), a)
}

// MustCustomer creates a customer as ctx's caller and returns its id.
func (e *env) MustCustomer(t *testing.T, ctx context.Context) int64 {
	t.Helper()
	c, err := e.svc.CreateCustomer(ctx, phonebook.CustomerInput{Name: "Test Client"})
	if err != nil {
		t.Fatalf("CreateCustomer: %v", err)
	}
	return c.ID
}

// MustPhone adds a phone to customer id through the service.
func (e *env) MustPhone(t *testing.T, id int64, in phonebook.PhoneInput) *phonebook.Phone {
	t.Helper()
	p, err := e.svc.AddPhone(e.ctx, phonebook.CustomerRef{ID: id}, in)
	if err != nil {
		t.Fatalf("AddPhone: %v", err)
	}
	return p
}

// host is what the server sees as the request's host (r.Host).
func (e *env) host() string { return strings.TrimPrefix(e.srv.URL, "http://") }

// teSign is v9's signature, written from the vendor's documentation
// independently of the dialect: base64 HMAC-SHA256 of s.
func teSign(secret, s string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// stringToSign is what v9's own clients sign: "METHOD host/path?" then the
// query for GET, the body for POST and PUT.
func stringToSign(method, host, target, body string) string {
	path, query, _ := strings.Cut(target, "?")
	payload := query
	if method != http.MethodGet && body != "" {
		payload = body
	}
	return method + " " + host + path + "?" + payload
}

// call is one request to the server.
type call struct {
	method string
	target string // path and query
	body   string
	token  string // X-Token; "" sends none
	// sign, when set, signs the request with this secret as v9's clients
	// do; signature, when set, is sent as X-Signature as is.
	sign      string
	signature string
	host      string            // Host header; the server's own when ""
	header    map[string]string // more headers
}

// do sends c and returns the status and body.
func (e *env) do(t *testing.T, c call) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(c.method, e.srv.URL+c.target, strings.NewReader(c.body))
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	host := e.host()
	if c.host != "" {
		req.Host, host = c.host, c.host
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("X-Token", c.token)
	}
	if c.sign != "" {
		req.Header.Set("X-Signature", teSign(c.sign, stringToSign(c.method, host, c.target, c.body)))
	}
	if c.signature != "" {
		req.Header.Set("X-Signature", c.signature)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type = %q, want application/json", c.method, c.target, ct)
	}
	return resp.StatusCode, b
}

// mustObj decodes a JSON object answer.
func mustObj(t *testing.T, b []byte) obj {
	t.Helper()
	var o obj
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, b)
	}
	return o
}

// wantError checks an answer in v9's error shape: status, "error" holding
// msg (when not ""), and "errors" with exactly the keys fields.
func wantError(t *testing.T, status int, body []byte, wantStatus int, msg string, fields ...string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status = %d, want %d; body %s", status, wantStatus, body)
	}
	o := mustObj(t, body)
	got, ok := o["error"].(string)
	if !ok || got == "" {
		t.Fatalf(`"error" = %v, want a message; body %s`, o["error"], body)
	}
	if msg != "" && !strings.Contains(got, msg) {
		t.Errorf("error = %q, want it to hold %q", got, msg)
	}
	errs, _ := o["errors"].(map[string]any)
	var keys []string
	for k, v := range errs {
		keys = append(keys, k)
		if l, ok := v.([]any); !ok || len(l) == 0 {
			t.Errorf("errors[%q] = %v, want a list of messages", k, v)
		}
	}
	if len(fields) == 0 && o["errors"] != nil {
		t.Errorf(`"errors" = %v, want none`, o["errors"])
	}
	for _, f := range fields {
		if _, ok := errs[f]; !ok {
			t.Errorf("errors has keys %v, want %q", keys, f)
		}
	}
	if len(keys) != len(fields) && len(fields) > 0 {
		t.Errorf("errors has keys %v, want %v", keys, fields)
	}
	for k := range o {
		if k != "error" && k != "errors" {
			t.Errorf("error answer has member %q; body %s", k, body)
		}
	}
}

// v1Phone is a phone as the native API shows it.
type v1Phone struct {
	ID        int64  `json:"id"`
	E164      string `json:"e164"`
	Extension string `json:"extension"`
	Type      string `json:"type"`
	Label     string `json:"label"`
	IsPrimary bool   `json:"is_primary"`
}

// v1Phones reads a customer's phones through GET /v1.
func (e *env) v1Phones(t *testing.T, id int64) []v1Phone {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/customers/%d/phones", e.srv.URL, id), nil)
	req.Header.Set("Authorization", "Bearer "+plainKey)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET /v1: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Data []v1Phone `json:"data"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/customers/%d/phones: status %d: %s", id, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("GET /v1: %v: %s", err, b)
	}
	if len(out.Data) == 0 {
		return nil
	}
	for i := range out.Data {
		out.Data[i].ID = 0 // compared by value
	}
	return out.Data
}

var (
	rfc3339Seconds = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	phoneKeys      = []string{"id", "url", "country_code", "raw_number", "number", "extension", "label", "updated_at"}
)

// checkPhone checks the members that vary of a phone object of client cid
// (id, url, updated_at) and replaces them with placeholders.
func checkPhone(t *testing.T, cid int64, v any) obj {
	t.Helper()
	p, ok := v.(obj)
	if !ok {
		t.Fatalf("phone = %v, want an object", v)
	}
	if len(p) != len(phoneKeys) {
		t.Errorf("phone has %d members, want %v: %v", len(p), phoneKeys, p)
	}
	id, ok := p["id"].(float64)
	if !ok || id < 1 || id != float64(int64(id)) {
		t.Errorf("id = %v, want a positive integer", p["id"])
	}
	if got, want := p["url"], fmt.Sprintf("/clients/%d/phone_numbers/%d", cid, int64(id)); got != want {
		t.Errorf("url = %v, want %q", got, want)
	}
	if s, _ := p["updated_at"].(string); !rfc3339Seconds.MatchString(s) {
		t.Errorf("updated_at = %v, want RFC 3339 UTC seconds", p["updated_at"])
	}
	p["id"], p["url"], p["updated_at"] = "<id>", "<url>", "<time>"
	return p
}

// normalizePage replaces what varies in a page of phones (see checkPhone).
func normalizePage(t *testing.T, cid int64, o obj) obj {
	t.Helper()
	list, ok := o["phone_numbers"].([]any)
	if !ok {
		t.Fatalf("phone_numbers = %v, want an array", o["phone_numbers"])
	}
	for i := range list {
		list[i] = checkPhone(t, cid, list[i])
	}
	return o
}

// ids lists the ids of a page's phones.
func ids(t *testing.T, o obj) []int64 {
	t.Helper()
	var out []int64
	list, _ := o["phone_numbers"].([]any)
	for _, v := range list {
		p, _ := v.(obj)
		id, _ := p["id"].(float64)
		out = append(out, int64(id))
	}
	return out
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// phonesPath is the collection of client cid.
func phonesPath(cid int64) string { return fmt.Sprintf("/v9/clients/%d/phone_numbers", cid) }

// phonePath is one phone of client cid.
func phonePath(cid, pid int64) string {
	return fmt.Sprintf("/v9/clients/%d/phone_numbers/%d", cid, pid)
}

// one is a create body of a single phone number.
func one(members string) string { return `{"phone_numbers":[{` + members + `}]}` }
