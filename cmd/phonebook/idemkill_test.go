package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// idemAnswer is what a request under an Idempotency-Key was answered.
type idemAnswer struct {
	status   int
	replayed bool
	code     string // of a problem answer
	created  int    // of a batch answer
	updated  int
	failed   int
}

// idemPost sends body to url under key with the bootstrap key.
func idemPost(c *http.Client, url, key, body string) (idemAnswer, error) {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return idemAnswer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+relKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	res, err := c.Do(req)
	if err != nil {
		return idemAnswer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return idemAnswer{}, err
	}
	var v struct {
		Code   string `json:"code"`
		Counts struct{ Created, Updated, Failed int }
	}
	_ = json.Unmarshal(b, &v)
	return idemAnswer{status: res.StatusCode, replayed: res.Header.Get("Idempotent-Replayed") == "true", code: v.Code,
		created: v.Counts.Created, updated: v.Counts.Updated, failed: v.Counts.Failed}, nil
}

// idemBatch is a batch of n new numbers (prefix + 4 digits) spread over
// the customers.
func idemBatch(customers []int64, prefix string, n int) string {
	var recs []string
	for i := 0; i < n; i++ {
		recs = append(recs, fmt.Sprintf(`{"customer_id":"%d","number":"%s%04d"}`, customers[i%len(customers)], prefix, i))
	}
	return `{"records":[` + strings.Join(recs, ",") + `]}`
}

// idemUntilAnswered retries a request under its key until it has a final
// answer: not a transport error (the node died), not a 5xx, not 409
// idempotency_in_progress. next picks the node of each try.
func idemUntilAnswered(c *http.Client, next func(try int) string, path, key, body string, within time.Duration) (idemAnswer, int, error) {
	deadline := time.Now().Add(within)
	for try := 0; ; try++ {
		a, err := idemPost(c, next(try)+path, key, body)
		final := err == nil && a.status < 500 && a.code != "idempotency_in_progress"
		if final {
			return a, try, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("still %d %s", a.status, a.code)
			}
			return a, try, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIdempotencyUnderKillsSQLite sends 500-record batches under an
// Idempotency-Key, SIGKILLs the server at a random moment of each, starts
// a new one on the same file and retries there: every retry gets the
// original answer or the one clean execution — 500 created, never a second
// run ("updated") — and every phone is written once with one event.
func TestIdempotencyUnderKillsSQLite(t *testing.T) {
	bin := relBinary(t)
	db := filepath.Join(t.TempDir(), "idem.db")
	p := startProc(t, bin, db, envBootstrapKey+"="+relKey)
	customers := hotCustomers(t, p.url, 160) // room for 7 × 500 phones
	c := &http.Client{Timeout: 10 * time.Second}
	// How long one batch takes here: the kills are spread from before a
	// request arrives to after its commit.
	start := time.Now()
	if a, err := idemPost(c, p.url+"/v1/phones/batch", "calibrate", idemBatch(customers, "+1 504 559 ", 500)); err != nil || a.created != 500 {
		t.Fatalf("calibration batch: %+v %v", a, err)
	}
	took := time.Since(start)
	const rounds = 6
	replays := 0
	for round := 0; round < rounds; round++ {
		key := fmt.Sprintf("kill-%d", round)
		body := idemBatch(customers, fmt.Sprintf("+1 504 55%d ", round), 500)
		go func(url string) { _, _ = idemPost(c, url+"/v1/phones/batch", key, body) }(p.url)
		// From before the request arrives to after its commit.
		time.Sleep(took * time.Duration(2*round+1) / rounds)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.exited
		p = startProc(t, bin, db, envBootstrapKey+"="+relKey)
		a, _, err := idemUntilAnswered(c, func(int) string { return p.url }, "/v1/phones/batch", key, body, 30*time.Second)
		if err != nil {
			t.Fatalf("round %d: retry: %v", round, err)
		}
		if a.status != http.StatusOK || a.created != 500 || a.updated != 0 || a.failed != 0 {
			t.Errorf("round %d: retry answered %+v, want 200 with 500 created: the original answer or one clean run", round, a)
		}
		if a.replayed {
			replays++
		}
	}
	t.Logf("a batch takes %v; %d of %d retries replayed the killed server's answer, the others ran once", took, replays, rounds)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.exited
	conn, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	idemCheckOnce(t, func(q string) (int, error) {
		var n int
		err := conn.QueryRow(q).Scan(&n)
		return n, err
	}, (rounds+1)*500)
}

// idemCheckOnce checks that the store holds want phones, each written once
// (version 1) with exactly one phone.created event.
func idemCheckOnce(t *testing.T, count func(query string) (int, error), want int) {
	t.Helper()
	checks := []struct {
		name  string
		query string
		want  int
	}{
		{"phones", `SELECT COUNT(*) FROM phones`, want},
		{"phones written more than once", `SELECT COUNT(*) FROM phones WHERE version <> 1`, 0},
		{"phone.created events", `SELECT COUNT(*) FROM events WHERE type = 'phone.created'`, want},
		{"phones without exactly one phone.created event", `SELECT COUNT(*) FROM phones p
			WHERE (SELECT COUNT(*) FROM events e WHERE e.phone_id = p.id AND e.type = 'phone.created') <> 1`, 0},
		{"phone.updated events", `SELECT COUNT(*) FROM events WHERE type = 'phone.updated'`, 0},
		{"customers with phones but not exactly one primary", `SELECT COUNT(*) FROM (SELECT customer_id FROM phones GROUP BY customer_id
			HAVING SUM(CASE WHEN is_primary THEN 1 ELSE 0 END) <> 1) x`, 0},
	}
	for _, c := range checks {
		got, err := count(c.query)
		if err != nil || got != c.want {
			t.Errorf("%s: got %d (%v), want %d", c.name, got, err, c.want)
		}
	}
}

// TestIdempotencyUnderKillsPostgres: three nodes on one PostgreSQL, 24
// writers adding phones and 10-record batches, each under its own
// Idempotency-Key and retried on another node after a failure, while nodes
// are SIGKILLed and restarted: every key's final answer is its one
// execution's (a single add never answers phone_duplicate for the
// client's own phone, a batch never "updated"), and every phone is written
// once.
func TestIdempotencyUnderKillsPostgres(t *testing.T) {
	pgURL := os.Getenv("PHONEBOOK_TEST_POSTGRES_URL")
	if pgURL == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PHONEBOOK_TEST_POSTGRES_URL is not set in CI")
		}
		t.Skip("PHONEBOOK_TEST_POSTGRES_URL is not set")
	}
	bin := relBinary(t)
	ctx := t.Context()
	schema := fmt.Sprintf("pbidem_%d_%d", os.Getpid(), rand.Uint32())
	dbURL, err := mnWithSearchPath(pgURL, schema)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	_, err = conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize())
	conn.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), pgURL)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	env := []string{envBootstrapKey + "=" + relKey, envWebhookWorkers + "=0"}
	var mu sync.Mutex
	nodes := []*proc{startProcURL(t, bin, dbURL, env...)} // the first bootstraps the tenant and key
	for len(nodes) < 3 {
		nodes = append(nodes, startProcURL(t, bin, dbURL, env...))
	}
	nodeURL := func(i int) string {
		mu.Lock()
		defer mu.Unlock()
		return nodes[i%len(nodes)].url
	}
	// Room for every phone the writers add: 8 customers of 50 phones each.
	customers := hotCustomers(t, nodeURL(0), 24*8)

	stop := make(chan struct{})
	var kills atomic.Int32
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(400+rand.IntN(400)) * time.Millisecond):
			}
			i := rand.IntN(3)
			mu.Lock()
			victim := nodes[i]
			mu.Unlock()
			_ = victim.cmd.Process.Signal(syscall.SIGKILL)
			<-victim.exited
			kills.Add(1)
			fresh := startProcURL(t, bin, dbURL, env...)
			mu.Lock()
			nodes[i] = fresh
			mu.Unlock()
		}
	}()

	var created atomic.Int64
	var answered, retried, replayed atomic.Int32
	var bad sync.Map
	var wg sync.WaitGroup
	c := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < 24; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for op := 0; ; op++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-op%d", w, op)
				prefix := fmt.Sprintf("+1 2%02d %03d ", w+10, op%1000)
				own := customers[w*8 : w*8+8]
				path, body, want := "/v1/phones/batch", idemBatch(own, prefix, 10), 10
				if op%2 == 0 {
					cust := own[op%len(own)]
					path, body, want = fmt.Sprintf("/v1/customers/%d/phones", cust), fmt.Sprintf(`{"number":"%s0000"}`, prefix), 1
				}
				a, tries, err := idemUntilAnswered(c, func(try int) string { return nodeURL(w + op + try) }, path, key, body, 60*time.Second)
				answered.Add(1)
				if tries > 0 {
					retried.Add(1)
				}
				if a.replayed {
					replayed.Add(1)
				}
				switch {
				case err != nil:
					bad.Store(key, err.Error())
				case want == 1 && a.status != http.StatusCreated:
					bad.Store(key, fmt.Sprintf("add answered %d %s", a.status, a.code))
				case want > 1 && (a.status != http.StatusOK || a.created != want || a.updated != 0 || a.failed != 0):
					bad.Store(key, fmt.Sprintf("batch answered %+v", a))
				default:
					created.Add(int64(want))
				}
			}
		}()
	}
	time.Sleep(8 * time.Second)
	close(stop)
	wg.Wait()
	<-killerDone
	t.Logf("%d keys answered over %d kills; %d needed a retry, %d of those replayed", answered.Load(), kills.Load(), retried.Load(), replayed.Load())
	bad.Range(func(k, v any) bool {
		t.Errorf("%s: %s", k, v)
		return true
	})
	if kills.Load() < 5 || retried.Load() == 0 {
		t.Errorf("%d kills and %d retried keys: the test proved little", kills.Load(), retried.Load())
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	idemCheckOnce(t, func(q string) (int, error) {
		var n int
		err := pool.QueryRow(ctx, q).Scan(&n)
		return n, err
	}, int(created.Load()))
}
