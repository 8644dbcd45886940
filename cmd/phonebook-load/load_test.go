package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/client"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
)

func ms10(ns ...int) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = time.Duration(n) * time.Millisecond
	}
	return out
}

func seq(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one p50", ms10(7), 50, 7 * time.Millisecond},
		{"one p99", ms10(7), 99, 7 * time.Millisecond},
		{"1..100 p50", seq(100), 50, 50 * time.Millisecond},
		{"1..100 p90", seq(100), 90, 90 * time.Millisecond},
		{"1..100 p99", seq(100), 99, 99 * time.Millisecond},
		{"1..100 p100", seq(100), 100, 100 * time.Millisecond},
		{"1..10 p50", seq(10), 50, 5 * time.Millisecond},
		{"1..10 p90", seq(10), 90, 9 * time.Millisecond},
		{"1..10 p99 is the max", seq(10), 99, 10 * time.Millisecond},
		{"1..10 p91 rounds up", seq(10), 91, 10 * time.Millisecond},
		{"1..1000 p99", seq(1000), 99, 990 * time.Millisecond},
		{"1..1000 p99.9", seq(1000), 99.9, 999 * time.Millisecond},
		{"p0 is the min", seq(10), 0, time.Millisecond},
		{"p above 100 is the max", seq(10), 150, 10 * time.Millisecond},
		{"two p50", ms10(1, 9), 50, time.Millisecond},
		{"two p51", ms10(1, 9), 51, 9 * time.Millisecond},
		{"skewed p90", ms10(1, 1, 1, 1, 1, 1, 1, 1, 1, 500), 90, time.Millisecond},
	} {
		if got := Percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("%s: Percentile(p%g) = %v, want %v", tc.name, tc.p, got, tc.want)
		}
	}
	st := &Stats{Latencies: seq(100), Requests: 100, Elapsed: 2 * time.Second}
	if got, want := st.Max(), 100*time.Millisecond; got != want {
		t.Errorf("Max: got %v, want %v", got, want)
	}
	if got, want := st.RPS(), 50.0; got != want {
		t.Errorf("RPS: got %v, want %v", got, want)
	}
	if got := (&Stats{}).RPS(); got != 0 {
		t.Errorf("RPS of nothing: got %v, want 0", got)
	}
}

func TestRunCount(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	seen := make([]atomic.Int64, 4)
	st, err := Run(context.Background(), Config{Concurrency: 4, Requests: 1000, Seed: 1}, func(ctx context.Context, w *Worker) error {
		calls.Add(1)
		seen[w.ID].Add(1)
		time.Sleep(100 * time.Microsecond) // long enough for every worker to get a turn
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 1000 || calls.Load() != 1000 || len(st.Latencies) != 1000 || st.Errors != 0 || st.Cancelled != 0 || st.Interrupted {
		t.Errorf("got requests %d calls %d latencies %d errors %d cancelled %d interrupted %v, want 1000 of each and nothing else",
			st.Requests, calls.Load(), len(st.Latencies), st.Errors, st.Cancelled, st.Interrupted)
	}
	if !slices.IsSorted(st.Latencies) {
		t.Errorf("latencies are not sorted")
	}
	for i := range seen {
		if seen[i].Load() == 0 {
			t.Errorf("worker %d made no request", i)
		}
	}
}

func TestRunDurationAndWarmup(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	st, err := Run(context.Background(), Config{Concurrency: 3, Duration: 150 * time.Millisecond, Warmup: 100 * time.Millisecond}, func(ctx context.Context, w *Worker) error {
		calls.Add(1)
		time.Sleep(time.Millisecond)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests == 0 || calls.Load() <= st.Requests {
		t.Errorf("got %d requests measured of %d made, want some, and fewer than made (warmup)", st.Requests, calls.Load())
	}
	if st.Elapsed < 150*time.Millisecond || st.Elapsed > time.Second {
		t.Errorf("got elapsed %v, want about 150ms", st.Elapsed)
	}
	if p := st.Percentile(50); p < time.Millisecond {
		t.Errorf("got p50 %v, want at least the 1ms the op sleeps", p)
	}
}

func TestRunErrorsAndUntimed(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	var calls atomic.Int64
	st, err := Run(context.Background(), Config{
		Concurrency: 2, Requests: 60,
		Classify: func(err error) string { return "kind " + err.Error() },
	}, func(ctx context.Context, w *Worker) error {
		if calls.Add(1)%3 == 0 {
			// 30 ms of preparation the latency leaves out
			_ = w.Untimed(func() error { time.Sleep(30 * time.Millisecond); return nil })
			return boom
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 60 || st.Errors != 20 {
		t.Errorf("got %d requests %d errors, want 60 and 20", st.Requests, st.Errors)
	}
	if got, want := st.ErrorsByKind, map[string]int64{"kind boom": 20}; !equalMaps(got, want) {
		t.Errorf("errors by kind: got %v, want %v", got, want)
	}
	if got := st.ErrorSamples["kind boom"]; got != "boom" {
		t.Errorf("error sample: got %q, want boom", got)
	}
	if m := st.Max(); m >= 20*time.Millisecond {
		t.Errorf("got max latency %v, want the untimed 30ms left out", m)
	}
}

func equalMaps(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestRunCancelsAtDeadline(t *testing.T) {
	t.Parallel()
	// Requests that never end on their own are cancelled when the time is
	// up, and not counted.
	st, err := Run(context.Background(), Config{Concurrency: 3, Duration: 100 * time.Millisecond}, func(ctx context.Context, w *Worker) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 0 || st.Cancelled != 3 || st.Errors != 0 || st.Interrupted {
		t.Errorf("got requests %d cancelled %d errors %d interrupted %v, want 0 3 0 false", st.Requests, st.Cancelled, st.Errors, st.Interrupted)
	}
	if st.Elapsed < 100*time.Millisecond || st.Elapsed > time.Second {
		t.Errorf("got elapsed %v, want about 100ms", st.Elapsed)
	}
}

func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	st, err := Run(ctx, Config{Concurrency: 2, Duration: time.Minute}, func(ctx context.Context, w *Worker) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
			return nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Interrupted || st.Requests == 0 || time.Since(start) > 5*time.Second {
		t.Errorf("got interrupted %v requests %d after %v, want an early stop with what was measured", st.Interrupted, st.Requests, time.Since(start))
	}
}

func TestRunConfigErrors(t *testing.T) {
	t.Parallel()
	op := func(context.Context, *Worker) error { return nil }
	for _, cfg := range []Config{{Concurrency: 0, Requests: 1}, {Concurrency: 1}} {
		if _, err := Run(context.Background(), cfg, op); err == nil {
			t.Errorf("Run(%+v): got no error", cfg)
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&client.Error{Status: 409, Code: "phone_duplicate"}, "409 phone_duplicate"},
		{fmt.Errorf("wrapped: %w", &client.Error{Status: 404, Code: "not_found"}), "404 not_found"},
		{&client.Error{Status: 502}, "502"},
		{&recordError{failed: 2, first: &client.Error{Status: 409, Code: "phone_limit"}}, "batch record 409 phone_limit"},
		{client.ErrNotModified, "304"},
		{errors.New("connection refused"), "transport"},
		{context.DeadlineExceeded, "timeout"},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	env := func(k string) string {
		if k == "PHONEBOOK_KEY" {
			return "pb_from_env"
		}
		return ""
	}
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		name    string
		args    []string
		getenv  func(string) string
		wantErr string // substring; "" for none
		check   func(*options) string
	}{
		{"defaults", []string{"--scenario", "lookup"}, env, "", func(o *options) string {
			if o.url != "http://127.0.0.1:8080" || o.key != "pb_from_env" || o.concurrency != 32 || o.duration != 10*time.Second ||
				o.requests != 0 || o.warmup != time.Second || o.customers != 1000 || o.reuse || o.json || o.seed == 0 || o.batchSize != 500 {
				return fmt.Sprintf("%+v", *o)
			}
			return ""
		}},
		{"everything", []string{"--url", "http://h:1/", "--key", "k", "--scenario", "bare", "--concurrency", "3", "--requests", "9",
			"--warmup", "0s", "--json", "--customers", "7", "--reuse", "--seed", "5"}, env, "", func(o *options) string {
			if o.url != "http://h:1" || o.key != "k" || o.scenario != "bare" || o.concurrency != 3 || o.requests != 9 ||
				o.warmup != 0 || !o.json || o.customers != 7 || !o.reuse || o.seed != 5 {
				return fmt.Sprintf("%+v", *o)
			}
			return ""
		}},
		{"no scenario", nil, env, "--scenario must be one of", nil},
		{"unknown scenario", []string{"--scenario", "nap"}, env, "--scenario must be one of", nil},
		{"no key", []string{"--scenario", "lookup"}, noEnv, "API key", nil},
		{"both", []string{"--scenario", "lookup", "--duration", "1s", "--requests", "5"}, env, "not both", nil},
		{"zero requests", []string{"--scenario", "lookup", "--requests", "0"}, env, "--requests must be at least 1", nil},
		{"zero concurrency", []string{"--scenario", "lookup", "--concurrency", "0"}, env, "--concurrency", nil},
		{"zero duration", []string{"--scenario", "lookup", "--duration", "0s"}, env, "--duration", nil},
		{"negative warmup", []string{"--scenario", "lookup", "--warmup", "-1s"}, env, "--warmup", nil},
		{"zero customers", []string{"--scenario", "lookup", "--customers", "0"}, env, "--customers", nil},
		{"big batch", []string{"--scenario", "batch-500", "--batch-size", "501"}, env, "--batch-size must be 1 to 500", nil},
		{"arguments", []string{"--scenario", "lookup", "extra"}, env, "unexpected arguments", nil},
		{"serve-bare", []string{"--serve-bare", "127.0.0.1:0"}, noEnv, "", func(o *options) string {
			if o.serveBare != "127.0.0.1:0" || o.key != "" {
				return fmt.Sprintf("%+v", *o)
			}
			return ""
		}},
		{"serve-bare and scenario", []string{"--serve-bare", ":0", "--scenario", "bare"}, env, "not both", nil},
		{"bare-url without key", []string{"--scenario", "bare", "--bare-url", "http://127.0.0.1:1/"}, noEnv, "", func(o *options) string {
			if o.bareURL != "http://127.0.0.1:1" {
				return fmt.Sprintf("%+v", *o)
			}
			return ""
		}},
		{"bare-url of another scenario", []string{"--scenario", "lookup", "--bare-url", "http://127.0.0.1:1"}, env, "--bare-url is for --scenario bare", nil},
		{"unknown flag", []string{"--nope"}, env, "not defined", nil},
	} {
		var stderr bytes.Buffer
		o, err := parseFlags(tc.args, tc.getenv, &stderr)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: got error %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: got error %v, want one with %q", tc.name, err, tc.wantErr)
		case tc.wantErr != "":
			var ue usageError
			if !errors.As(err, &ue) {
				t.Errorf("%s: got %T, want a usageError", tc.name, err)
			}
		case tc.check != nil:
			if bad := tc.check(o); bad != "" {
				t.Errorf("%s: got %s", tc.name, bad)
			}
		}
	}
}

// server is a real phonebook (httpapi over a fresh SQLite file) with a
// tenant and a read-write key.
func newServer(t *testing.T, rl httpapi.RateLimit) (url, key string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pb.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	svc := phonebook.NewService(st, nil)
	srv := httptest.NewServer(httpapi.NewServer(slog.New(slog.DiscardHandler), svc, httpapi.Options{RateLimit: &rl}))
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	if _, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "load"}); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	_, secret, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "load", Name: "load", Scopes: []string{phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite}})
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	return srv.URL, secret
}

// noLimit turns the server's per-key rate limit off: a load test exceeds it.
var noLimit = httpapi.RateLimit{}

// runJSON runs the command with args plus --json and returns its report.
func runJSON(t *testing.T, args ...string) (*report, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), append(args, "--json"), func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("run %q: %v (stderr %s)", args, err, stderr.String())
	}
	var r report
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("run %q: decode report: %v\n%s", args, err, stdout.String())
	}
	return &r, stderr.String()
}

func checkLatency(t *testing.T, what string, r *report) {
	t.Helper()
	l := r.LatencyMS
	if !(l.P50 > 0 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("%s: latency %+v, want 0 < p50 <= p90 <= p99 <= max", what, l)
	}
}

// TestScenarios runs every scenario briefly against a real server.
func TestScenarios(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarioNames {
		if strings.HasPrefix(sc, "pocketbase-") {
			// they need a PocketBase: scripts/bench/pocketbase's own
			// module runs them against one (TestLoadGenerator there)
			continue
		}
		t.Run(sc, func(t *testing.T) {
			t.Parallel()
			url, key := newServer(t, noLimit)
			// A batch of 500 takes about 300 ms here, and ten times that
			// under -race: batch-500 runs a count of smaller batches. The
			// others run 300 ms; on a machine so busy that no write ends
			// within that (fsync behind other processes' I/O), they run
			// again for longer rather than fail.
			var r *report
			var stderr string
			for _, d := range []time.Duration{300 * time.Millisecond, time.Second, 3 * time.Second} {
				length := []string{"--concurrency", "4", "--duration", d.String()}
				if sc == scBatch500 {
					length = []string{"--concurrency", "2", "--requests", "3", "--batch-size", "25"}
				}
				r, stderr = runJSON(t, append(length, "--url", url, "--key", key, "--scenario", sc,
					"--warmup", "50ms", "--customers", "20", "--seed", "1")...)
				if sc == scBatch500 {
					if r.Requests != 3 || r.Concurrency != 2 || r.BatchSize != 25 {
						t.Errorf("got %d requests of %d records at concurrency %d, want 3 of 25 at 2", r.Requests, r.BatchSize, r.Concurrency)
					}
				} else if r.DurationS < d.Seconds() || r.DurationS > d.Seconds()+1 || r.Concurrency != 4 {
					t.Errorf("got duration %v s at concurrency %d, want about %v at 4", r.DurationS, r.Concurrency, d)
				}
				if r.Requests > 0 || r.Cancelled == 0 {
					break
				}
				t.Logf("%s: no request ended within %v (%d cancelled): again, longer", sc, d, r.Cancelled)
			}
			if r.Scenario != sc || r.URL != url || r.Seed != 1 || r.WarmupS != 0.05 {
				t.Errorf("report: got %+v", r)
			}
			if r.Requests <= 0 || r.Errors != 0 || len(r.ErrorsBy) != 0 || r.Interrupted {
				t.Errorf("got %d requests, %d errors %v, interrupted %v; want requests and no error", r.Requests, r.Errors, r.ErrorSamples, r.Interrupted)
			}
			if r.RPS <= 0 {
				t.Errorf("got %v requests/s", r.RPS)
			}
			checkLatency(t, sc, r)
			wantCustomers := 20
			if sc == scBare {
				wantCustomers = 5
				if r.BareBodyBytes < 300 {
					t.Errorf("bare: got a %d-byte body, want a get-customer answer", r.BareBodyBytes)
				}
			} else if r.BareBodyBytes != 0 {
				t.Errorf("%s: got bare_body_bytes %d", sc, r.BareBodyBytes)
			}
			if r.Customers != wantCustomers {
				t.Errorf("got %d customers, want %d", r.Customers, wantCustomers)
			}
			if !strings.Contains(stderr, fmt.Sprintf("setup: created %d customers", wantCustomers)) {
				t.Errorf("stderr: got %q, want the setup line", stderr)
			}
		})
	}
}

// TestCountReuseAndText: an exact number of requests, --reuse of what a
// first run made, PHONEBOOK_KEY, and the text report.
func TestCountReuseAndText(t *testing.T) {
	t.Parallel()
	url, key := newServer(t, noLimit)
	r, _ := runJSON(t, "--url", url, "--key", key, "--scenario", "create-phone", "--concurrency", "3",
		"--requests", "45", "--warmup", "0s", "--customers", "6", "--seed", "9")
	if r.Requests != 45 || r.Errors != 0 || r.Cancelled != 0 {
		t.Errorf("count mode: got %d requests %d errors %d cancelled, want 45 0 0", r.Requests, r.Errors, r.Cancelled)
	}
	checkLatency(t, "count mode", r)

	// --reuse finds the 6 customers (and their phones) of the first run.
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		if k == "PHONEBOOK_KEY" {
			return key
		}
		return ""
	}
	err := run(context.Background(), []string{"--url", url, "--scenario", "lookup", "--reuse", "--customers", "100",
		"--concurrency", "2", "--requests", "30", "--warmup", "20ms"}, getenv, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run --reuse: %v (%s)", err, stderr.String())
	}
	if want := "setup: found 6 customers with "; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr: got %q, want %q", stderr.String(), want)
	}
	for _, re := range []string{
		`(?m)^scenario +lookup$`,
		`(?m)^server +` + regexp.QuoteMeta(url) + `$`,
		`(?m)^setup +6 customers, seed \d+$`,
		`(?m)^concurrency +2$`,
		`(?m)^duration +\d+\.\d{3} s \(after 0\.02 s warmup\)$`,
		`(?m)^requests +30$`,
		`(?m)^errors +0$`,
		`(?m)^requests/s +\d+\.\d$`,
		`(?m)^latency ms +p50 \d+\.\d{3}  p90 \d+\.\d{3}  p99 \d+\.\d{3}  max \d+\.\d{3}$`,
	} {
		if !regexp.MustCompile(re).MatchString(stdout.String()) {
			t.Errorf("text report: no line matches %s in\n%s", re, stdout.String())
		}
	}
}

// TestErrorsReported: failures are counted by status and code, with a
// sample and a hint for the rate limit.
func TestErrorsReported(t *testing.T) {
	t.Parallel()
	url, key := newServer(t, httpapi.RateLimit{Rate: 1, Burst: 8})
	r, stderr := runJSON(t, "--url", url, "--key", key, "--scenario", "get-customer", "--concurrency", "2",
		"--requests", "30", "--warmup", "0s", "--customers", "2", "--seed", "3")
	if r.Requests != 30 || r.Errors == 0 || r.Errors != r.ErrorsBy["429 rate_limited"] {
		t.Errorf("got %d requests, %d errors %v, want 30 requests and 429s", r.Requests, r.Errors, r.ErrorsBy)
	}
	if s := r.ErrorSamples["429 rate_limited"]; !strings.Contains(s, "GET /v1/customers/") || strings.Contains(s, key) {
		t.Errorf("error sample: got %q, want the request, without the key", s)
	}
	if !strings.Contains(stderr, "PHONEBOOK_RATE_LIMIT=0") {
		t.Errorf("stderr: got %q, want the rate limit hint", stderr)
	}

	var text bytes.Buffer
	if err := r.writeText(&text); err != nil {
		t.Fatal(err)
	}
	if want := regexp.MustCompile(`(?m)^ +\d+  429 rate_limited +phonebook: GET /v1/customers/\d+: 429 rate_limited: `); !want.MatchString(text.String()) {
		t.Errorf("text report: want an error line, got\n%s", text.String())
	}
}

// TestUnreachable: setup fails cleanly when no server answers.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"--url", url, "--key", "pb_secret_value", "--scenario", "lookup", "--customers", "1"},
		func(string) string { return "" }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "setup") || strings.Contains(err.Error(), "pb_secret_value") {
		t.Errorf("got %v, want a setup error without the key", err)
	}
}

// TestCreatePhoneSpareCustomers: create-phone never breaks the server's 50
// phones per customer: past phoneCeiling, workers add to customers of their
// own, made outside the measured time.
func TestCreatePhoneSpareCustomers(t *testing.T) {
	t.Parallel()
	url, key := newServer(t, noLimit)
	r, _ := runJSON(t, "--url", url, "--key", key, "--scenario", "create-phone", "--concurrency", "3",
		"--requests", "60", "--warmup", "0s", "--customers", "1", "--seed", "4")
	if r.Requests != 60 || r.Errors != 0 {
		t.Fatalf("got %d requests %d errors %v, want 60 and none", r.Requests, r.Errors, r.ErrorSamples)
	}
	c := client.New(url, key)
	total, customers := 0, 0
	err := c.IterateCustomers(context.Background(), client.ListCustomersParams{}, func(cu *client.Customer) error {
		customers++
		total += len(cu.Phones)
		if len(cu.Phones) > phoneCeiling {
			t.Errorf("customer %d has %d phones, want at most %d", cu.ID, len(cu.Phones), phoneCeiling)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// setup gave the one customer 1 or 2 phones
	if customers < 2 || total < 61 || total > 62 {
		t.Errorf("got %d phones on %d customers, want 61 or 62 on the first and spares", total, customers)
	}
}
