package events_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/events"
)

// countingListener is a TCP listener on 127.0.0.1 that counts the
// connections it accepts and closes them: it proves whether the deliverer
// connected at all.
type countingListener struct {
	ln      net.Listener
	accepts atomic.Int64
}

func newCountingListener(t *testing.T) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cl.accepts.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return cl
}

func (cl *countingListener) port() string {
	return strconv.Itoa(cl.ln.Addr().(*net.TCPAddr).Port)
}

// fakeDNS answers every name from a table, counting lookups; a name it
// does not know does not exist.
type fakeDNS struct {
	mu      sync.Mutex
	answers map[string][]netip.Addr
	lookups map[string]int
}

func (f *fakeDNS) resolve(_ context.Context, host string) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lookups == nil {
		f.lookups = map[string]int{}
	}
	f.lookups[host]++
	if a, ok := f.answers[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (f *fakeDNS) count(host string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups[host]
}

// lastAttempt waits for the webhook's first delivery to have n recorded
// attempts and returns the last.
func lastAttempt(t *testing.T, ctx context.Context, svc *phonebook.Service, webhookID int64, n int) phonebook.DeliveryAttempt {
	t.Helper()
	waitFor(t, 30*time.Second, "attempt "+strconv.Itoa(n), func() bool {
		ds := deliveries(t, ctx, svc, webhookID)
		return len(ds) > 0 && len(ds[0].AttemptLog) >= n && settled(ds)
	})
	log := deliveries(t, ctx, svc, webhookID)[0].AttemptLog
	return log[len(log)-1]
}

// TestWebhookDialHostnameResolvingInside: a host name that passes the
// create-time check but resolves to an internal address (DNS rebinding) is
// refused when the deliverer dials, at every attempt after a fresh lookup:
// the attempt shows destination_forbidden and status 0, and the listener
// at that address never sees a connection.
func TestWebhookDialHostnameResolvingInside(t *testing.T) {
	t.Parallel()
	clk := newClock()
	svc, _ := MustSQLite(t, clk.Now)
	svc.SetWebhookPolicy(phonebook.WebhookPolicy{}) // the default: private refused
	ctx := MustTenant(t, svc, "acme")
	cl := newCountingListener(t)
	dns := &fakeDNS{answers: map[string][]netip.Addr{
		"hooks.example.com": {netip.MustParseAddr("127.0.0.1")},
		"mixed.example.com": {netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("::ffff:127.0.0.1"), netip.MustParseAddr("169.254.169.254")},
	}}
	plain, _ := MustWebhook(t, ctx, svc, "http://hooks.example.com:"+cl.port()+"/hook")
	mixed, _ := MustWebhook(t, ctx, svc, "http://mixed.example.com:"+cl.port()+"/hook")
	MustCustomer(t, ctx, svc, "Rebound")
	startDeliverer(t, events.NewDeliverer(testLog(t), svc, events.DelivererOptions{Poll: 5 * time.Millisecond, Resolve: dns.resolve}))

	for _, wh := range []*phonebook.Webhook{plain, mixed} {
		for n := 1; n <= 2; n++ {
			a := lastAttempt(t, ctx, svc, wh.ID, n)
			if a.Reason != phonebook.ReasonDestinationForbidden || a.StatusCode != 0 || !strings.Contains(a.Error, "destination forbidden") {
				t.Errorf("%s attempt %d: got reason %q status %d error %q, want destination_forbidden, 0", wh.URL, n, a.Reason, a.StatusCode, a.Error)
			}
			if strings.Contains(a.Error, "127.0.0.1") || strings.Contains(a.Error, "10.0.0.1") {
				t.Errorf("%s attempt %d: the error names the resolved address: %q", wh.URL, n, a.Error)
			}
			if n == 1 {
				clk.Advance(time.Hour) // the retry is due
			}
		}
	}
	if got := cl.accepts.Load(); got != 0 {
		t.Errorf("connections accepted by the internal listener: got %d, want 0", got)
	}
	if got := dns.count("hooks.example.com"); got < 2 {
		t.Errorf("lookups of hooks.example.com: got %d, want one per attempt (2+)", got)
	}
}

// TestWebhookStoredInternalURLRefused: a webhook stored while private
// destinations were allowed is refused, without a connection, by a
// deliverer running under the default policy.
func TestWebhookStoredInternalURLRefused(t *testing.T) {
	t.Parallel()
	svc, _ := MustSQLite(t, nil) // AllowPrivate: the webhook can be made
	ctx := MustTenant(t, svc, "acme")
	cl := newCountingListener(t)
	wh, _ := MustWebhook(t, ctx, svc, "http://127.0.0.1:"+cl.port()+"/hook")
	MustCustomer(t, ctx, svc, "Stored Before")
	svc.SetWebhookPolicy(phonebook.WebhookPolicy{}) // the operator turned private destinations off
	startDeliverer(t, events.NewDeliverer(testLog(t), svc, events.DelivererOptions{Poll: 5 * time.Millisecond}))

	a := lastAttempt(t, ctx, svc, wh.ID, 1)
	if a.Reason != phonebook.ReasonDestinationForbidden || a.StatusCode != 0 {
		t.Errorf("attempt: got reason %q status %d error %q, want destination_forbidden, 0", a.Reason, a.StatusCode, a.Error)
	}
	if got := cl.accepts.Load(); got != 0 {
		t.Errorf("connections accepted: got %d, want 0", got)
	}
}

// TestWebhookRedirectNotFollowed: a receiver's redirect, to an internal
// address or anywhere, is not followed: the attempt fails with
// http_status and its 3xx status, and the redirect's target sees nothing.
func TestWebhookRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	svc, _ := MustSQLite(t, nil)
	ctx := MustTenant(t, svc, "acme")
	inside := newCountingListener(t)
	for _, target := range []string{"http://127.0.0.1:" + inside.port() + "/admin", "http://169.254.169.254/latest/meta-data/"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target, http.StatusTemporaryRedirect)
		}))
		t.Cleanup(srv.Close)
		wh, _ := MustWebhook(t, ctx, svc, srv.URL+"/hook")
		MustCustomer(t, ctx, svc, "Redirected")
		d := events.NewDeliverer(testLog(t), svc, events.DelivererOptions{Poll: 5 * time.Millisecond})
		rctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(rctx) }()
		a := lastAttempt(t, ctx, svc, wh.ID, 1)
		cancel()
		<-done
		if a.Reason != phonebook.ReasonHTTPStatus || a.StatusCode != http.StatusTemporaryRedirect || !strings.Contains(a.Error, "not followed") {
			t.Errorf("redirect to %s: got reason %q status %d error %q, want http_status 307, not followed", target, a.Reason, a.StatusCode, a.Error)
		}
	}
	if got := inside.accepts.Load(); got != 0 {
		t.Errorf("connections accepted by the redirect target: got %d, want 0", got)
	}
}

// syncBuffer is a log sink safe for the deliverer's workers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWebhookAttemptReasons: each kind of failure is recorded with its
// classified reason, the receiver's status when there is one, and a short
// text; the receiver's answer is kept (capped) for the tenant but never
// written to the log at INFO.
func TestWebhookAttemptReasons(t *testing.T) {
	t.Parallel()
	svc, _ := MustSQLite(t, nil)
	ctx := MustTenant(t, svc, "acme")

	closed := newCountingListener(t)
	closedPort := closed.port()
	closed.ln.Close() // nothing listens: connection refused
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(hang) })
	const secretBody = "internal-detail-from-the-receiver "
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(strings.Repeat(secretBody, 40)))
	}))
	t.Cleanup(failing.Close)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(tlsSrv.Close)
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(ok.Close)

	cases := []struct {
		url    string
		reason string
		status int
		text   string
	}{
		{"http://127.0.0.1:" + closedPort + "/hook", phonebook.ReasonConnectionRefused, 0, "connection refused"},
		{slow.URL, phonebook.ReasonTimeout, 0, "timeout"},
		{failing.URL, phonebook.ReasonHTTPStatus, http.StatusInternalServerError, "HTTP 500: " + secretBody},
		{"http://no-such-host.example.com/hook", phonebook.ReasonDNS, 0, "dns"},
		{tlsSrv.URL, phonebook.ReasonTLS, 0, "certificate"},
		{ok.URL, "", http.StatusNoContent, ""},
	}
	hooks := make([]*phonebook.Webhook, len(cases))
	for i, tc := range cases {
		hooks[i], _ = MustWebhook(t, ctx, svc, tc.url)
	}
	MustCustomer(t, ctx, svc, "Every Failure")
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	dns := &fakeDNS{} // knows no name
	startDeliverer(t, events.NewDeliverer(log, svc, events.DelivererOptions{
		Workers: len(cases), Poll: 5 * time.Millisecond, Timeout: 2 * time.Second, Resolve: dns.resolve,
	}))
	for i, tc := range cases {
		a := lastAttempt(t, ctx, svc, hooks[i].ID, 1)
		if a.Reason != tc.reason || a.StatusCode != tc.status || !strings.Contains(a.Error, tc.text) {
			t.Errorf("%s: got reason %q status %d error %q, want %q %d with %q", tc.url, a.Reason, a.StatusCode, a.Error, tc.reason, tc.status, tc.text)
		}
		if len(a.Error) > 200 {
			t.Errorf("%s: error of %d bytes, want at most 200", tc.url, len(a.Error))
		}
	}
	out := logs.String()
	if strings.Contains(out, strings.TrimSpace(secretBody)) {
		t.Errorf("the INFO log holds the receiver's answer:\n%s", out)
	}
	for _, want := range []string{"reason=http_status", "reason=connection_refused", "reason=timeout", "reason=dns", "reason=tls"} {
		if !strings.Contains(out, want) {
			t.Errorf("the INFO log has no %q:\n%s", want, out)
		}
	}
}

// TestWebhookNoProxyFromEnvironment: HTTP_PROXY is not used for webhook
// traffic, so no proxy can make the connection past the address check.
func TestWebhookNoProxyFromEnvironment(t *testing.T) {
	proxy := newCountingListener(t)
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:"+proxy.port())
	t.Setenv("http_proxy", "http://127.0.0.1:"+proxy.port())
	svc, _ := MustSQLite(t, nil)
	ctx := MustTenant(t, svc, "acme")
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	// A name, not 127.0.0.1: Go never proxies loopback addresses anyway.
	dns := &fakeDNS{answers: map[string][]netip.Addr{"receiver.example.com": {netip.MustParseAddr("127.0.0.1")}}}
	wh, _ := MustWebhook(t, ctx, svc, "http://receiver.example.com:"+strings.TrimPrefix(srv.URL, "http://127.0.0.1:")+"/hook")
	MustCustomer(t, ctx, svc, "No Proxy")
	startDeliverer(t, events.NewDeliverer(testLog(t), svc, events.DelivererOptions{Poll: 5 * time.Millisecond, Resolve: dns.resolve}))
	a := lastAttempt(t, ctx, svc, wh.ID, 1)
	if a.Reason != "" || rc.count() != 1 {
		t.Errorf("attempt: got reason %q error %q, %d requests received; want delivered directly", a.Reason, a.Error, rc.count())
	}
	if got := proxy.accepts.Load(); got != 0 {
		t.Errorf("connections to the proxy: got %d, want 0", got)
	}
}
