package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/events"
	"github.com/phonebook/phonebook/store/sqlite"
	"github.com/phonebook/phonebook/store/storetest"
)

// testLog shows the package's log in verbose runs only.
func testLog(t *testing.T) *slog.Logger {
	t.Helper()
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// clock is a service clock the test moves by hand: backoffs pass at once.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// MustSQLite opens a SQLite store in a temporary directory and returns a
// service on it with clock now (nil: time.Now) and the file's path.
func MustSQLite(t *testing.T, now func() time.Time) (*phonebook.Service, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	svc := phonebook.NewService(st, now)
	svc.SetWebhookPolicy(phonebook.WebhookPolicy{AllowPrivate: true}) // test receivers listen on 127.0.0.1
	svc.SetSealer(storetest.MustBox(t))
	return svc, path
}

// MustTenant creates a tenant with an admin key and returns a context
// authenticated as that key.
func MustTenant(t *testing.T, svc *phonebook.Service, slug string) context.Context {
	t.Helper()
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: slug}); err != nil {
		t.Fatalf("create tenant %s: %v", slug, err)
	}
	_, secret, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: slug, Name: "test", Scopes: phonebook.AllScopes})
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	a, err := svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return phonebook.NewContextWithAuth(ctx, a)
}

// MustWebhook subscribes url to types (none: every type) and returns the
// webhook and its secret.
func MustWebhook(t *testing.T, ctx context.Context, svc *phonebook.Service, url string, types ...string) (*phonebook.Webhook, string) {
	t.Helper()
	w, secret, err := svc.CreateWebhook(ctx, phonebook.WebhookInput{URL: url, EventTypes: types, Secret: "whsec_test_secret_0123456789"})
	if err != nil {
		t.Fatalf("create webhook: %v", err)
	}
	return w, secret
}

func MustCustomer(t *testing.T, ctx context.Context, svc *phonebook.Service, name string) *phonebook.Customer {
	t.Helper()
	c, err := svc.CreateCustomer(ctx, phonebook.CustomerInput{Name: name})
	if err != nil {
		t.Fatalf("create customer: %v", err)
	}
	return c
}

func MustPhone(t *testing.T, ctx context.Context, svc *phonebook.Service, customerID int64, number string) *phonebook.Phone {
	t.Helper()
	p, err := svc.AddPhone(ctx, phonebook.CustomerRef{ID: customerID}, phonebook.PhoneInput{Number: number})
	if err != nil {
		t.Fatalf("add phone %s: %v", number, err)
	}
	return p
}

// received is one webhook request as the receiver saw it.
type received struct {
	Header  http.Header
	Body    []byte
	Payload events.Payload
	At      time.Time
}

// receiver records every request; respond decides the status of the n-th
// (1-based) request.
type receiver struct {
	mu      sync.Mutex
	reqs    []received
	respond func(n int, r *received) int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec := received{Header: r.Header.Clone(), Body: body, At: time.Now()}
	if err := json.Unmarshal(body, &rec.Payload); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, rec)
	n := len(rc.reqs)
	rc.mu.Unlock()
	status := http.StatusNoContent
	if rc.respond != nil {
		status = rc.respond(n, &rec)
	}
	w.WriteHeader(status)
	if status >= 300 {
		fmt.Fprintf(w, "failure %d", n)
	}
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

// startDeliverer runs d until the test ends and fails the test if Run
// does not return promptly once cancelled.
func startDeliverer(t *testing.T, d *events.Deliverer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Deliverer.Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Deliverer.Run did not return within 15s of cancel")
		}
	})
}

// waitFor polls cond every 5 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// deliveries returns the webhook's deliveries, oldest first.
func deliveries(t *testing.T, ctx context.Context, svc *phonebook.Service, webhookID int64) []*phonebook.Delivery {
	t.Helper()
	ds, err := svc.Deliveries(ctx, webhookID, phonebook.MaxPageLimit)
	if err != nil {
		t.Fatalf("deliveries: %v", err)
	}
	for i, j := 0, len(ds)-1; i < j; i, j = i+1, j-1 {
		ds[i], ds[j] = ds[j], ds[i]
	}
	return ds
}

// settled reports whether no attempt is in flight: every claimed attempt
// has been recorded.
func settled(ds []*phonebook.Delivery) bool {
	for _, d := range ds {
		if d.Attempts != len(d.AttemptLog) {
			return false
		}
	}
	return true
}
