package rambase_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/rambase"
)

// TestRoundTripXMLAndJSON is "RamBase round-trips XML and JSON": the seed
// page's request shapes (POST, then the page's own PUT with the same path
// shape, body and Authorization header) answer the golden shapes, and the
// phone is then visible through /v1 with the normalized number.
func TestRoundTripXMLAndJSON(t *testing.T) {
	for _, tc := range []struct {
		name, ctype, ext string
	}{
		{"XML", "application/xml", "xml"},
		{"JSON", "application/json", "json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			cid := e.mustCustomer(e.token)
			query := ""
			if tc.ext == "json" {
				query = "?$format=json"
			}
			r := e.do(req{method: http.MethodPost, path: phonesPath(cid) + query, ctype: tc.ctype,
				body: readTestdata(t, "post_request."+tc.ext), token: e.token})
			if r.status != http.StatusCreated {
				t.Fatalf("POST status = %d, want 201; body %s", r.status, r.body)
			}
			wantGolden(t, r.body, "post_response."+tc.ext)
			loc := r.header.Get("Location")
			if !strings.HasPrefix(loc, phonesPath(cid)+"/") {
				t.Fatalf("Location = %q, want %s/{phoneId}", loc, phonesPath(cid))
			}
			pid, err := strconv.ParseInt(strings.TrimPrefix(loc, phonesPath(cid)+"/"), 10, 64)
			if err != nil {
				t.Fatalf("Location %q does not end in a phone id", loc)
			}
			got := e.v1Phone(cid, pid)
			if got.E164 != "+15045550123" || got.Type != "work" || !got.IsPrimary || got.Raw != "+1 (504) 555-0123" {
				t.Errorf("after POST, /v1 phone = %+v, want +15045550123 work primary raw as sent", got)
			}

			r = e.do(req{method: http.MethodPut, path: loc + query, ctype: tc.ctype,
				body: readTestdata(t, "put_request."+tc.ext), token: e.token})
			if r.status != http.StatusOK {
				t.Fatalf("PUT status = %d, want 200; body %s", r.status, r.body)
			}
			wantGolden(t, r.body, "put_response."+tc.ext)
			got = e.v1Phone(cid, pid)
			if got.E164 != "+15045550199" || got.Type != "mobile" || !got.IsPrimary || got.Raw != "504.555.0199" {
				t.Errorf("after PUT, /v1 phone = %+v, want +15045550199 mobile primary raw 504.555.0199", got)
			}
			if n := len(e.v1Phones(cid)); n != 1 {
				t.Errorf("the contact has %d phones, want 1", n)
			}
		})
	}
}

// TestRequestAndResponseFormatsMix: the request format follows
// Content-Type, the response format $format/Accept, independently.
func TestRequestAndResponseFormatsMix(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	r := e.do(req{method: http.MethodPost, path: phonesPath(cid), ctype: "application/json",
		body: `{"PhoneNumber": "+1 504 555 0123"}`, token: e.token})
	p := mustPhone(t, r, http.StatusCreated)
	if p.Type != "BUSINESS" || !p.IsDefault || p.PhoneNumber != "+1 504 555 0123" {
		t.Errorf("JSON in, XML out: got %+v", p)
	}
	// The bare JSON object, keys in camel case, no Content-Type: sniffed.
	r = e.do(req{method: http.MethodPut, path: phonePath(cid, p.PhoneID) + "?$format=JSON",
		body: `{"type": "home", "isDefault": false}`, token: e.token})
	if r.status != http.StatusOK {
		t.Fatalf("status = %d; body %s", r.status, r.body)
	}
	var out struct{ Phone map[string]any }
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	if got, want := out.Phone["Type"], "HOME"; got != want {
		t.Errorf("Type = %v, want %v", got, want)
	}
	// The only phone stays the default (DESIGN §2 rule 1).
	if got, want := out.Phone["IsDefault"], true; got != want {
		t.Errorf("IsDefault = %v, want %v", got, want)
	}
}

// TestResponseFormat: $format wins over Accept; Accept's weights count;
// XML is the default.
func TestResponseFormat(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	pid := mustPhone(t, e.postXML(cid, phoneXML("", "", "+15045550123")), http.StatusCreated).PhoneID
	const (
		xmlCT  = "application/xml; charset=utf-8"
		jsonCT = "application/json; charset=utf-8"
		htmlCT = "text/html; charset=utf-8"
	)
	for _, tc := range []struct {
		name, query, accept, want string
	}{
		{"default", "", "", xmlCT},
		{"any", "", "*/*", xmlCT},
		{"accept json", "", "application/json", jsonCT},
		{"accept xml", "", "application/xml", xmlCT},
		{"accept text/xml", "", "text/xml", xmlCT},
		{"accept html", "", "text/html", htmlCT},
		{"browser", "", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", htmlCT},
		{"weights", "", "application/xml;q=0.5, application/json", jsonCT},
		{"q=0 refuses", "", "application/json;q=0, text/html;q=0.1", htmlCT},
		{"unserved type", "", "image/png", xmlCT},
		{"$format json", "?$format=json", "", jsonCT},
		{"$format wins over Accept", "?$format=xml", "application/json", xmlCT},
		{"$format html", "?$format=html", "application/json", htmlCT},
		{"$format any case", "?$format=Json", "", jsonCT},
		{"$format jsonstream", "?$format=jsonstream", "", jsonCT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.accept != "" {
				h["Accept"] = tc.accept
			}
			r := e.do(req{method: http.MethodPut, path: phonePath(cid, pid) + tc.query, ctype: "application/xml",
				body: "<Phone/>", token: e.token, header: h})
			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
			}
			if got := r.header.Get("Content-Type"); got != tc.want {
				t.Errorf("Content-Type = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("unknown $format", func(t *testing.T) {
		r := e.do(req{method: http.MethodPut, path: phonePath(cid, pid) + "?$format=csv", ctype: "application/xml",
			body: "<Phone/>", token: e.token, header: map[string]string{"Accept": "application/json"}})
		wantError(t, r, http.StatusBadRequest, 109018, "$format")
		if got := r.header.Get("Content-Type"); got != xmlCT {
			t.Errorf("Content-Type = %q, want XML", got)
		}
	})
	t.Run("errors follow the format", func(t *testing.T) {
		r := e.do(req{method: http.MethodPut, path: phonePath(cid, pid) + "?$format=json", ctype: "application/xml",
			body: phoneXML("", "", "not a number"), token: e.token})
		wantError(t, r, http.StatusBadRequest, 109010, "PhoneNumber")
	})
}

// TestHTML: $format=html answers a page of the same fields, escaped.
func TestHTML(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	ctx := phonebook.NewContextWithAuth(context.Background(), e.admin)
	if _, err := e.svc.CreatePhoneType(ctx, "<b>pager"); err != nil {
		t.Fatalf("CreatePhoneType: %v", err)
	}
	r := e.do(req{method: http.MethodPost, path: phonesPath(cid) + "?$format=html", ctype: "application/xml",
		body: phoneXML("&lt;b&gt;PAGER", "true", "+1 504 555 0123"), token: e.token})
	if r.status != http.StatusCreated {
		t.Fatalf("status = %d, want 201; body %s", r.status, r.body)
	}
	if got, want := r.header.Get("Content-Type"), "text/html; charset=utf-8"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	for _, want := range []string{"<!DOCTYPE html>", "<th>PhoneId</th>", "<th>Type</th><td>&lt;B&gt;PAGER</td>",
		"<th>IsDefault</th><td>true</td>", "<th>PhoneNumber</th><td>&#43;1 504 555 0123</td>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page lacks %q:\n%s", want, r.body)
		}
	}
	if strings.Contains(r.body, "<B>") {
		t.Errorf("page holds the type unescaped:\n%s", r.body)
	}
	if got := e.v1Phones(cid)[0].Type; got != "<b>pager" {
		t.Errorf("/v1 type = %q, want <b>pager", got)
	}
	r = e.do(req{method: http.MethodPost, path: phonesPath(999999) + "?$format=html", ctype: "application/xml",
		body: phoneXML("", "", "+1 504 555 0124"), token: e.token})
	if r.status != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", r.status)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "<td>109000</td>") {
		t.Errorf("HTML error page = %s", r.body)
	}
}

// TestErrorShape: the error shape in XML and JSON (golden files).
func TestErrorShape(t *testing.T) {
	e := newEnv(t)
	for _, ext := range []string{"xml", "json"} {
		r := e.do(req{method: http.MethodPost, path: phonesPath(999999) + "?$format=" + ext, ctype: "application/xml",
			body: phoneXML("", "", "+15045550123"), token: e.token})
		if r.status != http.StatusNotFound {
			t.Fatalf("status = %d, want 404; body %s", r.status, r.body)
		}
		wantGolden(t, r.body, "error_contact_not_found."+ext)
	}
}

// TestTypes: RamBase types map to the registry and back; Type defaults to
// BUSINESS; other names must be in the tenant's registry.
func TestTypes(t *testing.T) {
	e := newEnv(t)
	ctx := phonebook.NewContextWithAuth(context.Background(), e.admin)
	if _, err := e.svc.CreatePhoneType(ctx, "pager"); err != nil {
		t.Fatalf("CreatePhoneType: %v", err)
	}
	for i, tc := range []struct {
		give, stored, answered string
	}{
		{"", "work", "BUSINESS"},
		{"BUSINESS", "work", "BUSINESS"},
		{"business", "work", "BUSINESS"},
		{"MOBILE", "mobile", "MOBILE"},
		{"CELLULAR", "mobile", "MOBILE"},
		{"HOME", "home", "HOME"},
		{"PRIVATE", "home", "HOME"},
		{"FAX", "fax", "FAX"},
		{"OTHER", "other", "OTHER"},
		{"Pager", "pager", "PAGER"},
	} {
		t.Run("Type="+tc.give, func(t *testing.T) {
			cid := e.mustCustomer(e.token)
			p := mustPhone(t, e.postXML(cid, phoneXML(tc.give, "", "+1504555"+strconv.Itoa(1000+i))), http.StatusCreated)
			if p.Type != tc.answered {
				t.Errorf("answered Type = %q, want %q", p.Type, tc.answered)
			}
			if got := e.v1Phone(cid, p.PhoneID).Type; got != tc.stored {
				t.Errorf("stored type = %q, want %q", got, tc.stored)
			}
		})
	}
	t.Run("unknown type", func(t *testing.T) {
		cid := e.mustCustomer(e.token)
		wantError(t, e.postXML(cid, phoneXML("SATELLITE", "", "+15045550123")), http.StatusBadRequest, 109013, "Type")
		if n := len(e.v1Phones(cid)); n != 0 {
			t.Errorf("%d phones stored, want 0", n)
		}
	})
	t.Run("unknown type on PUT", func(t *testing.T) {
		cid := e.mustCustomer(e.token)
		pid := mustPhone(t, e.postXML(cid, phoneXML("", "", "+15045550123")), http.StatusCreated).PhoneID
		r := e.do(req{method: http.MethodPut, path: phonePath(cid, pid), ctype: "application/xml", body: phoneXML("SATELLITE", "", ""), token: e.token})
		wantError(t, r, http.StatusBadRequest, 109013, "Type")
		if got := e.v1Phone(cid, pid).Type; got != "work" {
			t.Errorf("type = %q after a refused PUT, want work", got)
		}
	})
}

// TestValidation: every limit and malformed body answers a numbered 400
// (400: RamBase documents no 415 or 413) in RamBase's shape, and stores nothing.
func TestValidation(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	long := strings.Repeat("x", 60)
	for _, tc := range []struct {
		name, ctype, body string
		status, code      int
		field             string
	}{
		{"pattern: letters", "application/xml", phoneXML("", "", "504-555-0123 ext 5"), 400, 109010, "PhoneNumber"},
		{"pattern: hash", "application/xml", phoneXML("", "", "+1 504 555 0123#"), 400, 109010, "PhoneNumber"},
		{"pattern: slash", "application/json", `{"PhoneNumber": "504/555/0123"}`, 400, 109010, "PhoneNumber"},
		{"pattern: unicode digits", "application/json", `{"PhoneNumber": "５０４５５５０１２３"}`, 400, 109010, "PhoneNumber"},
		{"too short to be a number", "application/xml", phoneXML("", "", "123"), 400, 109011, "PhoneNumber"},
		{"control character", "application/json", `{"PhoneNumber": "504\n555 0123"}`, 400, 109011, "PhoneNumber"},
		{"too long", "application/xml", phoneXML("", "", strings.Repeat("5", 70)), 400, 109011, "PhoneNumber"},
		{"number missing", "application/xml", phoneXML("MOBILE", "true", ""), 400, 109012, "PhoneNumber"},
		{"number empty", "application/xml", "<Phone><PhoneNumber> </PhoneNumber></Phone>", 400, 109012, "PhoneNumber"},
		{"number null", "application/json", `{"Phone": {"PhoneNumber": null}}`, 400, 109012, "PhoneNumber"},
		{"number not a string", "application/json", `{"PhoneNumber": 5045550123}`, 400, 109021, "PhoneNumber"},
		{"type not a string", "application/json", `{"PhoneNumber": "5045550123", "Type": 1}`, 400, 109021, "Type"},
		{"IsDefault not a boolean (XML)", "application/xml", phoneXML("", "maybe", "5045550123"), 400, 109014, "IsDefault"},
		{"IsDefault not a boolean (JSON)", "application/json", `{"PhoneNumber": "5045550123", "IsDefault": 1}`, 400, 109014, "IsDefault"},
		{"IsDefault bad string (JSON)", "application/json", `{"PhoneNumber": "5045550123", "IsDefault": "yes"}`, 400, 109014, "IsDefault"},
		{"unknown field (XML)", "application/xml", "<Phone><PhoneNumber>5045550123</PhoneNumber><Extension>5</Extension></Phone>", 400, 109006, "Extension"},
		{"unknown field (JSON)", "application/json", `{"Phone": {"PhoneNumber": "5045550123", "Extension": "5"}}`, 400, 109006, "Extension"},
		{"misspelt field (JSON, bare)", "application/json", `{"PhoneNumbr": "5045550123"}`, 400, 109006, "PhoneNumbr"},
		{"wrapper and field", "application/json", `{"Phone": {"PhoneNumber": "5045550123"}, "Type": "FAX"}`, 400, 109006, "Phone"},
		{"XInclude is an unknown element", "application/xml", `<Phone xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd"/></Phone>`, 400, 109006, "include"},
		{"malformed XML", "application/xml", "<Phone><PhoneNumber>5045550123</Phone>", 400, 109004, ""},
		{"wrong root", "application/xml", "<Contact><PhoneNumber>5045550123</PhoneNumber></Contact>", 400, 109004, ""},
		{"two roots", "application/xml", phoneXML("", "", "5045550123") + phoneXML("", "", "5045550124"), 400, 109004, ""},
		{"text in Phone", "application/xml", "<Phone>5045550123</Phone>", 400, 109004, ""},
		{"nested element", "application/xml", "<Phone><PhoneNumber><b>5045550123</b></PhoneNumber></Phone>", 400, 109004, "PhoneNumber"},
		{"field twice", "application/xml", "<Phone><PhoneNumber>5045550123</PhoneNumber><PhoneNumber>5045550124</PhoneNumber></Phone>", 400, 109004, "PhoneNumber"},
		{"not UTF-8", "application/xml", `<?xml version="1.0" encoding="ISO-8859-1"?><Phone><PhoneNumber>5045550123</PhoneNumber></Phone>`, 400, 109004, ""},
		{"malformed JSON", "application/json", `{"PhoneNumber": "5045550123"`, 400, 109004, ""},
		{"JSON array", "application/json", `[{"PhoneNumber": "5045550123"}]`, 400, 109004, ""},
		{"JSON null", "application/json", `null`, 400, 109004, ""},
		{"Phone not an object", "application/json", `{"Phone": "5045550123"}`, 400, 109004, "Phone"},
		{"trailing data", "application/json", `{"PhoneNumber": "5045550123"} {}`, 400, 109004, ""},
		{"empty body", "application/xml", "", 400, 109004, ""},
		{"blank body", "application/json", "  \n ", 400, 109004, ""},
		{"XML sent as JSON", "application/json", phoneXML("", "", "5045550123"), 400, 109004, ""},
		{"unsupported media type", "text/plain", "5045550123", 400, 109007, "Content-Type"},
		{"form", "application/x-www-form-urlencoded", "PhoneNumber=5045550123", 400, 109007, "Content-Type"},
		{"no Content-Type, not XML or JSON", "", "PhoneNumber=5045550123", 400, 109007, "Content-Type"},
		{"bad Content-Type", "application/", "{}", 400, 109007, "Content-Type"},
		{"type too long", "application/xml", phoneXML(long, "", "5045550123"), 400, 109013, "Type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(req{method: http.MethodPost, path: phonesPath(cid), ctype: tc.ctype, body: tc.body, token: e.token})
			wantError(t, r, tc.status, tc.code, tc.field)
		})
	}
	if n := len(e.v1Phones(cid)); n != 0 {
		t.Errorf("%d phones stored by refused requests, want 0", n)
	}
	t.Run("several field errors", func(t *testing.T) {
		r := e.postXML(cid, phoneXML(long, "", "abc"))
		got := wantError(t, r, http.StatusBadRequest, 109010, "PhoneNumber")
		if len(got.InnerErrors) != 2 || got.InnerErrors[0].Code != 109010 || got.InnerErrors[1].Code != 109013 || got.InnerErrors[1].Field != "Type" {
			t.Errorf("InnerErrors = %+v, want PhoneNumber 109010 and Type 109013", got.InnerErrors)
		}
		for _, in := range got.InnerErrors {
			if in.HttpStatus != 0 {
				t.Errorf("inner error carries HttpStatus %d, want none", in.HttpStatus)
			}
		}
	})
	t.Run("pattern on PUT", func(t *testing.T) {
		pid := mustPhone(t, e.postXML(cid, phoneXML("", "", "5045550123")), http.StatusCreated).PhoneID
		r := e.do(req{method: http.MethodPut, path: phonePath(cid, pid), ctype: "application/xml", body: phoneXML("", "", "504 555 0199 x"), token: e.token})
		wantError(t, r, http.StatusBadRequest, 109010, "PhoneNumber")
		if got := e.v1Phone(cid, pid).E164; got != "+15045550123" {
			t.Errorf("e164 = %s after a refused PUT, want +15045550123", got)
		}
	})
}

// TestAcceptedSpellings: what the pattern and the wire allow is read.
func TestAcceptedSpellings(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, ctype, body, e164 string
		primary                 bool
	}{
		{"dots", "application/xml", phoneXML("", "", "504.555.0101"), "+15045550101", true},
		{"parentheses and dashes", "application/xml", phoneXML("", "", "(504) 555-0102"), "+15045550102", true},
		{"international", "application/xml", phoneXML("", "1", "+1 504 555 0103"), "+15045550103", true},
		{"CDATA and comments", "text/xml", `<?xml version="1.0" encoding="UTF-8"?><!-- c --><Phone><PhoneNumber><![CDATA[504 555 0104]]></PhoneNumber></Phone>`, "+15045550104", true},
		{"namespaced", "application/xml", `<Phone xmlns="https://api.rambase.net"><PhoneNumber>5045550105</PhoneNumber></Phone>`, "+15045550105", true},
		{"byte order mark", "application/xml", "\ufeff" + phoneXML("", "", "5045550106"), "+15045550106", true},
		{"JSON boolean", "application/json", `{"Phone": {"PhoneNumber": "5045550107", "IsDefault": true}}`, "+15045550107", true},
		{"JSON empty strings are absent", "application/json", `{"Phone": {"PhoneNumber": "5045550108", "Type": "", "IsDefault": ""}}`, "+15045550108", true},
		{"JSON null wrapper fields", "application/json", `{"phone": {"phoneNumber": "5045550109", "type": null}}`, "+15045550109", true},
		{"vendor +json type", "application/vnd.rambase+json", `{"PhoneNumber": "5045550110"}`, "+15045550110", true},
		{"no Content-Type, XML", "", phoneXML("", "", "5045550111"), "+15045550111", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cid := e.mustCustomer(e.token)
			r := e.do(req{method: http.MethodPost, path: phonesPath(cid), ctype: tc.ctype, body: tc.body, token: e.token})
			p := mustPhone(t, r, http.StatusCreated)
			got := e.v1Phone(cid, p.PhoneID)
			if got.E164 != tc.e164 || got.IsPrimary != tc.primary {
				t.Errorf("/v1 phone = %+v, want %s primary=%v", got, tc.e164, tc.primary)
			}
		})
	}
}

// TestHostileXML: entity declarations, internal or external, are refused
// before anything is expanded or fetched; undeclared entities are errors.
func TestHostileXML(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	laughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Phone><Type>&lol9;</Type><PhoneNumber>5045550123</PhoneNumber></Phone>`
	for _, tc := range []struct {
		name, body string
		code       int
	}{
		{"billion laughs", laughs, 109005},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE Phone [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Phone><PhoneNumber>&xxe;</PhoneNumber></Phone>`, 109005},
		{"external entity over HTTP", `<!DOCTYPE Phone [<!ENTITY xxe SYSTEM "http://127.0.0.1:1/x">]><Phone><PhoneNumber>&xxe;</PhoneNumber></Phone>`, 109005},
		{"parameter entity", `<!DOCTYPE Phone [<!ENTITY % p SYSTEM "http://127.0.0.1:1/p.dtd"> %p;]><Phone><PhoneNumber>5045550123</PhoneNumber></Phone>`, 109005},
		{"external DTD", `<!DOCTYPE Phone SYSTEM "http://127.0.0.1:1/phone.dtd"><Phone><PhoneNumber>5045550123</PhoneNumber></Phone>`, 109005},
		{"plain DOCTYPE", `<!DOCTYPE Phone><Phone><PhoneNumber>5045550123</PhoneNumber></Phone>`, 109005},
		{"DOCTYPE after the root", `<Phone><PhoneNumber>5045550123</PhoneNumber></Phone><!DOCTYPE Phone>`, 109005},
		{"undeclared entity", `<Phone><PhoneNumber>&lol;</PhoneNumber></Phone>`, 109004},
		{"undeclared entity in Type", `<Phone><Type>&x;</Type><PhoneNumber>5045550123</PhoneNumber></Phone>`, 109004},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, ct := range []string{"application/xml", "text/xml", ""} {
				r := e.do(req{method: http.MethodPost, path: phonesPath(cid), ctype: ct, body: tc.body, token: e.token})
				wantError(t, r, http.StatusBadRequest, tc.code, "")
				if strings.Contains(r.body, "root:") || strings.Contains(r.body, "lollol") {
					t.Errorf("the answer holds expanded content: %s", r.body)
				}
			}
		})
	}
	t.Run("on PUT", func(t *testing.T) {
		pid := mustPhone(t, e.postXML(cid, phoneXML("", "", "5045550199")), http.StatusCreated).PhoneID
		r := e.do(req{method: http.MethodPut, path: phonePath(cid, pid) + "?$format=json", ctype: "application/xml", body: laughs, token: e.token})
		wantError(t, r, http.StatusBadRequest, 109005, "")
	})
	// Predefined and character entities are plain XML and stay allowed.
	t.Run("predefined entities", func(t *testing.T) {
		c2 := e.mustCustomer(e.token)
		p := mustPhone(t, e.postXML(c2, `<Phone><PhoneNumber>&#43;1 504 555 0150</PhoneNumber></Phone>`), http.StatusCreated)
		if p.PhoneNumber != "+1 504 555 0150" {
			t.Errorf("PhoneNumber = %q, want +1 504 555 0150", p.PhoneNumber)
		}
	})
	if n := len(e.v1Phones(cid)); n != 1 {
		t.Errorf("%d phones stored, want only the one added for the PUT", n)
	}
}

// TestPathParameters: contactId is an integer ≥ 100000, phoneId ≥ 1.
func TestPathParameters(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	pid := mustPhone(t, e.postXML(cid, phoneXML("", "", "5045550123")), http.StatusCreated).PhoneID
	c := strconv.FormatInt(cid, 10)
	for _, tc := range []struct {
		name, method, path string
		code               int
		field              string
	}{
		{"contactId letters", http.MethodPost, "/collaboration/contacts/abc/phones", 109002, "contactId"},
		{"contactId below minimum", http.MethodPost, "/collaboration/contacts/99999/phones", 109002, "contactId"},
		{"contactId zero", http.MethodPost, "/collaboration/contacts/0/phones", 109002, "contactId"},
		{"contactId signed", http.MethodPost, "/collaboration/contacts/+100000/phones", 109002, "contactId"},
		{"contactId negative", http.MethodPut, "/collaboration/contacts/-100000/phones/1", 109002, "contactId"},
		{"contactId overflows", http.MethodPost, "/collaboration/contacts/99999999999999999999/phones", 109002, "contactId"},
		{"contactId uuid", http.MethodPost, "/collaboration/contacts/0b5e6c1e-3c53-4b0e-9d7e-3f5a2f4b8c11/phones", 109002, "contactId"},
		{"phoneId zero", http.MethodPut, "/collaboration/contacts/" + c + "/phones/0", 109003, "phoneId"},
		{"phoneId letters", http.MethodPut, "/collaboration/contacts/" + c + "/phones/x", 109003, "phoneId"},
		{"phoneId decimal", http.MethodPut, "/collaboration/contacts/" + c + "/phones/1.5", 109003, "phoneId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(req{method: tc.method, path: tc.path, ctype: "application/xml", body: phoneXML("", "", "5045550124"), token: e.token})
			wantError(t, r, http.StatusBadRequest, tc.code, tc.field)
		})
	}
	if got := e.v1Phone(cid, pid).E164; got != "+15045550123" {
		t.Errorf("e164 = %s, want unchanged +15045550123", got)
	}
}

// TestNotFound: unknown contacts and phones, another tenant's contact, and
// another contact's phone are all "not found".
func TestNotFound(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	sibling := e.mustCustomer(e.token)
	foreign := e.mustCustomer(e.other)
	pid := mustPhone(t, e.postXML(cid, phoneXML("", "", "5045550123")), http.StatusCreated).PhoneID
	foreignPID := mustPhone(t, e.do(req{method: http.MethodPost, path: phonesPath(foreign), ctype: "application/xml",
		body: phoneXML("", "", "5045550124"), token: e.other}), http.StatusCreated).PhoneID
	body := phoneXML("", "", "5045550125")
	for _, tc := range []struct {
		name, method, path string
		code               int
	}{
		{"unknown contact (POST)", http.MethodPost, phonesPath(9999999), 109000},
		{"unknown contact (PUT)", http.MethodPut, phonePath(9999999, pid), 109000},
		{"another tenant's contact (POST)", http.MethodPost, phonesPath(foreign), 109000},
		{"another tenant's contact (PUT)", http.MethodPut, phonePath(foreign, foreignPID), 109000},
		{"unknown phone", http.MethodPut, phonePath(cid, 9999999), 109001},
		{"another contact's phone", http.MethodPut, phonePath(sibling, pid), 109001},
		{"another tenant's phone", http.MethodPut, phonePath(cid, foreignPID), 109001},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(req{method: tc.method, path: tc.path, ctype: "application/xml", body: body, token: e.token})
			wantError(t, r, http.StatusNotFound, tc.code, "")
		})
	}
	r := e.do(req{method: http.MethodGet, path: "/v1/customers/" + strconv.FormatInt(foreign, 10) + "/phones", token: e.other})
	if !strings.Contains(r.body, "+15045550124") || strings.Contains(r.body, "+15045550125") {
		t.Errorf("the other tenant's phones changed: %s", r.body)
	}
}

// TestDuplicate: the same number in another spelling is refused.
func TestDuplicate(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	mustPhone(t, e.postXML(cid, phoneXML("", "", "+1 (504) 555-0123")), http.StatusCreated)
	wantError(t, e.postXML(cid, phoneXML("MOBILE", "", "504.555.0123")), http.StatusBadRequest, 109015, "PhoneNumber")
	second := mustPhone(t, e.postXML(cid, phoneXML("", "", "5045550199")), http.StatusCreated).PhoneID
	r := e.do(req{method: http.MethodPut, path: phonePath(cid, second), ctype: "application/json",
		body: `{"PhoneNumber": "504 555 0123"}`, token: e.token})
	wantError(t, r, http.StatusBadRequest, 109015, "PhoneNumber")
	if n := len(e.v1Phones(cid)); n != 2 {
		t.Errorf("%d phones, want 2", n)
	}
}

// TestPhoneLimit: the tenant's max_phones_per_customer is a numbered 400.
func TestPhoneLimit(t *testing.T) {
	e := newEnv(t)
	e.mustTenant(phonebook.TenantInput{Slug: "tiny", MaxPhonesPerCustomer: 1})
	tok := e.mustKey("tiny", phonebook.ScopeCustomersWrite)
	cid := e.mustCustomer(tok)
	post := func(n string) resp {
		return e.do(req{method: http.MethodPost, path: phonesPath(cid), ctype: "application/xml", body: phoneXML("", "", n), token: tok})
	}
	mustPhone(t, post("5045550123"), http.StatusCreated)
	wantError(t, post("5045550124"), http.StatusBadRequest, 109016, "PhoneNumber")
}

// TestAuth: the token is $access_token, else Authorization: Bearer; a
// missing or wrong one is 401, a read-only one 403, in RamBase's shape.
func TestAuth(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	n := 0
	for _, tc := range []struct {
		name, query, bearer string
		header              map[string]string
		status, code        int
	}{
		{"no token", "", "", nil, 401, 109030},
		{"wrong bearer", "", "pb_not-a-real-key-0000000000000000", nil, 401, 109030},
		{"wrong $access_token", "?$access_token=pb_wrong-wrong-wrong-wrong", "", nil, 401, 109030},
		{"other scheme", "", "", map[string]string{"Authorization": "Basic " + e.token}, 401, 109030},
		{"X-API-Key is not RamBase's", "", "", map[string]string{"X-API-Key": e.token}, 401, 109030},
		{"read-only token", "", e.ro, nil, 403, 109031},
		{"read-only $access_token", "?$access_token=" + e.ro, "", nil, 403, 109031},
		{"bearer", "", e.token, nil, 201, 0},
		{"lower-case scheme", "", "", map[string]string{"Authorization": "bearer " + e.token}, 201, 0},
		{"$access_token", "?$access_token=" + e.token, "", nil, 201, 0},
		{"$access_token wins over the header", "?$access_token=" + e.token, "pb_not-a-real-key-0000000000000000", nil, 201, 0},
		{"a wrong $access_token is not rescued by the header", "?$access_token=pb_wrong-wrong-wrong-wrong", e.token, nil, 401, 109030},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n++
			r := e.do(req{method: http.MethodPost, path: phonesPath(cid) + tc.query, ctype: "application/xml",
				body: phoneXML("", "", "50455502"+strconv.Itoa(10+n)), token: tc.bearer, header: tc.header})
			if tc.code == 0 {
				mustPhone(t, r, tc.status)
				return
			}
			wantError(t, r, tc.status, tc.code, "")
			if tc.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
	t.Run("401 in JSON when asked", func(t *testing.T) {
		r := e.do(req{method: http.MethodPut, path: phonePath(cid, 1) + "?$format=json", ctype: "application/xml", body: "<Phone/>"})
		wantError(t, r, 401, 109030, "")
		if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("Content-Type = %q, want JSON", r.header.Get("Content-Type"))
		}
	})
	t.Run("403 on PUT", func(t *testing.T) {
		r := e.do(req{method: http.MethodPut, path: phonePath(cid, 1), ctype: "application/xml", body: "<Phone/>", token: e.ro})
		wantError(t, r, 403, 109031, "")
	})
}

// TestDatabase: $db must name the token's tenant.
func TestDatabase(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	for i, tc := range []struct {
		name, query string
		status      int
	}{
		{"own tenant", "?$db=acme", 201},
		{"any case", "?$db=ACME", 201},
		{"another tenant", "?$db=" + otherSlug, 403},
		{"unknown", "?$db=nobody", 403},
		{"empty", "?$db=", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(req{method: http.MethodPost, path: phonesPath(cid) + tc.query, ctype: "application/xml",
				body: phoneXML("", "", "50455504"+strconv.Itoa(10+i)), token: e.token})
			if tc.status == 201 {
				mustPhone(t, r, 201)
				return
			}
			wantError(t, r, 403, 109032, "$db")
		})
	}
	t.Run("PUT", func(t *testing.T) {
		pid := mustPhone(t, e.postXML(cid, phoneXML("", "", "5045550499")), 201).PhoneID
		r := e.do(req{method: http.MethodPut, path: phonePath(cid, pid) + "?$db=globex", ctype: "application/xml", body: phoneXML("FAX", "", ""), token: e.token})
		wantError(t, r, 403, 109032, "$db")
		if got := e.v1Phone(cid, pid).Type; got != "work" {
			t.Errorf("type = %q after a refused PUT, want work", got)
		}
	})
}

// TestQueryParameters: $useMinimumVersion must be an integer; other
// parameters are ignored.
func TestQueryParameters(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	for i, tc := range []struct {
		query string
		ok    bool
	}{
		{"?$useMinimumVersion=4", true},
		{"?$useMinimumVersion=-1", true},
		{"?$useMinimumVersion=abc", false},
		{"?$useMinimumVersion=", false},
		{"?$useMinimumVersion=4.5", false},
		{"?$useMinimumVersion=99999999999", false},
		{"?$lang=NOR&$select=PhoneId&$expand=x&$filter=x&other=1", true},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := e.do(req{method: http.MethodPost, path: phonesPath(cid) + tc.query, ctype: "application/xml",
				body: phoneXML("", "", "50455506"+strconv.Itoa(10+i)), token: e.token})
			if tc.ok {
				mustPhone(t, r, 201)
				return
			}
			wantError(t, r, 400, 109019, "$useMinimumVersion")
		})
	}
}

// TestPutIsPartial: only the fields given change; giving up IsDefault
// hands the flag to another phone, taking it demotes the old default.
func TestPutIsPartial(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	first := mustPhone(t, e.postXML(cid, phoneXML("HOME", "", "5045550123")), 201)
	second := mustPhone(t, e.postXML(cid, phoneXML("MOBILE", "false", "5045550199")), 201)
	if !first.IsDefault || second.IsDefault {
		t.Fatalf("defaults after POST: first %v second %v, want true false", first.IsDefault, second.IsDefault)
	}
	put := func(pid int64, body string) xmlPhone {
		t.Helper()
		return mustPhone(t, e.do(req{method: http.MethodPut, path: phonePath(cid, pid), ctype: "application/xml", body: body, token: e.token}), 200)
	}
	// Only Type.
	p := put(first.PhoneID, phoneXML("FAX", "", ""))
	if p.Type != "FAX" || p.PhoneNumber != "5045550123" || !p.IsDefault {
		t.Errorf("after Type only: %+v", p)
	}
	// Only PhoneNumber.
	p = put(first.PhoneID, phoneXML("", "", "504-555-0177"))
	if p.Type != "FAX" || p.PhoneNumber != "504-555-0177" || !p.IsDefault {
		t.Errorf("after PhoneNumber only: %+v", p)
	}
	if got := e.v1Phone(cid, first.PhoneID).E164; got != "+15045550177" {
		t.Errorf("e164 = %s, want +15045550177", got)
	}
	// Nothing at all.
	p = put(first.PhoneID, "<Phone></Phone>")
	if p.Type != "FAX" || p.PhoneNumber != "504-555-0177" || !p.IsDefault {
		t.Errorf("after an empty Phone: %+v", p)
	}
	// IsDefault false on the default hands the flag on.
	p = put(first.PhoneID, phoneXML("", "false", ""))
	if p.IsDefault {
		t.Errorf("first is still the default")
	}
	if !e.v1Phone(cid, second.PhoneID).IsPrimary {
		t.Errorf("second did not become the default")
	}
	// IsDefault true takes it back.
	p = put(first.PhoneID, phoneXML("", "1", ""))
	if !p.IsDefault || e.v1Phone(cid, second.PhoneID).IsPrimary {
		t.Errorf("IsDefault true did not move the default back")
	}
}

// TestDefaultRegion: numbers without "+" are read in the tenant's region.
func TestDefaultRegion(t *testing.T) {
	e := newEnv(t)
	e.mustTenant(phonebook.TenantInput{Slug: "oslo", DefaultRegion: "NO"})
	tok := e.mustKey("oslo", phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite)
	cid := e.mustCustomer(tok)
	r := e.do(req{method: http.MethodPost, path: phonesPath(cid) + "?$db=oslo", ctype: "application/xml", body: phoneXML("", "", "22 12 34 56"), token: tok})
	p := mustPhone(t, r, 201)
	r = e.do(req{method: http.MethodGet, path: "/v1/customers/" + strconv.FormatInt(cid, 10) + "/phones", token: tok})
	if !strings.Contains(r.body, `"e164":"+4722123456"`) {
		t.Errorf("/v1 phones = %s, want e164 +4722123456", r.body)
	}
	if p.PhoneNumber != "22 12 34 56" {
		t.Errorf("PhoneNumber = %q, want as written", p.PhoneNumber)
	}
}

// TestBodyTooLarge: a body over 1 MiB is 400 in RamBase's shape (RamBase
// documents no 413).
func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	big := "<Phone><!--" + strings.Repeat("x", 1<<20) + "--><PhoneNumber>5045550123</PhoneNumber></Phone>"
	for _, ct := range []string{"application/xml", "application/json"} {
		r := e.do(req{method: http.MethodPost, path: phonesPath(cid) + "?$format=json", ctype: ct, body: big, token: e.token})
		wantError(t, r, http.StatusBadRequest, 109008, "")
	}
	if n := len(e.v1Phones(cid)); n != 0 {
		t.Errorf("%d phones stored, want 0", n)
	}
}

// TestStoreDown: a failing store is a 500 without detail, in RamBase's
// shape, also when it fails while the token is checked.
func TestStoreDown(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	if err := e.st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, f := range []string{"", "?$format=json"} {
		r := e.do(req{method: http.MethodPost, path: phonesPath(cid) + f, ctype: "application/xml", body: phoneXML("", "", "5045550123"), token: e.token})
		got := wantError(t, r, http.StatusInternalServerError, 109099, "")
		if got.Message != "Internal error" || strings.Contains(r.body, "sql") {
			t.Errorf("500 body leaks detail: %s", r.body)
		}
	}
}

// TestWriteErrorStatuses: unavailable is 500 with Retry-After (RamBase
// documents no 503), rate limited is 429 (the one status sent that RamBase
// does not list: every API of phonebook answers its limiters so); internal
// and unknown errors are 500 with no detail.
func TestWriteErrorStatuses(t *testing.T) {
	d := rambase.New(nil, nil)
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   int
	}{
		{"unavailable", &phonebook.Error{Code: phonebook.ECodeUnavailable, Message: "store unavailable", Err: errors.New("disk gone")}, 500, 109098},
		{"rate limited", phonebook.Errorf(phonebook.ECodeRateLimited, "", "too many"), 429, 109033},
		{"internal", &phonebook.Error{Code: phonebook.ECodeInternal, Message: "secret detail", Field: "number"}, 500, 109099},
		{"not a domain error", errors.New("secret detail"), 500, 109099},
		{"unknown code", &phonebook.Error{Code: "brand_new", Message: "secret detail"}, 500, 109099},
		{"precondition", phonebook.Errorf(phonebook.ECodePrecondition, "", "changed"), 400, 109022},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/collaboration/contacts/100000/phones", nil)
			rambase.WriteError(d, w, r, tc.err)
			res := resp{status: w.Code, header: w.Header(), body: w.Body.String()}
			wantError(t, res, tc.status, tc.code, "")
			if strings.Contains(res.body, "secret detail") || strings.Contains(res.body, "disk gone") {
				t.Errorf("body leaks detail: %s", res.body)
			}
			if tc.code == 109098 && res.header.Get("Retry-After") == "" {
				t.Errorf("unavailable without Retry-After")
			}
		})
	}
}
