package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phonebook/phonebook/client"
)

// Scenario names.
const (
	scCreatePhone = "create-phone"
	scGetCustomer = "get-customer"
	scListPhones  = "list-phones"
	scLookup      = "lookup"
	scBatch500    = "batch-500"
	scMixed       = "mixed"
	scBare        = "bare"
)

var scenarioNames = []string{scCreatePhone, scGetCustomer, scListPhones, scLookup, scBatch500, scMixed, scBare, scPBGetCustomer, scPBCreatePhone}

// maxBatch is the most records of one POST /v1/phones/batch, and the
// records of a batch-500 request unless --batch-size says otherwise.
const maxBatch = 500

// phoneCeiling is how many phones create-phone gives a customer, below the
// server's default limit (50): past it, a worker adds to a fresh customer.
const phoneCeiling = 40

// batchExtra is how many numbers per customer batch-500 may create beyond
// the phones the customer has.
const batchExtra = 3

// target is one customer the scenarios pick from.
type target struct {
	id      string   // integer id
	numbers []string // E.164 of its phones at setup
	extra   []string // numbers batch-500 may add to it
	phones  atomic.Int32

	// Made once, so that the measured requests build nothing.
	path       string // /v1/customers/{id}
	phonesPath string // /v1/customers/{id}/phones
	needle     string // `"id":{id},`, which its get-customer answer holds
}

func newTarget(id string) *target {
	return &target{id: id, path: "/v1/customers/" + id, phonesPath: "/v1/customers/" + id + "/phones", needle: `"id":` + id + `,`}
}

// phoneRef is one phone the update operation changes.
type phoneRef struct{ customerID, phoneID, path string }

// fixture is the data a run picks from, made (or found) by setup.
type fixture struct {
	targets     []*target
	numbers     []string   // every number of every target, for lookup
	lookupPaths []string   // GET /v1/phones?number=... of each of numbers
	phones      []phoneRef // every phone of every target, for updates
	// bareBody is a get-customer answer of the real server, which the bare
	// server sends back.
	bareBody []byte
	bareETag string
	// bareNeedle is what bareBody holds: the id of its customer.
	bareNeedle string
}

func (f *fixture) add(t *target, phones []client.Phone) {
	for _, p := range phones {
		t.numbers = append(t.numbers, p.E164)
		f.numbers = append(f.numbers, p.E164)
		f.lookupPaths = append(f.lookupPaths, "/v1/phones?"+url.Values{"number": {p.E164}}.Encode())
		pid := client.ID(p.ID)
		f.phones = append(f.phones, phoneRef{t.id, pid, t.path + "/phones/" + pid})
	}
	t.phones.Store(int32(len(phones)))
	f.targets = append(f.targets, t)
}

// areaCodes are US area codes of the generated numbers (all valid for
// libphonenumber with any exchange 200-999).
var areaCodes = []int{202, 212, 312, 415, 504, 617, 713, 206}

// randomNumber is a valid US number in international format, one of
// 8*800*10000 = 64 million: collisions between runs are unlikely.
func randomNumber(r *rand.Rand) string {
	return string(appendRandomNumber(nil, r))
}

// appendRandomNumber appends a randomNumber to b, without allocating.
func appendRandomNumber(b []byte, r *rand.Rand) []byte {
	b = append(b, "+1 "...)
	b = strconv.AppendInt(b, int64(areaCodes[r.IntN(len(areaCodes))]), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(200+r.IntN(800)), 10)
	b = append(b, ' ')
	n := r.IntN(10000)
	for d := 1000; d > 0; d /= 10 {
		b = append(b, byte('0'+n/d%10))
	}
	return b
}

// parallel runs f(0..n-1) on up to workers goroutines and returns the
// first error.
func parallel(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// setup makes the fixture of a run: n customers with one or two phones
// each, created through the API; with reuse, the first n customers the
// server lists.
func setup(ctx context.Context, c *client.Client, o *options, r *rand.Rand) (*fixture, error) {
	if o.reuse {
		return findFixture(ctx, c, o.customers)
	}
	f := &fixture{}
	n := o.customers
	made := make([]*client.Customer, n)
	err := parallel(ctx, n, o.concurrency, func(ctx context.Context, i int) error {
		cu, err := c.CreateCustomer(ctx, client.CustomerInput{Name: fmt.Sprintf("load %d-%d", o.seed%100000, i)})
		if err != nil {
			return fmt.Errorf("setup: create customer: %w", err)
		}
		made[i] = cu
		return nil
	})
	if err != nil {
		return nil, err
	}
	var records []client.BatchRecord
	for _, cu := range made {
		for range 1 + r.IntN(2) {
			records = append(records, client.BatchRecord{CustomerID: client.ID(cu.ID), PhoneInput: client.PhoneInput{Number: randomNumber(r), Type: "mobile"}})
		}
	}
	phones := make(map[int64][]client.Phone, n)
	var mu sync.Mutex
	chunks := (len(records) + maxBatch - 1) / maxBatch
	err = parallel(ctx, chunks, o.concurrency, func(ctx context.Context, i int) error {
		res, err := c.BatchPhones(ctx, records[i*maxBatch:min((i+1)*maxBatch, len(records))])
		if err != nil {
			return fmt.Errorf("setup: add phones: %w", err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, rs := range res.Results {
			switch {
			case rs.Phone != nil:
				phones[rs.Phone.CustomerID] = append(phones[rs.Phone.CustomerID], *rs.Phone)
			case rs.Error != nil && rs.Error.Code == client.CodePhoneDuplicate:
				// the same random number twice for one customer: one is enough
			case rs.Error != nil:
				return fmt.Errorf("setup: add phones: %w", rs.Error)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, cu := range made {
		t := newTarget(client.ID(cu.ID))
		t.extra = extraNumbers(r)
		f.add(t, phones[cu.ID])
	}
	return f, nil
}

func extraNumbers(r *rand.Rand) []string {
	out := make([]string, batchExtra)
	for i := range out {
		out[i] = randomNumber(r)
	}
	return out
}

// errEnough stops the listing of findFixture.
var errEnough = errors.New("enough customers")

// findFixture picks the first n customers the server lists.
func findFixture(ctx context.Context, c *client.Client, n int) (*fixture, error) {
	f := &fixture{}
	r := rand.New(rand.NewPCG(uint64(n), 7))
	err := c.IterateCustomers(ctx, client.ListCustomersParams{Limit: min(n, 500)}, func(cu *client.Customer) error {
		t := newTarget(client.ID(cu.ID))
		if len(cu.Phones) < phoneCeiling {
			t.extra = extraNumbers(r)
		}
		f.add(t, cu.Phones)
		if len(f.targets) >= n {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, fmt.Errorf("setup: list customers: %w", err)
	}
	if len(f.targets) == 0 {
		return nil, errors.New("setup: --reuse: the server lists no customers for this key")
	}
	return f, nil
}

// fetchRaw GETs path of the real server and returns the body and ETag as
// sent: the bare server answers with exactly these bytes.
func fetchRaw(ctx context.Context, hc *http.Client, base, key, path string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return body, resp.Header.Get("ETag"), nil
}

// bareServer serves body (a get-customer answer) to every request, doing
// no work: driving it with the same client measures the HTTP ceiling of
// the machine.
type bareServer struct {
	srv *http.Server
	url string
}

func startBare(addr string, body []byte, etag string) (*bareServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	size := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd["Content-Type"] = []string{"application/json"}
		hd["Content-Length"] = []string{size}
		if etag != "" {
			hd["Etag"] = []string{etag}
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &bareServer{srv: srv, url: "http://" + ln.Addr().String()}, nil
}

func (b *bareServer) Close() error { return b.srv.Close() }

// recordError is a batch the server took whose records failed in part.
type recordError struct {
	failed int
	first  *client.Error
}

func (e *recordError) Error() string {
	return fmt.Sprintf("%d records failed, the first: %v", e.failed, e.first)
}

// classify names the kind of a failed request: "404 not_found", "502",
// "batch record 409 phone_limit", "timeout" or "transport".
func classify(err error) string {
	var re *recordError
	if errors.As(err, &re) {
		return "batch record " + classify(re.first)
	}
	var ba *badAnswerError
	if errors.As(err, &ba) {
		return strconv.Itoa(ba.status) + " bad answer"
	}
	if e := client.AsError(err); e != nil {
		if e.Code == "" {
			return strconv.Itoa(e.Status)
		}
		return strconv.Itoa(e.Status) + " " + e.Code
	}
	if errors.Is(err, client.ErrNotModified) {
		return "304"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "transport"
}

// scenarios holds what the operations need.
type scenarios struct {
	c         *client.Client // the real server: setup, spare customers, batch-500
	f         *fixture
	batchSize int // records of a batch-500 request

	// The measured requests (but batch-500's) go out on raw connections,
	// one per worker, to the real server, or to the bare server in
	// scenario bare.
	target *rawTarget
	conns  []*rawConn
	// bareNeedle is what every answer of the bare server holds: the id of
	// the customer whose answer it sends.
	bareNeedle string
	// pb is set in the pocketbase-* scenarios.
	pb *pocketBase
}

func newScenarios(c *client.Client, f *fixture, t *rawTarget, o *options) *scenarios {
	return &scenarios{c: c, f: f, batchSize: o.batchSize, target: t, conns: make([]*rawConn, o.concurrency)}
}

// conn is worker w's connection.
func (s *scenarios) conn(w *Worker) *rawConn {
	c := s.conns[w.ID]
	if c == nil {
		c = newRawConn(s.target)
		s.conns[w.ID] = c
	}
	return c
}

// Close closes the workers' connections.
func (s *scenarios) Close() {
	for _, c := range s.conns {
		if c != nil {
			c.Close()
		}
	}
}

// get GETs path on w's connection and checks the answer: 200, holding
// needle when given.
func (s *scenarios) get(ctx context.Context, w *Worker, path string, needle string) error {
	status, body, err := s.conn(w).do(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return err
	}
	return checkAnswer(http.MethodGet, path, status, http.StatusOK, body, needle)
}

// send sends a JSON body and checks the status of the answer, and
// nothing else: the scenarios that write need nothing back.
func (s *scenarios) send(ctx context.Context, w *Worker, method, path string, body []byte, want int) error {
	status, resp, err := s.conn(w).do(ctx, method, path, "application/json", body)
	if err != nil {
		return err
	}
	return checkAnswer(method, path, status, want, resp, "")
}

func (s *scenarios) op(name string) Op {
	switch name {
	case scCreatePhone:
		return s.createPhone
	case scGetCustomer:
		return s.getCustomer
	case scListPhones:
		return s.listPhones
	case scLookup:
		return s.lookup
	case scBatch500:
		return s.batch
	case scMixed:
		return s.mixed
	case scBare:
		return s.bareGet
	case scPBGetCustomer:
		return s.getCustomer // the targets' paths and ids are PocketBase's
	case scPBCreatePhone:
		return s.pbCreatePhone
	}
	return nil
}

func (s *scenarios) pick(w *Worker) *target { return s.f.targets[w.Rand.IntN(len(s.f.targets))] }

// getCustomer checks that the answer holds the customer's id.
func (s *scenarios) getCustomer(ctx context.Context, w *Worker) error {
	t := s.pick(w)
	return s.get(ctx, w, t.path, t.needle)
}

// listNeedle is in every answer of list-phones.
const listNeedle = `"data":`

func (s *scenarios) listPhones(ctx context.Context, w *Worker) error {
	return s.get(ctx, w, s.pick(w).phonesPath, listNeedle)
}

func (s *scenarios) lookup(ctx context.Context, w *Worker) error {
	return s.get(ctx, w, s.f.lookupPaths[w.Rand.IntN(len(s.f.lookupPaths))], "")
}

// spare is a worker's own customer for create-phone once the customer it
// picked has phoneCeiling phones.
type spare struct {
	id, phonesPath string
	phones         int
}

func (s *scenarios) createPhone(ctx context.Context, w *Worker) error {
	_, path, err := s.phoneOwner(ctx, w)
	if err != nil {
		return err
	}
	c := s.conn(w)
	b := append(c.scratch[:0], `{"number":"`...)
	b = appendRandomNumber(b, w.Rand)
	c.scratch = append(b, `","type":"mobile"}`...)
	return s.send(ctx, w, http.MethodPost, path, c.scratch, http.StatusCreated)
}

// phoneOwner picks the customer a new phone goes to: a random target
// while it has fewer than phoneCeiling phones, else the worker's spare
// customer (made outside the measured time when it has none, or a full
// one). It returns the customer's id and the path its phones are POSTed
// to.
func (s *scenarios) phoneOwner(ctx context.Context, w *Worker) (id, path string, err error) {
	if t := s.pick(w); t.phones.Add(1) <= phoneCeiling {
		return t.id, t.phonesPath, nil
	}
	sp, _ := w.State.(*spare)
	if sp == nil || sp.phones >= phoneCeiling {
		err := w.Untimed(func() error {
			var err error
			sp, err = s.newSpare(ctx, w)
			w.State = sp
			return err
		})
		if err != nil {
			return "", "", err
		}
	}
	sp.phones++
	return sp.id, sp.phonesPath, nil
}

// newSpare makes a spare customer for worker w on phonebook.
func (s *scenarios) newSpare(ctx context.Context, w *Worker) (*spare, error) {
	if s.pb != nil {
		return s.pb.newSpare(ctx, w)
	}
	cu, err := s.c.CreateCustomer(ctx, client.CustomerInput{Name: fmt.Sprintf("load spare %d", w.ID)})
	if err != nil {
		return nil, err
	}
	return &spare{id: client.ID(cu.ID), phonesPath: "/v1/customers/" + client.ID(cu.ID) + "/phones"}, nil
}

func (s *scenarios) updatePhone(ctx context.Context, w *Worker) error {
	p := s.f.phones[w.Rand.IntN(len(s.f.phones))]
	c := s.conn(w)
	b := append(c.scratch[:0], `{"label":"load `...)
	b = strconv.AppendInt(b, int64(w.Rand.IntN(100000)), 10)
	c.scratch = append(b, `"}`...)
	return s.send(ctx, w, http.MethodPatch, p.path, c.scratch, http.StatusOK)
}

// batch upserts batchSize (500) records over the pool of numbers of the targets: their
// phones and a few extra numbers each, with a new label, so that most
// records are real updates and none breaks a limit.
func (s *scenarios) batch(ctx context.Context, w *Worker) error {
	recs, _ := w.State.([]client.BatchRecord)
	if recs == nil {
		recs = make([]client.BatchRecord, s.batchSize)
		w.State = recs
	}
	for i := range recs {
		t := s.pick(w)
		k := w.Rand.IntN(len(t.numbers) + len(t.extra))
		number := ""
		if k < len(t.numbers) {
			number = t.numbers[k]
		} else {
			number = t.extra[k-len(t.numbers)]
		}
		recs[i] = client.BatchRecord{CustomerID: t.id, PhoneInput: client.PhoneInput{Number: number, Label: "batch " + strconv.Itoa(w.Rand.IntN(100000))}}
	}
	res, err := s.c.BatchPhones(ctx, recs)
	if err != nil {
		return err
	}
	if res.Counts.Failed > 0 {
		re := &recordError{failed: res.Counts.Failed}
		for _, r := range res.Results {
			if r.Error != nil {
				re.first = r.Error
				break
			}
		}
		return re
	}
	return nil
}

// mixed is 80 % reads (get-customer, lookup, list-phones) and 20 % writes
// (create-phone, update of a phone's label).
func (s *scenarios) mixed(ctx context.Context, w *Worker) error {
	switch n := w.Rand.IntN(100); {
	case n < 27:
		return s.getCustomer(ctx, w)
	case n < 54:
		return s.lookup(ctx, w)
	case n < 80:
		return s.listPhones(ctx, w)
	case n < 90:
		return s.createPhone(ctx, w)
	default:
		return s.updatePhone(ctx, w)
	}
}

// bareGet is get-customer against the bare server: the same request, the
// same check of the answer.
func (s *scenarios) bareGet(ctx context.Context, w *Worker) error {
	return s.get(ctx, w, s.pick(w).path, s.bareNeedle)
}
