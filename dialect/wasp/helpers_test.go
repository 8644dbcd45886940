package wasp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/wasp"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden responses in testdata")

// The keys of the tests: secrets of tenant "acme" by scope, and one of
// tenant "other".
const (
	keyRW        = "acme-read-write-key-0001"
	keyWriteOnly = "acme-write-only-key-0001"
	keyReadOnly  = "acme-read-only-key-00001"
	keyAdmin     = "acme-admin-key-000000001"
	keyRevoked   = "acme-revoked-key-0000001"
	keyOther     = "other-read-write-key-001"
)

// wtResult, results and envelope mirror Wasp's WaspResultOfResults.
type wtResult struct {
	ResultCode     int
	Message        string
	HttpStatusCode int
	FieldName      string
}

type results struct {
	ResultList         []wtResult
	SuccessfullResults int
	TotalResults       int
	ErrorCount         int
}

type envelope struct {
	Data                            *results
	Messages                        []wtResult
	BatchNumber                     int
	HasError                        bool
	HasHttpError                    bool
	HasMessage                      bool
	HasSuccessWithMoreDataRemaining bool
	TotalRecordsLongCount           int64
}

// logBuffer collects the server's log, safe for the handlers' goroutines.
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

// env is the real router with the Wasp dialect on its own SQLite file.
type env struct {
	t     testing.TB
	svc   *phonebook.Service
	ts    *httptest.Server
	acme  context.Context // acts as tenant acme (admin)
	other context.Context // acts as tenant other
	log   *logBuffer
}

func newEnv(t testing.TB, acme phonebook.TenantInput) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pb.db"), sqlite.Options{})
	must(t, err, "open store")
	t.Cleanup(func() { _ = st.Close() })
	svc := phonebook.NewService(st, nil)
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httpapi.NewServer(log, svc, httpapi.Options{Dialects: []httpapi.Dialect{wasp.New(log, svc)}, RateLimit: &httpapi.RateLimit{}})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	acme.Slug = "acme"
	_, err = svc.CreateTenant(ctx, acme)
	must(t, err, "create tenant acme")
	_, err = svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "other"})
	must(t, err, "create tenant other")
	keys := []phonebook.KeyInput{
		{TenantSlug: "acme", Name: "rw", Scopes: []string{phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite}, Secret: keyRW},
		{TenantSlug: "acme", Name: "write", Scopes: []string{phonebook.ScopeCustomersWrite}, Secret: keyWriteOnly},
		{TenantSlug: "acme", Name: "read", Scopes: []string{phonebook.ScopeCustomersRead}, Secret: keyReadOnly},
		{TenantSlug: "acme", Name: "admin", Scopes: []string{phonebook.ScopeAdmin}, Secret: keyAdmin},
		{TenantSlug: "acme", Name: "revoked", Scopes: []string{phonebook.ScopeCustomersWrite}, Secret: keyRevoked},
		{TenantSlug: "other", Name: "rw", Scopes: []string{phonebook.ScopeAdmin}, Secret: keyOther},
	}
	for _, k := range keys {
		key, _, err := svc.CreateAPIKey(ctx, k)
		must(t, err, "create key %s/%s", k.TenantSlug, k.Name)
		if k.Name == "revoked" {
			must(t, svc.RevokeAPIKey(ctx, key.ID), "revoke key")
		}
	}
	auth := func(secret string) context.Context {
		a, err := svc.Authenticate(ctx, secret)
		must(t, err, "authenticate")
		a.Source = "test"
		return phonebook.NewContextWithAuth(ctx, a)
	}
	return &env{t: t, svc: svc, ts: ts, acme: auth(keyAdmin), other: auth(keyOther), log: logs}
}

// customer creates a customer of acme with this external id.
func (e *env) customer(ext string) *phonebook.Customer {
	e.t.Helper()
	c, err := e.svc.CreateCustomer(e.acme, phonebook.CustomerInput{ExternalID: ext, Name: "Customer " + ext})
	must(e.t, err, "create customer %q", ext)
	return c
}

// save posts body to the Wasp route with key (none when ""), as
// application/json unless headers say otherwise.
func (e *env) save(key string, body []byte, headers ...string) (int, envelope, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+wasp.SavePath, bytes.NewReader(body))
	must(e.t, err, "new request")
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		switch {
		case headers[i+1] == "" && http.CanonicalHeaderKey(headers[i]) == "User-Agent":
			// net/http sends its own User-Agent unless the header is
			// present and empty; empty sends none.
			req.Header.Set("User-Agent", "")
		case headers[i+1] == "":
			req.Header.Del(headers[i])
		default:
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err, "POST %s", wasp.SavePath)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(e.t, err, "read response")
	if got, want := resp.Header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
		e.t.Errorf("Content-Type = %q, want %q (status %d, body %s)", got, want, resp.StatusCode, raw)
	}
	var out envelope
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		e.t.Fatalf("response is not a WaspResultOfResults: %v\n%s", err, raw)
	}
	return resp.StatusCode, out, raw
}

// v1Phone is a phone as GET /v1/customers/{id}/phones lists it.
type v1Phone struct {
	E164      string `json:"e164"`
	Raw       string `json:"raw"`
	Extension string `json:"extension"`
	Type      string `json:"type"`
	IsPrimary bool   `json:"is_primary"`
}

// phones lists a customer's phones through the native API.
func (e *env) phones(c *phonebook.Customer) []v1Phone {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/customers/%d/phones", e.ts.URL, c.ID), nil)
	must(e.t, err, "new request")
	req.Header.Set("Authorization", "Bearer "+keyRW)
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err, "GET phones")
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("GET /v1/customers/%d/phones = %d %s", c.ID, resp.StatusCode, b)
	}
	var out struct {
		Data []v1Phone `json:"data"`
	}
	must(e.t, json.NewDecoder(resp.Body).Decode(&out), "decode phones")
	return out.Data
}

// record is one SaveCustomerPhoneRequest as a test writes it.
type record map[string]any

func rec(customer, number, ext, typ string) record {
	return record{"CustomerNumber": customer, "FormId": 0, "PhoneNumber": number, "PhoneExtension": ext, "PhoneTypeName": typ}
}

func body(t testing.TB, records ...any) []byte {
	t.Helper()
	b, err := json.Marshal(records)
	must(t, err, "marshal records")
	return b
}

func must(t testing.TB, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	must(t, err, "read testdata")
	return b
}

// normalize is the canonical form of a JSON document for the golden
// comparison. The Wasp answer holds no id or timestamp, so nothing varies;
// the comparison is of values, not of spacing or key order.
func normalize(t testing.TB, b []byte) string {
	t.Helper()
	var v any
	must(t, json.Unmarshal(b, &v), "golden JSON")
	out, err := json.MarshalIndent(v, "", "  ")
	must(t, err, "marshal")
	return string(out)
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		var buf bytes.Buffer
		must(t, json.Indent(&buf, bytes.TrimSpace(got), "", "  "), "indent")
		buf.WriteByte('\n')
		must(t, os.WriteFile(path, buf.Bytes(), 0o644), "write golden")
	}
	if got, want := normalize(t, got), normalize(t, readFile(t, name)); got != want {
		t.Errorf("response differs from %s:\ngot  %s\nwant %s", path, got, want)
	}
}

// shape lists every key path of a JSON document with the kind of its
// value, arrays by their first element: the page's "response shape".
func shape(t testing.TB, b []byte) []string {
	t.Helper()
	var v any
	must(t, json.Unmarshal(b, &v), "shape JSON")
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				walk(prefix+"."+k, c)
			}
		case []any:
			out = append(out, prefix+" array")
			if len(x) > 0 {
				walk(prefix+"[]", x[0])
			}
		case nil:
			out = append(out, prefix+" null")
		default:
			out = append(out, prefix+" "+reflect.TypeOf(x).Kind().String())
		}
	}
	walk("", v)
	sort.Strings(out)
	return out
}

// countPhones is how many phones the customers hold, through /v1.
func (e *env) countPhones(cs []*phonebook.Customer) int {
	n := 0
	for _, c := range cs {
		n += len(e.phones(c))
	}
	return n
}

func truncate(b []byte) string {
	s := string(b)
	if len(s) > 600 {
		s = s[:600] + "..."
	}
	return strings.TrimSpace(s)
}
