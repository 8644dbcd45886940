package events_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/events"
	"github.com/phonebook/phonebook/store/postgres"
	"github.com/phonebook/phonebook/store/storetest"
)

// postgresURL is PHONEBOOK_TEST_POSTGRES_URL; the test is skipped without
// it, except in CI, where it fails.
func postgresURL(t *testing.T) string {
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

// nodeTransport marks each request with the node that sent it.
type nodeTransport struct {
	node string
	next http.RoundTripper
}

func (n nodeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Test-Node", n.node)
	return n.next.RoundTrip(r)
}

// TestWebhookTwoNodesPostgres: two nodes (two stores, two services, two
// Deliverers) on one PostgreSQL database; 1,000 changes written through
// both while they deliver give exactly 1,000 deliveries: no event is
// received twice, every delivery shows exactly one attempt, and each
// customer's events arrive in order.
func TestWebhookTwoNodesPostgres(t *testing.T) {
	url := postgresURL(t)
	bg := context.Background()
	schema := fmt.Sprintf("pbevents_%d_%d", os.Getpid(), rand.Uint64())
	t.Cleanup(func() {
		if err := postgres.DropSchema(context.Background(), url, schema); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	var svcs []*phonebook.Service
	for range 2 {
		st, err := postgres.Open(bg, url, postgres.Options{Schema: schema, MaxConns: 8})
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		svc := phonebook.NewService(st, nil)
		svc.SetWebhookPolicy(phonebook.WebhookPolicy{AllowPrivate: true}) // the receiver listens on 127.0.0.1
		svc.SetSealer(storetest.MustBox(t))
		svcs = append(svcs, svc)
	}
	ctx := MustTenant(t, svcs[0], "acme")

	const customers, changes = 40, 1000
	var ids []int64
	for i := range customers {
		ids = append(ids, MustCustomer(t, ctx, svcs[0], fmt.Sprintf("customer %d", i)).ID)
	}
	var (
		mu       sync.Mutex
		byEvent  = map[string]int{}
		byNode   = map[string]int{}
		lastSeen = map[int64]int64{} // customer → last phone id received
		badOrder []string
		badSig   atomic.Int64
	)
	const secret = "whsec_test_secret_0123456789"
	rc := &receiver{respond: func(_ int, r *received) int {
		if events.Verify(secret, r.Header.Get(events.SignatureHeader), r.Body, 5*time.Minute) != nil {
			badSig.Add(1)
		}
		mu.Lock()
		defer mu.Unlock()
		byEvent[r.Payload.ID]++
		byNode[r.Header.Get("X-Test-Node")]++
		// One customer's phones are created under its row lock: phone ids
		// grow in event order.
		if r.Payload.PhoneID <= lastSeen[r.Payload.CustomerID] {
			badOrder = append(badOrder, fmt.Sprintf("customer %d: phone %d after %d", r.Payload.CustomerID, r.Payload.PhoneID, lastSeen[r.Payload.CustomerID]))
		}
		lastSeen[r.Payload.CustomerID] = r.Payload.PhoneID
		return http.StatusOK
	}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	wh, _ := MustWebhook(t, ctx, svcs[0], srv.URL, phonebook.EventPhoneCreated)

	for i, svc := range svcs {
		node := fmt.Sprintf("node%d", i+1)
		startDeliverer(t, events.NewDeliverer(testLog(t).With("node", node), svc, events.DelivererOptions{
			Workers: 4, Poll: 20 * time.Millisecond,
			WrapTransport: func(next http.RoundTripper) http.RoundTripper { return nodeTransport{node, next} },
		}))
	}

	// 1,000 phone creations across the customers, through both nodes, by
	// 8 writers, while the Deliverers run.
	start := time.Now()
	var wg sync.WaitGroup
	var n atomic.Int64
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			svc := svcs[w%2]
			for {
				k := n.Add(1) - 1
				if k >= changes {
					return
				}
				id := ids[k%customers]
				num := fmt.Sprintf("+1 201 555 %04d", k)
				if _, err := svc.AddPhone(ctx, phonebook.CustomerRef{ID: id}, phonebook.PhoneInput{Number: num}); err != nil {
					errs <- fmt.Errorf("add phone %s to %d: %w", num, id, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wrote := time.Since(start)

	waitFor(t, 60*time.Second, "1,000 deliveries", func() bool { return rc.count() >= changes })
	time.Sleep(300 * time.Millisecond) // room for a duplicate to show up
	delivered := time.Since(start)

	mu.Lock()
	defer mu.Unlock()
	if got, want := rc.count(), changes; got != want {
		t.Errorf("requests received: got %d, want %d", got, want)
	}
	if got, want := len(byEvent), changes; got != want {
		t.Errorf("distinct events received: got %d, want %d", got, want)
	}
	for id, k := range byEvent {
		if k != 1 {
			t.Errorf("event %s received %d times", id, k)
		}
	}
	if len(badOrder) > 0 {
		t.Errorf("%d events out of customer order, first: %s", len(badOrder), badOrder[0])
	}
	if k := badSig.Load(); k > 0 {
		t.Errorf("%d requests with an invalid signature", k)
	}
	for _, node := range []string{"node1", "node2"} {
		if byNode[node] == 0 {
			t.Errorf("%s delivered nothing: %v (the test did not exercise two nodes)", node, byNode)
		}
	}

	// The deliveries as the database holds them.
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	conn, err := pgx.ConnectConfig(bg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(bg)
	var total, delivered1, attempts, maxAttempt int
	err = conn.QueryRow(bg, `SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'delivered' AND attempts = 1),
		(SELECT COUNT(*) FROM delivery_attempts), (SELECT COALESCE(MAX(attempt), 0) FROM delivery_attempts)
		FROM deliveries WHERE webhook_id = $1`, wh.ID).Scan(&total, &delivered1, &attempts, &maxAttempt)
	if err != nil {
		t.Fatal(err)
	}
	if total != changes || delivered1 != changes || attempts != changes || maxAttempt != 1 {
		t.Errorf("deliveries: %d, delivered at the first attempt: %d, attempts recorded: %d, highest attempt: %d; want %d, %d, %d, 1",
			total, delivered1, attempts, maxAttempt, changes, changes, changes)
	}
	t.Logf("%d changes written in %v; all delivered %v after the first write; by node: %v",
		changes, wrote.Round(time.Millisecond), delivered.Round(time.Millisecond), byNode)
}
