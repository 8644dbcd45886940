package relay_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
)

// consentPath is the Relay consent route for addr under client.
func consentPath(client, addr string) string {
	return "/platform/v3/api/messaging/client/" + client + "/consent/channel_addr/" + addr + "/channel_type/sms"
}

// setConsent calls the consent route on tenant default with the write key.
func (e *env) setConsent(addr, body string) reply {
	e.t.Helper()
	return e.do(http.MethodPut, consentPath(phonebook.DefaultTenantSlug, addr), writeKey, body)
}

// v1Consent is GET /v1/numbers/{number}/consent as the native API answers.
type v1Consent struct {
	E164   string `json:"e164"`
	Type   string `json:"type"`
	Record *struct {
		Type    string `json:"type"`
		Source  string `json:"source"`
		Via     string `json:"via"`
		KeyName string `json:"key_name"`
	} `json:"record"`
	History []struct {
		Type   string `json:"type"`
		Source string `json:"source"`
		Via    string `json:"via"`
	} `json:"history"`
}

// consent reads the number's consent through the native API.
func (e *env) consent(secret, number string) v1Consent {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.ts.URL+"/v1/numbers/"+url.PathEscape(number)+"/consent?history=true", nil)
	if err != nil {
		e.t.Fatalf("NewRequest: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("GET consent: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET /v1/numbers/%s/consent: status %d: %s", number, resp.StatusCode, b)
	}
	var out v1Consent
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("decode consent: %v", err)
	}
	return out
}

// TestConsentRoute: the consent route writes the tenant's ledger and the
// number's state reaches every phone holding it, of every customer.
func TestConsentRoute(t *testing.T) {
	e := newEnv(t)
	c1 := e.customer(writeKey, "CC-1001")
	c2 := e.customer(writeKey, "CC-1002")
	check(t, e.add("CC-1001", "5045550123", `{"consent_type":"express"}`), http.StatusOK, "Phone number 5045550123 has been added to customer with ccid CC-1001 for client default.")
	check(t, e.add("CC-1002", "15045550123", ""), http.StatusOK, "Phone number 15045550123 has been added to customer with ccid CC-1002 for client default.")

	got := e.setConsent("5045550123", `{"consent_type":"stop","client_source":"  sms-gateway  "}`)
	check(t, got, http.StatusOK, "Consent for channel_addr 5045550123 has been set to stop")
	for _, c := range []*phonebook.Customer{c1, c2} {
		ps := e.phones(writeKey, c)
		if len(ps) != 1 || ps[0].Consent.Type != "stop" || ps[0].Consent.Source != "sms-gateway" {
			t.Errorf("customer %s: got phones %+v, want one with consent stop from sms-gateway", c.ExternalID, ps)
		}
	}
	st := e.consent(readKey, "5045550123")
	if st.E164 != "+15045550123" || st.Type != "stop" || st.Record == nil || st.Record.Source != "sms-gateway" || st.Record.Via != "relay" {
		t.Errorf("GET /v1/numbers/.../consent: got %+v, want stop from sms-gateway via relay", st)
	}

	// 11 digits with the country code in front are the same number; no
	// client_source records "relay".
	got = e.setConsent("15045550123", `{"consent_type":"written"}`)
	check(t, got, http.StatusOK, "Consent for channel_addr 15045550123 has been set to written")
	st = e.consent(readKey, "+15045550123")
	if st.Type != "written" || st.Record == nil || st.Record.Source != "relay" {
		t.Errorf("after written without client_source: got %+v, want written from relay", st)
	}
	// The ledger keeps every entry: add_phone's express, then stop, then written.
	var kinds []string
	for _, h := range st.History {
		kinds = append(kinds, h.Type+"/"+h.Via)
	}
	if got, want := strings.Join(kinds, " "), "express/relay stop/relay written/relay"; got != want {
		t.Errorf("ledger: got %q, want %q", got, want)
	}

	// A number nobody holds has a ledger too.
	check(t, e.setConsent("5045550199", `{"consent_type":"express","country_code":"1"}`), http.StatusOK,
		"Consent for channel_addr 5045550199 has been set to express")
	if st := e.consent(readKey, "5045550199"); st.Type != "express" {
		t.Errorf("number held by nobody: got %+v, want express", st)
	}
}

func TestConsentRouteErrors(t *testing.T) {
	e := newEnv(t)
	e.tenant(phonebook.TenantInput{Slug: "acme"})
	acmeKey := e.key("acme", "relay-acme-key-00001", phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite)
	long := strings.Repeat("x", 101)
	tests := []struct {
		name   string
		client string
		addr   string
		key    string
		body   string
		status int
		want   string
	}{
		{"no consent_type", "default", "5045550123", writeKey, "", http.StatusBadRequest, "consent_type must be written, express or stop"},
		{"empty object", "default", "5045550123", writeKey, `{}`, http.StatusBadRequest, "consent_type must be written, express or stop"},
		{"consent_type not a Relay value", "default", "5045550123", writeKey, `{"consent_type":"maybe"}`, http.StatusBadRequest, "consent_type must be written, express or stop"},
		{"consent_type none", "default", "5045550123", writeKey, `{"consent_type":"none"}`, http.StatusBadRequest, "consent_type must be written, express or stop"},
		{"consent_type a number", "default", "5045550123", writeKey, `{"consent_type":1}`, http.StatusBadRequest, "consent_type must be a string"},
		{"9 digits", "default", "504555012", writeKey, `{"consent_type":"stop"}`, http.StatusBadRequest, "channel_addr must have 10 to 11 digits"},
		{"12 digits", "default", "150455501234", writeKey, `{"consent_type":"stop"}`, http.StatusBadRequest, "channel_addr must have 10 to 11 digits"},
		{"a plus", "default", "+15045550123", writeKey, `{"consent_type":"stop"}`, http.StatusBadRequest, "channel_addr must hold digits only"},
		{"dashes", "default", "504-555-0123", writeKey, `{"consent_type":"stop"}`, http.StatusBadRequest, "channel_addr must hold digits only"},
		{"11 digits, not the country code in front", "default", "25045550123", writeKey, `{"consent_type":"stop"}`, http.StatusBadRequest, "channel_addr has the wrong length for a number of +1"},
		{"client_source over 100 characters", "default", "5045550123", writeKey, `{"consent_type":"stop","client_source":"` + long + `"}`, http.StatusBadRequest, "client_source must be printable and at most 100 characters"},
		{"country_code over 10 characters", "default", "5045550123", writeKey, `{"consent_type":"stop","country_code":"12345678901"}`, http.StatusBadRequest, "country_code must be at most 10 characters"},
		{"malformed JSON", "default", "5045550123", writeKey, `{"consent_type":`, http.StatusBadRequest, "request body is not valid JSON"},
		{"another tenant's client_id", "acme", "5045550123", writeKey, `{"consent_type":"stop"}`, http.StatusNotFound, "Client not found"},
		{"unknown client_id", "nosuch", "5045550123", writeKey, `{"consent_type":"stop"}`, http.StatusNotFound, "Client not found"},
		{"no key", "default", "5045550123", "", `{"consent_type":"stop"}`, http.StatusUnauthorized, "Unauthorized: missing or invalid xx-relay-api-key"},
		{"read-only key", "default", "5045550123", readKey, `{"consent_type":"stop"}`, http.StatusUnauthorized, "API key lacks permission"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.do(http.MethodPut, consentPath(tt.client, tt.addr), tt.key, tt.body)
			check(t, got, tt.status, tt.want)
		})
	}
	if st := e.consent(readKey, "5045550123"); st.Type != "none" || st.Record != nil || len(st.History) != 0 {
		t.Errorf("after only refused calls: got %+v, want no consent", st)
	}
	// acme's key under its own client_id writes acme's ledger only.
	check(t, e.do(http.MethodPut, consentPath("acme", "5045550123"), acmeKey, `{"consent_type":"stop"}`), http.StatusOK,
		"Consent for channel_addr 5045550123 has been set to stop")
	if st := e.consent(readKey, "5045550123"); st.Type != "none" {
		t.Errorf("default's ledger after acme's call: got %+v, want none", st)
	}
	if st := e.consent(acmeKey, "5045550123"); st.Type != "stop" {
		t.Errorf("acme's ledger: got %+v, want stop", st)
	}
	if got := e.do(http.MethodGet, consentPath("default", "5045550123"), writeKey, ""); got.status != http.StatusMethodNotAllowed {
		t.Errorf("GET on the consent route: got status %d, want 405", got.status)
	}
}

// TestAddPhoneConsentReachesLedger: add_phone's consent_type is written to
// the same ledger the native consent routes read.
func TestAddPhoneConsentReachesLedger(t *testing.T) {
	e := newEnv(t)
	c := e.customer(writeKey, "CC-1001")
	check(t, e.add("CC-1001", "5045550123", `{"consent_type":"stop","client_source":"front-desk"}`), http.StatusOK,
		"Phone number 5045550123 has been added to customer with ccid CC-1001 for client default.")
	st := e.consent(readKey, "(504) 555-0123")
	if st.E164 != "+15045550123" || st.Type != "stop" || st.Record == nil || st.Record.Source != "front-desk" || st.Record.Via != "relay" {
		t.Errorf("GET /v1/numbers/.../consent after add_phone: got %+v, want stop from front-desk via relay", st)
	}
	if ps := e.phones(writeKey, c); len(ps) != 1 || ps[0].Consent.Type != "stop" {
		t.Errorf("the phone: got %+v, want consent stop", ps)
	}
}
