package ticketevolution_test

// Requests replayed exactly as Ticket Evolution's official clients build
// them (issue 15, point 1). Each signer below is written from the client's
// public source, not from the dialect's code:
//
//   - Ruby gem: ticketevolution/ticketevolution-ruby,
//     lib/ticket_evolution/core/connection.rb (Connection#initialize checks
//     the credentials' format; Connection#sign and #process_params build the
//     string to sign), lib/ticket_evolution/core/endpoint/request_handler.rb
//     (the body is MultiJson.encode(params)), lib/ext/hash.rb (params are
//     sorted by key first).
//   - PHP client: ticketevolution/ticketevolution-php, src/TEvoAuthMiddleware.php
//     (sorts the query with uksort strcmp, signs the body for POST and PUT,
//     strips only "https://" from the URL), src/Resources/v9/clients.php
//     (listClientPhoneNumbers sends page=1 and per_page=100 by default).

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
)

// The Ruby gem refuses credentials of another shape before sending
// anything (connection.rb: "Invalid Token Format", "Invalid Secret Format").
var (
	rubyTokenFormat  = regexp.MustCompile(`^[a-zA-Z0-9]{32}$`)
	rubySecretFormat = regexp.MustCompile(`^\S{40}$`)
)

// newV9Key creates a key in the v9 format for tenant "te" and returns its
// token and secret, checked against the Ruby gem's format rules.
func newV9Key(t *testing.T, e *env, scopes ...string) (id int64, token, secret string) {
	t.Helper()
	if len(scopes) == 0 {
		scopes = []string{phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite}
	}
	k, token, err := e.svc.CreateAPIKey(context.Background(), phonebook.KeyInput{TenantSlug: "te", Name: "v9", Scopes: scopes, Format: phonebook.KeyFormatV9})
	if err != nil {
		t.Fatalf("CreateAPIKey(v9): %v", err)
	}
	if !rubyTokenFormat.MatchString(token) {
		t.Fatalf("v9 token %q does not match the Ruby gem's /^[a-zA-Z0-9]{32}$/", token)
	}
	if !rubySecretFormat.MatchString(k.SigningSecret) {
		t.Fatalf("v9 secret %q does not match the Ruby gem's /^\\S{40}$/", k.SigningSecret)
	}
	if !k.RequireSignature {
		t.Fatalf("a v9 key does not require signatures")
	}
	return k.ID, token, k.SigningSecret
}

// rubySign is Connection#sign: "METHOD " + the URL with "?" and the
// payload, "<protocol>://" removed and any ":port/" turned into "/";
// Base64.encode64(...).chomp, which for 32 bytes is standard base64.
// protocol is the gem's Connection.protocol ("https", settable).
func rubySign(secret, method, protocol, url, payload string) string {
	s := strings.ReplaceAll(url+"?"+payload, protocol+"://", "")
	s = regexp.MustCompile(`:\d{2,5}/`).ReplaceAllString(s, "/")
	return hmacB64(secret, method+" "+s)
}

// phpSign is TEvoAuthMiddleware::getSignature: "METHOD " + the URL without
// "https://" and without its query, "?", then the body (POST, PUT) or the
// sorted query.
func phpSign(secret, method, url, payload string) string {
	u := regexp.MustCompile(`https://|\?.*`).ReplaceAllString(url, "")
	return hmacB64(secret, strings.ToUpper(method)+" "+u+"?"+payload)
}

func hmacB64(secret, s string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// send sends a request with exactly these headers and returns the status
// and body.
func (e *env) send(t *testing.T, method, target, body string, header map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return resp.StatusCode, b
}

// TestV9KeyFormat: a key made with Format v9 has the shape the official
// clients accept, and works everywhere a key does (/v1 too).
func TestV9KeyFormat(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	_, token, secret := newV9Key(t, e)
	_, token2, secret2 := newV9Key(t, e)
	if token == token2 || secret == secret2 {
		t.Errorf("two v9 keys share a token or secret")
	}
	status, b := e.send(t, http.MethodGet, "/v1/customers", "", map[string]string{"Authorization": "Bearer " + token})
	if status != http.StatusOK {
		t.Errorf("GET /v1/customers with a v9 token: status = %d, want 200; body %s", status, b)
	}

	for _, tt := range []struct {
		name string
		in   phonebook.KeyInput
	}{
		{"token given, not alphanumeric", phonebook.KeyInput{Secret: strings.Repeat("a", 31) + "_"}},
		{"token given, 31 characters", phonebook.KeyInput{Secret: strings.Repeat("a", 31)}},
		{"secret given, 39 characters", phonebook.KeyInput{SigningSecret: strings.Repeat("s", 39)}},
		{"secret given, with a space", phonebook.KeyInput{SigningSecret: strings.Repeat("s", 39) + " "}},
		{"unknown format", phonebook.KeyInput{Format: "v8"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.TenantSlug, in.Scopes = "te", []string{phonebook.ScopeCustomersRead}
			if in.Format == "" {
				in.Format = phonebook.KeyFormatV9
			}
			if _, _, err := e.svc.CreateAPIKey(context.Background(), in); phonebook.ErrorCode(err) != phonebook.ECodeValidation {
				t.Errorf("CreateAPIKey = %v, want a validation error", err)
			}
		})
	}
	t.Run("token and secret given in the v9 shape", func(t *testing.T) {
		tok, sec := strings.Repeat("Ab1", 10)+"Zz", strings.Repeat("x-_/", 10)
		k, got, err := e.svc.CreateAPIKey(context.Background(), phonebook.KeyInput{TenantSlug: "te", Scopes: []string{phonebook.ScopeCustomersRead}, Format: phonebook.KeyFormatV9, Secret: tok, SigningSecret: sec})
		if err != nil {
			t.Fatalf("CreateAPIKey: %v", err)
		}
		if got != tok || k.SigningSecret != sec {
			t.Errorf("got token %q secret %q, want the given ones", got, k.SigningSecret)
		}
	})
}

// TestRubyGemRequests replays the Ruby gem's requests. The gem signs
// without the port (connection.rb: gsub(/\:\d{2,5}\//, '/')), sends JSON
// bodies without a Content-Type of its own (Faraday with no request
// middleware; Net::HTTP then sends application/x-www-form-urlencoded), and
// sorts parameters by key (hash.rb).
func TestRubyGemRequests(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	_, token, secret := newV9Key(t, e)
	cid := e.MustCustomer(t, e.ctx)
	base := "http://" + e.host() + "/v9" // Connection#uri: url + "/v#{version}" + path
	path := fmt.Sprintf("/clients/%d/phone_numbers", cid)
	headers := func(sig string, body bool) map[string]string {
		h := map[string]string{"X-Signature": sig, "X-Token": token, "User-Agent": "Faraday v0.9.2", "Accept": "*/*"}
		if body {
			h["Content-Type"] = "application/x-www-form-urlencoded"
		}
		return h
	}

	// create: MultiJson.encode of {phone_numbers: [...]}, keys as given
	// inside the records (to_ordered_hash sorts only the top level).
	body := `{"phone_numbers":[{"label":"home","country_code":"+1","number":"504-555-0123","extension":null,"is_primary":false}]}`
	status, b := e.send(t, http.MethodPost, "/v9"+path, body, headers(rubySign(secret, "POST", "http", base+path, body), true))
	if status != http.StatusCreated {
		t.Fatalf("create: status = %d, want 201; body %s", status, b)
	}
	created := mustObj(t, b)
	pid := int64(created["phone_numbers"].([]any)[0].(map[string]any)["id"].(float64))

	// index with params: build_nested_query of the sorted params.
	q := "page=1&per_page=5"
	status, b = e.send(t, http.MethodGet, "/v9"+path+"?"+q, "", headers(rubySign(secret, "GET", "http", base+path, q), false))
	if status != http.StatusOK {
		t.Errorf("index: status = %d, want 200; body %s", status, b)
	}
	// show: no params, "GET host/path?".
	one := fmt.Sprintf("%s/%d", path, pid)
	status, b = e.send(t, http.MethodGet, "/v9"+one, "", headers(rubySign(secret, "GET", "http", base+one, ""), false))
	if status != http.StatusOK {
		t.Errorf("show: status = %d, want 200; body %s", status, b)
	}
	// update.
	upd := `{"label":"work"}`
	status, b = e.send(t, http.MethodPut, "/v9"+one, upd, headers(rubySign(secret, "PUT", "http", base+one, upd), true))
	if status != http.StatusOK || mustObj(t, b)["label"] != "work" {
		t.Errorf("update: status = %d, want 200 and label work; body %s", status, b)
	}
	// The gem on its default protocol (https) behind a TLS proxy signs the
	// same string: the scheme and the port are both stripped.
	if got, want := rubySign(secret, "GET", "https", "https://"+e.host()+"/v9"+one, ""), rubySign(secret, "GET", "http", base+one, ""); got != want {
		t.Errorf("the gem's https and http strings differ: %q, %q", got, want)
	}

	// A failed save: 422 with errors {field: [messages]}, which the gem
	// reads into TicketEvolution::ApiError from the decoded body.
	bad := `{"phone_numbers":[{"label":"home","number":"call me"}]}`
	status, b = e.send(t, http.MethodPost, "/v9"+path, bad, headers(rubySign(secret, "POST", "http", base+path, bad), true))
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("bad create: status = %d, want 422; body %s", status, b)
	}
	var shape struct {
		Error  string              `json:"error"`
		Errors map[string][]string `json:"errors"`
	}
	if err := json.Unmarshal(b, &shape); err != nil || shape.Error == "" || len(shape.Errors["phone_numbers[0].number"]) == 0 {
		t.Errorf("bad create: body %s, want {error, errors: {phone_numbers[0].number: [...]}} (%v)", b, err)
	}

	// Anything else is refused: another body, another path, another key.
	for _, tt := range []struct {
		name, sig string
	}{
		{"signed another body", rubySign(secret, "POST", "http", base+path, `{"phone_numbers":[]}`)},
		{"signed another client", rubySign(secret, "POST", "http", base+"/clients/1/phone_numbers", body)},
		{"signed with another secret", rubySign(strings.Repeat("z", 40), "POST", "http", base+path, body)},
		{"signed as a GET", rubySign(secret, "GET", "http", base+path, body)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, b := e.send(t, http.MethodPost, "/v9"+path, body, headers(tt.sig, true))
			wantError(t, status, b, http.StatusUnauthorized, "invalid X-Signature")
		})
	}
}

// TestPHPClientRequests replays the PHP client's requests: sorted query,
// the URL with its port and, when the base URL is http://, its scheme
// (only "https://" is removed), JSON bodies as json_encode writes them
// (slashes escaped), signed byte for byte.
func TestPHPClientRequests(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	_, token, secret := newV9Key(t, e)
	cid := e.MustCustomer(t, e.ctx)
	path := fmt.Sprintf("/v9/clients/%d/phone_numbers", cid)
	headers := func(sig string, body bool) map[string]string {
		h := map[string]string{"X-Signature": sig, "X-Token": token, "User-Agent": "GuzzleHttp/6.5.5 curl/7.68.0 PHP/7.4.3"}
		if body {
			h["Content-Type"] = "application/json"
		}
		return h
	}

	for _, baseURL := range []string{"http://" + e.host(), "https://" + e.host()} {
		t.Run(baseURL[:strings.Index(baseURL, ":")], func(t *testing.T) {
			// createClientPhoneNumbers: json_encode escapes "/" as "\/".
			body := `{"phone_numbers":[{"label":"home\/work","country_code":"+1","number":"504-555-0199","extension":null,"is_primary":true}]}`
			if strings.HasPrefix(baseURL, "https") {
				body = strings.Replace(body, "0199", "0198", 1)
			}
			status, b := e.send(t, http.MethodPost, path, body, headers(phpSign(secret, "POST", baseURL+path, body), true))
			if status != http.StatusCreated {
				t.Fatalf("create: status = %d, want 201; body %s", status, b)
			}
			if got := mustObj(t, b)["phone_numbers"].([]any)[0].(map[string]any)["label"]; got != "home/work" {
				t.Errorf("label = %v, want home/work", got)
			}
			// listClientPhoneNumbers with its defaults, sorted by the middleware
			// before it is sent and signed.
			q := "page=1&per_page=100"
			status, b = e.send(t, http.MethodGet, path+"?"+q, "", headers(phpSign(secret, "GET", baseURL+path+"?"+q, q), false))
			if status != http.StatusOK {
				t.Errorf("list: status = %d, want 200; body %s", status, b)
			}
			// A query signed sorted but sent unsorted (a proxy reordering it) is
			// still accepted: v9 asks for sorted parameters.
			status, b = e.send(t, http.MethodGet, path+"?per_page=100&page=1", "", headers(phpSign(secret, "GET", baseURL+path+"?"+q, q), false))
			if status != http.StatusOK {
				t.Errorf("list, sent unsorted: status = %d, want 200; body %s", status, b)
			}
			// The signature of one query does not cover another.
			status, b = e.send(t, http.MethodGet, path+"?page=2&per_page=100", "", headers(phpSign(secret, "GET", baseURL+path+"?"+q, q), false))
			wantError(t, status, b, http.StatusUnauthorized, "invalid X-Signature")
		})
	}
}

// TestRequireSignature: a v9 key must sign every request; a tenant's
// operator opts keys in and out (keys require-signature ID on|off); a
// signature that is sent is checked even when not required.
func TestRequireSignature(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	id, token, secret := newV9Key(t, e)
	cid := e.MustCustomer(t, e.ctx)
	target := phonesPath(cid)
	get := func(t *testing.T, token, sig string) (int, []byte) {
		t.Helper()
		h := map[string]string{"X-Token": token}
		if sig != "" {
			h["X-Signature"] = sig
		}
		return e.send(t, http.MethodGet, target, "", h)
	}
	good := hmacB64(secret, "GET "+e.host()+target+"?")
	wrong := hmacB64(secret, "GET "+e.host()+target+"?page=2")

	status, b := get(t, token, "")
	wantError(t, status, b, http.StatusUnauthorized, "missing X-Signature")
	status, b = get(t, token, wrong)
	wantError(t, status, b, http.StatusUnauthorized, "invalid X-Signature")
	if status, b = get(t, token, good); status != http.StatusOK {
		t.Errorf("signed: status = %d, want 200; body %s", status, b)
	}

	// Opted out: no signature is fine, a wrong one is still refused.
	if err := e.svc.SetAPIKeyRequireSignature(context.Background(), id, false); err != nil {
		t.Fatalf("SetAPIKeyRequireSignature(off): %v", err)
	}
	if status, b = get(t, token, ""); status != http.StatusOK {
		t.Errorf("opted out, unsigned: status = %d, want 200; body %s", status, b)
	}
	status, b = get(t, token, wrong)
	wantError(t, status, b, http.StatusUnauthorized, "invalid X-Signature")

	// Opted in again.
	if err := e.svc.SetAPIKeyRequireSignature(context.Background(), id, true); err != nil {
		t.Fatalf("SetAPIKeyRequireSignature(on): %v", err)
	}
	status, b = get(t, token, "")
	wantError(t, status, b, http.StatusUnauthorized, "missing X-Signature")

	// A key without a signing secret cannot be opted in; an unknown key is
	// not found.
	keys, err := e.svc.APIKeys(context.Background())
	if err != nil {
		t.Fatalf("APIKeys: %v", err)
	}
	var plainID int64
	for _, k := range keys {
		if k.Name == "plain" {
			plainID = k.ID
		}
		if k.Name == "signed" && !k.RequireSignature {
			t.Errorf("a key created with a signing secret does not require signatures")
		}
	}
	if err := e.svc.SetAPIKeyRequireSignature(context.Background(), plainID, true); phonebook.ErrorCode(err) != phonebook.ECodeValidation {
		t.Errorf("opting in a key without a signing secret: %v, want a validation error", err)
	}
	if err := e.svc.SetAPIKeyRequireSignature(context.Background(), 99999, true); phonebook.ErrorCode(err) != phonebook.ECodeNotFound {
		t.Errorf("opting in an unknown key: %v, want not_found", err)
	}
	if status, b = get(t, plainKey, ""); status != http.StatusOK {
		t.Errorf("a key without a signing secret, unsigned: status = %d, want 200; body %s", status, b)
	}

	// KeyInput.RequireSignature on a plain key generates a signing secret.
	k, tok, err := e.svc.CreateAPIKey(context.Background(), phonebook.KeyInput{TenantSlug: "te", Scopes: []string{phonebook.ScopeCustomersRead}, RequireSignature: true})
	if err != nil || k.SigningSecret == "" || !k.RequireSignature {
		t.Fatalf("CreateAPIKey(RequireSignature) = %+v, %v; want a key with a signing secret that requires signatures", k, err)
	}
	status, b = get(t, tok, "")
	wantError(t, status, b, http.StatusUnauthorized, "missing X-Signature")
}

// TestCreateOverOnePage: v9 documents no cap on one create, so more than
// 100 records (one page) are taken, up to the service-wide 500.
func TestCreateOverOnePage(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{MaxPhonesPerCustomer: 200})
	cid := e.MustCustomer(t, e.ctx)
	records := make([]string, 101)
	for i := range records {
		records[i] = fmt.Sprintf(`{"number":"504-555-%04d"}`, 1000+i)
	}
	body := `{"phone_numbers":[` + strings.Join(records, ",") + `]}`
	status, b := e.do(t, call{method: http.MethodPost, target: phonesPath(cid), body: body, token: plainKey})
	if status != http.StatusCreated {
		t.Fatalf("status = %d, want 201; body %.300s", status, b)
	}
	page := mustObj(t, b)
	if got := len(page["phone_numbers"].([]any)); got != 101 || page["total_entries"] != 101.0 {
		t.Errorf("created %d, total_entries %v; want 101 and 101", got, page["total_entries"])
	}
	if got := len(e.v1Phones(t, cid)); got != 101 {
		t.Errorf("stored %d phones, want 101", got)
	}
}
