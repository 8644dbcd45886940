package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
)

// benchServer is the router over a real SQLite file with customers that
// have two phones each, called in-process (no sockets): what the server
// itself costs per request.
func benchServer(b *testing.B, customers int) (http.Handler, string) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc := phonebook.NewService(st, nil)
	if _, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "bench"}); err != nil {
		b.Fatal(err)
	}
	_, key, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "bench", Scopes: phonebook.AllScopes})
	if err != nil {
		b.Fatal(err)
	}
	a, _ := svc.Authenticate(ctx, key)
	actx := phonebook.NewContextWithAuth(ctx, a)
	for i := 0; i < customers; i++ {
		c, err := svc.CreateCustomer(actx, phonebook.CustomerInput{Name: fmt.Sprint("c", i)})
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 2; j++ {
			if _, err := svc.AddPhone(actx, phonebook.CustomerRef{ID: c.ID}, phonebook.PhoneInput{Number: fmt.Sprintf("+1 201 55%d %04d", j, i)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	off := httpapi.RateLimit{}
	return httpapi.NewServer(slog.New(slog.DiscardHandler), svc, httpapi.Options{RateLimit: &off}), key
}

func benchDo(b *testing.B, h http.Handler, key, method, path, body string, want int) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Errorf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	_, _ = io.Copy(io.Discard, rec.Body)
}

func BenchmarkHTTPGetCustomer(b *testing.B) {
	h, key := benchServer(b, 500)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchDo(b, h, key, "GET", fmt.Sprintf("/v1/customers/%d", 100000+n.Add(1)%500), "", 200)
		}
	})
}

func BenchmarkHTTPLookup(b *testing.B) {
	h, key := benchServer(b, 500)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchDo(b, h, key, "GET", fmt.Sprintf("/v1/phones?number=201-550-%04d", n.Add(1)%500), "", 200)
		}
	})
}

func BenchmarkHTTPCreatePhone(b *testing.B) {
	h, key := benchServer(b, 500)
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			benchDo(b, h, key, "POST", fmt.Sprintf("/v1/customers/%d/phones", 100000+i%500), fmt.Sprintf(`{"number":"+1 202 %03d %04d"}`, 200+i/500, i%10000), 201)
		}
	})
}
