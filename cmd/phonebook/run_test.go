package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // driver "sqlite", to read the file behind the store's back

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/web/console"
)

// syncBuffer is a bytes.Buffer safe for one writer goroutine and a reader.
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

// mapEnv returns a getenv reading only kv (key, value, key, value, ...).
func mapEnv(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// runCLI runs the program once with args (without the program name).
func runCLI(t *testing.T, getenv func(string) string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb syncBuffer
	err = run(t.Context(), append([]string{"phonebook"}, args...), getenv, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

// MustRunCLI runs the program and fails the test if it fails.
func MustRunCLI(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	stdout, stderr, err := runCLI(t, getenv, args...)
	if err != nil {
		t.Fatalf("phonebook %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr)
	}
	return stdout
}

var listeningLine = regexp.MustCompile(`msg=listening addr=(\S+)|"msg":"listening","addr":"([^"]+)"`)

// waitForAddr waits for the "listening" log line in stderr and returns its
// address; exited reports an early exit of the program.
func waitForAddr(t *testing.T, stderr *syncBuffer, exited <-chan struct{}) string {
	t.Helper()
	// Generous: several servers start at once on a loaded 2-core CI machine.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listeningLine.FindStringSubmatch(stderr.String()); m != nil {
			return m[1] + m[2]
		}
		select {
		case <-exited:
			t.Fatalf("the server exited before listening; stderr:\n%s", stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no listening line after 30s; stderr:\n%s", stderr)
	return ""
}

// waitHealthy polls baseURL/healthz until it answers 200.
func waitHealthy(t *testing.T, baseURL string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(10 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := client.Get(baseURL + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if got, want := strings.TrimSpace(string(body)), `{"status":"ok"}`; got != want {
					t.Fatalf("GET /healthz body: got %s, want %s", got, want)
				}
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("GET /healthz never answered 200; last: %s", last)
}

// server is the program running `serve` in a goroutine.
type server struct {
	url            string
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	exited         chan struct{}
	err            error // valid once exited is closed
}

// startServer runs `phonebook serve args...` and waits until /healthz
// answers. The test's cleanup stops it if the test did not.
func startServer(t *testing.T, getenv func(string) string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, exited: make(chan struct{})}
	go func() {
		defer close(s.exited)
		s.err = run(ctx, append([]string{"phonebook", "serve"}, args...), getenv, strings.NewReader(""), s.stdout, s.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		<-s.exited
	})
	s.url = "http://" + waitForAddr(t, s.stderr, s.exited)
	waitHealthy(t, s.url)
	return s
}

// stop cancels the server's context, as SIGTERM does, and returns what run
// returned; it fails the test if run takes more than 10 s.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case <-s.exited:
		return s.err
	case <-time.After(10 * time.Second):
		t.Fatalf("run did not return within 10s of cancel; stderr:\n%s", s.stderr)
		return nil
	}
}

func get(t *testing.T, url string) (status int, header http.Header, body string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp.StatusCode, resp.Header, strings.TrimSpace(string(b))
}

func TestServeBootstrapsOnceAndShutsDown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "phonebook.db")
	const key = "pb_test_bootstrap_key_0123456789"
	getenv := mapEnv(envBootstrapKey, key)

	s := startServer(t, getenv, "--addr", "127.0.0.1:0", "--db", db)
	status, header, body := get(t, s.url+"/readyz")
	if got, want := status, http.StatusOK; got != want {
		t.Errorf("GET /readyz status: got %d, want %d (body %s)", got, want, body)
	}
	if got, want := body, `{"status":"ready"}`; got != want {
		t.Errorf("GET /readyz body: got %s, want %s", got, want)
	}
	if got, want := header.Get("Content-Type"), "application/json"; got != want {
		t.Errorf("GET /readyz Content-Type: got %q, want %q", got, want)
	}
	if got, want := s.stdout.String(), "Created tenant \"default\" and an admin API key (shown once, store it now):\n  "+key+"\n"; got != want {
		t.Errorf("stdout of the first start:\ngot  %q\nwant %q", got, want)
	}
	if got, want := strings.Count(s.stdout.String(), key), 1; got != want {
		t.Errorf("bootstrap key printed %d times, want %d", got, want)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("run after cancel: got %v, want nil; stderr:\n%s", err, s.stderr)
	}
	if strings.Contains(s.stderr.String(), key) {
		t.Errorf("the log holds the bootstrap key:\n%s", s.stderr)
	}
	for _, msg := range []string{"msg=listening", `msg="shutting down"`, "msg=stopped"} {
		if !strings.Contains(s.stderr.String(), msg) {
			t.Errorf("log lacks %s:\n%s", msg, s.stderr)
		}
	}

	// The second start finds a tenant: no new key, nothing on stdout.
	s = startServer(t, getenv, "--addr", "127.0.0.1:0", "--db", db)
	if status, _, body := get(t, s.url+"/readyz"); status != http.StatusOK {
		t.Errorf("second start, GET /readyz status: got %d, want 200 (body %s)", status, body)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("second run after cancel: got %v, want nil; stderr:\n%s", err, s.stderr)
	}
	if got, want := s.stdout.String(), ""; got != want {
		t.Errorf("stdout of the second start: got %q, want %q", got, want)
	}

	// The bootstrap key is an admin key of tenant "default".
	store, err := openStore(t.Context(), db)
	if err != nil {
		t.Fatalf("openStore: %v", err)
	}
	defer store.Close()
	a, err := phonebook.NewService(store, nil).Authenticate(t.Context(), key)
	if err != nil {
		t.Fatalf("Authenticate(bootstrap key): %v", err)
	}
	if got, want := a.Tenant.Slug, phonebook.DefaultTenantSlug; got != want {
		t.Errorf("bootstrap key tenant: got %q, want %q", got, want)
	}
	if !a.Key.HasScope(phonebook.ScopeAdmin) {
		t.Errorf("bootstrap key scopes: got %v, want admin among them", a.Key.Scopes)
	}
}

func TestServeAddrAndDBPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The address comes from the environment; --db wins over the (unusable)
	// PHONEBOOK_DB.
	getenv := mapEnv(envAddr, "127.0.0.1:0", envDB, "postgres://user:pw@nowhere/db")
	s := startServer(t, getenv, "--db", filepath.Join(dir, "flag.db"))
	if err := s.stop(t); err != nil {
		t.Fatalf("run after cancel: got %v, want nil; stderr:\n%s", err, s.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "flag.db")); err != nil {
		t.Errorf("the --db file was not created: %v", err)
	}
	// A random bootstrap key is printed, once, on its own line.
	re := regexp.MustCompile(`^Created tenant "default" and an admin API key \(shown once, store it now\):\n  pb_[A-Za-z0-9_-]{43}\n$`)
	if got := s.stdout.String(); !re.MatchString(got) {
		t.Errorf("stdout: got %q, want a match of %s", got, re)
	}
}

func TestServeAddrInUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServer(t, mapEnv(), "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "a.db"))
	addr := strings.TrimPrefix(s.url, "http://")
	_, stderr, err := runCLI(t, mapEnv(), "serve", "--addr", addr, "--db", filepath.Join(dir, "b.db"))
	if err == nil {
		t.Fatalf("serve on a busy address: got nil error, want one")
	}
	if !strings.Contains(stderr, "error: listen:") {
		t.Errorf("stderr: got %q, want an error: listen: line", stderr)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("run after cancel: %v", err)
	}
}

// downStore is a store whose database cannot be reached.
type downStore struct{}

func unavailable() error {
	return &phonebook.Error{Code: phonebook.ECodeUnavailable, Message: "store unavailable", Err: errors.New("connection refused")}
}

func (downStore) Write(context.Context, func(phonebook.Tx) error) error { return unavailable() }
func (downStore) Read(context.Context, func(phonebook.Tx) error) error  { return unavailable() }
func (downStore) Ping(context.Context) error                            { return unavailable() }
func (downStore) Close() error                                          { return nil }

func TestHandlerProbes(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	h := newHandler(slog.New(slog.NewTextHandler(&logs, nil)), phonebook.NewService(downStore{}, nil), console.Options{})
	tests := []struct {
		method, path string
		status       int
		body         string
		retryAfter   string
	}{
		{"GET", "/healthz", http.StatusOK, `{"status":"ok"}`, ""},
		{"HEAD", "/healthz", http.StatusOK, "", ""},
		{"GET", "/readyz", http.StatusServiceUnavailable, `{"status":"unavailable"}`, "1"},
		{"POST", "/healthz", http.StatusMethodNotAllowed, "", ""},
		{"GET", "/nowhere", http.StatusNotFound, "", ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if got, want := rec.Code, tt.status; got != want {
			t.Errorf("%s %s status: got %d, want %d", tt.method, tt.path, got, want)
		}
		if tt.body != "" {
			if got, want := strings.TrimSpace(rec.Body.String()), tt.body; got != want {
				t.Errorf("%s %s body: got %s, want %s", tt.method, tt.path, got, want)
			}
			if got, want := rec.Header().Get("Content-Type"), "application/json"; got != want {
				t.Errorf("%s %s Content-Type: got %q, want %q", tt.method, tt.path, got, want)
			}
		}
		if got, want := rec.Header().Get("Retry-After"), tt.retryAfter; got != want {
			t.Errorf("%s %s Retry-After: got %q, want %q", tt.method, tt.path, got, want)
		}
	}
	if !strings.Contains(logs.String(), "store ping failed") {
		t.Errorf("a failed readiness check is not logged:\n%s", logs.String())
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   []string   // extra environment, key value ...
		setup [][]string // commands run first, each must succeed
		args  []string   // {db} is replaced by the test's database URL
		// wantErr: run must fail. stdout and stderr: regexps the output
		// must match; with none, a successful command's stderr is empty.
		wantErr        bool
		stdout, stderr []string
		notOut         []string // substrings absent from stdout and stderr
	}{
		{
			name:   "tenants create with defaults",
			args:   []string{"tenants", "create", "acme"},
			stdout: []string{`^Created tenant "acme"\n`, `slug:\s+acme\n`, `id:\s+1\n`, `uuid:\s+[0-9a-f-]{36}\n`, `region:\s+US\n`, `strict:\s+false\n`, `max phones per customer:\s+50\n`, `max customers per number:\s+50\n`},
		},
		{
			name:   "tenants create, flags after the slug",
			args:   []string{"tenants", "create", "acme", "--region", "gb", "--strict", "--max-phones", "5", "--max-customers-per-number", "7", "--db", "{db}"},
			stdout: []string{`slug:\s+acme\n`, `region:\s+GB\n`, `strict:\s+true\n`, `max phones per customer:\s+5\n`, `max customers per number:\s+7\n`},
		},
		{
			name:   "tenants create, flags before the slug",
			args:   []string{"tenants", "create", "--region", "CA", "--db", "{db}", "north"},
			stdout: []string{`slug:\s+north\n`, `region:\s+CA\n`},
		},
		{
			name:   "tenants list",
			setup:  [][]string{{"tenants", "create", "acme"}, {"tenants", "create", "beta", "--region", "GB", "--strict", "--max-phones", "3"}},
			args:   []string{"tenants", "list"},
			stdout: []string{`^ID\s+SLUG\s+UUID\s+REGION\s+STRICT\s+MAX_PHONES\s+MAX_CUSTOMERS\s+CREATED\n`, `(?m)^1\s+acme\s+[0-9a-f-]{36}\s+US\s+false\s+50\s+50\s+\d{4}-\d\d-\d\dT\S+Z$`, `(?m)^2\s+beta\s+[0-9a-f-]{36}\s+GB\s+true\s+3\s+50\s+\S+$`},
		},
		{
			name:   "tenants list, empty store",
			args:   []string{"tenants", "list", "--db", "{db}"},
			stdout: []string{`^ID\s+SLUG\s+UUID\s+REGION\s+STRICT\s+MAX_PHONES\s+MAX_CUSTOMERS\s+CREATED\n$`},
		},
		{
			name:    "duplicate tenant",
			setup:   [][]string{{"tenants", "create", "acme"}},
			args:    []string{"tenants", "create", "acme"},
			wantErr: true,
			stderr:  []string{`^error: tenant "acme" already exists \(field slug\)\n$`},
		},
		{
			name:    "bad slug and region",
			args:    []string{"tenants", "create", "Not-OK", "--region", "XX"},
			wantErr: true,
			stderr:  []string{`(?m)^error: slug must .*\(field slug\)$`, `(?m)^error: unknown region "XX" \(field default_region\)$`},
		},
		{
			name:    "tenants create without a slug",
			args:    []string{"tenants", "create", "--region", "US"},
			wantErr: true,
			stderr:  []string{`error: tenants create takes one SLUG, got 0 arguments`, `Usage: phonebook tenants create SLUG`},
		},
		{
			name:   "tenants create help",
			args:   []string{"tenants", "create", "-h"},
			stderr: []string{`Usage: phonebook tenants create SLUG`, `-max-customers-per-number`},
		},
		{
			name:    "unknown flag",
			args:    []string{"tenants", "list", "--bogus"},
			wantErr: true,
			stderr:  []string{`flag provided but not defined: -bogus`},
		},
		{
			name:    "unknown tenants command",
			args:    []string{"tenants", "frob"},
			wantErr: true,
			stderr:  []string{`error: unknown command "tenants frob"`},
		},
		{
			name:   "keys create",
			setup:  [][]string{{"tenants", "create", "acme"}},
			args:   []string{"keys", "create", "--tenant", "acme", "--scopes", "customers:read,customers:write", "--name", "ci"},
			stdout: []string{`^Created API key 1 for tenant "acme" \(scopes customers:read,customers:write\)\.\n`, `shown only once`, `(?m)^pb_[A-Za-z0-9_-]{43}\n$`},
		},
		{
			name:    "keys create, bad scope",
			setup:   [][]string{{"tenants", "create", "acme"}},
			args:    []string{"keys", "create", "--tenant", "acme", "--scopes", "customers:read,nope"},
			wantErr: true,
			stderr:  []string{`^error: unknown scope "nope" .*\(field scopes\)\n$`},
		},
		{
			name:    "keys create, no scope",
			setup:   [][]string{{"tenants", "create", "acme"}},
			args:    []string{"keys", "create", "--tenant", "acme"},
			wantErr: true,
			stderr:  []string{`^error: at least one scope is required \(field scopes\)\n$`},
		},
		{
			name:    "keys create, unknown tenant",
			args:    []string{"keys", "create", "--tenant", "ghost", "--scopes", "admin"},
			wantErr: true,
			stderr:  []string{`^error: tenant "ghost" not found \(field tenant\)\n$`},
		},
		{
			name:    "keys create, no tenant",
			args:    []string{"keys", "create", "--scopes", "admin"},
			wantErr: true,
			stderr:  []string{`error: --tenant is required`},
		},
		{
			name:   "keys list",
			setup:  [][]string{{"tenants", "create", "acme"}, {"keys", "create", "--tenant", "acme", "--scopes", "customers:read", "--name", "ci"}, {"keys", "create", "--tenant", "acme", "--scopes", "admin"}},
			args:   []string{"keys", "list"},
			stdout: []string{`^ID\s+TENANT\s+NAME\s+PREFIX\s+SCOPES\s+CREATED\s+REVOKED\n`, `(?m)^1\s+acme\s+ci\s+pb_\S{7}\s+customers:read\s+\d{4}-\S+Z\s+-$`, `(?m)^2\s+acme\s+-\s+pb_\S{7}\s+admin\s+\S+\s+-$`},
		},
		{
			name:   "keys revoke",
			setup:  [][]string{{"tenants", "create", "acme"}, {"keys", "create", "--tenant", "acme", "--scopes", "admin"}},
			args:   []string{"keys", "revoke", "1"},
			stdout: []string{`^revoked key 1\n$`},
		},
		{
			name:    "keys revoke, unknown key",
			args:    []string{"keys", "revoke", "42"},
			wantErr: true,
			stderr:  []string{`^error: key not found\n$`},
		},
		{
			name:    "keys revoke, not an ID",
			args:    []string{"keys", "revoke", "abc"},
			wantErr: true,
			stderr:  []string{`^error: key ID must be a positive integer, got "abc" \(field id\)\n$`},
		},
		{
			name:   "migrate",
			args:   []string{"migrate", "--db", "{db}"},
			stdout: []string{`schema version [1-9][0-9]*\n$`},
		},
		{
			name:   "migrate, database from the environment",
			args:   []string{"migrate"},
			stdout: []string{`schema version [1-9][0-9]*\n$`},
		},
		{
			name:    "postgres unreachable",
			args:    []string{"migrate", "--db", "postgres://user:hunter2@127.0.0.1:1/phonebook?connect_timeout=2"},
			wantErr: true,
			stderr:  []string{`^error: migrate: postgres: connect`},
			notOut:  []string{"hunter2"},
		},
		{
			name:    "postgres from the environment, serve",
			env:     []string{envDB, "postgresql://user:hunter2@127.0.0.1:1/phonebook?connect_timeout=2"},
			args:    []string{"serve", "--addr", "127.0.0.1:0"},
			wantErr: true,
			stderr:  []string{`error: open store: postgres: connect`},
			notOut:  []string{"hunter2"},
		},
		{
			name:    "unsupported database URL",
			args:    []string{"tenants", "list", "--db", "mysql://user:hunter2@db.example/phonebook"},
			wantErr: true,
			stderr:  []string{`^error: database URL: unsupported scheme "mysql"`},
			notOut:  []string{"hunter2"},
		},
		{
			name:   "version",
			args:   []string{"version"},
			stdout: []string{`^phonebook \S+\n`, `(?m)^go1\.\S+ \S+/\S+\n$`},
		},
		{
			name:    "unknown command",
			args:    []string{"frobnicate"},
			wantErr: true,
			stderr:  []string{`(?m)^error: unknown command "frobnicate"$`, `Commands:`},
		},
		{
			name:    "no command",
			args:    []string{},
			wantErr: true,
			stdout:  []string{`Commands:`},
			stderr:  []string{`^$`},
		},
	}
	for _, help := range []string{"help", "-h", "--help"} {
		tests = append(tests, struct {
			name           string
			env            []string
			setup          [][]string
			args           []string
			wantErr        bool
			stdout, stderr []string
			notOut         []string
		}{
			name:   help,
			args:   []string{help},
			stdout: []string{`(?m)^  serve\s`, `(?m)^  tenants create SLUG\s`, `(?m)^  tenants list\s`, `(?m)^  keys create\s`, `(?m)^  keys list\s`, `(?m)^  keys revoke ID\s`, `(?m)^  migrate\s`, `(?m)^  version\s`},
		})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := "sqlite:" + filepath.Join(t.TempDir(), "phonebook.db")
			getenv := mapEnv(append([]string{envDB, db}, tt.env...)...)
			for _, args := range tt.setup {
				MustRunCLI(t, getenv, args...)
			}
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "{db}", db)
			}
			stdout, stderr, err := runCLI(t, getenv, args...)
			if got, want := err != nil, tt.wantErr; got != want {
				t.Fatalf("phonebook %s: got error %v, want error: %t\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, want, stdout, stderr)
			}
			for _, re := range tt.stdout {
				if !regexp.MustCompile(re).MatchString(stdout) {
					t.Errorf("stdout: got\n%s\nwant a match of %s", stdout, re)
				}
			}
			for _, re := range tt.stderr {
				if !regexp.MustCompile(re).MatchString(stderr) {
					t.Errorf("stderr: got\n%s\nwant a match of %s", stderr, re)
				}
			}
			if !tt.wantErr && len(tt.stderr) == 0 && stderr != "" {
				t.Errorf("stderr: got\n%s\nwant nothing", stderr)
			}
			for _, s := range tt.notOut {
				if strings.Contains(stdout+stderr, s) {
					t.Errorf("output holds %q:\nstdout:\n%s\nstderr:\n%s", s, stdout, stderr)
				}
			}
		})
	}
}

func TestKeySecretIsNotStoredAndRevokeStopsIt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "phonebook.db")
	getenv := mapEnv(envDB, "sqlite:"+path)
	MustRunCLI(t, getenv, "tenants", "create", "acme")
	out := MustRunCLI(t, getenv, "keys", "create", "--tenant", "acme", "--scopes", "customers:read,customers:write", "--name", "ci")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]
	if !regexp.MustCompile(`^pb_[A-Za-z0-9_-]{43}$`).MatchString(secret) {
		t.Fatalf("keys create: the last line is %q, want the secret; stdout:\n%s", secret, out)
	}

	// No column of api_keys holds the secret; key_hash holds its hash.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT * FROM api_keys`)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			var s string
			if b, ok := v.([]byte); ok {
				s = string(b)
				if cols[i] == "key_hash" && !bytes.Equal(b, phonebook.HashSecret(secret)) {
					t.Errorf("key_hash: got %x, want the SHA-256 of the secret", b)
				}
			} else {
				s = fmt.Sprint(v)
			}
			if strings.Contains(s, secret) {
				t.Errorf("column api_keys.%s holds the secret in clear", cols[i])
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := n, 1; got != want {
		t.Fatalf("api_keys rows: got %d, want %d", got, want)
	}
	// Nor does any byte of the database files.
	files, _ := filepath.Glob(path + "*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the secret in clear", filepath.Base(f))
		}
	}
	if list := MustRunCLI(t, getenv, "keys", "list"); strings.Contains(list, secret) {
		t.Errorf("keys list shows the secret:\n%s", list)
	}

	authenticate := func() (*phonebook.Auth, error) {
		store, err := openStore(t.Context(), "sqlite:"+path)
		if err != nil {
			t.Fatalf("openStore: %v", err)
		}
		defer store.Close()
		return phonebook.NewService(store, nil).Authenticate(t.Context(), secret)
	}
	a, err := authenticate()
	if err != nil {
		t.Fatalf("Authenticate before revoke: %v", err)
	}
	if got, want := a.Tenant.Slug, "acme"; got != want {
		t.Errorf("key tenant: got %q, want %q", got, want)
	}

	if got, want := MustRunCLI(t, getenv, "keys", "revoke", "1"), "revoked key 1\n"; got != want {
		t.Errorf("keys revoke: got %q, want %q", got, want)
	}
	if list := MustRunCLI(t, getenv, "keys", "list"); !regexp.MustCompile(`(?m)^1\s+acme\s+ci\s.*Z\s+\d{4}-\S+Z$`).MatchString(list) {
		t.Errorf("keys list after revoke: got\n%s\nwant key 1 with a REVOKED time", list)
	}
	_, err = authenticate()
	if got, want := phonebook.ErrorCode(err), phonebook.ECodeUnauthorized; got != want {
		t.Errorf("Authenticate after revoke: got code %q (%v), want %q", got, err, want)
	}
}

func TestParseDBURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, kind, path string
		wantErr         bool
	}{
		{"sqlite:phonebook.db", storeSQLite, "phonebook.db", false},
		{"sqlite:data/pb.db", storeSQLite, "data/pb.db", false},
		{"sqlite://data/pb.db", storeSQLite, "data/pb.db", false},
		{"sqlite:///var/lib/pb.db", storeSQLite, "/var/lib/pb.db", false},
		{"SQLITE:pb.db", storeSQLite, "pb.db", false},
		{"file:pb.db", storeSQLite, "pb.db", false},
		{"file:///var/lib/pb.db", storeSQLite, "/var/lib/pb.db", false},
		{"/var/lib/pb.db", storeSQLite, "/var/lib/pb.db", false},
		{"pb.db", storeSQLite, "pb.db", false},
		{" pb.sqlite ", storeSQLite, "pb.sqlite", false},
		{"postgres://u:p@h/db", storePostgres, "", false},
		{"postgresql://h/db?sslmode=disable", storePostgres, "", false},
		{"", "", "", true},
		{"sqlite:", "", "", true},
		{"sqlite::memory:", "", "", true},
		{"sqlite:pb.db?_pragma=x", "", "", true},
		{"mysql://h/db", "", "", true},
		{"phonebook", "", "", true},
	}
	for _, tt := range tests {
		kind, path, err := parseDBURL(tt.url)
		if got, want := err != nil, tt.wantErr; got != want {
			t.Errorf("parseDBURL(%q): got error %v, want error: %t", tt.url, err, want)
			continue
		}
		if kind != tt.kind || path != tt.path {
			t.Errorf("parseDBURL(%q): got %q, %q, want %q, %q", tt.url, kind, path, tt.kind, tt.path)
		}
	}
}

// TestBinaryExitsZeroOnSignal builds the real binary and stops it as an
// init system would.
func TestBinaryExitsZeroOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	bin := filepath.Join(t.TempDir(), "phonebook")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PHONEBOOK_") {
			env = append(env, kv)
		}
	}

	for _, tt := range []struct {
		sig       os.Signal
		logFormat string
	}{
		{syscall.SIGTERM, "text"},
		{os.Interrupt, "json"},
	} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", "sqlite:"+filepath.Join(dir, "phonebook.db"))
			cmd.Env = append(slices.Clip(env), envLogFormat+"="+tt.logFormat)
			var stdout, stderr syncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			var waitErr error
			go func() {
				defer close(exited)
				waitErr = cmd.Wait()
			}()
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})

			waitHealthy(t, "http://"+waitForAddr(t, &stderr, exited))
			if tt.logFormat == "json" {
				for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
					if !json.Valid([]byte(line)) {
						t.Errorf("log line is not JSON: %s", line)
					}
				}
			}
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Fatalf("the server did not exit within 10s of %v; stderr:\n%s", tt.sig, &stderr)
			}
			if waitErr != nil {
				t.Fatalf("exit after %v: got %v, want exit status 0; stderr:\n%s", tt.sig, waitErr, &stderr)
			}
			if got, want := cmd.ProcessState.ExitCode(), 0; got != want {
				t.Errorf("exit code: got %d, want %d", got, want)
			}
			re := regexp.MustCompile(`^Created tenant "default" and an admin API key \(shown once, store it now\):\n  pb_\S+\n$`)
			if got := stdout.String(); !re.MatchString(got) {
				t.Errorf("stdout: got %q, want a match of %s", got, re)
			}
		})
	}
}
