package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/store/postgres"
	"github.com/phonebook/phonebook/web/console"
)

// proxy forwards TCP connections to PostgreSQL and can cut them all, the
// way a database restart or a network partition does, then let them
// through again on the same address.
type proxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, conns: map[net.Conn]bool{}}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) listen(addr string) {
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may take a moment to be free again
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go p.accept(ln)
}

func (p *proxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// cut closes the listener and every connection through it.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// restore accepts connections again on the same address.
func (p *proxy) restore() { p.listen(p.addr) }

func postgresTestURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("PHONEBOOK_TEST_POSTGRES_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PHONEBOOK_TEST_POSTGRES_URL is not set in CI")
		}
		t.Skip("PHONEBOOK_TEST_POSTGRES_URL is not set")
	}
	return url
}

// TestPostgresOutage: while PostgreSQL is unreachable requests fail with
// 503 and Retry-After and /readyz says not ready; when it is back the
// server recovers by itself. Backends terminated under load
// (pg_terminate_backend) give 503s, never 500s, and the server recovers.
func TestPostgresOutage(t *testing.T) {
	base := postgresTestURL(t)
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, fmt.Sprintf("%s:%d", cfg.Host, cfg.Port))
	schema := fmt.Sprintf("pboutage_%d_%d", os.Getpid(), rand.Uint64())
	t.Cleanup(func() { _ = postgres.DropSchema(context.Background(), base, schema) })
	host, port, _ := net.SplitHostPort(p.addr)
	url := fmt.Sprintf("postgres://%s@%s:%s/%s?sslmode=disable&connect_timeout=2&application_name=pb-outage-%s", cfg.User, host, port, cfg.Database, schema)
	st, err := postgres.Open(ctx, url, postgres.Options{Schema: schema, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := phonebook.NewService(st, nil)
	if _, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	_, secret, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Scopes: phonebook.AllScopes})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(newHandler(slog.New(slog.DiscardHandler), svc, console.Options{}))
	defer ts.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	do := func(method, path, body string) (int, http.Header) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, res.Header
	}
	if s, _ := do("POST", "/v1/customers", `{"name":"before"}`); s != http.StatusCreated {
		t.Fatalf("create before the outage: %d", s)
	}

	p.cut()
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/v1/customers", `{"name":"during"}`},
		{"GET", "/v1/customers", ""},
		{"GET", "/v1/customers/100000", ""},
	} {
		s, h := do(r.method, r.path, r.body)
		if s != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
			t.Errorf("%s %s during the outage: %d, Retry-After %q; want 503 with Retry-After", r.method, r.path, s, h.Get("Retry-After"))
		}
	}
	if s, _ := do("GET", "/readyz", ""); s != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d, want 503", s)
	}
	if s, _ := do("GET", "/healthz", ""); s != http.StatusOK {
		t.Errorf("/healthz during the outage: %d, want 200 (the process is alive)", s)
	}

	p.restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ready, _ := do("GET", "/readyz", "")
		created, _ := do("POST", "/v1/customers", `{"name":"after"}`)
		if ready == http.StatusOK && created == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the outage: /readyz %d, create %d", ready, created)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Terminate the server's backends while writers run.
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	stop := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s, _ := do("POST", "/v1/customers", `{"name":"load"}`)
				mu.Lock()
				statuses[s]++
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < 5; i++ {
		time.Sleep(150 * time.Millisecond)
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, "pb-outage-"+schema); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("statuses under pg_terminate_backend: %v", statuses)
	for s, n := range statuses {
		if s != http.StatusCreated && s != http.StatusServiceUnavailable {
			t.Errorf("%d responses with status %d, want only 201 and 503", n, s)
		}
	}
	if statuses[http.StatusCreated] == 0 {
		t.Error("no write succeeded under pg_terminate_backend")
	}
	if s, _ := do("POST", "/v1/customers", `{"name":"final"}`); s != http.StatusCreated {
		t.Errorf("create after the terminations: %d, want 201", s)
	}
}

// TestPostgresCommands runs migrate, tenants and keys against PostgreSQL.
func TestPostgresCommands(t *testing.T) {
	base := postgresTestURL(t)
	ctx := context.Background()
	schema := fmt.Sprintf("pbcli_%d_%d", os.Getpid(), rand.Uint64())
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	t.Cleanup(func() { _ = postgres.DropSchema(context.Background(), base, schema) })
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	db := base + sep + "search_path=" + schema
	getenv := mapEnv(envDB, db)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate"}, "schema version"},
		{[]string{"migrate"}, "schema version"}, // twice is fine
		{[]string{"tenants", "create", "acme", "--region", "GB"}, "acme"},
		{[]string{"tenants", "list"}, "GB"},
		{[]string{"keys", "create", "--tenant", "acme", "--scopes", "customers:read"}, "shown only once"},
		{[]string{"keys", "list"}, "customers:read"},
		{[]string{"keys", "revoke", "1"}, "revoked"},
	} {
		stdout, stderr, err := runCLI(t, getenv, tc.args...)
		if err != nil || !strings.Contains(stdout, tc.want) {
			t.Errorf("phonebook %s: err %v, stdout %q (want %q), stderr %q", strings.Join(tc.args, " "), err, stdout, tc.want, stderr)
		}
	}
}
