package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/crossriver"
	"github.com/phonebook/phonebook/dialect/rambase"
	"github.com/phonebook/phonebook/dialect/relay"
	"github.com/phonebook/phonebook/dialect/ticketevolution"
	"github.com/phonebook/phonebook/dialect/wasp"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
	"github.com/phonebook/phonebook/store/storetest"
)

// MustOpenAPIServer returns a server over a fresh SQLite store in a
// temporary directory.
func MustOpenAPIServer(t *testing.T, opts httpapi.Options) *httpapi.Server {
	t.Helper()
	return mustOpenAPIServerFunc(t, func(*slog.Logger, *phonebook.Service) httpapi.Options { return opts })
}

// mustOpenAPIServerFunc is MustOpenAPIServer with options that need the
// server's logger and service (dialects are built over them).
func mustOpenAPIServerFunc(t *testing.T, opts func(*slog.Logger, *phonebook.Service) httpapi.Options) *httpapi.Server {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "phonebook.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	svc := phonebook.NewService(store, nil)
	svc.SetSealer(storetest.MustBox(t))
	log := slog.New(slog.DiscardHandler)
	return httpapi.NewServer(log, svc, opts(log, svc))
}

// allDialects are the five vendor dialects, as cmd/phonebook mounts them.
func allDialects(log *slog.Logger, svc *phonebook.Service) httpapi.Options {
	return httpapi.Options{Dialects: []httpapi.Dialect{
		crossriver.New(log, svc),
		ticketevolution.New(log, svc),
		rambase.New(log, svc),
		relay.New(log, svc),
		wasp.New(log, svc),
	}}
}

// openAPIGet serves GET path on srv and returns the response and its body.
func openAPIGet(t *testing.T, srv http.Handler, path string) (*http.Response, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	return res, body
}

// MustOpenAPISpec fetches /openapi.json from srv and parses it.
func MustOpenAPISpec(t *testing.T, srv http.Handler) map[string]any {
	t.Helper()
	res, body := openAPIGet(t, srv, "/openapi.json")
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("GET /openapi.json: status got %d, want %d; body: %.300s", got, want, body)
	}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if got, want := mt, "application/json"; got != want {
		t.Fatalf("GET /openapi.json: Content-Type got %q, want %q", got, want)
	}
	var spec map[string]any
	if err := json.Unmarshal(body, &spec); err != nil {
		t.Fatalf("GET /openapi.json: not JSON: %v", err)
	}
	return spec
}

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

var openAPIRestWildcard = regexp.MustCompile(`\{([^}]*)\.\.\.\}`)

// openAPIPath turns a Go ServeMux pattern (without its method) into the
// OpenAPI path that documents it: the host is dropped, {name...} becomes
// {name}, {$} marks an exact path, and a subtree pattern ("/docs/") is an
// alias of the path without its trailing slash ("/docs").
func openAPIPath(pattern string) string {
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // host-specific pattern
	}
	exact := strings.HasSuffix(pattern, "/{$}")
	pattern = strings.TrimSuffix(pattern, "{$}")
	pattern = openAPIRestWildcard.ReplaceAllString(pattern, "{$1}")
	if !exact && len(pattern) > 1 {
		pattern = strings.TrimSuffix(pattern, "/")
	}
	return pattern
}

// routeOperations is the set of "METHOD /path" of routes, as OpenAPI paths.
func routeOperations(routes []httpapi.Route) map[string]bool {
	ops := map[string]bool{}
	for _, rt := range routes {
		ops[strings.ToUpper(rt.Method)+" "+openAPIPath(rt.Pattern)] = true
	}
	return ops
}

// specOperations is the set of "METHOD /path" of the spec's paths; a
// trailing slash is dropped as for subtree patterns.
func specOperations(spec map[string]any) map[string]bool {
	ops := map[string]bool{}
	paths, _ := spec["paths"].(map[string]any)
	for p, item := range paths {
		item, _ := item.(map[string]any)
		if len(p) > 1 {
			p = strings.TrimSuffix(p, "/")
		}
		for _, m := range openAPIMethods {
			if _, ok := item[m]; ok {
				ops[strings.ToUpper(m)+" "+p] = true
			}
		}
	}
	return ops
}

// compareRoutesWithSpec returns, sorted, the operations routes serve that
// the spec lacks, and those the spec documents that no route serves. Pass
// it every route of a server, dialects included.
func compareRoutesWithSpec(routes []httpapi.Route, spec map[string]any) (notInSpec, notServed []string) {
	served, documented := routeOperations(routes), specOperations(spec)
	for op := range served {
		if !documented[op] {
			notInSpec = append(notInSpec, op)
		}
	}
	for op := range documented {
		if !served[op] {
			notServed = append(notServed, op)
		}
	}
	sort.Strings(notInSpec)
	sort.Strings(notServed)
	return notInSpec, notServed
}

func TestOpenAPIPath(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"/v1/customers", "/v1/customers"},
		{"/v1/customers/{id}/phones/{phoneId}", "/v1/customers/{id}/phones/{phoneId}"},
		{"/docs/", "/docs"},
		{"/docs", "/docs"},
		{"/files/{path...}", "/files/{path}"},
		{"/v1/{$}", "/v1/"},
		{"/", "/"},
		{"api.example.com/v1/customers", "/v1/customers"},
	}
	for _, tt := range tests {
		if got := openAPIPath(tt.pattern); got != tt.want {
			t.Errorf("openAPIPath(%q): got %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

func TestOpenAPIRouteComparison(t *testing.T) {
	spec := func(paths map[string][]string) map[string]any {
		ps := map[string]any{}
		for p, methods := range paths {
			item := map[string]any{"parameters": []any{}}
			for _, m := range methods {
				item[m] = map[string]any{}
			}
			ps[p] = item
		}
		return map[string]any{"paths": ps}
	}
	routes := func(ops ...string) []httpapi.Route {
		var rs []httpapi.Route
		for _, op := range ops {
			m, p, _ := strings.Cut(op, " ")
			rs = append(rs, httpapi.Route{Method: m, Pattern: p})
		}
		return rs
	}
	tests := []struct {
		name          string
		routes        []httpapi.Route
		spec          map[string]any
		wantNotInSpec []string
		wantNotServed []string
	}{
		{
			name:   "same",
			routes: routes("GET /v1/customers", "POST /v1/customers", "GET /v1/customers/{id}"),
			spec:   spec(map[string][]string{"/v1/customers": {"get", "post"}, "/v1/customers/{id}": {"get"}}),
		},
		{
			name:   "docs subtree is an alias",
			routes: routes("GET /docs", "GET /docs/"),
			spec:   spec(map[string][]string{"/docs": {"get"}}),
		},
		{
			name:          "route missing from the spec",
			routes:        routes("GET /v1/customers", "DELETE /v1/customers/{id}", "PUT /v9/clients/{client_id}/phone_numbers/{id}"),
			spec:          spec(map[string][]string{"/v1/customers": {"get"}}),
			wantNotInSpec: []string{"DELETE /v1/customers/{id}", "PUT /v9/clients/{client_id}/phone_numbers/{id}"},
		},
		{
			name:          "spec operation no route serves",
			routes:        routes("GET /v1/customers"),
			spec:          spec(map[string][]string{"/v1/customers": {"get", "post"}, "/v1/history": {"get"}}),
			wantNotServed: []string{"GET /v1/history", "POST /v1/customers"},
		},
		{
			name:          "both ways, parameter names count",
			routes:        routes("GET /v1/customers/{id}"),
			spec:          spec(map[string][]string{"/v1/customers/{customerId}": {"get"}}),
			wantNotInSpec: []string{"GET /v1/customers/{id}"},
			wantNotServed: []string{"GET /v1/customers/{customerId}"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			notInSpec, notServed := compareRoutesWithSpec(tt.routes, tt.spec)
			if got, want := notInSpec, tt.wantNotInSpec; !slices.Equal(got, want) {
				t.Errorf("not in spec: got %q, want %q", got, want)
			}
			if got, want := notServed, tt.wantNotServed; !slices.Equal(got, want) {
				t.Errorf("not served: got %q, want %q", got, want)
			}
		})
	}
}

// TestOpenAPIMatchesRoutes compares the served document with the router:
// every route is documented and every documented operation is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	native := func(*slog.Logger, *phonebook.Service) httpapi.Options { return httpapi.Options{} }
	tests := []struct {
		name string
		opts func(*slog.Logger, *phonebook.Service) httpapi.Options
		// withoutDialects: the server mounts no dialect, so the spec's
		// dialect operations are not served.
		withoutDialects bool
	}{
		{"native API", native, true},
		{"native API and the five dialects", allDialects, false},
	}
	var dialectRoutes []httpapi.Route
	for _, d := range allDialects(slog.New(slog.DiscardHandler), nil).Dialects {
		dialectRoutes = append(dialectRoutes, d.Routes()...)
	}
	dialectOps := routeOperations(dialectRoutes)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustOpenAPIServerFunc(t, tt.opts)
			spec := MustOpenAPISpec(t, srv)
			version, _ := spec["openapi"].(string)
			if !strings.HasPrefix(version, "3.1") {
				t.Errorf("openapi: got %q, want 3.1.x", version)
			}
			notInSpec, notServed := compareRoutesWithSpec(srv.Routes(), spec)
			for _, op := range notInSpec {
				t.Errorf("route %s is served but not in openapi.json", op)
			}
			for _, op := range notServed {
				if tt.withoutDialects && dialectOps[op] {
					continue
				}
				t.Errorf("openapi.json documents %s but no route serves it", op)
			}
		})
	}
}

// TestOpenAPIDialectOperations checks how the spec documents each
// dialect's routes: a summary, the vendor's tag, the vendor's credential
// (not the native X-API-Key) with the route's scope, and a 2xx answer with
// a body schema.
func TestOpenAPIDialectOperations(t *testing.T) {
	spec := MustOpenAPISpec(t, MustOpenAPIServer(t, httpapi.Options{}))
	schemes, _ := specResolve(spec, "#/components/securitySchemes")
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		tag     string
		dialect httpapi.Dialect
		schemes []string // every scheme the operation's requirements name
	}{
		{"crossriver", crossriver.New(log, nil), []string{"bearerAuth"}},
		{"ticketevolution", ticketevolution.New(log, nil), []string{"ticketEvolutionSignature", "ticketEvolutionToken"}},
		{"rambase", rambase.New(log, nil), []string{"bearerAuth", "rambaseAccessToken"}},
		{"relay", relay.New(log, nil), []string{"relayApiKey"}},
		{"wasp", wasp.New(log, nil), []string{"bearerAuth"}},
	}
	for _, tt := range tests {
		for _, rt := range tt.dialect.Routes() {
			path := openAPIPath(rt.Pattern)
			t.Run(rt.Method+" "+path, func(t *testing.T) {
				op, ok := specResolve(spec, "#/paths/"+pointerEscape.Replace(path)+"/"+strings.ToLower(rt.Method))
				if !ok {
					t.Fatalf("not in openapi.json")
				}
				o, _ := op.(map[string]any)
				if s, _ := o["summary"].(string); s == "" {
					t.Errorf("summary: got none, want one")
				}
				if got := fmt.Sprint(o["tags"]); got != "["+tt.tag+"]" {
					t.Errorf("tags: got %s, want [%s]", got, tt.tag)
				}
				reqs, _ := o["security"].([]any)
				var named []string
				for _, req := range reqs {
					req, _ := req.(map[string]any)
					for name, roles := range req {
						if !slices.Contains(named, name) {
							named = append(named, name)
						}
						if _, ok := schemes.(map[string]any)[name]; !ok {
							t.Errorf("security: scheme %q is not in components.securitySchemes", name)
						}
						if rs, _ := roles.([]any); len(rs) > 0 && !slices.Contains(rs, any(rt.Scope)) {
							t.Errorf("security %s: got roles %v, want %q", name, rs, rt.Scope)
						}
					}
				}
				sort.Strings(named)
				if !slices.Equal(named, tt.schemes) {
					t.Errorf("security: got schemes %q, want %q", named, tt.schemes)
				}
				responses, _ := o["responses"].(map[string]any)
				bodies := 0
				for code, r := range responses {
					r, _ := specDeref(spec, r).(map[string]any)
					content, _ := r["content"].(map[string]any)
					if strings.HasPrefix(code, "2") {
						for _, c := range content {
							if c, _ := c.(map[string]any); c["schema"] != nil {
								bodies++
							}
						}
					}
				}
				if bodies == 0 {
					t.Errorf("responses: got no 2xx answer with a schema")
				}
			})
		}
	}
}

// specResolve follows a local JSON pointer ("#/components/schemas/X").
func specResolve(doc any, ref string) (any, bool) {
	if ref == "#" {
		return doc, true
	}
	if !strings.HasPrefix(ref, "#/") {
		return nil, false
	}
	node := doc
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[tok]
			if !ok {
				return nil, false
			}
			node = v
		case []any:
			var i int
			if _, err := fmt.Sscanf(tok, "%d", &i); err != nil || i < 0 || i >= len(n) {
				return nil, false
			}
			node = n[i]
		default:
			return nil, false
		}
	}
	return node, true
}

// pointerEscape escapes a key as a JSON pointer token.
var pointerEscape = strings.NewReplacer("~", "~0", "/", "~1")

// specRefs collects every $ref of the document, by JSON pointer of where it is.
func specRefs(node any, where string, out map[string]string) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if s, ok := v.(string); ok && k == "$ref" {
				out[where] = s
				continue
			}
			specRefs(v, where+"/"+pointerEscape.Replace(k), out)
		}
	case []any:
		for i, v := range n {
			specRefs(v, fmt.Sprintf("%s/%d", where, i), out)
		}
	}
}

// specDeref follows $ref until a node without one.
func specDeref(doc, node any) any {
	for range 32 {
		m, ok := node.(map[string]any)
		if !ok {
			return node
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return node
		}
		if node, ok = specResolve(doc, ref); !ok {
			return nil
		}
	}
	return nil
}

var openAPIPathParam = regexp.MustCompile(`\{([^}]+)\}`)

func TestOpenAPIOperations(t *testing.T) {
	spec := MustOpenAPISpec(t, MustOpenAPIServer(t, httpapi.Options{}))

	t.Run("refs resolve", func(t *testing.T) {
		refs := map[string]string{}
		specRefs(spec, "#", refs)
		if len(refs) == 0 {
			t.Fatalf("refs: got none, want the document to use components")
		}
		for where, ref := range refs {
			if _, ok := specResolve(spec, ref); !ok {
				t.Errorf("%s: $ref %q does not resolve inside the document", where, ref)
			}
		}
	})

	paths, _ := spec["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Fatalf("paths: got none")
	}
	ids := map[string]string{}
	for path, item := range paths {
		item, _ := item.(map[string]any)
		for _, m := range openAPIMethods {
			op, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			name := strings.ToUpper(m) + " " + path
			t.Run(name, func(t *testing.T) {
				id, _ := op["operationId"].(string)
				if id == "" {
					t.Errorf("operationId: got none, want one")
				} else if other, dup := ids[id]; dup {
					t.Errorf("operationId %q: got it on %s too, want it unique", id, other)
				}
				ids[id] = name

				responses, _ := op["responses"].(map[string]any)
				var success []string
				for code := range responses {
					if strings.HasPrefix(code, "2") {
						success = append(success, code)
					}
				}
				if len(success) == 0 {
					t.Errorf("responses: got %d codes and no 2xx, want at least one 2xx", len(responses))
				}

				// Every {param} of the path is declared, on the path or the operation.
				declared := map[string]bool{}
				for _, list := range []any{item["parameters"], op["parameters"]} {
					ps, _ := list.([]any)
					for _, p := range ps {
						p, _ := specDeref(spec, p).(map[string]any)
						if p["in"] == "path" {
							declared[fmt.Sprint(p["name"])] = true
						}
					}
				}
				for _, m := range openAPIPathParam.FindAllStringSubmatch(path, -1) {
					if !declared[m[1]] {
						t.Errorf("path parameter %q: got no declaration, want one with in: path", m[1])
					}
				}
			})
		}
	}
}

// TestOpenAPIProblemCodes checks the Problem schema lists every error code
// the API can answer.
func TestOpenAPIProblemCodes(t *testing.T) {
	spec := MustOpenAPISpec(t, MustOpenAPIServer(t, httpapi.Options{}))
	problem, ok := specResolve(spec, "#/components/schemas/Problem/properties/code/enum")
	if !ok {
		t.Fatalf("components.schemas.Problem.properties.code.enum: got none, want the error codes")
	}
	var enum []string
	for _, v := range problem.([]any) {
		enum = append(enum, fmt.Sprint(v))
	}
	codes := []string{
		phonebook.ECodeValidation, phonebook.ECodeInvalidNumber, phonebook.ECodePhoneDuplicate,
		phonebook.ECodePhoneLimit, phonebook.ECodeNumberLimit, phonebook.ECodeTypeUnknown,
		phonebook.ECodeTypeInUse, phonebook.ECodeNotFound, phonebook.ECodeConflict,
		phonebook.ECodePrecondition, phonebook.ECodeUnauthorized, phonebook.ECodeForbidden,
		phonebook.ECodeIdempotencyReused, phonebook.ECodeUnavailable, phonebook.ECodeInternal,
		phonebook.ECodeURLForbidden, phonebook.ECodeWebhookLimit,
		// codes of the HTTP layer itself
		"malformed_json", "unknown_field", "body_too_large", "unsupported_media_type", "method_not_allowed",
	}
	for _, code := range codes {
		if !slices.Contains(enum, code) {
			t.Errorf("Problem.code enum %q: got no %q, want every error code", enum, code)
		}
	}
}

var (
	scriptSrc     = regexp.MustCompile(`<script[^>]*\ssrc="([^"]+)"`)
	stylesheetRef = regexp.MustCompile(`<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"`)
)

func TestOpenAPIDocs(t *testing.T) {
	srv := MustOpenAPIServer(t, httpapi.Options{})
	for _, page := range []string{"/docs", "/docs/"} {
		t.Run(page, func(t *testing.T) {
			res, body := openAPIGet(t, srv, page)
			if got, want := res.StatusCode, http.StatusOK; got != want {
				t.Fatalf("GET %s: status got %d, want %d", page, got, want)
			}
			mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
			if got, want := mt, "text/html"; got != want {
				t.Errorf("GET %s: Content-Type got %q, want %q", page, got, want)
			}
			if !strings.Contains(string(body), "swagger-ui") {
				t.Errorf("GET %s: body got no %q:\n%s", page, "swagger-ui", body)
			}
			var assets []string
			for _, m := range scriptSrc.FindAllStringSubmatch(string(body), -1) {
				assets = append(assets, m[1])
			}
			if len(assets) == 0 {
				t.Fatalf("GET %s: got no <script src>, want Swagger UI's scripts", page)
			}
			for _, m := range stylesheetRef.FindAllStringSubmatch(string(body), -1) {
				assets = append(assets, m[1])
			}
			for _, asset := range assets {
				res, body := openAPIGet(t, srv, asset)
				if got, want := res.StatusCode, http.StatusOK; got != want {
					t.Errorf("GET %s (from %s): status got %d, want %d", asset, page, got, want)
				}
				if len(body) == 0 {
					t.Errorf("GET %s (from %s): got an empty body", asset, page)
				}
			}
		})
	}
}
