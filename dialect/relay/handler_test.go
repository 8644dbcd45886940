package relay_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/relay"
)

func TestRoutes(t *testing.T) {
	routes := relay.New(nil, nil).Routes()
	var got []string
	for _, rt := range routes {
		got = append(got, rt.Method+" "+rt.Pattern)
		if rt.Scope != phonebook.ScopeCustomersWrite || rt.Source != "relay" || rt.Public || rt.Auth == nil || rt.Unauthorized == nil || rt.Handler == nil {
			t.Errorf("route %s %s: got scope %q source %q public %v auth %v unauthorized %v, want customers:write, relay, a key read from xx-relay-api-key",
				rt.Method, rt.Pattern, rt.Scope, rt.Source, rt.Public, rt.Auth != nil, rt.Unauthorized != nil)
		}
	}
	want := []string{
		"PUT /platform/v3/api/cdm/client/{client_id}/customer/{ccid}/add_phone/{phone_number}",
		"POST /platform/v3/api/cdm/client/{client_id}/customer/{ccid}/add_phone/{phone_number}",
		"PUT /platform/v3/api/cdm/client/{client_id}/customer/{ccid}/remove_phone/{phone_number}",
		"POST /platform/v3/api/cdm/client/{client_id}/customer/{ccid}/remove_phone/{phone_number}",
		"PUT /platform/v3/api/messaging/client/{client_id}/consent/channel_addr/{addr}/channel_type/sms",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got routes %q, want %q", got, want)
	}
}

// TestAddPhoneFields: what each body stores, seen through /v1.
func TestAddPhoneFields(t *testing.T) {
	e := newEnv(t)
	type stored struct {
		E164, Raw, Type, LineType, ConsentType, ConsentSource string
	}
	tests := []struct {
		name   string
		number string
		body   string
		header []string
		want   stored
	}{
		{"no body: every default", "5045550100", "", nil,
			stored{"+15045550100", "5045550100", "other", "fixed_line_or_mobile", "none", "relay"}},
		{"no Content-Type, JSON body", "5045550101", `{"consent_type":"written"}`, []string{"Content-Type", ""},
			stored{"+15045550101", "5045550101", "other", "fixed_line_or_mobile", "written", "relay"}},
		{"form Content-Type, JSON body", "5045550102", `{"consent_type":"stop"}`, []string{"Content-Type", "application/x-www-form-urlencoded"},
			stored{"+15045550102", "5045550102", "other", "fixed_line_or_mobile", "stop", "relay"}},
		{"empty object", "5045550103", `{}`, nil,
			stored{"+15045550103", "5045550103", "other", "fixed_line_or_mobile", "none", "relay"}},
		{"null body", "5045550104", `null`, nil,
			stored{"+15045550104", "5045550104", "other", "fixed_line_or_mobile", "none", "relay"}},
		{"whitespace body", "5045550105", " \n ", nil,
			stored{"+15045550105", "5045550105", "other", "fixed_line_or_mobile", "none", "relay"}},
		{"phone_type mobile", "5045550106", `{"phone_type":"mobile","consent_type":"express"}`, nil,
			stored{"+15045550106", "5045550106", "mobile", "mobile", "express", "relay"}},
		{"phone_type landline", "5045550107", `{"phone_type":"landline"}`, nil,
			stored{"+15045550107", "5045550107", "home", "fixed_line", "none", "relay"}},
		{"phone_type unknown", "5045550108", `{"phone_type":"unknown"}`, nil,
			stored{"+15045550108", "5045550108", "other", "fixed_line_or_mobile", "none", "relay"}},
		{"11 digits with the country code in front", "15045550109", `{"country_code":"1"}`, nil,
			stored{"+15045550109", "15045550109", "other", "fixed_line_or_mobile", "none", "relay"}},
		{"11 digits, default country code", "15045550110", "", nil,
			stored{"+15045550110", "15045550110", "other", "fixed_line_or_mobile", "none", "relay"}},
		{"country_code as a JSON number", "5045550111", `{"country_code":1}`, nil,
			stored{"+15045550111", "5045550111", "other", "fixed_line_or_mobile", "none", "relay"}},
		{"country_code +1", "5045550112", `{"country_code":"+1"}`, nil,
			stored{"+15045550112", "5045550112", "other", "fixed_line_or_mobile", "none", "relay"}},
		{"country_code 44", "2079460123", `{"country_code":"44"}`, nil,
			stored{"+442079460123", "2079460123", "other", "fixed_line", "none", "relay"}},
		{"country_code 44, 11 digits with trunk 0", "07700900123", `{"country_code":"44","phone_type":"mobile"}`, nil,
			stored{"+447700900123", "07700900123", "mobile", "mobile", "none", "relay"}},
		{"client_source of 100 characters", "5045550113", `{"client_source":"` + strings.Repeat("s", 100) + `"}`, nil,
			stored{"+15045550113", "5045550113", "other", "fixed_line_or_mobile", "none", strings.Repeat("s", 100)}},
		{"empty strings take the defaults", "5045550114", `{"consent_type":"","phone_type":"","country_code":"","client_source":" "}`, nil,
			stored{"+15045550114", "5045550114", "other", "fixed_line_or_mobile", "none", "relay"}},
		{"unknown fields are ignored", "5045550115", `{"consent_type":"written","channel":"sms","extra":{"a":[1,2]}}`, nil,
			stored{"+15045550115", "5045550115", "other", "fixed_line_or_mobile", "written", "relay"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ccid := fmt.Sprintf("F-%02d", i)
			c := e.customer(writeKey, ccid)
			got := e.do(http.MethodPut, path("default", ccid, "add_phone", tt.number), writeKey, tt.body, tt.header...)
			check(t, got, http.StatusOK, "Phone number "+tt.number+" has been added to customer with ccid "+ccid+" for client default.")
			ps := e.phones(writeKey, c)
			if len(ps) != 1 {
				t.Fatalf("got %d phones through /v1, want 1", len(ps))
			}
			p := ps[0]
			if g := (stored{p.E164, p.Raw, p.Type, p.LineType, p.Consent.Type, p.Consent.Source}); g != tt.want {
				t.Errorf("got %+v, want %+v", g, tt.want)
			}
		})
	}
}

// TestElevenDigits: "15045550123" with country_code "1" is +1 504 555 0123,
// the same number as "5045550123" (a duplicate), and removes it.
func TestElevenDigits(t *testing.T) {
	e := newEnv(t)
	c := e.customer(writeKey, "C-11")
	check(t, e.add("C-11", "15045550123", `{"country_code":"1"}`), http.StatusOK, "Phone number 15045550123 has been added to customer with ccid C-11 for client default.")
	if got, want := e164s(e.phones(writeKey, c)), []string{"+15045550123"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	check(t, e.add("C-11", "5045550123", ""), http.StatusConflict, "Phone number 5045550123 already exists for customer with ccid C-11")
	check(t, e.add("C-11", "15045550123", ""), http.StatusConflict, "Phone number 15045550123 already exists for customer with ccid C-11")
	got := e.do(http.MethodPut, path("default", "C-11", "remove_phone", "5045550123"), writeKey, "")
	check(t, got, http.StatusOK, "Phone number 5045550123 has been removed from customer with ccid C-11 for client default.")
	if got := e164s(e.phones(writeKey, c)); len(got) != 0 {
		t.Errorf("got %v after remove, want none", got)
	}
}

// TestValidation: every Relay limit is a 400 with a message naming the
// Relay field, and nothing is stored.
func TestValidation(t *testing.T) {
	e := newEnv(t)
	c := e.customer(writeKey, "CC-1001")
	long := strings.Repeat("x", 101)
	tests := []struct {
		name   string
		ccid   string
		number string
		body   string
		want   string
	}{
		{"9 digits", "", "504555012", "", "phone_number must have 10 to 11 digits"},
		{"12 digits", "", "150455501234", "", "phone_number must have 10 to 11 digits"},
		{"a letter", "", "504555012a", "", "phone_number must hold digits only"},
		{"a plus", "", "+15045550123", "", "phone_number must hold digits only"},
		{"dashes", "", "504-555-0123", "", "phone_number must hold digits only"},
		{"11 digits, not the country code in front", "", "25045550123", "", "phone_number has the wrong length for a number of +1"},
		{"consent_type not a Relay value", "", "5045550123", `{"consent_type":"maybe"}`, "consent_type must be written, express or stop"},
		{"consent_type none (the domain's, not Relay's)", "", "5045550123", `{"consent_type":"none"}`, "consent_type must be written, express or stop"},
		{"consent_type upper case", "", "5045550123", `{"consent_type":"WRITTEN"}`, "consent_type must be written, express or stop"},
		{"consent_type a number", "", "5045550123", `{"consent_type":5}`, "consent_type must be a string"},
		{"phone_type not a Relay value", "", "5045550123", `{"phone_type":"cell"}`, "phone_type must be mobile, landline or unknown"},
		{"phone_type a type of the registry but not Relay's", "", "5045550123", `{"phone_type":"home"}`, "phone_type must be mobile, landline or unknown"},
		{"country_code over 10 characters", "", "5045550123", `{"country_code":"12345678901"}`, "country_code must be at most 10 characters"},
		{"country_code unknown", "", "5045550123", `{"country_code":"999"}`, `country_code: unknown country or calling code "999"`},
		{"country_code a boolean", "", "5045550123", `{"country_code":true}`, "country_code must be a string"},
		{"country_code a fraction", "", "5045550123", `{"country_code":1.5}`, "country_code must be a string"},
		{"client_source over 100 characters", "", "5045550123", `{"client_source":"` + long + `"}`, "client_source must be printable and at most 100 characters"},
		{"client_source with a control character", "", "5045550123", `{"client_source":"a\u0001b"}`, "client_source must be printable and at most 100 characters"},
		{"several problems at once", "", "504555012", `{"phone_type":"cell","consent_type":"maybe"}`,
			"phone_number must have 10 to 11 digits; phone_type must be mobile, landline or unknown; consent_type must be written, express or stop"},
		{"malformed JSON", "", "5045550123", `{"consent_type":`, "request body is not valid JSON"},
		{"form body", "", "5045550123", `consent_type=written`, "request body is not valid JSON"},
		{"a JSON array", "", "5045550123", `[{"consent_type":"written"}]`, "request body must be a JSON object"},
		{"a JSON string", "", "5045550123", `"written"`, "request body must be a JSON object"},
		{"two objects", "", "5045550123", `{} {}`, "request body must hold a single JSON object"},
		{"ccid over 100 characters", long, "5045550123", "", "ccid must be at most 100 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ccid := tt.ccid
			if ccid == "" {
				ccid = "CC-1001"
			}
			for _, action := range []string{"add_phone", "remove_phone"} {
				if action == "remove_phone" && (strings.Contains(tt.body, "consent_type") || strings.Contains(tt.body, "phone_type") || strings.Contains(tt.body, "country_code")) {
					continue // remove_phone's body is client_source only (TestRemovePhoneBody)
				}
				got := e.do(http.MethodPut, path("default", ccid, action, tt.number), writeKey, tt.body)
				check(t, got, http.StatusBadRequest, tt.want)
			}
		})
	}
	if got := e164s(e.phones(writeKey, c)); len(got) != 0 {
		t.Errorf("got phones %v after only bad requests, want none", got)
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	e.tenant(phonebook.TenantInput{Slug: "acme"})
	acmeKey := e.key("acme", "relay-acme-key-00001", phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite)
	acmeOnly := e.customer(acmeKey, "ACME-1") // a ccid only tenant acme has
	e.customer(writeKey, "CC-1001")

	tests := []struct {
		name   string
		client string
		ccid   string
		action string
		want   string
	}{
		{"unknown ccid", "default", "CC-9999", "add_phone", "Customer with ccid CC-9999 not found"},
		{"unknown ccid, remove", "default", "CC-9999", "remove_phone", "Customer with ccid CC-9999 not found"},
		{"another tenant's ccid", "default", "ACME-1", "add_phone", "Customer with ccid ACME-1 not found"},
		{"another tenant's ccid, remove", "default", "ACME-1", "remove_phone", "Customer with ccid ACME-1 not found"},
		{"another tenant's client_id", "acme", "ACME-1", "add_phone", "Client not found"},
		{"another tenant's client_id, remove", "acme", "ACME-1", "remove_phone", "Client not found"},
		{"unknown client_id", "nosuch", "CC-1001", "add_phone", "Client not found"},
		{"client_id in another case", "Default", "CC-1001", "add_phone", "Client not found"},
		{"ccid in another case", "default", "cc-1001", "add_phone", "Customer with ccid cc-1001 not found"},
		{"number not held", "default", "CC-1001", "remove_phone", "Phone number 5045550123 not found for customer with ccid CC-1001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"consent_type":"written"}`
			if tt.action == "remove_phone" {
				body = `{"client_source":"crm"}` // its only field
			}
			got := e.do(http.MethodPut, path(tt.client, tt.ccid, tt.action, "5045550123"), writeKey, body)
			check(t, got, http.StatusNotFound, tt.want)
		})
	}
	if got := e164s(e.phones(acmeKey, acmeOnly)); len(got) != 0 {
		t.Errorf("got phones %v on acme's customer, want none", got)
	}
	// acme's own key reaches its own customer under its own client_id.
	got := e.do(http.MethodPut, path("acme", "ACME-1", "add_phone", "5045550123"), acmeKey, "")
	check(t, got, http.StatusOK, "Phone number 5045550123 has been added to customer with ccid ACME-1 for client acme.")
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	c := e.customer(writeKey, "CC-1001")
	revoked := e.key("default", "relay-revoked-key-01", phonebook.ScopeCustomersWrite)
	keys, err := e.svc.APIKeys(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Name == "test" && len(k.Scopes) == 1 && k.Scopes[0] == phonebook.ScopeCustomersWrite {
			if err := e.svc.RevokeAPIKey(e.ctx, k.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	unauth := "Unauthorized: missing or invalid xx-relay-api-key"
	tests := []struct {
		name    string
		action  string
		key     string
		header  []string
		status  int
		message string
	}{
		{"no key", "add_phone", "", nil, http.StatusUnauthorized, unauth},
		{"wrong key", "add_phone", "relay-wrong-key-0001", nil, http.StatusUnauthorized, unauth},
		{"revoked key", "add_phone", revoked, nil, http.StatusUnauthorized, unauth},
		{"key in the native header only", "add_phone", "", []string{"Authorization", "Bearer " + writeKey}, http.StatusUnauthorized, unauth},
		{"read-only key", "add_phone", readKey, nil, http.StatusUnauthorized, "API key lacks permission"},
		{"read-only key, remove", "remove_phone", readKey, nil, http.StatusUnauthorized, "API key lacks permission"},
		{"no key, remove", "remove_phone", "", nil, http.StatusUnauthorized, unauth},
		{"header name in another case", "add_phone", "", []string{"XX-Relay-API-Key", writeKey}, http.StatusOK,
			"Phone number 5045550123 has been added to customer with ccid CC-1001 for client default."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.do(http.MethodPut, path("default", "CC-1001", tt.action, "5045550123"), tt.key, "", tt.header...)
			check(t, got, tt.status, tt.message)
		})
	}
	if got, want := e164s(e.phones(writeKey, c)), []string{"+15045550123"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want only the phone the good key added", got)
	}
}

func TestPostIsServedToo(t *testing.T) {
	e := newEnv(t)
	c := e.customer(writeKey, "CC-1001")
	got := e.do(http.MethodPost, path("default", "CC-1001", "add_phone", "5045550123"), writeKey, `{"consent_type":"written","phone_type":"landline"}`)
	check(t, got, http.StatusOK, "Phone number 5045550123 has been added to customer with ccid CC-1001 for client default.")
	if got, want := e164s(e.phones(writeKey, c)), []string{"+15045550123"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	got = e.do(http.MethodPost, path("default", "CC-1001", "remove_phone", "5045550123"), writeKey, "")
	check(t, got, http.StatusOK, "Phone number 5045550123 has been removed from customer with ccid CC-1001 for client default.")
	got = e.do(http.MethodGet, path("default", "CC-1001", "add_phone", "5045550123"), writeKey, "")
	if got.status != http.StatusMethodNotAllowed {
		t.Errorf("GET add_phone: got status %d, want 405", got.status)
	}
}

func TestRemovePhone(t *testing.T) {
	e := newEnv(t)
	c := e.customer(writeKey, "CC-1001")
	e.never = append(e.never, "5045550123", "5045550124")
	for _, n := range []string{"5045550123", "5045550124"} {
		check(t, e.add("CC-1001", n, `{"consent_type":"written"}`), http.StatusOK, "Phone number "+n+" has been added to customer with ccid CC-1001 for client default.")
	}
	// Remove the primary (the first phone): the other one is promoted.
	got := e.do(http.MethodPut, path("default", "CC-1001", "remove_phone", "15045550123"), writeKey, `{"client_source":"crm"}`)
	check(t, got, http.StatusOK, "Phone number 15045550123 has been removed from customer with ccid CC-1001 for client default.")
	ps := e.phones(writeKey, c)
	if len(ps) != 1 || ps[0].E164 != "+15045550124" || !ps[0].IsPrimary {
		t.Errorf("got %+v, want only +15045550124, primary", ps)
	}
	got = e.do(http.MethodPut, path("default", "CC-1001", "remove_phone", "5045550123"), writeKey, "")
	check(t, got, http.StatusNotFound, "Phone number 5045550123 not found for customer with ccid CC-1001")
	// country_code is not a field of remove_phone: refused, nothing removed.
	got = e.do(http.MethodPut, path("default", "CC-1001", "remove_phone", "5045550124"), writeKey, `{"country_code":"44"}`)
	check(t, got, http.StatusBadRequest, "remove_phone reads phone_number with country code 1: country_code must be 1 or absent")
	if len(e.phones(writeKey, c)) != 1 {
		t.Errorf("remove with country_code 44 removed the +1 phone")
	}
}

// TestLimits: Relay's 50 per ccid and 50 per number, with the tenant's own
// limits in the 409 messages.
func TestLimits(t *testing.T) {
	e := newEnv(t)
	e.tenant(phonebook.TenantInput{Slug: "small", MaxPhonesPerCustomer: 3, MaxCustomersPerNumber: 2})
	small := e.key("small", "relay-small-key-0001", phonebook.ScopeCustomersWrite, phonebook.ScopeCustomersRead)
	addTo := func(client, key, ccid, number string) reply {
		return e.do(http.MethodPut, path(client, ccid, "add_phone", number), key, `{"consent_type":"written","phone_type":"mobile"}`)
	}
	added := func(number, ccid string) string {
		client := "small"
		if strings.HasPrefix(ccid, "BIG-") || strings.HasPrefix(ccid, "MANY-") {
			client = "default"
		}
		return "Phone number " + number + " has been added to customer with ccid " + ccid + " for client " + client + "."
	}

	t.Run("phones per ccid, small tenant", func(t *testing.T) {
		c := e.customer(small, "S-1")
		for i := range 3 {
			n := fmt.Sprintf("50455501%02d", i)
			check(t, addTo("small", small, "S-1", n), http.StatusOK, added(n, "S-1"))
		}
		check(t, addTo("small", small, "S-1", "5045550199"), http.StatusConflict, "Customer with ccid S-1 already has 3 phone numbers")
		if got := len(e.phones(small, c)); got != 3 {
			t.Errorf("got %d phones, want 3", got)
		}
	})
	t.Run("ccids per number, small tenant", func(t *testing.T) {
		for _, ccid := range []string{"N-1", "N-2", "N-3"} {
			e.customer(small, ccid)
		}
		check(t, addTo("small", small, "N-1", "5045550200"), http.StatusOK, added("5045550200", "N-1"))
		check(t, addTo("small", small, "N-2", "15045550200"), http.StatusOK, added("15045550200", "N-2"))
		check(t, addTo("small", small, "N-3", "5045550200"), http.StatusConflict, "Phone number 5045550200 is already associated with 2 customers")
		// Freeing one place lets the third customer in.
		got := e.do(http.MethodPut, path("small", "N-1", "remove_phone", "5045550200"), small, "")
		check(t, got, http.StatusOK, "Phone number 5045550200 has been removed from customer with ccid N-1 for client small.")
		check(t, addTo("small", small, "N-3", "5045550200"), http.StatusOK, added("5045550200", "N-3"))
	})
	t.Run("51st phone of a ccid, default tenant", func(t *testing.T) {
		start := time.Now()
		c := e.customer(writeKey, "BIG-1")
		for i := range 50 {
			n := fmt.Sprintf("50455510%02d", i)
			check(t, addTo("default", writeKey, "BIG-1", n), http.StatusOK, added(n, "BIG-1"))
		}
		check(t, addTo("default", writeKey, "BIG-1", "5045551099"), http.StatusConflict, "Customer with ccid BIG-1 already has 50 phone numbers")
		if got := len(e.phones(writeKey, c)); got != 50 {
			t.Errorf("got %d phones, want 50", got)
		}
		t.Logf("51 add_phone calls in %v", time.Since(start))
	})
	t.Run("51st ccid of a number, default tenant", func(t *testing.T) {
		start := time.Now()
		for i := range 51 {
			e.customer(writeKey, fmt.Sprintf("MANY-%02d", i))
		}
		for i := range 50 {
			ccid := fmt.Sprintf("MANY-%02d", i)
			check(t, addTo("default", writeKey, ccid, "5045552000"), http.StatusOK, added("5045552000", ccid))
		}
		check(t, addTo("default", writeKey, "MANY-50", "5045552000"), http.StatusConflict, "Phone number 5045552000 is already associated with 50 customers")
		t.Logf("51 customers and add_phone calls in %v", time.Since(start))
	})
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t)
	c := e.customer(writeKey, "CC-1001")
	body := `{"consent_type":"written","client_source":"` + strings.Repeat("a", 1<<20) + `"}`
	for _, action := range []string{"add_phone", "remove_phone"} {
		got := e.do(http.MethodPut, path("default", "CC-1001", action, "5045550123"), writeKey, body)
		check(t, got, http.StatusRequestEntityTooLarge, "request body is larger than 1048576 bytes")
	}
	if got := e164s(e.phones(writeKey, c)); len(got) != 0 {
		t.Errorf("got %v, want no phone", got)
	}
}

// TestStoreFailure: a store that fails is a 500 with no detail.
func TestStoreFailure(t *testing.T) {
	e := newEnv(t)
	e.customer(writeKey, "CC-1001")
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	got := e.add("CC-1001", "5045550123", `{"consent_type":"written"}`)
	check(t, got, http.StatusInternalServerError, "internal error")
}

// TestErrorTable: every code of the table, including those no request can
// provoke on demand.
func TestErrorTable(t *testing.T) {
	var logs logBuffer
	d := relay.New(slog.New(slog.NewTextHandler(&logs, nil)), nil)
	tests := []struct {
		err        error
		status     int
		message    string
		retryAfter string
	}{
		{phonebook.Errorf(phonebook.ECodeUnavailable, "", "store busy"), http.StatusServiceUnavailable, "service unavailable, please retry your request", "1"},
		{&phonebook.Error{Code: phonebook.ECodeInternal, Message: "store error", Err: errors.New("secret detail")}, http.StatusInternalServerError, "internal error", ""},
		{errors.New("not a domain error: secret detail"), http.StatusInternalServerError, "internal error", ""},
		{phonebook.Errorf("some_new_code", "", "secret detail"), http.StatusInternalServerError, "internal error", ""},
		{phonebook.Errorf(phonebook.ECodeUnauthorized, "", "missing or invalid API key"), http.StatusUnauthorized, "Unauthorized: missing or invalid xx-relay-api-key", ""},
		{phonebook.Errorf(phonebook.ECodeForbidden, "", "this key lacks the customers:write scope"), http.StatusUnauthorized, "API key lacks permission", ""},
		{phonebook.Errorf(phonebook.ECodeTypeUnknown, "type", "unknown phone type"), http.StatusBadRequest, "phone_type is not available for this client", ""},
		{phonebook.Errorf(phonebook.ECodeConflict, "external_id", "external_id is taken"), http.StatusConflict, "external_id is taken", ""},
	}
	for _, tt := range tests {
		t.Run(phonebook.ErrorCode(tt.err), func(t *testing.T) {
			w := httptest.NewRecorder()
			relay.WriteError(d, w, httptest.NewRequest(http.MethodPut, "/", nil), tt.err)
			if w.Code != tt.status {
				t.Errorf("got status %d, want %d", w.Code, tt.status)
			}
			if got, want := strings.TrimSpace(w.Body.String()), fmt.Sprintf(`{"message":%q}`, tt.message); got != want {
				t.Errorf("got body %s, want %s", got, want)
			}
			if got := w.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("got Retry-After %q, want %q", got, tt.retryAfter)
			}
			if bytes.Contains(w.Body.Bytes(), []byte("secret detail")) {
				t.Errorf("the body leaks the internal detail: %s", w.Body)
			}
		})
	}
	if !strings.Contains(logs.String(), "secret detail") {
		t.Errorf("internal errors were not logged: %s", logs.String())
	}
}
