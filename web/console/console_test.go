package console_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/web/console"
)

func TestSignInAndOut(t *testing.T) {
	e := newEnv(t, console.Options{})
	u := e.newUser(t)

	// No session: every page sends to the sign-in form, coming back after.
	res, _ := u.get("/console/search?q=x")
	wantStatus(t, res, "", http.StatusSeeOther)
	if got, want := res.Header.Get("Location"), "/console/login?next="+url.QueryEscape("/console/search?q=x"); got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}

	res, page := u.login("pb_not-a-real-key-at-all", "")
	wantStatus(t, res, page, http.StatusUnauthorized)
	wantContains(t, page, "That API key is not valid", `aria-invalid="true"`)
	if u.cookie("pb_console") != nil {
		t.Error("a bad key got a session cookie")
	}

	res, page = u.login(e.a.write, "/console/search?q=x")
	wantStatus(t, res, page, http.StatusSeeOther)
	if got := res.Header.Get("Location"); got != "/console/search?q=x" {
		t.Errorf("after sign-in Location = %q, want the page asked for", got)
	}
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "pb_console" {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/console" || session.Secure {
		t.Errorf("session cookie: HttpOnly %v, SameSite %v, Path %q, Secure %v; want HttpOnly, Strict, /console, not Secure on plain HTTP",
			session.HttpOnly, session.SameSite, session.Path, session.Secure)
	}
	if strings.Contains(session.Value, e.a.write) || strings.Contains(session.Value, e.a.write[3:13]) {
		t.Error("the session cookie holds the API key in clear")
	}

	res, page = u.get("/console/search")
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, "acme", "acme support", "Sign out")

	res, page = u.post("/console/logout", nil)
	wantStatus(t, res, page, http.StatusSeeOther)
	res, page = u.get("/console/search")
	wantStatus(t, res, page, http.StatusSeeOther)

	// The old cookie value, kept from before and replayed after sign-out,
	// is refused: sign-out ended the session in the store. A forged or
	// tampered one is refused too.
	srvURL, _ := url.Parse(e.srv.URL + "/console/")
	tampered := []byte(session.Value)
	tampered[10] ^= 1
	for name, value := range map[string]string{"replayed": session.Value, "tampered": string(tampered)} {
		u2 := e.newUser(t)
		u2.c.Jar.SetCookies(srvURL, []*http.Cookie{{Name: "pb_console", Value: value, Path: "/console"}})
		res, _ = u2.get("/console/search")
		wantStatus(t, res, "", http.StatusSeeOther)
		if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/console/login?") || !strings.Contains(loc, "msg=ended") {
			t.Errorf("%s cookie after sign-out: Location = %q, want the sign-in page saying the session ended", name, loc)
		}
	}
}

func TestSecureCookies(t *testing.T) {
	e := newEnv(t, console.Options{SecureCookies: true})
	u := e.newUser(t)
	res, _ := u.get("/console/login")
	for _, c := range res.Cookies() {
		if !c.Secure || !c.HttpOnly {
			t.Errorf("cookie %s: Secure %v HttpOnly %v", c.Name, c.Secure, c.HttpOnly)
		}
	}
}

func TestSessionSurvivesRestartWithSecretKey(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef"
	e := newEnv(t, console.Options{SecretKey: key})
	u := e.signedIn(t, e.a.read)
	_, _ = u.get("/console/search") // the session's CSRF token, for the sign-out below
	// A second console with the same key and store (another node, or this
	// one after a restart) reads the first one's cookies.
	other := console.New(nil, e.svc, console.Options{SecretKey: key})
	defer other.Close()
	otherMux := consoleMux(other)
	req := httptest.NewRequest(http.MethodGet, "/console/search", nil)
	req.AddCookie(u.cookie("pb_console"))
	rec := httptest.NewRecorder()
	otherMux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("other node: status %d, want 200", rec.Code)
	}
	// One with another key (random per process when none is set) does not.
	for name, opts := range map[string]console.Options{"no key": {}, "another key": {SecretKey: "another-key-0123456789abcdef"}} {
		third := console.New(nil, e.svc, opts)
		defer third.Close()
		rec = httptest.NewRecorder()
		consoleMux(third).ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Errorf("node with %s: status %d, want 303 to sign-in", name, rec.Code)
		}
	}

	// Sign-out on the other node, with the form token of this one's page,
	// ends the session here too.
	form := url.Values{"csrf": {u.csrf}}
	out := httptest.NewRequest(http.MethodPost, "/console/logout", strings.NewReader(form.Encode()))
	out.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	out.AddCookie(u.cookie("pb_console"))
	rec = httptest.NewRecorder()
	otherMux.ServeHTTP(rec, out)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/login?msg=signed-out" {
		t.Fatalf("sign-out on the other node: status %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
	res, _ := u.get("/console/search")
	wantStatus(t, res, "", http.StatusSeeOther)
	rec = httptest.NewRecorder()
	otherMux.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Errorf("other node after sign-out: status %d, want 303", rec.Code)
	}
}

func TestLoginFormFromAnotherNode(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef"
	e := newEnv(t, console.Options{SecretKey: key})
	// The sign-in form is fetched from this node...
	u := e.newUser(t)
	res, page := u.get("/console/login")
	wantStatus(t, res, page, http.StatusOK)
	post := func(c *console.Console) *httptest.ResponseRecorder {
		form := url.Values{"key": {e.a.write}, "csrf": {u.csrf}, "next": {"/console/search"}}
		req := httptest.NewRequest(http.MethodPost, "/console/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(u.cookie("pb_console_login"))
		rec := httptest.NewRecorder()
		consoleMux(c).ServeHTTP(rec, req)
		return rec
	}
	// ...and posted to a node without the same key: refused.
	stranger := console.New(nil, e.svc, console.Options{SecretKey: "another-key-0123456789abcdef"})
	defer stranger.Close()
	if rec := post(stranger); rec.Code != http.StatusForbidden {
		t.Errorf("sign-in form posted to a node with another key: status %d, want 403", rec.Code)
	}
	// ...and to a node sharing the key: signed in, and the session works
	// on the first node.
	other := console.New(nil, e.svc, console.Options{SecretKey: key})
	defer other.Close()
	rec := post(other)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/search" {
		t.Fatalf("sign-in form posted to another node: status %d, Location %q; want 303 to /console/search\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	var session *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "pb_console" {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	srvURL, _ := url.Parse(e.srv.URL + "/console/")
	u.c.Jar.SetCookies(srvURL, []*http.Cookie{{Name: "pb_console", Value: session.Value, Path: "/console"}})
	res, page = u.get("/console/search")
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, "acme support")
}

func TestEndedSessionRefused(t *testing.T) {
	e := newEnv(t, console.Options{})
	u := e.signedIn(t, e.a.write)
	res, _ := u.get("/console/search")
	wantStatus(t, res, "", http.StatusOK)
	// A second sign-in of the same key is a session of its own: signing
	// one out leaves the other.
	u2 := e.signedIn(t, e.a.write)
	_, _ = u2.get("/console/search")
	res, _ = u2.post("/console/logout", nil)
	wantStatus(t, res, "", http.StatusSeeOther)
	res, _ = u.get("/console/search")
	wantStatus(t, res, "", http.StatusOK)
	// htmx requests of an ended session are told to load the sign-in page.
	res, _ = u2.get("/console/search?q=a", "HX-Request", "true")
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("HX-Redirect"), "/console/login") {
		t.Errorf("htmx request after sign-out: status %d, HX-Redirect %q", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
}

func TestSessionExpires(t *testing.T) {
	now := time.Now()
	e := newEnv(t, console.Options{SessionTTL: time.Hour, Now: func() time.Time { return now }})
	u := e.signedIn(t, e.a.read)
	res, _ := u.get("/console/search")
	wantStatus(t, res, "", http.StatusOK)
	now = now.Add(61 * time.Minute)
	res, _ = u.get("/console/search")
	wantStatus(t, res, "", http.StatusSeeOther)
	if loc := res.Header.Get("Location"); !strings.Contains(loc, "msg=ended") {
		t.Errorf("Location = %q, want the sign-in page saying the session ended", loc)
	}
}

func TestRevokedKeyEndsSession(t *testing.T) {
	e := newEnv(t, console.Options{})
	u := e.signedIn(t, e.a.write)
	res, _ := u.get("/console/search")
	wantStatus(t, res, "", http.StatusOK)

	keys, err := e.svc.APIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Name == "acme support" {
			if err := e.svc.RevokeAPIKey(context.Background(), k.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, _ = u.get("/console/search")
	wantStatus(t, res, "", http.StatusSeeOther)
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/console/login?") || !strings.Contains(loc, "msg=ended") {
		t.Errorf("Location = %q, want the sign-in page", loc)
	}
	_, page := u.get(res.Header.Get("Location"))
	wantContains(t, page, "Your session has ended")

	// htmx requests are told to load the sign-in page.
	u = e.signedIn(t, e.a.read)
	res, _ = u.get("/console/search?q=a", "HX-Request", "true")
	wantStatus(t, res, "", http.StatusOK)
	for _, k := range keys {
		if k.Name == "acme viewer" {
			_ = e.svc.RevokeAPIKey(context.Background(), k.ID)
		}
	}
	res, _ = u.get("/console/search?q=a", "HX-Request", "true")
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("HX-Redirect"), "/console/login") {
		t.Errorf("htmx request after revocation: status %d, HX-Redirect %q", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, console.Options{})
	cu := e.MustCustomer(t, e.a, "Ada Lovelace", "C-1", "(504) 555-0123")
	u := e.signedIn(t, e.a.write)
	other := e.signedIn(t, e.a.write)
	path := fmt.Sprintf("/console/customers/%d/phones", cu.ID)
	_, _ = u.get(fmt.Sprintf("/console/customers/%d", cu.ID))
	_, _ = other.get("/console/search")
	if u.csrf == "" || u.csrf == other.csrf {
		t.Fatalf("CSRF tokens %q and %q: want one per session", u.csrf, other.csrf)
	}
	form := func(csrf string) url.Values {
		return url.Values{"number": {"+1 202 555 0175"}, "type": {"home"}, "csrf": {csrf}}
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"no token", url.Values{"number": {"+1 202 555 0175"}, "csrf": {""}}, nil},
		{"wrong token", form("AAAA" + u.csrf[4:]), nil},
		{"another session's token", form(other.csrf), nil},
		{"cross-site request", form(u.csrf), []string{"Sec-Fetch-Site", "cross-site"}},
		{"foreign origin", form(u.csrf), []string{"Origin", "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, page := u.post(path, tc.form, tc.header...)
			wantStatus(t, res, page, http.StatusForbidden)
			wantContains(t, page, "The form has expired")
		})
	}
	got, err := e.svc.FindCustomer(e.a.ctx, phonebook.CustomerRef{ID: cu.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Phones) != 1 {
		t.Fatalf("refused posts added phones: %d phones", len(got.Phones))
	}
	// The token of the page, from this origin, works.
	res, page := u.post(path, form(u.csrf), "Sec-Fetch-Site", "same-origin", "Origin", e.srv.URL)
	wantStatus(t, res, page, http.StatusSeeOther)

	// The sign-in form has its own token, bound to a cookie of its page.
	nu := e.newUser(t)
	res, page = nu.post("/console/login", url.Values{"key": {e.a.write}, "csrf": {"x"}})
	wantStatus(t, res, page, http.StatusForbidden)
	if nu.cookie("pb_console") != nil {
		t.Error("sign-in without its form's token made a session")
	}
	// Sign-out needs the token too.
	res, _ = u.post("/console/logout", url.Values{"csrf": {"nope"}})
	wantStatus(t, res, "", http.StatusForbidden)
}

func TestTenantScoping(t *testing.T) {
	e := newEnv(t, console.Options{})
	ca := e.MustCustomer(t, e.a, "Ada of Acme", "SAME-EXT", "(504) 555-0123")
	cb := e.MustCustomer(t, e.b, "Bob of Globex", "B-1", "+1 202 555 0175")
	b := e.signedIn(t, e.b.admin)

	res, page := b.get(fmt.Sprintf("/console/customers/%d", ca.ID))
	wantStatus(t, res, page, http.StatusNotFound)
	wantContains(t, page, "Not found")
	if strings.Contains(page, "Ada") {
		t.Error("tenant B's page shows tenant A's customer")
	}
	for _, path := range []string{
		fmt.Sprintf("/console/customers/%s", ca.UUID),
		fmt.Sprintf("/console/customers/%d/history", ca.ID),
		fmt.Sprintf("/console/customers/%d/phones/%d", ca.ID, ca.Phones[0].ID),
		fmt.Sprintf("/console/customers/%d/phones/%d/history", ca.ID, ca.Phones[0].ID),
		fmt.Sprintf("/console/customers/%d/phones/%d", cb.ID, ca.Phones[0].ID), // A's phone under B's customer
	} {
		res, page := b.get(path)
		if res.StatusCode != http.StatusNotFound || strings.Contains(page, "Ada") {
			t.Errorf("GET %s as tenant B: status %d (want 404), shows A's data: %v", path, res.StatusCode, strings.Contains(page, "Ada"))
		}
	}
	for _, q := range []string{"504.555.0123", "Ada", "SAME-EXT", strconv.FormatInt(ca.ID, 10), ca.UUID} {
		res, page := b.get("/console/search?q=" + url.QueryEscape(q))
		wantStatus(t, res, page, http.StatusOK)
		if strings.Contains(page, "of Acme") || !strings.Contains(page, "No customer matches") {
			t.Errorf("tenant B's search for %q finds tenant A's customer", q)
		}
	}
	// Writes to A's rows answer not found, and change nothing.
	_, _ = b.get("/console/search")
	res, page = b.post(fmt.Sprintf("/console/customers/%d/phones", ca.ID), url.Values{"number": {"+1 303 555 0100"}, "type": {"home"}})
	wantStatus(t, res, page, http.StatusNotFound)
	res, page = b.post(fmt.Sprintf("/console/customers/%d/phones/%d/delete", ca.ID, ca.Phones[0].ID), nil)
	wantStatus(t, res, page, http.StatusNotFound)
	res, page = b.post(fmt.Sprintf("/console/customers/%d/phones/%d/primary", ca.ID, ca.Phones[0].ID), nil)
	wantStatus(t, res, page, http.StatusNotFound)
	got, err := e.svc.FindCustomer(e.a.ctx, phonebook.CustomerRef{ID: ca.ID})
	if err != nil || len(got.Phones) != 1 || got.Version != ca.Version {
		t.Errorf("tenant A's customer changed: %v, %+v", err, got)
	}
}

func TestScopes(t *testing.T) {
	e := newEnv(t, console.Options{})
	cu := e.MustCustomer(t, e.a, "Ada Lovelace", "C-1", "(504) 555-0123")
	r := e.signedIn(t, e.a.read)

	res, page := r.get(fmt.Sprintf("/console/customers/%d", cu.ID))
	wantStatus(t, res, page, http.StatusOK)
	if strings.Contains(page, "Add a phone") || strings.Contains(page, "Make primary") {
		t.Error("a read-only key is shown write forms")
	}
	for _, path := range []string{"/console/import", "/console/webhooks"} {
		res, page := r.get(path)
		wantStatus(t, res, page, http.StatusForbidden)
		wantContains(t, page, "lacks the")
	}
	res, page = r.post(fmt.Sprintf("/console/customers/%d/phones", cu.ID), url.Values{"number": {"+1 202 555 0175"}})
	wantStatus(t, res, page, http.StatusForbidden)
	res, page = r.post("/console/customers", url.Values{"name": {"Mallory"}})
	wantStatus(t, res, page, http.StatusForbidden)

	w := e.signedIn(t, e.a.write)
	_, page = w.get("/console/phone-types")
	if strings.Contains(page, "Add a type") {
		t.Error("a key without admin is shown the add-type form")
	}
	res, page = w.post("/console/phone-types", url.Values{"name": {"pager"}})
	wantStatus(t, res, page, http.StatusForbidden)
	res, _ = w.get("/console/webhooks")
	wantStatus(t, res, "", http.StatusForbidden)
}

// seed makes the data of the page tests: a customer with three phones
// (one opted out), a webhook with a delivery, and a custom phone type.
func seed(t testing.TB, e *env) *phonebook.Customer {
	t.Helper()
	ctx := e.a.ctx
	if _, _, err := e.svc.CreateWebhook(ctx, phonebook.WebhookInput{URL: "https://hooks.example.com/phonebook", Description: "CRM sync"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreatePhoneType(ctx, "pager"); err != nil {
		t.Fatal(err)
	}
	cu := e.MustCustomer(t, e.a, "Ada Lovelace", "C-1001", "(504) 555-0123")
	ref := phonebook.CustomerRef{ID: cu.ID}
	if _, err := e.svc.AddPhone(ctx, ref, phonebook.PhoneInput{Number: "+44 20 7946 0958", Extension: "12", Type: "work", Label: "London office", ConsentType: phonebook.ConsentWritten, ConsentSource: "paper form"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddPhone(ctx, ref, phonebook.PhoneInput{Number: "202-555-0175", Type: "home", ConsentType: phonebook.ConsentStop, ConsentSource: "inbound_sms"}); err != nil {
		t.Fatal(err)
	}
	cu, err := e.svc.FindCustomer(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	return cu
}

func TestPages(t *testing.T) {
	e := newEnv(t, console.Options{})
	cu := seed(t, e)
	u := e.signedIn(t, e.a.admin)
	hooks, _ := e.svc.Webhooks(e.a.ctx)
	p0 := cu.Phones[0]
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/console/search", []string{"Latest customers", "Ada Lovelace", `role="search"`, `hx-trigger="input changed delay:250ms, search"`, `aria-live="polite"`}},
		{"/console/search?q=504.555.0123", []string{"1 customer for “504.555.0123” (read as +15045550123)", "Ada Lovelace", "(504) 555-0123", "matched on number", "1 number has opted out"}},
		{"/console/search?q=5045550123", []string{"Ada Lovelace", "+15045550123"}},
		{"/console/search?q=%2B1+504+555+0123", []string{"Ada Lovelace"}},
		{"/console/search?q=lovelace", []string{"Ada Lovelace", "matched on name"}},
		{"/console/search?q=C-1001", []string{"Ada Lovelace", "matched on external id"}},
		{"/console/search?q=" + strconv.FormatInt(cu.ID, 10), []string{"Ada Lovelace", "matched on id"}},
		{"/console/search?q=nobody", []string{"No customer matches “nobody”"}},
		{fmt.Sprintf("/console/customers/%d", cu.ID), []string{
			"<h1>Ada Lovelace</h1>", "C-1001", "(504) 555-0123", "+44 20 7946 0958 ext. 12", "(202) 555-0175",
			"🇺🇸", "🇬🇧", `<span aria-hidden="true">★</span><span class="sr">Primary</span>`,
			"Written consent", "paper form", "Opted out (STOP)", "Do not contact: opted out", "fixed line or mobile",
			"valid", "London office", "Make primary", "Delete", "Add a phone", `<label for="number">`, `<option value="pager">pager</option>`,
		}},
		{fmt.Sprintf("/console/customers/%s", cu.UUID), []string{"<h1>Ada Lovelace</h1>"}},
		{fmt.Sprintf("/console/customers/%d/phones/%d", cu.ID, p0.ID), []string{"(504) 555-0123", "+15045550123", "Save phone", "Consent ledger"}},
		{fmt.Sprintf("/console/customers/%d/phones/%d", cu.ID, cu.Phones[2].ID), []string{"Opted out (STOP)", "inbound_sms", "Do not call or text this number"}},
		{fmt.Sprintf("/console/customers/%d/history", cu.ID), []string{"History of Ada Lovelace", "Customer created", "Phone added", "+442079460958", "via <strong>test</strong>", "acme support lead"}},
		{fmt.Sprintf("/console/customers/%d/phones/%d/history", cu.ID, p0.ID), []string{"History of", "Phone added", "+15045550123"}},
		{"/console/phone-types", []string{"pager", "built in", "Add a type", `action="/console/phone-types/pager/delete"`}},
		{"/console/import", []string{"Import phones from CSV", `enctype="multipart/form-data"`, "external_id", "Download a sample file"}},
		{"/console/webhooks", []string{"https://hooks.example.com/phonebook", "CRM sync"}},
		{fmt.Sprintf("/console/webhooks/%d", hooks[0].ID), []string{"Delivery log", "Phone added", "pending", "Redeliver"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res, page := u.get(tc.path)
			wantStatus(t, res, page, http.StatusOK)
			wantContains(t, page, tc.want...)
			checkPage(t, res, page)
		})
	}
}

var (
	inlineScript = regexp.MustCompile(`<script(?:\s[^>]*)?>`)
	styleAttr    = regexp.MustCompile(`\sstyle=`)
	headingRE    = regexp.MustCompile(`<h([1-6])[\s>]`)
	inputRE      = regexp.MustCompile(`<(?:input|select|textarea)\s[^>]*>`)
	idRE         = regexp.MustCompile(`\sid="([^"]+)"`)
)

// checkPage holds what every page must: the strict CSP and no inline
// script or style (which it would block), one <main>, a skip link, an h1
// and no skipped heading level, a label for every input.
func checkPage(t *testing.T, res *http.Response, page string) {
	t.Helper()
	if got := res.Header.Get("Content-Security-Policy"); got != console.ContentSecurityPolicy {
		t.Errorf("CSP = %q", got)
	}
	if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("Cache-Control %q, X-Frame-Options %q", res.Header.Get("Cache-Control"), res.Header.Get("X-Frame-Options"))
	}
	for _, m := range inlineScript.FindAllString(page, -1) {
		if !strings.Contains(m, " src=") {
			t.Errorf("inline script: %s", m)
		}
	}
	if styleAttr.MatchString(page) || strings.Contains(page, "<style") {
		t.Error("inline style")
	}
	if strings.Count(page, "<main") != 1 || !strings.Contains(page, `href="#main"`) {
		t.Error("want one <main> and a skip link to it")
	}
	level := 0
	for _, m := range headingRE.FindAllStringSubmatch(page, -1) {
		l, _ := strconv.Atoi(m[1])
		if level == 0 && l != 1 {
			t.Errorf("first heading is h%d", l)
		}
		if l > level+1 {
			t.Errorf("heading level jumps from h%d to h%d", level, l)
		}
		level = l
	}
	for _, in := range inputRE.FindAllString(page, -1) {
		if strings.Contains(in, `type="hidden"`) {
			continue
		}
		m := idRE.FindStringSubmatch(in)
		if m == nil || !strings.Contains(page, `<label for="`+m[1]+`"`) {
			t.Errorf("input without a label: %s", in)
		}
	}
	for _, dup := range dupIDs(page) {
		t.Errorf("id %q is used twice", dup)
	}
}

func dupIDs(page string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range idRE.FindAllStringSubmatch(page, -1) {
		if seen[m[1]] {
			out = append(out, m[1])
		}
		seen[m[1]] = true
	}
	return out
}

func TestSearchFragment(t *testing.T) {
	e := newEnv(t, console.Options{})
	seed(t, e)
	u := e.signedIn(t, e.a.read)
	res, page := u.get("/console/search?q=%28504%29+555-0123", "HX-Request", "true", "HX-Target", "results")
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, `id="search-status"`, "Ada Lovelace")
	if strings.Contains(page, "<html") || strings.Contains(page, "<main") {
		t.Error("the htmx answer is a whole page, want the results alone")
	}
	// A history restore gets the whole page.
	_, page = u.get("/console/search?q=ada", "HX-Request", "true", "HX-History-Restore-Request", "true")
	wantContains(t, page, "<html", "Ada Lovelace")
}

func TestPhoneLifecycle(t *testing.T) {
	e := newEnv(t, console.Options{})
	cu := e.MustCustomer(t, e.a, "Ada Lovelace", "C-1", "(504) 555-0123")
	u := e.signedIn(t, e.a.write)
	cpath := fmt.Sprintf("/console/customers/%d", cu.ID)
	_, _ = u.get(cpath)

	// Add.
	res, page := u.post(cpath+"/phones", url.Values{"number": {"020 7946 0958"}, "country": {"GB"}, "type": {"work"}, "label": {"office"}, "consent_type": {"express"}})
	wantStatus(t, res, page, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, cpath+"?done=phone-added#phone-") {
		t.Errorf("Location = %q", loc)
	}
	res, page = u.get(res.Header.Get("Location"))
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, "Phone added.", "+44 20 7946 0958", "🇬🇧", "office", "Express consent")
	got, _ := e.svc.FindCustomer(e.a.ctx, phonebook.CustomerRef{ID: cu.ID})
	if len(got.Phones) != 2 || got.Phones[1].IsPrimary {
		t.Fatalf("after add: %d phones, second primary %v", len(got.Phones), got.Phones[1].IsPrimary)
	}
	added := got.Phones[1]

	// Make it primary.
	ppath := fmt.Sprintf("%s/phones/%d", cpath, added.ID)
	res, page = u.post(ppath+"/primary", url.Values{"version": {strconv.FormatInt(added.Version, 10)}})
	wantStatus(t, res, page, http.StatusSeeOther)
	got, _ = e.svc.FindCustomer(e.a.ctx, phonebook.CustomerRef{ID: cu.ID})
	if !got.Phones[1].IsPrimary || got.Phones[0].IsPrimary {
		t.Fatal("make primary did not move the primary")
	}
	// With a stale version it is refused, on a page.
	res, page = u.post(fmt.Sprintf("%s/phones/%d/primary", cpath, got.Phones[0].ID), url.Values{"version": {"1"}})
	if res.StatusCode == http.StatusSeeOther || !strings.Contains(page, "someone changed this phone") {
		t.Errorf("stale make-primary: status %d", res.StatusCode)
	}

	// History shows who did it, through the console.
	res, page = u.get(cpath + "/history")
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, "Primary phone changed", "via <strong>console</strong>", "key acme support",
		`<tr><th scope="row">primary phone</th><td data-label="Before">+15045550123</td><td data-label="After">+442079460958</td></tr>`)

	// Edit.
	_, page = u.get(ppath)
	wantContains(t, page, `value="office"`)
	res, page = u.post(ppath, url.Values{"number": {"020 7946 0958"}, "type": {"work"}, "label": {"HQ"}, "consent_type": {"express"}, "status": {"active"},
		"version": {strconv.FormatInt(got.Phones[1].Version, 10)}})
	wantStatus(t, res, page, http.StatusSeeOther)
	p, _ := e.svc.FindPhone(e.a.ctx, phonebook.CustomerRef{ID: cu.ID}, phonebook.CustomerRef{ID: added.ID})
	if p.Label != "HQ" || p.E164 != "+442079460958" || p.Version != got.Phones[1].Version+1 {
		t.Errorf("after edit: label %q, e164 %s, version %d", p.Label, p.E164, p.Version)
	}
	// An edit with an error keeps what was typed and says what is wrong, next to the input.
	res, page = u.post(ppath, url.Values{"number": {"12"}, "type": {"work"}, "label": {"HQ"}, "status": {"active"}, "consent_type": {"express"},
		"version": {strconv.FormatInt(p.Version, 10)}})
	wantStatus(t, res, page, http.StatusUnprocessableEntity)
	wantContains(t, page, `id="number-error"`, `aria-invalid="true"`, `value="12"`, `href="#number"`)
	res, page = u.post(ppath, url.Values{"number": {"020 7946 0958"}, "type": {"work"}, "label": {"this label is far too long for a phone"}, "status": {"active"}, "consent_type": {"express"},
		"version": {strconv.FormatInt(p.Version, 10)}})
	wantStatus(t, res, page, http.StatusUnprocessableEntity)
	wantContains(t, page, `id="label-error"`, `value="this label is far too long for a phone"`)

	// Delete the primary: the other phone becomes primary.
	res, page = u.post(ppath+"/delete", url.Values{"version": {strconv.FormatInt(p.Version, 10)}})
	wantStatus(t, res, page, http.StatusSeeOther)
	got, _ = e.svc.FindCustomer(e.a.ctx, phonebook.CustomerRef{ID: cu.ID})
	if len(got.Phones) != 1 || !got.Phones[0].IsPrimary {
		t.Fatalf("after delete: %+v", got.Phones)
	}
	// The deleted phone's history is still there.
	res, page = u.get(ppath + "/history")
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, "(deleted)", "Phone deleted")
}

func TestFieldErrors(t *testing.T) {
	e := newEnv(t, console.Options{})
	cu := e.MustCustomer(t, e.a, "Ada Lovelace", "C-1", "(504) 555-0123")
	u := e.signedIn(t, e.a.admin)
	cpath := fmt.Sprintf("/console/customers/%d", cu.ID)
	_, _ = u.get(cpath)
	for _, tc := range []struct {
		name string
		form url.Values
		want []string
	}{
		{"not a number", url.Values{"number": {"hello"}}, []string{`id="number-error"`, "number is not a phone number", `value="hello"`}},
		{"empty", url.Values{"number": {""}}, []string{`id="number-error"`, "number is required"}},
		{"duplicate", url.Values{"number": {"504.555.0123"}}, []string{`id="number-error"`, "already has this phone number"}},
		{"unknown type", url.Values{"number": {"+1 202 555 0175"}, "type": {"carrier pigeon"}}, []string{`id="type-error"`}},
		{"bad consent", url.Values{"number": {"+1 202 555 0175"}, "consent_type": {"maybe"}}, []string{`id="consent_type-error"`}},
		{"several", url.Values{"number": {"x"}, "extension": {"12a"}, "notes": {strings.Repeat("n", 300)}}, []string{`id="number-error"`, `id="notes-error"`, "Please fix these"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, page := u.post(cpath+"/phones", tc.form)
			wantStatus(t, res, page, http.StatusUnprocessableEntity)
			wantContains(t, page, tc.want...)
			wantContains(t, page, "<h1>Ada Lovelace</h1>", `role="alert"`)
			checkPage(t, res, page)
		})
	}
	res, page := u.post("/console/customers", url.Values{"name": {"Eve"}, "external_id": {"C-1"}})
	wantStatus(t, res, page, http.StatusUnprocessableEntity)
	wantContains(t, page, "New customer", `value="C-1"`)
	res, page = u.post("/console/phone-types", url.Values{"name": {"mobile"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="type-name-error"`) {
		t.Errorf("duplicate type: status %d", res.StatusCode)
	}
	res, page = u.post("/console/phone-types/mobile/delete", nil)
	wantStatus(t, res, page, http.StatusConflict)
	wantContains(t, page, "built in")

	// Not found is a page, not a bare error.
	for _, path := range []string{"/console/customers/999999", "/console/customers/abc", fmt.Sprintf("%s/phones/424242", cpath), "/console/webhooks/77", "/console/import/nope"} {
		res, page := u.get(path)
		wantStatus(t, res, page, http.StatusNotFound)
		wantContains(t, page, "<h1>Not found</h1>")
	}
}

func TestCustomerCreateAndTypes(t *testing.T) {
	e := newEnv(t, console.Options{})
	u := e.signedIn(t, e.a.admin)
	_, _ = u.get("/console/search")
	res, page := u.post("/console/customers", url.Values{"name": {"Grace Hopper"}, "external_id": {"G-1"}})
	wantStatus(t, res, page, http.StatusSeeOther)
	_, page = u.get(res.Header.Get("Location"))
	wantContains(t, page, "Customer created.", "<h1>Grace Hopper</h1>", "no phones yet")

	_, _ = u.get("/console/phone-types")
	res, _ = u.post("/console/phone-types", url.Values{"name": {"Satellite"}})
	wantStatus(t, res, "", http.StatusSeeOther)
	_, page = u.get("/console/phone-types?done=type-added")
	wantContains(t, page, "Phone type added.", "satellite")
	res, _ = u.post("/console/phone-types/satellite/delete", nil)
	wantStatus(t, res, "", http.StatusSeeOther)
	types, _ := e.svc.PhoneTypes(e.a.ctx)
	for _, pt := range types {
		if pt.Name == "satellite" {
			t.Error("type not deleted")
		}
	}
}

func TestRedeliver(t *testing.T) {
	e := newEnv(t, console.Options{})
	seed(t, e)
	u := e.signedIn(t, e.a.admin)
	hooks, _ := e.svc.Webhooks(e.a.ctx)
	ds, _ := e.svc.Deliveries(e.a.ctx, hooks[0].ID, 10)
	_, _ = u.get(fmt.Sprintf("/console/webhooks/%d", hooks[0].ID))
	res, page := u.post(fmt.Sprintf("/console/webhooks/%d/deliveries/%d/redeliver", hooks[0].ID, ds[0].ID), nil)
	wantStatus(t, res, page, http.StatusSeeOther)
	// Tenant B cannot see or touch A's webhook.
	b := e.signedIn(t, e.b.admin)
	res, _ = b.get(fmt.Sprintf("/console/webhooks/%d", hooks[0].ID))
	wantStatus(t, res, "", http.StatusNotFound)
}

func TestHostileContentIsEscaped(t *testing.T) {
	e := newEnv(t, console.Options{})
	evil := `<script>alert(1)</script>"><img src=x onerror=alert(2)>`
	cu := e.MustCustomer(t, e.a, evil, `x"onmouseover="alert(3)`, "(504) 555-0123")
	if _, err := e.svc.UpdatePhone(e.a.ctx, phonebook.CustomerRef{ID: cu.ID}, phonebook.CustomerRef{ID: cu.Phones[0].ID},
		phonebook.PhoneUpdate{Notes: &evil, Label: ptr(`<b>x</b>`)}, 0); err != nil {
		t.Fatal(err)
	}
	u := e.signedIn(t, e.a.admin)
	for _, path := range []string{
		"/console/search",
		"/console/search?q=" + url.QueryEscape(evil),
		"/console/search?q=504-555-0123",
		fmt.Sprintf("/console/customers/%d", cu.ID),
		fmt.Sprintf("/console/customers/%d/phones/%d", cu.ID, cu.Phones[0].ID),
		fmt.Sprintf("/console/customers/%d/history", cu.ID),
	} {
		_, page := u.get(path)
		for _, bad := range []string{"<script>alert", "<img src=x", `"onmouseover="`, "<b>x</b>"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s holds unescaped %q", path, bad)
			}
		}
		if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s does not show the name, escaped", path)
		}
	}
	// The sign-in page's next is never an open redirect.
	nu := e.newUser(t)
	for _, next := range []string{"//evil.example/x", "https://evil.example", "/console/../v1/customers", `/console/\evil`, "/console//evil.example"} {
		res, _ := nu.login(e.a.read, next)
		if loc := res.Header.Get("Location"); loc != "/console/search" && !strings.HasPrefix(loc, "/console/search") {
			t.Errorf("next=%q: Location %q", next, loc)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// consoleMux serves the console's routes alone, without the router.
func consoleMux(c *console.Console) *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range c.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
	}
	return mux
}

func TestImport(t *testing.T) {
	e := newEnv(t, console.Options{})
	e.MustCustomer(t, e.a, "Ada Lovelace", "C-1001", "(504) 555-0123")
	u := e.signedIn(t, e.a.write)
	_, _ = u.get("/console/import")
	file := "\xef\xbb\xbfExternal ID,Name,Number,Country,Extension,Type,Label,Primary,Notes,Consent,Consent Source,Favourite colour\n" +
		"C-1001,Ada Lovelace,504.555.0123,,,mobile,cell,,,,,blue\n" + // same number as stored, another format: updated
		"C-1001,Ada Lovelace,+44 20 7946 0958,,12,work,London,true,,written,paper form,\n" +
		"C-2002,Grace Hopper,(202) 555-0175,US,,home,,yes,,express,signup,\n" +
		"C-2002,Grace Hopper,not a number,,,home,,,,,,\n" +
		"C-3003,Alan Turing,+1 303 555 0100,,,carrier pigeon,,,,,,\n" +
		",Nobody,+1 303 555 0101,,,,,,,,,\n" +
		"C-4004,Edsger,+1 303 555 0102,,,,,maybe,,,,\n" +
		"C-5005,Only a customer,,,,,,,,,,\n" +
		"C-6006,Formula,\"=HYPERLINK(\"\"http://evil\"\")\",,,,,,,,,\n" +
		"C-7007,Too,many,fields,,,,,,,,,,,extra\n"
	res, page := u.upload("/console/import", "people.csv", []byte(file))
	wantStatus(t, res, page, http.StatusSeeOther)
	jobURL := res.Header.Get("Location")
	if !strings.HasPrefix(jobURL, "/console/import/") {
		t.Fatalf("Location = %q", jobURL)
	}
	res, page = u.get(jobURL)
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, "Import of people.csv", `<progress id="import-bar"`, `aria-live="polite"`, "Favourite colour")
	checkPage(t, res, page)

	// Poll as htmx does, until the import answers 286 (stop polling).
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, page = u.get(jobURL+"/progress", "HX-Request", "true")
		if res.StatusCode == 286 {
			break
		}
		wantStatus(t, res, page, http.StatusOK)
		if time.Now().After(deadline) {
			t.Fatalf("import not done:\n%s", page)
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantContains(t, page, "Done: 10 rows", "rejected", "rejects.csv")
	if strings.Contains(page, "<html") {
		t.Error("progress answer is a whole page")
	}
	counts := map[string]string{}
	for _, m := range regexp.MustCompile(`<dt>([^<]+)</dt><dd>(\d+)</dd>`).FindAllStringSubmatch(page, -1) {
		counts[m[1]] = m[2]
	}
	want := map[string]string{"Phones added": "2", "Phones updated": "1", "Unchanged": "0", "Customers created": "4", "Rejected": "6"}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s = %q, want %s (all: %v)", k, counts[k], v, counts)
		}
	}
	// C-5005 (no number) makes the customer only: counted neither as added nor rejected.
	if _, err := e.svc.FindCustomer(e.a.ctx, phonebook.CustomerRef{ExternalID: "C-5005"}); err != nil {
		t.Errorf("customer of a row without number: %v", err)
	}
	grace, err := e.svc.FindCustomer(e.a.ctx, phonebook.CustomerRef{ExternalID: "C-2002"})
	if err != nil || grace.Name != "Grace Hopper" || len(grace.Phones) != 1 || grace.Phones[0].Consent.Type != "express" {
		t.Errorf("C-2002: %v %+v", err, grace)
	}
	ada, _ := e.svc.FindCustomer(e.a.ctx, phonebook.CustomerRef{ExternalID: "C-1001"})
	if len(ada.Phones) != 2 || !ada.Phones[1].IsPrimary || ada.Phones[0].Label != "cell" {
		t.Errorf("C-1001 after import: %+v", ada.Phones)
	}
	events, _ := e.svc.History(e.a.ctx, phonebook.CustomerRef{ID: grace.ID}, nil, 0, 10)
	if len(events) == 0 || events[0].Source != "console" || events[0].KeyName != "acme support" {
		t.Errorf("imported changes are not recorded as the console user's: %+v", events)
	}

	res, body := u.get(jobURL + "/rejects.csv")
	wantStatus(t, res, body, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(res.Header.Get("Content-Disposition"), `filename="people-rejects.csv"`) {
		t.Errorf("Content-Type %q, Content-Disposition %q", ct, res.Header.Get("Content-Disposition"))
	}
	cr := csv.NewReader(strings.NewReader(body))
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("rejects.csv: %v\n%s", err, body)
	}
	if got := strings.Join(recs[0][:5], ","); got != "line,error_code,error_field,error,External ID" {
		t.Errorf("header %q", got)
	}
	lines := map[string][]string{}
	for _, r := range recs[1:] {
		lines[r[0]] = r
	}
	for line, wantCode := range map[string]string{"5": "invalid_number", "6": "type_unknown", "7": "validation", "8": "validation", "10": "invalid_number", "11": "validation"} {
		r := lines[line]
		if r == nil || r[1] != wantCode {
			t.Errorf("rejects.csv line %s: %q, want code %s", line, r, wantCode)
		}
	}
	if r := lines["10"]; r != nil && r[6] != `'=HYPERLINK("http://evil")` {
		t.Errorf("a formula cell is not neutralised: %q", r[6])
	}
	if r := lines["5"]; r != nil && (r[4] != "C-2002" || r[6] != "not a number") {
		t.Errorf("a rejected row is not as it was in the file: %q", r)
	}

	// Another key of the tenant, or another tenant, cannot see the import.
	b := e.signedIn(t, e.b.admin)
	res, _ = b.get(jobURL)
	wantStatus(t, res, "", http.StatusNotFound)
	res, _ = b.get(jobURL + "/rejects.csv")
	wantStatus(t, res, "", http.StatusNotFound)

	// The import page lists it.
	_, page = u.get("/console/import")
	wantContains(t, page, "Your recent imports", "people.csv")
}

func TestImportErrors(t *testing.T) {
	e := newEnv(t, console.Options{})
	u := e.signedIn(t, e.a.write)
	_, _ = u.get("/console/import")
	for _, tc := range []struct {
		name, file, want string
	}{
		{"empty", "", "the file is empty"},
		{"no external_id", "name,number\nAda,5045550123\n", "no external_id column"},
		{"not utf-8", "external_id,number\n\xff\xfe,1\n", "not UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, page := u.upload("/console/import", "x.csv", []byte(tc.file))
			wantStatus(t, res, page, http.StatusUnprocessableEntity)
			wantContains(t, page, tc.want, `role="alert"`)
		})
	}
	// The router caps bodies (1 MiB): the console answers with a page.
	big := bytes.Repeat([]byte("C-1,Name,+1 504 555 0123\n"), (2<<20)/25)
	res, page := u.upload("/console/import", "big.csv", append([]byte("external_id,name,number\n"), big...))
	wantStatus(t, res, page, http.StatusRequestEntityTooLarge)
	wantContains(t, page, "The upload is too large")
}

func TestImportLimits(t *testing.T) {
	e := newEnv(t, console.Options{MaxImportBytes: 4 << 10})
	// The console alone, without the router's 1 MiB cap.
	srv := httptest.NewServer(consoleMux(e.console))
	defer srv.Close()
	u := e.signedIn(t, e.a.write)
	u.e = &env{srv: srv}
	_, _ = u.get("/console/import")

	res, page := u.upload("/console/import", "big.csv", bytes.Repeat([]byte("x"), 5<<10))
	wantStatus(t, res, page, http.StatusRequestEntityTooLarge)
	wantContains(t, page, "4 KiB")

	// One import at a time per session.
	var rows strings.Builder
	rows.WriteString("external_id,number\n")
	for i := range 100 {
		fmt.Fprintf(&rows, "C-%d,+1 303 555 %04d\n", i, i)
	}
	res, _ = u.upload("/console/import", "a.csv", []byte(rows.String()))
	wantStatus(t, res, "", http.StatusSeeOther)
	first := res.Header.Get("Location")
	res, page = u.upload("/console/import", "b.csv", []byte(rows.String()))
	if res.StatusCode == http.StatusConflict {
		wantContains(t, page, "still running")
	} else {
		wantStatus(t, res, page, http.StatusSeeOther) // the first one was already done
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, _ := u.get(first + "/progress")
		if res.StatusCode == 286 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAssets(t *testing.T) {
	e := newEnv(t, console.Options{})
	u := e.newUser(t)
	_, page := u.get("/console/login")
	refs := regexp.MustCompile(`(?:src|href)="(/console/assets/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) != 3 {
		t.Fatalf("login page references %d assets, want css, htmx and console.js", len(refs))
	}
	for _, m := range refs {
		res, body := u.get(m[1])
		wantStatus(t, res, body, http.StatusOK)
		if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", m[1], cc)
		}
		if strings.HasSuffix(m[1], "htmx.min.js") && !strings.Contains(body, console.HTMXVersion) {
			t.Errorf("htmx.min.js is not htmx %s", console.HTMXVersion)
		}
		// Another version of the same asset is not served.
		res, _ = u.get(regexp.MustCompile(`/assets/[^/]+/`).ReplaceAllString(m[1], "/assets/000000000000/"))
		wantStatus(t, res, "", http.StatusNotFound)
	}
	res, _ := u.get("/console/assets/x/../../v1/customers")
	if res.StatusCode == http.StatusOK {
		t.Error("asset path escapes")
	}
	// No external references anywhere in the pages' head.
	for _, ext := range []string{"http://", "https://", `src="//`, `href="//`} {
		if strings.Contains(page, ext) {
			t.Errorf("login page references %q", ext)
		}
	}
	res, _ = u.get("/console")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/search" {
		t.Errorf("GET /console: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}
