package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/events"
)

// TestWebhookDelivererRetriesUntilAccepted: a receiver that fails the first
// three attempts gets the event on the fourth, with a valid signature; the
// same event (id and body) every time; every attempt recorded; each retry
// waits for its backoff.
func TestWebhookDelivererRetriesUntilAccepted(t *testing.T) {
	t.Parallel()
	clk := newClock()
	svc, _ := MustSQLite(t, clk.Now)
	ctx := MustTenant(t, svc, "acme")
	rc := &receiver{respond: func(n int, _ *received) int {
		if n <= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	wh, secret := MustWebhook(t, ctx, svc, srv.URL+"/hooks/phonebook")
	c := MustCustomer(t, ctx, svc, "Ada Lovelace")
	startDeliverer(t, events.NewDeliverer(testLog(t), svc, events.DelivererOptions{Workers: 2, Poll: 5 * time.Millisecond}))

	for n := 1; n <= 4; n++ {
		waitFor(t, 30*time.Second, fmt.Sprintf("attempt %d to be recorded", n), func() bool {
			ds := deliveries(t, ctx, svc, wh.ID)
			return len(ds) == 1 && len(ds[0].AttemptLog) == n && settled(ds)
		})
		if n == 4 {
			break
		}
		d := deliveries(t, ctx, svc, wh.ID)[0]
		if got, want := d.Status, phonebook.DeliveryPending; got != want {
			t.Fatalf("after failed attempt %d: status %q, want %q", n, got, want)
		}
		wantNext := clk.Now().Add(phonebook.Backoff(n)).Truncate(time.Microsecond)
		if d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(wantNext) {
			t.Fatalf("after failed attempt %d: next attempt at %v, want %v (now + Backoff(%d))", n, d.NextAttemptAt, wantNext, n)
		}
		// Nothing happens before the backoff has passed ...
		time.Sleep(30 * time.Millisecond)
		if got, want := rc.count(), n; got != want {
			t.Fatalf("requests before the backoff of attempt %d passed: got %d, want %d", n, got, want)
		}
		// ... and the next attempt comes once it has.
		clk.Advance(phonebook.Backoff(n))
	}

	d := deliveries(t, ctx, svc, wh.ID)[0]
	if got, want := d.Status, phonebook.DeliveryDelivered; got != want {
		t.Errorf("status: got %q, want %q", got, want)
	}
	if got, want := d.Attempts, 4; got != want {
		t.Errorf("attempts: got %d, want %d", got, want)
	}
	var codes []int
	for i, a := range d.AttemptLog {
		codes = append(codes, a.StatusCode)
		if got, want := a.N, i+1; got != want {
			t.Errorf("attempt log %d: N = %d, want %d", i, got, want)
		}
		wantErr := fmt.Sprintf("HTTP 500: failure %d", i+1)
		if i == 3 {
			wantErr = ""
		}
		if got := a.Error; got != wantErr {
			t.Errorf("attempt %d error: got %q, want %q", i+1, got, wantErr)
		}
	}
	if got, want := codes, []int{500, 500, 500, 200}; !slices.Equal(got, want) {
		t.Errorf("attempt status codes: got %v, want %v", got, want)
	}

	history, err := svc.History(ctx, phonebook.CustomerRef{ID: c.ID}, nil, 0, 10)
	if err != nil || len(history) != 1 {
		t.Fatalf("history: %v, %v", history, err)
	}
	ev := history[0]
	reqs := rc.requests()
	if got, want := len(reqs), 4; got != want {
		t.Fatalf("requests received: got %d, want %d", got, want)
	}
	for i, r := range reqs {
		for h, want := range map[string]string{
			"Content-Type":          "application/json",
			"User-Agent":            "phonebook-webhooks/1",
			events.EventIDHeader:    ev.ID,
			events.EventTypeHeader:  phonebook.EventCustomerCreated,
			"X-Unexpected-Anything": "",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("request %d header %s: got %q, want %q", i+1, h, got, want)
			}
		}
		if got, want := string(r.Body), string(reqs[0].Body); got != want {
			t.Errorf("request %d body differs from the first:\ngot  %s\nwant %s", i+1, got, want)
		}
		if err := events.Verify(secret, r.Header.Get(events.SignatureHeader), r.Body, 5*time.Minute); err != nil {
			t.Errorf("request %d signature: %v", i+1, err)
		}
	}
	last := reqs[3]
	if err := events.Verify("whsec_someone_else_entirely", last.Header.Get(events.SignatureHeader), last.Body, 5*time.Minute); !errors.Is(err, events.ErrSignatureMismatch) {
		t.Errorf("Verify with another secret: got %v, want ErrSignatureMismatch", err)
	}
	p := last.Payload
	if p.ID != ev.ID || p.Type != phonebook.EventCustomerCreated || p.Tenant != "acme" || p.CustomerID != c.ID || !p.OccurredAt.Equal(ev.OccurredAt) {
		t.Errorf("payload: got %+v, want event %s of customer %d in acme at %v", p, ev.ID, c.ID, ev.OccurredAt)
	}
	var data struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(p.Data, &data); err != nil || data.ID != c.ID || data.Name != "Ada Lovelace" {
		t.Errorf("payload data: got %s (%v), want the customer", p.Data, err)
	}
	if got, want := string(p.Previous), "null"; got != want {
		t.Errorf("payload previous: got %s, want %s", got, want)
	}
}

// TestWebhookDelivererGivesUpThenRedelivers: past DeliveryWindow a
// delivery fails for good and is tried no more; a redelivery on request
// sends it again.
func TestWebhookDelivererGivesUpThenRedelivers(t *testing.T) {
	t.Parallel()
	clk := newClock()
	svc, _ := MustSQLite(t, clk.Now)
	ctx := MustTenant(t, svc, "acme")
	var up atomic.Bool
	rc := &receiver{respond: func(int, *received) int {
		if up.Load() {
			return http.StatusAccepted
		}
		return http.StatusServiceUnavailable
	}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	wh, _ := MustWebhook(t, ctx, svc, srv.URL)
	MustCustomer(t, ctx, svc, "Grace Hopper")
	startDeliverer(t, events.NewDeliverer(testLog(t), svc, events.DelivererOptions{Poll: 5 * time.Millisecond}))

	waitFor(t, 30*time.Second, "the first attempt", func() bool {
		ds := deliveries(t, ctx, svc, wh.ID)
		return len(ds[0].AttemptLog) == 1 && settled(ds)
	})
	clk.Advance(phonebook.DeliveryWindow + time.Hour)
	waitFor(t, 30*time.Second, "the delivery to fail", func() bool {
		ds := deliveries(t, ctx, svc, wh.ID)
		return ds[0].Status == phonebook.DeliveryFailed && settled(ds)
	})
	d := deliveries(t, ctx, svc, wh.ID)[0]
	if got, want := len(d.AttemptLog), 2; got != want {
		t.Errorf("attempts before giving up: got %d, want %d", got, want)
	}
	if d.NextAttemptAt != nil {
		t.Errorf("a failed delivery has a next attempt: %v", d.NextAttemptAt)
	}
	clk.Advance(time.Hour)
	time.Sleep(30 * time.Millisecond)
	if got, want := rc.count(), 2; got != want {
		t.Fatalf("requests after giving up: got %d, want %d", got, want)
	}

	up.Store(true)
	if _, err := svc.Redeliver(ctx, wh.ID, d.ID); err != nil {
		t.Fatalf("redeliver: %v", err)
	}
	waitFor(t, 30*time.Second, "the redelivery", func() bool {
		ds := deliveries(t, ctx, svc, wh.ID)
		return ds[0].Status == phonebook.DeliveryDelivered && settled(ds)
	})
	d = deliveries(t, ctx, svc, wh.ID)[0]
	if got, want := len(d.AttemptLog), 3; got != want {
		t.Errorf("attempts after the redelivery: got %d, want %d", got, want)
	}
	reqs := rc.requests()
	if got, want := reqs[2].Header.Get(events.EventIDHeader), reqs[0].Header.Get(events.EventIDHeader); got != want {
		t.Errorf("redelivered event id: got %s, want %s", got, want)
	}
}

// TestWebhookReceiverDownThenUp: while the receiver is down only the oldest
// event of each customer is tried (nothing overtakes it); once it is up,
// every event arrives, once, each customer's in order.
func TestWebhookReceiverDownThenUp(t *testing.T) {
	t.Parallel()
	clk := newClock()
	svc, _ := MustSQLite(t, clk.Now)
	ctx := MustTenant(t, svc, "acme")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: connection refused
	wh, secret := MustWebhook(t, ctx, svc, "http://"+addr+"/hook")

	// Changes of several customers, interleaved.
	const customers, phones = 5, 8
	var ids []int64
	for i := range customers {
		ids = append(ids, MustCustomer(t, ctx, svc, fmt.Sprintf("customer %d", i)).ID)
	}
	var firstPhone = map[int64]int64{}
	for j := range phones {
		for i, id := range ids {
			p := MustPhone(t, ctx, svc, id, fmt.Sprintf("+1 201 555 %02d%02d", i, j))
			if j == 0 {
				firstPhone[id] = p.ID
			}
		}
	}
	for _, id := range ids { // deleting the primary also promotes another
		if err := svc.DeletePhone(ctx, phonebook.CustomerRef{ID: id}, phonebook.CustomerRef{ID: firstPhone[id]}, 0); err != nil {
			t.Fatal(err)
		}
	}
	want := map[int64][]string{}
	total := 0
	for _, id := range ids {
		h, err := svc.History(ctx, phonebook.CustomerRef{ID: id}, nil, 0, phonebook.MaxPageLimit)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range h {
			want[id] = append(want[id], e.ID)
		}
		total += len(h)
	}

	startDeliverer(t, events.NewDeliverer(testLog(t), svc, events.DelivererOptions{Workers: 4, Poll: 5 * time.Millisecond}))
	const downRounds = 3
	for round := 1; round <= downRounds; round++ {
		waitFor(t, 30*time.Second, fmt.Sprintf("failed round %d", round), func() bool {
			ds := deliveries(t, ctx, svc, wh.ID)
			tried := 0
			for _, d := range ds {
				if d.Attempts == round {
					tried++
				}
			}
			return tried == customers && settled(ds)
		})
		ds := deliveries(t, ctx, svc, wh.ID)
		if got := len(ds); got != total {
			t.Fatalf("deliveries queued: got %d, want %d", got, total)
		}
		for _, d := range ds {
			if d.Attempts == 0 {
				continue
			}
			if d.EventID != want[d.CustomerID][0] {
				t.Fatalf("delivery of event %s (customer %d) was tried while an older one of its customer was pending", d.EventID, d.CustomerID)
			}
			if a := d.AttemptLog[len(d.AttemptLog)-1]; a.StatusCode != 0 || !strings.Contains(a.Error, "refused") {
				t.Errorf("attempt while down: got status %d error %q, want a refused connection", a.StatusCode, a.Error)
			}
		}
		if round < downRounds {
			clk.Advance(time.Hour)
		}
	}

	// Up again on the same address.
	rc := &receiver{}
	for i := 0; ; i++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		if i == 100 {
			t.Fatalf("listen again on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv := &http.Server{Handler: rc}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	clk.Advance(time.Hour)

	waitFor(t, 30*time.Second, "every delivery", func() bool {
		ds := deliveries(t, ctx, svc, wh.ID)
		for _, d := range ds {
			if d.Status != phonebook.DeliveryDelivered {
				return false
			}
		}
		return settled(ds)
	})
	got := map[int64][]string{}
	for _, r := range rc.requests() {
		got[r.Payload.CustomerID] = append(got[r.Payload.CustomerID], r.Payload.ID)
		if err := events.Verify(secret, r.Header.Get(events.SignatureHeader), r.Body, 5*time.Minute); err != nil {
			t.Errorf("event %s: signature: %v", r.Payload.ID, err)
		}
	}
	if got, want := rc.count(), total; got != want {
		t.Errorf("requests after recovery: got %d, want %d (one per event)", got, want)
	}
	for _, id := range ids {
		if !slices.Equal(got[id], want[id]) {
			t.Errorf("customer %d: events received\n%v\nwant, in order,\n%v", id, got[id], want[id])
		}
	}
	for _, d := range deliveries(t, ctx, svc, wh.ID) {
		wantAttempts := 1
		if d.EventID == want[d.CustomerID][0] {
			wantAttempts = downRounds + 1
		}
		if d.Attempts != wantAttempts {
			t.Errorf("delivery of %s: %d attempts, want %d", d.EventID, d.Attempts, wantAttempts)
		}
	}
	t.Logf("%d events of %d customers delivered in order after %d failed rounds", total, customers, downRounds)
}

// TestWebhookDelivererTimeoutAndShutdown: a receiver that does not answer
// within Timeout is a failed attempt; at shutdown, Run cancels the request
// in flight, records it and returns promptly.
func TestWebhookDelivererTimeoutAndShutdown(t *testing.T) {
	t.Parallel()
	clk := newClock()
	svc, _ := MustSQLite(t, clk.Now)
	ctx := MustTenant(t, svc, "acme")
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(hang) })
	wh, _ := MustWebhook(t, ctx, svc, srv.URL)
	MustCustomer(t, ctx, svc, "Slow Receiver")
	run := func(opts events.DelivererOptions) (cancel func(), done <-chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		ch := make(chan error, 1)
		go func() { ch <- events.NewDeliverer(testLog(t), svc, opts).Run(ctx) }()
		t.Cleanup(cancel)
		return cancel, ch
	}
	stop := func(cancel func(), done <-chan error) {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return within 5s of cancel")
		}
	}

	cancel, done := run(events.DelivererOptions{Poll: 5 * time.Millisecond, Timeout: 100 * time.Millisecond})
	waitFor(t, 30*time.Second, "a timed-out attempt", func() bool {
		ds := deliveries(t, ctx, svc, wh.ID)
		return len(ds[0].AttemptLog) == 1 && settled(ds)
	})
	stop(cancel, done)
	a := deliveries(t, ctx, svc, wh.ID)[0].AttemptLog[0]
	if !strings.HasPrefix(a.Error, "timeout") || a.DurationMS < 100 {
		t.Errorf("timed-out attempt: error %q after %d ms, want a timeout after at least 100 ms", a.Error, a.DurationMS)
	}

	cancel, done = run(events.DelivererOptions{Poll: 5 * time.Millisecond})
	clk.Advance(time.Hour)
	waitFor(t, 30*time.Second, "the second attempt to start", func() bool {
		return deliveries(t, ctx, svc, wh.ID)[0].Attempts == 2
	})
	time.Sleep(20 * time.Millisecond) // the request reaches the receiver
	start := time.Now()
	stop(cancel, done)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Run took %v to return after cancel with a request in flight", took)
	}
	ds := deliveries(t, ctx, svc, wh.ID)
	if !settled(ds) {
		t.Fatalf("the interrupted attempt was not recorded: %+v", ds[0])
	}
	a = ds[0].AttemptLog[1]
	if !strings.Contains(a.Error, "shutting down") || ds[0].Status != phonebook.DeliveryPending {
		t.Errorf("interrupted attempt: error %q, status %s; want a shutdown error and pending", a.Error, ds[0].Status)
	}
}
