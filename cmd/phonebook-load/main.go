// Command phonebook-load drives a running phonebook server at a fixed
// concurrency for a fixed time (or number of requests) and prints
// requests/s, latency percentiles and errors, as text or JSON.
//
//	phonebook-load --url http://127.0.0.1:8080 --key pb_... --scenario mixed --concurrency 32 --duration 10s
//
// Scenarios:
//
//	create-phone  POST /v1/customers/{id}/phones, a new random number
//	get-customer  GET /v1/customers/{id} (the customer with its phones)
//	list-phones   GET /v1/customers/{id}/phones
//	lookup        GET /v1/phones?number=... (reverse lookup)
//	batch-500     POST /v1/phones/batch, 500 upserts over a pool of numbers
//	              (--batch-size changes the 500)
//	mixed         80 % get-customer/lookup/list-phones, 20 % create-phone/PATCH phone
//	pocketbase-get-customer  GET /api/collections/customers/records/{id}?expand=phones_via_customer
//	              of the PocketBase at --url (scripts/bench/pocketbase), --key a
//	              superuser's token: the customer with its phones
//	pocketbase-create-phone  POST /api/collections/phones/records, a new random number
//	bare          get-customer against a server inside phonebook-load that
//	              answers a fixed body (a real get-customer answer) without
//	              doing any work: the HTTP ceiling of the machine, measured
//	              with the same client and the same check of the answer;
//	              with --bare-url, against a --serve-bare server instead
//
// The measured requests go out on one kept-alive HTTP/1.1 connection per
// worker, written and read by phonebook-load itself rather than net/http's
// client, and each answer is checked for what the scenario needs only: its
// status and, for get-customer and bare, the customer's id in the body. So
// the generator takes little of the CPU the server needs (its bare is
// checked against wrk by scripts/bench-loadgen.sh).
//
//	phonebook-load --serve-bare 127.0.0.1:9999
//
// serves only the no-work handler of bare (a fixed answer: a customer with
// two phones) until interrupted, for wrk and for --scenario bare
// --bare-url http://127.0.0.1:9999 to measure the same server.
//
// Before measuring, setup creates --customers customers with one or two
// phones each through the API (or, with --reuse, lists existing ones; the
// pocketbase-* scenarios always list the customers PocketBase holds);
// the scenarios pick customers and numbers from them. Then --warmup runs
// unmeasured, then the measured part. Latency is of every request, failed
// ones included, from the worker's side (client encoding and decoding
// included); percentiles are exact (nearest rank over all samples).
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/phonebook/phonebook/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	var ue usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "phonebook-load:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "phonebook-load:", err)
		os.Exit(1)
	}
}

// usageError is a bad command line.
type usageError struct{ error }

// options are the command line.
type options struct {
	url         string
	key         string
	scenario    string
	concurrency int
	duration    time.Duration
	requests    int64
	warmup      time.Duration
	json        bool
	customers   int
	reuse       bool
	seed        uint64
	batchSize   int
	cpuProfile  string
	serveBare   string // address of --serve-bare
	bareURL     string
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("phonebook-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of the phonebook server")
	fs.StringVar(&o.key, "key", "", "API key (default $PHONEBOOK_KEY); customers:read+write, as the scenarios write")
	fs.StringVar(&o.scenario, "scenario", "", "one of "+strings.Join(scenarioNames, ", "))
	fs.IntVar(&o.concurrency, "concurrency", 32, "concurrent workers, each with one request in flight")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time (unless --requests)")
	fs.Int64Var(&o.requests, "requests", 0, "measured requests in all, instead of --duration")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "time run before measuring, not measured")
	fs.BoolVar(&o.json, "json", false, "print JSON instead of text")
	fs.IntVar(&o.customers, "customers", 1000, "customers the scenarios pick from (created by setup unless --reuse)")
	fs.BoolVar(&o.reuse, "reuse", false, "pick from the customers the server lists instead of creating them")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the random source (0: from the clock; the report says which)")
	fs.IntVar(&o.batchSize, "batch-size", maxBatch, "records of each batch-500 request (1 to 500)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load generator to `FILE` (is the client the limit?)")
	fs.StringVar(&o.serveBare, "serve-bare", "", "serve only bare's no-work handler at `ADDR` (host:port) until interrupted, for wrk and --bare-url")
	fs.StringVar(&o.bareURL, "bare-url", "", "with --scenario bare, measure the --serve-bare server at `URL` instead of one inside this process (no phonebook server needed)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: phonebook-load --scenario NAME [flags]\n\nscenarios: %s\n\n", strings.Join(scenarioNames, ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if o.serveBare != "" {
		if set["scenario"] {
			problems = append(problems, "give --serve-bare or --scenario, not both")
		}
		if len(problems) > 0 {
			return nil, usageError{errors.New(strings.Join(problems, "; "))}
		}
		return o, nil
	}
	if !slices.Contains(scenarioNames, o.scenario) {
		problems = append(problems, fmt.Sprintf("--scenario must be one of %s", strings.Join(scenarioNames, ", ")))
	}
	if o.key == "" {
		o.key = getenv("PHONEBOOK_KEY")
	}
	if o.bareURL != "" && o.scenario != scBare {
		problems = append(problems, "--bare-url is for --scenario bare")
	}
	if o.key == "" && o.bareURL == "" {
		problems = append(problems, "give an API key with --key or $PHONEBOOK_KEY")
	}
	if set["duration"] && set["requests"] {
		problems = append(problems, "give --duration or --requests, not both")
	}
	if o.concurrency < 1 {
		problems = append(problems, "--concurrency must be at least 1")
	}
	if o.requests < 0 || (set["requests"] && o.requests == 0) {
		problems = append(problems, "--requests must be at least 1")
	}
	if o.requests == 0 && o.duration <= 0 {
		problems = append(problems, "--duration must be positive")
	}
	if o.warmup < 0 {
		problems = append(problems, "--warmup must not be negative")
	}
	if o.batchSize < 1 || o.batchSize > maxBatch {
		problems = append(problems, fmt.Sprintf("--batch-size must be 1 to %d", maxBatch))
	}
	if o.customers < 1 {
		problems = append(problems, "--customers must be at least 1")
	}
	if len(problems) > 0 {
		return nil, usageError{errors.New(strings.Join(problems, "; "))}
	}
	o.url = strings.TrimRight(o.url, "/")
	o.bareURL = strings.TrimRight(o.bareURL, "/")
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	return o, nil
}

// run is the whole command: setup, warmup, measure, report.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	if o.serveBare != "" {
		return serveBare(ctx, o.serveBare, stdout)
	}
	if o.cpuProfile != "" {
		pf, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// One transport for every request (setup, real server, bare server),
	// keeping an idle connection per worker.
	tr := client.NewTransport(o.concurrency)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: tr}
	ua := client.WithUserAgent("phonebook-load/1")
	c := client.New(o.url, o.key, client.WithHTTPClient(hc), ua)

	if o.bareURL != "" {
		return runBareURL(ctx, o, hc, stdout, stderr)
	}
	if o.scenario == scPBGetCustomer || o.scenario == scPBCreatePhone {
		return runPocketBase(ctx, o, hc, stdout, stderr)
	}

	so := *o
	if o.scenario == scBare {
		so.customers = min(o.customers, 5) // a few answers to take a typical size from
	}
	start := time.Now()
	f, err := setup(ctx, c, &so, rand.New(rand.NewPCG(o.seed, 0)))
	if err != nil {
		return err
	}
	verb := "created"
	if o.reuse {
		verb = "found"
	}
	fmt.Fprintf(stderr, "setup: %s %d customers with %d phones in %s\n", verb, len(f.targets), len(f.numbers), time.Since(start).Round(time.Millisecond))

	measured := o.url
	switch o.scenario {
	case scLookup, scMixed:
		if len(f.numbers) == 0 {
			return fmt.Errorf("scenario %s needs phones, and the %d customers have none", o.scenario, len(f.targets))
		}
	case scBare:
		if err := bareFixture(ctx, hc, o, f); err != nil {
			return err
		}
		b, err := startBare("127.0.0.1:0", f.bareBody, f.bareETag)
		if err != nil {
			return err
		}
		defer b.Close()
		measured = b.url
	}
	rt, err := newRawTarget(measured, "Bearer "+o.key)
	if err != nil {
		return err
	}
	s := newScenarios(c, f, rt, o)
	defer s.Close()
	if o.scenario == scBare {
		s.bareNeedle = f.bareNeedle
	}

	st, err := Run(ctx, Config{
		Concurrency: o.concurrency, Duration: o.duration, Requests: o.requests,
		Warmup: o.warmup, Seed: o.seed, Classify: classify,
	}, s.op(o.scenario))
	if err != nil {
		return err
	}
	rep := newReport(o, st, len(f.targets), len(f.bareBody))
	if o.scenario == scBatch500 {
		rep.BatchSize = o.batchSize
	}
	return printReport(o, rep, st, stdout, stderr)
}

// printReport writes rep as text or JSON, and notes to stderr.
func printReport(o *options, rep *report, st *Stats, stdout, stderr io.Writer) error {
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.writeText(stdout); err != nil {
		return err
	}
	if st.Interrupted {
		fmt.Fprintln(stderr, "interrupted: the report covers the time until the signal")
	}
	if st.ErrorsByKind["429 "+client.CodeRateLimited] > 0 {
		fmt.Fprintln(stderr, "note: the server limits requests per API key; start it with PHONEBOOK_RATE_LIMIT=0 to measure it")
	}
	return nil
}

// bareFixture takes the body the bare server sends: the get-customer
// answer of median size among the setup's customers.
func bareFixture(ctx context.Context, hc *http.Client, o *options, f *fixture) error {
	type answer struct {
		body   []byte
		etag   string
		needle string
	}
	var answers []answer
	for _, t := range f.targets {
		body, etag, err := fetchRaw(ctx, hc, o.url, o.key, "/v1/customers/"+t.id)
		if err != nil {
			return fmt.Errorf("setup: bare: %w", err)
		}
		if !strings.Contains(string(body), t.needle) {
			return fmt.Errorf("setup: bare: the answer of customer %s does not hold %s", t.id, t.needle)
		}
		answers = append(answers, answer{body, etag, t.needle})
	}
	slices.SortFunc(answers, func(a, b answer) int { return cmp.Compare(len(a.body), len(b.body)) })
	m := answers[len(answers)/2]
	f.bareBody, f.bareETag, f.bareNeedle = m.body, m.etag, m.needle
	return nil
}

// report is the result of a run, as printed.
type report struct {
	Scenario      string            `json:"scenario"`
	URL           string            `json:"url"`
	Concurrency   int               `json:"concurrency"`
	DurationS     float64           `json:"duration_s"` // wall time of the measured part
	WarmupS       float64           `json:"warmup_s"`
	Requests      int64             `json:"requests"`         // completed in the measured window, failed ones included
	Cancelled     int64             `json:"cancelled_at_end"` // in flight when the time was up: cancelled, not counted
	Errors        int64             `json:"errors"`
	ErrorsBy      map[string]int64  `json:"errors_by"` // "404 not_found", "batch record 409 phone_limit", "transport", ...
	ErrorSamples  map[string]string `json:"error_samples,omitempty"`
	RPS           float64           `json:"requests_per_s"`
	LatencyMS     latency           `json:"latency_ms"`
	Customers     int               `json:"customers"`
	Seed          uint64            `json:"seed"`
	BatchSize     int               `json:"batch_size,omitempty"` // records per request of batch-500
	BareBodyBytes int               `json:"bare_body_bytes,omitempty"`
	BareExternal  bool              `json:"bare_external,omitempty"` // bare measured a --serve-bare server (--bare-url)
	Interrupted   bool              `json:"interrupted,omitempty"`
}

type latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func newReport(o *options, st *Stats, customers, bareBytes int) *report {
	return &report{
		Scenario: o.scenario, URL: o.url, Concurrency: o.concurrency,
		DurationS: round3(st.Elapsed.Seconds()), WarmupS: round3(o.warmup.Seconds()),
		Requests: st.Requests, Cancelled: st.Cancelled, Errors: st.Errors, ErrorsBy: st.ErrorsByKind, ErrorSamples: st.ErrorSamples,
		RPS: math.Round(st.RPS()*10) / 10,
		LatencyMS: latency{
			P50: ms(st.Percentile(50)), P90: ms(st.Percentile(90)),
			P99: ms(st.Percentile(99)), Max: ms(st.Max()),
		},
		Customers: customers, Seed: o.seed, BareBodyBytes: bareBytes, Interrupted: st.Interrupted,
	}
}

func (r *report) writeText(w io.Writer) error {
	var b strings.Builder
	line := func(k, format string, a ...any) { fmt.Fprintf(&b, "%-13s "+format+"\n", append([]any{k}, a...)...) }
	line("scenario", "%s", r.Scenario)
	if r.BareExternal {
		line("server", "--serve-bare server at %s: a fixed %d-byte get-customer answer", r.URL, r.BareBodyBytes)
	} else if r.BareBodyBytes > 0 {
		line("server", "in-process bare server: a fixed %d-byte get-customer answer of %s", r.BareBodyBytes, r.URL)
	} else {
		line("server", "%s", r.URL)
	}
	line("setup", "%d customers, seed %d", r.Customers, r.Seed)
	if r.BatchSize > 0 {
		line("batch size", "%d records per request", r.BatchSize)
	}
	line("concurrency", "%d", r.Concurrency)
	line("duration", "%.3f s (after %g s warmup)", r.DurationS, r.WarmupS)
	if r.Cancelled > 0 {
		line("requests", "%d (and %d in flight at the end: cancelled, not counted)", r.Requests, r.Cancelled)
	} else {
		line("requests", "%d", r.Requests)
	}
	line("errors", "%d", r.Errors)
	kinds := make([]string, 0, len(r.ErrorsBy))
	for k := range r.ErrorsBy {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int {
		return cmp.Or(cmp.Compare(r.ErrorsBy[b], r.ErrorsBy[a]), cmp.Compare(a, b))
	})
	for _, k := range kinds {
		fmt.Fprintf(&b, "  %8d  %-30s %s\n", r.ErrorsBy[k], k, r.ErrorSamples[k])
	}
	line("requests/s", "%.1f", r.RPS)
	line("latency ms", "p50 %.3f  p90 %.3f  p99 %.3f  max %.3f", r.LatencyMS.P50, r.LatencyMS.P90, r.LatencyMS.P99, r.LatencyMS.Max)
	if r.Interrupted {
		line("interrupted", "yes")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
