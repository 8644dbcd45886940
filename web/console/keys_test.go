package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/web/console"
)

var (
	// The formats Ticket Evolution's Ruby gem checks before sending
	// anything (ticketevolution/ticketevolution-ruby,
	// lib/ticket_evolution/core/connection.rb: /^[a-zA-Z0-9]{32}$/ for the
	// token, /^\S{40}$/ for the secret).
	v9TokenRE  = regexp.MustCompile(`^[a-zA-Z0-9]{32}$`)
	v9SecretRE = regexp.MustCompile(`^\S{40}$`)

	newSecretRE  = regexp.MustCompile(`<code class="secret" id="new-key-secret">([^<]*)</code>`)
	newSigningRE = regexp.MustCompile(`<code class="secret" id="new-key-signing-secret">([^<]*)</code>`)
)

// createKey posts the Keys page's form as a browser does and returns the
// answer with the secrets the page shows.
func createKey(t *testing.T, u *user, form url.Values) (res *http.Response, page, secret, signing string) {
	t.Helper()
	_, _ = u.get("/console/keys")
	res, page = u.post("/console/keys", form)
	if m := newSecretRE.FindStringSubmatch(page); m != nil {
		secret = htmlUnescape(m[1])
	}
	if m := newSigningRE.FindStringSubmatch(page); m != nil {
		signing = htmlUnescape(m[1])
	}
	return res, page, secret, signing
}

func TestKeysCreate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		format    string
		scopes    []string
		v9        bool
		wantScope string
	}{
		{"v9", "v9", []string{phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite}, true, phonebook.ScopeCustomersWrite},
		{"standard", "standard", []string{phonebook.ScopeCustomersRead}, false, phonebook.ScopeCustomersRead},
		{"admin v9", "v9", []string{phonebook.ScopeAdmin}, true, phonebook.ScopeAdmin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, console.Options{})
			u := e.signedIn(t, e.a.admin)
			res, page, secret, signing := createKey(t, u, url.Values{"name": {"box office " + tc.name}, "format": {tc.format}, "scopes": tc.scopes})
			wantStatus(t, res, page, http.StatusCreated)
			wantContains(t, page, "Shown once", "box office "+tc.name)
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q: the page with the secret must not be cached", got)
			}
			if loc := res.Header.Get("Location"); loc != "" {
				t.Errorf("answered with a redirect to %q: the secret must be on this page, never in a URL", loc)
			}
			if tc.v9 {
				if !v9TokenRE.MatchString(secret) || !v9SecretRE.MatchString(signing) {
					t.Fatalf("v9 key: token %q (want 32 letters and digits), secret %q (want 40 non-space)", secret, signing)
				}
			} else if secret == "" || signing != "" {
				t.Fatalf("standard key: secret %q, signing secret %q: want one secret only", secret, signing)
			}
			if strings.Count(page, secret) != 1 || (signing != "" && strings.Count(page, signing) != 1) {
				t.Error("the page shows a secret more than once")
			}

			a, err := e.svc.Authenticate(context.Background(), secret)
			if err != nil {
				t.Fatalf("the new key does not authenticate: %v", err)
			}
			if a.Tenant.ID != e.a.ID || !a.Key.HasScope(tc.wantScope) || a.Key.RequireSignature != tc.v9 {
				t.Errorf("key: tenant %d (want %d), scopes %v, require signature %v (want %v)", a.Tenant.ID, e.a.ID, a.Key.Scopes, a.Key.RequireSignature, tc.v9)
			}
			if tc.v9 && a.Key.SigningSecret != signing {
				t.Error("the signing secret shown is not the key's")
			}

			// Listed, without any secret, and never shown again.
			res, page = u.get("/console/keys")
			wantStatus(t, res, page, http.StatusOK)
			wantContains(t, page, "box office "+tc.name, a.Key.Prefix)
			if strings.Contains(page, secret) || (signing != "" && strings.Contains(page, signing)) || strings.Contains(page, "Shown once") {
				t.Error("the key list shows a secret")
			}
			if strings.Contains(e.logs.String(), secret) || (signing != "" && strings.Contains(e.logs.String(), signing)) {
				t.Error("the log holds the new key's secret")
			}
		})
	}
}

func TestKeysListIsTenantsOwn(t *testing.T) {
	e := newEnv(t, console.Options{})
	u := e.signedIn(t, e.a.admin)
	res, page := u.get("/console/keys")
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, "acme support lead", "acme viewer", "signed in with this key", `href="/console/keys" aria-current="page"`)
	for _, s := range []string{"globex", e.a.admin, e.a.read, e.a.write} {
		if strings.Contains(page, s) {
			t.Errorf("the key list shows %.8q", s)
		}
	}
}

func TestKeysFormErrors(t *testing.T) {
	e := newEnv(t, console.Options{})
	u := e.signedIn(t, e.a.admin)
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"no scope", url.Values{"name": {"x"}, "format": {"v9"}}, "at least one scope"},
		{"unknown scope", url.Values{"name": {"x"}, "scopes": {"root"}}, "root"},
		{"unknown format", url.Values{"name": {"x"}, "format": {"v8"}, "scopes": {"admin"}}, "format must be"},
		{"name too long", url.Values{"name": {strings.Repeat("n", 101)}, "scopes": {"admin"}}, "at most 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := e.svc.TenantKeys(e.a.ctx)
			res, page, secret, _ := createKey(t, u, tc.form)
			wantStatus(t, res, page, http.StatusUnprocessableEntity)
			wantContains(t, page, tc.want)
			after, _ := e.svc.TenantKeys(e.a.ctx)
			if secret != "" || len(after) != len(before) {
				t.Errorf("a refused form made a key (%d keys, then %d)", len(before), len(after))
			}
		})
	}
}

func TestKeysNeedAdmin(t *testing.T) {
	e := newEnv(t, console.Options{})
	for _, key := range []string{e.a.write, e.a.read} {
		u := e.signedIn(t, key)
		_, page := u.get("/console/search")
		if strings.Contains(page, `href="/console/keys"`) {
			t.Error("a key without admin is shown the Keys link")
		}
		res, page := u.get("/console/keys")
		wantStatus(t, res, page, http.StatusForbidden)
		wantContains(t, page, "lacks the admin scope")
		before, _ := e.svc.TenantKeys(e.a.ctx)
		res, page = u.post("/console/keys", url.Values{"name": {"mine"}, "scopes": {"admin"}, "format": {"v9"}})
		wantStatus(t, res, page, http.StatusForbidden)
		after, _ := e.svc.TenantKeys(e.a.ctx)
		if len(after) != len(before) {
			t.Error("a key without admin made a key")
		}
	}
	// The service refuses too, whoever calls it.
	a, err := e.svc.Authenticate(context.Background(), e.a.write)
	if err != nil {
		t.Fatal(err)
	}
	ctx := phonebook.NewContextWithAuth(context.Background(), a)
	if _, _, err := e.svc.CreateTenantKey(ctx, phonebook.KeyInput{Scopes: []string{"admin"}}); !phonebook.IsCode(err, phonebook.ECodeForbidden) {
		t.Errorf("CreateTenantKey without admin: %v, want forbidden", err)
	}
	if _, err := e.svc.TenantKeys(ctx); !phonebook.IsCode(err, phonebook.ECodeForbidden) {
		t.Errorf("TenantKeys without admin: %v, want forbidden", err)
	}
}

func TestKeysCSRF(t *testing.T) {
	e := newEnv(t, console.Options{})
	u := e.signedIn(t, e.a.admin)
	_, _ = u.get("/console/keys")
	form := url.Values{"name": {"x"}, "scopes": {"admin"}, "format": {"v9"}}
	for _, tc := range []struct {
		name   string
		csrf   string
		header []string
	}{
		{"no token", "", nil},
		{"wrong token", "AAAA" + u.csrf[4:], nil},
		{"cross-site request", u.csrf, []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("csrf", tc.csrf)
			res, page := u.post("/console/keys", f, tc.header...)
			wantStatus(t, res, page, http.StatusForbidden)
			wantContains(t, page, "The form has expired")
		})
	}
	keys, _ := e.svc.TenantKeys(e.a.ctx)
	if len(keys) != 3 {
		t.Errorf("refused posts made keys: %d keys, want 3", len(keys))
	}
	victim := keys[2] // the viewer key
	res, page := u.post(fmt.Sprintf("/console/keys/%d/revoke", victim.ID), url.Values{"csrf": {""}})
	wantStatus(t, res, page, http.StatusForbidden)
	if _, err := e.svc.Authenticate(context.Background(), e.a.read); err != nil {
		t.Errorf("a revocation without the CSRF token revoked the key: %v", err)
	}
}

func TestKeysRevoke(t *testing.T) {
	e := newEnv(t, console.Options{})
	u := e.signedIn(t, e.a.admin)
	ka, _ := e.svc.TenantKeys(e.a.ctx)
	kb, _ := e.svc.TenantKeys(e.b.ctx)
	id := func(keys []*phonebook.APIKey, name string) int64 {
		for _, k := range keys {
			if k.Name == name {
				return k.ID
			}
		}
		t.Fatalf("no key %q", name)
		return 0
	}
	_, _ = u.get("/console/keys")

	// Another tenant's key is not found, and stays valid.
	res, page := u.post(fmt.Sprintf("/console/keys/%d/revoke", id(kb, "globex viewer")), nil)
	wantStatus(t, res, page, http.StatusNotFound)
	if _, err := e.svc.Authenticate(context.Background(), e.b.read); err != nil {
		t.Errorf("tenant A revoked tenant B's key: %v", err)
	}
	// The session's own key is refused.
	res, page = u.post(fmt.Sprintf("/console/keys/%d/revoke", id(ka, "acme support lead")), nil)
	wantStatus(t, res, page, http.StatusConflict)
	wantContains(t, page, "signed in with")
	if _, err := e.svc.Authenticate(context.Background(), e.a.admin); err != nil {
		t.Errorf("the session's key was revoked: %v", err)
	}
	// A key of the tenant is revoked at once.
	res, page = u.post(fmt.Sprintf("/console/keys/%d/revoke", id(ka, "acme viewer")), nil)
	wantStatus(t, res, page, http.StatusSeeOther)
	if _, err := e.svc.Authenticate(context.Background(), e.a.read); err == nil {
		t.Error("the revoked key still authenticates")
	}
	res, page = u.get(res.Header.Get("Location"))
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, "Key revoked.")
	// Not a number: not found, no 5xx.
	res, page = u.post("/console/keys/abc/revoke", nil)
	wantStatus(t, res, page, http.StatusNotFound)
}
