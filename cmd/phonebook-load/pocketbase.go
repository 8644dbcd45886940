package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The pocketbase-* scenarios measure PocketBase (scripts/bench/pocketbase)
// with the requests of get-customer and create-phone, on the same raw
// connections and with the same checks, so that bench.sh can put
// phonebook beside its peer.
const (
	scPBGetCustomer = "pocketbase-get-customer"
	scPBCreatePhone = "pocketbase-create-phone"
)

// pbPhonesPath is where a PocketBase phone is created.
const pbPhonesPath = "/api/collections/phones/records"

// pocketBase is what the pocketbase-* scenarios need beyond the raw
// connections: a client for setup and spare customers.
type pocketBase struct {
	base string
	auth string // "Bearer <superuser token>"
	hc   *http.Client
}

// newPBTarget is a PocketBase customer: its get-customer path (the record
// with its phones, through the back relation phones.customer) and the id
// its answer holds.
func newPBTarget(id string) *target {
	return &target{
		id:         id,
		path:       "/api/collections/customers/records/" + id + "?expand=phones_via_customer",
		phonesPath: pbPhonesPath,
		needle:     `"id":"` + id + `"`,
	}
}

// call sends a JSON request and decodes the 200 answer into out.
func (p *pocketBase) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", p.auth)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return answerError(method, path, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// newSpare makes a customer for worker w's new phones.
func (p *pocketBase) newSpare(ctx context.Context, w *Worker) (*spare, error) {
	var rec struct {
		ID string `json:"id"`
	}
	in := map[string]string{"name": fmt.Sprintf("load spare %d", w.ID), "status": "active"}
	if err := p.call(ctx, http.MethodPost, "/api/collections/customers/records", in, &rec); err != nil {
		return nil, err
	}
	return &spare{id: rec.ID, phonesPath: pbPhonesPath}, nil
}

// fixture lists the first n customers PocketBase holds, with how many
// phones each has (create-phone moves to spare customers past
// phoneCeiling, as on phonebook).
func (p *pocketBase) fixture(ctx context.Context, n int) (*fixture, error) {
	f := &fixture{}
	for page := 1; len(f.targets) < n; page++ {
		q := url.Values{
			"page": {strconv.Itoa(page)}, "perPage": {strconv.Itoa(min(n, 500))}, "skipTotal": {"1"}, "sort": {"external_id"},
			"expand": {"phones_via_customer"}, "fields": {"id,expand.phones_via_customer.id"},
		}
		var list struct {
			Items []struct {
				ID     string `json:"id"`
				Expand struct {
					Phones []struct{} `json:"phones_via_customer"`
				} `json:"expand"`
			} `json:"items"`
		}
		if err := p.call(ctx, http.MethodGet, "/api/collections/customers/records?"+q.Encode(), nil, &list); err != nil {
			return nil, fmt.Errorf("setup: list PocketBase customers: %w", err)
		}
		for _, it := range list.Items {
			if len(f.targets) == n {
				break
			}
			t := newPBTarget(it.ID)
			t.phones.Store(int32(len(it.Expand.Phones)))
			f.targets = append(f.targets, t)
		}
		if len(list.Items) == 0 {
			break
		}
	}
	if len(f.targets) == 0 {
		return nil, fmt.Errorf("setup: PocketBase at %s lists no customers: seed it first (scripts/bench/pocketbase: pocketbase-bench seed)", p.base)
	}
	return f, nil
}

// pbCreatePhone is create-phone on PocketBase: a new random number for a
// customer, checked by status alone (PocketBase answers a create 200).
func (s *scenarios) pbCreatePhone(ctx context.Context, w *Worker) error {
	id, path, err := s.phoneOwner(ctx, w)
	if err != nil {
		return err
	}
	c := s.conn(w)
	b := append(c.scratch[:0], `{"customer":"`...)
	b = append(b, id...)
	b = append(b, `","number":"`...)
	b = appendRandomNumber(b, w.Rand)
	c.scratch = append(b, `","type":"mobile"}`...)
	return s.send(ctx, w, http.MethodPost, path, c.scratch, http.StatusOK)
}

// runPocketBase is a pocketbase-* scenario: setup lists the customers of
// the PocketBase at o.url (--key is a superuser's token), then measures.
func runPocketBase(ctx context.Context, o *options, hc *http.Client, stdout, stderr io.Writer) error {
	auth := o.key
	if !strings.HasPrefix(auth, "Bearer ") {
		auth = "Bearer " + auth
	}
	p := &pocketBase{base: o.url, auth: auth, hc: hc}
	start := time.Now()
	f, err := p.fixture(ctx, o.customers)
	if err != nil {
		return err
	}
	phones := 0
	for _, t := range f.targets {
		phones += int(t.phones.Load())
	}
	fmt.Fprintf(stderr, "setup: found %d customers with %d phones in %s\n", len(f.targets), phones, time.Since(start).Round(time.Millisecond))
	rt, err := newRawTarget(o.url, auth)
	if err != nil {
		return err
	}
	s := newScenarios(nil, f, rt, o)
	s.pb = p
	defer s.Close()
	st, err := Run(ctx, Config{
		Concurrency: o.concurrency, Duration: o.duration, Requests: o.requests,
		Warmup: o.warmup, Seed: o.seed, Classify: classify,
	}, s.op(o.scenario))
	if err != nil {
		return err
	}
	return printReport(o, newReport(o, st, len(f.targets), 0), st, stdout, stderr)
}
