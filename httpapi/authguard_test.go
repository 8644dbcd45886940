package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/authlimit"
	"github.com/phonebook/phonebook/clientaddr"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
	"github.com/phonebook/phonebook/store/storetest"
)

// guardEnv is a server over a real SQLite store with one valid key.
type guardEnv struct {
	srv *httpapi.Server
	key string
}

func newGuardEnv(t *testing.T, perMinute int, trusted string) *guardEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pb.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := phonebook.NewService(st, nil)
	svc.SetSealer(storetest.MustBox(t))
	if _, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	_, secret, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Scopes: phonebook.AllScopes})
	if err != nil {
		t.Fatal(err)
	}
	res, err := clientaddr.New(trusted)
	if err != nil {
		t.Fatal(err)
	}
	srv := httpapi.NewServer(slog.New(slog.DiscardHandler), svc, httpapi.Options{
		AuthFailures: authlimit.NewFailures(perMinute, authlimit.FailuresOptions{}), ClientAddr: res,
	})
	return &guardEnv{srv: srv, key: secret}
}

// get sends GET /v1/phone-types from remote (host:port) with key and, when
// set, X-Forwarded-For.
func (e *guardEnv) get(remote, key, xff string) *http.Response {
	req := httptest.NewRequest("GET", "/v1/phone-types", nil)
	req.RemoteAddr = remote
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec.Result()
}

func wantRateLimited(t *testing.T, res *http.Response, what string) {
	t.Helper()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("%s: got %d, want 429", what, res.StatusCode)
	}
	if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("%s: Retry-After %q, want 1-60 seconds", what, res.Header.Get("Retry-After"))
	}
	var p struct{ Code string }
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil || p.Code != "rate_limited" {
		t.Errorf("%s: code %q (%v), want rate_limited", what, p.Code, err)
	}
}

func TestAuthFailuresPerAddress(t *testing.T) {
	const n = 5
	e := newGuardEnv(t, n, "")
	const attacker, other = "198.51.100.7:4000", "203.0.113.9:4000"
	for i := 0; i < n; i++ {
		if res := e.get(attacker, "pb_wrong_"+strconv.Itoa(i), ""); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong key %d: got %d, want 401", i, res.StatusCode)
		}
	}
	wantRateLimited(t, e.get(attacker, "pb_wrong_again", ""), "wrong key over the limit")
	// Refused before the lookup: the correct key learns nothing either.
	wantRateLimited(t, e.get(attacker, e.key, ""), "correct key from a limited address")
	// No key at all counts the same.
	wantRateLimited(t, e.get(attacker, "", ""), "no key from a limited address")
	// Another address is not affected, and its successes cost nothing.
	for i := 0; i < 2*n; i++ {
		if res := e.get(other, e.key, ""); res.StatusCode != http.StatusOK {
			t.Fatalf("other address, correct key %d: got %d, want 200", i, res.StatusCode)
		}
	}
	if res := e.get(other, "pb_wrong", ""); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("other address, one wrong key: got %d, want 401", res.StatusCode)
	}
	// X-Forwarded-For from a peer that is not a trusted proxy is ignored:
	// the attacker cannot pose as someone else.
	wantRateLimited(t, e.get(attacker, "pb_wrong", "192.0.2.1"), "spoofed X-Forwarded-For")
	// IPv6 addresses count per /64.
	for i := 0; i < n; i++ {
		e.get("[2001:db8:1:2::"+strconv.Itoa(i+1)+"]:1", "pb_wrong", "")
	}
	wantRateLimited(t, e.get("[2001:db8:1:2::ffff]:1", "pb_wrong", ""), "another address of the same /64")
	if res := e.get("[2001:db8:1:3::1]:1", e.key, ""); res.StatusCode != http.StatusOK {
		t.Errorf("another /64: got %d, want 200", res.StatusCode)
	}
}

func TestAuthFailuresBehindTrustedProxy(t *testing.T) {
	const n = 3
	e := newGuardEnv(t, n, "10.0.0.0/8")
	const proxy = "10.0.0.2:443"
	for i := 0; i < n; i++ {
		if res := e.get(proxy, "pb_wrong", "198.51.100.7"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong key %d: got %d, want 401", i, res.StatusCode)
		}
	}
	wantRateLimited(t, e.get(proxy, "pb_wrong", "198.51.100.7"), "client over the limit behind the proxy")
	// The proxy itself, and other clients behind it, go on.
	if res := e.get(proxy, e.key, "203.0.113.9"); res.StatusCode != http.StatusOK {
		t.Errorf("another client behind the proxy: got %d, want 200", res.StatusCode)
	}
	// A client cannot escape by writing its own X-Forwarded-For: the proxy
	// appends the real address, which is read from the right.
	wantRateLimited(t, e.get(proxy, "pb_wrong", "192.0.2.1, 198.51.100.7"), "client-written X-Forwarded-For")
}

func TestAuthFailuresOff(t *testing.T) {
	if f := authlimit.NewFailures(0, authlimit.FailuresOptions{}); f != nil {
		t.Fatal("NewFailures(0): want nil (no limit)")
	}
	e := newGuardEnv(t, 0, "")
	for i := 0; i < 100; i++ {
		if res := e.get("198.51.100.7:1", "pb_wrong", ""); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong key %d with the limit off: got %d, want 401", i, res.StatusCode)
		}
	}
}
