package crossriver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/crossriver"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
)

// --- harness: the real router over a real SQLite file ---

// syncBuffer collects log output written by server goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type env struct {
	t    *testing.T
	ctx  context.Context
	st   *sqlite.Store
	svc  *phonebook.Service
	ts   *httptest.Server
	logs *syncBuffer
	n    int
}

// tenantKeys is a tenant with a read+write key, a read-only key and a
// write-only key (their secrets).
type tenantKeys struct {
	T          *phonebook.Tenant
	RW, RO, WO string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pb.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc := phonebook.NewService(st, nil)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httpapi.NewServer(log, svc, httpapi.Options{Dialects: []httpapi.Dialect{crossriver.New(log, svc)}})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{t: t, ctx: ctx, st: st, svc: svc, ts: ts, logs: logs}
}

func (e *env) mustTenant(in phonebook.TenantInput) tenantKeys {
	e.t.Helper()
	e.n++
	if in.Slug == "" {
		in.Slug = "tenant" + strconv.Itoa(e.n)
	}
	tn, err := e.svc.CreateTenant(e.ctx, in)
	if err != nil {
		e.t.Fatalf("CreateTenant: %v", err)
	}
	k := tenantKeys{T: tn}
	for _, x := range []struct {
		secret *string
		scopes []string
	}{
		{&k.RW, []string{phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite}},
		{&k.RO, []string{phonebook.ScopeCustomersRead}},
		{&k.WO, []string{phonebook.ScopeCustomersWrite}},
	} {
		_, secret, err := e.svc.CreateAPIKey(e.ctx, phonebook.KeyInput{TenantSlug: in.Slug, Name: "test", Scopes: x.scopes})
		if err != nil {
			e.t.Fatalf("CreateAPIKey: %v", err)
		}
		*x.secret = secret
	}
	return k
}

func (e *env) mustCustomer(secret string) *phonebook.Customer {
	e.t.Helper()
	a, err := e.svc.Authenticate(e.ctx, secret)
	if err != nil {
		e.t.Fatalf("Authenticate: %v", err)
	}
	c, err := e.svc.CreateCustomer(phonebook.NewContextWithAuth(e.ctx, a), phonebook.CustomerInput{Name: "Ada"})
	if err != nil {
		e.t.Fatalf("CreateCustomer: %v", err)
	}
	return c
}

// do sends a request; header is name, value pairs.
func (e *env) do(method, path, body string, header ...string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatalf("NewRequest: %v", err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	return resp, b
}

func phonesPath(customer string) string { return "/core/v1/cm/customers/" + customer + "/phones" }

// post adds a phone through the dialect with a Bearer key.
func (e *env) post(customer, secret, body string) (*http.Response, []byte) {
	e.t.Helper()
	return e.do(http.MethodPost, phonesPath(customer), body, "Authorization", "Bearer "+secret)
}

// wirePhone is the Cross River phone as a test reads it.
type wirePhone struct {
	ID             string `json:"id"`
	CustomerID     string `json:"customerId"`
	Status         string `json:"status"`
	PhoneType      string `json:"phoneType"`
	IsPrimary      bool   `json:"isPrimary"`
	PhoneNumber    string `json:"phoneNumber"`
	Extension      string `json:"extension"`
	Notes          string `json:"notes"`
	CreatedAt      string `json:"createdAt"`
	LastModifiedAt string `json:"lastModifiedAt"`
	PartnerID      string `json:"partnerId"`
}

type wireErrors struct {
	Errors []struct {
		Code    int    `json:"Code"`
		Message string `json:"Message"`
	} `json:"Errors"`
}

func mustDecode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, b, err)
	}
	return v
}

// wantError checks an error answer: status, the Cross River shape, codes,
// and that each message contains the wanted text.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, codes []int, msgs ...string) {
	t.Helper()
	if got, want := resp.StatusCode, status; got != want {
		t.Fatalf("status: got %d, want %d (body %s)", got, want, body)
	}
	if got, want := resp.Header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
		t.Errorf("Content-Type: got %q, want %q", got, want)
	}
	eb := mustDecode[wireErrors](t, body)
	var got []int
	for _, e := range eb.Errors {
		got = append(got, e.Code)
	}
	if !slices.Equal(got, codes) {
		t.Fatalf("codes: got %v, want %v (body %s)", got, codes, body)
	}
	for i, m := range msgs {
		if !strings.Contains(eb.Errors[i].Message, m) {
			t.Errorf("message %d: got %q, want it to contain %q", i, eb.Errors[i].Message, m)
		}
	}
}

// nativePhone is a phone as GET /v1/customers/{id}/phones shows it.
type nativePhone struct {
	UUID      string    `json:"uuid"`
	Raw       string    `json:"raw"`
	E164      string    `json:"e164"`
	Extension string    `json:"extension"`
	Type      string    `json:"type"`
	IsPrimary bool      `json:"is_primary"`
	Notes     string    `json:"notes"`
	CreatedAt time.Time `json:"created_at"`
}

func (e *env) native(customer, secret string) []nativePhone {
	e.t.Helper()
	resp, b := e.do(http.MethodGet, "/v1/customers/"+customer+"/phones", "", "Authorization", "Bearer "+secret)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("native list: status %d: %s", resp.StatusCode, b)
	}
	var out struct {
		Data []nativePhone `json:"data"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("native list: %v", err)
	}
	return out.Data
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// normalize replaces the values that vary (ids, times) by placeholders,
// after checking their form.
func normalize(t *testing.T, m map[string]any) {
	t.Helper()
	for _, k := range []string{"id", "customerId", "partnerId"} {
		s, _ := m[k].(string)
		if !uuidRE.MatchString(s) {
			t.Errorf("%s: got %q, want a lower-case uuid", k, s)
		}
		m[k] = "<uuid>"
	}
	for _, k := range []string{"createdAt", "lastModifiedAt"} {
		s, _ := m[k].(string)
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			t.Errorf("%s: got %q, want RFC 3339: %v", k, s, err)
		}
		m[k] = "<time>"
	}
}

// keys returns the member names of a JSON object in order.
func keys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	var out []string
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// --- the seed page's own example ---

// TestSeedExample sends the page's request as its curl example does (curl
// -d sends a form Content-Type) and compares the answer with the page's
// 200, then sends it again for the page's 400.
func TestSeedExample(t *testing.T) {
	e := newEnv(t)
	k := e.mustTenant(phonebook.TenantInput{})
	c := e.mustCustomer(k.RW)
	req := string(readFile(t, "post_phone.request.json"))
	hdr := []string{"Content-Type", "application/x-www-form-urlencoded", "Authorization", "Bearer " + k.RW}

	resp, body := e.do(http.MethodPost, phonesPath(c.UUID), req, hdr...)
	if got, want := resp.StatusCode, http.StatusOK; got != want {
		t.Fatalf("status: got %d, want %d: %s", got, want, body)
	}
	if got, want := resp.Header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
		t.Errorf("Content-Type: got %q, want %q", got, want)
	}
	golden := readFile(t, "post_phone.200.json")
	// The one documented addition to the page's shape: notes, always
	// present (the page's example sends none), after extension.
	wantKeys := slices.Insert(keys(t, golden), slices.Index(keys(t, golden), "extension")+1, "notes")
	if got := keys(t, body); !slices.Equal(got, wantKeys) {
		t.Errorf("members: got %v, want %v", got, wantKeys)
	}
	var got, want map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(golden, &want); err != nil {
		t.Fatal(err)
	}
	if got["customerId"] != c.UUID {
		t.Errorf("customerId: got %v, want %s", got["customerId"], c.UUID)
	}
	if got["partnerId"] != k.T.UUID {
		t.Errorf("partnerId: got %v, want the tenant uuid %s", got["partnerId"], k.T.UUID)
	}
	if got["createdAt"] != got["lastModifiedAt"] {
		t.Errorf("createdAt %v != lastModifiedAt %v on a new phone", got["createdAt"], got["lastModifiedAt"])
	}
	gotPhone := mustDecode[wirePhone](t, body)
	normalize(t, got)
	normalize(t, want)
	want["notes"] = ""
	if !reflect.DeepEqual(got, want) {
		t.Errorf("response:\n got %v\nwant %v", got, want)
	}

	// The phone is there through /v1, with the same number.
	phones := e.native(c.UUID, k.RW)
	if got, want := len(phones), 1; got != want {
		t.Fatalf("native phones: got %d, want %d", got, want)
	}
	p := phones[0]
	if p.E164 != "+12015551212" || p.Extension != "123" || p.Type != "work" || !p.IsPrimary || p.UUID != gotPhone.ID {
		t.Errorf("native phone: got %+v, want +12015551212 ext 123 work primary uuid %s", p, gotPhone.ID)
	}
	created, _ := time.Parse(time.RFC3339Nano, gotPhone.CreatedAt)
	if !created.Equal(p.CreatedAt) {
		t.Errorf("createdAt: got %v, want the stored %v", created, p.CreatedAt)
	}

	// The same request again is the page's 400.
	resp, body = e.do(http.MethodPost, phonesPath(c.UUID), req, hdr...)
	if got, want := resp.StatusCode, http.StatusBadRequest; got != want {
		t.Fatalf("duplicate status: got %d, want %d: %s", got, want, body)
	}
	var gotErr, wantErr any
	_ = json.Unmarshal(body, &gotErr)
	_ = json.Unmarshal(readFile(t, "post_phone.400.json"), &wantErr)
	if !reflect.DeepEqual(gotErr, wantErr) {
		t.Errorf("duplicate: got %s, want %s", body, readFile(t, "post_phone.400.json"))
	}
	if got, want := len(e.native(c.UUID, k.RW)), 1; got != want {
		t.Errorf("phones after duplicate: got %d, want %d", got, want)
	}
}

// TestSeedExampleVariants sends the page's body as its other examples do:
// CRLF line ends (node, python), no Content-Type, the lower-case member
// names of the extracted page, other letter cases, and JSON.
func TestSeedExampleVariants(t *testing.T) {
	e := newEnv(t)
	k := e.mustTenant(phonebook.TenantInput{})
	tests := []struct {
		name   string
		body   string
		header []string
	}{
		{"crlf no content type", "{\r\n    \"isPrimary\": true,\r\n    \"phoneType\": \"work\",\r\n    \"phoneNumber\": \"2015551212\",\r\n    \"extension\": \"123\"\r\n}\r\n", nil},
		{"lower case names", `{"isprimary": true, "phonetype": "work", "phonenumber": "2015551212", "extension": "123"}`, nil},
		{"upper case names", `{"ISPRIMARY": true, "PHONETYPE": "work", "PHONENUMBER": "2015551212", "EXTENSION": "123"}`, []string{"Content-Type", "application/json"}},
		{"unknown members ignored", `{"isPrimary": true, "phoneType": "work", "phoneNumber": "2015551212", "extension": "123", "countryCode": "1", "foo": {"bar": [1]}}`, []string{"Content-Type", "text/plain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.mustCustomer(k.RW)
			resp, body := e.do(http.MethodPost, phonesPath(c.UUID), tt.body, append([]string{"Authorization", "Bearer " + k.RW}, tt.header...)...)
			if got, want := resp.StatusCode, http.StatusOK; got != want {
				t.Fatalf("status: got %d, want %d: %s", got, want, body)
			}
			p := mustDecode[wirePhone](t, body)
			if p.PhoneNumber != "2015551212" || p.Extension != "123" || p.PhoneType != "work" || !p.IsPrimary {
				t.Errorf("got %+v, want 2015551212 ext 123 work primary", p)
			}
			n := e.native(c.UUID, k.RW)
			if len(n) != 1 || n[0].E164 != "+12015551212" {
				t.Errorf("native: got %+v, want one phone +12015551212", n)
			}
		})
	}
}

// --- numbers ---

func TestNumberForms(t *testing.T) {
	e := newEnv(t)
	us := e.mustTenant(phonebook.TenantInput{DefaultRegion: "US"})
	gb := e.mustTenant(phonebook.TenantInput{DefaultRegion: "GB"})
	tests := []struct {
		name     string
		keys     tenantKeys
		number   string
		wantE164 string
	}{
		{"10 digits, tenant region", us, "2015551212", "+12015551212"},
		{"11 digits with country code 1", us, "12015551212", "+12015551212"},
		{"UK number with country code, US tenant", us, "442071838750", "+442071838750"},
		{"French number with country code, US tenant", us, "33123456789", "+33123456789"},
		{"UK national with trunk 0, GB tenant", gb, "02071838750", "+442071838750"},
		{"UK with country code, GB tenant", gb, "442071838750", "+442071838750"},
		{"US with country code, GB tenant", gb, "12015551212", "+12015551212"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.mustCustomer(tt.keys.RW)
			resp, body := e.post(c.UUID, tt.keys.RW, `{"isPrimary":true,"phoneType":"mobile","phoneNumber":"`+tt.number+`"}`)
			if got, want := resp.StatusCode, http.StatusOK; got != want {
				t.Fatalf("status: got %d, want %d: %s", got, want, body)
			}
			if got, want := mustDecode[wirePhone](t, body).PhoneNumber, tt.number; got != want {
				t.Errorf("phoneNumber: got %q, want the digits sent %q", got, want)
			}
			n := e.native(c.UUID, tt.keys.RW)
			if len(n) != 1 {
				t.Fatalf("native: got %d phones, want 1", len(n))
			}
			if got, want := n[0].E164, tt.wantE164; got != want {
				t.Errorf("e164: got %q, want %q", got, want)
			}
			// Read back through the dialect: the same digits.
			resp, body = e.do(http.MethodGet, phonesPath(c.UUID), "", "Authorization", "Bearer "+tt.keys.RO)
			list := mustDecode[[]wirePhone](t, body)
			if resp.StatusCode != http.StatusOK || len(list) != 1 || list[0].PhoneNumber != tt.number {
				t.Errorf("list: got %d %s, want one phone %q", resp.StatusCode, body, tt.number)
			}
		})
	}
}

// --- validation: every Cross River limit ---

func TestValidation(t *testing.T) {
	e := newEnv(t)
	k := e.mustTenant(phonebook.TenantInput{})
	strict := e.mustTenant(phonebook.TenantInput{StrictNumbers: true})
	long := func(n int, s string) string { return strings.Repeat(s, n) }
	tests := []struct {
		name  string
		keys  *tenantKeys
		body  string
		codes []int
		msgs  []string
	}{
		{"isPrimary missing", nil, `{"phoneType":"work","phoneNumber":"2015551212"}`, []int{1001}, []string{"isPrimary is required"}},
		{"isPrimary null", nil, `{"isPrimary":null,"phoneType":"work","phoneNumber":"2015551212"}`, []int{1001}, []string{"isPrimary is required"}},
		{"isPrimary a string", nil, `{"isPrimary":"true","phoneType":"work","phoneNumber":"2015551212"}`, []int{1001}, []string{"isPrimary must be true or false"}},
		{"phoneType missing", nil, `{"isPrimary":true,"phoneNumber":"2015551212"}`, []int{1002}, []string{"phoneType is required"}},
		{"phoneType empty", nil, `{"isPrimary":true,"phoneType":" ","phoneNumber":"2015551212"}`, []int{1002}, []string{"phoneType is required"}},
		{"phoneType other", nil, `{"isPrimary":true,"phoneType":"other","phoneNumber":"2015551212"}`, []int{1002}, []string{"phoneType must be one of home, mobile, work, fax"}},
		{"phoneType cell", nil, `{"isPrimary":true,"phoneType":"cell","phoneNumber":"2015551212"}`, []int{1002}, []string{"phoneType must be one of"}},
		{"phoneType a number", nil, `{"isPrimary":true,"phoneType":1,"phoneNumber":"2015551212"}`, []int{1002}, []string{"phoneType must be a string"}},
		{"phoneNumber missing", nil, `{"isPrimary":true,"phoneType":"work"}`, []int{1003}, []string{"phoneNumber is required"}},
		{"phoneNumber empty", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":""}`, []int{1003}, []string{"phoneNumber is required"}},
		{"phoneNumber a number", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":2015551212}`, []int{1003}, []string{"phoneNumber must be a string"}},
		{"phoneNumber dashes", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":"201-555-1212"}`, []int{1003}, []string{"phoneNumber must hold digits only"}},
		{"phoneNumber spaces", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":"201 555 1212"}`, []int{1003}, []string{"phoneNumber must hold digits only"}},
		{"phoneNumber plus", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":"+12015551212"}`, []int{1003}, []string{"phoneNumber must hold digits only"}},
		{"phoneNumber 9 digits", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":"201555121"}`, []int{1003}, []string{"phoneNumber must have 10 to 20 digits"}},
		{"phoneNumber 21 digits", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":"` + long(21, "1") + `"}`, []int{1003}, []string{"phoneNumber must have 10 to 20 digits"}},
		{"phoneNumber 20 digits, no number", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":"12345678901234567890"}`, []int{1003}, []string{"phoneNumber is not a phone number"}},
		{"phoneNumber wrong length for +1", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":"99999999999"}`, []int{1003}, []string{"phoneNumber has the wrong length"}},
		{"phoneNumber invalid, strict tenant", &strict, `{"isPrimary":true,"phoneType":"work","phoneNumber":"2005550123"}`, []int{1003}, []string{"phoneNumber is not a valid number"}},
		{"phoneNumber invalid with country code, strict tenant", &strict, `{"isPrimary":true,"phoneType":"work","phoneNumber":"12005550123"}`, []int{1003}, []string{"phoneNumber is not a valid number"}},
		{"extension 21 characters", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212","extension":"` + long(21, "1") + `"}`, []int{1004}, []string{"extension is longer than 20 characters"}},
		{"extension not digits", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212","extension":"12a"}`, []int{1004}, []string{"extension must be digits only"}},
		{"extension a number", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212","extension":123}`, []int{1004}, []string{"extension must be a string"}},
		{"notes 256 characters", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212","notes":"` + long(256, "é") + `"}`, []int{1005}, []string{"notes must be at most 255 characters"}},
		{"notes not a string", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212","notes":["a"]}`, []int{1005}, []string{"notes must be a string"}},
		{"every required field missing", nil, `{}`, []int{1001, 1002, 1003}, []string{"isPrimary is required", "phoneType is required", "phoneNumber is required"}},
		{"null body", nil, `null`, []int{1001, 1002, 1003}, nil},
		{"extension and notes", nil, `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212","extension":"x","notes":"` + long(256, "a") + `"}`, []int{1004, 1005}, []string{"extension", "notes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := k
			if tt.keys != nil {
				keys = *tt.keys
			}
			c := e.mustCustomer(keys.RW)
			resp, body := e.post(c.UUID, keys.RW, tt.body)
			wantError(t, resp, body, http.StatusBadRequest, tt.codes, tt.msgs...)
			if got := len(e.native(c.UUID, keys.RW)); got != 0 {
				t.Errorf("phones after a refused request: got %d, want 0", got)
			}
		})
	}
}

// TestLimitsAccepted sends values at the limits, which must be stored.
func TestLimitsAccepted(t *testing.T) {
	e := newEnv(t)
	k := e.mustTenant(phonebook.TenantInput{})
	tests := []struct {
		name     string
		body     string
		wantType string
		wantExt  string
		notesLen int
	}{
		{"extension 20 digits", `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212","extension":"` + strings.Repeat("9", 20) + `"}`, "work", strings.Repeat("9", 20), 0},
		{"notes 255 characters", `{"isPrimary":true,"phoneType":"home","phoneNumber":"2015551212","notes":"` + strings.Repeat("é", 255) + `"}`, "home", "", 255},
		{"phoneType in another case", `{"isPrimary":true,"phoneType":"Mobile","phoneNumber":"2015551212"}`, "mobile", "", 0},
		{"phoneType fax", `{"isPrimary":false,"phoneType":"fax","phoneNumber":"2015551212","extension":null,"notes":null}`, "fax", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.mustCustomer(k.RW)
			resp, body := e.post(c.UUID, k.RW, tt.body)
			if got, want := resp.StatusCode, http.StatusOK; got != want {
				t.Fatalf("status: got %d, want %d: %s", got, want, body)
			}
			p := mustDecode[wirePhone](t, body)
			if p.PhoneType != tt.wantType || p.Extension != tt.wantExt || len([]rune(p.Notes)) != tt.notesLen {
				t.Errorf("got type %q ext %q notes %d runes, want %q %q %d", p.PhoneType, p.Extension, len([]rune(p.Notes)), tt.wantType, tt.wantExt, tt.notesLen)
			}
			n := e.native(c.UUID, k.RW)
			if len(n) != 1 || n[0].Type != tt.wantType || n[0].Extension != tt.wantExt || n[0].Notes != p.Notes {
				t.Errorf("native: got %+v", n)
			}
		})
	}
}

// --- customers, tenants, rules ---

func TestUnknownCustomer(t *testing.T) {
	e := newEnv(t)
	k := e.mustTenant(phonebook.TenantInput{})
	c := e.mustCustomer(k.RW)
	body := string(readFile(t, "post_phone.request.json"))
	tests := []struct{ name, customer string }{
		{"unknown uuid", "bbe09f0a-f38b-4daa-a0a2-b2ff00f4e887"},
		{"integer id of a real customer", strconv.FormatInt(c.ID, 10)},
		{"not a uuid", "not-a-customer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := e.post(tt.customer, k.RW, body)
			wantError(t, resp, b, http.StatusNotFound, []int{2001}, "Customer not found")
			resp, b = e.do(http.MethodGet, phonesPath(tt.customer), "", "Authorization", "Bearer "+k.RO)
			wantError(t, resp, b, http.StatusNotFound, []int{2001}, "Customer not found")
		})
	}
	// An upper-case uuid names the same customer.
	resp, b := e.post(strings.ToUpper(c.UUID), k.RW, body)
	if resp.StatusCode != http.StatusOK || mustDecode[wirePhone](t, b).CustomerID != c.UUID {
		t.Errorf("upper-case uuid: got %d %s, want 200 with customerId %s", resp.StatusCode, b, c.UUID)
	}
}

func TestOtherTenantsCustomer(t *testing.T) {
	e := newEnv(t)
	a := e.mustTenant(phonebook.TenantInput{})
	b := e.mustTenant(phonebook.TenantInput{})
	c := e.mustCustomer(a.RW)
	body := string(readFile(t, "post_phone.request.json"))
	resp, out := e.post(c.UUID, b.RW, body)
	wantError(t, resp, out, http.StatusNotFound, []int{2001}, "Customer not found")
	resp, out = e.do(http.MethodGet, phonesPath(c.UUID), "", "Authorization", "Bearer "+b.RO)
	wantError(t, resp, out, http.StatusNotFound, []int{2001}, "Customer not found")
	if got := len(e.native(c.UUID, a.RW)); got != 0 {
		t.Errorf("phones of tenant A's customer: got %d, want 0", got)
	}
}

func TestDuplicate(t *testing.T) {
	e := newEnv(t)
	k := e.mustTenant(phonebook.TenantInput{})
	tests := []struct {
		name, first, second string
		wantStatus          int
	}{
		{"same digits", `"2015551212"`, `"2015551212"`, http.StatusBadRequest},
		{"with and without country code", `"2015551212"`, `"12015551212"`, http.StatusBadRequest},
		{"same extension", `"2015551212","extension":"5"`, `"12015551212","extension":"5"`, http.StatusBadRequest},
		{"other extension", `"2015551212","extension":"5"`, `"2015551212","extension":"6"`, http.StatusOK},
		{"other number", `"2015551212"`, `"2015551213"`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.mustCustomer(k.RW)
			if resp, b := e.post(c.UUID, k.RW, `{"isPrimary":true,"phoneType":"work","phoneNumber":`+tt.first+`}`); resp.StatusCode != http.StatusOK {
				t.Fatalf("first: got %d %s", resp.StatusCode, b)
			}
			resp, b := e.post(c.UUID, k.RW, `{"isPrimary":false,"phoneType":"home","phoneNumber":`+tt.second+`}`)
			if tt.wantStatus == http.StatusOK {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("second: got %d %s, want 200", resp.StatusCode, b)
				}
				return
			}
			wantError(t, resp, b, tt.wantStatus, []int{2230}, "Phone number already exists")
		})
	}
}

func TestPrimaryAndLimits(t *testing.T) {
	e := newEnv(t)
	k := e.mustTenant(phonebook.TenantInput{})

	t.Run("first phone is primary even when isPrimary is false", func(t *testing.T) {
		c := e.mustCustomer(k.RW)
		_, b := e.post(c.UUID, k.RW, `{"isPrimary":false,"phoneType":"work","phoneNumber":"2015551212"}`)
		if p := mustDecode[wirePhone](t, b); !p.IsPrimary {
			t.Errorf("isPrimary: got false, want true (first phone)")
		}
		_, b = e.post(c.UUID, k.RW, `{"isPrimary":false,"phoneType":"home","phoneNumber":"2015551213"}`)
		if p := mustDecode[wirePhone](t, b); p.IsPrimary {
			t.Errorf("second phone isPrimary: got true, want false")
		}
		_, b = e.post(c.UUID, k.RW, `{"isPrimary":true,"phoneType":"fax","phoneNumber":"2015551214"}`)
		if p := mustDecode[wirePhone](t, b); !p.IsPrimary {
			t.Errorf("third phone isPrimary: got false, want true")
		}
		_, b = e.do(http.MethodGet, phonesPath(c.UUID), "", "Authorization", "Bearer "+k.RO)
		var got []bool
		for _, p := range mustDecode[[]wirePhone](t, b) {
			got = append(got, p.IsPrimary)
		}
		if want := []bool{false, false, true}; !slices.Equal(got, want) {
			t.Errorf("primary flags: got %v, want %v", got, want)
		}
	})

	t.Run("phone limit", func(t *testing.T) {
		one := e.mustTenant(phonebook.TenantInput{MaxPhonesPerCustomer: 1})
		c := e.mustCustomer(one.RW)
		if resp, b := e.post(c.UUID, one.RW, `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212"}`); resp.StatusCode != http.StatusOK {
			t.Fatalf("first: got %d %s", resp.StatusCode, b)
		}
		resp, b := e.post(c.UUID, one.RW, `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551213"}`)
		wantError(t, resp, b, http.StatusBadRequest, []int{2231}, "The customer already has 1 phones")
	})

	t.Run("number limit", func(t *testing.T) {
		one := e.mustTenant(phonebook.TenantInput{MaxCustomersPerNumber: 1})
		c1, c2 := e.mustCustomer(one.RW), e.mustCustomer(one.RW)
		if resp, b := e.post(c1.UUID, one.RW, `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212"}`); resp.StatusCode != http.StatusOK {
			t.Fatalf("first: got %d %s", resp.StatusCode, b)
		}
		resp, b := e.post(c2.UUID, one.RW, `{"isPrimary":true,"phoneType":"work","phoneNumber":"12015551212"}`)
		wantError(t, resp, b, http.StatusBadRequest, []int{2232}, "This number is already held by 1 customers")
	})
}

// --- the read-back extension ---

func TestList(t *testing.T) {
	e := newEnv(t)
	k := e.mustTenant(phonebook.TenantInput{})
	c := e.mustCustomer(k.RW)
	get := func() []wirePhone {
		t.Helper()
		resp, b := e.do(http.MethodGet, phonesPath(c.UUID), "", "Authorization", "Bearer "+k.RO)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list: got %d %s", resp.StatusCode, b)
		}
		if len(b) == 0 || b[0] != '[' {
			t.Fatalf("list: got %s, want a JSON array", b)
		}
		return mustDecode[[]wirePhone](t, b)
	}
	if got := get(); len(got) != 0 {
		t.Errorf("empty customer: got %v, want []", got)
	}

	_, b := e.post(c.UUID, k.RW, `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212","extension":"123","notes":"desk"}`)
	created := mustDecode[wirePhone](t, b)
	if got := get(); len(got) != 1 || got[0] != created {
		t.Errorf("read back: got %+v, want what POST answered %+v", got, created)
	}

	// Phones written through /v1 show as digits only.
	for _, n := range []string{"(201) 555-0199", "+44 20 7183 8750"} {
		resp, b := e.do(http.MethodPost, "/v1/customers/"+c.UUID+"/phones", `{"number":"`+n+`","type":"home"}`,
			"Authorization", "Bearer "+k.RW, "Content-Type", "application/json")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("native add %q: got %d %s", n, resp.StatusCode, b)
		}
	}
	got := get()
	var numbers []string
	for _, p := range got {
		numbers = append(numbers, p.PhoneNumber)
		if p.CustomerID != c.UUID || p.PartnerID != k.T.UUID || p.Status != "active" {
			t.Errorf("phone %+v: want customerId %s, partnerId %s, status active", p, c.UUID, k.T.UUID)
		}
	}
	if want := []string{"2015551212", "2015550199", "442071838750"}; !slices.Equal(numbers, want) {
		t.Errorf("phoneNumbers: got %v, want %v", numbers, want)
	}
}

// --- credentials ---

func TestAuth(t *testing.T) {
	e := newEnv(t)
	k := e.mustTenant(phonebook.TenantInput{})
	revoked, secret, err := e.svc.CreateAPIKey(e.ctx, phonebook.KeyInput{TenantSlug: k.T.Slug, Name: "old", Scopes: []string{phonebook.ScopeCustomersWrite}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RevokeAPIKey(e.ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	c := e.mustCustomer(k.RW)
	body := string(readFile(t, "post_phone.request.json"))
	tests := []struct {
		name, method string
		header       []string
		status       int
		code         int
	}{
		{"no credential", http.MethodPost, nil, http.StatusUnauthorized, 3001},
		{"wrong key", http.MethodPost, []string{"Authorization", "Bearer pb_not-a-key-at-all"}, http.StatusUnauthorized, 3001},
		{"empty bearer", http.MethodPost, []string{"Authorization", "Bearer "}, http.StatusUnauthorized, 3001},
		{"key without scheme", http.MethodPost, []string{"Authorization", k.RW}, http.StatusUnauthorized, 3001},
		{"basic scheme", http.MethodPost, []string{"Authorization", "Basic " + k.RW}, http.StatusUnauthorized, 3001},
		{"native X-API-Key header", http.MethodPost, []string{"X-API-Key", k.RW}, http.StatusUnauthorized, 3001},
		{"revoked key", http.MethodPost, []string{"Authorization", "Bearer " + secret}, http.StatusUnauthorized, 3001},
		{"read-only key on POST", http.MethodPost, []string{"Authorization", "Bearer " + k.RO}, http.StatusForbidden, 3002},
		{"write-only key on GET", http.MethodGet, []string{"Authorization", "Bearer " + k.WO}, http.StatusForbidden, 3002},
		{"no credential on GET", http.MethodGet, nil, http.StatusUnauthorized, 3001},
		{"read-only key on GET", http.MethodGet, []string{"Authorization", "Bearer " + k.RO}, http.StatusOK, 0},
		{"lower-case scheme", http.MethodPost, []string{"Authorization", "bearer " + k.WO}, http.StatusOK, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ""
			if tt.method == http.MethodPost {
				b = body
			}
			resp, out := e.do(tt.method, phonesPath(c.UUID), b, tt.header...)
			if tt.code == 0 {
				if resp.StatusCode != tt.status {
					t.Fatalf("status: got %d, want %d: %s", resp.StatusCode, tt.status, out)
				}
				return
			}
			wantError(t, resp, out, tt.status, []int{tt.code})
			if tt.status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
	if got, want := len(e.native(c.UUID, k.RW)), 1; got != want {
		t.Errorf("phones: got %d, want %d (only the lower-case scheme request)", got, want)
	}
}

// --- bodies ---

func TestMalformedBody(t *testing.T) {
	e := newEnv(t)
	k := e.mustTenant(phonebook.TenantInput{})
	c := e.mustCustomer(k.RW)
	for _, body := range []string{
		"", "   ", "{", `{"isPrimary":true,`, "[]", "[1]", `"x"`, "42", "not json",
		`{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212"} {}`,
		`{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212"}xyz`,
		"isPrimary=true&phoneType=work&phoneNumber=2015551212",
	} {
		t.Run(body, func(t *testing.T) {
			resp, b := e.post(c.UUID, k.RW, body)
			wantError(t, resp, b, http.StatusBadRequest, []int{1000})
		})
	}
	if got := len(e.native(c.UUID, k.RW)); got != 0 {
		t.Errorf("phones: got %d, want 0", got)
	}
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t)
	k := e.mustTenant(phonebook.TenantInput{})
	c := e.mustCustomer(k.RW)
	body := `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212","notes":"` + strings.Repeat("a", 1<<20) + `"}`
	resp, b := e.post(c.UUID, k.RW, body)
	wantError(t, resp, b, http.StatusRequestEntityTooLarge, []int{1000}, "larger than")
}

// --- server failures, and what is logged ---

func TestStoreDown(t *testing.T) {
	e := newEnv(t)
	k := e.mustTenant(phonebook.TenantInput{})
	c := e.mustCustomer(k.RW)
	if resp, b := e.post(c.UUID, k.RW, `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551212","notes":"secret-note"}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("post: %d %s", resp.StatusCode, b)
	}
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		resp, b := e.do(method, phonesPath(c.UUID), `{"isPrimary":true,"phoneType":"work","phoneNumber":"2015551213"}`, "Authorization", "Bearer "+k.RW)
		if resp.StatusCode != http.StatusInternalServerError && resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s: status %d, want 500 or 503: %s", method, resp.StatusCode, b)
		}
		eb := mustDecode[wireErrors](t, b)
		want := map[int]struct {
			code int
			msg  string
		}{500: {9999, "Internal error"}, 503: {9998, "Service temporarily unavailable, retry later"}}[resp.StatusCode]
		if len(eb.Errors) != 1 || eb.Errors[0].Code != want.code || eb.Errors[0].Message != want.msg {
			t.Errorf("%s: got %s, want code %d %q", method, b, want.code, want.msg)
		}
	}
	e.ts.Close() // wait for every log line
	logs := e.logs.String()
	for _, secret := range []string{"2015551212", "2015551213", k.RW, "secret-note"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold %q:\n%s", secret, logs)
		}
	}
}

// TestErrorTable checks the one code table: every domain code answers a
// Cross River number in its range and an HTTP status.
func TestErrorTable(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		codes  []int
		msgs   []string
	}{
		{"validation isPrimary", phonebook.Errorf(phonebook.ECodeValidation, "is_primary", "is_primary must be true or false"), 400, []int{1001}, []string{"isPrimary must be true or false"}},
		{"validation number", phonebook.Errorf(phonebook.ECodeValidation, "number", "number must hold digits only"), 400, []int{1003}, []string{"phoneNumber must hold digits only"}},
		{"invalid number", phonebook.Errorf(phonebook.ECodeInvalidNumber, "number", "number is not a phone number"), 400, []int{1003}, []string{"phoneNumber is not a phone number"}},
		{"validation other field", phonebook.Errorf(phonebook.ECodeValidation, "label", "label is too long"), 400, []int{1999}, []string{"label is too long"}},
		{"several", phonebook.ValidationErrors{
			phonebook.Errorf(phonebook.ECodeValidation, "extension", "extension must be digits only"),
			phonebook.Errorf(phonebook.ECodeValidation, "notes", "notes must be at most 255 characters"),
		}, 400, []int{1004, 1005}, []string{"extension must be digits only", "notes must be at most 255 characters"}},
		{"not found", phonebook.Errorf(phonebook.ECodeNotFound, "id", "customer not found"), 404, []int{2001}, []string{"Customer not found"}},
		{"duplicate", phonebook.Errorf(phonebook.ECodePhoneDuplicate, "number", "the customer already has this phone number"), 400, []int{2230}, []string{"Phone number already exists"}},
		{"phone limit", phonebook.Errorf(phonebook.ECodePhoneLimit, "number", "too many"), 400, []int{2231}, []string{"Too many"}},
		{"number limit", phonebook.Errorf(phonebook.ECodeNumberLimit, "number", "too many"), 400, []int{2232}, []string{"Too many"}},
		{"type unknown", phonebook.Errorf(phonebook.ECodeTypeUnknown, "type", "unknown phone type"), 400, []int{2233}, []string{"phoneType is not a phone type of this partner"}},
		{"precondition", phonebook.Errorf(phonebook.ECodePrecondition, "", "changed"), 412, []int{2234}, nil},
		{"conflict", phonebook.Errorf(phonebook.ECodeConflict, "", "taken"), 409, []int{2235}, nil},
		{"type in use", phonebook.Errorf(phonebook.ECodeTypeInUse, "", "in use"), 409, []int{2236}, nil},
		{"idempotency", phonebook.Errorf(phonebook.ECodeIdempotencyReused, "", "reused"), 422, []int{2237}, nil},
		{"unauthorized", phonebook.Errorf(phonebook.ECodeUnauthorized, "", "missing or invalid API key"), 401, []int{3001}, []string{"Missing or invalid API key"}},
		{"forbidden", phonebook.Errorf(phonebook.ECodeForbidden, "", "this key lacks the customers:write scope"), 403, []int{3002}, []string{"This key lacks the customers:write scope"}},
		{"unavailable", &phonebook.Error{Code: phonebook.ECodeUnavailable, Message: "store unavailable", Err: errors.New("dial tcp 10.0.0.1")}, 503, []int{9998}, []string{"Service temporarily unavailable, retry later"}},
		{"internal", &phonebook.Error{Code: phonebook.ECodeInternal, Message: "db exploded at row 7", Err: errors.New("boom")}, 500, []int{9999}, []string{"Internal error"}},
		{"plain error", errors.New("boom"), 500, []int{9999}, []string{"Internal error"}},
		{"unknown code", phonebook.Errorf("something_new", "", "detail"), 500, []int{9999}, []string{"Internal error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, codes, msgs := crossriver.EncodeError(tt.err)
			if status != tt.status || !slices.Equal(codes, tt.codes) {
				t.Errorf("got %d %v, want %d %v", status, codes, tt.status, tt.codes)
			}
			for i, m := range tt.msgs {
				if i >= len(msgs) || msgs[i] != m {
					t.Errorf("message %d: got %v, want %q", i, msgs, m)
				}
			}
		})
	}
}
