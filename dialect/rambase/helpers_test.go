package rambase_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/rambase"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
)

// logBuffer collects the server's log lines, safe for handler goroutines.
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

// env is the real router with the RamBase dialect over a fresh SQLite file.
type env struct {
	t     *testing.T
	st    *sqlite.Store
	svc   *phonebook.Service
	srv   *httptest.Server
	logs  *logBuffer
	token string // customers:read + customers:write of tenant "acme"
	ro    string // customers:read of tenant "acme"
	other string // customers:write of tenant "globex"
	admin *phonebook.Auth
	// secrets are every key made, to prove none reaches the log.
	secrets []string
}

const (
	tenantSlug = "acme"
	otherSlug  = "globex"
)

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pb.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &env{t: t, st: st, svc: phonebook.NewService(st, nil), logs: &logBuffer{}}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httpapi.NewServer(log, e.svc, httpapi.Options{Dialects: []httpapi.Dialect{rambase.New(log, e.svc)}})
	e.srv = httptest.NewServer(srv)
	t.Cleanup(e.srv.Close)

	e.mustTenant(phonebook.TenantInput{Slug: tenantSlug})
	e.mustTenant(phonebook.TenantInput{Slug: otherSlug})
	e.token = e.mustKey(tenantSlug, phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite)
	e.ro = e.mustKey(tenantSlug, phonebook.ScopeCustomersRead)
	e.other = e.mustKey(otherSlug, phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite)
	e.admin = e.mustAuth(e.mustKey(tenantSlug, phonebook.ScopeAdmin))
	t.Cleanup(func() {
		logs := e.logs.String()
		for _, s := range e.secrets {
			if strings.Contains(logs, s) {
				t.Errorf("a key secret reached the log")
			}
		}
		for _, n := range []string{"555-0123", "5550123", "555-0199", "5550199", "555.0199"} {
			if strings.Contains(logs, n) {
				t.Errorf("a phone number (%s) reached the log", n)
			}
		}
	})
	return e
}

func (e *env) mustTenant(in phonebook.TenantInput) *phonebook.Tenant {
	e.t.Helper()
	tn, err := e.svc.CreateTenant(context.Background(), in)
	if err != nil {
		e.t.Fatalf("CreateTenant(%s): %v", in.Slug, err)
	}
	return tn
}

func (e *env) mustKey(slug string, scopes ...string) string {
	e.t.Helper()
	_, secret, err := e.svc.CreateAPIKey(context.Background(), phonebook.KeyInput{TenantSlug: slug, Name: "test", Scopes: scopes})
	if err != nil {
		e.t.Fatalf("CreateAPIKey: %v", err)
	}
	e.secrets = append(e.secrets, secret)
	return secret
}

func (e *env) mustAuth(secret string) *phonebook.Auth {
	e.t.Helper()
	a, err := e.svc.Authenticate(context.Background(), secret)
	if err != nil {
		e.t.Fatalf("Authenticate: %v", err)
	}
	return a
}

// mustCustomer creates a customer in the tenant of secret; it returns its id.
func (e *env) mustCustomer(secret string) int64 {
	e.t.Helper()
	ctx := phonebook.NewContextWithAuth(context.Background(), e.mustAuth(secret))
	c, err := e.svc.CreateCustomer(ctx, phonebook.CustomerInput{Name: "Contact"})
	if err != nil {
		e.t.Fatalf("CreateCustomer: %v", err)
	}
	return c.ID
}

// req is one request to the server.
type req struct {
	method string
	path   string // with query
	ctype  string // Content-Type; "" sends none
	body   string
	header map[string]string
	token  string // sent as Authorization: Bearer when set
}

// resp is a response, read whole.
type resp struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(r req) resp {
	e.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, e.srv.URL+r.path, body)
	if err != nil {
		e.t.Fatalf("NewRequest: %v", err)
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("reading the response: %v", err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: string(b)}
}

// postXML adds a phone as XML with the read-write token.
func (e *env) postXML(contactID int64, body string) resp {
	e.t.Helper()
	return e.do(req{method: http.MethodPost, path: phonesPath(contactID), ctype: "application/xml", body: body, token: e.token})
}

func phonesPath(contactID int64) string {
	return "/collaboration/contacts/" + strconv.FormatInt(contactID, 10) + "/phones"
}

func phonePath(contactID, phoneID int64) string {
	return phonesPath(contactID) + "/" + strconv.FormatInt(phoneID, 10)
}

func phoneXML(typ, isDefault, number string) string {
	var b strings.Builder
	b.WriteString("<Phone>")
	if typ != "" {
		b.WriteString("<Type>" + typ + "</Type>")
	}
	if isDefault != "" {
		b.WriteString("<IsDefault>" + isDefault + "</IsDefault>")
	}
	if number != "" {
		b.WriteString("<PhoneNumber>" + number + "</PhoneNumber>")
	}
	b.WriteString("</Phone>")
	return b.String()
}

// xmlPhone is a RamBase phone answered in XML.
type xmlPhone struct {
	XMLName     xml.Name `xml:"Phone"`
	PhoneID     int64    `xml:"PhoneId"`
	Type        string   `xml:"Type"`
	IsDefault   bool     `xml:"IsDefault"`
	PhoneNumber string   `xml:"PhoneNumber"`
}

// rbError is a RamBase error, XML or JSON.
type rbError struct {
	XMLName     xml.Name  `xml:"Error" json:"-"`
	Code        int       `xml:"Code"`
	Message     string    `xml:"Message"`
	HttpStatus  int       `xml:"HttpStatusCode" json:"HttpStatusCode"`
	Field       string    `xml:"Field"`
	InnerErrors []rbError `xml:"InnerErrors>Error"`
}

// mustPhone reads an XML phone answer with status want.
func mustPhone(t *testing.T, r resp, want int) xmlPhone {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body %s", r.status, want, r.body)
	}
	if got := r.header.Get("Content-Type"); got != "application/xml; charset=utf-8" {
		t.Fatalf("Content-Type = %q, want application/xml; charset=utf-8", got)
	}
	var p xmlPhone
	if err := xml.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	return p
}

// errorOf decodes a RamBase error answer in XML or JSON (by Content-Type).
func errorOf(t *testing.T, r resp) rbError {
	t.Helper()
	var e rbError
	ct := r.header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		// The error object is the whole body, as the RamBase .NET SDK reads
		// it (JsonConvert.DeserializeObject<Error>(json)).
		if err := json.Unmarshal([]byte(r.body), &e); err != nil {
			t.Fatalf("decoding JSON error %s: %v", r.body, err)
		}
	case strings.HasPrefix(ct, "application/xml"):
		if err := xml.Unmarshal([]byte(r.body), &e); err != nil {
			t.Fatalf("decoding XML error %s: %v", r.body, err)
		}
	default:
		t.Fatalf("error Content-Type = %q, want XML or JSON; body %s", ct, r.body)
	}
	if e.HttpStatus != r.status {
		t.Errorf("HttpStatus in body = %d, HTTP status = %d", e.HttpStatus, r.status)
	}
	return e
}

// wantError checks an error answer: HTTP status, RamBase number and field.
func wantError(t *testing.T, r resp, status, code int, field string) rbError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	e := errorOf(t, r)
	if e.Code != code {
		t.Errorf("Code = %d, want %d; body %s", e.Code, code, r.body)
	}
	if e.Field != field {
		t.Errorf("Field = %q, want %q; body %s", e.Field, field, r.body)
	}
	if e.Message == "" {
		t.Errorf("Message is empty")
	}
	return e
}

// v1Phone is a phone as the native API shows it.
type v1Phone struct {
	ID        int64  `json:"id"`
	Raw       string `json:"raw"`
	E164      string `json:"e164"`
	Extension string `json:"extension"`
	Type      string `json:"type"`
	IsPrimary bool   `json:"is_primary"`
}

// v1Phones lists a customer's phones through /v1.
func (e *env) v1Phones(contactID int64) []v1Phone {
	e.t.Helper()
	r := e.do(req{method: http.MethodGet, path: "/v1/customers/" + strconv.FormatInt(contactID, 10) + "/phones", token: e.token})
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /v1 phones: status %d, body %s", r.status, r.body)
	}
	var out struct {
		Data []v1Phone `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		e.t.Fatalf("decoding /v1 phones: %v", err)
	}
	return out.Data
}

func (e *env) v1Phone(contactID, phoneID int64) v1Phone {
	e.t.Helper()
	for _, p := range e.v1Phones(contactID) {
		if p.ID == phoneID {
			return p
		}
	}
	e.t.Fatalf("phone %d not found through /v1", phoneID)
	return v1Phone{}
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading testdata: %v", err)
	}
	return string(b)
}

var (
	xmlPhoneID  = regexp.MustCompile(`<PhoneId>\d+</PhoneId>`)
	jsonPhoneID = regexp.MustCompile(`"PhoneId": \d+`)
)

// normalize replaces the values that vary between runs (phone ids) with
// the placeholders of the golden files.
func normalize(s string) string {
	s = xmlPhoneID.ReplaceAllString(s, "<PhoneId>{PhoneId}</PhoneId>")
	s = jsonPhoneID.ReplaceAllString(s, `"PhoneId": {PhoneId}`)
	return s
}

// wantGolden compares a response body with a golden file.
func wantGolden(t *testing.T, got, name string) {
	t.Helper()
	want := readTestdata(t, name)
	if normalize(got) != want {
		t.Errorf("body differs from testdata/%s\ngot:\n%s\nwant:\n%s", name, normalize(got), want)
	}
}
