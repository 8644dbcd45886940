package events

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	// Resolve looks up the addresses of a webhook's host name before each
	// connection (default: the system resolver). Tests set it to play DNS,
	// a rebinding name among others. Every address it returns is checked
	// against the service's WebhookPolicy as the connection is made.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// WrapTransport, when set, wraps the deliverer's transport (say, to
	// mark or count requests). The wrapped transport still makes every
	// connection, so the destination checks hold.
	WrapTransport func(http.RoundTripper) http.RoundTripper
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
	policy phonebook.WebhookPolicy
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
	if opts.Resolve == nil {
		opts.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	policy := svc.WebhookPolicy()
	g := &guard{policy: policy, resolve: opts.Resolve}
	g.dialer = &net.Dialer{KeepAlive: 30 * time.Second, Control: g.control}
	var transport http.RoundTripper = &http.Transport{
		// No proxy from the environment: a proxy would make the
		// connection (and its address check) on our behalf.
		Proxy:                 nil,
		DialContext:           g.dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if opts.WrapTransport != nil {
		transport = opts.WrapTransport(transport)
	}
	client := &http.Client{
		Transport: transport,
		// Redirects are not followed: a 3xx is a failed attempt, and no
		// Location can lead a delivery somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Deliverer{log: log, svc: svc, opts: opts, policy: policy, client: client, wake: make(chan struct{}, 1)}
}

// forbiddenError is a destination the WebhookPolicy refuses: the URL, or
// an address its host resolved to.
type forbiddenError struct{ why string }

func (e *forbiddenError) Error() string { return "destination forbidden: " + e.why }

// guard makes the deliverer's connections: it resolves the host itself
// and dials each address through a dialer whose Control hook refuses every
// address the policy forbids, after resolution and before any packet is
// sent. It runs for every connection of every attempt, so a name that
// resolves elsewhere later (DNS rebinding) is checked again.
type guard struct {
	policy  phonebook.WebhookPolicy
	resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	dialer  *net.Dialer
}

// control refuses a connection to a forbidden address; address is the
// resolved ip:port the socket is about to connect to.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &forbiddenError{why: "the address cannot be checked"}
	}
	if class, no := g.policy.AddrForbidden(ap.Addr()); no {
		return &forbiddenError{why: "the host is a " + class + " address"}
	}
	return nil
}

// dial resolves addr's host and connects to the first of its addresses
// that is allowed and answers.
func (g *guard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("webhook address %q: %w", addr, err)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = g.resolve(ctx, host); err != nil {
		return nil, err
	} else if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	var forbidden, last error
	for _, a := range addrs {
		c, err := g.dialer.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		var fe *forbiddenError
		if errors.As(err, &fe) {
			if forbidden == nil {
				forbidden = fe
			}
			continue
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	if last != nil {
		return nil, last
	}
	return nil, forbidden
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
	code, reason, msg := d.post(ctx, c, at.At)
	at.DurationMS = time.Since(start).Milliseconds()
	at.StatusCode = code
	at.Reason = reason
	at.Error = truncate(msg, maxAttemptError)
	ok := reason == ""
	// The outcome is recorded even while shutting down: an interrupted
	// attempt is retried after its backoff instead of after the lease.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	log := d.log.With("webhook_id", c.Webhook.ID, "delivery_id", c.Delivery.ID, "event_id", c.Event.ID, "attempt", at.N)
	if rerr := d.svc.RecordAttempt(rctx, c.Delivery, at, ok); rerr != nil {
		log.Error("recording a webhook attempt", "err", rerr, "delivered", ok)
		return
	}
	if !ok {
		// The text may hold the start of the receiver's answer: it is
		// the tenant's to read, and the operator's at DEBUG only.
		log.Info("webhook attempt failed", "status", code, "reason", reason, "duration_ms", at.DurationMS)
		log.Debug("webhook attempt failed: detail", "error", at.Error)
	} else {
		log.Debug("webhook delivered", "status", code, "duration_ms", at.DurationMS)
	}
}

// post sends the event to the webhook. It returns the receiver's status
// (0 when there was no answer) and, for a failed attempt, a reason (one
// of phonebook's Reason* values; "" for a 2xx) and a short text.
func (d *Deliverer) post(ctx context.Context, c *phonebook.ClaimedDelivery, t time.Time) (code int, reason, msg string) {
	// The URL is checked again on every attempt: a webhook stored before
	// the policy (or under a looser one) is refused without a connection.
	if _, err := d.policy.CheckWebhookURL(c.Webhook.URL); err != nil {
		return 0, phonebook.ReasonDestinationForbidden, "destination forbidden: " + phonebook.ErrorMessage(err)
	}
	body, err := Marshal(c.Event)
	if err != nil {
		return 0, phonebook.ReasonNetwork, "encoding the event failed"
	}
	rctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.Webhook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, phonebook.ReasonDestinationForbidden, "bad webhook URL"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(SignatureHeader, Sign(c.Webhook.Secret, t, body))
	req.Header.Set(EventIDHeader, c.Event.ID)
	req.Header.Set(EventTypeHeader, c.Event.Type)
	res, err := d.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, phonebook.ReasonCanceled, "canceled: the server was shutting down"
		}
		reason, msg := classify(unwrapURLError(err))
		if reason == phonebook.ReasonTimeout || errors.Is(rctx.Err(), context.DeadlineExceeded) {
			return 0, phonebook.ReasonTimeout, fmt.Sprintf("timeout: no answer within %v", d.opts.Timeout)
		}
		return 0, reason, msg
	}
	defer res.Body.Close()
	// Only an allowed destination ever answers: the snippet is the
	// receiver's own words, capped.
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, maxAttemptError))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // lets the connection be reused
	if res.StatusCode >= 200 && res.StatusCode <= 299 {
		return res.StatusCode, "", ""
	}
	msg = "HTTP " + strconv.Itoa(res.StatusCode)
	if res.StatusCode >= 300 && res.StatusCode <= 399 {
		msg += " (redirects are not followed)"
	}
	if s := printable(snippet); s != "" {
		msg += ": " + s
	}
	return res.StatusCode, phonebook.ReasonHTTPStatus, msg
}

// classify names why a request got no answer, with a short text that
// holds no address of this server's network.
func classify(err error) (reason, msg string) {
	var (
		fe   *forbiddenError
		dns  *net.DNSError
		ne   net.Error
		cv   *tls.CertificateVerificationError
		rh   tls.RecordHeaderError
		al   tls.AlertError
		ua   x509.UnknownAuthorityError
		he   x509.HostnameError
		ci   x509.CertificateInvalidError
		oe   *net.OpError
		text = err.Error()
	)
	if errors.As(err, &oe) && oe.Err != nil {
		text = oe.Err.Error() // without "dial tcp <local>-><remote>"
	}
	switch {
	case errors.As(err, &fe):
		return phonebook.ReasonDestinationForbidden, fe.Error()
	case errors.As(err, &dns):
		if dns.IsTimeout {
			return phonebook.ReasonTimeout, "timeout: looking up the host name"
		}
		return phonebook.ReasonDNS, "dns: the host name does not resolve"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return phonebook.ReasonTimeout, "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return phonebook.ReasonConnectionRefused, "connection refused"
	case errors.As(err, &cv), errors.As(err, &rh), errors.As(err, &al), errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci),
		strings.Contains(text, "tls: "):
		return phonebook.ReasonTLS, text
	}
	return phonebook.ReasonNetwork, text
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
