package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/phonebook/phonebook"
)

// Headers of a webhook request besides Phonebook-Signature.
const (
	EventIDHeader   = "Phonebook-Event-Id"
	EventTypeHeader = "Phonebook-Event-Type"
	// UserAgent names the sender; receivers may route or filter on it.
	UserAgent = "phonebook-webhooks/1"
)

// maxAttemptError is the longest error text recorded for an attempt.
const maxAttemptError = 200

// DelivererOptions tune a Deliverer. Zero values take the defaults.
type DelivererOptions struct {
	// Workers is how many requests are in flight at once (default 4).
	Workers int
	// Poll is the wait between claims when nothing was due (default
	// 500 ms). A finished delivery wakes the Deliverer at once: the next
	// event of that customer may be due.
	Poll time.Duration
	// Lease is how long a claimed delivery is held for its attempt
	// before another worker (on any node) may take it (default 30 s). It
	// is raised to at least twice Timeout, so an attempt in flight is
	// never made a second time.
	Lease time.Duration
	// Timeout bounds one request, response included (default 10 s).
	Timeout time.Duration
	// Client sends the requests; the default follows no redirects (a 3xx
	// is a failed attempt, like any status other than 2xx).
	Client *http.Client
	// Now dates signatures and attempts; defaults to time.Now.
	Now func() time.Time
}

// Deliverer POSTs the outbox's webhook deliveries: it claims due
// deliveries from the service, signs and sends each, and records every
// attempt; the service schedules retries with exponential backoff for up
// to phonebook.DeliveryWindow. Any number of Deliverers may run, on one
// node or many: a claimed delivery is leased to one of them, and one
// customer's events reach one webhook in order.
type Deliverer struct {
	log    *slog.Logger
	svc    *phonebook.Service
	opts   DelivererOptions
	client *http.Client
	wake   chan struct{}
}

// NewDeliverer returns a Deliverer of svc's deliveries; Run starts it.
func NewDeliverer(log *slog.Logger, svc *phonebook.Service, opts DelivererOptions) *Deliverer {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	opts.Lease = max(opts.Lease, 2*opts.Timeout)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &Deliverer{log: log, svc: svc, opts: opts, client: client, wake: make(chan struct{}, 1)}
}

// Run delivers until ctx is cancelled, then cancels the requests in flight
// (recording them as failed attempts, retried later), waits for its
// workers and returns nil. Store errors are logged and retried.
func (d *Deliverer) Run(ctx context.Context) error {
	slots := make(chan struct{}, d.opts.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	<-timer.C
	defer timer.Stop()
	wait := func(dur time.Duration, wakeable bool) bool {
		timer.Reset(dur)
		defer func() {
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}()
		var wake chan struct{}
		if wakeable {
			wake = d.wake
		}
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
		case <-wake:
		}
		return true
	}
	failures := 0
	for {
		// One free worker at least, then every other free one: claim no
		// more than can start at once, so no lease runs down in a queue.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		free := 1
	fill:
		for free < d.opts.Workers {
			select {
			case slots <- struct{}{}:
				free++
			default:
				break fill
			}
		}
		claimed, err := d.svc.ClaimDeliveries(ctx, d.opts.Lease, free)
		if err != nil {
			for range free {
				<-slots
			}
			if ctx.Err() != nil {
				return nil
			}
			failures++
			d.log.Warn("claiming webhook deliveries", "err", err, "failures", failures)
			if !wait(min(d.opts.Poll<<min(failures, 6), 30*time.Second), false) {
				return nil
			}
			continue
		}
		failures = 0
		groups := partition(claimed)
		for range free - len(groups) {
			<-slots
		}
		for _, g := range groups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, c := range g {
					d.attempt(ctx, c)
				}
				<-slots
				select {
				case d.wake <- struct{}{}:
				default:
				}
			}()
		}
		if len(claimed) < free && !wait(d.opts.Poll, true) {
			return nil
		}
	}
}

// partition groups claimed deliveries by webhook and customer, keeping
// their order: each group is sent sequentially, groups in parallel. (The
// store hands out one delivery per webhook and customer at a time; this
// keeps the order even if it handed out more.)
func partition(claimed []*phonebook.ClaimedDelivery) [][]*phonebook.ClaimedDelivery {
	type key struct{ webhook, customer int64 }
	index := map[key]int{}
	var groups [][]*phonebook.ClaimedDelivery
	for _, c := range claimed {
		k := key{c.Delivery.WebhookID, c.Delivery.CustomerID}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], c)
	}
	return groups
}

// attempt makes one attempt of a claimed delivery and records it.
func (d *Deliverer) attempt(ctx context.Context, c *phonebook.ClaimedDelivery) {
	at := phonebook.DeliveryAttempt{N: c.Delivery.Attempts, At: d.opts.Now().UTC()}
	start := time.Now()
	code, err := d.post(ctx, c, at.At)
	at.DurationMS = time.Since(start).Milliseconds()
	at.StatusCode = code
	if err != nil {
		at.Error = truncate(err.Error(), maxAttemptError)
	}
	// The outcome is recorded even while shutting down: an interrupted
	// attempt is retried after its backoff instead of after the lease.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	log := d.log.With("webhook_id", c.Webhook.ID, "delivery_id", c.Delivery.ID, "event_id", c.Event.ID, "attempt", at.N)
	if rerr := d.svc.RecordAttempt(rctx, c.Delivery, at, err == nil); rerr != nil {
		log.Error("recording a webhook attempt", "err", rerr, "delivered", err == nil)
		return
	}
	if err != nil {
		log.Info("webhook attempt failed", "status", code, "err", at.Error, "duration_ms", at.DurationMS)
	} else {
		log.Debug("webhook delivered", "status", code, "duration_ms", at.DurationMS)
	}
}

// post sends the event to the webhook. A nil error means a 2xx answer.
func (d *Deliverer) post(ctx context.Context, c *phonebook.ClaimedDelivery, t time.Time) (int, error) {
	body, err := Marshal(c.Event)
	if err != nil {
		return 0, fmt.Errorf("encoding the event: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.Webhook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("bad webhook URL: %w", unwrapURLError(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(SignatureHeader, Sign(c.Webhook.Secret, t, body))
	req.Header.Set(EventIDHeader, c.Event.ID)
	req.Header.Set(EventTypeHeader, c.Event.Type)
	res, err := d.client.Do(req)
	switch {
	case err != nil && ctx.Err() != nil:
		return 0, errors.New("canceled: the server was shutting down")
	case err != nil && errors.Is(rctx.Err(), context.DeadlineExceeded):
		return 0, fmt.Errorf("timeout: no answer within %v", d.opts.Timeout)
	case err != nil:
		return 0, unwrapURLError(err)
	}
	defer res.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, maxAttemptError))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // lets the connection be reused
	if res.StatusCode >= 200 && res.StatusCode <= 299 {
		return res.StatusCode, nil
	}
	msg := "HTTP " + strconv.Itoa(res.StatusCode)
	if s := printable(snippet); s != "" {
		msg += ": " + s
	}
	return res.StatusCode, errors.New(msg)
}

// unwrapURLError drops net/http's "Post \"<url>\": " prefix: the URL is
// known, and it would crowd out the cause in 200 characters.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// printable returns s as one trimmed line of valid, printable UTF-8.
func printable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
