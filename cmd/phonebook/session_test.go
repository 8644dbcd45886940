package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phonebook/phonebook/store/postgres"
)

// Secrets of the console session tests.
const (
	sessTestSecretKey = "console-session-test-server-key-0123456789"
	sessTestAdminKey  = "pb_console_sessions_0123456789abcdef"
)

// consoleBrowser is a browser of the console, written out by hand: it keeps
// no cookie jar (a jar would share cookies between the nodes, which differ
// only by port), so every request says which cookies it sends.
type consoleBrowser struct {
	t  *testing.T
	hc *http.Client
}

func newConsoleBrowser(t *testing.T) *consoleBrowser {
	hc := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(hc.CloseIdleConnections)
	return &consoleBrowser{t: t, hc: hc}
}

var sessCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// do sends req with cookies and returns the answer, its body and the CSRF
// token of the page ("" if none).
func (b *consoleBrowser) do(req *http.Request, cookies ...*http.Cookie) (res *http.Response, body, csrf string) {
	b.t.Helper()
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	if m := sessCSRF.FindSubmatch(raw); m != nil {
		csrf = string(m[1])
	}
	return res, string(raw), csrf
}

func (b *consoleBrowser) get(u string, header http.Header, cookies ...*http.Cookie) (*http.Response, string, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return b.do(req, cookies...)
}

func (b *consoleBrowser) post(u string, form url.Values, cookies ...*http.Cookie) (*http.Response, string, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req, cookies...)
}

// setCookie returns the cookie res sets named name, or nil.
func setCookie(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// signIn fetches the sign-in form from formNode and posts it, with key, to
// postNode; it returns the session cookie.
func (b *consoleBrowser) signIn(formNode, postNode, key string) *http.Cookie {
	b.t.Helper()
	res, body, csrf := b.get(formNode+"/console/login", nil)
	login := setCookie(res, "pb_console_login")
	if res.StatusCode != http.StatusOK || csrf == "" || login == nil {
		b.t.Fatalf("GET %s/console/login: status %d, csrf %q, login cookie %v\n%.1000s", formNode, res.StatusCode, csrf, login, body)
	}
	form := url.Values{"key": {key}, "csrf": {csrf}, "next": {"/console/search"}}
	res, body, _ = b.post(postNode+"/console/login", form, login)
	session := setCookie(res, "pb_console")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/search" || session == nil {
		b.t.Fatalf("POST %s/console/login with the form of %s: status %d, Location %q, session cookie %v; want 303 to /console/search with a session\n%.1000s",
			postNode, formNode, res.StatusCode, res.Header.Get("Location"), session, body)
	}
	if strings.Contains(session.Value, key) {
		b.t.Fatal("the session cookie holds the API key")
	}
	return session
}

// wantSignedIn checks that session opens the console on node, and returns
// the page's CSRF token.
func (b *consoleBrowser) wantSignedIn(name, node string, session *http.Cookie) string {
	b.t.Helper()
	res, body, csrf := b.get(node+"/console/search", nil, session)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Sign out") || csrf == "" {
		b.t.Fatalf("%s: GET /console/search with the session: status %d (Location %q), want 200 signed in\n%.1000s", name, res.StatusCode, res.Header.Get("Location"), body)
	}
	return csrf
}

// wantSignedOut checks that session is refused on node: pages send to the
// sign-in form saying the session ended, htmx requests get 401 and
// HX-Redirect.
func (b *consoleBrowser) wantSignedOut(name, node string, session *http.Cookie) {
	b.t.Helper()
	res, _, _ := b.get(node+"/console/search", nil, session)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/login?") || !strings.Contains(loc, "msg=ended") {
		b.t.Errorf("%s: GET /console/search with the old cookie: status %d, Location %q; want 303 to the sign-in page saying the session ended", name, res.StatusCode, loc)
	}
	res, _, _ = b.get(node+"/console/search?q=a", http.Header{"Hx-Request": {"true"}}, session)
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("HX-Redirect"), "/console/login") {
		b.t.Errorf("%s: htmx request with the old cookie: status %d, HX-Redirect %q; want 401 to the sign-in page", name, res.StatusCode, res.Header.Get("HX-Redirect"))
	}
}

// TestConsoleSessionsAcrossNodes runs three servers on one PostgreSQL
// database with the same PHONEBOOK_SECRET_KEY: the sign-in form fetched
// from node 1 is posted to node 2, the session works on all three and
// across a restart of node 2, and signing out on node 3 makes the old
// cookie refused on every node.
func TestConsoleSessionsAcrossNodes(t *testing.T) {
	base := postgresTestURL(t)
	ctx := context.Background()
	schema := fmt.Sprintf("pbsessions_%d_%d", os.Getpid(), rand.Uint64())
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = postgres.DropSchema(context.Background(), base, schema) })
	db, err := mnWithSearchPath(base, schema)
	if err != nil {
		t.Fatalf("PHONEBOOK_TEST_POSTGRES_URL: %v", err)
	}
	getenv := mapEnv(envDB, db, envSecretKey, sessTestSecretKey, envBootstrapKey, sessTestAdminKey, envWebhookWorkers, "0")
	nodes := make([]*server, 3)
	for i := range nodes {
		nodes[i] = startServer(t, getenv, "--addr", "127.0.0.1:0")
	}
	b := newConsoleBrowser(t)

	session := b.signIn(nodes[0].url, nodes[1].url, sessTestAdminKey)
	if !session.HttpOnly || session.Secure || session.SameSite != http.SameSiteStrictMode || session.Path != "/console" ||
		session.MaxAge != int((12*time.Hour).Seconds()) {
		t.Errorf("session cookie: HttpOnly %v Secure %v SameSite %v Path %q MaxAge %d; want HttpOnly, not Secure over plain http, Strict, /console, 12 h",
			session.HttpOnly, session.Secure, session.SameSite, session.Path, session.MaxAge)
	}
	// The record: the token's hash (32 bytes) and the bootstrap key, for 12 h.
	var n, idLen int
	var lifetime time.Duration
	err = conn.QueryRow(ctx, `SELECT count(*), max(length(s.id)), max(EXTRACT(EPOCH FROM s.expires_at - s.created_at))::bigint * 1000000000
		FROM `+schema+`.console_sessions s JOIN `+schema+`.api_keys k ON k.id = s.key_id WHERE k.name = 'bootstrap admin'`).Scan(&n, &idLen, &lifetime)
	if err != nil {
		t.Fatalf("read console_sessions: %v", err)
	}
	if n != 1 || idLen != 32 || lifetime != 12*time.Hour {
		t.Errorf("console_sessions of the bootstrap key: %d rows, id of %d bytes, lasting %v; want 1, 32 (SHA-256), 12h", n, idLen, lifetime)
	}

	var csrf string
	for i, n := range nodes {
		csrf = b.wantSignedIn(fmt.Sprintf("node%d", i+1), n.url, session)
	}

	// A restart of node 2 keeps the session.
	if err := nodes[1].stop(t); err != nil {
		t.Fatalf("node2 stop: %v", err)
	}
	nodes[1] = startServer(t, getenv, "--addr", "127.0.0.1:0")
	b.wantSignedIn("node2 after a restart", nodes[1].url, session)

	// Sign-out on node 3, with the form token of a page of node 1.
	res, body, _ := b.post(nodes[2].url+"/console/logout", url.Values{"csrf": {csrf}}, session)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/login?msg=signed-out" {
		t.Fatalf("POST node3/console/logout: status %d, Location %q; want 303 to /console/login?msg=signed-out\n%.1000s", res.StatusCode, res.Header.Get("Location"), body)
	}
	if c := setCookie(res, "pb_console"); c == nil || c.MaxAge >= 0 {
		t.Errorf("sign-out: session cookie %v, want it deleted", c)
	}
	for i, n := range nodes {
		b.wantSignedOut(fmt.Sprintf("node%d", i+1), n.url, session)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.console_sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("console_sessions after sign-out: %d rows, want 0", n)
	}
	// Signing in again works, on any node, with a new cookie.
	again := b.signIn(nodes[2].url, nodes[0].url, sessTestAdminKey)
	if again.Value == session.Value {
		t.Error("a new sign-in got the old cookie")
	}
	b.wantSignedIn("node2, new session", nodes[1].url, again)
}

// TestConsoleSessionSurvivesRestart: on SQLite too, a server restarted
// with the same PHONEBOOK_SECRET_KEY keeps its console sessions, and a
// session signed out before a restart stays signed out.
func TestConsoleSessionSurvivesRestart(t *testing.T) {
	t.Parallel()
	getenv := mapEnv(envDB, "sqlite:"+filepath.Join(t.TempDir(), "pb.db"), envSecretKey, sessTestSecretKey,
		envBootstrapKey, sessTestAdminKey, envWebhookWorkers, "0")
	srv := startServer(t, getenv, "--addr", "127.0.0.1:0")
	b := newConsoleBrowser(t)
	session := b.signIn(srv.url, srv.url, sessTestAdminKey)
	b.wantSignedIn("before the restart", srv.url, session)
	if err := srv.stop(t); err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, getenv, "--addr", "127.0.0.1:0")
	csrf := b.wantSignedIn("after the restart", srv.url, session)
	res, _, _ := b.post(srv.url+"/console/logout", url.Values{"csrf": {csrf}}, session)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: status %d, want 303", res.StatusCode)
	}
	if err := srv.stop(t); err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, getenv, "--addr", "127.0.0.1:0")
	b.wantSignedOut("signed out, then restarted", srv.url, session)
}

// TestConsoleSecureCookies: the console's cookies are Secure when the
// server is reached over https, as PHONEBOOK_PUBLIC_URL or --public-url
// say, and not over plain http; a public URL that is not one is refused.
func TestConsoleSecureCookies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		publicURL string // PHONEBOOK_PUBLIC_URL
		args      []string
		secure    bool
	}{
		{"no public URL", "", nil, false},
		{"http public URL", "http://phonebook.example.com", nil, false},
		{"https public URL", "https://phonebook.example.com", nil, true},
		{"https with a path", "https://example.com/phonebook/", nil, true},
		{"--public-url https", "", []string{"--public-url", "https://phonebook.example.com"}, true},
		{"--public-url wins over the environment", "https://phonebook.example.com", []string{"--public-url", "http://localhost:8080"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := mapEnv(envDB, "sqlite:"+filepath.Join(t.TempDir(), "pb.db"), envSecretKey, sessTestSecretKey,
				envBootstrapKey, sessTestAdminKey, envWebhookWorkers, "0", envPublicURL, tc.publicURL)
			srv := startServer(t, getenv, append([]string{"--addr", "127.0.0.1:0"}, tc.args...)...)
			b := newConsoleBrowser(t)
			res, _, csrf := b.get(srv.url+"/console/login", nil)
			login := setCookie(res, "pb_console_login")
			if login == nil {
				t.Fatal("no login cookie")
			}
			res, _, _ = b.post(srv.url+"/console/login", url.Values{"key": {sessTestAdminKey}, "csrf": {csrf}}, login)
			session := setCookie(res, "pb_console")
			if session == nil {
				t.Fatalf("sign-in: status %d, no session cookie", res.StatusCode)
			}
			for _, c := range []*http.Cookie{login, session} {
				if c.Secure != tc.secure || !c.HttpOnly {
					t.Errorf("cookie %s: Secure %v HttpOnly %v; want Secure %v, HttpOnly", c.Name, c.Secure, c.HttpOnly, tc.secure)
				}
			}
		})
	}
	for _, bad := range []string{"phonebook.example.com", "ftp://phonebook.example.com", "https://", "https://user:pw@phonebook.example.com", "https://example.com/?a=b"} {
		t.Run("refused "+bad, func(t *testing.T) {
			getenv := mapEnv(envDB, "sqlite:"+filepath.Join(t.TempDir(), "pb.db"), envPublicURL, bad)
			_, stderr, err := runCLI(t, getenv, "serve", "--addr", "127.0.0.1:0")
			if err == nil || !strings.Contains(stderr, "--public-url") {
				t.Errorf("serve with %s=%q: err %v, stderr %q; want a usage error naming --public-url", envPublicURL, bad, err, stderr)
			}
			if strings.Contains(bad, "pw@") && strings.Contains(stderr, "pw@") {
				t.Error("the error repeats a password of the URL")
			}
		})
	}
}
