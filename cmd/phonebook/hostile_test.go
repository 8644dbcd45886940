package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/secretbox"
	"github.com/phonebook/phonebook/store/sqlite"
	"github.com/phonebook/phonebook/web/console"
)

// The keys of the hostile-input test (tenant hostileSlug).
const (
	hostileSlug       = "acme"
	hostileAdminKey   = "hostile-admin-key-00000001"
	hostileReadKey    = "hostile-read-key-000000001"
	hostileSignedKey  = "hostile-signed-key-0000001"
	hostileSigningKey = "hostile-signing-secret-0001"
	hostileServerKey  = "test-server-key-0123456789"
)

// hostileResolve is the hostile test's DNS (it stays offline): names that
// resolve inside, as an attacker's own zone would answer.
func hostileResolve(_ context.Context, host string) ([]netip.Addr, error) {
	switch host {
	case "inside.attacker.example":
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	case "metadata.attacker.example":
		return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
	case "mixed.attacker.example":
		return []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.5")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// hostileShape is the error shape a route answers in.
type hostileShape int

const (
	shapeNone         hostileShape = iota
	shapeProblem                   // /v1 and the router: application/problem+json with code
	shapeCrossRiver                // {"Errors":[{"Code":n,"Message":"..."}]}
	shapeV9                        // Ticket Evolution: {"error":"..."}
	shapeRamBaseXML                // <Error><Code>n</Code>...</Error>
	shapeRamBaseJSON               // {"Error":{"Code":n,...}}
	shapeRamBaseHTML               // an HTML page with the error's Code
	shapeRelay                     // {"message":"..."}
	shapeWasp                      // a refused request: 4xx WaspResultOfResults with HasError
	shapeWaspRecords               // 200 WaspResultOfResults, HasError, every record failed
	shapeBatchRecords              // 200 /v1/phones/batch answer, every record failed
	shapeNotFoundText              // the docs handler's own plain 404
)

var hostileShapeNames = map[hostileShape]string{
	shapeProblem: "problem+json", shapeCrossRiver: "crossriver", shapeV9: "v9", shapeRamBaseXML: "rambase-xml",
	shapeRamBaseJSON: "rambase-json", shapeRamBaseHTML: "rambase-html", shapeRelay: "relay", shapeWasp: "wasp",
	shapeWaspRecords: "wasp-records", shapeBatchRecords: "v1-batch-records", shapeNotFoundText: "docs-404",
}

func (s hostileShape) String() string { return hostileShapeNames[s] }

// hostileCase is one hostile request and what it must be answered.
type hostileCase struct {
	name   string
	method string
	path   string            // with its query, escaped as on the wire
	header map[string]string // set on top of the route's defaults; "" deletes one
	body   string
	shape  hostileShape // shapeNone: the route's own
	status int          // the exact status wanted; 0: any 4xx
	// code is the error's code (problem code, vendor number, Wasp
	// ResultCode, batch record code) or, for v9 and Relay, which have
	// none, a piece of the message.
	code string
	auth bool // the case is about the credential: 401/403 are its point
	// accept, when set, says why a 2xx is a legitimate answer (text that
	// is only text, a read with odd filters, a known and reported
	// leniency); a 4xx must still be in the route's shape.
	accept string
	// write marks an accepted case that may change the store: it runs
	// after the store was compared, and check proves what was stored.
	write bool
	check func(t *testing.T, e *hostileEnv, r *hostileResp)
	sign  bool // Ticket Evolution: send hostileSignedKey, signed
}

type hostileOpt func(*hostileCase)

func hStatus(n int) hostileOpt         { return func(c *hostileCase) { c.status = n } }
func hCode(s string) hostileOpt        { return func(c *hostileCase) { c.code = s } }
func hShape(s hostileShape) hostileOpt { return func(c *hostileCase) { c.shape = s } }
func hAuth() hostileOpt                { return func(c *hostileCase) { c.auth = true } }
func hAccept(why string) hostileOpt    { return func(c *hostileCase) { c.accept = why } }
func hSigned() hostileOpt              { return func(c *hostileCase) { c.sign = true } }
func hHeader(k, v string) hostileOpt   { return func(c *hostileCase) { c.header[k] = v } }
func hCType(v string) hostileOpt       { return hHeader("Content-Type", v) }
func hNoKey() hostileOpt               { return func(c *hostileCase) { c.auth = true; c.header["*key"] = "" } }
func hKey(k string) hostileOpt         { return func(c *hostileCase) { c.header["*key"] = k } }
func hWrites(reason string, check func(*testing.T, *hostileEnv, *hostileResp)) hostileOpt {
	return func(c *hostileCase) { c.accept, c.write, c.check = reason, true, check }
}

func hReq(name, method, path, body string, opts ...hostileOpt) hostileCase {
	c := hostileCase{name: name, method: method, path: path, body: body, header: map[string]string{}}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// hostileResp is one answer.
type hostileResp struct {
	status int
	header http.Header
	body   []byte
}

// hostileEnv is the whole program's handler over a real SQLite file, with
// tenant acme (customers C-1 with two phones, C-2 with one) and tenant
// other (customer O-1 with one phone).
type hostileEnv struct {
	h      http.Handler
	routes []httpapi.Route
	svc    *phonebook.Service
	db     *sql.DB
	acme   context.Context
	other  context.Context

	c1, c2, o1     *phonebook.Customer
	p1, p2, p3, o9 *phonebook.Phone
}

func newHostileEnv(t *testing.T) *hostileEnv {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pb.db")
	store, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	svc := phonebook.NewService(store, nil)
	box, err := secretbox.New(hostileServerKey)
	if err != nil {
		t.Fatalf("secretbox.New: %v", err)
	}
	svc.SetSealer(box)
	svc.SetWebhookPolicy(phonebook.WebhookPolicy{Resolve: hostileResolve})
	h := newHandler(slog.New(slog.DiscardHandler), svc, console.Options{})
	srv, ok := h.(*httpapi.Server)
	if !ok {
		t.Fatalf("newHandler returned %T, want *httpapi.Server (the route list is needed)", h)
	}
	e := &hostileEnv{h: h, routes: srv.Routes(), svc: svc}

	acme, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: hostileSlug})
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	other, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "other"})
	if err != nil {
		t.Fatalf("create tenant other: %v", err)
	}
	for _, k := range []phonebook.KeyInput{
		{TenantSlug: hostileSlug, Name: "admin", Scopes: []string{phonebook.ScopeAdmin}, Secret: hostileAdminKey},
		{TenantSlug: hostileSlug, Name: "read", Scopes: []string{phonebook.ScopeCustomersRead}, Secret: hostileReadKey},
		{TenantSlug: hostileSlug, Name: "signed", Scopes: []string{phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite},
			Secret: hostileSignedKey, SigningSecret: hostileSigningKey},
	} {
		if _, _, err := svc.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("create key %s: %v", k.Name, err)
		}
	}
	e.acme = phonebook.NewContextWithAuth(ctx, &phonebook.Auth{Tenant: acme, Source: "test"})
	e.other = phonebook.NewContextWithAuth(ctx, &phonebook.Auth{Tenant: other, Source: "test"})
	mustC := func(ctx context.Context, ext, name string) *phonebook.Customer {
		c, err := svc.CreateCustomer(ctx, phonebook.CustomerInput{ExternalID: ext, Name: name})
		if err != nil {
			t.Fatalf("create customer %s: %v", ext, err)
		}
		return c
	}
	mustP := func(ctx context.Context, c *phonebook.Customer, number, typ string) *phonebook.Phone {
		p, err := svc.AddPhone(ctx, phonebook.CustomerRef{ID: c.ID}, phonebook.PhoneInput{Number: number, Type: typ})
		if err != nil {
			t.Fatalf("add phone %s: %v", number, err)
		}
		return p
	}
	e.c1 = mustC(e.acme, "C-1", "Ada Lovelace")
	e.c2 = mustC(e.acme, "C-2", "Charles Babbage")
	e.o1 = mustC(e.other, "O-1", "Other Tenant")
	e.p1 = mustP(e.acme, e.c1, "+1 504 555 0123", "home")
	e.p2 = mustP(e.acme, e.c1, "(504) 555-0199", "mobile")
	e.p3 = mustP(e.acme, e.c2, "5045550177", "work")
	e.o9 = mustP(e.other, e.o1, "5045550123", "home")

	e.db, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		t.Fatalf("open the store's file for reading: %v", err)
	}
	t.Cleanup(func() { _ = e.db.Close() })
	return e
}

// do sends c through the handler, with the route's credential unless the
// case says otherwise.
func (e *hostileEnv) do(t *testing.T, c hostileCase) *hostileResp {
	t.Helper()
	u, err := url.Parse("http://example.com" + c.path)
	if err != nil {
		t.Fatalf("%s: bad test path %q: %v", c.name, c.path, err)
	}
	req := httptest.NewRequest(c.method, "http://example.com/", strings.NewReader(c.body))
	req.URL = u
	req.RequestURI = u.RequestURI()
	req.ContentLength = int64(len(c.body))
	f := hostileFamilyOf(c.path)
	k := hostileAdminKey
	if c.sign {
		k = hostileSignedKey
	}
	if v, ok := c.header["*key"]; ok {
		k = v
	}
	if k != "" && f.keyHeader != "" {
		req.Header.Set(f.keyHeader, f.keyPrefix+k)
	}
	if c.body != "" || c.method == http.MethodPost || c.method == http.MethodPut || c.method == http.MethodPatch {
		ct := f.contentType
		if f.shape == shapeRamBaseXML && !strings.HasPrefix(strings.TrimSpace(c.body), "<") {
			ct = "application/json"
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
	}
	for name, v := range c.header {
		if name == "*key" {
			continue
		}
		if v == "" {
			req.Header.Del(name)
		} else {
			req.Header.Set(name, v)
		}
	}
	if c.sign {
		payload := c.body
		if c.method == http.MethodGet || payload == "" {
			payload = u.RawQuery
		}
		m := hmac.New(sha256.New, []byte(hostileSigningKey))
		m.Write([]byte(c.method + " " + req.Host + u.EscapedPath() + "?" + payload))
		if _, set := c.header["X-Signature"]; !set {
			req.Header.Set("X-Signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
		}
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return &hostileResp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// hostileFamily is what a path prefix says about its routes.
type hostileFamily struct {
	shape       hostileShape
	keyHeader   string
	keyPrefix   string
	contentType string
}

func hostileFamilyOf(path string) hostileFamily {
	switch {
	case strings.HasPrefix(path, "/v1/"):
		return hostileFamily{shapeProblem, "Authorization", "Bearer ", "application/json"}
	case strings.HasPrefix(path, "/core/"):
		return hostileFamily{shapeCrossRiver, "Authorization", "Bearer ", "application/json"}
	case strings.HasPrefix(path, "/v9/"):
		return hostileFamily{shapeV9, "X-Token", "", "application/json"}
	case strings.HasPrefix(path, "/collaboration/"):
		return hostileFamily{shapeRamBaseXML, "Authorization", "Bearer ", "application/xml"}
	case strings.HasPrefix(path, "/platform/"):
		return hostileFamily{shapeRelay, "xx-relay-api-key", "", "application/json"}
	case strings.HasPrefix(path, "/public-api/"):
		return hostileFamily{shapeWasp, "Authorization", "Bearer ", "application/json"}
	}
	return hostileFamily{shape: shapeProblem}
}

// Bodies and strings the cases are built from.
var (
	hostileMiB      = strings.Repeat("a", 1<<20)     // with any JSON around it, over the 1 MiB cap
	hostileBig      = strings.Repeat("9", 1_000_000) // a string of a million characters, under the cap
	hostileDeep     = strings.Repeat("[", 100_000)   // nesting far past encoding/json's limit
	hostileNested   = strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	hostileDeepObj  = strings.Repeat(`{"a":`, 20_000) + "1" + strings.Repeat("}", 20_000)
	hostileLongPath = strings.Repeat("9", 100_000)
	hostileSQL      = `Robert'); DROP TABLE customers;--`
)

// hostileGenericBodies are malformed bodies every route that reads a body
// must refuse: 400, or 413 for the one over the cap.
var hostileGenericBodies = []struct {
	name string
	body string
}{
	{"empty", ""},
	{"whitespace", " \r\n\t "},
	{"truncated", `{"a":`},
	{"open-brace", `{`},
	{"close-brace", `}`},
	{"open-bracket", `[`},
	{"extra-brace", `{"x":1}}`},
	{"two-values", `{} {}`},
	{"string", `"5045550123"`},
	{"number", `5045550123`},
	{"bool", `true`},
	{"empty-array", `[]`},
	{"nested-100k", hostileDeep},
	{"nested-objects-20k", hostileDeepObj},
	{"invalid-utf8", "\xff\xfe\xfd"},
	{"utf16", "\xff\xfe{\x00}\x00"},
	{"nul-bytes", "\x00\x00\x00"},
	{"over-1MiB", `{"x":"` + hostileMiB + `"}`},
	{"xml", `<?xml version="1.0"?><Phone/>`},
	{"form", `number=5045550123&type=home`},
	{"nan", `{"a":NaN}`},
	{"single-quotes", `{'a':1}`},
	{"comment", `{/* c */}`},
	{"bom-garbage", "\xef\xbb\xbf{"},
	{"overflow-number", `1e999999`},
}

func (e *hostileEnv) cases(t *testing.T) []hostileCase {
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	c1, o1 := id(e.c1.ID), id(e.o1.ID)
	p1, p3, o9 := id(e.p1.ID), id(e.p3.ID), id(e.o9.ID)
	v1c := "/v1/customers/" + c1
	v1ps := v1c + "/phones"
	v1p := v1ps + "/" + p1
	cr := "/core/v1/cm/customers/" + e.c1.UUID + "/phones"
	te := "/v9/clients/" + c1 + "/phone_numbers"
	teOne := te + "/" + p1
	rb := "/collaboration/contacts/" + c1 + "/phones"
	rbOne := rb + "/" + p1
	relay := func(client, ccid, action, number string) string {
		return "/platform/v3/api/cdm/client/" + client + "/customer/" + ccid + "/" + action + "/" + number
	}
	relayAdd := relay(hostileSlug, "C-1", "add_phone", "5045550123")   // C-1 holds it: a body read as valid is a 409
	relayRm := relay(hostileSlug, "C-1", "remove_phone", "5045550100") // C-1 does not hold it: a 404
	relayConsent := func(addr string) string {
		return "/platform/v3/api/messaging/client/" + hostileSlug + "/consent/channel_addr/" + addr + "/channel_type/sms"
	}
	wasp := "/public-api/phones/customer/save"
	waspRec := func(fields string) string { return `[{` + fields + `}]` }

	var cs []hostileCase
	add := func(c ...hostileCase) { cs = append(cs, c...) }

	// --- every route that reads a body refuses malformed bodies ---
	bodyRoutes := []struct {
		name, method, path string
		opts               []hostileOpt
		empty, array       int // status for an empty body and for [] (0: 400)
	}{
		{"v1 create customer", "POST", "/v1/customers", nil, 0, 0},
		{"v1 patch customer", "PATCH", v1c, nil, 0, 0},
		{"v1 add phone", "POST", v1ps, nil, 0, 0},
		{"v1 patch phone", "PATCH", v1p, nil, 0, 0},
		{"v1 put phone", "PUT", v1p, nil, 0, 0},
		{"v1 batch", "POST", "/v1/phones/batch", nil, 0, 422},
		{"v1 add phone type", "POST", "/v1/phone-types", nil, 0, 0},
		{"crossriver add", "POST", cr, nil, 0, 0},
		{"v9 create", "POST", te, nil, 0, 0},
		{"v9 update", "PUT", teOne, nil, 0, 0},
		{"rambase create json", "POST", rb, []hostileOpt{hCType("application/json"), hShape(shapeRamBaseXML)}, 0, 0},
		{"rambase update json", "PUT", rbOne, []hostileOpt{hCType("application/json")}, 0, 0},
		{"relay add PUT", "PUT", relayAdd, nil, 409, 0},
		{"relay add POST", "POST", relayAdd, nil, 409, 0},
		{"relay remove PUT", "PUT", relayRm, nil, 404, 0},
		{"relay remove POST", "POST", relayRm, nil, 404, 0},
		{"wasp save", "POST", wasp, nil, 0, 0},
		{"v1 put consent", "PUT", "/v1/numbers/5045550123/consent", nil, 0, 0},
		{"v1 inbound sms", "POST", "/v1/inbound/sms", nil, 0, 0},
		{"v1 create webhook", "POST", "/v1/webhooks", nil, 0, 0},
		{"relay consent", "PUT", relayConsent("5045550123"), nil, 0, 0},
	}
	for _, r := range bodyRoutes {
		for _, g := range hostileGenericBodies {
			want := 400
			switch {
			case g.name == "over-1MiB" && strings.HasPrefix(r.name, "rambase"):
				want = 400 // RamBase documents no 413 (dialect/rambase/README.md)
			case g.name == "over-1MiB":
				want = 413
			case (g.name == "empty" || g.name == "whitespace") && r.empty != 0:
				want = r.empty
			case g.name == "empty-array" && r.array != 0:
				want = r.array
			}
			add(hReq(r.name+"/"+g.name, r.method, r.path, g.body, append([]hostileOpt{hStatus(want)}, r.opts...)...))
		}
	}

	// --- system routes: public, read-only; odd queries are harmless ---
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/"} {
		add(hReq("system "+p+" hostile query", "GET", p+"?q=%27%20OR%201%3D1--&x=%00%FF&<script>=1", "", hAccept("public read-only route: the query is ignored")))
		add(hReq("system "+p+" POST", "POST", p, `{"a":1}`, hStatus(405), hCode("method_not_allowed"), hShape(shapeProblem)))
	}
	add(hReq("system /docs/ unknown asset", "GET", "/docs/%00%FF", "", hStatus(404), hShape(shapeNotFoundText)))
	add(hReq("system /docs/ traversal", "GET", "/docs/..%2f..%2fetc%2fpasswd", "", hStatus(404), hShape(shapeNotFoundText)))
	add(hReq("router unknown path", "GET", "/v1/nope", "", hStatus(404), hCode("not_found")))
	add(hReq("router unknown path SQL", "GET", "/v1/customers%27%3B%20DROP%20TABLE%20customers%3B--", "", hStatus(404), hCode("not_found")))

	// --- POST /v1/customers ---
	pc := func(name, body string, opts ...hostileOpt) {
		add(hReq("v1 create customer/"+name, "POST", "/v1/customers", body, opts...))
	}
	pc("name number", `{"name":123}`, hStatus(422), hCode("validation"))
	pc("name bool", `{"name":true}`, hStatus(422), hCode("validation"))
	pc("name object", `{"name":{}}`, hStatus(422), hCode("validation"))
	pc("name array", `{"name":["a"]}`, hStatus(422), hCode("validation"))
	pc("name nested arrays", `{"name":`+hostileNested+`}`, hStatus(422), hCode("validation"))
	pc("name overflowing number", `{"name":1e400}`, hStatus(422), hCode("validation"))
	pc("external_id number", `{"external_id":100000}`, hStatus(422), hCode("validation"))
	pc("status number", `{"status":1}`, hStatus(422), hCode("validation"))
	pc("status null", `{"status":null}`, hStatus(422), hCode("validation"))
	pc("status unknown", `{"status":"deleted"}`, hStatus(422), hCode("validation"))
	pc("status upper case", `{"status":"ACTIVE"}`, hStatus(422), hCode("validation"))
	pc("status empty", `{"name":"x","status":" "}`, hStatus(422), hCode("validation"))
	pc("status invalid utf8", "{\"status\":\"\xff\"}", hStatus(422), hCode("validation"))
	pc("name 1M chars", `{"name":"`+hostileBig+`"}`, hStatus(422), hCode("validation"))
	pc("name NUL", `{"name":"a\u0000b"}`, hStatus(422), hCode("validation"))
	pc("name ESC", `{"name":"a\u001b[31mb"}`, hStatus(422), hCode("validation"))
	pc("name raw control byte", "{\"name\":\"a\x01b\"}", hStatus(400), hCode("malformed_json"))
	pc("name DEL", `{"name":"a\u007fb"}`, hStatus(422), hCode("validation"))
	pc("external_id newline", `{"external_id":"x\ny"}`, hStatus(422), hCode("validation"))
	pc("external_id 101 chars", `{"external_id":"`+strings.Repeat("x", 101)+`"}`, hStatus(422), hCode("validation"))
	pc("external_id taken", `{"external_id":"C-1"}`, hStatus(409), hCode("conflict"))
	pc("external_id taken padded", `{"external_id":"  C-1  "}`, hStatus(409), hCode("conflict"))
	pc("unknown field", `{"nme":"x"}`, hStatus(400), hCode("unknown_field"))
	pc("unknown field id", `{"id":1,"name":"x"}`, hStatus(400), hCode("unknown_field"))
	pc("unknown field phones", `{"name":"x","phones":[{"number":"5045550123"}]}`, hStatus(400), hCode("unknown_field"))
	pc("unknown field SQL", `{"name; DROP TABLE customers":"x"}`, hStatus(400), hCode("unknown_field"))
	pc("unknown field invalid utf8", "{\"\xff\":1}", hStatus(422), hCode("validation"))
	pc("name invalid utf8", "{\"name\":\"a\xffb\"}", hStatus(422), hCode("validation"))
	pc("external_id invalid utf8", "{\"name\":\"x\",\"external_id\":\"C-\xc3\"}", hStatus(422), hCode("validation"))
	pc("name lone surrogate", `{"name":"a\ud800b"}`, hStatus(422), hCode("validation"))
	pc("duplicate keys last bad", `{"status":"active","status":"bogus"}`, hStatus(422), hCode("validation"))
	pc("content-type text/plain", `{"name":"x"}`, hCType("text/plain"), hStatus(415), hCode("unsupported_media_type"))
	pc("content-type missing", `{"name":"x"}`, hCType(""), hStatus(415), hCode("unsupported_media_type"))
	pc("content-type xml", `<customer><name>x</name></customer>`, hCType("application/xml"), hStatus(415), hCode("unsupported_media_type"))
	pc("content-type form", `name=x`, hCType("application/x-www-form-urlencoded"), hStatus(415), hCode("unsupported_media_type"))
	pc("content-type multipart", "--b\r\n\r\nx\r\n--b--", hCType("multipart/form-data; boundary=b"), hStatus(415), hCode("unsupported_media_type"))
	pc("content-type malformed", `{"name":"x"}`, hCType("application/json; charset"), hStatus(415), hCode("unsupported_media_type"))
	pc("content-type lookalike", `{"name":"x"}`, hCType("application/jsonx"), hStatus(415), hCode("unsupported_media_type"))
	pc("idempotency key control", `{"name":"x"}`, hHeader("Idempotency-Key", "k\x01y"), hStatus(422), hCode("validation"))
	pc("idempotency key 300 chars", `{"name":"x"}`, hHeader("Idempotency-Key", strings.Repeat("k", 300)), hStatus(422), hCode("validation"))
	pc("idempotency key with bad body", `{"name":`, hHeader("Idempotency-Key", "hostile-1"), hStatus(400), hCode("malformed_json"))
	pc("no key", `{"name":"x"}`, hNoKey(), hStatus(401), hCode("unauthorized"))
	pc("key 1 MB", `{"name":"x"}`, hKey(hostileMiB), hAuth(), hStatus(401), hCode("unauthorized"))
	pc("key SQL", `{"name":"x"}`, hKey(`' OR '1'='1`), hAuth(), hStatus(401), hCode("unauthorized"))
	pc("key basic scheme", `{"name":"x"}`, hHeader("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("a:b"))), hAuth(), hStatus(401), hCode("unauthorized"))
	pc("read-only key", `{"name":"x"}`, hKey(hostileReadKey), hAuth(), hStatus(403), hCode("forbidden"))
	add(hReq("v1 customers PUT", "PUT", "/v1/customers", `{}`, hStatus(405), hCode("method_not_allowed")))

	// --- GET /v1/customers: filters, sort, limit, cursor ---
	lc := func(name, query string, opts ...hostileOpt) {
		add(hReq("v1 list customers/"+name, "GET", "/v1/customers?"+query, "", opts...))
	}
	for _, v := range []string{"-1", "0", "501", "99999999999999999999", "abc", "1.5", "1e3", "%00", "0x10", "+5%20"} {
		lc("limit "+v, "limit="+v, hStatus(422), hCode("validation"))
	}
	lc("sort unknown", "sort=bogus", hStatus(422), hCode("validation"))
	lc("sort SQL", "sort=name%3B%20DROP%20TABLE%20customers", hStatus(422), hCode("validation"))
	lc("sort SQL order", "sort=id%20DESC%2C(SELECT%201)", hStatus(422), hCode("validation"))
	lc("status unknown", "status=deleted", hStatus(422), hCode("validation"))
	lc("status SQL", "status=active%27%20OR%20%271%27%3D%271", hStatus(422), hCode("validation"))
	lc("cursor garbage", "cursor=garbage!!", hStatus(422), hCode("validation"))
	lc("cursor NUL", "cursor=%00", hStatus(422), hCode("validation"))
	lc("cursor base64 of null", "cursor="+base64.RawURLEncoding.EncodeToString([]byte("null")), hStatus(422), hCode("validation"))
	lc("cursor negative id", "cursor="+base64.RawURLEncoding.EncodeToString([]byte(`{"s":"created_at","k":"1","i":-1}`)), hStatus(422), hCode("validation"))
	lc("cursor other sort", "cursor="+base64.RawURLEncoding.EncodeToString([]byte(`{"s":"name","k":"a","i":1}`)), hStatus(422), hCode("validation"))
	lc("cursor SQL key", "cursor="+base64.RawURLEncoding.EncodeToString([]byte(`{"s":"created_at","k":"1 OR 1=1","i":1}`)), hStatus(422), hCode("validation"))
	lc("cursor SQL name key", "sort=name&cursor="+base64.RawURLEncoding.EncodeToString([]byte(`{"s":"name","k":"' OR 1=1 --","i":1}`)), hAccept("a name cursor's key is a bound value: a list, possibly empty"))
	lc("cursor 100k", "cursor="+hostileLongPath, hStatus(422), hCode("validation"))
	lc("phone letters", "phone=abc", hStatus(422), hCode("invalid_number"))
	lc("phone NUL", "phone=%00", hStatus(422), hCode("invalid_number"))
	lc("phone SQL", "phone=%27%20OR%201%3D1--", hStatus(422), hCode("invalid_number"))
	lc("phone 100k", "phone="+hostileLongPath, hStatus(422), hCode("invalid_number"))
	lc("q SQL", "q=%27%3B%20DROP%20TABLE%20customers%3B--", hAccept("q is a substring filter: SQL is text"))
	lc("q LIKE wildcards", "q=%25_%25", hAccept("q is a substring filter"))
	lc("q invalid utf8", "q=%FF%FE", hStatus(422), hCode("validation"))
	lc("external_id invalid utf8", "external_id=C-%C3", hStatus(422), hCode("validation"))
	lc("q control chars", "q=%00%01%1b", hAccept("q is a substring filter"))
	lc("q 100k", "q="+hostileLongPath, hAccept("q is a substring filter"))
	lc("q 49999 chars", "q="+strings.Repeat("a", 49_999), hAccept("q is a substring filter"))
	lc("q 25000 percent signs", "q="+strings.Repeat("%25", 25_000), hAccept("q is a substring filter"))
	lc("external_id SQL", "external_id=%27%20OR%20%271%27%3D%271", hAccept("external_id is a bound value"), hostileCheckEmptyList)
	lc("repeated params", "limit=1&limit=abc&sort=name&sort=bogus", hAccept("the first value of a repeated parameter is read"))
	lc("no key", "", hNoKey(), hStatus(401), hCode("unauthorized"))

	// --- /v1/customers/{id}: ids that are no customer's ---
	badIDs := []struct{ name, seg string }{
		{"negative", "-1"}, {"zero", "0"}, {"overflow", "99999999999999999999"}, {"max int64", "9223372036854775807"},
		{"max int64 + 1", "9223372036854775808"}, {"exponent", "1e5"}, {"hex", "0x186A0"}, {"padded", "%20" + c1},
		{"decimal", c1 + ".0"}, {"SQL", "1%20OR%201%3D1"}, {"SQL quote", "%27%20OR%20%271%27%3D%271"},
		{"NUL", "%00"}, {"bad uuid", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"},
		{"uuid SQL", "%27%20OR%201%3D1--aaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, {"100k digits", hostileLongPath},
		{"other tenant", o1}, {"other tenant uuid", e.o1.UUID},
	}
	for _, b := range badIDs {
		p := "/v1/customers/" + b.seg
		add(hReq("v1 get customer/"+b.name, "GET", p, "", hStatus(404), hCode("not_found")))
		add(hReq("v1 patch customer/"+b.name, "PATCH", p, `{"name":"x"}`, hStatus(404), hCode("not_found")))
		add(hReq("v1 delete customer/"+b.name, "DELETE", p, "", hStatus(404), hCode("not_found")))
		add(hReq("v1 add phone/"+b.name, "POST", p+"/phones", `{"number":"5045550111"}`, hStatus(404), hCode("not_found")))
		add(hReq("v1 list phones/"+b.name, "GET", p+"/phones", "", hStatus(404), hCode("not_found")))
	}
	// A path value that is not UTF-8 is no id at all: validation, naming it.
	add(hReq("v1 get customer/invalid utf8", "GET", "/v1/customers/%FF", "", hStatus(422), hCode("validation")))
	add(hReq("v1 delete customer/invalid utf8", "DELETE", "/v1/customers/%FF", "", hStatus(422), hCode("validation")))
	add(hReq("v1 customer history/invalid utf8", "GET", "/v1/customers/%FF/history", "", hStatus(422), hCode("validation")))
	add(hReq("v1 get phone/invalid utf8", "GET", "/v1/customers/"+c1+"/phones/%C3", "", hStatus(422), hCode("validation")))
	pa := func(name, body string, opts ...hostileOpt) {
		add(hReq("v1 patch customer/"+name, "PATCH", v1c, body, opts...))
	}
	pa("name number", `{"name":1}`, hStatus(422), hCode("validation"))
	pa("status null", `{"status":null}`, hStatus(422), hCode("validation"))
	pa("status empty", `{"status":""}`, hStatus(422), hCode("validation"))
	pa("status unknown", `{"status":"deleted"}`, hStatus(422), hCode("validation"))
	pa("external_id NUL", `{"external_id":"\u0000"}`, hStatus(422), hCode("validation"))
	pa("external_id taken", `{"external_id":"C-2"}`, hStatus(409), hCode("conflict"))
	pa("unknown field version", `{"version":99}`, hStatus(400), hCode("unknown_field"))
	pa("If-Match garbage", `{"name":"x"}`, hHeader("If-Match", `"abc"`), hStatus(412), hCode("precondition_failed"))
	pa("If-Match overflow", `{"name":"x"}`, hHeader("If-Match", `"99999999999999999999"`), hStatus(412), hCode("precondition_failed"))
	pa("If-Match zero", `{"name":"x"}`, hHeader("If-Match", `"0"`), hStatus(412), hCode("precondition_failed"))
	pa("If-Match negative", `{"name":"x"}`, hHeader("If-Match", `"-1"`), hStatus(412), hCode("precondition_failed"))
	pa("read-only key", `{"name":"x"}`, hKey(hostileReadKey), hAuth(), hStatus(403), hCode("forbidden"))
	add(hReq("v1 delete customer/If-Match stale", "DELETE", v1c, "", hHeader("If-Match", `"999"`), hStatus(412), hCode("precondition_failed")))
	add(hReq("v1 delete customer/If-Match SQL", "DELETE", v1c, "", hHeader("If-Match", `"1 OR 1=1"`), hStatus(412), hCode("precondition_failed")))
	add(hReq("v1 delete customer/read-only key", "DELETE", v1c, "", hKey(hostileReadKey), hAuth(), hStatus(403), hCode("forbidden")))
	add(hReq("v1 get customer/no key", "GET", v1c, "", hNoKey(), hStatus(401), hCode("unauthorized")))

	// --- POST /v1/customers/{id}/phones ---
	ap := func(name, body string, opts ...hostileOpt) {
		add(hReq("v1 add phone/"+name, "POST", v1ps, body, opts...))
	}
	ap("number number", `{"number":5045550111}`, hStatus(422), hCode("validation"))
	ap("number null", `{"number":null}`, hStatus(422), hCode("validation"))
	ap("number empty", `{"number":""}`, hStatus(422), hCode("validation"))
	ap("number missing", `{"type":"home"}`, hStatus(422), hCode("validation"))
	ap("number letters", `{"number":"abc"}`, hStatus(422), hCode("invalid_number"))
	ap("number SQL", `{"number":"'; DROP TABLE phones;--"}`, hStatus(422), hCode("invalid_number"))
	ap("number 1M chars", `{"number":"`+hostileBig+`"}`, hStatus(422), hCode("invalid_number"))
	ap("number NUL", `{"number":"504555\u00000123"}`, hStatus(422), hCode("invalid_number"))
	ap("number too short", `{"number":"123"}`, hStatus(422), hCode("invalid_number"))
	ap("number nested arrays", `{"number":`+hostileNested+`}`, hStatus(422), hCode("validation"))
	ap("number duplicate", `{"number":"(504) 555-0123"}`, hStatus(409), hCode("phone_duplicate"))
	ap("number duplicate E.164", `{"number":"+15045550123"}`, hStatus(409), hCode("phone_duplicate"))
	ap("extension letters", `{"number":"5045550111","extension":"12a"}`, hStatus(422), hCode("validation"))
	ap("extension 21 digits", `{"number":"5045550111","extension":"`+strings.Repeat("1", 21)+`"}`, hStatus(422), hCode("validation"))
	ap("extension negative", `{"number":"5045550111","extension":-5}`, hStatus(422), hCode("validation"))
	ap("extension overflow", `{"number":"5045550111","extension":1e400}`, hStatus(422), hCode("validation"))
	ap("extension bool", `{"number":"5045550111","extension":true}`, hStatus(422), hCode("validation"))
	ap("country unknown", `{"number":"5045550111","country_code":"ZZ"}`, hStatus(422), hCode("validation"))
	ap("country number", `{"number":"5045550111","country_code":999999}`, hStatus(422), hCode("validation"))
	ap("country bool", `{"number":"5045550111","country_code":true}`, hStatus(422), hCode("validation"))
	ap("country SQL", `{"number":"5045550111","country_code":"US' OR 1=1"}`, hStatus(422), hCode("validation"))
	ap("type unknown", `{"number":"5045550111","type":"pager"}`, hStatus(422), hCode("type_unknown"))
	ap("type empty", `{"number":"5045550111","type":" "}`, hStatus(422), hCode("validation"))
	ap("type null", `{"number":"5045550111","type":null}`, hStatus(422), hCode("validation"))
	ap("type 1M chars", `{"number":"5045550111","type":"`+hostileBig+`"}`, hStatus(422), hCode("type_unknown"))
	ap("label 21 chars", `{"number":"5045550111","label":"`+strings.Repeat("l", 21)+`"}`, hStatus(422), hCode("validation"))
	ap("label BEL", `{"number":"5045550111","label":"a\u0007"}`, hStatus(422), hCode("validation"))
	ap("notes 256 chars", `{"number":"5045550111","notes":"`+strings.Repeat("n", 256)+`"}`, hStatus(422), hCode("validation"))
	ap("notes NUL", `{"number":"5045550111","notes":"\u0000"}`, hStatus(422), hCode("validation"))
	ap("status unknown", `{"number":"5045550111","status":"gone"}`, hStatus(422), hCode("validation"))
	ap("status null", `{"number":"5045550111","status":null}`, hStatus(422), hCode("validation"))
	ap("line_kind unknown", `{"number":"5045550111","line_kind":"satellite"}`, hStatus(422), hCode("validation"))
	ap("consent type unknown", `{"number":"5045550111","consent":{"type":"maybe"}}`, hStatus(422), hCode("validation"))
	ap("consent type null", `{"number":"5045550111","consent":{"type":null}}`, hStatus(422), hCode("validation"))
	ap("consent string", `{"number":"5045550111","consent":"written"}`, hStatus(422), hCode("validation"))
	ap("consent unknown field", `{"number":"5045550111","consent":{"typo":"written"}}`, hStatus(400), hCode("unknown_field"))
	ap("consent source control", `{"number":"5045550111","consent":{"type":"written","source":"\u0001"}}`, hStatus(422), hCode("validation"))
	ap("is_primary string", `{"number":"5045550111","is_primary":"yes"}`, hStatus(422), hCode("validation"))
	ap("is_primary number", `{"number":"5045550111","is_primary":1}`, hStatus(422), hCode("validation"))
	ap("is_primary null", `{"number":"5045550111","is_primary":null}`, hStatus(422), hCode("validation"))
	ap("duplicate keys last bad", `{"number":"5045550111","number":"abc"}`, hStatus(422), hCode("invalid_number"))
	ap("content-type text", `{"number":"5045550111"}`, hCType("text/plain"), hStatus(415), hCode("unsupported_media_type"))
	ap("read-only key", `{"number":"5045550111"}`, hKey(hostileReadKey), hAuth(), hStatus(403), hCode("forbidden"))
	add(hReq("v1 list phones/no key", "GET", v1ps, "", hNoKey(), hStatus(401), hCode("unauthorized")))

	// --- /v1/customers/{id}/phones/{phoneId} ---
	badPhoneIDs := []struct{ name, seg string }{
		{"negative", "-1"}, {"zero", "0"}, {"overflow", "99999999999999999999"}, {"SQL", "1%20OR%201%3D1"},
		{"NUL", "%00"}, {"100k digits", hostileLongPath}, {"another customer's", p3}, {"other tenant's", o9},
	}
	for _, b := range badPhoneIDs {
		p := v1ps + "/" + b.seg
		add(hReq("v1 get phone/"+b.name, "GET", p, "", hStatus(404), hCode("not_found")))
		add(hReq("v1 patch phone/"+b.name, "PATCH", p, `{"label":"x"}`, hStatus(404), hCode("not_found")))
		add(hReq("v1 put phone/"+b.name, "PUT", p, `{"number":"5045550111"}`, hStatus(404), hCode("not_found")))
		add(hReq("v1 delete phone/"+b.name, "DELETE", p, "", hStatus(404), hCode("not_found")))
	}
	add(hReq("v1 get phone/customer overflow", "GET", "/v1/customers/99999999999999999999/phones/"+p1, "", hStatus(404), hCode("not_found")))
	pp := func(name, body string, opts ...hostileOpt) {
		add(hReq("v1 patch phone/"+name, "PATCH", v1p, body, opts...))
	}
	pp("number null", `{"number":null}`, hStatus(422), hCode("validation"))
	pp("number letters", `{"number":"abc"}`, hStatus(422), hCode("invalid_number"))
	pp("number of the other phone", `{"number":"(504) 555-0199"}`, hStatus(409), hCode("phone_duplicate"))
	pp("is_primary null", `{"is_primary":null}`, hStatus(422), hCode("validation"))
	pp("is_primary string", `{"is_primary":"false"}`, hStatus(422), hCode("validation"))
	pp("type unknown", `{"type":"pager"}`, hStatus(422), hCode("type_unknown"))
	pp("status unknown", `{"status":"deleted"}`, hStatus(422), hCode("validation"))
	pp("consent type none-ish", `{"consent":{"type":"NONE"}}`, hStatus(422), hCode("validation"))
	pp("unknown field e164", `{"e164":"+15045550000"}`, hStatus(400), hCode("unknown_field"))
	pp("If-Match stale", `{"label":"x"}`, hHeader("If-Match", `"999"`), hStatus(412), hCode("precondition_failed"))
	pp("null body", `null`, hStatus(200), hAccept("KNOWN: a null body reads as {} (no change, no write)"))
	pu := func(name, body string, opts ...hostileOpt) {
		add(hReq("v1 put phone/"+name, "PUT", v1p, body, opts...))
	}
	pu("empty object", `{}`, hStatus(422), hCode("validation"))
	pu("null", `null`, hStatus(422), hCode("validation"))
	pu("number null", `{"number":null}`, hStatus(422), hCode("validation"))
	pu("number bool", `{"number":false}`, hStatus(422), hCode("validation"))
	pu("type unknown", `{"number":"5045550123","type":"pager"}`, hStatus(422), hCode("type_unknown"))
	pu("extension letters", `{"number":"5045550123","extension":"x"}`, hStatus(422), hCode("validation"))
	pu("If-Match stale", `{"number":"5045550123"}`, hHeader("If-Match", `W/"999"`), hStatus(412), hCode("precondition_failed"))
	add(hReq("v1 delete phone/If-Match stale", "DELETE", v1p, "", hHeader("If-Match", `"999"`), hStatus(412), hCode("precondition_failed")))
	add(hReq("v1 delete phone/read-only key", "DELETE", v1p, "", hKey(hostileReadKey), hAuth(), hStatus(403), hCode("forbidden")))
	add(hReq("v1 get phone/no key", "GET", v1p, "", hNoKey(), hStatus(401), hCode("unauthorized")))

	// --- POST /v1/phones/batch ---
	bt := func(name, body string, opts ...hostileOpt) {
		add(hReq("v1 batch/"+name, "POST", "/v1/phones/batch", body, opts...))
	}
	bt("records string", `{"records":"x"}`, hStatus(422), hCode("validation"))
	bt("records object", `{"records":{}}`, hStatus(422), hCode("validation"))
	bt("records null", `{"records":null}`, hStatus(422), hCode("validation"))
	bt("records empty", `{"records":[]}`, hStatus(422), hCode("validation"))
	bt("null", `null`, hStatus(422), hCode("validation"))
	bt("501 records", `[`+strings.TrimSuffix(strings.Repeat(`{"customer_id":"`+c1+`","number":"abc"},`, 501), ",")+`]`, hStatus(422), hCode("validation"))
	bt("unknown envelope field", `{"recs":[]}`, hStatus(400), hCode("unknown_field"))
	bt("record not objects", `[1,"x",null,true,[]]`, hShape(shapeBatchRecords))
	bt("record nested arrays", `[`+hostileNested+`]`, hShape(shapeBatchRecords))
	bt("customer_id negative", `[{"customer_id":"-1","number":"5045550111"}]`, hShape(shapeBatchRecords), hCode("not_found"))
	bt("customer_id overflow", `[{"customer_id":99999999999999999999,"number":"5045550111"}]`, hShape(shapeBatchRecords), hCode("not_found"))
	bt("customer_id 1e400", `[{"customer_id":1e400,"number":"5045550111"}]`, hShape(shapeBatchRecords), hCode("not_found"))
	bt("customer_id SQL", `[{"customer_id":"1 OR 1=1","number":"5045550111"}]`, hShape(shapeBatchRecords), hCode("not_found"))
	bt("customer_id bool", `[{"customer_id":true,"number":"5045550111"}]`, hShape(shapeBatchRecords), hCode("validation"))
	bt("customer_id other tenant", `[{"customer_id":"`+o1+`","number":"5045550111"}]`, hShape(shapeBatchRecords), hCode("not_found"))
	bt("external_id SQL", `[{"external_id":"' OR '1'='1","number":"5045550111"}]`, hShape(shapeBatchRecords), hCode("not_found"))
	bt("both customer keys", `[{"customer_id":"`+c1+`","external_id":"C-1","number":"5045550111"}]`, hShape(shapeBatchRecords), hCode("validation"))
	bt("no customer", `[{"number":"5045550111"}]`, hShape(shapeBatchRecords), hCode("validation"))
	bt("number letters", `[{"customer_id":"`+c1+`","number":"abc"}]`, hShape(shapeBatchRecords), hCode("invalid_number"))
	bt("type unknown", `{"records":[{"external_id":"C-1","number":"5045550111","type":"pager"}]}`, hShape(shapeBatchRecords), hCode("type_unknown"))
	bt("record unknown field", `[{"customer_id":"`+c1+`","number":"5045550111","hack":1}]`, hShape(shapeBatchRecords), hCode("unknown_field"))
	bt("content-type form", `records=1`, hCType("application/x-www-form-urlencoded"), hStatus(415), hCode("unsupported_media_type"))
	bt("read-only key", `[]`, hKey(hostileReadKey), hAuth(), hStatus(403), hCode("forbidden"))

	// --- GET /v1/phones?number= ---
	lk := func(name, query string, opts ...hostileOpt) {
		add(hReq("v1 lookup/"+name, "GET", "/v1/phones?"+query, "", opts...))
	}
	lk("no number", "", hStatus(422), hCode("validation"))
	lk("empty number", "number=", hStatus(422), hCode("validation"))
	lk("letters", "number=abc", hStatus(422), hCode("invalid_number"))
	lk("NUL", "number=%00", hStatus(422), hCode("invalid_number"))
	lk("SQL", "number=%27%20OR%201%3D1--", hStatus(422), hCode("invalid_number"))
	lk("100k", "number="+hostileLongPath, hStatus(422), hCode("invalid_number"))
	lk("invalid utf8", "number=%FF%FE", hStatus(422), hCode("validation"))
	lk("country unknown", "number=5045550123&country_code=ZZ", hStatus(422), hCode("validation"))
	lk("country SQL", "number=5045550123&country_code=%27%20OR%201%3D1", hStatus(422), hCode("validation"))
	lk("no key", "number=5045550123", hNoKey(), hStatus(401), hCode("unauthorized"))

	// --- phone types ---
	add(hReq("v1 list phone types/hostile query", "GET", "/v1/phone-types?name=%27%20OR%201%3D1&limit=-1", "", hAccept("the list takes no parameters")))
	add(hReq("v1 list phone types/no key", "GET", "/v1/phone-types", "", hNoKey(), hStatus(401), hCode("unauthorized")))
	pt := func(name, body string, opts ...hostileOpt) {
		add(hReq("v1 add phone type/"+name, "POST", "/v1/phone-types", body, opts...))
	}
	pt("name empty", `{"name":""}`, hStatus(422), hCode("validation"))
	pt("name blank", `{"name":"   "}`, hStatus(422), hCode("validation"))
	pt("name null", `{"name":null}`, hStatus(422), hCode("validation"))
	pt("name missing", `{}`, hStatus(422), hCode("validation"))
	pt("name number", `{"name":1}`, hStatus(422), hCode("validation"))
	pt("name 51 chars", `{"name":"`+strings.Repeat("t", 51)+`"}`, hStatus(422), hCode("validation"))
	pt("name 1M chars", `{"name":"`+hostileBig+`"}`, hStatus(422), hCode("validation"))
	pt("name NUL", `{"name":"pa\u0000ger"}`, hStatus(422), hCode("validation"))
	pt("name built in", `{"name":"home"}`, hStatus(409), hCode("conflict"))
	pt("name built in upper", `{"name":" HOME "}`, hStatus(409), hCode("conflict"))
	pt("read-only key", `{"name":"pager"}`, hKey(hostileReadKey), hAuth(), hStatus(403), hCode("forbidden"))
	dt := func(name, seg string, opts ...hostileOpt) {
		add(hReq("v1 delete phone type/"+name, "DELETE", "/v1/phone-types/"+seg, "", opts...))
	}
	dt("built in", "home", hStatus(409), hCode("conflict"))
	dt("built in upper", "WORK", hStatus(409), hCode("conflict"))
	dt("unknown", "pager", hStatus(404), hCode("not_found"))
	dt("SQL", "%27%20OR%201%3D1--", hStatus(404), hCode("not_found"))
	dt("NUL", "%00", hStatus(404), hCode("not_found"))
	dt("100k", hostileLongPath, hStatus(404), hCode("not_found"))
	dt("read-only key", "pager", hKey(hostileReadKey), hAuth(), hStatus(403), hCode("forbidden"))

	// --- Cross River ---
	cra := func(name, body string, opts ...hostileOpt) {
		add(hReq("crossriver add/"+name, "POST", cr, body, opts...))
	}
	good := `"isPrimary":false,"phoneType":"home"`
	cra("nothing", `{}`, hStatus(400), hCode("1001"))
	cra("notes invalid utf8", "{"+good+",\"phoneNumber\":\"5045550111\",\"notes\":\"a\xffb\"}", hStatus(400), hCode("1005"))
	cra("null", `null`, hStatus(400), hCode("1001"))
	cra("isPrimary string", `{"isPrimary":"yes","phoneType":"home","phoneNumber":"5045550111"}`, hStatus(400), hCode("1001"))
	cra("isPrimary null", `{"isPrimary":null,"phoneType":"home","phoneNumber":"5045550111"}`, hStatus(400), hCode("1001"))
	cra("phoneType unknown", `{"isPrimary":false,"phoneType":"pager","phoneNumber":"5045550111"}`, hStatus(400), hCode("1002"))
	cra("phoneType other", `{"isPrimary":false,"phoneType":"other","phoneNumber":"5045550111"}`, hStatus(400), hCode("1002"))
	cra("phoneType number", `{"isPrimary":false,"phoneType":1,"phoneNumber":"5045550111"}`, hStatus(400), hCode("1002"))
	cra("phoneType empty", `{"isPrimary":false,"phoneType":"","phoneNumber":"5045550111"}`, hStatus(400), hCode("1002"))
	cra("phoneNumber number", `{`+good+`,"phoneNumber":5045550111}`, hStatus(400), hCode("1003"))
	cra("phoneNumber dashes", `{`+good+`,"phoneNumber":"504-555-0111"}`, hStatus(400), hCode("1003"))
	cra("phoneNumber short", `{`+good+`,"phoneNumber":"123"}`, hStatus(400), hCode("1003"))
	cra("phoneNumber 21 digits", `{`+good+`,"phoneNumber":"`+strings.Repeat("5", 21)+`"}`, hStatus(400), hCode("1003"))
	cra("phoneNumber 1M digits", `{`+good+`,"phoneNumber":"`+hostileBig+`"}`, hStatus(400), hCode("1003"))
	cra("phoneNumber negative", `{`+good+`,"phoneNumber":"-5045550111"}`, hStatus(400), hCode("1003"))
	cra("phoneNumber SQL", `{`+good+`,"phoneNumber":"5045550111' OR 1=1"}`, hStatus(400), hCode("1003"))
	cra("phoneNumber NUL", `{`+good+`,"phoneNumber":"50455501\u000011"}`, hStatus(400), hCode("1003"))
	cra("phoneNumber unreadable", `{`+good+`,"phoneNumber":"99999999999999999999"}`, hStatus(400), hCode("1003"))
	cra("phoneNumber wrong length", `{`+good+`,"phoneNumber":"1234567890123"}`, hStatus(400), hCode("1003"))
	cra("phoneNumber nested", `{`+good+`,"phoneNumber":`+hostileNested+`}`, hStatus(400), hCode("1003"))
	cra("extension letters", `{`+good+`,"phoneNumber":"5045550111","extension":"abc"}`, hStatus(400), hCode("1004"))
	cra("extension number", `{`+good+`,"phoneNumber":"5045550111","extension":12}`, hStatus(400), hCode("1004"))
	cra("extension 21", `{`+good+`,"phoneNumber":"5045550111","extension":"`+strings.Repeat("1", 21)+`"}`, hStatus(400), hCode("1004"))
	cra("notes 256", `{`+good+`,"phoneNumber":"5045550111","notes":"`+strings.Repeat("n", 256)+`"}`, hStatus(400), hCode("1005"))
	cra("notes object", `{`+good+`,"phoneNumber":"5045550111","notes":{}}`, hStatus(400), hCode("1005"))
	cra("duplicate", `{`+good+`,"phoneNumber":"5045550123"}`, hStatus(400), hCode("2230"))
	cra("duplicate with 1", `{`+good+`,"phoneNumber":"15045550123"}`, hStatus(400), hCode("2230"))
	cra("duplicate keys last bad", `{`+good+`,"phoneNumber":"5045550111","phoneNumber":"x"}`, hStatus(400), hCode("1003"))
	cra("xml content", `<phone><phoneNumber>5045550111</phoneNumber></phone>`, hCType("application/xml"), hStatus(400), hCode("1000"))
	cra("no key", `{}`, hNoKey(), hStatus(401), hCode("3001"))
	cra("X-API-Key only", `{}`, hNoKey(), hHeader("X-API-Key", hostileAdminKey), hStatus(401), hCode("3001"))
	cra("read-only key", `{}`, hKey(hostileReadKey), hAuth(), hStatus(403), hCode("3002"))
	for _, b := range []struct{ name, seg string }{
		{"integer id", c1}, {"zero", "0"}, {"negative", "-1"}, {"SQL", "%27%20OR%201%3D1--"}, {"NUL", "%00"},
		{"bad uuid", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"}, {"100k", hostileLongPath}, {"other tenant", e.o1.UUID},
	} {
		p := "/core/v1/cm/customers/" + b.seg + "/phones"
		add(hReq("crossriver add/customer "+b.name, "POST", p, `{`+good+`,"phoneNumber":"5045550111"}`, hStatus(404), hCode("2001")))
		add(hReq("crossriver list/customer "+b.name, "GET", p, "", hStatus(404), hCode("2001")))
	}
	add(hReq("crossriver list/no key", "GET", cr, "", hNoKey(), hStatus(401), hCode("3001")))
	add(hReq("crossriver list/bearer 1 MB", "GET", cr, "", hKey(hostileMiB), hAuth(), hStatus(401), hCode("3001")))
	add(hReq("crossriver DELETE", "DELETE", cr, "", hStatus(405), hShape(shapeProblem), hCode("method_not_allowed")))

	// --- Ticket Evolution v9 ---
	badClients := []struct{ name, seg string }{
		{"zero", "0"}, {"negative", "-1"}, {"under 100000", "99999"}, {"overflow", "99999999999999999999"},
		{"exponent", "1e5"}, {"letters", "abc"}, {"SQL", c1 + "%20OR%201%3D1"}, {"NUL", "%00"}, {"other tenant", o1},
	}
	for _, b := range badClients {
		p := "/v9/clients/" + b.seg + "/phone_numbers"
		add(hReq("v9 list/client "+b.name, "GET", p, "", hStatus(404), hCode("Client not found")))
		add(hReq("v9 create/client "+b.name, "POST", p, `{"phone_numbers":[{"number":"5045550111"}]}`, hStatus(404), hCode("Client not found")))
		add(hReq("v9 get/client "+b.name, "GET", p+"/"+p1, "", hStatus(404), hCode("Client not found")))
		add(hReq("v9 update/client "+b.name, "PUT", p+"/"+p1, `{"label":"x"}`, hStatus(404), hCode("Client not found")))
	}
	for _, b := range []struct{ name, seg string }{
		{"zero", "0"}, {"negative", "-1"}, {"overflow", "99999999999999999999"}, {"letters", "abc"},
		{"SQL", p1 + "%20OR%201%3D1"}, {"another client's", p3}, {"other tenant's", o9},
	} {
		add(hReq("v9 get/phone "+b.name, "GET", te+"/"+b.seg, "", hStatus(404), hCode("Phone number not found")))
		add(hReq("v9 update/phone "+b.name, "PUT", te+"/"+b.seg, `{"label":"x"}`, hStatus(404), hCode("Phone number not found")))
	}
	tl := func(name, query string, opts ...hostileOpt) {
		add(hReq("v9 list/"+name, "GET", te+"?"+query, "", opts...))
	}
	for _, v := range []string{"0", "-1", "abc", "99999999999999999999", "1.5", "%00"} {
		tl("page "+v, "page="+v, hStatus(422), hCode("page"))
	}
	for _, v := range []string{"0", "101", "-5", "abc", "1e2"} {
		tl("per_page "+v, "per_page="+v, hStatus(422), hCode("per_page"))
	}
	tl("no token", "", hNoKey(), hStatus(401))
	tl("Authorization instead", "", hNoKey(), hHeader("Authorization", "Bearer "+hostileAdminKey), hStatus(401))
	tc := func(name, body string, opts ...hostileOpt) {
		add(hReq("v9 create/"+name, "POST", te, body, opts...))
	}
	tc("phone_numbers missing", `{}`, hStatus(422), hCode("phone_numbers is required"))
	tc("label invalid utf8", "{\"phone_numbers\":[{\"number\":\"5045550111\",\"label\":\"home\xff\"}]}", hStatus(422), hCode("not valid UTF-8"))
	tc("phone_numbers null", `{"phone_numbers":null}`, hStatus(422), hCode("phone_numbers is required"))
	tc("phone_numbers string", `{"phone_numbers":"5045550111"}`, hStatus(422), hCode("an array"))
	tc("phone_numbers object", `{"phone_numbers":{"number":"5045550111"}}`, hStatus(422), hCode("an array"))
	tc("phone_numbers empty", `{"phone_numbers":[]}`, hStatus(422), hCode("at least one"))
	// 501: v9 documents no cap, so the service-wide 500 holds (issue 15;
	// the dialect capped a create at 100 before).
	tc("501 records", `{"phone_numbers":[`+strings.TrimSuffix(strings.Repeat(`{"number":"abc"},`, 501), ",")+`]}`, hStatus(422), hCode("at most 500"))
	tc("record number", `{"phone_numbers":[1]}`, hStatus(422), hCode("an object"))
	tc("record null", `{"phone_numbers":[null]}`, hStatus(422), hCode("an object"))
	tc("records nested", `{"phone_numbers":`+hostileNested+`}`, hStatus(422), hCode("an object"))
	tc("number bool", `{"phone_numbers":[{"number":true}]}`, hStatus(422), hCode("must be a string"))
	tc("number null", `{"phone_numbers":[{"number":null}]}`, hStatus(422), hCode("number"))
	tc("number letters", `{"phone_numbers":[{"number":"abc"}]}`, hStatus(422), hCode("number"))
	tc("number SQL", `{"phone_numbers":[{"number":"'; DROP TABLE phones;--"}]}`, hStatus(422), hCode("number"))
	tc("number 1M", `{"phone_numbers":[{"number":"`+hostileBig+`"}]}`, hStatus(422), hCode("number"))
	tc("country unknown", `{"phone_numbers":[{"number":"5045550111","country_code":"ZZ"}]}`, hStatus(422), hCode("country"))
	tc("country negative", `{"phone_numbers":[{"number":"5045550111","country_code":-1}]}`, hStatus(422), hCode("country"))
	tc("country object", `{"phone_numbers":[{"number":"5045550111","country_code":{}}]}`, hStatus(422), hCode("must be a string"))
	tc("extension letters", `{"phone_numbers":[{"number":"5045550111","extension":"x1"}]}`, hStatus(422), hCode("extension"))
	tc("label 21", `{"phone_numbers":[{"number":"5045550111","label":"`+strings.Repeat("l", 21)+`"}]}`, hStatus(422), hCode("label"))
	tc("label control", `{"phone_numbers":[{"number":"5045550111","label":"\u001b[2J"}]}`, hStatus(422), hCode("label"))
	tc("label array", `{"phone_numbers":[{"number":"5045550111","label":["home"]}]}`, hStatus(422), hCode("must be a string"))
	tc("is_primary string", `{"phone_numbers":[{"number":"5045550111","is_primary":"yes"}]}`, hStatus(422), hCode("true or false"))
	tc("one bad of two", `{"phone_numbers":[{"number":"5045550111"},{"number":"abc"}]}`, hStatus(422), hCode("number"))
	tc("duplicate", `{"phone_numbers":[{"number":"504-555-0123","country_code":"+1"}]}`, hStatus(422), hCode("already exists"))
	tc("duplicate within request", `{"phone_numbers":[{"number":"5045550111"},{"number":"(504) 555-0111"}]}`, hStatus(422), hCode("already exists"))
	tc("duplicate keys last bad", `{"phone_numbers":[{"number":"5045550111"}],"phone_numbers":"x"}`, hStatus(422), hCode("an array"))
	tc("read-only key", `{"phone_numbers":[{"number":"5045550111"}]}`, hKey(hostileReadKey), hAuth(), hStatus(403))
	tc("signed missing signature", `{"phone_numbers":[{"number":"5045550111"}]}`, hKey(hostileSignedKey), hAuth(), hStatus(401), hCode("missing X-Signature"))
	tc("signed bad base64", `{"phone_numbers":[{"number":"5045550111"}]}`, hSigned(), hHeader("X-Signature", "%%%not base64%%%"), hAuth(), hStatus(401), hCode("invalid X-Signature"))
	tc("signed wrong signature", `{"phone_numbers":[{"number":"5045550111"}]}`, hSigned(), hHeader("X-Signature", base64.StdEncoding.EncodeToString(make([]byte, 32))), hAuth(), hStatus(401), hCode("invalid X-Signature"))
	tc("signed 1 MB signature", `{"phone_numbers":[{"number":"5045550111"}]}`, hSigned(), hHeader("X-Signature", hostileMiB), hAuth(), hStatus(401), hCode("invalid X-Signature"))
	tc("signed malformed body", `{"phone_numbers":[`, hSigned(), hStatus(400))
	tc("signed bad record", `{"phone_numbers":[{"number":"abc"}]}`, hSigned(), hStatus(422), hCode("number"))
	tu := func(name, body string, opts ...hostileOpt) {
		add(hReq("v9 update/"+name, "PUT", teOne, body, opts...))
	}
	tu("number null", `{"number":null}`, hStatus(422), hCode("number must not be null"))
	tu("number letters", `{"number":"abc"}`, hStatus(422), hCode("number"))
	tu("number of the other phone", `{"number":"504-555-0199"}`, hStatus(422), hCode("already exists"))
	tu("number object", `{"number":{}}`, hStatus(422), hCode("must be a string"))
	tu("is_primary string", `{"is_primary":"no"}`, hStatus(422), hCode("true or false"))
	tu("label bool", `{"label":true}`, hStatus(422), hCode("must be a string"))
	tu("label 21", `{"label":"`+strings.Repeat("l", 21)+`"}`, hStatus(422), hCode("label"))
	tu("country unknown", `{"country_code":"ZZ"}`, hStatus(422), hCode("country"))
	tu("extension letters", `{"extension":"12a"}`, hStatus(422), hCode("extension"))
	tu("array", `[{"label":"x"}]`, hStatus(400))
	tu("signed wrong signature", `{"label":"x"}`, hSigned(), hHeader("X-Signature", "AAAA"), hAuth(), hStatus(401), hCode("invalid X-Signature"))
	tu("read-only key", `{"label":"x"}`, hKey(hostileReadKey), hAuth(), hStatus(403))
	add(hReq("v9 get/no token", "GET", teOne, "", hNoKey(), hStatus(401)))
	add(hReq("v9 get/signed missing signature", "GET", teOne, "", hKey(hostileSignedKey), hAuth(), hStatus(401), hCode("missing X-Signature")))
	add(hReq("v9 PATCH", "PATCH", teOne, `{}`, hStatus(405), hShape(shapeProblem), hCode("method_not_allowed")))

	// --- RamBase ---
	rc := func(name, body string, opts ...hostileOpt) {
		add(hReq("rambase create/"+name, "POST", rb, body, opts...))
	}
	xmlPhone := func(inner string) string { return `<?xml version="1.0" encoding="UTF-8"?><Phone>` + inner + `</Phone>` }
	num := `<PhoneNumber>+1 (504) 555-0111</PhoneNumber>`
	rc("billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><Phone><PhoneNumber>&lol3;</PhoneNumber></Phone>`, hStatus(400), hCode("109005"))
	rc("external entity", `<?xml version="1.0"?><!DOCTYPE Phone [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Phone><PhoneNumber>&xxe;</PhoneNumber></Phone>`, hStatus(400), hCode("109005"))
	rc("external entity http", `<?xml version="1.0"?><!DOCTYPE Phone [<!ENTITY xxe SYSTEM "http://127.0.0.1:1/x">]><Phone><Type>&xxe;</Type>`+num+`</Phone>`, hStatus(400), hCode("109005"))
	rc("parameter entity", `<?xml version="1.0"?><!DOCTYPE Phone [<!ENTITY % p SYSTEM "http://127.0.0.1:1/evil.dtd"> %p;]><Phone>`+num+`</Phone>`, hStatus(400), hCode("109005"))
	rc("external DTD", `<?xml version="1.0"?><!DOCTYPE Phone SYSTEM "http://127.0.0.1:1/phone.dtd"><Phone>`+num+`</Phone>`, hStatus(400), hCode("109005"))
	rc("DOCTYPE after root", xmlPhone(num)+`<!DOCTYPE x>`, hStatus(400))
	rc("DOCTYPE inside", `<Phone><!DOCTYPE x [<!ENTITY a "b">]>`+num+`</Phone>`, hStatus(400), hCode("109005"))
	rc("undeclared entity", xmlPhone(`<PhoneNumber>&lol;</PhoneNumber>`), hStatus(400), hCode("109004"))
	rc("XInclude", `<Phone xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd" parse="text"/></Phone>`, hStatus(400), hCode("109006"))
	rc("two roots", xmlPhone(num)+xmlPhone(num), hStatus(400), hCode("109004"))
	rc("wrong root", `<Contact>`+num+`</Contact>`, hStatus(400), hCode("109004"))
	rc("text in Phone", `<Phone>hello`+num+`</Phone>`, hStatus(400), hCode("109004"))
	rc("element in field", xmlPhone(`<PhoneNumber><b>5045550111</b></PhoneNumber>`), hStatus(400), hCode("109004"))
	rc("field twice", xmlPhone(num+num), hStatus(400), hCode("109004"))
	rc("unknown element", xmlPhone(num+`<Extension>5</Extension>`), hStatus(400), hCode("109006"))
	rc("unknown element SQL", xmlPhone(num+`<x-DROP-TABLE>1</x-DROP-TABLE>`), hStatus(400), hCode("109006"))
	rc("unknown element 100k name", xmlPhone(num+`<A`+strings.Repeat("a", 100_000)+`>1</A`+strings.Repeat("a", 100_000)+`>`), hStatus(400), hCode("109006"))
	rc("encoding UTF-16", `<?xml version="1.0" encoding="UTF-16"?><Phone>`+num+`</Phone>`, hStatus(400), hCode("109004"))
	rc("encoding latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><Phone>`+num+`</Phone>`, hStatus(400), hCode("109004"))
	rc("invalid utf8", xmlPhone("<PhoneNumber>\xff\xfe</PhoneNumber>"), hStatus(400), hCode("109020"))
	rc("Type invalid utf8", xmlPhone(num+"<Type>HOME\xff</Type>"), hStatus(400), hCode("109020"))
	rc("JSON Type invalid utf8", "{\"PhoneNumber\":\"5045550111\",\"Type\":\"HOME\xff\"}", hCType("application/json"), hStatus(400), hCode("109020"))
	rc("unclosed", `<Phone><PhoneNumber>5045550111`, hStatus(400), hCode("109004"))
	rc("deeply nested", `<Phone><Type>`+strings.Repeat("<a>", 50_000)+`</Type></Phone>`, hStatus(400), hCode("109004"))
	rc("NUL char ref", xmlPhone(`<PhoneNumber>504555&#0;0111</PhoneNumber>`), hStatus(400), hCode("109004"))
	rc("control in number", xmlPhone("<PhoneNumber>504555\x010111</PhoneNumber>"), hStatus(400), hCode("109004"))
	rc("char ref tab", xmlPhone(`<PhoneNumber>+1&#9;504x5550111</PhoneNumber>`), hStatus(400), hCode("109010"))
	rc("type unknown", xmlPhone(`<Type>PAGER</Type>`+num), hStatus(400), hCode("109013"))
	rc("type 1M", xmlPhone(`<Type>`+hostileBig+`</Type>`+num), hStatus(400), hCode("109013"))
	rc("type SQL", xmlPhone(`<Type>'; DROP TABLE phone_types;--</Type>`+num), hStatus(400), hCode("109013"))
	rc("IsDefault maybe", xmlPhone(`<IsDefault>maybe</IsDefault>`+num), hStatus(400), hCode("109014"))
	rc("IsDefault 2", xmlPhone(`<IsDefault>2</IsDefault>`+num), hStatus(400), hCode("109014"))
	rc("number letters", xmlPhone(`<PhoneNumber>abc</PhoneNumber>`), hStatus(400), hCode("109010"))
	rc("number SQL", xmlPhone(`<PhoneNumber>'; DROP TABLE phones;--</PhoneNumber>`), hStatus(400), hCode("109010"))
	rc("number short", xmlPhone(`<PhoneNumber>12</PhoneNumber>`), hStatus(400), hCode("109011"))
	rc("number 1M", xmlPhone(`<PhoneNumber>`+hostileBig+`</PhoneNumber>`), hStatus(400), hCode("109011"))
	rc("number missing", xmlPhone(`<Type>HOME</Type>`), hStatus(400), hCode("109012"))
	rc("number empty", xmlPhone(`<PhoneNumber>  </PhoneNumber>`), hStatus(400), hCode("109012"))
	rc("duplicate", xmlPhone(`<PhoneNumber>504.555.0123</PhoneNumber>`), hStatus(400), hCode("109015"))
	rc("over 1 MiB", xmlPhone(`<PhoneNumber>`+hostileMiB+`</PhoneNumber>`), hStatus(400), hCode("109008"))
	rc("content-type text", xmlPhone(num), hCType("text/plain"), hStatus(400), hCode("109007"))
	rc("content-type malformed", xmlPhone(num), hCType("application/xml; ="), hStatus(400), hCode("109007"))
	rc("content-type missing, no hint", `PhoneNumber=5045550111`, hCType(""), hStatus(400), hCode("109007"))
	rc("json number type", `{"Phone":{"PhoneNumber":5045550111}}`, hStatus(400), hShape(shapeRamBaseXML), hCode("109021"))
	rc("json type array", `{"Phone":{"PhoneNumber":"5045550111","Type":["HOME"]}}`, hStatus(400), hCode("109021"))
	rc("json IsDefault maybe", `{"Phone":{"PhoneNumber":"5045550111","IsDefault":"maybe"}}`, hStatus(400), hCode("109014"))
	rc("json IsDefault number", `{"Phone":{"PhoneNumber":"5045550111","IsDefault":2}}`, hStatus(400), hCode("109014"))
	rc("json Phone array", `{"Phone":[]}`, hStatus(400), hCode("109004"))
	rc("json Phone string", `{"Phone":"5045550111"}`, hStatus(400), hCode("109004"))
	rc("json unknown key", `{"Phone":{"PhoneNumber":"5045550111","Foo":1}}`, hStatus(400), hCode("109006"))
	rc("json null", `null`, hCType("application/json"), hStatus(400), hCode("109004"))
	rc("json Phone null", `{"Phone":null}`, hStatus(400), hCode("109012"))
	rc("json nested", `{"Phone":{"PhoneNumber":`+hostileNested+`}}`, hStatus(400), hCode("109021"))
	rc("json duplicate keys last bad", `{"Phone":{"PhoneNumber":"5045550111","PhoneNumber":"abc"}}`, hStatus(400), hCode("109010"))
	add(hReq("rambase create/$format yaml", "POST", rb+"?$format=yaml", xmlPhone(num), hStatus(400), hCode("109018")))
	add(hReq("rambase create/$format json error", "POST", rb+"?$format=json", xmlPhone(`<PhoneNumber>abc</PhoneNumber>`), hShape(shapeRamBaseJSON), hStatus(400), hCode("109010")))
	add(hReq("rambase create/$format html error", "POST", rb+"?$format=HTML", xmlPhone(`<PhoneNumber>abc</PhoneNumber>`), hShape(shapeRamBaseHTML), hStatus(400), hCode("109010")))
	add(hReq("rambase create/Accept json error", "POST", rb, xmlPhone(`<Type>PAGER</Type>`+num), hHeader("Accept", "text/plain;q=1, application/json;q=0.9"), hShape(shapeRamBaseJSON), hStatus(400), hCode("109013")))
	add(hReq("rambase create/Accept garbage", "POST", rb, xmlPhone(`<Type>PAGER</Type>`+num), hHeader("Accept", ";;;, q=x, */*;q=abc"), hStatus(400), hCode("109013")))
	add(hReq("rambase create/$db other", "POST", rb+"?$db=other", xmlPhone(num), hStatus(403), hCode("109032")))
	add(hReq("rambase create/$db empty", "POST", rb+"?$db=", xmlPhone(num), hStatus(403), hCode("109032")))
	add(hReq("rambase create/$db SQL", "POST", rb+"?$db=acme%27%20OR%201%3D1", xmlPhone(num), hStatus(403), hCode("109032")))
	add(hReq("rambase create/$useMinimumVersion letters", "POST", rb+"?$useMinimumVersion=abc", xmlPhone(num), hStatus(400), hCode("109019")))
	add(hReq("rambase create/$useMinimumVersion overflow", "POST", rb+"?$useMinimumVersion=99999999999", xmlPhone(num), hStatus(400), hCode("109019")))
	add(hReq("rambase create/$access_token wrong", "POST", rb+"?$access_token=nope", xmlPhone(num), hAuth(), hStatus(401), hCode("109030")))
	add(hReq("rambase create/no key", "POST", rb, xmlPhone(num), hNoKey(), hStatus(401), hCode("109030")))
	add(hReq("rambase create/read-only key", "POST", rb, xmlPhone(num), hKey(hostileReadKey), hAuth(), hStatus(403), hCode("109031")))
	for _, b := range []struct{ name, seg string }{
		{"zero", "0"}, {"negative", "-1"}, {"under 100000", "99999"}, {"overflow", "99999999999999999999"},
		{"letters", "abc"}, {"SQL", c1 + "%20OR%201%3D1"}, {"NUL", "%00"}, {"100k", hostileLongPath},
	} {
		p := "/collaboration/contacts/" + b.seg + "/phones"
		add(hReq("rambase create/contact "+b.name, "POST", p, xmlPhone(num), hStatus(400), hCode("109002")))
		add(hReq("rambase update/contact "+b.name, "PUT", p+"/"+p1, xmlPhone(num), hStatus(400), hCode("109002")))
	}
	add(hReq("rambase create/contact unknown", "POST", "/collaboration/contacts/999999/phones", xmlPhone(num), hStatus(404), hCode("109000")))
	add(hReq("rambase create/contact other tenant", "POST", "/collaboration/contacts/"+o1+"/phones", xmlPhone(num), hStatus(404), hCode("109000")))
	ru := func(name, body string, opts ...hostileOpt) {
		add(hReq("rambase update/"+name, "PUT", rbOne, body, opts...))
	}
	for _, b := range []struct{ name, seg string }{
		{"zero", "0"}, {"negative", "-1"}, {"overflow", "99999999999999999999"}, {"letters", "abc"}, {"NUL", "%00"},
	} {
		add(hReq("rambase update/phone "+b.name, "PUT", rb+"/"+b.seg, xmlPhone(num), hStatus(400), hCode("109003")))
	}
	add(hReq("rambase update/phone unknown", "PUT", rb+"/999999", xmlPhone(num), hStatus(404), hCode("109001")))
	add(hReq("rambase update/phone of another contact", "PUT", rb+"/"+p3, xmlPhone(num), hStatus(404), hCode("109001")))
	add(hReq("rambase update/phone of other tenant", "PUT", rb+"/"+o9, xmlPhone(num), hStatus(404), hCode("109001")))
	ru("billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><Phone><Type>&lol2;</Type></Phone>`, hStatus(400), hCode("109005"))
	ru("external entity", `<!DOCTYPE Phone [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><Phone><PhoneNumber>&xxe;</PhoneNumber></Phone>`, hStatus(400), hCode("109005"))
	ru("number letters", xmlPhone(`<PhoneNumber>abc</PhoneNumber>`), hStatus(400), hCode("109010"))
	ru("number of the other phone", xmlPhone(`<PhoneNumber>(504) 555-0199</PhoneNumber>`), hStatus(400), hCode("109015"))
	ru("type unknown", xmlPhone(`<Type>PAGER</Type>`), hStatus(400), hCode("109013"))
	ru("IsDefault maybe", xmlPhone(`<IsDefault>perhaps</IsDefault>`), hStatus(400), hCode("109014"))
	ru("json unknown key", `{"PhoneId":5}`, hStatus(400), hCode("109006"))
	ru("no key", xmlPhone(num), hNoKey(), hStatus(401), hCode("109030"))
	add(hReq("rambase GET", "GET", rb, "", hStatus(405), hShape(shapeProblem), hCode("method_not_allowed")))

	// --- Relay ---
	rl := func(name, method, path, body string, opts ...hostileOpt) {
		add(hReq("relay "+name, method, path, body, opts...))
	}
	for _, m := range []string{"PUT", "POST"} {
		for _, action := range []string{"add_phone", "remove_phone"} {
			n := action + " " + m + "/"
			// remove_phone's body is client_source only: a country_code
			// other than 1 is refused as such (dialect/relay/README.md).
			country := func(want string) string {
				if action == "remove_phone" {
					return "country_code must be 1 or absent"
				}
				return want
			}
			rl(n+"client unknown", m, relay("nope", "C-1", action, "5045550123"), "", hStatus(404), hCode("Client not found"))
			rl(n+"client other tenant", m, relay("other", "O-1", action, "5045550123"), "", hStatus(404), hCode("Client not found"))
			rl(n+"client upper case", m, relay("ACME", "C-1", action, "5045550123"), "", hStatus(404), hCode("Client not found"))
			rl(n+"client SQL", m, relay("acme%27%20OR%201%3D1", "C-1", action, "5045550123"), "", hStatus(404), hCode("Client not found"))
			rl(n+"ccid unknown", m, relay(hostileSlug, "C-404", action, "5045550123"), "", hStatus(404), hCode("ccid C-404 not found"))
			rl(n+"ccid SQL", m, relay(hostileSlug, "%27%20OR%20%271%27%3D%271", action, "5045550123"), "", hStatus(404), hCode("not found"))
			rl(n+"ccid NUL", m, relay(hostileSlug, "%00", action, "5045550123"), "", hStatus(404), hCode("not found"))
			rl(n+"ccid invalid utf8", m, relay(hostileSlug, "%FF%FE", action, "5045550123"), "", hStatus(400), hCode("ccid is not valid UTF-8"))
			rl(n+"ccid 101 chars", m, relay(hostileSlug, strings.Repeat("c", 101), action, "5045550123"), "", hStatus(400), hCode("ccid must be at most"))
			rl(n+"ccid other tenant's", m, relay(hostileSlug, "O-1", action, "5045550123"), "", hStatus(404), hCode("not found"))
			rl(n+"number letters", m, relay(hostileSlug, "C-1", action, "abcdefghij"), "", hStatus(400), hCode("digits only"))
			rl(n+"number short", m, relay(hostileSlug, "C-1", action, "123"), "", hStatus(400), hCode("10 to 11 digits"))
			rl(n+"number 12 digits", m, relay(hostileSlug, "C-1", action, "150455501234"), "", hStatus(400), hCode("10 to 11 digits"))
			rl(n+"number negative", m, relay(hostileSlug, "C-1", action, "-5045550123"), "", hStatus(400), hCode("digits only"))
			rl(n+"number plus", m, relay(hostileSlug, "C-1", action, "%2B15045550123"), "", hStatus(400), hCode("digits only"))
			rl(n+"number NUL", m, relay(hostileSlug, "C-1", action, "5045550123%00"), "", hStatus(400), hCode("digits only"))
			rl(n+"number SQL", m, relay(hostileSlug, "C-1", action, "5045550123%27%20OR%201%3D1"), "", hStatus(400), hCode("digits only"))
			rl(n+"number 100k", m, relay(hostileSlug, "C-1", action, hostileLongPath), "", hStatus(400), hCode("10 to 11 digits"))
			rl(n+"number unreadable", m, relay(hostileSlug, "C-1", action, "25045550123"), "", hStatus(400), hCode("phone_number"))
			rl(n+"country 11 chars", m, relay(hostileSlug, "C-1", action, "5045550123"), `{"country_code":"12345678901"}`, hStatus(400), hCode(country("country_code must be at most")))
			rl(n+"country unknown", m, relay(hostileSlug, "C-1", action, "5045550123"), `{"country_code":"999"}`, hStatus(400), hCode(country("country_code")))
			rl(n+"country bool", m, relay(hostileSlug, "C-1", action, "5045550123"), `{"country_code":true}`, hStatus(400), hCode(country("country_code must be a string")))
			rl(n+"country negative", m, relay(hostileSlug, "C-1", action, "5045550123"), `{"country_code":-1}`, hStatus(400), hCode(country("country_code must be a string")))
			rl(n+"country overflow", m, relay(hostileSlug, "C-1", action, "5045550123"), `{"country_code":99999999999999999999}`, hStatus(400), hCode(country("country_code must be a string")))
			rl(n+"no key", m, relay(hostileSlug, "C-1", action, "5045550123"), "", hNoKey(), hStatus(401), hCode("xx-relay-api-key"))
			rl(n+"Authorization instead", m, relay(hostileSlug, "C-1", action, "5045550123"), "", hNoKey(), hHeader("Authorization", "Bearer "+hostileAdminKey), hStatus(401), hCode("xx-relay-api-key"))
			rl(n+"read-only key", m, relay(hostileSlug, "C-1", action, "5045550123"), "", hKey(hostileReadKey), hAuth(), hStatus(401), hCode("lacks permission"))
		}
	}
	ra := func(name, body string, opts ...hostileOpt) {
		rl("add_phone PUT/"+name, "PUT", relay(hostileSlug, "C-1", "add_phone", "5045550111"), body, opts...)
	}
	ra("consent_type unknown", `{"consent_type":"maybe"}`, hStatus(400), hCode("consent_type must be"))
	ra("client_source invalid utf8", "{\"client_source\":\"portal\xff\"}", hStatus(400), hCode("client_source is not valid UTF-8"))
	ra("consent_type none", `{"consent_type":"none"}`, hStatus(400), hCode("consent_type must be"))
	ra("consent_type upper", `{"consent_type":"WRITTEN"}`, hStatus(400), hCode("consent_type must be"))
	ra("consent_type number", `{"consent_type":5}`, hStatus(400), hCode("consent_type must be a string"))
	ra("consent_type nested", `{"consent_type":`+hostileNested+`}`, hStatus(400), hCode("consent_type"))
	ra("phone_type unknown", `{"phone_type":"satellite"}`, hStatus(400), hCode("phone_type must be"))
	ra("phone_type null-ish", `{"phone_type":"null"}`, hStatus(400), hCode("phone_type must be"))
	ra("client_source 101", `{"client_source":"`+strings.Repeat("s", 101)+`"}`, hStatus(400), hCode("client_source"))
	ra("client_source control", `{"client_source":"a\u0000b"}`, hStatus(400), hCode("client_source"))
	ra("client_source 1M", `{"client_source":"`+hostileBig+`"}`, hStatus(400), hCode("client_source"))
	ra("client_source object", `{"client_source":{}}`, hStatus(400), hCode("client_source must be a string"))
	ra("several bad fields", `{"consent_type":"x","phone_type":"y"}`, hStatus(400), hCode("; "))
	ra("duplicate keys last bad", `{"consent_type":"written","consent_type":"maybe"}`, hStatus(400), hCode("consent_type must be"))
	rl("add_phone PUT/duplicate", "PUT", relayAdd, `{"consent_type":"written"}`, hStatus(409), hCode("already exists"))
	rl("add_phone PUT/duplicate with 1", "PUT", relay(hostileSlug, "C-1", "add_phone", "15045550123"), "", hStatus(409), hCode("already exists"))
	rl("remove_phone PUT/not held", "PUT", relayRm, `{"consent_type":"ignored"}`, hStatus(404), hCode("not found for customer"))
	rl("add_phone GET", "GET", relayAdd, "", hStatus(405), hShape(shapeProblem), hCode("method_not_allowed"))
	rl("add_phone empty number", "PUT", relay(hostileSlug, "C-1", "add_phone", ""), "", hStatus(404), hShape(shapeProblem), hCode("not_found"))
	rl("unknown action", "PUT", relay(hostileSlug, "C-1", "drop_phone", "5045550123"), "", hStatus(404), hShape(shapeProblem), hCode("not_found"))

	// --- Wasp ---
	ws := func(name, body string, opts ...hostileOpt) {
		add(hReq("wasp save/"+name, "POST", wasp, body, opts...))
	}
	ws("records not objects", `[1,"x",null,true,[]]`, hShape(shapeWaspRecords), hCode("-1009"))
	ws("records nested", `[`+hostileNested+`]`, hShape(shapeWaspRecords), hCode("-1009"))
	ws("501 records", `[`+strings.TrimSuffix(strings.Repeat(`{},`, 501), ",")+`]`, hStatus(400), hCode("-2003"))
	ws("object", `{"CustomerNumber":"C-1"}`, hStatus(400), hCode("-2001"))
	ws("invalid utf8", "[{\"CustomerNumber\":\"C-1\",\"PhoneNumber\":\"5045550111\",\"Notes\":\"a\xffb\"}]", hStatus(400), hCode("-1001"))
	ws("null", `null`, hStatus(400), hCode("-2001"))
	ws("empty record", waspRec(``), hShape(shapeWaspRecords), hCode("-1001"))
	ws("number letters", waspRec(`"CustomerNumber":"C-1","PhoneNumber":"abc","PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1002"))
	ws("number SQL", waspRec(`"CustomerNumber":"C-1","PhoneNumber":"'; DROP TABLE phones;--","PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1002"))
	ws("number 65 chars", waspRec(`"CustomerNumber":"C-1","PhoneNumber":"`+strings.Repeat("5", 65)+`","PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1002"))
	ws("number 1M", waspRec(`"CustomerNumber":"C-1","PhoneNumber":"`+hostileBig+`","PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1002"))
	ws("number bool", waspRec(`"CustomerNumber":"C-1","PhoneNumber":true,"PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1001"))
	ws("number object", waspRec(`"CustomerNumber":"C-1","PhoneNumber":{"a":1},"PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1001"))
	ws("number NUL", waspRec(`"CustomerNumber":"C-1","PhoneNumber":"504555\u00000111","PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1002"))
	ws("extension letters", waspRec(`"CustomerNumber":"C-1","PhoneNumber":"5045550111","PhoneExtension":"x","PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1001"))
	ws("type unknown", waspRec(`"CustomerNumber":"C-1","PhoneNumber":"5045550111","PhoneTypeName":"pager"`), hShape(shapeWaspRecords), hCode("-1003"))
	ws("type control", waspRec(`"CustomerNumber":"C-1","PhoneNumber":"5045550111","PhoneTypeName":"ho\u0000me"`), hShape(shapeWaspRecords), hCode("-1003"))
	ws("type 1M", waspRec(`"CustomerNumber":"C-1","PhoneNumber":"5045550111","PhoneTypeName":"`+hostileBig+`"`), hShape(shapeWaspRecords), hCode("-1003"))
	ws("type missing", waspRec(`"CustomerNumber":"C-1","PhoneNumber":"5045550111"`), hShape(shapeWaspRecords), hCode("-1001"))
	ws("customer SQL", waspRec(`"CustomerNumber":"' OR '1'='1","PhoneNumber":"5045550111","PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1004"))
	ws("customer negative", waspRec(`"CustomerNumber":-1,"PhoneNumber":"5045550111","PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1004"))
	ws("customer overflow", waspRec(`"CustomerNumber":1e400,"PhoneNumber":"5045550111","PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1004"))
	ws("customer bool", waspRec(`"CustomerNumber":true,"PhoneNumber":"5045550111","PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1001"))
	ws("customer other tenant", waspRec(`"CustomerNumber":"O-1","PhoneNumber":"5045550111","PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1004"))
	ws("customer keys disagree", waspRec(`"CustomerNumber":"C-1","CustomerNo":"C-2","PhoneNumber":"5045550111","PhoneTypeName":"home"`), hShape(shapeWaspRecords), hCode("-1001"))
	ws("content-type text", `[{}]`, hCType("text/plain"), hStatus(415), hCode("-2005"))
	ws("content-type xml", `<a/>`, hCType("application/xml"), hStatus(415), hCode("-2005"))
	ws("content-type malformed", `[{}]`, hCType("application/json; ="), hStatus(415), hCode("-2005"))
	ws("no key", `[{}]`, hNoKey(), hStatus(401), hCode("-3001"))
	ws("basic scheme", `[{}]`, hNoKey(), hHeader("Authorization", "Basic "+hostileAdminKey), hStatus(401), hCode("-3001"))
	ws("read-only key", `[{}]`, hKey(hostileReadKey), hAuth(), hStatus(403), hCode("-3002"))
	add(hReq("wasp GET", "GET", wasp, "", hStatus(405), hShape(shapeProblem), hCode("method_not_allowed")))

	// --- history ---
	for _, b := range badIDs {
		add(hReq("v1 customer history/"+b.name, "GET", "/v1/customers/"+b.seg+"/history", "", hStatus(404), hCode("not_found")))
		add(hReq("v1 phone history/customer "+b.name, "GET", "/v1/customers/"+b.seg+"/phones/"+p1+"/history", "", hStatus(404), hCode("not_found")))
	}
	hi := func(name, path string, opts ...hostileOpt) { add(hReq(name, "GET", path, "", opts...)) }
	for _, v := range []string{"-1", "0", "501", "abc", "99999999999999999999", "%00"} {
		hi("v1 customer history/limit "+v, v1c+"/history?limit="+v, hStatus(422), hCode("validation"))
		hi("v1 phone history/limit "+v, v1p+"/history?limit="+v, hStatus(422), hCode("validation"))
	}
	hi("v1 customer history/cursor garbage", v1c+"/history?cursor=garbage!!", hStatus(422), hCode("validation"))
	hi("v1 customer history/cursor bad escape", v1c+"/history?cursor=%%%", hAccept("Go's URL.Query drops a pair that is not valid percent-encoding: no cursor, the first page"))
	hi("v1 customer history/cursor of customers", v1c+"/history?cursor="+base64.RawURLEncoding.EncodeToString([]byte(`{"s":"created_at","k":"1","i":1}`)), hStatus(422), hCode("validation"))
	hi("v1 customer history/cursor negative", v1c+"/history?cursor="+base64.RawURLEncoding.EncodeToString([]byte(`{"s":"history","i":-5}`)), hStatus(422), hCode("validation"))
	hi("v1 customer history/cursor huge seq", v1c+"/history?cursor="+base64.RawURLEncoding.EncodeToString([]byte(`{"s":"history","i":9223372036854775807}`)),
		hAccept("a cursor past the end is an empty page"), hostileCheckEmptyList)
	for _, b := range []struct{ name, seg string }{{"negative", "-1"}, {"zero", "0"}, {"overflow", "99999999999999999999"}, {"SQL", "1%20OR%201%3D1"}, {"NUL", "%00"}} {
		hi("v1 phone history/phone "+b.name, v1ps+"/"+b.seg+"/history", hStatus(404), hCode("not_found"))
	}
	for _, b := range []struct{ name, seg string }{{"unknown", "999999"}, {"another customer's", p3}, {"other tenant's", o9}} {
		hi("v1 phone history/phone "+b.name, v1ps+"/"+b.seg+"/history",
			hAccept("a phone id the customer does not hold (a deleted phone keeps its history) is an empty list"), hostileCheckEmptyList)
	}
	hi("v1 customer history/no key", v1c+"/history", hNoKey(), hStatus(401), hCode("unauthorized"))
	add(hReq("v1 customer history/POST", "POST", v1c+"/history", `{}`, hStatus(405), hCode("method_not_allowed")))

	// --- consent of a number (/v1) ---
	cp := func(name, number, body string, opts ...hostileOpt) {
		add(hReq("v1 put consent/"+name, "PUT", "/v1/numbers/"+number+"/consent", body, opts...))
	}
	good1 := `"type":"written","source":"web"`
	cp("number letters", "abc", `{`+good1+`}`, hStatus(422), hCode("invalid_number"))
	cp("number SQL", "%27%20OR%201%3D1", `{`+good1+`}`, hStatus(422), hCode("invalid_number"))
	cp("number NUL", "504555%000123", `{`+good1+`}`, hStatus(422), hCode("invalid_number"))
	cp("number 100k", hostileLongPath, `{`+good1+`}`, hStatus(422), hCode("invalid_number"))
	add(hReq("v1 put consent/country unknown", "PUT", "/v1/numbers/5045550123/consent?country_code=ZZ", `{`+good1+`}`, hStatus(422), hCode("validation")))
	cp("type missing", "5045550123", `{"source":"web"}`, hStatus(422), hCode("validation"))
	cp("type none", "5045550123", `{"type":"none"}`, hStatus(422), hCode("validation"))
	cp("type unknown", "5045550123", `{"type":"maybe"}`, hStatus(422), hCode("validation"))
	cp("type number", "5045550123", `{"type":1}`, hStatus(422), hCode("validation"))
	cp("type null", "5045550123", `{"type":null}`, hStatus(422), hCode("validation"))
	cp("source control", "5045550123", `{"type":"written","source":"a\u0007"}`, hStatus(422), hCode("validation"))
	cp("source 101", "5045550123", `{"type":"written","source":"`+strings.Repeat("s", 101)+`"}`, hStatus(422), hCode("validation"))
	cp("evidence 1M", "5045550123", `{"type":"written","evidence":"`+hostileBig+`"}`, hStatus(422), hCode("validation"))
	cp("evidence NUL", "5045550123", `{"type":"written","evidence":"\u0000"}`, hStatus(422), hCode("validation"))
	cp("captured_at garbage", "5045550123", `{"type":"written","captured_at":"yesterday"}`, hStatus(422), hCode("validation"))
	cp("captured_at future", "5045550123", `{"type":"written","captured_at":"9999-12-31T23:59:59Z"}`, hStatus(422), hCode("validation"))
	cp("captured_at month 13", "5045550123", `{"type":"written","captured_at":"2026-13-01T00:00:00Z"}`, hStatus(422), hCode("validation"))
	cp("captured_at number", "5045550123", `{"type":"written","captured_at":1700000000}`, hStatus(422), hCode("validation"))
	cp("unknown field", "5045550123", `{"type":"written","e164":"+15045550123"}`, hStatus(400), hCode("unknown_field"))
	cp("duplicate keys last bad", "5045550123", `{"type":"written","type":"maybe"}`, hStatus(422), hCode("validation"))
	cp("content-type text", "5045550123", `{`+good1+`}`, hCType("text/plain"), hStatus(415), hCode("unsupported_media_type"))
	cp("read-only key", "5045550123", `{`+good1+`}`, hKey(hostileReadKey), hAuth(), hStatus(403), hCode("forbidden"))
	cp("no key", "5045550123", `{`+good1+`}`, hNoKey(), hStatus(401), hCode("unauthorized"))
	cg := func(name, path string, opts ...hostileOpt) {
		add(hReq("v1 get consent/"+name, "GET", "/v1/numbers/"+path, "", opts...))
	}
	cg("number letters", "abc/consent", hStatus(422), hCode("invalid_number"))
	cg("number SQL", "%27%20OR%201%3D1/consent", hStatus(422), hCode("invalid_number"))
	cg("number 100k", hostileLongPath+"/consent", hStatus(422), hCode("invalid_number"))
	cg("country SQL", "5045550123/consent?country_code=US%27--", hStatus(422), hCode("validation"))
	cg("at garbage", "5045550123/consent?at=now", hStatus(422), hCode("validation"))
	cg("at SQL", "5045550123/consent?at=2026-01-01%27%20OR%201%3D1", hStatus(422), hCode("validation"))
	cg("at out of range", "5045550123/consent?at=2026-02-30T00:00:00Z", hStatus(422), hCode("validation"))
	cg("history maybe", "5045550123/consent?history=maybe", hStatus(422), hCode("validation"))
	cg("at year 0", "5045550123/consent?at=0000-01-01T00:00:00Z", hAccept("a moment before any record: consent none"))
	cg("at year 9999", "5045550123/consent?at=9999-12-31T23:59:59.999999999%2B14:00&history=true", hAccept("a far moment: the latest record, if any"))
	cg("no key", "5045550123/consent", hNoKey(), hStatus(401), hCode("unauthorized"))
	add(hReq("v1 consent/DELETE", "DELETE", "/v1/numbers/5045550123/consent", "", hStatus(405), hCode("method_not_allowed")))

	// --- inbound SMS ---
	sm := func(name, body string, opts ...hostileOpt) {
		add(hReq("v1 inbound sms/"+name, "POST", "/v1/inbound/sms", body, opts...))
	}
	sm("from missing", `{"body":"STOP"}`, hStatus(422), hCode("validation"))
	sm("from letters", `{"from":"abc","body":"STOP"}`, hStatus(422), hCode("invalid_number"))
	sm("from SQL", `{"from":"'; DROP TABLE consent_ledger;--","body":"STOP"}`, hStatus(422), hCode("invalid_number"))
	sm("from NUL", `{"from":"+1504555\u00000123","body":"STOP"}`, hStatus(422), hCode("invalid_number"))
	sm("from number", `{"from":15045550123,"body":"STOP"}`, hStatus(422), hCode("validation"))
	sm("from 1M", `{"from":"`+hostileBig+`","body":"STOP"}`, hStatus(422), hCode("invalid_number"))
	sm("body 2001 bytes", `{"from":"+15045550123","body":"STOP`+strings.Repeat(" ", 1997)+`"}`, hStatus(422), hCode("validation"))
	sm("body 1M", `{"from":"+15045550123","body":"`+hostileBig+`"}`, hStatus(422), hCode("validation"))
	sm("body object", `{"from":"+15045550123","body":{"text":"STOP"}}`, hStatus(422), hCode("validation"))
	sm("body no keyword", `{"from":"+15045550123","body":"please STOP'); DROP TABLE consent_ledger;--"}`, hAccept("no keyword: nothing is recorded"))
	sm("body keyword lookalike", `{"from":"+15045550123","body":"ＳＴＯＰ"}`, hAccept("full-width letters are no keyword: nothing is recorded"))
	sm("unknown field", `{"from":"+15045550123","body":"STOP","to":"x"}`, hStatus(400), hCode("unknown_field"))
	sm("read-only key", `{"from":"+15045550123","body":"STOP"}`, hKey(hostileReadKey), hAuth(), hStatus(403), hCode("forbidden"))

	// --- webhooks ---
	wh := func(name, body string, opts ...hostileOpt) {
		add(hReq("v1 create webhook/"+name, "POST", "/v1/webhooks", body, opts...))
	}
	wh("url missing", `{}`, hStatus(422), hCode("validation"))
	wh("url javascript", `{"url":"javascript:alert(1)"}`, hStatus(422), hCode("validation"))
	wh("url file", `{"url":"file:///etc/passwd"}`, hStatus(422), hCode("validation"))
	wh("url gopher", `{"url":"gopher://127.0.0.1:6379/_FLUSHALL"}`, hStatus(422), hCode("validation"))
	wh("url no host", `{"url":"http:///x"}`, hStatus(422), hCode("validation"))
	wh("url relative", `{"url":"/v1/customers"}`, hStatus(422), hCode("validation"))
	wh("url 1M", `{"url":"https://example.com/`+hostileBig+`"}`, hStatus(422), hCode("validation"))
	wh("url control", `{"url":"https://exa\u0000mple.com/"}`, hStatus(422), hCode("validation"))
	wh("url number", `{"url":1}`, hStatus(422), hCode("validation"))
	wh("event_types string", `{"url":"https://example.com/h","event_types":"*"}`, hStatus(422), hCode("validation"))
	wh("event_types unknown", `{"url":"https://example.com/h","event_types":["customer.hacked"]}`, hStatus(422), hCode("validation"))
	wh("event_types nested", `{"url":"https://example.com/h","event_types":`+hostileNested+`}`, hStatus(422), hCode("validation"))
	wh("secret short", `{"url":"https://example.com/h","secret":"short"}`, hStatus(422), hCode("validation"))
	wh("secret control", `{"url":"https://example.com/h","secret":"0123456789abcdef\u0001"}`, hStatus(422), hCode("validation"))
	wh("description 201", `{"url":"https://example.com/h","description":"`+strings.Repeat("d", 201)+`"}`, hStatus(422), hCode("validation"))
	wh("description control", `{"url":"https://example.com/h","description":"\u001b[2J"}`, hStatus(422), hCode("validation"))
	wh("unknown field", `{"url":"https://example.com/h","active":true}`, hStatus(400), hCode("unknown_field"))
	wh("read-only key", `{"url":"https://example.com/h"}`, hKey(hostileReadKey), hAuth(), hStatus(403), hCode("forbidden"))
	// SSRF: destinations inside the server's network, in every notation,
	// are refused at create time (and at dial time: events' tests).
	for _, b := range []struct{ name, url string }{
		{"loopback", "http://127.0.0.1:8080/hook"},
		{"loopback other", "http://127.53.0.1/"},
		{"loopback name", "http://localhost:8080/hook"},
		{"loopback name dot", "http://localhost./hook"},
		{"loopback subdomain", "http://api.localhost/hook"},
		{"metadata", "http://169.254.169.254/latest/meta-data/"},
		{"metadata name", "http://metadata.google.internal/computeMetadata/v1/"},
		{"metadata decimal", "http://2852039166/latest/meta-data/"},
		{"private 10", "http://10.0.0.5/"},
		{"private 172", "http://172.16.0.1/"},
		{"private 192", "http://192.168.1.1/"},
		{"carrier-grade NAT", "http://100.64.0.1/"},
		{"unspecified", "http://0.0.0.0:8080/"},
		{"unspecified short", "http://0/"},
		{"broadcast", "http://255.255.255.255/"},
		{"multicast", "http://224.0.0.1/"},
		{"decimal", "http://2130706433/"},
		{"octal", "http://017700000001/"},
		{"octal dotted", "http://0177.0.0.1/"},
		{"hex", "http://0x7f000001/"},
		{"hex dotted", "http://0x7f.1/"},
		{"short form", "http://127.1/"},
		{"zero padded", "http://127.000.000.001/"},
		{"full-width digits", "http://１２７.０.０.１/"},
		{"IPv6 loopback", "http://[::1]/"},
		{"IPv6 unspecified", "http://[::]/"},
		{"IPv6 link-local", "http://[fe80::1]/"},
		{"IPv6 link-local zone", "http://[fe80::1%25eth0]/"},
		{"IPv6 unique local", "http://[fd00::1]/"},
		{"IPv4-mapped", "http://[::ffff:127.0.0.1]/"},
		{"IPv4-mapped hex", "http://[::ffff:7f00:1]/"},
		{"IPv4-mapped metadata", "http://[::ffff:169.254.169.254]/"},
		{"NAT64 metadata", "http://[64:ff9b::a9fe:a9fe]/"},
		{"6to4 loopback", "http://[2002:7f00:1::]/"},
		{"userinfo trick", "http://example.com@127.0.0.1/"},
		{"redirect to inside from inside", "http://127.0.0.1:8080/redirect?to=http://169.254.169.254/"},
		{"hostname resolving inside", "http://inside.attacker.example/hook"},
		{"hostname resolving to metadata", "http://metadata.attacker.example/latest/meta-data/"},
		{"hostname resolving partly inside", "https://mixed.attacker.example/hook"},
		{"hostname without dot", "http://intranet/hook"},
		{"hostname local", "http://printer.local/hook"},
	} {
		wh("ssrf "+b.name, `{"url":`+strconv.Quote(b.url)+`}`, hStatus(422), hCode("url_forbidden"))
	}
	wh("ssrf percent-encoded", `{"url":"http://%31%32%37.0.0.1/"}`, hStatus(422), hCode("validation")) // not a URL to Go
	wh("ssrf with bad event type", `{"url":"http://10.0.0.5/","event_types":["customer.hacked"]}`, hStatus(422), hCode("url_forbidden"))
	add(hReq("v1 list webhooks/hostile query", "GET", "/v1/webhooks?limit=-1&url=%27", "", hAccept("the list takes no parameters")))
	add(hReq("v1 list webhooks/read-only key", "GET", "/v1/webhooks", "", hKey(hostileReadKey), hAuth(), hStatus(403), hCode("forbidden")))
	for _, b := range []struct{ name, seg string }{
		{"negative", "-1"}, {"zero", "0"}, {"letters", "abc"}, {"overflow", "99999999999999999999"}, {"unknown", "999"},
		{"SQL", "1%20OR%201%3D1"}, {"NUL", "%00"}, {"plus", "+1"},
	} {
		p := "/v1/webhooks/" + b.seg
		add(hReq("v1 get webhook/"+b.name, "GET", p, "", hStatus(404), hCode("not_found")))
		add(hReq("v1 delete webhook/"+b.name, "DELETE", p, "", hStatus(404), hCode("not_found")))
		add(hReq("v1 list deliveries/"+b.name, "GET", p+"/deliveries", "", hStatus(404), hCode("not_found")))
		add(hReq("v1 redeliver/webhook "+b.name, "POST", p+"/deliveries/1/redeliver", "", hStatus(404), hCode("not_found")))
		add(hReq("v1 redeliver/delivery "+b.name, "POST", "/v1/webhooks/1/deliveries/"+b.seg+"/redeliver", "", hStatus(404), hCode("not_found")))
	}
	add(hReq("v1 list deliveries/limit bad", "GET", "/v1/webhooks/1/deliveries?limit=0", "", hStatus(422), hCode("validation")))
	add(hReq("v1 delete webhook/read-only key", "DELETE", "/v1/webhooks/1", "", hKey(hostileReadKey), hAuth(), hStatus(403), hCode("forbidden")))
	add(hReq("v1 redeliver/idempotency key control", "POST", "/v1/webhooks/1/deliveries/1/redeliver", "", hHeader("Idempotency-Key", "\x00"), hStatus(422), hCode("validation")))

	// --- Relay consent ---
	rk := func(name, addr, body string, opts ...hostileOpt) {
		add(hReq("relay consent/"+name, "PUT", relayConsent(addr), body, opts...))
	}
	add(hReq("relay consent/client unknown", "PUT", "/platform/v3/api/messaging/client/nope/consent/channel_addr/5045550123/channel_type/sms",
		`{"consent_type":"written"}`, hStatus(404), hCode("Client not found")))
	add(hReq("relay consent/client other tenant", "PUT", "/platform/v3/api/messaging/client/other/consent/channel_addr/5045550123/channel_type/sms",
		`{"consent_type":"written"}`, hStatus(404), hCode("Client not found")))
	rk("addr letters", "abcdefghij", `{"consent_type":"written"}`, hStatus(400), hCode("channel_addr must hold digits only"))
	rk("addr short", "123", `{"consent_type":"written"}`, hStatus(400), hCode("channel_addr must have 10 to 11 digits"))
	rk("addr 12 digits", "150455501234", `{"consent_type":"written"}`, hStatus(400), hCode("channel_addr must have"))
	rk("addr plus", "%2B15045550123", `{"consent_type":"written"}`, hStatus(400), hCode("digits only"))
	rk("addr NUL", "5045550123%00", `{"consent_type":"written"}`, hStatus(400), hCode("digits only"))
	rk("addr SQL", "5045550123%27--", `{"consent_type":"written"}`, hStatus(400), hCode("digits only"))
	rk("addr 100k", hostileLongPath, `{"consent_type":"written"}`, hStatus(400), hCode("channel_addr must have"))
	rk("addr unreadable", "25045550123", `{"consent_type":"written"}`, hStatus(400), hCode("channel_addr"))
	rk("consent_type missing", "5045550123", `{"client_source":"crm"}`, hStatus(400), hCode("consent_type"))
	rk("consent_type none", "5045550123", `{"consent_type":"none"}`, hStatus(400), hCode("consent_type"))
	rk("consent_type unknown", "5045550123", `{"consent_type":"maybe"}`, hStatus(400), hCode("consent_type"))
	rk("consent_type number", "5045550123", `{"consent_type":1}`, hStatus(400), hCode("consent_type"))
	rk("client_source control", "5045550123", `{"consent_type":"written","client_source":"a\u0000"}`, hStatus(400), hCode("client_source"))
	rk("client_source 101", "5045550123", `{"consent_type":"written","client_source":"`+strings.Repeat("s", 101)+`"}`, hStatus(400), hCode("client_source"))
	rk("country unknown", "5045550123", `{"consent_type":"written","country_code":"999"}`, hStatus(400), hCode("country_code"))
	rk("country 11 chars", "5045550123", `{"consent_type":"written","country_code":"12345678901"}`, hStatus(400), hCode("country_code"))
	rk("no key", "5045550123", `{"consent_type":"written"}`, hNoKey(), hStatus(401), hCode("xx-relay-api-key"))
	rk("read-only key", "5045550123", `{"consent_type":"written"}`, hKey(hostileReadKey), hAuth(), hStatus(401), hCode("lacks permission"))
	add(hReq("relay consent/channel_type email", "PUT", "/platform/v3/api/messaging/client/"+hostileSlug+"/consent/channel_addr/5045550123/channel_type/email", `{"consent_type":"written"}`, hStatus(404), hShape(shapeProblem), hCode("not_found")))
	add(hReq("relay consent/POST", "POST", relayConsent("5045550123"), `{"consent_type":"written"}`, hStatus(405), hShape(shapeProblem), hCode("method_not_allowed")))

	return cs
}

// hostileCheckEmptyList is a check for a list read with a filter that
// names nothing: a 2xx must hold no row.
func hostileCheckEmptyList(c *hostileCase) {
	c.check = func(t *testing.T, _ *hostileEnv, r *hostileResp) {
		if r.status/100 != 2 {
			return
		}
		var out struct{ Data []json.RawMessage }
		if err := json.Unmarshal(r.body, &out); err != nil || len(out.Data) != 0 {
			t.Errorf("%d rows (%v) for a filter naming nothing: %s", len(out.Data), err, hostileTrunc(r.body))
		}
	}
}

// acceptedWrites are hostile inputs that are legitimately stored: text is
// text, however much it looks like SQL or markup. Each proves the value was
// stored as sent, and that the tables it named still stand.
func (e *hostileEnv) acceptedWrites() []hostileCase {
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	c2 := id(e.c2.ID)
	customerNamed := func(want string) func(*testing.T, *hostileEnv, *hostileResp) {
		return func(t *testing.T, e *hostileEnv, r *hostileResp) {
			var c phonebook.Customer
			if err := json.Unmarshal(r.body, &c); err != nil || c.ID == 0 {
				t.Fatalf("no customer in %s: %v", hostileTrunc(r.body), err)
			}
			got, err := e.svc.FindCustomer(e.acme, phonebook.CustomerRef{ID: c.ID})
			if err != nil {
				t.Fatalf("find customer %d: %v", c.ID, err)
			}
			if got.Name != want {
				t.Errorf("stored name %q, want %q", got.Name, want)
			}
		}
	}
	phoneWhere := func(ref phonebook.CustomerRef, what string, ok func(p *phonebook.Phone) bool) func(*testing.T, *hostileEnv, *hostileResp) {
		return func(t *testing.T, e *hostileEnv, r *hostileResp) {
			phones, err := e.svc.FindPhones(e.acme, ref)
			if err != nil {
				t.Fatalf("find phones: %v", err)
			}
			for _, p := range phones {
				if ok(p) {
					return
				}
			}
			t.Errorf("no phone with %s among %d", what, len(phones))
		}
	}
	sqlExt := `x' OR '1'='1`
	return []hostileCase{
		hReq("v1 create customer/name SQL", "POST", "/v1/customers", `{"name":"`+hostileSQL+`"}`,
			hWrites("a name is text", customerNamed(hostileSQL))),
		hReq("v1 create customer/name SQL union", "POST", "/v1/customers", `{"name":"1 UNION SELECT key_hash FROM api_keys --"}`,
			hWrites("a name is text", customerNamed("1 UNION SELECT key_hash FROM api_keys --"))),
		hReq("v1 create customer/name markup", "POST", "/v1/customers", `{"name":"<script>alert(1)</script>"}`,
			hWrites("a name is text", customerNamed("<script>alert(1)</script>"))),
		hReq("v1 create customer/external_id SQL", "POST", "/v1/customers", `{"external_id":"`+sqlExt+`","name":"ext"}`,
			hWrites("an external id is text", func(t *testing.T, e *hostileEnv, r *hostileResp) {
				resp := e.do(t, hReq("list", "GET", "/v1/customers?external_id="+url.QueryEscape(sqlExt), ""))
				var out struct{ Data []phonebook.Customer }
				if err := json.Unmarshal(resp.body, &out); err != nil || len(out.Data) != 1 || out.Data[0].ExternalID != sqlExt {
					t.Errorf("list by the SQL external id: %d %s (%v), want exactly that customer", resp.status, hostileTrunc(resp.body), err)
				}
			})),
		hReq("v1 create customer/duplicate keys", "POST", "/v1/customers", `{"name":"first","name":"second"}`,
			hWrites("KNOWN: duplicate keys are read last-wins (encoding/json), not refused", customerNamed("second"))),
		hReq("v1 create customer/null body", "POST", "/v1/customers", `null`,
			hWrites("KNOWN: a null body reads as {}: an empty customer is created", customerNamed(""))),
		hReq("v1 patch customer/null body", "PATCH", "/v1/customers/"+c2, `null`,
			hWrites("KNOWN: a null body reads as {}: nothing changes but the version", customerNamed("Charles Babbage"))),
		hReq("v1 add phone type/name SQL", "POST", "/v1/phone-types", `{"name":"x'); DROP TABLE phone_types;--"}`,
			hWrites("a type name is text (stored lower case, as every type name)", func(t *testing.T, e *hostileEnv, r *hostileResp) {
				types, err := e.svc.PhoneTypes(e.acme)
				if err != nil {
					t.Fatalf("phone types: %v", err)
				}
				for _, pt := range types {
					if pt.Name == "x'); drop table phone_types;--" {
						return
					}
				}
				t.Errorf("the SQL-looking type is not in the registry (%d types)", len(types))
			})),
		hReq("v1 add phone/notes SQL", "POST", "/v1/customers/"+c2+"/phones", `{"number":"5045550131","notes":"'); DELETE FROM phones;--","label":"<b>x</b>"}`,
			hWrites("notes and labels are text", phoneWhere(phonebook.CustomerRef{ID: e.c2.ID}, "the SQL notes", func(p *phonebook.Phone) bool {
				return p.Notes == "'); DELETE FROM phones;--" && p.Label == "<b>x</b>"
			}))),
		hReq("v1 add phone/number with SQL tail", "POST", "/v1/customers/"+c2+"/phones", `{"number":"+1 504 555 0132'; DROP TABLE phones;--"}`,
			hWrites("libphonenumber may read a number out of surrounding text; if stored, raw keeps it all", func(t *testing.T, e *hostileEnv, r *hostileResp) {
				if r.status/100 != 2 {
					return
				}
				phoneWhere(phonebook.CustomerRef{ID: e.c2.ID}, "the raw SQL tail", func(p *phonebook.Phone) bool {
					return p.Raw == "+1 504 555 0132'; DROP TABLE phones;--" && p.E164 == "+15045550132"
				})(t, e, r)
			})),
		hReq("crossriver add/notes SQL", "POST", "/core/v1/cm/customers/"+e.c2.UUID+"/phones",
			`{"isPrimary":false,"phoneType":"HOME","phoneNumber":"5045550133","notes":"'); DELETE FROM phones;--"}`,
			hWrites("notes are text", phoneWhere(phonebook.CustomerRef{ID: e.c2.ID}, "the SQL notes", func(p *phonebook.Phone) bool {
				return p.Notes == "'); DELETE FROM phones;--" && p.Raw == "5045550133"
			}))),
		hReq("v9 create/label markup", "POST", "/v9/clients/"+c2+"/phone_numbers", `{"phone_numbers":[{"number":"5045550134","label":"<i>x</i>' --"}]}`,
			hWrites("a label is text", phoneWhere(phonebook.CustomerRef{ID: e.c2.ID}, "the markup label", func(p *phonebook.Phone) bool {
				return p.Label == "<i>x</i>' --" && p.Type == "other"
			}))),
		hReq("rambase create/CDATA number", "POST", "/collaboration/contacts/"+c2+"/phones",
			`<Phone><PhoneNumber><![CDATA[+1 (504) 555-0135]]></PhoneNumber><!-- a comment --><?pi ignored?></Phone>`,
			hWrites("CDATA, comments and processing instructions are plain XML", phoneWhere(phonebook.CustomerRef{ID: e.c2.ID}, "the CDATA number", func(p *phonebook.Phone) bool {
				return p.Raw == "+1 (504) 555-0135" && p.Type == "work"
			}))),
		hReq("rambase create/json duplicate keys", "POST", "/collaboration/contacts/"+c2+"/phones",
			`{"Phone":{"PhoneNumber":"abc","PhoneNumber":"+1 504 555 0136"}}`,
			hWrites("KNOWN: JSON keys given twice are read last-wins (the README's 109004 covers XML fields only)", func(t *testing.T, e *hostileEnv, r *hostileResp) {
				if r.status/100 != 2 {
					return
				}
				phoneWhere(phonebook.CustomerRef{ID: e.c2.ID}, "the last PhoneNumber", func(p *phonebook.Phone) bool {
					return p.Raw == "+1 504 555 0136"
				})(t, e, r)
			})),
		hReq("relay add_phone/client_source SQL", "PUT", "/platform/v3/api/cdm/client/"+hostileSlug+"/customer/C-2/add_phone/5045550137",
			`{"consent_type":"written","client_source":"'; DROP TABLE consent_ledger;--"}`,
			hWrites("a source is text", phoneWhere(phonebook.CustomerRef{ID: e.c2.ID}, "the SQL consent source", func(p *phonebook.Phone) bool {
				return p.Consent.Source == "'; DROP TABLE consent_ledger;--" && p.Consent.Type == "written"
			}))),
		hReq("v1 put consent/source SQL", "PUT", "/v1/numbers/5045550123/consent", `{"type":"express","source":"'); DROP TABLE consent_ledger;--","evidence":"<img src=x onerror=alert(1)>"}`,
			hWrites("source and evidence are text", func(t *testing.T, e *hostileEnv, r *hostileResp) {
				st, err := e.svc.ConsentAt(e.acme, "+15045550123", "", time.Time{})
				if err != nil || st.Record == nil || st.Record.Source != "'); DROP TABLE consent_ledger;--" || st.Record.Evidence != "<img src=x onerror=alert(1)>" {
					t.Errorf("consent now %+v (%v), want the SQL source and markup evidence stored as sent", st, err)
				}
			})),
		hReq("v1 inbound sms/STOP with punctuation", "POST", "/v1/inbound/sms", `{"from":"+1 (504) 555-0199","body":"stop!!! '); DROP TABLE phones;--"}`,
			hWrites("a STOP keyword opts the number out; the rest of the text is never stored", func(t *testing.T, e *hostileEnv, r *hostileResp) {
				st, err := e.svc.ConsentAt(e.acme, "+15045550199", "", time.Time{})
				if err != nil || st.Type != phonebook.ConsentStop || strings.Contains(st.Record.Evidence, "DROP") {
					t.Errorf("consent now %+v (%v), want stop with the keyword alone as evidence", st, err)
				}
			})),
		hReq("v1 create webhook/redirector", "POST", "/v1/webhooks", `{"url":"https://redirector.example/r?to=http://169.254.169.254/","description":"'; DROP TABLE webhooks;--"}`,
			hWrites("a public URL is accepted; a redirect it answers (to inside or anywhere) is never followed (events TestWebhookRedirectNotFollowed), a name resolving inside is refused at dial time (events TestWebhookDialHostnameResolvingInside)", func(t *testing.T, e *hostileEnv, r *hostileResp) {
				if r.status != http.StatusCreated || !bytes.Contains(r.body, []byte(`'; DROP TABLE webhooks;--`)) {
					t.Errorf("the webhook is not created with its description as sent: %d %s", r.status, hostileTrunc(r.body))
				}
			})),
		hReq("relay consent/client_source SQL", "PUT", "/platform/v3/api/messaging/client/"+hostileSlug+"/consent/channel_addr/5045550177/channel_type/sms",
			`{"consent_type":"stop","client_source":"x'); DROP TABLE consent_ledger;--"}`,
			hWrites("a source is text", func(t *testing.T, e *hostileEnv, r *hostileResp) {
				st, err := e.svc.ConsentAt(e.acme, "5045550177", "", time.Time{})
				if err != nil || st.Type != phonebook.ConsentStop || st.Record.Source != "x'); DROP TABLE consent_ledger;--" {
					t.Errorf("consent now %+v (%v), want stop from the SQL source", st, err)
				}
			})),
		hReq("wasp save/FormId SQL", "POST", "/public-api/phones/customer/save",
			`[{"CustomerNumber":"C-2","PhoneNumber":"(504) 555-0138","PhoneTypeName":"HOME","FormId":"'; DROP TABLE phones;--"}]`,
			hWrites("FormId is ignored", phoneWhere(phonebook.CustomerRef{ID: e.c2.ID}, "the Wasp number", func(p *phonebook.Phone) bool {
				return p.Raw == "(504) 555-0138" && p.Type == "home"
			}))),
	}
}

// TestHostileInput sends every route hundreds of malformed requests. Each
// must be answered 4xx in the route's own error shape (never 5xx, never a
// 2xx unless the case says why), and the store must be unchanged after
// them all. Inputs that are legitimately stored (SQL-looking text) run
// afterwards, each proving what was stored.
func TestHostileInput(t *testing.T) {
	e := newHostileEnv(t)
	cases := e.cases(t)
	writes := e.acceptedWrites()
	if n := len(cases) + len(writes); n < 200 {
		t.Fatalf("only %d cases", n)
	}

	// Every route has a case: new routes must get theirs.
	mux := http.NewServeMux()
	for _, rt := range e.routes {
		mux.Handle(rt.Method+" "+rt.Pattern, http.NotFoundHandler())
	}
	perRoute := map[string]int{}
	perShape := map[string]int{}
	for _, c := range append(append([]hostileCase(nil), cases...), writes...) {
		u, err := url.Parse("http://example.com" + c.path)
		if err != nil {
			t.Fatalf("%s: bad path: %v", c.name, err)
		}
		_, pattern := mux.Handler(&http.Request{Method: c.method, URL: u, Host: "example.com"})
		perRoute[pattern]++
	}
	var missing []string
	for _, rt := range e.routes {
		if rt.Source == "console" {
			continue // HTML forms with their own suite (web/console): not an API shape
		}
		if perRoute[rt.Method+" "+rt.Pattern] == 0 {
			missing = append(missing, rt.Method+" "+rt.Pattern)
		}
	}
	if len(missing) > 0 {
		t.Errorf("routes without a hostile case: %s", strings.Join(missing, ", "))
	}

	before := hostileSnapshot(t, e.db)
	names := map[string]bool{}
	for _, c := range cases {
		if names[c.name] {
			t.Errorf("two cases named %q", c.name)
		}
		names[c.name] = true
		if c.write {
			t.Fatalf("%s: a writing case in the read-only group", c.name)
		}
		perShape[hostileRun(t, e, c).String()]++
	}
	after := hostileSnapshot(t, e.db)
	for _, table := range hostileTables(before, after) {
		if b, a := before[table], after[table]; b != a {
			t.Errorf("table %s changed under malformed input: %s -> %s", table, b, a)
		}
	}

	for _, c := range writes {
		perShape[hostileRun(t, e, c).String()]++
	}

	var lines []string
	for p, n := range perRoute {
		if p == "" {
			p = "(no route: router 404/405)"
		}
		lines = append(lines, fmt.Sprintf("%4d  %s", n, p))
	}
	sort.Strings(lines)
	t.Logf("%d cases (%d read-only, %d accepted writes); per route:\n%s", len(cases)+len(writes), len(cases), len(writes), strings.Join(lines, "\n"))
	lines = lines[:0]
	for s, n := range perShape {
		lines = append(lines, fmt.Sprintf("%4d  %s", n, s))
	}
	sort.Strings(lines)
	t.Logf("per answer shape:\n%s", strings.Join(lines, "\n"))
}

// hostileRun sends c and checks its answer; it returns the shape the
// answer was checked against (shapeNone for an accepted 2xx).
func hostileRun(t *testing.T, e *hostileEnv, c hostileCase) hostileShape {
	t.Helper()
	r := e.do(t, c)
	sh := c.shape
	if sh == shapeNone {
		sh = hostileFamilyOf(c.path).shape
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: %s %s: %s\n  answer %d %s: %s", c.name, c.method, hostileTrunc([]byte(c.path)),
			fmt.Sprintf(format, args...), r.status, r.header.Get("Content-Type"), hostileTrunc(r.body))
	}
	switch {
	case r.status >= 500:
		fail("a server error")
		return sh
	case !c.auth && (r.status == 401 || r.status == 403) && c.status != r.status:
		fail("refused before its handler: the case's credential does not work")
		return sh
	case sh == shapeWaspRecords || sh == shapeBatchRecords:
		// per-record failures inside a 200: the shape check holds the status
	case c.status != 0 && r.status != c.status:
		fail("status %d, want %d", r.status, c.status)
		return sh
	case c.status == 0 && c.accept == "" && r.status/100 != 4:
		fail("status %d, want a 4xx", r.status)
		return sh
	case c.accept != "" && r.status/100 != 2 && r.status/100 != 4:
		fail("status %d, want a 2xx or a 4xx", r.status)
		return sh
	}
	if c.accept != "" {
		t.Logf("accepted-case %-50s -> %d (%s)", c.name, r.status, c.accept)
	}
	if r.status/100 == 2 && c.accept != "" && sh != shapeWaspRecords && sh != shapeBatchRecords {
		if c.check != nil {
			c.check(t, e, r)
		}
		return shapeNone
	}
	got, err := hostileCheckShape(sh, r)
	if err != nil {
		fail("not in the route's %s error shape: %v", sh, err)
		return sh
	}
	if c.code != "" {
		switch sh {
		case shapeV9, shapeRelay:
			if !strings.Contains(got, c.code) {
				fail("message %q, want it to hold %q", got, c.code)
			}
		default:
			if got != c.code {
				fail("code %q, want %q", got, c.code)
			}
		}
	}
	if c.check != nil {
		c.check(t, e, r)
	}
	return sh
}

// hostileCheckShape checks r is an error in shape s and returns its code
// (or, for v9 and Relay, its message).
func hostileCheckShape(s hostileShape, r *hostileResp) (string, error) {
	mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
	wantType := func(want string) error {
		if mt != want {
			return fmt.Errorf("Content-Type %q, want %s", r.header.Get("Content-Type"), want)
		}
		return nil
	}
	strict := func(v any) error {
		dec := json.NewDecoder(bytes.NewReader(r.body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("body: %w", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return fmt.Errorf("body: data after the JSON value")
		}
		return nil
	}
	switch s {
	case shapeProblem:
		if err := wantType("application/problem+json"); err != nil {
			return "", err
		}
		var p struct {
			Type, Title, Detail, Instance, Code string
			Status                              int
			Errors                              []struct{ Field, Code, Message string }
		}
		if err := strict(&p); err != nil {
			return "", err
		}
		if p.Code == "" || p.Title == "" || p.Status != r.status || !strings.HasSuffix(p.Type, "/"+p.Code) || p.Errors == nil {
			return "", fmt.Errorf("incomplete problem: %+v", p)
		}
		return p.Code, nil
	case shapeCrossRiver:
		if err := wantType("application/json"); err != nil {
			return "", err
		}
		var b struct {
			Errors []struct {
				Code    int
				Message string
			}
		}
		if err := strict(&b); err != nil {
			return "", err
		}
		if len(b.Errors) == 0 {
			return "", fmt.Errorf("no Errors")
		}
		for _, e := range b.Errors {
			if e.Code < 1000 || e.Code > 9999 || e.Message == "" || !bytes.Contains(r.body, []byte(`"Code":`)) {
				return "", fmt.Errorf("bad error item %+v", e)
			}
		}
		return strconv.Itoa(b.Errors[0].Code), nil
	case shapeV9:
		if err := wantType("application/json"); err != nil {
			return "", err
		}
		var b struct {
			Error  *string
			Errors map[string][]string
		}
		if err := strict(&b); err != nil {
			return "", err
		}
		if b.Error == nil || *b.Error == "" {
			return "", fmt.Errorf("no error message")
		}
		return *b.Error + " " + fmt.Sprint(b.Errors), nil
	case shapeRamBaseXML:
		if err := wantType("application/xml"); err != nil {
			return "", err
		}
		var b struct {
			XMLName        xml.Name
			Code           int
			Message        string
			HttpStatusCode int
		}
		if err := xml.Unmarshal(r.body, &b); err != nil {
			return "", fmt.Errorf("body: %w", err)
		}
		return hostileRamBaseCode(b.XMLName.Local, b.Code, b.Message, b.HttpStatusCode, r.status)
	case shapeRamBaseJSON:
		if err := wantType("application/json"); err != nil {
			return "", err
		}
		// The error object is the whole body, as RamBase's .NET SDK reads it.
		var b struct {
			HttpStatusCode        int
			HttpStatusDescription string
			Message               string
			TranslatedMessage     string
			ErrorMessage          struct{ ErrorMessageId string }
			Code                  int
			Field                 string
			InnerErrors           []json.RawMessage
		}
		if err := strict(&b); err != nil {
			return "", err
		}
		return hostileRamBaseCode("Error", b.Code, b.Message, b.HttpStatusCode, r.status)
	case shapeRamBaseHTML:
		if err := wantType("text/html"); err != nil {
			return "", err
		}
		m := regexp.MustCompile(`<th>Code</th><td>(\d+)</td>`).FindSubmatch(r.body)
		if m == nil || !bytes.Contains(r.body, []byte("<th>HttpStatusCode</th><td>"+strconv.Itoa(r.status)+"</td>")) {
			return "", fmt.Errorf("no Code and HttpStatusCode rows")
		}
		return string(m[1]), nil
	case shapeRelay:
		if err := wantType("application/json"); err != nil {
			return "", err
		}
		var b struct{ Message *string }
		if err := strict(&b); err != nil {
			return "", err
		}
		if b.Message == nil || *b.Message == "" || !bytes.HasPrefix(r.body, []byte(`{"message":`)) {
			return "", fmt.Errorf("no message")
		}
		return *b.Message, nil
	case shapeWasp, shapeWaspRecords:
		if err := wantType("application/json"); err != nil {
			return "", err
		}
		type wt struct {
			ResultCode     int
			Message        string
			HttpStatusCode int
			FieldName      string
		}
		var b struct {
			Data *struct {
				ResultList                                   []wt
				SuccessfullResults, TotalResults, ErrorCount int
			}
			Messages                           []wt
			BatchNumber                        int
			HasError, HasHttpError, HasMessage bool
			HasSuccessWithMoreDataRemaining    bool
			TotalRecordsLongCount              int64
		}
		if err := strict(&b); err != nil {
			return "", err
		}
		if !b.HasError || !b.HasMessage || len(b.Messages) == 0 {
			return "", fmt.Errorf("HasError %v, HasMessage %v, %d messages", b.HasError, b.HasMessage, len(b.Messages))
		}
		if s == shapeWasp {
			if r.status/100 != 4 || b.Data != nil || !b.HasHttpError || len(b.Messages) != 1 ||
				b.Messages[0].HttpStatusCode != r.status || b.Messages[0].ResultCode >= 0 || b.Messages[0].Message == "" {
				return "", fmt.Errorf("not a refused request's envelope")
			}
			return strconv.Itoa(b.Messages[0].ResultCode), nil
		}
		if r.status != 200 || b.Data == nil || b.HasHttpError || b.Data.TotalResults == 0 || len(b.Data.ResultList) != b.Data.TotalResults ||
			b.Data.ErrorCount != b.Data.TotalResults || b.Data.SuccessfullResults != 0 {
			return "", fmt.Errorf("status %d: not a 200 envelope whose every record failed", r.status)
		}
		for _, x := range b.Data.ResultList {
			if x.ResultCode >= 0 || x.HttpStatusCode/100 != 4 || x.Message == "" {
				return "", fmt.Errorf("record result %+v", x)
			}
		}
		return strconv.Itoa(b.Data.ResultList[0].ResultCode), nil
	case shapeBatchRecords:
		if err := wantType("application/json"); err != nil {
			return "", err
		}
		var b struct {
			Results []struct {
				Index  int
				Status string
				Error  *struct {
					Code   string
					Status int
				}
			}
			Counts struct{ Total, Created, Updated, Failed int }
		}
		if err := json.Unmarshal(r.body, &b); err != nil {
			return "", err
		}
		if r.status != 200 || len(b.Results) == 0 || b.Counts.Total != len(b.Results) || b.Counts.Failed != b.Counts.Total {
			return "", fmt.Errorf("status %d: not a 200 batch answer whose every record failed", r.status)
		}
		for _, x := range b.Results {
			if x.Status != "error" || x.Error == nil || x.Error.Code == "" || x.Error.Status/100 != 4 {
				return "", fmt.Errorf("record result %+v", x)
			}
		}
		return b.Results[0].Error.Code, nil
	case shapeNotFoundText:
		if r.status != 404 {
			return "", fmt.Errorf("status %d, want the docs' 404", r.status)
		}
		return "", nil
	}
	return "", fmt.Errorf("unknown shape %d", s)
}

func hostileRamBaseCode(root string, code int, msg string, status, got int) (string, error) {
	if root != "Error" || msg == "" || status != got || !(code >= 109000 && code <= 109099) {
		return "", fmt.Errorf("not a RamBase error: <%s> code %d status %d message %q", root, code, status, msg)
	}
	return strconv.Itoa(code), nil
}

// hostileSnapshot is, for every table of the store (idempotency records
// aside: a 4xx answer to a request with an Idempotency-Key is stored by
// design; and the heartbeat row /readyz rewrites to prove the store can
// write), its row count and a hash of all its rows.
func hostileSnapshot(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('idempotency_keys', 'goose_db_version', 'heartbeat') ORDER BY name`)
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
	for _, want := range []string{"customers", "phones", "phone_types", "api_keys", "tenants", "events"} {
		if !hostileContains(tables, want) {
			t.Fatalf("the store has no table %s (tables: %v)", want, tables)
		}
	}
	out := map[string]string{}
	for _, table := range tables {
		rs, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
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
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = hex.EncodeToString(b)
				}
			}
			lines = append(lines, fmt.Sprintf("%q", vals))
		}
		if err := rs.Err(); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		rs.Close()
		sort.Strings(lines)
		sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
		out[table] = fmt.Sprintf("%d rows %x", len(lines), sum[:8])
	}
	return out
}

func hostileTables(a, b map[string]string) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func hostileContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hostileTrunc(b []byte) string {
	const n = 300
	s := strings.ToValidUTF8(string(b), "?")
	if len(s) > n {
		return s[:n] + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return s
}
