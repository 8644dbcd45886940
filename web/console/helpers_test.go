package console_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
	"github.com/phonebook/phonebook/store/storetest"
	"github.com/phonebook/phonebook/web/console"
)

// logBuffer collects the server's log, safe for the handlers' goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is the whole router (API, console) over a real SQLite file, served
// on a real port.
type env struct {
	svc     *phonebook.Service
	console *console.Console
	srv     *httptest.Server
	logs    *logBuffer
	a, b    *tenant // two tenants
}

// tenant is one tenant with keys of each kind.
type tenant struct {
	*phonebook.Tenant
	admin, write, read string
	ctx                context.Context // the admin key, for setup through the service
}

func newEnv(t testing.TB, opts console.Options) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pb.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	// The service keeps the session records: it runs on the console's
	// clock, so a test moving it moves sessions' expiry too.
	e := &env{svc: phonebook.NewService(st, opts.Now), logs: &logBuffer{}}
	e.svc.SetSealer(storetest.MustBox(t))
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.console = console.New(log, e.svc, opts)
	api := httpapi.NewServer(log, e.svc, httpapi.Options{Dialects: []httpapi.Dialect{e.console}})
	e.srv = httptest.NewServer(api)
	t.Cleanup(func() {
		e.srv.Close()
		e.console.Close()
		st.Close()
		if logs := e.logs.String(); !t.Failed() {
			for _, tn := range []*tenant{e.a, e.b} {
				if tn == nil {
					continue
				}
				for _, s := range []string{tn.admin, tn.write, tn.read} {
					if strings.Contains(logs, s) {
						t.Errorf("the log holds an API key secret (%.6s...)", s)
					}
				}
			}
		}
	})
	e.a = e.mustTenant(t, "acme", "US")
	e.b = e.mustTenant(t, "globex", "US")
	return e
}

func (e *env) mustTenant(t testing.TB, slug, region string) *tenant {
	t.Helper()
	ctx := context.Background()
	tn, err := e.svc.CreateTenant(ctx, phonebook.TenantInput{Slug: slug, DefaultRegion: region})
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	key := func(name string, scopes ...string) string {
		_, secret, err := e.svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: slug, Name: name, Scopes: scopes})
		if err != nil {
			t.Fatalf("CreateAPIKey: %v", err)
		}
		return secret
	}
	out := &tenant{Tenant: tn,
		admin: key(slug+" support lead", phonebook.ScopeAdmin),
		write: key(slug+" support", phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite),
		read:  key(slug+" viewer", phonebook.ScopeCustomersRead),
	}
	a, err := e.svc.Authenticate(ctx, out.admin)
	if err != nil {
		t.Fatal(err)
	}
	a.Source = "test"
	out.ctx = phonebook.NewContextWithAuth(ctx, a)
	return out
}

// MustCustomer creates a customer with phones (numbers as written) in tn.
func (e *env) MustCustomer(t testing.TB, tn *tenant, name, ext string, numbers ...string) *phonebook.Customer {
	t.Helper()
	c, err := e.svc.CreateCustomer(tn.ctx, phonebook.CustomerInput{Name: name, ExternalID: ext})
	if err != nil {
		t.Fatalf("CreateCustomer(%q): %v", name, err)
	}
	for _, n := range numbers {
		if _, err := e.svc.AddPhone(tn.ctx, phonebook.CustomerRef{ID: c.ID}, phonebook.PhoneInput{Number: n, Type: "mobile"}); err != nil {
			t.Fatalf("AddPhone(%q): %v", n, err)
		}
	}
	c, err = e.svc.FindCustomer(tn.ctx, phonebook.CustomerRef{ID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// user is one browser: a cookie jar, redirects not followed.
type user struct {
	t    testing.TB
	e    *env
	c    *http.Client
	csrf string // the CSRF token of the last page read
}

func (e *env) newUser(t testing.TB) *user {
	jar, _ := cookiejar.New(nil)
	return &user{t: t, e: e, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// signedIn returns a user signed in with key.
func (e *env) signedIn(t testing.TB, key string) *user {
	t.Helper()
	u := e.newUser(t)
	res, _ := u.login(key, "")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: status %d, want 303", res.StatusCode)
	}
	return u
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// do sends a request and reads the answer; a page's CSRF token is kept for
// the next post.
func (u *user) do(req *http.Request) (*http.Response, string) {
	u.t.Helper()
	res, err := u.c.Do(req)
	if err != nil {
		u.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		u.t.Fatal(err)
	}
	if m := csrfRE.FindSubmatch(b); m != nil {
		u.csrf = string(m[1])
	}
	return res, string(b)
}

func (u *user) get(path string, header ...string) (*http.Response, string) {
	u.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u.e.srv.URL+path, nil)
	if err != nil {
		u.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return u.do(req)
}

// post sends a form with the CSRF token of the last page read, unless
// form sets "csrf" itself.
func (u *user) post(path string, form url.Values, header ...string) (*http.Response, string) {
	u.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", u.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, u.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		u.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return u.do(req)
}

// upload posts a file as the import form does.
func (u *user) upload(path, name string, content []byte) (*http.Response, string) {
	u.t.Helper()
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", u.csrf)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		u.t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, u.e.srv.URL+path, strings.NewReader(body.String()))
	if err != nil {
		u.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return u.do(req)
}

// login signs in with key through the form.
func (u *user) login(key, next string) (*http.Response, string) {
	u.t.Helper()
	path := "/console/login"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	res, page := u.get(path)
	if res.StatusCode != http.StatusOK {
		u.t.Fatalf("GET %s: status %d", path, res.StatusCode)
	}
	m := regexp.MustCompile(`name="next" value="([^"]*)"`).FindStringSubmatch(page)
	form := url.Values{"key": {key}}
	if m != nil {
		form.Set("next", htmlUnescape(m[1]))
	}
	return u.post("/console/login", form)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(s)
}

// cookie returns the user's cookie name as the server sees it.
func (u *user) cookie(name string) *http.Cookie {
	uu, _ := url.Parse(u.e.srv.URL + "/console/")
	for _, c := range u.c.Jar.Cookies(uu) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// wantStatus fails unless res has status want.
func wantStatus(t testing.TB, res *http.Response, body string, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%.2000s", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, body)
	}
}

// wantContains fails unless body holds every string of want, as it is or
// with its character references read (html/template writes "+" as &#43;).
func wantContains(t testing.TB, body string, want ...string) {
	t.Helper()
	text := html.UnescapeString(body)
	for _, w := range want {
		if !strings.Contains(body, w) && !strings.Contains(text, w) {
			t.Errorf("page lacks %q\n%.3000s", w, body)
		}
	}
}
