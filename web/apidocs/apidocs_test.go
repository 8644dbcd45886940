package apidocs

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

const testSpecURL = "/openapi.json"

func get(t *testing.T, h http.Handler, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mediaType(t *testing.T, res *http.Response) string {
	t.Helper()
	mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", res.Header.Get("Content-Type"), err)
	}
	return mt
}

var refRE = regexp.MustCompile(`\b(?:src|href)="([^"]*)"`)

// pageRefs returns the src and href attribute values of page, except data:
// URLs and the spec link.
func pageRefs(page string) []string {
	var refs []string
	for _, m := range refRE.FindAllStringSubmatch(page, -1) {
		if strings.HasPrefix(m[1], "data:") || m[1] == testSpecURL {
			continue
		}
		refs = append(refs, m[1])
	}
	return refs
}

func TestVersion(t *testing.T) {
	if !regexp.MustCompile(`^5\.\d+\.\d+$`).MatchString(Version()) {
		t.Errorf("Version() = %q, want an exact 5.x.y version", Version())
	}
	if !regexp.MustCompile(`^sha512-[A-Za-z0-9+/]{86}==$`).MatchString(Integrity()) {
		t.Errorf("Integrity() = %q, want an npm sha512 integrity", Integrity())
	}
}

// TestDistChecksums guards against hand edits of the vendored files: they
// must match dist/SHA256SUMS written by scripts/update-apidocs.sh.
func TestDistChecksums(t *testing.T) {
	sums, err := dist.ReadFile("dist/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{"VERSION": true, "SHA256SUMS": true}
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("malformed SHA256SUMS line %q", sc.Text())
		}
		listed[name] = true
		b, err := dist.ReadFile("dist/" + name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, SHA256SUMS says %s", name, got, want)
		}
	}
	for name := range distAssets {
		if !listed[name] {
			t.Errorf("served asset %s is not in SHA256SUMS", name)
		}
	}
	entries, err := fs.ReadDir(dist, "dist")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			t.Errorf("unexpected embedded file dist/%s", e.Name())
		}
	}
}

func TestPage(t *testing.T) {
	v := Version()
	tests := []struct {
		name, prefix string
		paths        []string
		base         string // what asset URLs start with
	}{
		{"docs", "/docs", []string{"/docs", "/docs/"}, "/docs/assets/"},
		{"trailing slash", "/docs/", []string{"/docs", "/docs/"}, "/docs/assets/"},
		{"nested", "/api/v1/docs", []string{"/api/v1/docs", "/api/v1/docs/"}, "/api/v1/docs/assets/"},
		{"root", "/", []string{"/"}, "/assets/"},
	}
	for _, tt := range tests {
		h := Handler(tt.prefix, testSpecURL)
		for _, path := range tt.paths {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				res := get(t, h, http.MethodGet, path, nil)
				page := body(t, res)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("status %d, want 200", res.StatusCode)
				}
				if mt := mediaType(t, res); mt != "text/html" {
					t.Errorf("media type %q, want text/html", mt)
				}
				if got := res.Header.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
					t.Errorf("Content-Security-Policy = %q, want %q", got, ContentSecurityPolicy)
				}
				if strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
					t.Errorf("page is cached as immutable: %q", res.Header.Get("Cache-Control"))
				}
				for _, want := range []string{
					"<!DOCTYPE html>",
					`<html lang="en">`,
					`<meta charset="utf-8">`,
					"<title>phonebook API</title>",
					`<div id="swagger-ui"></div>`,
					`<link rel="stylesheet" href="` + tt.base + v + `/swagger-ui.css">`,
					`<script src="` + tt.base + v + `/swagger-ui-bundle.js"></script>`,
					`<script src="` + tt.base + `init.js"></script>`,
				} {
					if !strings.Contains(page, want) {
						t.Errorf("page lacks %q:\n%s", want, page)
					}
				}
				// Strict CSP: no inline scripts, only <script src=...>.
				if n, m := strings.Count(page, "<script"), strings.Count(page, "<script src="); n != m {
					t.Errorf("page has %d inline <script> elements", n-m)
				}
			})
		}
	}
}

func TestAssets(t *testing.T) {
	for _, prefix := range []string{"/docs", "/api/v1/docs", "/"} {
		h := Handler(prefix, testSpecURL)
		page := body(t, get(t, h, http.MethodGet, prefix, nil))
		refs := pageRefs(page)
		if len(refs) != 3 {
			t.Errorf("prefix %q: page references %q, want css, bundle and init.js", prefix, refs)
		}
		base := &url.URL{Path: prefix}
		for _, ref := range refs {
			u, err := base.Parse(ref)
			if err != nil {
				t.Fatal(err)
			}
			t.Run(u.Path, func(t *testing.T) {
				res := get(t, h, http.MethodGet, u.String(), nil)
				b := body(t, res)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("status %d, want 200", res.StatusCode)
				}
				if b == "" {
					t.Error("empty body")
				}
				if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("X-Content-Type-Options = %q", got)
				}
				wantType := map[bool]string{true: "text/css", false: "application/javascript"}[strings.HasSuffix(u.Path, ".css")]
				if mt := mediaType(t, res); mt != wantType {
					t.Errorf("media type %q, want %q", mt, wantType)
				}
				cc := res.Header.Get("Cache-Control")
				versioned := strings.Contains(u.Path, "/"+Version()+"/")
				if versioned && cc != "public, max-age=31536000, immutable" {
					t.Errorf("versioned asset Cache-Control = %q", cc)
				}
				if !versioned && strings.Contains(cc, "max-age") {
					t.Errorf("unversioned asset has long cache: %q", cc)
				}
				switch {
				case strings.HasSuffix(u.Path, "/swagger-ui-bundle.js"):
					if !strings.Contains(b, "SwaggerUIBundle") || len(b) < 500_000 {
						t.Errorf("bundle (%d bytes) is not the Swagger UI bundle", len(b))
					}
				case strings.HasSuffix(u.Path, "/swagger-ui.css"):
					if !strings.Contains(b, ".swagger-ui") {
						t.Error("css does not look like Swagger UI's")
					}
				case strings.HasSuffix(u.Path, "/init.js"):
					for _, want := range []string{
						`url: "` + testSpecURL + `"`,
						"SwaggerUIBundle({",
						"dom_id: '#swagger-ui'",
						"deepLinking: true",
						"tryItOutEnabled: true",
						"persistAuthorization: true",
					} {
						if !strings.Contains(b, want) {
							t.Errorf("init.js lacks %q:\n%s", want, b)
						}
					}
				default:
					t.Errorf("unexpected asset %s", u.Path)
				}
			})
		}
	}
}

func TestLicenseFiles(t *testing.T) {
	h := Handler("/docs", testSpecURL)
	for _, name := range []string{"LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"} {
		res := get(t, h, http.MethodGet, "/docs/assets/"+Version()+"/"+name, nil)
		b := body(t, res)
		if res.StatusCode != http.StatusOK || mediaType(t, res) != "text/plain" || b == "" {
			t.Errorf("%s: status %d, type %q, %d bytes", name, res.StatusCode, res.Header.Get("Content-Type"), len(b))
		}
	}
}

func TestInitScriptEscapesSpecURL(t *testing.T) {
	for _, spec := range []string{
		"/openapi.json",
		"/api/openapi.yaml?v=1&x=2",
		`/o"pen</script><!--api.json`,
		"/spec\u2028\u2029.json",
	} {
		h := Handler("/docs", spec)
		js := body(t, get(t, h, http.MethodGet, "/docs/assets/init.js", nil))
		for _, bad := range []string{"</script", "<!--", "\u2028", "\u2029"} {
			if strings.Contains(js, bad) {
				t.Errorf("spec %q: init.js contains unescaped %q", spec, bad)
			}
		}
		m := regexp.MustCompile(`(?m)^\s*url: (".*"),$`).FindStringSubmatch(js)
		if m == nil {
			t.Fatalf("spec %q: no url in init.js:\n%s", spec, js)
		}
		var got string
		if err := json.Unmarshal([]byte(m[1]), &got); err != nil || got != spec {
			t.Errorf("init.js url %s decodes to %q (%v), want %q", m[1], got, err, spec)
		}
	}
}

func TestNoExternalReferences(t *testing.T) {
	h := Handler("/docs", testSpecURL)
	for _, path := range []string{"/docs", "/docs/assets/init.js"} {
		b := body(t, get(t, h, http.MethodGet, path, nil))
		for _, scheme := range []string{"http://", "https://", `"//`, `'//`} {
			if strings.Contains(b, scheme) {
				t.Errorf("%s references an external host (%q):\n%s", path, scheme, b)
			}
		}
	}
}

func TestNotFound(t *testing.T) {
	v := Version()
	h := Handler("/docs", testSpecURL)
	for _, path := range []string{
		"/",
		"/doc",
		"/docsx",
		"/docs//",
		"/docs/index.html",
		"/docs/x",
		"/docs/assets",
		"/docs/assets/",
		"/docs/assets/init.jsx",
		"/docs/assets/swagger-ui-bundle.js",
		"/docs/assets/0.0.0/swagger-ui-bundle.js",
		"/docs/assets/" + v,
		"/docs/assets/" + v + "/",
		"/docs/assets/" + v + "/VERSION",
		"/docs/assets/" + v + "/SHA256SUMS",
		"/docs/assets/" + v + "/swagger-ui-bundle.js.map",
		"/docs/assets/" + v + "/swagger-ui.js",
		"/docs/assets/" + v + "/../init.js",
		"/docs/assets/" + v + "/swagger-ui.css/",
		"/other/assets/" + v + "/swagger-ui.css",
	} {
		t.Run(path, func(t *testing.T) {
			res := get(t, h, http.MethodGet, path, nil)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404", path, res.StatusCode)
			}
		})
	}
}

func TestMethods(t *testing.T) {
	h := Handler("/docs", testSpecURL)
	bundle := "/docs/assets/" + Version() + "/swagger-ui-bundle.js"

	res := get(t, h, http.MethodHead, bundle, nil)
	if b := body(t, res); res.StatusCode != http.StatusOK || b != "" || mediaType(t, res) != "application/javascript" {
		t.Errorf("HEAD: status %d, type %q, %d body bytes", res.StatusCode, res.Header.Get("Content-Type"), len(b))
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		for _, path := range []string{"/docs", bundle} {
			res := get(t, h, method, path, nil)
			if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: status %d, Allow %q", method, path, res.StatusCode, res.Header.Get("Allow"))
			}
		}
	}
}

func TestConditionalGet(t *testing.T) {
	h := Handler("/docs", testSpecURL)
	for _, path := range []string{"/docs", "/docs/assets/init.js", "/docs/assets/" + Version() + "/swagger-ui.css"} {
		etag := get(t, h, http.MethodGet, path, nil).Header.Get("ETag")
		if etag == "" {
			t.Errorf("%s: no ETag", path)
			continue
		}
		res := get(t, h, http.MethodGet, path, http.Header{"If-None-Match": {etag}})
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("%s: If-None-Match: status %d, want 304", path, res.StatusCode)
		}
	}
}

// TestServeMux checks the documented way of mounting the handler, through a
// real server.
func TestServeMux(t *testing.T) {
	mux := http.NewServeMux()
	h := Handler("/docs", testSpecURL)
	mux.Handle("/docs", h)
	mux.Handle("/docs/", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for path, want := range map[string]int{
		"/docs":                    http.StatusOK,
		"/docs/":                   http.StatusOK,
		"/docs/assets/init.js":     http.StatusOK,
		"/docs/assets/nope.js":     http.StatusNotFound,
		"/docs/assets/../init.js":  http.StatusNotFound, // cleaned to /docs/init.js
		"/docs/assets/./init.js":   http.StatusOK,       // cleaned by the mux
		"/docs/assets/%69nit.js":   http.StatusOK,
		"/docs/assets/init.js?x=1": http.StatusOK,
	} {
		res, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s: status %d, want %d", path, res.StatusCode, want)
		}
	}
}

func TestHandlerPanics(t *testing.T) {
	for _, tt := range []struct{ prefix, spec string }{
		{"docs", testSpecURL},
		{"", testSpecURL},
		{"/docs", ""},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handler(%q, %q) did not panic", tt.prefix, tt.spec)
				}
			}()
			Handler(tt.prefix, tt.spec)
		}()
	}
}
