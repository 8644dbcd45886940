package wasp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
)

// The seed page's own request, sent as the page shows it: its values are
// placeholders ("sample string 4" is no phone number), so each record fails
// alone, in the page's response shape, and nothing is stored.
func TestSeedSample(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	c2, c3 := e.customer("sample string 2"), e.customer("sample string 3")

	status, out, raw := e.save(keyRW, readFile(t, "seed_request.json"))
	if got, want := status, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d: %s", got, want, raw)
	}
	golden(t, "seed_response.json", raw)
	if got, want := shape(t, raw), shape(t, readFile(t, "page_response.json")); !slices.Equal(got, want) {
		t.Errorf("response shape differs from the page's:\ngot  %v\nwant %v", got, want)
	}
	if got, want := len(out.Data.ResultList), 2; got != want {
		t.Fatalf("ResultList has %d entries, want %d", got, want)
	}
	for i, r := range out.Data.ResultList {
		if got, want := r.FieldName, "PhoneNumber"; got != want {
			t.Errorf("record %d: FieldName = %q, want %q", i, got, want)
		}
		for _, field := range []string{"PhoneNumber", "CustomerNumber"} {
			if !strings.Contains(r.Message, field) {
				t.Errorf("record %d: Message %q does not tell of %s", i, r.Message, field)
			}
		}
	}
	if got, want := e.countPhones([]*phonebook.Customer{c2, c3}), 0; got != want {
		t.Errorf("stored %d phones, want %d", got, want)
	}
}

// The page's request with real values: both records are stored, and /v1
// shows the numbers normalized to E.164.
func TestRealisticSample(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	c1, c2 := e.customer("C-1001"), e.customer("C-1002")

	status, out, raw := e.save(keyRW, readFile(t, "realistic_request.json"))
	if got, want := status, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d: %s", got, want, raw)
	}
	golden(t, "realistic_response.json", raw)
	if got, want := shape(t, raw), shape(t, readFile(t, "page_response.json")); !slices.Equal(got, want) {
		t.Errorf("response shape differs from the page's:\ngot  %v\nwant %v", got, want)
	}
	if out.HasError || out.Data.SuccessfullResults != 2 || out.Data.ErrorCount != 0 || out.Data.TotalResults != 2 {
		t.Errorf("counts = %+v HasError %v, want 2 successes", *out.Data, out.HasError)
	}
	for _, tc := range []struct {
		c    *phonebook.Customer
		want v1Phone
	}{
		{c1, v1Phone{E164: "+15045550123", Raw: "(504) 555-0123", Extension: "12", Type: "work", IsPrimary: true}},
		{c2, v1Phone{E164: "+442079460958", Raw: "+44 20 7946 0958", Extension: "", Type: "mobile", IsPrimary: true}},
	} {
		got := e.phones(tc.c)
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("customer %s phones = %+v, want [%+v]", tc.c.ExternalID, got, tc.want)
		}
	}
}

// The test: a 500-record save with 10 bad records stores 490 and
// reports each of the 10 at its place.
func TestBatch500With10Bad(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	var customers []*phonebook.Customer
	for i := range 50 {
		customers = append(customers, e.customer(fmt.Sprintf("C-%03d", i)))
	}
	if _, err := e.svc.CreateCustomer(e.other, phonebook.CustomerInput{ExternalID: "X-1"}); err != nil {
		t.Fatal(err)
	}
	records := make([]any, 500)
	for i := range records {
		records[i] = rec(fmt.Sprintf("C-%03d", i/10), fmt.Sprintf("(212) 3%02d-%04d", i/100, i), "", "mobile")
	}
	bad := map[int]struct {
		record any
		field  string
		code   int
		status int
	}{
		3:   {rec("C-000", "12", "", "home"), "PhoneNumber", -1002, 400},
		57:  {rec("C-005", "(212) 300-0057", "", "pager"), "PhoneTypeName", -1003, 400},
		120: {rec("NOPE", "(212) 301-0120", "", "home"), "CustomerNumber", -1004, 404},
		199: {rec("C-019", "(212) 301-0199", "", ""), "PhoneTypeName", -1001, 400},
		250: {rec("C-025", "(212) 302-0250", "12a", "home"), "PhoneExtension", -1001, 400},
		301: {rec("C-030", "(212) 303-0301", "123456789012345678901", "home"), "PhoneExtension", -1001, 400},
		333: {record{"CustomerNumber": "C-033", "CustomerNo": "C-034", "PhoneNumber": "(212) 303-0333", "PhoneTypeName": "home"}, "CustomerNumber", -1001, 400},
		404: {42, "", -1009, 400},
		450: {record{"CustomerNumber": "C-045", "PhoneNumber": map[string]any{}, "PhoneTypeName": "home"}, "PhoneNumber", -1001, 400},
		499: {rec("X-1", "(212) 304-0499", "", "home"), "CustomerNumber", -1004, 404},
	}
	for i, b := range bad {
		records[i] = b.record
	}

	status, out, raw := e.save(keyRW, body(t, records...))
	if got, want := status, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d: %s", got, want, truncate(raw))
	}
	if got, want := len(out.Data.ResultList), 500; got != want {
		t.Fatalf("ResultList has %d entries, want %d", got, want)
	}
	d := out.Data
	if d.TotalResults != 500 || d.SuccessfullResults != 490 || d.ErrorCount != 10 || !out.HasError || out.HasHttpError || out.TotalRecordsLongCount != 500 {
		t.Errorf("Total %d Successfull %d Errors %d HasError %v HasHttpError %v TotalRecordsLongCount %d, want 500 490 10 true false 500",
			d.TotalResults, d.SuccessfullResults, d.ErrorCount, out.HasError, out.HasHttpError, out.TotalRecordsLongCount)
	}
	for i, r := range d.ResultList {
		b, isBad := bad[i]
		switch {
		case isBad && (r.FieldName != b.field || r.ResultCode != b.code || r.HttpStatusCode != b.status || r.Message == ""):
			t.Errorf("record %d = %+v, want FieldName %q ResultCode %d HttpStatusCode %d", i, r, b.field, b.code, b.status)
		case !isBad && (r != wtResult{ResultCode: 0, Message: "Phone created", HttpStatusCode: 200}):
			t.Errorf("record %d = %+v, want a created phone", i, r)
		}
	}
	if !slices.Equal(out.Messages, d.ResultList) {
		t.Errorf("Messages differ from ResultList")
	}
	if got, want := e.countPhones(customers), 490; got != want {
		t.Errorf("stored %d phones, want %d", got, want)
	}
}

// A record matching a phone the customer holds (same number, however
// written, and same extension) updates it; it never duplicates it.
func TestCreateThenUpdate(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	c1, c2 := e.customer("C-1"), e.customer("C-2")
	steps := []struct {
		records []any
		want    []string // Message of each record
		phones  map[*phonebook.Customer][]v1Phone
	}{
		{
			records: []any{rec("C-1", "(504) 555-0123", "", "home")},
			want:    []string{"Phone created"},
			phones:  map[*phonebook.Customer][]v1Phone{c1: {{E164: "+15045550123", Raw: "(504) 555-0123", Type: "home", IsPrimary: true}}},
		},
		{
			records: []any{rec("C-1", "+1 504 555 0123", "", "Work")},
			want:    []string{"Phone updated"},
			phones:  map[*phonebook.Customer][]v1Phone{c1: {{E164: "+15045550123", Raw: "+1 504 555 0123", Type: "work", IsPrimary: true}}},
		},
		{
			records: []any{rec("C-1", "5045550123", "", "work")},
			want:    []string{"Phone updated"},
			phones:  map[*phonebook.Customer][]v1Phone{c1: {{E164: "+15045550123", Raw: "5045550123", Type: "work", IsPrimary: true}}},
		},
		{ // another extension is another phone (DESIGN rule 2)
			records: []any{rec("C-1", "504.555.0123", "7", "fax")},
			want:    []string{"Phone created"},
			phones: map[*phonebook.Customer][]v1Phone{c1: {
				{E164: "+15045550123", Raw: "5045550123", Type: "work", IsPrimary: true},
				{E164: "+15045550123", Raw: "504.555.0123", Extension: "7", Type: "fax"},
			}},
		},
		{ // the same phone twice in one request: created, then matched
			records: []any{rec("C-2", "(504) 555-0199", "", "home"), record{"CustomerNo": "C-2", "PhoneNumber": "+15045550199", "PhoneTypeName": "mobile"}},
			want:    []string{"Phone created", "Phone updated"},
			phones:  map[*phonebook.Customer][]v1Phone{c2: {{E164: "+15045550199", Raw: "+15045550199", Type: "mobile", IsPrimary: true}}},
		},
	}
	for i, s := range steps {
		status, out, raw := e.save(keyRW, body(t, s.records...))
		if status != http.StatusOK || out.HasError {
			t.Fatalf("step %d: status %d %s", i, status, raw)
		}
		for j, r := range out.Data.ResultList {
			if got, want := r.Message, s.want[j]; got != want {
				t.Errorf("step %d record %d: Message = %q, want %q", i, j, got, want)
			}
		}
		for c, want := range s.phones {
			if got := e.phones(c); !slices.Equal(got, want) {
				t.Errorf("step %d: %s phones = %+v, want %+v", i, c.ExternalID, got, want)
			}
		}
	}
}

// Each record is checked on its own: every vendor limit, customer
// reference and field type fails that record only, with Wasp's field name.
func TestRecordErrors(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	if _, err := e.svc.CreateCustomer(e.other, phonebook.CustomerInput{ExternalID: "OTHER-1"}); err != nil {
		t.Fatal(err)
	}
	ok := wtResult{ResultCode: 0, Message: "Phone created", HttpStatusCode: 200}
	const n = "(504) 555-0123"
	cases := []struct {
		name   string
		record func(cust string) any
		want   wtResult // Message is matched as a substring
		stored string   // the stored phone's type, "" when none
	}{
		{"CustomerNumber only", func(c string) any { return rec(c, n, "", "home") }, ok, "home"},
		{"CustomerNo only", func(c string) any {
			return record{"CustomerNo": c, "PhoneNumber": n, "PhoneTypeName": "home"}
		}, ok, "home"},
		{"both customer fields, same value", func(c string) any {
			return record{"CustomerNo": c, "CustomerNumber": " " + c + " ", "PhoneNumber": n, "PhoneTypeName": "home"}
		}, ok, "home"},
		{"type in another case", func(c string) any { return rec(c, n, "", "MOBILE") }, ok, "mobile"},
		{"number as a JSON number", func(c string) any {
			return record{"CustomerNumber": c, "PhoneNumber": 5045550123, "PhoneTypeName": "work"}
		}, ok, "work"},
		{"field names in lower case", func(c string) any {
			return record{"customernumber": c, "phonenumber": n, "phonetypename": "fax"}
		}, ok, "fax"},
		{"unknown fields and any FormId ignored", func(c string) any {
			return record{"CustomerNumber": c, "PhoneNumber": n, "PhoneTypeName": "other", "FormId": map[string]any{"x": 1}, "Color": "blue"}
		}, ok, "other"},
		{"extension of 20 digits", func(c string) any { return rec(c, n, "12345678901234567890", "home") }, ok, "home"},
		{"number with a + and no region", func(c string) any { return rec(c, "+33 1 42 68 53 00", "", "home") }, ok, "home"},

		{"number empty", func(c string) any { return rec(c, "", "", "home") },
			wtResult{-1001, "PhoneNumber is required", 400, "PhoneNumber"}, ""},
		{"number absent", func(c string) any { return record{"CustomerNumber": c, "PhoneTypeName": "home"} },
			wtResult{-1001, "PhoneNumber is required", 400, "PhoneNumber"}, ""},
		{"number too short", func(c string) any { return rec(c, "12", "", "home") },
			wtResult{-1002, "PhoneNumber", 400, "PhoneNumber"}, ""},
		{"number of letters", func(c string) any { return rec(c, "call me maybe", "", "home") },
			wtResult{-1002, "PhoneNumber is not a phone number", 400, "PhoneNumber"}, ""},
		{"number longer than 64 characters", func(c string) any { return rec(c, strings.Repeat("5", 65), "", "home") },
			wtResult{-1002, "PhoneNumber", 400, "PhoneNumber"}, ""},
		{"number as true", func(c string) any { return record{"CustomerNumber": c, "PhoneNumber": true, "PhoneTypeName": "home"} },
			wtResult{-1001, "PhoneNumber must be a string", 400, "PhoneNumber"}, ""},
		{"extension with letters", func(c string) any { return rec(c, n, "x12", "home") },
			wtResult{-1001, "PhoneExtension must be digits only", 400, "PhoneExtension"}, ""},
		{"extension of 21 digits", func(c string) any { return rec(c, n, "123456789012345678901", "home") },
			wtResult{-1001, "PhoneExtension is longer than 20", 400, "PhoneExtension"}, ""},
		{"type empty", func(c string) any { return rec(c, n, "", "") },
			wtResult{-1001, "PhoneTypeName is required", 400, "PhoneTypeName"}, ""},
		{"type absent", func(c string) any { return record{"CustomerNumber": c, "PhoneNumber": n} },
			wtResult{-1001, "PhoneTypeName is required", 400, "PhoneTypeName"}, ""},
		{"type of spaces", func(c string) any { return rec(c, n, "", "   ") },
			wtResult{-1001, "PhoneTypeName is required", 400, "PhoneTypeName"}, ""},
		{"type not in the registry", func(c string) any { return rec(c, n, "", "pager") },
			wtResult{-1003, "PhoneTypeName is not a phone type", 400, "PhoneTypeName"}, ""},
		{"type longer than 50", func(c string) any { return rec(c, n, "", strings.Repeat("t", 51)) },
			wtResult{-1003, "PhoneTypeName is not a phone type", 400, "PhoneTypeName"}, ""},
		{"unknown customer", func(string) any { return rec("NOBODY", n, "", "home") },
			wtResult{-1004, "no customer has this CustomerNumber", 404, "CustomerNumber"}, ""},
		{"unknown customer by CustomerNo", func(string) any {
			return record{"CustomerNo": "NOBODY", "PhoneNumber": n, "PhoneTypeName": "home"}
		}, wtResult{-1004, "no customer has this CustomerNo", 404, "CustomerNo"}, ""},
		{"another tenant's customer", func(string) any { return rec("OTHER-1", n, "", "home") },
			wtResult{-1004, "no customer has this CustomerNumber", 404, "CustomerNumber"}, ""},
		{"CustomerNumber and CustomerNo differ", func(c string) any {
			return record{"CustomerNo": c + "-x", "CustomerNumber": c, "PhoneNumber": n, "PhoneTypeName": "home"}
		}, wtResult{-1001, "CustomerNumber and CustomerNo name different customers", 400, "CustomerNumber"}, ""},
		{"no customer field", func(string) any { return record{"PhoneNumber": n, "PhoneTypeName": "home"} },
			wtResult{-1001, "CustomerNumber (or CustomerNo) is required", 400, "CustomerNumber"}, ""},
		{"CustomerNumber as an object", func(string) any {
			return record{"CustomerNumber": map[string]any{}, "PhoneNumber": n, "PhoneTypeName": "home"}
		}, wtResult{-1001, "CustomerNumber must be a string", 400, "CustomerNumber"}, ""},
		{"record is a number", func(string) any { return 42 },
			wtResult{-1009, "each record must be a JSON object", 400, ""}, ""},
		{"record is null", func(string) any { return nil },
			wtResult{-1009, "each record must be a JSON object", 400, ""}, ""},
		{"record is an array", func(string) any { return []any{} },
			wtResult{-1009, "each record must be a JSON object", 400, ""}, ""},
		{"several problems: the phone's first, all told", func(string) any {
			return record{"CustomerNo": "A", "CustomerNumber": "B", "PhoneNumber": n, "PhoneExtension": "x", "PhoneTypeName": ""}
		}, wtResult{-1001, "PhoneExtension must be digits only; PhoneTypeName is required; CustomerNumber and CustomerNo", 400, "PhoneExtension"}, ""},
		{"a bad number hides the extension's problem", func(string) any {
			return record{"CustomerNo": "A", "CustomerNumber": "B", "PhoneNumber": "12", "PhoneExtension": "x", "PhoneTypeName": "home"}
		}, wtResult{-1002, "; CustomerNumber and CustomerNo name different customers", 400, "PhoneNumber"}, ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.customer(fmt.Sprintf("T-%02d", i))
			status, out, raw := e.save(keyRW, body(t, tc.record(c.ExternalID)))
			if got, want := status, http.StatusOK; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, raw)
			}
			got := out.Data.ResultList[0]
			if got.ResultCode != tc.want.ResultCode || got.HttpStatusCode != tc.want.HttpStatusCode || got.FieldName != tc.want.FieldName || !strings.Contains(got.Message, tc.want.Message) {
				t.Errorf("result = %+v, want %+v (Message containing it)", got, tc.want)
			}
			failed := tc.want.ResultCode != 0
			if out.HasError != failed || out.Data.ErrorCount != btoi(failed) || out.Data.SuccessfullResults != btoi(!failed) {
				t.Errorf("HasError %v ErrorCount %d SuccessfullResults %d, want failed=%v", out.HasError, out.Data.ErrorCount, out.Data.SuccessfullResults, failed)
			}
			phones := e.phones(c)
			switch {
			case tc.stored == "" && len(phones) != 0:
				t.Errorf("stored %+v, want nothing", phones)
			case tc.stored != "" && (len(phones) != 1 || phones[0].Type != tc.stored):
				t.Errorf("stored %+v, want one phone of type %q", phones, tc.stored)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Phone types a tenant adds can be used once they exist, not before.
func TestCustomPhoneType(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	c := e.customer("C-1")
	_, out, _ := e.save(keyRW, body(t, rec("C-1", "(504) 555-0123", "", "Pager")))
	if got, want := out.Data.ResultList[0].FieldName, "PhoneTypeName"; got != want {
		t.Fatalf("before the type exists: FieldName = %q, want %q", got, want)
	}
	if _, err := e.svc.CreatePhoneType(e.acme, "pager"); err != nil {
		t.Fatal(err)
	}
	_, out, raw := e.save(keyRW, body(t, rec("C-1", "(504) 555-0123", "", "Pager")))
	if out.HasError {
		t.Fatalf("after the type exists: %s", raw)
	}
	if got := e.phones(c); len(got) != 1 || got[0].Type != "pager" {
		t.Errorf("phones = %+v, want one of type pager", got)
	}
}

// The tenant's limits (phones per customer, customers per number) fail the
// record that would break them, alone.
func TestLimits(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{MaxPhonesPerCustomer: 2, MaxCustomersPerNumber: 2})
	a, b, c := e.customer("A"), e.customer("B"), e.customer("C")
	_, out, raw := e.save(keyRW, body(t,
		rec("A", "(504) 555-0101", "", "home"),
		rec("A", "(504) 555-0102", "", "home"),
		rec("A", "(504) 555-0103", "", "home"), // third phone of A
		rec("B", "(504) 555-0101", "", "home"),
		rec("C", "(504) 555-0101", "", "home"), // third customer of the number
		rec("C", "(504) 555-0104", "", "home"),
	))
	want := []wtResult{
		{0, "Phone created", 200, ""},
		{0, "Phone created", 200, ""},
		{-1006, "", 409, "PhoneNumber"},
		{0, "Phone created", 200, ""},
		{-1007, "", 409, "PhoneNumber"},
		{0, "Phone created", 200, ""},
	}
	for i, w := range want {
		got := out.Data.ResultList[i]
		if got.Message == "" || got.ResultCode != w.ResultCode || got.HttpStatusCode != w.HttpStatusCode || got.FieldName != w.FieldName || (w.Message != "" && got.Message != w.Message) {
			t.Errorf("record %d = %+v, want %+v: %s", i, got, w, truncate(raw))
		}
	}
	if got, want := []int{len(e.phones(a)), len(e.phones(b)), len(e.phones(c))}, []int{2, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("phones per customer = %v, want %v", got, want)
	}
}

// Requests refused whole answer the envelope with no Data, one message and
// the HTTP status, and store nothing.
func TestRequestRefused(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	c := e.customer("C-1")
	one := rec("C-1", "(504) 555-0123", "", "home")
	many := make([]any, 501)
	for i := range many {
		many[i] = rec("C-1", fmt.Sprintf("(504) 555-%04d", i), "", "home")
	}
	huge := []byte(`[{"CustomerNumber":"C-1","PhoneTypeName":"home","PhoneNumber":"` + strings.Repeat("5", 1<<20) + `"}]`)
	cases := []struct {
		name    string
		body    []byte
		headers []string
		status  int
		code    int
	}{
		{"empty body", nil, nil, 400, -2001},
		{"an object, not an array", []byte(`{"CustomerNumber":"C-1"}`), nil, 400, -2001},
		{"records wrapped in an object", []byte(`{"records":[{}]}`), nil, 400, -2001},
		{"null", []byte(`null`), nil, 400, -2001},
		{"malformed JSON", []byte(`[{"CustomerNumber":`), nil, 400, -2001},
		{"bad JSON token", []byte(`[{"CustomerNumber": C-1}]`), nil, 400, -2001},
		{"data after the array", append(body(t, one), []byte(` []`)...), nil, 400, -2001},
		{"empty array", []byte(`[]`), nil, 400, -2002},
		{"501 records", body(t, many...), nil, 400, -2003},
		{"body over 1 MiB", huge, nil, 413, -2004},
		{"not JSON content", body(t, one), []string{"Content-Type", "text/plain"}, 415, -2005},
		{"unparsable content type", body(t, one), []string{"Content-Type", "application/"}, 415, -2005},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, out, raw := e.save(keyRW, tc.body, tc.headers...)
			if got, want := status, tc.status; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, truncate(raw))
			}
			checkRefused(t, out, raw, tc.status, tc.code)
			if got := e.phones(c); len(got) != 0 {
				t.Errorf("stored %+v, want nothing", got)
			}
		})
	}
	// 500 records are accepted, and no Content-Type at all is read as JSON.
	status, out, raw := e.save(keyRW, body(t, many[:500]...), "Content-Type", "")
	if status != http.StatusOK || out.Data == nil || out.Data.TotalResults != 500 {
		t.Fatalf("500 records: status %d %s", status, truncate(raw))
	}
	if got, want := out.Data.SuccessfullResults, 50; got != want { // the tenant's max_phones_per_customer
		t.Errorf("500 records for one customer: %d stored, want %d", got, want)
	}
}

func checkRefused(t *testing.T, out envelope, raw []byte, status, code int) {
	t.Helper()
	if out.Data != nil || !out.HasError || !out.HasHttpError || !out.HasMessage || len(out.Messages) != 1 {
		t.Fatalf("envelope = %s, want no Data, HasError, HasHttpError, HasMessage and one message", truncate(raw))
	}
	m := out.Messages[0]
	if m.HttpStatusCode != status || m.ResultCode != code || m.Message == "" {
		t.Errorf("message = %+v, want HttpStatusCode %d ResultCode %d and a text", m, status, code)
	}
	if got, want := shape(t, raw), []string{
		".BatchNumber float64", ".Data null", ".HasError bool", ".HasHttpError bool", ".HasMessage bool",
		".HasSuccessWithMoreDataRemaining bool", ".Messages array", ".Messages[].FieldName string",
		".Messages[].HttpStatusCode float64", ".Messages[].Message string", ".Messages[].ResultCode float64",
		".TotalRecordsLongCount float64",
	}; !slices.Equal(got, want) {
		t.Errorf("shape = %v, want %v", got, want)
	}
}

// Authorization: Bearer <key>, with customers:write, is the only way in;
// refusals are in the Wasp shape.
func TestAuth(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	c := e.customer("C-1")
	payload := body(t, rec("C-1", "(504) 555-0123", "", "home"))
	cases := []struct {
		name    string
		key     string
		headers []string
		status  int
		code    int
	}{
		{"no credential", "", nil, 401, -3001},
		{"unknown key", "not-a-key-of-anybody-at-all", nil, 401, -3001},
		{"revoked key", keyRevoked, nil, 401, -3001},
		{"Basic scheme", "", []string{"Authorization", "Basic " + keyRW}, 401, -3001},
		{"X-API-Key is not Wasp's header", "", []string{"X-API-Key", keyRW}, 401, -3001},
		{"read-only key", keyReadOnly, nil, 403, -3002},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, out, raw := e.save(tc.key, payload, tc.headers...)
			if got, want := status, tc.status; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, raw)
			}
			checkRefused(t, out, raw, tc.status, tc.code)
			if got := e.phones(c); len(got) != 0 {
				t.Errorf("stored %+v, want nothing", got)
			}
		})
	}
	resp, err := http.Post(e.ts.URL+"/public-api/phones/customer/save", "application/json", bytes.NewReader(payload))
	must(t, err, "POST without a key")
	resp.Body.Close()
	if got, want := resp.Header.Get("WWW-Authenticate"), `Bearer realm="wasp"`; got != want {
		t.Errorf("401 WWW-Authenticate = %q, want %q", got, want)
	}
	for i, key := range []string{keyWriteOnly, keyAdmin} {
		payload := body(t, rec("C-1", fmt.Sprintf("(504) 555-010%d", i), "", "home"))
		if status, out, raw := e.save(key, payload, "Authorization", "bearer  "+key+" "); status != 200 || out.HasError {
			t.Errorf("key %d: status %d %s, want the phone saved", i, status, raw)
		}
	}
	if got, want := len(e.phones(c)), 2; got != want {
		t.Errorf("stored %d phones, want %d", got, want)
	}
}

// The log tells of requests, never of the numbers, keys or bodies in them.
func TestNoSecretsInLogs(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	e.customer("C-1")
	e.save(keyRW, body(t, rec("C-1", "(504) 555-0123", "", "home"), rec("C-1", "5045559876", "", "pager")))
	e.save(keyReadOnly, body(t, rec("C-1", "(504) 555-0123", "", "home")))
	e.save("wrong-key-value-123456", []byte(`[`))
	e.ts.Close()
	logs := e.log.String()
	if !strings.Contains(logs, "/public-api/phones/customer/save") {
		t.Fatalf("the log does not tell of the requests: %s", logs)
	}
	for _, secret := range []string{"555-0123", "5045550123", "5045559876", keyRW, keyReadOnly, "wrong-key-value", "PhoneNumber", "C-1"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}

// No body makes the dialect answer a 5xx or anything but its envelope.
func FuzzSave(f *testing.F) {
	e := newEnv(f, phonebook.TenantInput{})
	e.customer("C-1")
	for _, s := range []string{
		string(readFile(f, "seed_request.json")),
		string(readFile(f, "realistic_request.json")),
		`[{"CustomerNumber":"C-1","PhoneNumber":"(504) 555-0123","PhoneTypeName":"home"}]`,
		`[{"CustomerNumber":"C-1","PhoneNumber":"+1 504 555 0123 ext. 99","PhoneExtension":"","PhoneTypeName":"Home"}]`,
		`[{"CustomerNumber":1e400,"PhoneNumber":-0.5e3,"PhoneTypeName":"\u0000"}]`,
		`[{},{"a":1},[],"x",1,null,true]`, `[`, `]`, `{}`, ``, `[[[[[[]]]]]]`, "[\"\xff\"]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e.t = t
		status, out, raw := e.save(keyRW, b)
		switch status {
		case 200:
			if out.Data == nil || len(out.Data.ResultList) != out.Data.TotalResults || out.Data.TotalResults != out.Data.SuccessfullResults+out.Data.ErrorCount {
				t.Errorf("200 with an inconsistent envelope: %s", truncate(raw))
			}
		case 400, 413:
			checkRefused(t, out, raw, status, out.Messages[0].ResultCode)
		default:
			t.Errorf("status %d for %q: %s", status, b, truncate(raw))
		}
		if bytes.Contains(raw, []byte("internal")) {
			t.Errorf("internal error for %q", b)
		}
		_ = json.Valid(raw)
	})
}
