package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/httpapi"
)

// newEnvPolicy is newEnv with the service under webhook policy p, set
// before the server starts.
func newEnvPolicy(t *testing.T, p phonebook.WebhookPolicy) *env {
	t.Helper()
	e := newEnv(t)
	e.srv.Close()
	e.svc.SetWebhookPolicy(p)
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.api = httpapi.NewServer(log, e.svc, httpapi.Options{})
	e.srv = httptest.NewServer(e.api)
	return e
}

// TestWebhookCreateForbiddenURL: under the default policy, webhooks to
// internal destinations (the SSRF targets, in every notation) are
// 422 url_forbidden on field url, and none is stored; public receivers are
// accepted.
func TestWebhookCreateForbiddenURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	forbidden := []string{
		"http://127.0.0.1:8080/hook",
		"http://127.0.0.1/",
		"http://localhost:8080/hook",
		"http://localhost./hook",
		"http://api.localhost/hook",
		"http://169.254.169.254/latest/meta-data/",
		"http://metadata.google.internal/computeMetadata/v1/",
		"http://10.0.0.5/",
		"http://172.16.0.1/",
		"http://192.168.1.1/",
		"http://100.64.0.1/",
		"http://0.0.0.0:8080/",
		"http://224.0.0.1/",
		"http://255.255.255.255/",
		"http://[::1]/",
		"http://[::]/",
		"http://[fe80::1]/",
		"http://[fd00::1]/",
		"http://[::ffff:127.0.0.1]/",
		"http://[::ffff:169.254.169.254]/",
		"http://[64:ff9b::a9fe:a9fe]/",
		"http://[2002:7f00:1::]/",
		"http://2130706433/",
		"http://0x7f000001/",
		"http://0x7f.1/",
		"http://017700000001/",
		"http://127.1/",
		"http://0177.0.0.1/",
		"http://user:pw@127.0.0.1/",
		"http://intranet/",
		"http://printer.local/",
	}
	for _, u := range forbidden {
		status, h, body := e.do(t, "POST", "/v1/webhooks", a.admin, obj{"url": u})
		wantProblem(t, "POST /v1/webhooks "+u, status, h, body, http.StatusUnprocessableEntity, phonebook.ECodeURLForbidden, "url")
	}
	if got := len(list(e.MustGet(t, a.admin, "/v1/webhooks"), "data")); got != 0 {
		t.Errorf("after forbidden creates: got %d webhooks, want none", got)
	}
	for _, u := range []string{"https://example.com/hook", "http://93.184.216.34:8080/in", "https://[2606:4700:4700::1111]/in"} {
		e.mustDo(t, http.StatusCreated, "POST", "/v1/webhooks", a.admin, obj{"url": u})
	}
}

// TestWebhookCreatePolicySettings: AllowPrivate accepts on-premise
// receivers (still not cloud metadata); RequireHTTPS refuses http.
func TestWebhookCreatePolicySettings(t *testing.T) {
	t.Parallel()
	t.Run("AllowPrivate", func(t *testing.T) {
		t.Parallel()
		e := newEnvPolicy(t, phonebook.WebhookPolicy{AllowPrivate: true})
		a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
		for _, u := range []string{"http://127.0.0.1:8080/hook", "http://10.0.0.5/", "http://[::1]:9000/", "http://hooks.internal/in"} {
			e.mustDo(t, http.StatusCreated, "POST", "/v1/webhooks", a.admin, obj{"url": u})
		}
		for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://0.0.0.0/", "http://224.0.0.1/"} {
			status, h, body := e.do(t, "POST", "/v1/webhooks", a.admin, obj{"url": u})
			wantProblem(t, "POST /v1/webhooks "+u, status, h, body, http.StatusUnprocessableEntity, phonebook.ECodeURLForbidden, "url")
		}
	})
	t.Run("RequireHTTPS", func(t *testing.T) {
		t.Parallel()
		e := newEnvPolicy(t, phonebook.WebhookPolicy{RequireHTTPS: true})
		a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
		status, h, body := e.do(t, "POST", "/v1/webhooks", a.admin, obj{"url": "http://example.com/hook"})
		wantProblem(t, "POST /v1/webhooks http", status, h, body, http.StatusUnprocessableEntity, phonebook.ECodeURLForbidden, "url")
		e.mustDo(t, http.StatusCreated, "POST", "/v1/webhooks", a.admin, obj{"url": "https://example.com/hook"})
	})
}

// TestWebhookLimit: a tenant has at most MaxPerTenant webhooks (20 by
// default); one more is 422 webhook_limit, other tenants are not counted,
// and a delete makes room again.
func TestWebhookLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		policy phonebook.WebhookPolicy
		max    int
	}{
		{"default", phonebook.WebhookPolicy{}, phonebook.DefaultMaxWebhooksPerTenant},
		{"setting", phonebook.WebhookPolicy{MaxPerTenant: 3}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvPolicy(t, tc.policy)
			a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
			b := e.MustTenant(t, phonebook.TenantInput{Slug: "other"})
			var first map[string]any
			for i := range tc.max {
				_, w := e.mustDo(t, http.StatusCreated, "POST", "/v1/webhooks", a.admin, obj{"url": fmt.Sprintf("https://example.com/hook/%d", i)})
				if i == 0 {
					first = w
				}
			}
			status, h, body := e.do(t, "POST", "/v1/webhooks", a.admin, obj{"url": "https://example.com/one-too-many"})
			wantProblem(t, "POST /v1/webhooks beyond the limit", status, h, body, http.StatusUnprocessableEntity, phonebook.ECodeWebhookLimit, "")
			if got := len(list(e.MustGet(t, a.admin, "/v1/webhooks"), "data")); got != tc.max {
				t.Errorf("webhooks after the refused create: got %d, want %d", got, tc.max)
			}
			e.mustDo(t, http.StatusCreated, "POST", "/v1/webhooks", b.admin, obj{"url": "https://example.com/other"})
			e.mustDo(t, http.StatusNoContent, "DELETE", "/v1/webhooks/"+idOf(first), a.admin, nil)
			e.mustDo(t, http.StatusCreated, "POST", "/v1/webhooks", a.admin, obj{"url": "https://example.com/after-delete"})
		})
	}
}

// TestWebhookEventTypesDeduplicated: a type given twice counts once, in
// first-seen order; "*" among others is every type.
func TestWebhookEventTypesDeduplicated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"phone.deleted", "phone.created", "phone.deleted", "phone.created"}, `["phone.deleted","phone.created"]`},
		{[]string{"phone.created", "*", "phone.deleted"}, `["*"]`},
		{[]string{"*", "*"}, `["*"]`},
		{[]string{}, `["*"]`},
	} {
		_, w := e.mustDo(t, http.StatusCreated, "POST", "/v1/webhooks", a.admin, obj{"url": "https://example.com/hook", "event_types": tc.in})
		if got := str(w, "event_types"); got != tc.want {
			t.Errorf("event_types %q: created %s, want %s", tc.in, got, tc.want)
		}
		if got := str(e.MustGet(t, a.admin, "/v1/webhooks/"+idOf(w)), "event_types"); got != tc.want {
			t.Errorf("event_types %q: stored %s, want %s", tc.in, got, tc.want)
		}
	}
	status, h, body := e.do(t, "POST", "/v1/webhooks", a.admin, obj{"url": "https://example.com/hook", "event_types": []string{"phone.created", "phone.eaten"}})
	wantProblem(t, "POST /v1/webhooks unknown type", status, h, body, http.StatusUnprocessableEntity, phonebook.ECodeValidation, "event_types")
}

// TestWebhookCreateNameResolvingInside: with a create-time resolver, a
// host name that resolves (in part) to an internal address is refused at
// create time; a name that does not resolve, or not in time, is accepted
// (the deliverer checks its addresses at every connection).
func TestWebhookCreateNameResolvingInside(t *testing.T) {
	t.Parallel()
	answers := map[string][]netip.Addr{
		"inside.example.com":   {netip.MustParseAddr("10.0.0.5")},
		"metadata.example.com": {netip.MustParseAddr("169.254.169.254")},
		"mapped.example.com":   {netip.MustParseAddr("::ffff:127.0.0.1")},
		"mixed.example.com":    {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("127.0.0.1")},
		"public.example.com":   {netip.MustParseAddr("93.184.216.34")},
	}
	resolve := func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "slow.example.com" {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		if a, ok := answers[host]; ok {
			return a, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	e := newEnvPolicy(t, phonebook.WebhookPolicy{Resolve: resolve})
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	for _, u := range []string{"http://inside.example.com/hook", "https://metadata.example.com/", "http://mapped.example.com:8080/", "http://MIXED.example.com./hook"} {
		status, h, body := e.do(t, "POST", "/v1/webhooks", a.admin, obj{"url": u})
		wantProblem(t, "POST /v1/webhooks "+u, status, h, body, http.StatusUnprocessableEntity, phonebook.ECodeURLForbidden, "url")
	}
	for _, u := range []string{"https://public.example.com/hook", "https://nxdomain.example.com/hook"} {
		e.mustDo(t, http.StatusCreated, "POST", "/v1/webhooks", a.admin, obj{"url": u})
	}
	start := time.Now()
	e.mustDo(t, http.StatusCreated, "POST", "/v1/webhooks", a.admin, obj{"url": "https://slow.example.com/hook"})
	if took := time.Since(start); took > phonebook.WebhookLookupTimeout+2*time.Second {
		t.Errorf("create with a lookup that hangs took %v, want about %v", took, phonebook.WebhookLookupTimeout)
	}
}
