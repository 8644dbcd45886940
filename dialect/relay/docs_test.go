package relay_test

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/phonebook/phonebook"
)

// The requests below are built as Relay's public API reference describes
// them (docs.relaynetwork.com/apidocs/add-phone-number and
// .../remove-phone-number): PUT
// /platform/v3/api/cdm/client/{client_id}/customer/{ccid}/add_phone/{phone_number}
// (and remove_phone), header xx-relay-api-key, a JSON body. The 200 body is
// {"message": ...} with message "Phone number {phone_number} has been added
// to customer with ccid {ccid} for client {client_id}." ("removed from" on
// remove_phone), "Max length 100".

// TestDocumentedSuccessMessage: the message is the documented one, ending
// "for client {client_id}.", on add and remove, for every body the
// reference documents.
func TestDocumentedSuccessMessage(t *testing.T) {
	e := newEnv(t)
	e.customer(writeKey, "BAK-11984-007") // the reference's example ccid
	got := e.do(http.MethodPut, path("default", "BAK-11984-007", "add_phone", "5045550123"), writeKey,
		`{"consent_type":"express","phone_type":"mobile","country_code":"1","client_source":"custom client source"}`)
	check(t, got, http.StatusOK, "Phone number 5045550123 has been added to customer with ccid BAK-11984-007 for client default.")
	if got.raw != `{"message":"Phone number 5045550123 has been added to customer with ccid BAK-11984-007 for client default."}`+"\n" {
		t.Errorf("body %q: want exactly one key, message", got.raw)
	}
	got = e.do(http.MethodPut, path("default", "BAK-11984-007", "remove_phone", "5045550123"), writeKey,
		`{"client_source":"custom client source"}`)
	check(t, got, http.StatusOK, "Phone number 5045550123 has been removed from customer with ccid BAK-11984-007 for client default.")
}

// TestSuccessMessageAtMost100: a ccid of up to 100 characters and a
// client_id of up to 63 would make the message longer than Relay's
// documented 100; the ccid is cut first, then the client_id, each ending
// in "...", and the message keeps its documented ending.
func TestSuccessMessageAtMost100(t *testing.T) {
	e := newEnv(t)
	longSlug := strings.Repeat("c", 63)
	e.tenant(phonebook.TenantInput{Slug: longSlug})
	longKey := e.key(longSlug, "relay-long-key-00001", phonebook.ScopeCustomersWrite, phonebook.ScopeCustomersRead)
	ccid100 := strings.Repeat("k", 99) + "Z"
	ccidUTF8 := strings.Repeat("é", 100) // 200 bytes: cut on a character boundary
	for _, tc := range []struct {
		name, client, key, ccid, number, want string
	}{
		// 62 bytes before the ccid, 20 after: 18 are left for it.
		{"fits exactly as is", "default", writeKey, strings.Repeat("a", 18), "15045550123",
			"Phone number 15045550123 has been added to customer with ccid " + strings.Repeat("a", 18) + " for client default."},
		{"one byte over", "default", writeKey, strings.Repeat("b", 19), "15045550123",
			"Phone number 15045550123 has been added to customer with ccid " + strings.Repeat("b", 15) + "... for client default."},
		{"long ccid", "default", writeKey, ccid100, "15045550123",
			"Phone number 15045550123 has been added to customer with ccid " + strings.Repeat("k", 15) + "... for client default."},
		// A 10-digit number leaves 19 bytes: 16 of "é" (2 bytes each) are 8.
		{"long ccid, multi-byte", "default", writeKey, ccidUTF8, "5045550123",
			"Phone number 5045550123 has been added to customer with ccid " + strings.Repeat("é", 8) + "... for client default."},
		{"long ccid and client_id", longSlug, longKey, ccid100, "15045550123",
			"Phone number 15045550123 has been added to customer with ccid ... for client " + strings.Repeat("c", 19) + "...."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.customer(tc.key, tc.ccid)
			got := e.do(http.MethodPut, path(tc.client, tc.ccid, "add_phone", tc.number), tc.key, `{"consent_type":"written"}`)
			check(t, got, http.StatusOK, tc.want)
			if len(got.message) > 100 || utf8.RuneCountInString(got.message) > 100 {
				t.Errorf("message is %d bytes: %q", len(got.message), got.message)
			}
			got = e.do(http.MethodPut, path(tc.client, tc.ccid, "remove_phone", tc.number), tc.key, "")
			if got.status != http.StatusOK || len(got.message) > 100 || !strings.HasSuffix(got.message, ".") || !strings.Contains(got.message, " has been removed from customer with ccid ") {
				t.Errorf("remove: %d %q (%d bytes)", got.status, got.message, len(got.message))
			}
		})
	}
}

// TestRemovePhoneBody: remove_phone's body is only client_source, as the
// reference documents it. Other fields are ignored (as add_phone ignores
// unknown ones), except a country_code other than 1, which would change
// the number removed and is refused.
func TestRemovePhoneBody(t *testing.T) {
	e := newEnv(t)
	c := e.customer(writeKey, "CC-1001")
	check(t, e.add("CC-1001", "5045550123", ""), http.StatusOK, "Phone number 5045550123 has been added to customer with ccid CC-1001 for client default.")
	for _, tc := range []struct{ name, body, want string }{
		{"country_code 44", `{"country_code":"44"}`, "remove_phone reads phone_number with country code 1: country_code must be 1 or absent"},
		{"country_code 44 beside client_source", `{"client_source":"crm","country_code":44}`, "remove_phone reads phone_number with country code 1: country_code must be 1 or absent"},
		{"country_code US", `{"country_code":"US"}`, "remove_phone reads phone_number with country code 1: country_code must be 1 or absent"},
		{"client_source over 100", `{"client_source":"` + strings.Repeat("s", 101) + `"}`, "client_source must be printable and at most 100 characters"},
		{"client_source a control character", `{"client_source":"a\u0001b"}`, "client_source must be printable and at most 100 characters"},
		{"client_source a number", `{"client_source":5}`, "client_source must be a string"},
		{"not an object", `["crm"]`, "request body must be a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.do(http.MethodPut, path("default", "CC-1001", "remove_phone", "5045550123"), writeKey, tc.body)
			check(t, got, http.StatusBadRequest, tc.want)
		})
	}
	if n := len(e.phones(writeKey, c)); n != 1 {
		t.Fatalf("%d phones after refused removes, want 1", n)
	}
	for _, body := range []string{
		`{"client_source":"custom client source"}`, // the reference's example
		`{"client_source":null,"country_code":null}`,
		`{"country_code":"1"}`, // the default changes nothing: accepted
		`{"country_code":"+1"}`,
		`{"country_code":1}`,
		`null`,
		`{"client_source":"crm","consent_type":"stop","phone_type":"mobile"}`, // add_phone's fields: ignored
	} {
		check(t, e.add("CC-1001", "5045550124", ""), http.StatusOK, "Phone number 5045550124 has been added to customer with ccid CC-1001 for client default.")
		got := e.do(http.MethodPut, path("default", "CC-1001", "remove_phone", "5045550124"), writeKey, body)
		check(t, got, http.StatusOK, "Phone number 5045550124 has been removed from customer with ccid CC-1001 for client default.")
	}
	ps := e.phones(writeKey, c)
	if len(ps) != 1 || ps[0].E164 != "+15045550123" || ps[0].Consent.Source != "relay" {
		t.Errorf("phones %+v: want +15045550123 only, its consent untouched by the removes", ps)
	}
}
