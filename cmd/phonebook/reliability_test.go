package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const relKey = "reliability-key-0123456789"

// relBinary builds the program once for a test.
func relBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "phonebook")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is one `phonebook serve` process.
type proc struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	exited chan struct{}
	err    error
}

// startProc runs `phonebook serve` on db with env added to the
// environment (PHONEBOOK_ variables of the test's own are dropped).
func startProc(t *testing.T, bin, db string, env ...string) *proc {
	t.Helper()
	return startProcURL(t, bin, "sqlite:"+db, env...)
}

// startProcURL runs `phonebook serve` on the database at dbURL, as
// startProc does.
func startProcURL(t *testing.T, bin, dbURL string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", dbURL)
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PHONEBOOK_") {
			base = append(base, kv)
		}
	}
	cmd.Env = append(base, env...)
	p := &proc{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = io.Discard, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.exited)
		p.err = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	p.url = "http://" + waitForAddr(t, p.stderr, p.exited)
	waitHealthy(t, p.url)
	return p
}

// relClient talks to the API with the bootstrap key.
type relClient struct {
	http *http.Client
}

func newRelClient() *relClient {
	return &relClient{http: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

func (c *relClient) do(method, url, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+relKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
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

// acked records every write the server acknowledged with 2xx.
type acked struct {
	mu     sync.Mutex
	phones map[int64]int64 // phone id → customer id
	bad    []string        // 5xx and other unexpected answers
}

// load runs writers against url until stop is closed: new customers, and
// phones (some primary) on a few hot customers.
func load(url string, hot []int64, a *acked, stop <-chan struct{}, workers int) *sync.WaitGroup {
	var wg sync.WaitGroup
	c := newRelClient()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for {
				select {
				case <-stop:
					return
				default:
				}
				cid := hot[r.IntN(len(hot))]
				body := fmt.Sprintf(`{"number":"+1 201 555 %04d","is_primary":%t}`, r.IntN(10000), r.IntN(4) == 0)
				status, v, err := c.do("POST", fmt.Sprintf("%s/v1/customers/%d/phones", url, cid), body)
				if err != nil {
					continue // the process died mid-request: not acknowledged
				}
				switch {
				case status == http.StatusCreated:
					a.mu.Lock()
					a.phones[int64(v["id"].(float64))] = cid
					a.mu.Unlock()
				case status == http.StatusConflict: // duplicate or limit: expected
				default:
					a.mu.Lock()
					a.bad = append(a.bad, fmt.Sprintf("%d %v", status, v))
					a.mu.Unlock()
				}
			}
		}(w)
	}
	return &wg
}

// checkStore opens the file directly and checks integrity, the rules of
// DESIGN §2, and that every acknowledged phone is there.
func checkStore(t *testing.T, db string, a *acked) {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var integrity string
	if err := conn.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check: %q, %v", integrity, err)
	}
	rules := []struct{ name, query string }{
		{"customers with phones but not exactly one primary", `SELECT COUNT(*) FROM (SELECT customer_id FROM phones GROUP BY customer_id HAVING SUM(is_primary) <> 1)`},
		{"duplicate numbers", `SELECT COUNT(*) FROM (SELECT 1 FROM phones GROUP BY customer_id, e164, extension HAVING COUNT(*) > 1)`},
		{"customers over 50 phones", `SELECT COUNT(*) FROM (SELECT 1 FROM phones GROUP BY customer_id HAVING COUNT(*) > 50)`},
		{"numbers over 50 customers", `SELECT COUNT(*) FROM (SELECT 1 FROM phones GROUP BY tenant_id, e164 HAVING COUNT(DISTINCT customer_id) > 50)`},
		{"phones without their created event", `SELECT COUNT(*) FROM phones p WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.phone_id = p.id AND e.type = 'phone.created')`},
	}
	for _, r := range rules {
		var n int
		if err := conn.QueryRow(r.query).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d (%v)", r.name, n, err)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	missing := 0
	for id, cid := range a.phones {
		var got int64
		if err := conn.QueryRow(`SELECT customer_id FROM phones WHERE id = ?`, id).Scan(&got); err != nil || got != cid {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged phones are missing", missing, len(a.phones))
	}
	if len(a.bad) > 0 {
		t.Errorf("%d unexpected answers, first: %s", len(a.bad), a.bad[0])
	}
}

// hotCustomers creates n customers and returns their ids.
func hotCustomers(t *testing.T, url string, n int) []int64 {
	t.Helper()
	c := newRelClient()
	var ids []int64
	for i := 0; i < n; i++ {
		status, v, err := c.do("POST", url+"/v1/customers", fmt.Sprintf(`{"name":"hot %d"}`, i))
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create customer: %d %v %v", status, v, err)
		}
		ids = append(ids, int64(v["id"].(float64)))
	}
	return ids
}

// TestCrashSafety kills the server with SIGKILL under concurrent writers,
// five times, restarting it on the same file each time: every write
// acknowledged with 2xx is there, the file is intact, the rules hold.
func TestCrashSafety(t *testing.T) {
	bin := relBinary(t)
	db := filepath.Join(t.TempDir(), "crash.db")
	a := &acked{phones: map[int64]int64{}}
	var hot []int64
	for round := 0; round < 5; round++ {
		p := startProc(t, bin, db, envBootstrapKey+"="+relKey)
		if hot == nil {
			hot = hotCustomers(t, p.url, 8)
		}
		stop := make(chan struct{})
		wg := load(p.url, hot, a, stop, 16)
		time.Sleep(time.Duration(300+rand.IntN(400)) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.exited
		close(stop)
		wg.Wait()
	}
	p := startProc(t, bin, db, envBootstrapKey+"="+relKey) // recovers the WAL like any start after a crash
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.exited
	if len(a.phones) == 0 {
		t.Fatal("no write was acknowledged: the test proved nothing")
	}
	t.Logf("%d acknowledged phones over 5 kills", len(a.phones))
	checkStore(t, db, a)
}

// TestGracefulShutdown sends SIGTERM under load: accepted requests finish
// with their normal status, the process exits 0 within the drain timeout,
// and nothing is half-written.
func TestGracefulShutdown(t *testing.T) {
	bin := relBinary(t)
	db := filepath.Join(t.TempDir(), "term.db")
	a := &acked{phones: map[int64]int64{}}
	p := startProc(t, bin, db, envBootstrapKey+"="+relKey)
	hot := hotCustomers(t, p.url, 8)
	stop := make(chan struct{})
	wg := load(p.url, hot, a, stop, 16)
	time.Sleep(500 * time.Millisecond)
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(12 * time.Second):
		t.Fatalf("no exit within the 10 s drain; stderr:\n%s", p.stderr)
	}
	close(stop)
	wg.Wait()
	if p.err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0; stderr:\n%s", p.err, p.stderr)
	}
	t.Logf("exited %s after SIGTERM, %d acknowledged phones", time.Since(sent).Round(time.Millisecond), len(a.phones))
	checkStore(t, db, a)
}

// TestBackupUnderLoad copies the file with `phonebook backup` while
// writers run; the copy opens, is intact and holds the rules.
func TestBackupUnderLoad(t *testing.T) {
	bin := relBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "live.db")
	a := &acked{phones: map[int64]int64{}}
	p := startProc(t, bin, db, envBootstrapKey+"="+relKey)
	// Enough customers that the 50-phone limit is not reached before the
	// backup ends, or no write after it could be acknowledged.
	hot := hotCustomers(t, p.url, 60)
	stop := make(chan struct{})
	wg := load(p.url, hot, a, stop, 8)
	time.Sleep(300 * time.Millisecond)
	copyPath := filepath.Join(dir, "copy.db")
	var out bytes.Buffer
	cmd := exec.Command(bin, "backup", copyPath, "--db", "sqlite:"+db)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	a.mu.Lock()
	before := len(a.phones)
	a.mu.Unlock()
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if !strings.Contains(out.String(), "backup written") {
		t.Errorf("backup output: %q", out.String())
	}
	// The copy is a database of its own: check it as the live one, without
	// the acknowledged set (writes went on after the copy).
	checkStore(t, copyPath, &acked{phones: map[int64]int64{}})
	conn, err := sql.Open("sqlite", "file:"+copyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM phones`).Scan(&n); err != nil || n < before/2 || n == 0 {
		t.Errorf("copy holds %d phones (%v); %d were acknowledged before the backup started", n, err, before)
	}
	// The server kept serving during the backup.
	a.mu.Lock()
	after := len(a.phones)
	a.mu.Unlock()
	if after <= before {
		t.Errorf("no write acknowledged after the backup: %d then %d", before, after)
	}
}

// TestServerLimits: a client that never finishes its headers is cut off
// (read header timeout), and oversized headers are refused.
func TestServerLimits(t *testing.T) {
	t.Parallel()
	s := startServer(t, mapEnv(envDB, "sqlite:"+filepath.Join(t.TempDir(), "limits.db")), "--addr", "127.0.0.1:0")
	addr := strings.TrimPrefix(s.url, "http://")

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(readHeaderTimeout + 5*time.Second))
	buf := make([]byte, 512)
	_, err = conn.Read(buf)
	if err == nil && !strings.Contains(string(buf), "408") {
		t.Errorf("slow client got an answer: %q", buf)
	}
	if d := time.Since(start); d > readHeaderTimeout+3*time.Second {
		t.Errorf("slow client held the connection %s, read header timeout is %s", d, readHeaderTimeout)
	}

	req, _ := http.NewRequest("GET", s.url+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", maxHeaderBytes+16<<10))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized headers: %d, want 431", res.StatusCode)
	}
}
