package main

// Tenant isolation, exhaustively: every route the router serves (all of /v1
// and every dialect, read from Server.Routes, so a new route is walked
// without editing this file) is called with tenant B's keys against tenant
// A's ids, and must answer the route's own "not found" and change nothing
// of A. A path parameter this file has no value for (isoIDs.param), a path
// prefix it does not know (families), or a route that reads a body or has
// no ids and no entry in specs fails the test: give the new route a
// mapping. GET and DELETE routes with ids need none.
//
// Keys: every route refuses a missing, malformed, unknown or revoked key
// with 401 in the route's own shape, and a key lacking the route's scope
// with 403 (or the dialect's documented equivalent); a key holding just
// the route's scope is let in.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/secretbox"
	"github.com/phonebook/phonebook/store/sqlite"
	"github.com/phonebook/phonebook/web/console"
)

// isoServerKey is the server key signing secrets are sealed under.
const isoServerKey = "test-server-key-0123456789"

// isoUnknownKey is a well-formed key no tenant holds.
const isoUnknownKey = "iso-unknown-key-0123456789abcdef"

// isoTenant is one tenant of the test, its keys (secrets) and its data.
type isoTenant struct {
	t   *phonebook.Tenant
	ctx context.Context // acts as the tenant (an operator: every scope)
	tag string

	admin, read, write, revoked, signed, signing string

	typ           string // the tenant's own phone type
	cust          *phonebook.Customer
	phones        []*phonebook.Phone
	idemCust      *phonebook.Customer // made through POST /v1/customers with an Idempotency-Key
	idemKey       string
	idemBody      string
	webhook       *phonebook.Webhook
	webhookSecret string
	deliveryID    int64   // one of the webhook's deliveries
	deliveryIDs   []int64 // all of them
	consentSource string
}

// isoEnv is the whole HTTP API over a real SQLite file, with tenants A and
// B.
type isoEnv struct {
	path string
	st   *sqlite.Store
	svc  *phonebook.Service
	srv  *httpapi.Server
	db   *sql.DB // the store's file, read-only
	a, b *isoTenant
	seq  int
	// sent lists every request served, for the log checks.
	sent    []isoSent
	routeOf func(r *http.Request) string
}

// isoSent is one request served and its answer.
type isoSent struct {
	reqID, method, route, what string
	status                     int
}

// isoResp is one answer.
type isoResp struct {
	status int
	header http.Header
	body   []byte
}

func newIsoEnv(t *testing.T, log *slog.Logger) *isoEnv {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pb.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc := phonebook.NewService(st, nil)
	box, err := secretbox.New(isoServerKey)
	if err != nil {
		t.Fatalf("secretbox.New: %v", err)
	}
	svc.SetSealer(box)
	srv := httpapi.NewServer(log, svc, httpapi.Options{Dialects: dialects(log, svc, console.Options{})})
	e := &isoEnv{path: path, st: st, svc: svc, srv: srv}
	e.a = e.newTenant(t, "tenant-a", "a", "+1 504 555 0123", "(504) 555-0199")
	e.b = e.newTenant(t, "tenant-b", "b", "+1 212 555 0142", "(212) 555-0143")

	e.db, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		t.Fatalf("open the store's file for reading: %v", err)
	}
	t.Cleanup(func() { _ = e.db.Close() })
	return e
}

// newTenant makes a tenant with every kind of key, its own phone type, a
// customer with an external id and two phones, a webhook, a consent
// record, and a customer made through the API with an Idempotency-Key.
func (e *isoEnv) newTenant(t *testing.T, slug, tag, number1, number2 string) *isoTenant {
	t.Helper()
	ctx := context.Background()
	svc := e.svc
	tn, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: slug})
	if err != nil {
		t.Fatalf("create tenant %s: %v", slug, err)
	}
	x := &isoTenant{
		t: tn, tag: tag,
		ctx:     phonebook.NewContextWithAuth(ctx, &phonebook.Auth{Tenant: tn, Source: "test"}),
		admin:   "iso-" + slug + "-admin-key-0123456789",
		read:    "iso-" + slug + "-read-key-0123456789",
		write:   "iso-" + slug + "-write-key-0123456789",
		revoked: "iso-" + slug + "-revoked-key-0123456789",
		signed:  "iso-" + slug + "-signed-key-0123456789",
		signing: "iso-" + slug + "-signing-secret-0123456789",
		typ:     tag + "-private-type",
	}
	for _, k := range []phonebook.KeyInput{
		{Name: "admin", Scopes: []string{phonebook.ScopeAdmin}, Secret: x.admin},
		{Name: "read", Scopes: []string{phonebook.ScopeCustomersRead}, Secret: x.read},
		{Name: "write", Scopes: []string{phonebook.ScopeCustomersWrite}, Secret: x.write},
		{Name: "revoked", Scopes: []string{phonebook.ScopeAdmin}, Secret: x.revoked},
		{Name: "signed", Scopes: []string{phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite}, Secret: x.signed, SigningSecret: x.signing},
	} {
		k.TenantSlug = slug
		key, _, err := svc.CreateAPIKey(ctx, k)
		if err != nil {
			t.Fatalf("create key %s/%s: %v", slug, k.Name, err)
		}
		if k.Name == "revoked" {
			if err := svc.RevokeAPIKey(ctx, key.ID); err != nil {
				t.Fatalf("revoke key %s/%s: %v", slug, k.Name, err)
			}
		}
	}
	if _, err := svc.CreatePhoneType(x.ctx, x.typ); err != nil {
		t.Fatalf("create phone type %s: %v", x.typ, err)
	}
	x.cust, err = svc.CreateCustomer(x.ctx, phonebook.CustomerInput{
		ExternalID: strings.ToUpper(tag) + "-EXT-0001", Name: "Isolation Customer " + strings.ToUpper(tag),
	})
	if err != nil {
		t.Fatalf("create customer of %s: %v", slug, err)
	}
	for i, in := range []phonebook.PhoneInput{
		{Number: number1, Type: x.typ, Label: tag + "-label", Notes: tag + "-notes-first"},
		{Number: number2, Type: "mobile", Extension: "12"},
	} {
		p, err := svc.AddPhone(x.ctx, phonebook.CustomerRef{ID: x.cust.ID}, in)
		if err != nil {
			t.Fatalf("add phone %d of %s: %v", i, slug, err)
		}
		x.phones = append(x.phones, p)
	}
	x.webhookSecret = "iso-" + slug + "-webhook-secret-0123456789"
	x.webhook, _, err = svc.CreateWebhook(x.ctx, phonebook.WebhookInput{
		URL: "https://" + tag + "-hooks.example/phonebook", Secret: x.webhookSecret, Description: tag + "-webhook-description",
	})
	if err != nil {
		t.Fatalf("create webhook of %s: %v", slug, err)
	}
	x.consentSource = tag + "-consent-source"
	if _, err := svc.RecordConsent(x.ctx, number1, "", phonebook.ConsentInput{Type: phonebook.ConsentWritten, Source: x.consentSource}); err != nil {
		t.Fatalf("record consent of %s: %v", slug, err)
	}

	// A customer made through the API under an Idempotency-Key that the
	// other tenant will reuse.
	x.idemKey = "iso-idempotency-key-of-" + slug
	x.idemBody = `{"name":"Idempotent ` + strings.ToUpper(tag) + `"}`
	r := e.send(t, isoCall{method: http.MethodPost, path: "/v1/customers", body: x.idemBody, ctype: "application/json",
		header: http.Header{"Authorization": {"Bearer " + x.admin}, "Idempotency-Key": {x.idemKey}}})
	if r.status != http.StatusCreated {
		t.Fatalf("POST /v1/customers for %s: %d %s", slug, r.status, isoTrunc(r.body))
	}
	x.idemCust = &phonebook.Customer{}
	if err := json.Unmarshal(r.body, x.idemCust); err != nil {
		t.Fatalf("POST /v1/customers for %s: %v", slug, err)
	}
	ds, err := svc.Deliveries(x.ctx, x.webhook.ID, 10)
	if err != nil || len(ds) == 0 {
		t.Fatalf("deliveries of the webhook of %s: %v (%d)", slug, err, len(ds))
	}
	x.deliveryID = ds[0].ID
	for _, d := range ds {
		x.deliveryIDs = append(x.deliveryIDs, d.ID)
	}
	return x
}

// isoCall is one request.
type isoCall struct {
	method, path, query, body, ctype string
	header                           http.Header
	// cred, when set, attaches the credential (it may sign the request).
	cred func(r *http.Request, body string)
}

func (c isoCall) String() string {
	s := c.method + " " + c.path
	if c.query != "" {
		s += "?" + c.query
	}
	return s
}

// send serves c through the router and returns the answer.
func (e *isoEnv) send(t *testing.T, c isoCall) *isoResp {
	t.Helper()
	target := c.path
	if c.query != "" {
		target += "?" + c.query
	}
	req := httptest.NewRequest(c.method, target, strings.NewReader(c.body))
	if c.body == "" {
		req.ContentLength = 0
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	}
	for k, vs := range c.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.cred != nil {
		c.cred(req, c.body)
	}
	e.seq++
	if req.Header.Get("X-Request-ID") == "" {
		req.Header.Set("X-Request-ID", "iso-"+strconv.Itoa(e.seq))
	}
	if e.routeOf == nil {
		e.routeOf = isoRouter(e.srv.Routes())
	}
	route := e.routeOf(req)
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	r := &isoResp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	e.sent = append(e.sent, isoSent{reqID: r.header.Get("X-Request-ID"), method: c.method, route: route, what: c.String(), status: r.status})
	return r
}

// isoRouter returns the route pattern the server's router picks for a
// request (as its logs name it): a mux of the same patterns, with the
// method-less fallbacks the server adds for its 405 and 404 answers.
func isoRouter(routes []httpapi.Route) func(r *http.Request) string {
	mux := http.NewServeMux()
	seen := map[string]bool{}
	for _, rt := range routes {
		mux.Handle(rt.Method+" "+rt.Pattern, http.NotFoundHandler())
	}
	for _, rt := range routes {
		if !seen[rt.Pattern] {
			seen[rt.Pattern] = true
			mux.Handle(rt.Pattern, http.NotFoundHandler())
		}
	}
	if !seen["/"] {
		mux.Handle("/", http.NotFoundHandler())
	}
	return func(r *http.Request) string {
		_, p := mux.Handler(r)
		if i := strings.IndexByte(p, ' '); i >= 0 {
			p = p[i+1:]
		}
		return p
	}
}

// --- families: what a path prefix says about its routes ---

// isoCred attaches a key to a request the way a family's clients do.
type isoCred struct {
	name string
	set  func(r *http.Request, secret string)
}

// isoFamily is one API (the native one or a dialect), known by its path
// prefix: how its keys are sent, how it answers not found, 401 and 403.
type isoFamily struct {
	name   string
	prefix string
	creds  []isoCred // the first is the main one
	// header is set on every request (RamBase: ask for JSON errors).
	header http.Header
	// wrongHeader sends a valid key where this family does not read it.
	wrongHeader func(r *http.Request, secret string)
	// malformed are credentials that are no key at all.
	malformed []isoCred
	// notFound judges the answer to a call naming ids that are not the
	// caller's; want says what is missing: customer, phone, client
	// (Relay's client_id) or number (Relay's remove_phone).
	notFound     func(r *isoResp, want string, v isoIDs) error
	unauthorized func(r *isoResp) error
	forbidden    func(r *isoResp) error
}

func isoBearer(r *http.Request, s string) { r.Header.Set("Authorization", "Bearer "+s) }

func isoHeader(name, prefix string) func(r *http.Request, s string) {
	return func(r *http.Request, s string) { r.Header.Set(name, prefix+s) }
}

func isoAccessToken(r *http.Request, s string) {
	q := "$access_token=" + strings.ReplaceAll(s, "&", "%26")
	if r.URL.RawQuery != "" {
		q = r.URL.RawQuery + "&" + q
	}
	r.URL.RawQuery = q
	r.RequestURI = r.URL.RequestURI()
}

// isoMalformedBearer are Authorization values that carry no key.
func isoMalformedBearer(valid string) []isoCred {
	return []isoCred{
		{"bearer-nothing", func(r *http.Request, _ string) { r.Header.Set("Authorization", "Bearer") }},
		{"bearer-space", func(r *http.Request, _ string) { r.Header.Set("Authorization", "Bearer    ") }},
		{"basic", func(r *http.Request, _ string) { r.Header.Set("Authorization", "Basic abc") }},
		{"basic-valid-key", func(r *http.Request, _ string) {
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("user:"+valid)))
		}},
		{"token-scheme-valid-key", func(r *http.Request, _ string) { r.Header.Set("Authorization", "Token "+valid) }},
		{"no-scheme-valid-key", func(r *http.Request, _ string) { r.Header.Set("Authorization", valid) }},
		{"garbage", func(r *http.Request, _ string) { r.Header.Set("Authorization", "Bearer \x00\xff\xfe\x01garbage\x7f") }},
		{"garbage-raw", func(r *http.Request, _ string) { r.Header.Set("Authorization", "\xff\xfe\xfd") }},
		{"oversized", func(r *http.Request, _ string) { r.Header.Set("Authorization", "Bearer "+strings.Repeat("k", 4000)) }},
		{"valid-key-with-junk", func(r *http.Request, _ string) { r.Header.Set("Authorization", "Bearer "+valid+" junk") }},
	}
}

// isoMalformedHeader are values of a bare key header that carry no key.
func isoMalformedHeader(name, valid string) []isoCred {
	return []isoCred{
		{"blank", func(r *http.Request, _ string) { r.Header.Set(name, "   ") }},
		{"bearer-valid-key", func(r *http.Request, _ string) { r.Header.Set(name, "Bearer "+valid) }},
		{"basic", func(r *http.Request, _ string) { r.Header.Set(name, "Basic abc") }},
		{"garbage", func(r *http.Request, _ string) { r.Header.Set(name, "\x00\xff\xfe\x01garbage\x7f") }},
		{"oversized", func(r *http.Request, _ string) { r.Header.Set(name, strings.Repeat("k", 4000)) }},
		{"valid-key-with-junk", func(r *http.Request, _ string) { r.Header.Set(name, valid+" junk") }},
	}
}

func (e *isoEnv) families() []*isoFamily {
	valid := e.b.admin
	v1 := &isoFamily{
		name: "v1", prefix: "/v1/",
		creds:     []isoCred{{"bearer", isoBearer}, {"x-api-key", isoHeader("X-API-Key", "")}},
		malformed: append(isoMalformedBearer(valid), isoMalformedHeader("X-API-Key", valid)...),
		notFound: func(r *isoResp, _ string, _ isoIDs) error {
			return isoProblem(r, http.StatusNotFound, phonebook.ECodeNotFound)
		},
		unauthorized: func(r *isoResp) error {
			if err := isoProblem(r, http.StatusUnauthorized, phonebook.ECodeUnauthorized); err != nil {
				return err
			}
			return isoWWWAuthenticate(r)
		},
		forbidden: func(r *isoResp) error { return isoProblem(r, http.StatusForbidden, phonebook.ECodeForbidden) },
	}
	crossriver := &isoFamily{
		name: "crossriver", prefix: "/core/",
		creds:       []isoCred{{"bearer", isoBearer}},
		wrongHeader: isoHeader("X-API-Key", ""),
		malformed:   isoMalformedBearer(valid),
		notFound: func(r *isoResp, _ string, _ isoIDs) error {
			return isoCrossRiver(r, http.StatusNotFound, 2001)
		},
		unauthorized: func(r *isoResp) error {
			if err := isoCrossRiver(r, http.StatusUnauthorized, 3001); err != nil {
				return err
			}
			return isoWWWAuthenticate(r)
		},
		forbidden: func(r *isoResp) error { return isoCrossRiver(r, http.StatusForbidden, 3002) },
	}
	tevo := &isoFamily{
		name: "ticketevolution", prefix: "/v9/",
		creds:       []isoCred{{"x-token", isoHeader("X-Token", "")}},
		wrongHeader: isoBearer,
		malformed:   isoMalformedHeader("X-Token", valid),
		notFound: func(r *isoResp, want string, _ isoIDs) error {
			msg := "Client not found"
			if want == "phone" {
				msg = "Phone number not found"
			}
			return isoV9(r, http.StatusNotFound, msg)
		},
		unauthorized: func(r *isoResp) error { return isoV9(r, http.StatusUnauthorized, "") },
		forbidden:    func(r *isoResp) error { return isoV9(r, http.StatusForbidden, "") },
	}
	rambase := &isoFamily{
		name: "rambase", prefix: "/collaboration/",
		creds:       []isoCred{{"bearer", isoBearer}, {"$access_token", isoAccessToken}},
		header:      http.Header{"Accept": {"application/json"}},
		wrongHeader: isoHeader("X-API-Key", ""),
		malformed: append(isoMalformedBearer(valid),
			isoCred{"access-token-wins", func(r *http.Request, _ string) {
				// A given $access_token wins over a good header.
				isoBearer(r, valid)
				isoAccessToken(r, isoUnknownKey)
			}}),
		notFound: func(r *isoResp, want string, _ isoIDs) error {
			code := 109000
			if want == "phone" {
				code = 109001
			}
			return isoRamBase(r, http.StatusNotFound, code)
		},
		unauthorized: func(r *isoResp) error {
			if err := isoRamBase(r, http.StatusUnauthorized, 109030); err != nil {
				return err
			}
			return isoWWWAuthenticate(r)
		},
		forbidden: func(r *isoResp) error { return isoRamBase(r, http.StatusForbidden, 109031) },
	}
	relay := &isoFamily{
		name: "relay", prefix: "/platform/",
		creds:       []isoCred{{"xx-relay-api-key", isoHeader("xx-relay-api-key", "")}},
		wrongHeader: isoBearer,
		malformed:   isoMalformedHeader("xx-relay-api-key", valid),
		notFound: func(r *isoResp, want string, v isoIDs) error {
			var msg string
			switch want {
			case "client":
				msg = "Client not found"
			case "number":
				msg = "Phone number " + v.digits + " not found for customer with ccid " + v.ext
			default:
				msg = "Customer with ccid " + v.ext + " not found"
			}
			return isoRelay(r, http.StatusNotFound, msg)
		},
		unauthorized: func(r *isoResp) error {
			return isoRelay(r, http.StatusUnauthorized, "Unauthorized: missing or invalid xx-relay-api-key")
		},
		// Relay documents no 403: a key lacking the scope is a 401.
		forbidden: func(r *isoResp) error { return isoRelay(r, http.StatusUnauthorized, "API key lacks permission") },
	}
	wasp := &isoFamily{
		name: "wasp", prefix: "/public-api/",
		creds:       []isoCred{{"bearer", isoBearer}},
		wrongHeader: isoHeader("X-API-Key", ""),
		malformed:   isoMalformedBearer(valid),
		notFound:    func(r *isoResp, _ string, _ isoIDs) error { return isoWaspRecords(r, 1, http.StatusNotFound, -1004) },
		unauthorized: func(r *isoResp) error {
			if err := isoWaspRefused(r, http.StatusUnauthorized, -3001); err != nil {
				return err
			}
			return isoWWWAuthenticate(r)
		},
		forbidden: func(r *isoResp) error { return isoWaspRefused(r, http.StatusForbidden, -3002) },
	}
	return []*isoFamily{v1, crossriver, tevo, rambase, relay, wasp}
}

// familyOf returns the family of a route pattern; an unknown prefix fails
// the test (a new API needs its credential and error shape here).
func (e *isoEnv) familyOf(t *testing.T, fams []*isoFamily, pattern string) *isoFamily {
	t.Helper()
	for _, f := range fams {
		if strings.HasPrefix(pattern, f.prefix) {
			return f
		}
	}
	t.Errorf("route %s: no family for its path prefix: add its credential header and error shapes to families()", pattern)
	return nil
}

// --- answer shapes ---

func isoProblem(r *isoResp, status int, code string) error {
	if r.status != status {
		return fmt.Errorf("status %d, want %d: %s", r.status, status, isoTrunc(r.body))
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		return fmt.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p struct {
		Code   string `json:"code"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		return fmt.Errorf("problem body: %v: %s", err, isoTrunc(r.body))
	}
	if p.Code != code || p.Status != status {
		return fmt.Errorf("problem code %q status %d, want %q %d: %s", p.Code, p.Status, code, status, isoTrunc(r.body))
	}
	return nil
}

func isoWWWAuthenticate(r *isoResp) error {
	if r.header.Get("WWW-Authenticate") == "" {
		return fmt.Errorf("401 without WWW-Authenticate")
	}
	return nil
}

func isoCrossRiver(r *isoResp, status, code int) error {
	if r.status != status {
		return fmt.Errorf("status %d, want %d: %s", r.status, status, isoTrunc(r.body))
	}
	var b struct {
		Errors []struct {
			Code    int    `json:"Code"`
			Message string `json:"Message"`
		} `json:"Errors"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil || len(b.Errors) == 0 {
		return fmt.Errorf("not a Cross River error (%v): %s", err, isoTrunc(r.body))
	}
	if b.Errors[0].Code != code || b.Errors[0].Message == "" {
		return fmt.Errorf("Cross River code %d, want %d: %s", b.Errors[0].Code, code, isoTrunc(r.body))
	}
	return nil
}

func isoV9(r *isoResp, status int, msg string) error {
	if r.status != status {
		return fmt.Errorf("status %d, want %d: %s", r.status, status, isoTrunc(r.body))
	}
	var b struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil || b.Error == "" {
		return fmt.Errorf("not a v9 error (%v): %s", err, isoTrunc(r.body))
	}
	if msg != "" && b.Error != msg {
		return fmt.Errorf("v9 error %q, want %q", b.Error, msg)
	}
	return nil
}

func isoRamBase(r *isoResp, status, code int) error {
	if r.status != status {
		return fmt.Errorf("status %d, want %d: %s", r.status, status, isoTrunc(r.body))
	}
	// The error object is the whole body, as RamBase's .NET SDK reads it.
	var b struct {
		Code           int    `json:"Code"`
		Message        string `json:"Message"`
		HttpStatusCode int    `json:"HttpStatusCode"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		return fmt.Errorf("not a RamBase JSON error (%v): %s", err, isoTrunc(r.body))
	}
	if b.Code != code || b.HttpStatusCode != status || b.Message == "" {
		return fmt.Errorf("RamBase error %d (HttpStatusCode %d), want %d (%d): %s", b.Code, b.HttpStatusCode, code, status, isoTrunc(r.body))
	}
	return nil
}

func isoRelay(r *isoResp, status int, msg string) error {
	if r.status != status {
		return fmt.Errorf("status %d, want %d: %s", r.status, status, isoTrunc(r.body))
	}
	var b map[string]any
	if err := json.Unmarshal(r.body, &b); err != nil {
		return fmt.Errorf("not a Relay answer (%v): %s", err, isoTrunc(r.body))
	}
	if len(b) != 1 || b["message"] != msg {
		return fmt.Errorf("Relay answer %s, want {\"message\":%q}", isoTrunc(r.body), msg)
	}
	return nil
}

// isoWasp is Wasp's WaspResultOfResults.
type isoWasp struct {
	Data *struct {
		ResultList         []isoWtResult `json:"ResultList"`
		SuccessfullResults int           `json:"SuccessfullResults"`
		TotalResults       int           `json:"TotalResults"`
		ErrorCount         int           `json:"ErrorCount"`
	} `json:"Data"`
	Messages     []isoWtResult `json:"Messages"`
	HasError     bool          `json:"HasError"`
	HasHttpError bool          `json:"HasHttpError"`
}

type isoWtResult struct {
	ResultCode     int    `json:"ResultCode"`
	Message        string `json:"Message"`
	HttpStatusCode int    `json:"HttpStatusCode"`
	FieldName      string `json:"FieldName"`
}

// isoWaspRecords wants a read request (200) whose n records all failed
// with httpStatus and resultCode.
func isoWaspRecords(r *isoResp, n, httpStatus, resultCode int) error {
	if r.status != http.StatusOK {
		return fmt.Errorf("status %d, want 200 (per-record results): %s", r.status, isoTrunc(r.body))
	}
	var b isoWasp
	if err := json.Unmarshal(r.body, &b); err != nil || b.Data == nil {
		return fmt.Errorf("not a Wasp result with Data (%v): %s", err, isoTrunc(r.body))
	}
	if !b.HasError || b.HasHttpError || b.Data.ErrorCount != n || b.Data.SuccessfullResults != 0 || b.Data.TotalResults != n || len(b.Data.ResultList) != n {
		return fmt.Errorf("Wasp result: want %d failed records and no success: %s", n, isoTrunc(r.body))
	}
	for i, rs := range b.Data.ResultList {
		if rs.HttpStatusCode != httpStatus || rs.ResultCode != resultCode {
			return fmt.Errorf("Wasp record %d: HttpStatusCode %d ResultCode %d, want %d %d: %s", i, rs.HttpStatusCode, rs.ResultCode, httpStatus, resultCode, isoTrunc(r.body))
		}
	}
	return nil
}

// isoWaspRefused wants a refused request: the envelope without Data.
func isoWaspRefused(r *isoResp, status, resultCode int) error {
	if r.status != status {
		return fmt.Errorf("status %d, want %d: %s", r.status, status, isoTrunc(r.body))
	}
	var b isoWasp
	if err := json.Unmarshal(r.body, &b); err != nil {
		return fmt.Errorf("not a Wasp result (%v): %s", err, isoTrunc(r.body))
	}
	if b.Data != nil || !b.HasError || !b.HasHttpError || len(b.Messages) != 1 ||
		b.Messages[0].ResultCode != resultCode || b.Messages[0].HttpStatusCode != status {
		return fmt.Errorf("Wasp refusal: want ResultCode %d HttpStatusCode %d: %s", resultCode, status, isoTrunc(r.body))
	}
	return nil
}

// --- ids and path parameters ---

// isoIDs are the values path parameters are filled with.
type isoIDs struct {
	custID   string // integer id: {contactId}, v9 {client_id}
	custRef  string // /v1 {id}: the integer id or the uuid
	custUUID string // Cross River {customerId}
	phoneID  string // integer phone id: v9 {id}
	phoneRef string // /v1, RamBase {phoneId}
	slug     string // Relay {client_id}
	ext      string // Relay {ccid}, Wasp CustomerNumber
	digits   string // Relay {phone_number}, {addr}
	number   string // /v1 {number}: E.164
	typ      string // /v1 {name}
	webhook  string // /v1/webhooks/{id}
	delivery string // {deliveryId}
}

func (x *isoTenant) ids() isoIDs {
	id := strconv.FormatInt(x.cust.ID, 10)
	pid := strconv.FormatInt(x.phones[0].ID, 10)
	return isoIDs{
		custID: id, custRef: id, custUUID: x.cust.UUID,
		phoneID: pid, phoneRef: pid,
		slug: x.t.Slug, ext: x.cust.ExternalID, digits: x.phones[0].NationalNumber, number: x.phones[0].E164, typ: x.typ,
		webhook: strconv.FormatInt(x.webhook.ID, 10), delivery: strconv.FormatInt(x.deliveryID, 10),
	}
}

// param is the value of path parameter name of route pattern of family
// fam.
func (v isoIDs) param(fam, pattern, name string) (string, bool) {
	switch name {
	case "id":
		switch {
		case fam == "ticketevolution": // v9: .../phone_numbers/{id} is the phone
			return v.phoneID, true
		case strings.HasPrefix(pattern, "/v1/webhooks/"):
			return v.webhook, true
		case strings.HasPrefix(pattern, "/v1/customers/"):
			return v.custRef, true
		}
	case "deliveryId":
		return v.delivery, true
	case "number":
		return v.number, true
	case "addr":
		return v.digits, true
	case "phoneId":
		return v.phoneRef, true
	case "customerId":
		return v.custUUID, true
	case "contactId":
		return v.custID, true
	case "client_id":
		switch fam {
		case "ticketevolution":
			return v.custID, true
		case "relay":
			return v.slug, true
		}
	case "ccid":
		return v.ext, true
	case "phone_number":
		return v.digits, true
	case "name":
		return v.typ, true
	}
	return "", false
}

var isoParamRE = regexp.MustCompile(`\{([^{}]*)\}`)

// isoParams lists the path parameters of pattern.
func isoParams(pattern string) []string {
	var out []string
	for _, m := range isoParamRE.FindAllStringSubmatch(pattern, -1) {
		if m[1] != "$" {
			out = append(out, strings.TrimSuffix(m[1], "..."))
		}
	}
	return out
}

// isoFill fills pattern's parameters from v; a parameter with no mapping
// fails the test.
func isoFill(t *testing.T, fam, pattern string, v isoIDs) (string, bool) {
	t.Helper()
	ok := true
	path := isoParamRE.ReplaceAllStringFunc(pattern, func(m string) string {
		name := strings.TrimSuffix(m[1:len(m)-1], "...")
		if name == "$" {
			return ""
		}
		val, found := v.param(fam, pattern, name)
		if !found {
			t.Errorf("route %s: no value for path parameter {%s}: map it in isoIDs.param", pattern, name)
			ok = false
			return m
		}
		return url.PathEscape(val)
	})
	return path, ok
}

// --- what each route is sent ---

// isoShot is one request to a route: its query, its body, and, for a
// route without ids, how B's answer is judged (nil: the family's not
// found).
type isoShot struct {
	query string
	body  string
	ctype string
	check func(r *isoResp) error
}

// isoSpec gives the requests of one route for the ids v.
type isoSpec func(v isoIDs) []isoShot

// specs is the table of what each route is sent, keyed by "METHOD
// pattern". A route without path parameters needs an entry (its check
// tells what B may see); a route that reads a body needs one (a minimal
// valid body); a GET or DELETE with ids is walked without one.
func (e *isoEnv) specs() map[string]isoSpec {
	a := e.a
	a1 := a.phones[0]
	one := func(body string) isoSpec {
		return func(isoIDs) []isoShot { return []isoShot{{body: body, ctype: "application/json"}} }
	}
	status := func(codes ...int) func(r *isoResp) error {
		return func(r *isoResp) error {
			for _, c := range codes {
				if r.status == c {
					return nil
				}
			}
			return fmt.Errorf("status %d, want one of %v: %s", r.status, codes, isoTrunc(r.body))
		}
	}
	listEmpty := func(r *isoResp) error {
		if r.status != http.StatusOK {
			return fmt.Errorf("status %d, want 200: %s", r.status, isoTrunc(r.body))
		}
		var b struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(r.body, &b); err != nil {
			return fmt.Errorf("list body: %v: %s", err, isoTrunc(r.body))
		}
		if len(b.Data) != 0 {
			return fmt.Errorf("B's list filtered on A's values is not empty: %s", isoTrunc(r.body))
		}
		return nil
	}
	q := func(k, v string) string { return k + "=" + url.QueryEscape(v) }
	batch := func(v isoIDs) string {
		return `{"records":[` +
			`{"customer_id":"` + v.custID + `","number":"+1 212 555 0100","type":"mobile"},` +
			`{"customer_id":"` + v.custUUID + `","number":"+1 212 555 0101","type":"mobile"},` +
			`{"customer_id":` + v.custID + `,"number":"+1 212 555 0102","type":"mobile"},` +
			`{"external_id":"` + v.ext + `","number":"` + a1.E164 + `","type":"` + v.typ + `"}]}`
	}
	batchCheck := func(r *isoResp) error {
		if r.status != http.StatusOK {
			return fmt.Errorf("status %d, want 200: %s", r.status, isoTrunc(r.body))
		}
		var b struct {
			Results []struct {
				Status string `json:"status"`
				Error  *struct {
					Code string `json:"code"`
				} `json:"error"`
			} `json:"results"`
			Counts struct {
				Total, Failed int
			} `json:"counts"`
		}
		if err := json.Unmarshal(r.body, &b); err != nil {
			return fmt.Errorf("batch body: %v: %s", err, isoTrunc(r.body))
		}
		if b.Counts.Total != 4 || b.Counts.Failed != 4 || len(b.Results) != 4 {
			return fmt.Errorf("batch naming A's customer: want 4 failed records: %s", isoTrunc(r.body))
		}
		for i, rs := range b.Results {
			if rs.Status != "error" || rs.Error == nil || rs.Error.Code != phonebook.ECodeNotFound {
				return fmt.Errorf("batch record %d: want error not_found: %s", i, isoTrunc(r.body))
			}
		}
		return nil
	}
	waspRecord := func(field, ext, number, typ string) string {
		return `[{"` + field + `":"` + ext + `","PhoneNumber":"` + number + `","PhoneTypeName":"` + typ + `"}]`
	}
	const relayBody = `{"consent_type":"express","phone_type":"mobile","client_source":"isolation-test"}`
	crBody := `{"isPrimary":true,"phoneType":"mobile","phoneNumber":"2125550100","notes":"from B"}`
	v9Create := `{"phone_numbers":[{"label":"home","country_code":"+1","number":"212-555-0100","is_primary":true}]}`
	rbBody := `{"Phone":{"Type":"BUSINESS","IsDefault":true,"PhoneNumber":"+1 (212) 555-0100"}}`

	return map[string]isoSpec{
		"POST /v1/customers": func(isoIDs) []isoShot {
			return []isoShot{{body: `{"name":"Created by B"}`, ctype: "application/json", check: status(http.StatusCreated)}}
		},
		"GET /v1/customers": func(v isoIDs) []isoShot {
			return []isoShot{
				{check: status(http.StatusOK)},
				{query: "limit=500&sort=-created_at", check: status(http.StatusOK)},
				{query: q("external_id", v.ext), check: listEmpty},
				{query: q("phone", a1.E164), check: listEmpty},
				{query: q("q", a.cust.Name), check: listEmpty},
				{query: q("q", "Idempotent A"), check: listEmpty},
				// A cursor forged to start before A's rows.
				{query: "cursor=" + (&phonebook.Cursor{Sort: phonebook.SortCreatedAsc, Key: "0", ID: 1}).Encode(), check: status(http.StatusOK, http.StatusUnprocessableEntity)},
				{query: "sort=name&cursor=" + (&phonebook.Cursor{Sort: phonebook.SortName, Key: "", ID: 1}).Encode(), check: status(http.StatusOK, http.StatusUnprocessableEntity)},
			}
		},
		"PATCH /v1/customers/{id}":                  one(`{"name":"Renamed by B","status":"inactive"}`),
		"POST /v1/customers/{id}/phones":            one(`{"number":"+1 212 555 0100","type":"mobile","is_primary":true}`),
		"PATCH /v1/customers/{id}/phones/{phoneId}": one(`{"label":"changed by B","is_primary":true}`),
		"PUT /v1/customers/{id}/phones/{phoneId}":   one(`{"number":"+1 212 555 0100","type":"mobile"}`),
		"POST /v1/phones/batch": func(v isoIDs) []isoShot {
			return []isoShot{{body: batch(v), ctype: "application/json", check: batchCheck}}
		},
		"GET /v1/phones": func(isoIDs) []isoShot {
			var out []isoShot
			for _, n := range []string{a1.E164, a1.Raw, a1.NationalNumber, "(504) 555-0123", "504.555.0123", a.phones[1].Raw, a.phones[1].E164} {
				out = append(out, isoShot{query: q("number", n), check: listEmpty})
			}
			return out
		},
		"GET /v1/phone-types": func(isoIDs) []isoShot { return []isoShot{{check: status(http.StatusOK)}} },
		"POST /v1/phone-types": func(isoIDs) []isoShot {
			// The same name on every credential: created once, then B's own 409.
			return []isoShot{{body: `{"name":"b-walk-type"}`, ctype: "application/json", check: status(http.StatusCreated, http.StatusConflict)}}
		},

		// A number is not an id: B may write and read its own consent for
		// a number A holds, and sees only its own ledger.
		"PUT /v1/numbers/{number}/consent": func(isoIDs) []isoShot {
			return []isoShot{{body: `{"type":"stop","source":"b-walk-source","evidence":"b walk"}`, ctype: "application/json", check: status(http.StatusOK)}}
		},
		"GET /v1/numbers/{number}/consent": func(isoIDs) []isoShot {
			return []isoShot{{check: status(http.StatusOK)}, {query: "history=true", check: status(http.StatusOK)}}
		},
		"POST /v1/inbound/sms": func(isoIDs) []isoShot {
			return []isoShot{{body: `{"from":"` + a1.Raw + `","body":"STOP"}`, ctype: "application/json", check: func(r *isoResp) error {
				var b struct {
					Phones *int `json:"phones"`
				}
				if r.status != http.StatusOK || json.Unmarshal(r.body, &b) != nil || b.Phones == nil {
					return fmt.Errorf("status %d, want 200 with phones: %s", r.status, isoTrunc(r.body))
				}
				if *b.Phones != 0 {
					return fmt.Errorf("B's inbound SMS from A's number counts %d phones (B holds none): %s", *b.Phones, isoTrunc(r.body))
				}
				return nil
			}}}
		},
		"POST /v1/webhooks": func(isoIDs) []isoShot {
			return []isoShot{{body: `{"url":"https://b-walk.example/hook","description":"b walk"}`, ctype: "application/json", check: status(http.StatusCreated)}}
		},
		"POST /v1/webhooks/{id}/deliveries/{deliveryId}/redeliver": one(""),

		"POST /core/v1/cm/customers/{customerId}/phones": one(crBody),

		"POST /v9/clients/{client_id}/phone_numbers":     one(v9Create),
		"PUT /v9/clients/{client_id}/phone_numbers/{id}": one(`{"label":"work","is_primary":true}`),

		"POST /collaboration/contacts/{contactId}/phones":          one(rbBody),
		"PUT /collaboration/contacts/{contactId}/phones/{phoneId}": one(rbBody),

		"PUT /platform/v3/api/cdm/client/{client_id}/customer/{ccid}/add_phone/{phone_number}":           one(relayBody),
		"POST /platform/v3/api/cdm/client/{client_id}/customer/{ccid}/add_phone/{phone_number}":          one(relayBody),
		"PUT /platform/v3/api/cdm/client/{client_id}/customer/{ccid}/remove_phone/{phone_number}":        one(`{"country_code":"1"}`),
		"POST /platform/v3/api/cdm/client/{client_id}/customer/{ccid}/remove_phone/{phone_number}":       one(""),
		"PUT /platform/v3/api/messaging/client/{client_id}/consent/channel_addr/{addr}/channel_type/sms": one(`{"consent_type":"express","client_source":"isolation-test"}`),

		"POST /public-api/phones/customer/save": func(v isoIDs) []isoShot {
			nf := func(r *isoResp) error { return isoWaspRecords(r, 1, http.StatusNotFound, -1004) }
			return []isoShot{
				{body: waspRecord("CustomerNumber", v.ext, "(212) 555-0100", "mobile"), ctype: "application/json", check: nf},
				// A's own number, in another writing: an update for A, not found for B.
				{body: waspRecord("CustomerNo", v.ext, "504-555-0123", "mobile"), ctype: "application/json", check: nf},
			}
		},
	}
}

// shots returns the requests of rt for the ids v: from the table, or, for
// a GET or DELETE with ids, one request without a body. A route the table
// cannot serve fails the test.
func (e *isoEnv) shots(t *testing.T, specs map[string]isoSpec, rt httpapi.Route, v isoIDs) ([]isoShot, bool) {
	t.Helper()
	if spec, ok := specs[rt.Method+" "+rt.Pattern]; ok {
		return spec(v), true
	}
	hasParams := len(isoParams(rt.Pattern)) > 0
	switch {
	case (rt.Method == http.MethodGet || rt.Method == http.MethodDelete || rt.Method == http.MethodHead) && hasParams:
		return []isoShot{{}}, true
	case rt.Method == http.MethodGet && !hasParams:
		return []isoShot{{check: func(r *isoResp) error {
			if r.status != http.StatusOK {
				return fmt.Errorf("status %d, want 200 (a list of B's own): %s", r.status, isoTrunc(r.body))
			}
			return nil
		}}}, true
	}
	t.Errorf("route %s %s: no request in specs(): add a minimal valid body (and, without ids, what B may see)", rt.Method, rt.Pattern)
	return nil, false
}

// --- what must not leak ---

// markers are strings only tenant A's data holds (its numbers aside: see
// isoNumberForms).
func (e *isoEnv) markers() []string {
	a := e.a
	out := []string{a.cust.UUID, a.cust.ExternalID, a.cust.Name, a.idemCust.UUID, a.idemCust.Name, a.typ,
		a.webhook.URL, a.webhook.Description, a.webhookSecret, a.consentSource, a.admin, a.read, a.write, a.signed, a.signing,
		"a-label", "a-notes-first"}
	for _, p := range a.phones {
		out = append(out, p.UUID)
	}
	return out
}

// isoNumberForms are the ways phone p's number may be written in an
// answer.
func isoNumberForms(p *phonebook.Phone) []string {
	out := []string{p.E164, p.Raw, p.NationalNumber, p.International, p.National}
	if n := p.NationalNumber; len(n) == 10 {
		out = append(out, n[:3]+"-"+n[3:6]+"-"+n[6:], n[3:6]+"-"+n[6:], n[3:])
	}
	return out
}

func isoDigits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// leak reports what of A's data the answer r to request c shows: a marker
// or a number of A the request did not itself carry, or an id member
// holding one of A's ids.
func (e *isoEnv) leak(c isoCall, r *isoResp) error {
	a := e.a
	path, _ := url.PathUnescape(c.path)
	query, _ := url.QueryUnescape(c.query)
	sent := strings.ToLower(path + "?" + query + "\n" + c.body)
	sentDigits := isoDigits(sent)
	body := string(r.body)
	for _, m := range e.markers() {
		if m == "" || strings.Contains(sent, strings.ToLower(m)) {
			continue
		}
		if strings.Contains(body, m) {
			return fmt.Errorf("the answer shows A's %q: %s", m, isoTrunc(r.body))
		}
	}
	for _, p := range a.phones {
		if strings.Contains(sentDigits, p.NationalNumber) {
			continue // the request named this number itself
		}
		for _, f := range isoNumberForms(p) {
			if strings.Contains(body, f) {
				return fmt.Errorf("the answer shows A's number as %q: %s", f, isoTrunc(r.body))
			}
		}
	}
	var v any
	if json.Unmarshal(r.body, &v) != nil {
		return nil
	}
	set := func(ids ...int64) map[string]bool {
		m := map[string]bool{}
		for _, id := range ids {
			m[strconv.FormatInt(id, 10)] = true
		}
		return m
	}
	customers := set(a.cust.ID, a.idemCust.ID)
	var phoneIDs []int64
	for _, p := range a.phones {
		phoneIDs = append(phoneIDs, p.ID)
	}
	phones := set(phoneIDs...)
	webhooks := set(a.webhook.ID)
	deliveries := set(a.deliveryIDs...)
	str := func(x any) string {
		if f, ok := x.(float64); ok {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return fmt.Sprint(x)
	}
	var found string
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			keys := map[string]any{}
			for k, val := range x {
				keys[strings.ToLower(k)] = val
				walk(val)
			}
			has := func(names ...string) bool {
				for _, n := range names {
					if _, ok := keys[n]; ok {
						return true
					}
				}
				return false
			}
			check := func(ids map[string]bool, names ...string) {
				for _, n := range names {
					if val, ok := keys[n]; ok && ids[str(val)] && found == "" {
						found = n + "=" + str(val)
					}
				}
			}
			// Customer ids (from 100000) are never another row's id.
			check(customers, "id", "customer_id", "customerid", "contactid", "client_id")
			if has("e164", "raw", "raw_number", "phonenumber", "national_number") {
				check(phones, "id", "phoneid", "phone_id")
			}
			if has("seq") { // a change of the history
				check(phones, "phone_id")
			}
			if has("url") && has("event_types") {
				check(webhooks, "id")
			}
			if has("webhook_id") {
				check(deliveries, "id")
				check(webhooks, "webhook_id")
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(v)
	if found != "" {
		return fmt.Errorf("the answer holds A's id %s: %s", found, isoTrunc(r.body))
	}
	return nil
}

// --- the store, as rows ---

// isoDump is a canonical dump of the rows of one tenant (tenantID 0: the
// whole store): every table, rows sorted. Tables without a tenant_id are
// dumped whole; sqlite_sequence and the migration table are left out.
func isoDump(t *testing.T, db *sql.DB, tenantID int64) map[string][]string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version' ORDER BY name`)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatalf("list tables: %v", err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	out := map[string][]string{}
	for _, table := range tables {
		cols := isoColumns(t, db, table)
		query, args := `SELECT * FROM "`+table+`"`, []any{}
		if tenantID != 0 {
			switch {
			case table == "tenants":
				query, args = query+` WHERE id = ?`, []any{tenantID}
			case table == "deliveries":
				// A's webhooks too: another tenant's events must not reach them.
				query, args = query+` WHERE tenant_id = ? OR webhook_id IN (SELECT id FROM webhooks WHERE tenant_id = ?)`, []any{tenantID, tenantID}
			case cols["tenant_id"]:
				query, args = query+` WHERE tenant_id = ?`, []any{tenantID}
			}
		}
		out[table] = isoRows(t, db, table, query, args...)
	}
	return out
}

func isoColumns(t *testing.T, db *sql.DB, table string) map[string]bool {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		t.Fatalf("columns of %s: %v", table, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatalf("columns of %s: %v", table, err)
		}
		out[name] = true
	}
	return out
}

func isoRows(t *testing.T, db *sql.DB, table, query string, args ...any) []string {
	t.Helper()
	rs, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var lines []string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = hex.EncodeToString(b)
			}
			parts[i] = fmt.Sprintf("%s=%v", cols[i], v)
		}
		lines = append(lines, strings.Join(parts, " "))
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	sort.Strings(lines)
	return lines
}

// isoDiff describes how two dumps differ ("" when equal).
func isoDiff(before, after map[string][]string) string {
	var names []string
	for k := range before {
		names = append(names, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		x, y := before[n], after[n]
		inX := map[string]bool{}
		for _, l := range x {
			inX[l] = true
		}
		inY := map[string]bool{}
		for _, l := range y {
			inY[l] = true
		}
		for _, l := range x {
			if !inY[l] {
				fmt.Fprintf(&b, "\n  %s: - %s", n, l)
			}
		}
		for _, l := range y {
			if !inX[l] {
				fmt.Fprintf(&b, "\n  %s: + %s", n, l)
			}
		}
	}
	return b.String()
}

func isoTrunc(b []byte) string {
	const n = 400
	s := strings.ToValidUTF8(string(b), "?")
	if len(s) > n {
		return s[:n] + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return s
}

// isoSign signs a v9 request with secret: base64 HMAC-SHA256 of "METHOD
// host/path?payload" (payload: the body of a POST/PUT, else the query).
func isoSign(secret string) func(r *http.Request, body string) {
	return func(r *http.Request, body string) {
		payload := r.URL.RawQuery
		if r.Method != http.MethodGet && body != "" {
			payload = body
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(r.Method + " " + r.Host + r.URL.EscapedPath() + "?" + payload))
		r.Header.Set("X-Signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
}

// --- the walk ---

// isoVariant is one way of naming A's data from B.
type isoVariant struct {
	name    string
	ids     isoIDs
	want    func(fam string) string // what is not found
	applies func(fam, pattern string, params []string) bool
}

func isoHas(list []string, s ...string) bool {
	for _, x := range s {
		found := false
		for _, y := range list {
			if y == x {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// variants are the ways B names A's data.
func (e *isoEnv) variants() []isoVariant {
	a, b := e.a.ids(), e.b.ids()
	always := func(string, string, []string) bool { return true }
	customer := func(fam string) string {
		if fam == "relay" {
			return "client" // client_id (A's slug) is checked first
		}
		return "customer"
	}
	uuids := a
	uuids.custRef, uuids.phoneRef = e.a.cust.UUID, e.a.phones[0].UUID
	second := a
	second.phoneID = strconv.FormatInt(e.a.phones[1].ID, 10)
	second.phoneRef = second.phoneID
	second.digits, second.number = e.a.phones[1].NationalNumber, e.a.phones[1].E164
	// B's own customer (webhook) with A's phone (delivery).
	mixed := a
	mixed.custID, mixed.custRef, mixed.custUUID, mixed.webhook = b.custID, b.custRef, b.custUUID, b.webhook
	// Relay: B's own client_id, A's ccid.
	relayA := a
	relayA.slug = b.slug
	// Relay: B's own client_id (and ccid), A's number.
	relayNum := b
	relayNum.digits = a.digits
	return []isoVariant{
		{"A's ids", a, customer, always},
		{"A's uuids", uuids, customer, func(fam, pattern string, params []string) bool {
			return strings.HasPrefix(pattern, "/v1/customers/") && isoHas(params, "id")
		}},
		{"A's second phone", second, customer, func(fam, _ string, params []string) bool {
			return isoHas(params, "phoneId") || fam == "ticketevolution" && isoHas(params, "id") ||
				isoHas(params, "phone_number") || isoHas(params, "addr") || isoHas(params, "number")
		}},
		{"B's parent, A's child", mixed, func(string) string { return "phone" }, func(fam, _ string, params []string) bool {
			return isoHas(params, "id", "phoneId") || isoHas(params, "contactId", "phoneId") ||
				fam == "ticketevolution" && isoHas(params, "client_id", "id") || isoHas(params, "id", "deliveryId")
		}},
		{"B's client_id, A's ccid", relayA, func(string) string { return "customer" }, func(fam, _ string, params []string) bool {
			return fam == "relay" && isoHas(params, "ccid")
		}},
		{"B's client_id and ccid, A's number", relayNum, func(string) string { return "number" }, func(fam, pattern string, _ []string) bool {
			return fam == "relay" && strings.Contains(pattern, "/remove_phone/")
		}},
		// Consent is per tenant and number: B sets its own.
		{"B's client_id, A's number", relayNum, func(string) string { return "ok" }, func(fam, _ string, params []string) bool {
			return fam == "relay" && isoHas(params, "addr") && !isoHas(params, "ccid")
		}},
	}
}

// TestTenantIsolation walks every route with tenant B's keys against
// tenant A's ids: every answer is the route's not found (or, for routes
// without ids, shows nothing of A), and A's rows do not change.
func TestTenantIsolation(t *testing.T) {
	e := newIsoEnv(t, slog.New(slog.DiscardHandler))
	fams := e.families()
	specs := e.specs()
	before := isoDump(t, e.db, e.a.t.ID)
	if len(before["customers"]) != 2 || len(before["phones"]) != 2 || len(before["webhooks"]) != 1 || len(before["consent_ledger"]) != 1 {
		t.Fatalf("tenant A's data is not what the test made: %v", before)
	}

	routes := e.srv.Routes()
	walked := 0
	seen := map[string]bool{}
	for _, rt := range routes {
		if rt.Public {
			continue
		}
		key := rt.Method + " " + rt.Pattern
		if seen[key] {
			t.Errorf("route %s is registered twice", key)
		}
		seen[key] = true
		fam := e.familyOf(t, fams, rt.Pattern)
		if fam == nil {
			continue
		}
		params := isoParams(rt.Pattern)
		t.Run(strings.TrimPrefix(key, "/"), func(t *testing.T) {
			for _, vr := range e.variants() {
				if !vr.applies(fam.name, rt.Pattern, params) {
					continue
				}
				path, ok := isoFill(t, fam.name, rt.Pattern, vr.ids)
				if !ok {
					return
				}
				shots, ok := e.shots(t, specs, rt, vr.ids)
				if !ok {
					return
				}
				creds := make([]func(r *http.Request, body string), 0, len(fam.creds)+1)
				names := []string{}
				for _, c := range fam.creds {
					c := c
					creds = append(creds, func(r *http.Request, _ string) { c.set(r, e.b.admin) })
					names = append(names, c.name)
				}
				if fam.name == "ticketevolution" {
					// B's signing key, with a good signature.
					sign := isoSign(e.b.signing)
					creds = append(creds, func(r *http.Request, body string) {
						r.Header.Set("X-Token", e.b.signed)
						sign(r, body)
					})
					names = append(names, "x-token+x-signature")
				}
				// B's key holding only the route's scope.
				if k, name := e.b.scoped(rt.Scope); k != e.b.admin {
					main := fam.creds[0]
					creds = append(creds, func(r *http.Request, _ string) { main.set(r, k) })
					names = append(names, main.name+", "+name)
				}
				for _, sh := range shots {
					for i, cred := range creds {
						c := isoCall{method: rt.Method, path: path, query: sh.query, body: sh.body, ctype: sh.ctype, header: fam.header.Clone(), cred: cred}
						r := e.send(t, c)
						walked++
						what := fmt.Sprintf("%s (%s, %s)", c, vr.name, names[i])
						var err error
						switch {
						case sh.check != nil:
							err = sh.check(r)
						case vr.want(fam.name) == "ok":
							if r.status < 200 || r.status > 299 {
								err = fmt.Errorf("status %d, want 2xx (B's own rows): %s", r.status, isoTrunc(r.body))
							}
						default:
							err = fam.notFound(r, vr.want(fam.name), vr.ids)
						}
						if err != nil {
							t.Errorf("%s with B's key: %v", what, err)
						}
						if err := e.leak(c, r); err != nil {
							t.Errorf("%s with B's key: %v", what, err)
						}
					}
				}
			}
		})
	}
	if walked == 0 {
		t.Fatal("no route was walked")
	}
	t.Logf("%d requests of B against A's data on %d routes", walked, len(seen))

	if diff := isoDiff(before, isoDump(t, e.db, e.a.t.ID)); diff != "" {
		t.Errorf("tenant A's rows changed during B's walk:%s", diff)
	}

	// Values unique per tenant are not unique across tenants: B may use
	// A's external id, phone type name, number and Idempotency-Key, and
	// gets its own rows, never a conflict that tells A has them.
	t.Run("collisions", func(t *testing.T) {
		bearer := func(r *http.Request, _ string) { isoBearer(r, e.b.admin) }
		type step struct {
			call   isoCall
			status int
		}
		steps := []step{
			{isoCall{method: http.MethodPost, path: "/v1/customers", ctype: "application/json",
				body: `{"external_id":"` + e.a.cust.ExternalID + `","name":"B's twin of A"}`}, http.StatusCreated},
			{isoCall{method: http.MethodPost, path: "/v1/phone-types", ctype: "application/json",
				body: `{"name":"` + e.a.typ + `"}`}, http.StatusCreated},
			{isoCall{method: http.MethodPost, path: "/v1/customers/" + strconv.FormatInt(e.b.cust.ID, 10) + "/phones", ctype: "application/json",
				body: `{"number":"` + e.a.phones[0].Raw + `","type":"` + e.a.typ + `"}`}, http.StatusCreated},
			{isoCall{method: http.MethodPost, path: "/v1/customers", ctype: "application/json", body: e.a.idemBody,
				header: http.Header{"Idempotency-Key": {e.a.idemKey}}}, http.StatusCreated},
			{isoCall{method: http.MethodPut, path: "/platform/v3/api/cdm/client/" + e.b.t.Slug + "/customer/" + e.b.cust.ExternalID +
				"/add_phone/" + e.a.phones[1].NationalNumber}, http.StatusOK},
		}
		for _, s := range steps {
			c := s.call
			if strings.HasPrefix(c.path, "/platform/") {
				c.cred = func(r *http.Request, _ string) { r.Header.Set("xx-relay-api-key", e.b.admin) }
			} else {
				c.cred = bearer
			}
			r := e.send(t, c)
			if r.status != s.status {
				t.Errorf("%s (B, A's value): status %d, want %d: %s", c, r.status, s.status, isoTrunc(r.body))
			}
			if err := e.leak(c, r); err != nil {
				t.Errorf("%s (B, A's value): %v", c, err)
			}
		}
		// The idempotent replay is B's own: not A's customer.
		var got phonebook.Customer
		r := e.send(t, isoCall{method: http.MethodPost, path: "/v1/customers", ctype: "application/json", body: e.a.idemBody,
			header: http.Header{"Idempotency-Key": {e.a.idemKey}}, cred: bearer})
		if err := json.Unmarshal(r.body, &got); err != nil || r.status != http.StatusCreated {
			t.Errorf("B's replay of A's Idempotency-Key: %d %s", r.status, isoTrunc(r.body))
		} else if got.ID == e.a.idemCust.ID || got.UUID == e.a.idemCust.UUID {
			t.Errorf("B's request under A's Idempotency-Key replayed A's answer: %s", isoTrunc(r.body))
		}
		// Wasp: B's record with A's type name (B now has one too).
		r = e.send(t, isoCall{method: http.MethodPost, path: "/public-api/phones/customer/save", ctype: "application/json", cred: bearer,
			body: `[{"CustomerNumber":"` + e.b.cust.ExternalID + `","PhoneNumber":"504.555.0123","PhoneTypeName":"` + e.a.typ + `"}]`})
		var w isoWasp
		if err := json.Unmarshal(r.body, &w); err != nil || r.status != http.StatusOK || w.Data == nil || w.Data.SuccessfullResults != 1 {
			t.Errorf("Wasp save of A's number for B's customer: %d %s", r.status, isoTrunc(r.body))
		}
	})

	if diff := isoDiff(before, isoDump(t, e.db, e.a.t.ID)); diff != "" {
		t.Errorf("tenant A's rows changed:%s", diff)
	}
}

// TestIsolationKeys sends every route a missing, malformed, unknown and
// revoked key (401 in the route's shape), and a key without the route's
// scope (403, or the dialect's equivalent). Nothing in the store changes.
func TestIsolationKeys(t *testing.T) {
	e := newIsoEnv(t, slog.New(slog.DiscardHandler))
	fams := e.families()
	specs := e.specs()
	before := isoDump(t, e.db, 0)
	bIDs := e.b.ids()
	checked := 0
	for _, rt := range e.srv.Routes() {
		if rt.Public {
			continue
		}
		fam := e.familyOf(t, fams, rt.Pattern)
		if fam == nil {
			continue
		}
		key := rt.Method + " " + rt.Pattern
		t.Run(strings.TrimPrefix(key, "/"), func(t *testing.T) {
			// B's own ids: a request let through would succeed, not 404.
			path, ok := isoFill(t, fam.name, rt.Pattern, bIDs)
			if !ok {
				return
			}
			shots, ok := e.shots(t, specs, rt, bIDs)
			if !ok || len(shots) == 0 {
				return
			}
			sh := shots[0]
			call := func(cred func(r *http.Request, body string)) (isoCall, *isoResp) {
				c := isoCall{method: rt.Method, path: path, query: sh.query, body: sh.body, ctype: sh.ctype, header: fam.header.Clone(), cred: cred}
				checked++
				return c, e.send(t, c)
			}
			type credCase struct {
				name string
				cred func(r *http.Request, body string)
			}
			var bad []credCase
			bad = append(bad, credCase{"missing", nil})
			for _, m := range fam.malformed {
				m := m
				bad = append(bad, credCase{"malformed " + m.name, func(r *http.Request, _ string) { m.set(r, "") }})
			}
			if fam.wrongHeader != nil {
				bad = append(bad, credCase{"valid key in a header the route does not read", func(r *http.Request, _ string) { fam.wrongHeader(r, e.b.admin) }})
			}
			for _, c := range fam.creds {
				c := c
				bad = append(bad,
					credCase{"unknown key (" + c.name + ")", func(r *http.Request, _ string) { c.set(r, isoUnknownKey) }},
					credCase{"revoked key (" + c.name + ")", func(r *http.Request, _ string) { c.set(r, e.b.revoked) }},
					credCase{"B's key with a changed letter (" + c.name + ")", func(r *http.Request, _ string) { c.set(r, e.b.admin[:len(e.b.admin)-1]+"X") }},
				)
			}
			for _, bc := range bad {
				c, r := call(bc.cred)
				if err := fam.unauthorized(r); err != nil {
					t.Errorf("%s, %s: %v", c, bc.name, err)
				}
			}
			if fam.name == "ticketevolution" {
				// A key with a signing secret: missing or bad X-Signature.
				for _, sig := range []string{"", "bm90IGEgc2lnbmF0dXJl", base64.StdEncoding.EncodeToString(make([]byte, 32))} {
					c, r := call(func(r *http.Request, _ string) {
						r.Header.Set("X-Token", e.b.signed)
						if sig != "" {
							r.Header.Set("X-Signature", sig)
						}
					})
					if err := isoV9(r, http.StatusUnauthorized, ""); err != nil {
						t.Errorf("%s, signed key with X-Signature %q: %v", c, sig, err)
					}
				}
				// Signed with A's secret.
				c, r := call(func(r *http.Request, body string) {
					r.Header.Set("X-Token", e.b.signed)
					isoSign(e.a.signing)(r, body)
				})
				if err := isoV9(r, http.StatusUnauthorized, "invalid X-Signature"); err != nil {
					t.Errorf("%s, signed with another key's secret: %v", c, err)
				}
			}

			// Scopes.
			main := fam.creds[0]
			var lacking []struct{ name, secret string }
			switch rt.Scope {
			case phonebook.ScopeCustomersWrite:
				lacking = append(lacking, struct{ name, secret string }{"read-only key", e.b.read})
			case phonebook.ScopeAdmin:
				lacking = append(lacking, struct{ name, secret string }{"read-only key", e.b.read}, struct{ name, secret string }{"write-only key", e.b.write})
			case phonebook.ScopeCustomersRead:
				lacking = append(lacking, struct{ name, secret string }{"write-only key", e.b.write})
			case "":
				if rt.Method != http.MethodGet && rt.Method != http.MethodHead {
					t.Errorf("write route %s needs no scope", key)
				}
			default:
				t.Errorf("route %s: unknown scope %q", key, rt.Scope)
			}
			for _, k := range lacking {
				c, r := call(func(r *http.Request, _ string) { main.set(r, k.secret) })
				if err := fam.forbidden(r); err != nil {
					t.Errorf("%s, %s (scope %s): %v", c, k.name, rt.Scope, err)
				}
			}
		})
	}
	if checked == 0 {
		t.Fatal("no route was checked")
	}
	t.Logf("%d refused requests", checked)
	if diff := isoDiff(before, isoDump(t, e.db, 0)); diff != "" {
		t.Errorf("refused requests changed the store:%s", diff)
	}

	// The other way round: a key holding just the route's scope is let in
	// (not 401, not 403), with an Idempotency-Key too where the route
	// honours one. B's own ids; this changes B's rows.
	t.Run("scoped keys let in", func(t *testing.T) {
		routes := append([]httpapi.Route(nil), e.srv.Routes()...)
		sort.SliceStable(routes, func(i, j int) bool {
			return routes[i].Method != http.MethodDelete && routes[j].Method == http.MethodDelete
		})
		for i, rt := range routes {
			if rt.Public {
				continue
			}
			fam := e.familyOf(t, fams, rt.Pattern)
			if fam == nil {
				continue
			}
			path, ok := isoFill(t, fam.name, rt.Pattern, bIDs)
			if !ok {
				continue
			}
			shots, ok := e.shots(t, specs, rt, bIDs)
			if !ok || len(shots) == 0 {
				continue
			}
			sh := shots[0]
			k, name := e.b.scoped(rt.Scope)
			main := fam.creds[0]
			headers := []http.Header{fam.header.Clone()}
			if rt.Idempotent {
				h := fam.header.Clone()
				if h == nil {
					h = http.Header{}
				}
				h.Set("Idempotency-Key", "iso-scoped-"+strconv.Itoa(i))
				headers = append(headers, h)
			}
			for _, h := range headers {
				c := isoCall{method: rt.Method, path: path, query: sh.query, body: sh.body, ctype: sh.ctype, header: h,
					cred: func(r *http.Request, _ string) { main.set(r, k) }}
				r := e.send(t, c)
				if err := fam.unauthorized(r); err == nil {
					t.Errorf("%s with B's %s (scope %s): refused as unauthorized: %s", c, name, rt.Scope, isoTrunc(r.body))
				} else if fam.forbidden(r) == nil || r.status == http.StatusForbidden {
					t.Errorf("%s with B's %s (scope %s), Idempotency-Key %q: forbidden: %s", c, name, rt.Scope, h.Get("Idempotency-Key"), isoTrunc(r.body))
				}
			}
		}
	})
}

// scoped returns the tenant's key holding only scope (its admin key for
// admin or no scope).
func (x *isoTenant) scoped(scope string) (key, name string) {
	switch scope {
	case phonebook.ScopeCustomersRead:
		return x.read, "read-only key"
	case phonebook.ScopeCustomersWrite:
		return x.write, "write-only key"
	}
	return x.admin, "admin key"
}
