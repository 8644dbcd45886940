// Package console is phonebook's web console for support and operations
// staff, served by phonebook itself under /console: find a customer by
// name, external id or any number in any format, see and fix their phones
// and consent, read the history of a customer or a phone, keep the phone
// type registry, import phones from CSV, read webhook delivery logs, and
// manage the tenant's API keys.
//
// Pages are rendered on the server with html/template. The only front-end
// library is htmx, a pinned build from the npm registry vendored in
// assets/htmx (see update-htmx.sh) and embedded into the binary; every
// page works without JavaScript too. Pages are sent with a strict Content
// Security Policy: no inline scripts or styles, nothing from another
// origin.
//
// Staff sign in with an API key. Signing in stores a session record (the
// hash of a random token, the key's id, an absolute expiry) through the
// service; the browser gets the token in an HttpOnly, SameSite=Strict
// cookie, sealed with AES-GCM under a key derived from PHONEBOOK_SECRET_KEY,
// and never the API key. Every request looks the session up again with
// its key and tenant, so sign-out (which deletes the record), expiry and
// the key's revocation end it at once on every node sharing the store.
// Service calls run with the key's own Auth (source "console"): scopes and
// tenant scoping are those of /v1, and each route asks for the scope its
// /v1 counterpart does. Every form carries a CSRF token derived from the
// session token under the server key, so any node sharing the key accepts
// it.
//
// The console is mounted like a dialect: its routes are Public (it
// authenticates from its cookie itself) with Source "console".
package console

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/authlimit"
	"github.com/phonebook/phonebook/clientaddr"
	"github.com/phonebook/phonebook/dialect"
)

// ContentSecurityPolicy is sent with every console page.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// Defaults of Options.
const (
	DefaultSessionTTL     = 12 * time.Hour
	DefaultMaxImportBytes = 10 << 20
)

// maxFormBytes caps the body of every form but the CSV upload.
const maxFormBytes = 64 << 10

// Options configure a Console.
type Options struct {
	// SecretKey (PHONEBOOK_SECRET_KEY) keys the session cookies and CSRF
	// tokens, so sessions survive a restart and work on every node that has
	// the same key. Empty: random keys, good for this process only.
	SecretKey string
	// SecureCookies marks the cookies Secure even on plain HTTP requests
	// (TLS ends at a proxy in front: PHONEBOOK_PUBLIC_URL is https://...).
	// Over TLS they always are.
	SecureCookies bool
	// SessionTTL is how long a sign-in lasts, from sign-in (an absolute
	// expiry kept in the session record); DefaultSessionTTL when 0.
	SessionTTL time.Duration
	// MaxImportBytes caps a CSV upload; DefaultMaxImportBytes when 0. The
	// router mounting the console may cap request bodies lower.
	MaxImportBytes int64
	// Now is the clock of pages and imports; time.Now when nil. Sessions
	// expire by the service's clock, which keeps their records.
	Now func() time.Time
	// Keys is the per-key rate limit of the API (httpapi.Options.Keys):
	// pages count against the bucket of the key signed in with. Nil: none.
	Keys *authlimit.Keys
	// AuthFailures limits the failed sign-ins per client address, shared
	// with the API's failed authentications. Nil: none.
	AuthFailures *authlimit.Failures
	// ClientAddr finds the client's address behind trusted proxies; nil
	// takes the connection's peer.
	ClientAddr *clientaddr.Resolver
}

// Console serves the web console.
type Console struct {
	log     *slog.Logger
	svc     *phonebook.Service
	opts    Options
	seal    *sealer
	assets  *assetSet
	pages   map[string]*template.Template
	imports *importer
	cop     *http.CrossOriginProtection
}

// New returns the console over svc.
func New(log *slog.Logger, svc *phonebook.Service, opts Options) *Console {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.MaxImportBytes <= 0 {
		opts.MaxImportBytes = DefaultMaxImportBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	seal, err := newSealer(opts.SecretKey)
	if err != nil {
		panic("console: " + err.Error()) // only a broken crypto library gets here
	}
	c := &Console{log: log, svc: svc, opts: opts, seal: seal, assets: loadAssets(), cop: http.NewCrossOriginProtection()}
	c.imports = newImporter(c)
	c.pages = c.parseTemplates()
	return c
}

// Close stops the imports still running and waits for them.
func (c *Console) Close() { c.imports.close() }

// Scopes of the routes, as /v1 asks for them.
const (
	scopeRead  = phonebook.ScopeCustomersRead
	scopeWrite = phonebook.ScopeCustomersWrite
	scopeAdmin = phonebook.ScopeAdmin
	anyKey     = ""
)

// Routes lists the console's routes, for the router to mount.
func (c *Console) Routes() []dialect.Route {
	public := func(method, pattern string, h http.HandlerFunc) dialect.Route {
		return dialect.Route{Method: method, Pattern: pattern, Public: true, Source: "console", Handler: h}
	}
	signed := func(method, pattern, scope string, h handlerFunc) dialect.Route {
		return dialect.Route{Method: method, Pattern: pattern, Public: true, Source: "console", Handler: c.withSession(scope, h)}
	}
	const (
		get  = http.MethodGet
		post = http.MethodPost
	)
	return []dialect.Route{
		public(get, "/console", c.handleRoot),
		public(get, "/console/{$}", c.handleRoot),
		public(get, "/console/login", c.handleLoginForm),
		public(post, "/console/login", c.handleLogin),
		public(get, "/console/assets/{version}/{name}", c.assets.serve),
		signed(post, "/console/logout", anyKey, c.handleLogout),

		signed(get, "/console/search", scopeRead, c.handleSearch),
		signed(post, "/console/customers", scopeWrite, c.handleCustomerCreate),
		signed(get, "/console/customers/{id}", scopeRead, c.handleCustomer),
		signed(get, "/console/customers/{id}/history", scopeRead, c.handleHistory),
		signed(post, "/console/customers/{id}/phones", scopeWrite, c.handlePhoneAdd),
		signed(get, "/console/customers/{id}/phones/{phoneId}", scopeRead, c.handlePhone),
		signed(post, "/console/customers/{id}/phones/{phoneId}", scopeWrite, c.handlePhoneEdit),
		signed(post, "/console/customers/{id}/phones/{phoneId}/delete", scopeWrite, c.handlePhoneDelete),
		signed(post, "/console/customers/{id}/phones/{phoneId}/primary", scopeWrite, c.handlePhonePrimary),
		signed(get, "/console/customers/{id}/phones/{phoneId}/history", scopeRead, c.handleHistory),

		signed(get, "/console/phone-types", scopeRead, c.handlePhoneTypes),
		signed(post, "/console/phone-types", scopeAdmin, c.handlePhoneTypeCreate),
		signed(post, "/console/phone-types/{name}/delete", scopeAdmin, c.handlePhoneTypeDelete),

		signed(get, "/console/import", scopeWrite, c.handleImportForm),
		signed(post, "/console/import", scopeWrite, c.handleImportStart),
		signed(get, "/console/import/{id}", scopeWrite, c.handleImportStatus),
		signed(get, "/console/import/{id}/progress", scopeWrite, c.handleImportProgress),
		signed(get, "/console/import/{id}/rejects.csv", scopeWrite, c.handleImportRejects),

		signed(get, "/console/webhooks", scopeAdmin, c.handleWebhooks),
		signed(get, "/console/webhooks/{id}", scopeAdmin, c.handleWebhook),
		signed(post, "/console/webhooks/{id}/deliveries/{deliveryId}/redeliver", scopeAdmin, c.handleRedeliver),

		signed(get, "/console/keys", scopeAdmin, c.handleKeys),
		signed(post, "/console/keys", scopeAdmin, c.handleKeyCreate),
		signed(post, "/console/keys/{id}/revoke", scopeAdmin, c.handleKeyRevoke),
	}
}

// session is a signed-in request.
type session struct {
	auth  *phonebook.Auth
	token string // the session token, from the cookie
	csrf  string
	ctx   context.Context // carries auth: every service call uses it
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, s *session)

func (c *Console) now() time.Time { return c.opts.Now() }

// pageHeaders are sent with every page: the strict CSP, no framing, no
// caching (pages hold customers' data), no referrer beyond this origin.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// withSession looks the session cookie's session up (a session signed out
// on any node, expired, or whose key was revoked is refused at once),
// checks the route's scope and, on POST, the request's origin and CSRF
// token, then runs h with the caller in the request context.
func (c *Console) withSession(scope string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pageHeaders(w)
		ck, err := r.Cookie(sessionCookie)
		if err != nil {
			c.toLogin(w, r, "")
			return
		}
		token, err := c.seal.open(ck.Value)
		if err != nil {
			http.SetCookie(w, c.cookie(r, sessionCookie, "", -1))
			c.toLogin(w, r, "ended")
			return
		}
		a, err := c.svc.SessionAuth(r.Context(), token)
		if phonebook.IsCode(err, phonebook.ECodeUnauthorized) {
			http.SetCookie(w, c.cookie(r, sessionCookie, "", -1))
			c.toLogin(w, r, "ended")
			return
		}
		if err != nil {
			c.errorPage(w, r, nil, err)
			return
		}
		a.Source = "console"
		s := &session{auth: a, token: token, csrf: c.seal.csrfToken("session", token)}
		s.ctx = phonebook.NewContextWithAuth(r.Context(), a)
		if !c.opts.Keys.Allow(w.Header(), a.Key.ID) {
			// The same bucket as the key's API calls: pages are no way around it.
			c.errorPage(w, r, s, phonebook.Errorf(phonebook.ECodeRateLimited, "", "too many requests for this API key"))
			return
		}
		if r.Method == http.MethodPost {
			if ok, tooBig := c.checkPost(w, r, s.csrf); !ok {
				if tooBig != nil {
					c.render(w, r, s, http.StatusRequestEntityTooLarge, "error", &errorPage{
						Heading: "The upload is too large",
						Message: "The request is larger than " + humanBytes(tooBig.Limit) + ": split the file and import the parts one by one.",
					})
					return
				}
				c.render(w, r, s, http.StatusForbidden, "error", &errorPage{
					Heading: "The form has expired",
					Message: "This form was not sent from this console session (it may be from an earlier sign-in). Go back, reload the page and try again.",
				})
				return
			}
		}
		if scope != anyKey && !a.Key.HasScope(scope) {
			c.render(w, r, s, http.StatusForbidden, "error", &errorPage{
				Heading: "Not allowed",
				Message: "The API key you signed in with lacks the " + scope + " scope this page needs.",
			})
			return
		}
		h(w, r.WithContext(s.ctx), s)
	})
}

// checkPost reads a POST's form (the CSV upload up to MaxImportBytes,
// other forms up to 64 KiB) and checks that it came from this origin with
// this session's CSRF token. tooBig is set when the body was over its cap.
func (c *Console) checkPost(w http.ResponseWriter, r *http.Request, want string) (ok bool, tooBig *http.MaxBytesError) {
	if err := c.cop.Check(r); err != nil {
		return false, nil
	}
	var err error
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, c.opts.MaxImportBytes+64<<10)
		err = r.ParseMultipartForm(c.opts.MaxImportBytes + 64<<10)
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		err = r.ParseForm()
	}
	if errors.As(err, &tooBig) {
		return false, tooBig
	}
	if err != nil {
		return false, nil
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return tokenEqual(got, want), nil
}

// toLogin sends a request without a valid session to the sign-in page,
// coming back to where it was after.
func (c *Console) toLogin(w http.ResponseWriter, r *http.Request, msg string) {
	q := url.Values{}
	if msg != "" {
		q.Set("msg", msg)
	}
	if r.Method == http.MethodGet && r.Header.Get("HX-Request") == "" {
		q.Set("next", r.URL.RequestURI())
	}
	target := "/console/login"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	if r.Header.Get("HX-Request") == "true" {
		// htmx follows HX-Redirect with a full page load.
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext accepts only a path of the console as the page to go back to.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "/console/login") ||
		strings.ContainsAny(next, "\\\r\n") || strings.Contains(next, "//") || strings.Contains(next, "..") {
		return "/console/search"
	}
	return next
}

func (c *Console) handleRoot(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/console/search", http.StatusSeeOther)
}

// --- rendering ---

// base is what the layout of every page needs.
type base struct {
	Title    string
	Nav      string
	CSRF     string
	SignedIn bool
	Tenant   string
	KeyName  string
	CanRead  bool
	CanWrite bool
	IsAdmin  bool
	Flash    string
}

// pageData is implemented by every page's data through its embedded base.
type pageData interface{ page() *base }

func (b *base) page() *base { return b }

// errorPage is the data of the error page.
type errorPage struct {
	base
	Heading   string
	Message   string
	RequestID string
}

var templateFiles = []string{"login", "search", "customer", "phone", "history", "phonetypes", "import", "importjob", "webhooks", "webhook", "keys", "error"}

func (c *Console) parseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{
		"asset":        c.assets.url,
		"flag":         flag,
		"words":        words,
		"time":         fmtTime,
		"timeptr":      fmtTimePtr,
		"isotime":      isoTime,
		"consentLabel": consentLabel,
		"eventLabel":   eventLabel,
		"htmxVersion":  func() string { return HTMXVersion },
		"pathEscape":   url.PathEscape,
		"lastAttempt": func(d *phonebook.Delivery) *phonebook.DeliveryAttempt {
			if len(d.AttemptLog) == 0 {
				return nil
			}
			return &d.AttemptLog[len(d.AttemptLog)-1]
		},
		"consentTypes": func() []string {
			return []string{phonebook.ConsentNone, phonebook.ConsentWritten, phonebook.ConsentExpress, phonebook.ConsentStop}
		},
		// fieldErr is the message of input id, or nil: the "fielderr"
		// template writes nothing for nil.
		"fieldErr": func(id, msg string) *fieldError {
			if msg == "" {
				return nil
			}
			return &fieldError{ID: id, Message: msg}
		},
		// dict passes several values to a template.
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, errors.New("dict: odd number of arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, errors.New("dict: keys must be strings")
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"pct": func(done, total int) int {
			if total <= 0 {
				return 100
			}
			return done * 100 / total
		},
	}
	sub, err := fs.Sub(assetFS, "templates")
	if err != nil {
		panic("console: " + err.Error())
	}
	out := map[string]*template.Template{}
	for _, name := range templateFiles {
		t := template.New(name).Funcs(funcs)
		out[name] = template.Must(t.ParseFS(sub, "layout.html", "parts.html", name+".html"))
	}
	return out
}

// render writes page name with data, filling data's base from s.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, name string, data pageData) {
	c.renderTemplate(w, r, s, status, name, "layout", data)
}

// renderTemplate writes template tmpl of page name: "layout" for the whole
// page, or a fragment it defines, for htmx.
func (c *Console) renderTemplate(w http.ResponseWriter, r *http.Request, s *session, status int, name, tmpl string, data pageData) {
	b := data.page()
	if s != nil {
		b.SignedIn = true
		b.CSRF = s.csrf
		b.Tenant = s.auth.Tenant.Slug
		b.KeyName = s.auth.Key.Name
		if b.KeyName == "" {
			b.KeyName = "key " + strconv.FormatInt(s.auth.Key.ID, 10)
		}
		b.CanRead = s.auth.Key.HasScope(scopeRead)
		b.CanWrite = s.auth.Key.HasScope(scopeWrite)
		b.IsAdmin = s.auth.Key.HasScope(scopeAdmin)
	}
	if b.Flash == "" {
		b.Flash = flashes[r.URL.Query().Get("done")]
	}
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, tmpl, data); err != nil {
		c.log.Error("console: render", "page", name, "template", tmpl, "err", err)
		buf.Reset()
		buf.WriteString("<!DOCTYPE html><title>Error</title><main><h1>Something went wrong</h1><p>The page could not be shown.</p></main>")
		status = http.StatusInternalServerError
	}
	pageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// flashes are the messages a page shows after a redirect (?done=...):
// codes only, so no text of the URL reaches the page.
var flashes = map[string]string{
	"customer-created": "Customer created.",
	"phone-added":      "Phone added.",
	"phone-saved":      "Phone saved.",
	"phone-deleted":    "Phone deleted.",
	"primary":          "Primary phone changed.",
	"type-added":       "Phone type added.",
	"type-deleted":     "Phone type deleted.",
	"redelivered":      "Delivery queued again.",
	"key-revoked":      "Key revoked.",
	"unchanged":        "Nothing to save: the phone is unchanged.",
}

// errorPage shows a service error as a page: not found, forbidden,
// unavailable, or (internal) a generic message, with the detail only in
// the log.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, s *session, err error) {
	p := &errorPage{base: base{Title: "Error"}}
	status := http.StatusInternalServerError
	switch phonebook.ErrorCode(err) {
	case phonebook.ECodeNotFound:
		status, p.Heading, p.Message = http.StatusNotFound, "Not found", "There is nothing here in this tenant: "+phonebook.ErrorMessage(err)+"."
	case phonebook.ECodeForbidden:
		status, p.Heading, p.Message = http.StatusForbidden, "Not allowed", phonebook.ErrorMessage(err)+"."
	case phonebook.ECodeUnavailable:
		status, p.Heading, p.Message = http.StatusServiceUnavailable, "Try again in a moment", "The database cannot be reached right now."
		w.Header().Set("Retry-After", "1")
	case phonebook.ECodeRateLimited:
		// Retry-After is set by whoever refused the request.
		status, p.Heading, p.Message = http.StatusTooManyRequests, "Slow down", "Too many requests: "+phonebook.ErrorMessage(err)+". Wait "+w.Header().Get("Retry-After")+" seconds and try again."
	case phonebook.ECodeInternal:
		p.Heading, p.Message = "Something went wrong", "The request could not be completed. If it keeps happening, give the request id below to the operators."
		c.log.Error("console: internal error", "path", r.URL.Path, "err", err)
	default:
		status, p.Heading, p.Message = http.StatusUnprocessableEntity, "That did not work", phonebook.ErrorMessage(err)
	}
	p.Title = p.Heading
	p.RequestID = w.Header().Get("X-Request-ID")
	if r.Header.Get("HX-Request") == "true" {
		// htmx swaps 2xx answers only: show the error where the fragment goes.
		c.renderTemplate(w, r, s, http.StatusOK, "error", "error-fragment", p)
		return
	}
	c.render(w, r, s, status, "error", p)
}

// --- form errors ---

// fieldError is one message of a form, on an input (ID) or the whole form.
type fieldError struct {
	ID      string
	Message string
}

// formErrors maps input ids to messages; List keeps every message in order
// for the summary at the top of the form.
type formErrors struct {
	byID map[string]string
	List []fieldError
}

// For returns the message of input id.
func (f *formErrors) For(id string) string {
	if f == nil {
		return ""
	}
	return f.byID[id]
}

// Any reports whether there is any message.
func (f *formErrors) Any() bool { return f != nil && len(f.List) > 0 }

func (f *formErrors) add(id, msg string) {
	if f.byID == nil {
		f.byID = map[string]string{}
	}
	if id != "" {
		if _, dup := f.byID[id]; dup {
			f.byID[id] += " " + msg
		} else {
			f.byID[id] = msg
		}
	}
	f.List = append(f.List, fieldError{ID: id, Message: msg})
}

// fieldIDs maps the service's field names to the console's input ids.
var fieldIDs = map[string]string{
	"number": "number", "country_code": "country", "extension": "extension", "type": "type",
	"label": "label", "notes": "notes", "status": "status", "line_kind": "line_kind",
	"consent.type": "consent_type", "consent.source": "consent_source",
	"name": "name", "external_id": "external_id", "is_primary": "primary",
	"scopes": "scopes", "format": "format",
}

// formErrorsOf turns a service error into form messages, each on its input
// where the service names one. ok is false for errors that are not about
// actionErrorsOf is formErrorsOf for a button's action (delete, revoke):
// its refusal is about the row acted on, not a form input, so no message
// points at an input.
func actionErrorsOf(err error) (*formErrors, bool) {
	fe, ok := formErrorsOf(err, "")
	if !ok {
		return nil, false
	}
	for i := range fe.List {
		fe.List[i].ID = ""
	}
	return fe, true
}

// the input (not found, unavailable, internal): those get the error page.
func formErrorsOf(err error, prefix string) (*formErrors, bool) {
	switch phonebook.ErrorCode(err) {
	case phonebook.ECodeNotFound, phonebook.ECodeUnavailable, phonebook.ECodeInternal, phonebook.ECodeUnauthorized:
		return nil, false
	}
	f := &formErrors{}
	for _, e := range phonebook.FieldErrors(err) {
		id := fieldIDs[e.Field]
		if id != "" {
			id = prefix + id
		}
		f.add(id, phonebook.ErrorMessage(e))
	}
	if !f.Any() {
		f.add("", phonebook.ErrorMessage(err))
	}
	return f, true
}

// humanBytes writes n bytes as KiB or MiB.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
