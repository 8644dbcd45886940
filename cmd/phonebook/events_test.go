package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	_ "modernc.org/sqlite" // driver "sqlite", to read the file behind the store's back

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/events"
	"github.com/phonebook/phonebook/secretbox"
	"github.com/phonebook/phonebook/store/sqlite"
)

const (
	evKey           = "events-test-key-0123456789"
	evWebhookSecret = "whsec_events_test_0123456789"
)

// evLedger is what the server acknowledged with 2xx.
type evLedger struct {
	mu             sync.Mutex
	customers      []int64          // live, as far as the client knows
	phones         map[int64]int64  // acknowledged phone → customer
	phonesDeleted  map[int64]bool   // acknowledged phone deletions
	custDeleted    map[int64]bool   // acknowledged customer deletions
	renamed        map[int64]string // acknowledged customer renames: the last name
	custCreated    int
	bad            []string
	requests, acks int
}

func (l *evLedger) pickCustomer(r *rand.Rand) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.customers) == 0 {
		return 0
	}
	return l.customers[r.IntN(len(l.customers))]
}

func (l *evLedger) pickPhone(r *rand.Rand, cid int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []int64
	for id, c := range l.phones {
		if c == cid && !l.phonesDeleted[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return 0
	}
	return ids[r.IntN(len(ids))]
}

// evLoad runs writers of every kind of change until stop is closed.
func evLoad(url string, l *evLedger, stop <-chan struct{}, workers int) *sync.WaitGroup {
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				cid := l.pickCustomer(r)
				op := r.IntN(100)
				if cid == 0 {
					op = 0
				}
				var method, path, body string
				switch {
				case op < 15:
					method, path, body = "POST", "/v1/customers", fmt.Sprintf(`{"name":"w%d n%d"}`, w, n)
				case op < 60:
					method, path = "POST", fmt.Sprintf("/v1/customers/%d/phones", cid)
					body = fmt.Sprintf(`{"number":"+1 201 555 %04d","is_primary":%t}`, r.IntN(10000), r.IntN(4) == 0)
				case op < 80:
					pid := l.pickPhone(r, cid)
					if pid == 0 {
						continue
					}
					method, path = "DELETE", fmt.Sprintf("/v1/customers/%d/phones/%d", cid, pid)
				case op < 95:
					method, path, body = "PATCH", fmt.Sprintf("/v1/customers/%d", cid), fmt.Sprintf(`{"name":"renamed w%d n%d"}`, w, n)
				default:
					method, path = "DELETE", fmt.Sprintf("/v1/customers/%d", cid)
				}
				status, v, err := evDo(client, method, url+path, body)
				l.mu.Lock()
				l.requests++
				if err != nil { // the process died mid-request: not acknowledged
					l.mu.Unlock()
					continue
				}
				ok := status >= 200 && status <= 299
				if ok {
					l.acks++
				}
				switch {
				case !ok && (status == http.StatusConflict || status == http.StatusNotFound || status == http.StatusUnprocessableEntity):
					// duplicates, limits, and rows another writer deleted: expected
				case !ok:
					l.bad = append(l.bad, fmt.Sprintf("%s %s: %d %v", method, path, status, v))
				case op < 15:
					l.customers = append(l.customers, int64(v["id"].(float64)))
					l.custCreated++
				case op < 60:
					l.phones[int64(v["id"].(float64))] = cid
				case op < 80:
					var pid int64
					fmt.Sscanf(path[strings.LastIndex(path, "/")+1:], "%d", &pid)
					l.phonesDeleted[pid] = true
				case op < 95:
					l.renamed[cid] = v["name"].(string)
				default:
					l.custDeleted[cid] = true
					for i, id := range l.customers {
						if id == cid {
							l.customers = append(l.customers[:i], l.customers[i+1:]...)
							break
						}
					}
				}
				l.mu.Unlock()
			}
		})
	}
	return &wg
}

// evDo sends one API request with the test's key.
func evDo(c *http.Client, method, url, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+evKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, nil, err
	}
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	return res.StatusCode, v, nil
}

// evReceiver counts the webhook requests per event id.
type evReceiver struct {
	mu     sync.Mutex
	seen   map[string]int
	badSig int
}

func (rc *evReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if events.Verify(evWebhookSecret, r.Header.Get(events.SignatureHeader), body, 5*time.Minute) != nil {
		rc.badSig++
	}
	rc.seen[r.Header.Get(events.EventIDHeader)]++
	w.WriteHeader(http.StatusNoContent)
}

// TestEventsCommitWithChanges: a change and its outbox event (and its
// webhook delivery row) commit or roll back together. The real binary is
// killed with SIGKILL under writers of every kind of change, four times;
// then the file shows no change without its event and no event without
// its change, every acknowledged change has its event, and the webhook
// receiver got every delivered event.
func TestEventsCommitWithChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "phonebook")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(t.TempDir(), "events.db")
	rc := &evReceiver{seen: map[string]int{}}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)

	// The tenant, its key and a webhook for every event, through the domain.
	func() {
		ctx := context.Background()
		st, err := sqlite.Open(ctx, db, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		svc := phonebook.NewService(st, nil)
		svc.SetWebhookPolicy(phonebook.WebhookPolicy{AllowPrivate: true}) // the receiver listens on 127.0.0.1
		if box, err := secretbox.New("test-server-key-0123456789"); err == nil {
			svc.SetSealer(box)
		}
		if _, _, _, err := svc.Bootstrap(ctx, evKey); err != nil {
			t.Fatal(err)
		}
		a, err := svc.Authenticate(ctx, evKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.CreateWebhook(phonebook.NewContextWithAuth(ctx, a), phonebook.WebhookInput{URL: hook.URL + "/phonebook", Secret: evWebhookSecret}); err != nil {
			t.Fatal(err)
		}
	}()

	l := &evLedger{phones: map[int64]int64{}, phonesDeleted: map[int64]bool{}, custDeleted: map[int64]bool{}, renamed: map[int64]string{}}
	const kills = 4
	for range kills {
		p := startProc(t, bin, db, envRateLimit+"=0", envWebhookAllowPrivate+"=true", envSecretKey+"=test-server-key-0123456789")
		stop := make(chan struct{})
		wg := evLoad(p.url, l, stop, 12)
		time.Sleep(time.Duration(400+rand.IntN(400)) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.exited
		close(stop)
		wg.Wait()
	}

	// A last, clean run: the Deliverer sends what is due. Deliveries a
	// killed process had claimed stay leased (30 s) with those queued
	// behind them; everything else goes out.
	p := startProc(t, bin, db, envRateLimit+"=0", envWebhookAllowPrivate+"=true", envSecretKey+"=test-server-key-0123456789")
	conn, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var leased int
	waitUntil := time.Now().Add(60 * time.Second)
	for {
		var due int
		now := time.Now().UnixMicro()
		err := conn.QueryRow(`SELECT
			(SELECT COUNT(*) FROM deliveries d WHERE d.status = 'pending' AND NOT EXISTS (
				SELECT 1 FROM deliveries p WHERE p.webhook_id = d.webhook_id AND p.customer_id = d.customer_id
				AND p.status = 'pending' AND p.id <= d.id AND p.leased_until > ?)),
			(SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND leased_until > ?)`, now, now).Scan(&due, &leased)
		if err != nil {
			t.Fatal(err)
		}
		if due == 0 {
			break
		}
		if time.Now().After(waitUntil) {
			t.Fatalf("%d deliveries still due after 60s", due)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	if p.err != nil {
		t.Errorf("exit after SIGTERM: %v; stderr:\n%s", p.err, p.stderr)
	}

	var integrity string
	if err := conn.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check: %q, %v", integrity, err)
	}
	var nEvents int
	if err := conn.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&nEvents); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, query string }{
		{"customers without their customer.created event",
			`SELECT COUNT(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.id AND e.type = 'customer.created')`},
		{"phones without their phone.created event",
			`SELECT COUNT(*) FROM phones p WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.phone_id = p.id AND e.customer_id = p.customer_id AND e.type = 'phone.created')`},
		{"customer.created events without their customer (and no customer.deleted)",
			`SELECT COUNT(*) FROM events e WHERE e.type = 'customer.created' AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = e.customer_id)
			 AND NOT EXISTS (SELECT 1 FROM events d WHERE d.type = 'customer.deleted' AND d.customer_id = e.customer_id AND d.seq > e.seq)`},
		{"phone.created events without their phone (and no phone.deleted or customer.deleted)",
			`SELECT COUNT(*) FROM events e WHERE e.type = 'phone.created' AND NOT EXISTS (SELECT 1 FROM phones p WHERE p.id = e.phone_id)
			 AND NOT EXISTS (SELECT 1 FROM events d WHERE d.seq > e.seq AND ((d.type = 'phone.deleted' AND d.phone_id = e.phone_id)
			                                                              OR (d.type = 'customer.deleted' AND d.customer_id = e.customer_id)))`},
		{"customer.deleted events whose customer is still there",
			`SELECT COUNT(*) FROM events e WHERE e.type = 'customer.deleted' AND EXISTS (SELECT 1 FROM customers c WHERE c.id = e.customer_id)`},
		{"phone.deleted events whose phone is still there",
			`SELECT COUNT(*) FROM events e WHERE e.type = 'phone.deleted' AND EXISTS (SELECT 1 FROM phones p WHERE p.id = e.phone_id)`},
		{"phone events of a customer after its customer.deleted",
			`SELECT COUNT(*) FROM events e JOIN events d ON d.type = 'customer.deleted' AND d.customer_id = e.customer_id AND e.seq > d.seq`},
		{"customers whose name is not the one of their latest created/updated event",
			`SELECT COUNT(*) FROM customers c WHERE c.name IS NOT json_extract((SELECT e.after FROM events e WHERE e.customer_id = c.id
			   AND e.type IN ('customer.created', 'customer.updated') ORDER BY e.seq DESC LIMIT 1), '$.name')`},
		{"events without their webhook delivery",
			`SELECT COUNT(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)`},
		{"deliveries without their event",
			`SELECT COUNT(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = d.event_seq)`},
	}
	for _, c := range checks {
		var n int
		if err := conn.QueryRow(c.query).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d (%v)", c.name, n, err)
		}
	}

	// Every acknowledged change has its event.
	l.mu.Lock()
	defer l.mu.Unlock()
	has := func(query string, args ...any) bool {
		var n int
		if err := conn.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	missing := map[string]int{}
	for id, cid := range l.phones {
		if !has(`SELECT COUNT(*) FROM events WHERE type = 'phone.created' AND phone_id = ? AND customer_id = ?`, id, cid) {
			missing["phone.created"]++
		}
	}
	for id := range l.phonesDeleted {
		if !has(`SELECT COUNT(*) FROM events WHERE type = 'phone.deleted' AND phone_id = ?`, id) {
			missing["phone.deleted"]++
		}
	}
	for id := range l.custDeleted {
		if !has(`SELECT COUNT(*) FROM events WHERE type = 'customer.deleted' AND customer_id = ?`, id) {
			missing["customer.deleted"]++
		}
	}
	for id, name := range l.renamed {
		if !has(`SELECT COUNT(*) FROM events WHERE type = 'customer.updated' AND customer_id = ? AND json_extract(after, '$.name') = ?`, id, name) {
			missing["customer.updated"]++
		}
	}
	if len(missing) > 0 {
		t.Errorf("acknowledged changes without their event: %v", missing)
	}
	if len(l.bad) > 0 {
		t.Errorf("%d unexpected answers, first: %s", len(l.bad), l.bad[0])
	}
	if len(l.phones) == 0 || len(l.phonesDeleted) == 0 || len(l.renamed) == 0 || l.custCreated == 0 {
		t.Fatalf("the load acknowledged too little to prove anything: %d phones, %d phone deletions, %d renames, %d customers",
			len(l.phones), len(l.phonesDeleted), len(l.renamed), l.custCreated)
	}

	// The webhook got every delivered event (at least once: an attempt a
	// kill cut short is made again).
	rows, err := conn.Query(`SELECT e.uuid FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.status = 'delivered'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	delivered, notReceived := 0, 0
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		delivered++
		if rc.seen[id] == 0 {
			notReceived++
		}
	}
	if notReceived > 0 {
		t.Errorf("%d of %d delivered events never reached the receiver", notReceived, delivered)
	}
	if rc.badSig > 0 {
		t.Errorf("%d webhook requests with a bad signature", rc.badSig)
	}
	if leased > kills*4 {
		t.Errorf("%d deliveries held by a lease at the end; at most %d (4 workers × %d kills) can be", leased, kills*4, kills)
	}
	twice := 0
	for _, n := range rc.seen {
		if n > 1 {
			twice++
		}
	}
	t.Logf("%d requests, %d acknowledged over %d kills; %d events, %d delivered (%d received twice after a kill), %d held by a dead node's lease",
		l.requests, l.acks, kills, nEvents, delivered, twice, leased)
}

// TestServeNATSPublishesChanges: serve --nats publishes a change made
// through the API to JetStream, on <prefix>.<tenant>.<type>, with the
// event id as Nats-Msg-Id.
func TestServeNATSPublishesChanges(t *testing.T) {
	t.Parallel()
	url := os.Getenv("PHONEBOOK_TEST_NATS_URL")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("NATS at %s: %v", url, err)
		}
		t.Skipf("NATS at %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("%d_%d", os.Getpid(), rand.Uint32())
	stream, prefix := "PBSERVE_"+id, "pbserve_"+id
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, stream)
	})

	const key = "pb_test_nats_key_0123456789"
	getenv := mapEnv(envBootstrapKey, key, envNATSStream, stream, envNATSSubjectPrefix, prefix)
	s := startServer(t, getenv, "--addr", "127.0.0.1:0", "--db", "sqlite:"+filepath.Join(t.TempDir(), "nats.db"), "--nats", url)

	req, _ := http.NewRequest("POST", s.url+"/v1/customers", strings.NewReader(`{"name":"Ada"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var cust struct{ ID int64 }
	_ = json.NewDecoder(res.Body).Decode(&cust)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v1/customers: %d", res.StatusCode)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var cons jetstream.Consumer
	for { // the server creates the stream once connected
		if cons, err = js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{}); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("stream %s never appeared: %v; stderr:\n%s", stream, err, s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(15 * time.Second))
	if err != nil {
		t.Fatalf("no message on %s: %v; stderr:\n%s", stream, err, s.stderr)
	}
	var p events.Payload
	if err := json.Unmarshal(msg.Data(), &p); err != nil {
		t.Fatal(err)
	}
	if got, want := msg.Subject(), prefix+".default.customer.created"; got != want {
		t.Errorf("subject: got %q, want %q", got, want)
	}
	if p.ID == "" || msg.Headers().Get(jetstream.MsgIDHeader) != p.ID {
		t.Errorf("Nats-Msg-Id %q, payload id %q: want the same event id", msg.Headers().Get(jetstream.MsgIDHeader), p.ID)
	}
	if p.CustomerID != cust.ID || p.Tenant != "default" || p.Type != phonebook.EventCustomerCreated {
		t.Errorf("payload: got %+v, want customer.created of customer %d in default", p, cust.ID)
	}
	if err := s.stop(t); err != nil {
		t.Errorf("stop: %v", err)
	}
	if !strings.Contains(s.stderr.String(), "publishing events to nats") {
		t.Errorf("no publishing line in the log:\n%s", s.stderr)
	}
}

// TestServeEventSettingsRejected: a NATS URL that can never connect and a
// bad worker count stop serve at start, with a message that does not
// repeat the URL (it may hold a password).
func TestServeEventSettingsRejected(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "bad.db")
	for _, tt := range []struct {
		name   string
		getenv func(string) string
		args   []string
		want   string
	}{
		{"http scheme", mapEnv(), []string{"--nats", "http://user:s3cret@127.0.0.1:4222"}, `unsupported scheme "http"`},
		{"no host", mapEnv(envNATSURL, "nats://"), nil, "want nats://host:port"},
		{"second of two", mapEnv(), []string{"--nats", "nats://127.0.0.1:4222,mqtt://127.0.0.1:1883"}, `unsupported scheme "mqtt"`},
		{"workers", mapEnv(envWebhookWorkers, "many"), nil, envWebhookWorkers + ": want a number of workers"},
		{"workers negative", mapEnv(envWebhookWorkers, "-1"), nil, envWebhookWorkers + ": want a number of workers"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := runCLI(t, tt.getenv, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, tt.args...)...)
			if err == nil {
				t.Fatalf("serve started; stderr:\n%s", stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr: want %q in\n%s", tt.want, stderr)
			}
			if strings.Contains(stderr, "s3cret") {
				t.Errorf("stderr repeats the URL's password:\n%s", stderr)
			}
		})
	}
}
