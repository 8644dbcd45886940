package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// sampleCustomer is what --serve-bare answers: a get-customer answer of
// phonebook, as it sent it, for a customer with two phones (the customer
// of the wrk figures).
const sampleCustomer = `{"id":100000,"uuid":"01a23d80-f6ae-7da4-9adb-edfa7828e217","external_id":"crm-000123","name":"Ada Lovelace","status":"active","created_at":"2026-12-03T20:03:11.66286Z","updated_at":"2026-12-03T20:03:11.669708Z","version":3,"phones":[{"id":1,"uuid":"01a23d80-f6b2-727e-837e-f1d50afbfcc8","customer_id":100000,"raw":"+1 504 555 0123","e164":"+15045550123","country_code":1,"national_number":"5045550123","national":"(504) 555-0123","international":"+1 504-555-0123","region":"US","line_type":"fixed_line_or_mobile","valid":true,"extension":"","type":"mobile","label":"","is_primary":true,"notes":"","status":"active","consent":{"type":"none"},"created_at":"2026-12-03T20:03:11.665634Z","updated_at":"2026-12-03T20:03:11.665634Z","version":1},{"id":2,"uuid":"01a23d80-f6b5-73c8-8cff-cb6098239d04","customer_id":100000,"raw":"+1 212 555 0199","e164":"+12125550199","country_code":1,"national_number":"2125550199","national":"(212) 555-0199","international":"+1 212-555-0199","region":"US","line_type":"fixed_line_or_mobile","valid":true,"extension":"42","type":"work","label":"","is_primary":false,"notes":"","status":"active","consent":{"type":"none"},"created_at":"2026-12-03T20:03:11.668741Z","updated_at":"2026-12-03T20:03:11.668741Z","version":1}]}` + "\n"

// sampleID is sampleCustomer's id.
const sampleID = 100000

// serveBare serves bare's no-work handler at addr until ctx ends.
func serveBare(ctx context.Context, addr string, stdout io.Writer) error {
	b, err := startBare(addr, []byte(sampleCustomer), `"3"`)
	if err != nil {
		return fmt.Errorf("serve-bare: %w", err)
	}
	defer b.Close()
	// The script that started it reads the address from this line.
	if _, err := fmt.Fprintf(stdout, "bare server listening on %s: a fixed %d-byte get-customer answer\n", b.url, len(sampleCustomer)); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// runBareURL is scenario bare against the --serve-bare server at
// o.bareURL: no phonebook server, no setup; the customers picked are ids
// the bare server answers all alike.
func runBareURL(ctx context.Context, o *options, hc *http.Client, stdout, stderr io.Writer) error {
	body, _, err := fetchRaw(ctx, hc, o.bareURL, o.key, "/v1/customers/"+strconv.Itoa(sampleID))
	if err != nil {
		return fmt.Errorf("setup: --bare-url: %w", err)
	}
	needle := `"id":` + strconv.Itoa(sampleID) + `,`
	if !strings.Contains(string(body), needle) {
		return fmt.Errorf("setup: --bare-url: the answer of %s holds no %s: is it phonebook-load --serve-bare?", o.bareURL, needle)
	}
	f := &fixture{bareBody: body, bareNeedle: needle}
	for i := range o.customers {
		f.targets = append(f.targets, newTarget(strconv.Itoa(sampleID+i)))
	}
	rt, err := newRawTarget(o.bareURL, "")
	if err != nil {
		return err
	}
	if o.key != "" {
		rt, err = newRawTarget(o.bareURL, "Bearer "+o.key)
		if err != nil {
			return err
		}
	}
	s := newScenarios(nil, f, rt, o)
	s.bareNeedle = needle
	defer s.Close()
	st, err := Run(ctx, Config{
		Concurrency: o.concurrency, Duration: o.duration, Requests: o.requests,
		Warmup: o.warmup, Seed: o.seed, Classify: classify,
	}, s.bareGet)
	if err != nil {
		return err
	}
	ro := *o
	ro.url = o.bareURL
	rep := newReport(&ro, st, len(f.targets), len(body))
	rep.BareExternal = true
	return printReport(o, rep, st, stdout, stderr)
}
