package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
)

func TestRateLimitPerKey(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pb.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := phonebook.NewService(st, nil)
	if _, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := 0; i < 2; i++ {
		_, secret, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Scopes: phonebook.AllScopes})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, secret)
	}
	srv := httpapi.NewServer(slog.New(slog.DiscardHandler), svc, httpapi.Options{RateLimit: &httpapi.RateLimit{Rate: 0.5, Burst: 3}})
	get := func(key string) *http.Response {
		req := httptest.NewRequest("GET", "/v1/phone-types", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Result()
	}
	for i := 0; i < 3; i++ {
		res := get(keys[0])
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d, want 200", i, res.StatusCode)
		}
		if got, want := res.Header.Get("RateLimit-Limit"), "3"; got != want {
			t.Errorf("RateLimit-Limit: got %q, want %q", got, want)
		}
		if got, want := res.Header.Get("RateLimit-Remaining"), strconv.Itoa(2-i); got != want {
			t.Errorf("request %d RateLimit-Remaining: got %q, want %q", i, got, want)
		}
	}
	res := get(keys[0])
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th request: %d, want 429", res.StatusCode)
	}
	if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 2 {
		t.Errorf("Retry-After: %q", res.Header.Get("Retry-After"))
	}
	if got := res.Header.Get("Content-Type"); got != "application/problem+json" {
		t.Errorf("Content-Type: %q", got)
	}
	if res.Header.Get("RateLimit-Reset") == "" {
		t.Error("no RateLimit-Reset")
	}
	// Another key has its own bucket.
	if res := get(keys[1]); res.StatusCode != http.StatusOK {
		t.Errorf("other key: %d, want 200", res.StatusCode)
	}
	// Unauthenticated requests are refused before they cost a token.
	if res := get("nope"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad key: %d, want 401", res.StatusCode)
	}
	// A zero rate turns limiting off.
	off := httpapi.NewServer(slog.New(slog.DiscardHandler), svc, httpapi.Options{RateLimit: &httpapi.RateLimit{}})
	for i := 0; i < 10; i++ {
		req := httptest.NewRequest("GET", "/v1/phone-types", nil)
		req.Header.Set("Authorization", "Bearer "+keys[1])
		rec := httptest.NewRecorder()
		off.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Header().Get("RateLimit-Limit") != "" {
			t.Fatalf("limit off, request %d: %d %q", i, rec.Code, rec.Header().Get("RateLimit-Limit"))
		}
	}
}
