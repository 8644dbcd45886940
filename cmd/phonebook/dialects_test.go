package main

// Tests of the five vendor dialects as the program mounts them: the whole
// handler of newHandler, over a real SQLite file, through a real HTTP
// server. The dialects' own packages test their details; these prove that
// the mounting works and that every API shares one store and one set of
// rules.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/secretbox"
	"github.com/phonebook/phonebook/store/sqlite"
	"github.com/phonebook/phonebook/web/console"
)

// Tenants and keys of the dialect tests.
const (
	dialectsSlug       = "acme"
	dialectsOtherSlug  = "globex"
	dialectsKey        = "dialects-admin-key-0001"
	dialectsSignedKey  = "dialects-signed-key-0001"
	dialectsSigningKey = "dialects-signing-secret-0001"
	dialectsOtherKey   = "dialects-other-key-0001"
	dialectsE164       = "+15045550123"
)

// dialectsEnv is the program's handler on a fresh store, with tenant acme
// (an admin key, and a key with a Ticket Evolution signing secret) and
// tenant globex (an admin key).
type dialectsEnv struct {
	srv    *httptest.Server
	host   string // host:port, as the client sends it in Host
	nextID int
}

func newDialectsEnv(t *testing.T) *dialectsEnv {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pb.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc := phonebook.NewService(st, nil)
	box, err := secretbox.New("test-server-key-0123456789")
	if err != nil {
		t.Fatalf("secretbox.New: %v", err)
	}
	svc.SetSealer(box)
	for _, slug := range []string{dialectsSlug, dialectsOtherSlug} {
		if _, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: slug}); err != nil {
			t.Fatalf("create tenant %s: %v", slug, err)
		}
	}
	for _, k := range []phonebook.KeyInput{
		{TenantSlug: dialectsSlug, Name: "admin", Scopes: []string{phonebook.ScopeAdmin}, Secret: dialectsKey},
		{TenantSlug: dialectsSlug, Name: "v9", Scopes: []string{phonebook.ScopeCustomersRead, phonebook.ScopeCustomersWrite},
			Secret: dialectsSignedKey, SigningSecret: dialectsSigningKey},
		{TenantSlug: dialectsOtherSlug, Name: "admin", Scopes: []string{phonebook.ScopeAdmin}, Secret: dialectsOtherKey},
	} {
		if _, _, err := svc.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("create key %s/%s: %v", k.TenantSlug, k.Name, err)
		}
	}
	srv := httptest.NewServer(newHandler(slog.New(slog.DiscardHandler), svc, console.Options{}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return &dialectsEnv{srv: srv, host: u.Host}
}

// dialectsResp is one answer, its body read.
type dialectsResp struct {
	req    string // "METHOD path", for messages
	status int
	header http.Header
	body   []byte
}

func (r *dialectsResp) String() string {
	b := r.body
	if len(b) > 600 {
		b = append(b[:600:600], "..."...)
	}
	return fmt.Sprintf("%s: %d %s\n%s", r.req, r.status, r.header.Get("Content-Type"), b)
}

// mediaType is the answer's Content-Type without parameters.
func (r *dialectsResp) mediaType() string {
	mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
	return mt
}

// object decodes the body as one JSON object.
func (r *dialectsResp) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil || m == nil {
		t.Fatalf("%v\nbody: not a JSON object: %v", r, err)
	}
	return m
}

// do sends one request. hdr may hold "Content-Type", credentials, ...
func (e *dialectsEnv) do(t *testing.T, method, path string, hdr map[string]string, body string) *dialectsResp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return &dialectsResp{req: method + " " + path, status: res.StatusCode, header: res.Header, body: b}
}

// v9Headers are Ticket Evolution's credential for the signed key: X-Token
// and X-Signature, base64 HMAC-SHA256 of "METHOD host/path?payload" (the
// body for POST and PUT, the query for GET).
func (e *dialectsEnv) v9Headers(method, path, body string) map[string]string {
	payload := body
	if method == http.MethodGet {
		_, payload, _ = strings.Cut(path, "?")
		path, _, _ = strings.Cut(path, "?")
	}
	m := hmac.New(sha256.New, []byte(dialectsSigningKey))
	m.Write([]byte(method + " " + e.host + path + "?" + payload))
	return map[string]string{
		"X-Token":      dialectsSignedKey,
		"X-Signature":  base64.StdEncoding.EncodeToString(m.Sum(nil)),
		"Content-Type": "application/json",
	}
}

func dialectsBearer(key, contentType string) map[string]string {
	h := map[string]string{"Authorization": "Bearer " + key}
	if contentType != "" {
		h["Content-Type"] = contentType
	}
	return h
}

// dialectsCustomer is a customer as /v1 shows it: every API names it its
// own way (Cross River by uuid, v9 and RamBase by integer id, Relay and
// Wasp by external_id).
type dialectsCustomer struct {
	ID         int64  `json:"id"`
	UUID       string `json:"uuid"`
	ExternalID string `json:"external_id"`
}

// customer creates a customer with an external_id through /v1 with key.
func (e *dialectsEnv) customer(t *testing.T, key, prefix string) dialectsCustomer {
	t.Helper()
	e.nextID++
	ext := fmt.Sprintf("%s-%d", prefix, e.nextID)
	body, _ := json.Marshal(map[string]string{"external_id": ext, "name": "Customer " + ext})
	r := e.do(t, http.MethodPost, "/v1/customers", dialectsBearer(key, "application/json"), string(body))
	if r.status != http.StatusCreated {
		t.Fatalf("create customer: want 201\n%v", r)
	}
	var c dialectsCustomer
	if err := json.Unmarshal(r.body, &c); err != nil || c.ID < phonebook.FirstCustomerID || c.UUID == "" || c.ExternalID != ext {
		t.Fatalf("create customer: got %+v (%v), want id, uuid and external_id %q\n%v", c, err, ext, r)
	}
	return c
}

// dialectsV1Phone is a phone as /v1 lists it.
type dialectsV1Phone struct {
	ID        int64  `json:"id"`
	E164      string `json:"e164"`
	Raw       string `json:"raw"`
	Extension string `json:"extension"`
}

// phones lists a customer's phones through /v1 with key.
func (e *dialectsEnv) phones(t *testing.T, key string, c dialectsCustomer) []dialectsV1Phone {
	t.Helper()
	r := e.do(t, http.MethodGet, fmt.Sprintf("/v1/customers/%d/phones", c.ID), dialectsBearer(key, ""), "")
	if r.status != http.StatusOK {
		t.Fatalf("list phones: want 200\n%v", r)
	}
	var list struct {
		Data []dialectsV1Phone `json:"data"`
	}
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatalf("list phones: %v\n%v", err, r)
	}
	return list.Data
}

// dialectsAPI is one of the six APIs, adding +1 504-555-0123 to a
// customer written in its own style, and telling its own answers apart.
type dialectsAPI struct {
	name string
	// add sends the number to c.
	add func(t *testing.T, e *dialectsEnv, c dialectsCustomer) *dialectsResp
	// added checks the answer of a first add.
	added func(t *testing.T, r *dialectsResp, c dialectsCustomer)
	// again checks the answer of an add of a number c already holds: the
	// API's duplicate error (Wasp: an update, as its save is an upsert).
	again func(t *testing.T, r *dialectsResp, c dialectsCustomer)
}

func dialectsWant(t *testing.T, r *dialectsResp, status int, mediaType string) {
	t.Helper()
	if r.status != status || r.mediaType() != mediaType {
		t.Fatalf("want %d %s\n%v", status, mediaType, r)
	}
}

// dialectsAPIs are /v1 and the five dialects.
var dialectsAPIs = []dialectsAPI{
	{
		name: "v1",
		add: func(t *testing.T, e *dialectsEnv, c dialectsCustomer) *dialectsResp {
			return e.do(t, http.MethodPost, fmt.Sprintf("/v1/customers/%d/phones", c.ID), dialectsBearer(dialectsKey, "application/json"),
				`{"number": "(504) 555-0123", "type": "mobile"}`)
		},
		added: func(t *testing.T, r *dialectsResp, _ dialectsCustomer) {
			dialectsWant(t, r, http.StatusCreated, "application/json")
			if got := r.object(t)["e164"]; got != dialectsE164 {
				t.Errorf("e164: got %v, want %s\n%v", got, dialectsE164, r)
			}
		},
		again: func(t *testing.T, r *dialectsResp, _ dialectsCustomer) {
			dialectsWant(t, r, http.StatusConflict, "application/problem+json")
			if got := r.object(t)["code"]; got != phonebook.ECodePhoneDuplicate {
				t.Errorf("code: got %v, want %s\n%v", got, phonebook.ECodePhoneDuplicate, r)
			}
		},
	},
	{
		name: "crossriver",
		add: func(t *testing.T, e *dialectsEnv, c dialectsCustomer) *dialectsResp {
			return e.do(t, http.MethodPost, "/core/v1/cm/customers/"+c.UUID+"/phones", dialectsBearer(dialectsKey, "application/json"),
				`{"isPrimary": true, "phoneType": "work", "phoneNumber": "5045550123"}`)
		},
		added: func(t *testing.T, r *dialectsResp, c dialectsCustomer) {
			dialectsWant(t, r, http.StatusOK, "application/json")
			m := r.object(t)
			if m["phoneNumber"] != "5045550123" || m["customerId"] != c.UUID {
				t.Errorf("phoneNumber, customerId: got %v, %v, want 5045550123, %s\n%v", m["phoneNumber"], m["customerId"], c.UUID, r)
			}
		},
		again: func(t *testing.T, r *dialectsResp, _ dialectsCustomer) {
			dialectsWant(t, r, http.StatusBadRequest, "application/json")
			var body struct {
				Errors []struct {
					Code    int
					Message string
				}
			}
			if err := json.Unmarshal(r.body, &body); err != nil || len(body.Errors) != 1 ||
				body.Errors[0].Code != 2230 || body.Errors[0].Message != "Phone number already exists" {
				t.Errorf(`want {"Errors":[{"Code":2230,"Message":"Phone number already exists"}]} (%v)`+"\n%v", err, r)
			}
		},
	},
	{
		name: "ticketevolution",
		add: func(t *testing.T, e *dialectsEnv, c dialectsCustomer) *dialectsResp {
			path := fmt.Sprintf("/v9/clients/%d/phone_numbers", c.ID)
			body := `{"phone_numbers": [{"label": "home", "country_code": "+1", "number": "504-555-0123", "extension": null, "is_primary": false}]}`
			return e.do(t, http.MethodPost, path, e.v9Headers(http.MethodPost, path, body), body)
		},
		added: func(t *testing.T, r *dialectsResp, c dialectsCustomer) {
			dialectsWant(t, r, http.StatusCreated, "application/json")
			var page struct {
				TotalEntries int `json:"total_entries"`
				PhoneNumbers []struct {
					URL         string `json:"url"`
					CountryCode string `json:"country_code"`
					Number      string `json:"number"`
				} `json:"phone_numbers"`
			}
			if err := json.Unmarshal(r.body, &page); err != nil || page.TotalEntries != 1 || len(page.PhoneNumbers) != 1 ||
				page.PhoneNumbers[0].Number != "504-555-0123" || page.PhoneNumbers[0].CountryCode != "1" ||
				!strings.HasPrefix(page.PhoneNumbers[0].URL, fmt.Sprintf("/clients/%d/phone_numbers/", c.ID)) {
				t.Errorf("want one phone number 504-555-0123, country code 1, of client %d (%v)\n%v", c.ID, err, r)
			}
		},
		again: func(t *testing.T, r *dialectsResp, _ dialectsCustomer) {
			dialectsWant(t, r, http.StatusUnprocessableEntity, "application/json")
			var body struct {
				Error  string              `json:"error"`
				Errors map[string][]string `json:"errors"`
			}
			if err := json.Unmarshal(r.body, &body); err != nil || body.Error != "Phone number already exists" ||
				!slices.Equal(body.Errors["phone_numbers[0].number"], []string{"Phone number already exists"}) {
				t.Errorf(`want {"error":"Phone number already exists","errors":{"phone_numbers[0].number":[...]}} (%v)`+"\n%v", err, r)
			}
		},
	},
	{
		name: "rambase",
		add: func(t *testing.T, e *dialectsEnv, c dialectsCustomer) *dialectsResp {
			return e.do(t, http.MethodPost, fmt.Sprintf("/collaboration/contacts/%d/phones", c.ID), dialectsBearer(dialectsKey, "application/xml"),
				"<Phone><Type>BUSINESS</Type><IsDefault>true</IsDefault><PhoneNumber>+1 (504) 555-0123</PhoneNumber></Phone>")
		},
		added: func(t *testing.T, r *dialectsResp, c dialectsCustomer) {
			dialectsWant(t, r, http.StatusCreated, "application/xml")
			x := dialectsParseXML(t, r)
			if x.root != "Phone" || x.fields["PhoneNumber"] != "+1 (504) 555-0123" || x.fields["Type"] != "BUSINESS" {
				t.Errorf("want <Phone> with PhoneNumber +1 (504) 555-0123, Type BUSINESS\n%v", r)
			}
			if want := fmt.Sprintf("/collaboration/contacts/%d/phones/%s", c.ID, x.fields["PhoneId"]); r.header.Get("Location") != want {
				t.Errorf("Location: got %q, want %q", r.header.Get("Location"), want)
			}
		},
		again: func(t *testing.T, r *dialectsResp, _ dialectsCustomer) {
			dialectsWant(t, r, http.StatusBadRequest, "application/xml")
			x := dialectsParseXML(t, r)
			if x.root != "Error" || x.fields["Code"] != "109015" || x.fields["HttpStatusCode"] != "400" {
				t.Errorf("want <Error> Code 109015, HttpStatusCode 400\n%v", r)
			}
		},
	},
	{
		name: "relay",
		add: func(t *testing.T, e *dialectsEnv, c dialectsCustomer) *dialectsResp {
			path := "/platform/v3/api/cdm/client/" + dialectsSlug + "/customer/" + url.PathEscape(c.ExternalID) + "/add_phone/5045550123"
			return e.do(t, http.MethodPut, path, map[string]string{"xx-relay-api-key": dialectsKey, "Content-Type": "application/json"},
				`{"consent_type": "express", "phone_type": "mobile", "country_code": "1", "client_source": "portal"}`)
		},
		added: func(t *testing.T, r *dialectsResp, c dialectsCustomer) {
			dialectsWant(t, r, http.StatusOK, "application/json")
			if want := "Phone number 5045550123 has been added to customer with ccid " + c.ExternalID + " for client " + dialectsSlug + "."; r.object(t)["message"] != want {
				t.Errorf("message: want %q\n%v", want, r)
			}
		},
		again: func(t *testing.T, r *dialectsResp, c dialectsCustomer) {
			dialectsWant(t, r, http.StatusConflict, "application/json")
			if want := "Phone number 5045550123 already exists for customer with ccid " + c.ExternalID; r.object(t)["message"] != want {
				t.Errorf("message: want %q\n%v", want, r)
			}
		},
	},
	{
		name: "wasp",
		add: func(t *testing.T, e *dialectsEnv, c dialectsCustomer) *dialectsResp {
			body, _ := json.Marshal([]map[string]any{{"CustomerNumber": c.ExternalID, "FormId": 0, "PhoneNumber": "504.555.0123", "PhoneTypeName": "Mobile"}})
			return e.do(t, http.MethodPost, "/public-api/phones/customer/save", dialectsBearer(dialectsKey, "application/json"), string(body))
		},
		added: func(t *testing.T, r *dialectsResp, _ dialectsCustomer) {
			dialectsWaspSaved(t, r, "Phone created")
		},
		// Wasp's save creates or updates: the same number again is an
		// update of the phone the customer holds, never a second phone.
		again: func(t *testing.T, r *dialectsResp, _ dialectsCustomer) {
			dialectsWaspSaved(t, r, "Phone updated")
		},
	},
}

// dialectsWaspSaved checks a Wasp answer of one record stored with msg.
func dialectsWaspSaved(t *testing.T, r *dialectsResp, msg string) {
	t.Helper()
	dialectsWant(t, r, http.StatusOK, "application/json")
	var out struct {
		Data struct {
			ResultList []struct {
				ResultCode     int
				Message        string
				HttpStatusCode int
			}
			SuccessfullResults, TotalResults, ErrorCount int
		}
		HasError bool
	}
	if err := json.Unmarshal(r.body, &out); err != nil || out.HasError || len(out.Data.ResultList) != 1 ||
		out.Data.ResultList[0].ResultCode != 0 || out.Data.ResultList[0].Message != msg || out.Data.ResultList[0].HttpStatusCode != 200 ||
		out.Data.SuccessfullResults != 1 || out.Data.TotalResults != 1 || out.Data.ErrorCount != 0 {
		t.Errorf("want one record stored, %q (%v)\n%v", msg, err, r)
	}
}

// dialectsXML is an XML answer: its root element and the text of its
// child elements.
type dialectsXML struct {
	root   string
	fields map[string]string
	order  []string
}

func dialectsParseXML(t *testing.T, r *dialectsResp) dialectsXML {
	t.Helper()
	x := dialectsXML{fields: map[string]string{}}
	dec := xml.NewDecoder(bytes.NewReader(r.body))
	depth, field := 0, ""
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%v\nbody: not XML: %v", r, err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 1:
				x.root = tk.Name.Local
			case 2:
				field = tk.Name.Local
				x.order = append(x.order, field)
				text.Reset()
			}
		case xml.CharData:
			if depth == 2 {
				text.Write(tk)
			}
		case xml.EndElement:
			if depth == 2 {
				x.fields[field] = strings.TrimSpace(text.String())
			}
			depth--
		}
	}
	if x.root == "" {
		t.Fatalf("%v\nbody: no XML root element", r)
	}
	return x
}

// TestDialectsDuplicateAcrossAPIs adds +1 504-555-0123 to a fresh customer
// through one API, written that API's way, then through another (every
// ordered pair, the same API twice included): the second answers that
// API's duplicate error (Wasp: an update), and the customer holds one
// phone.
func TestDialectsDuplicateAcrossAPIs(t *testing.T) {
	t.Parallel()
	e := newDialectsEnv(t)
	for _, a := range dialectsAPIs {
		for _, b := range dialectsAPIs {
			t.Run(a.name+"_then_"+b.name, func(t *testing.T) {
				c := e.customer(t, dialectsKey, "dup")
				a.added(t, a.add(t, e, c), c)
				b.again(t, b.add(t, e, c), c)
				phones := e.phones(t, dialectsKey, c)
				if len(phones) != 1 || phones[0].E164 != dialectsE164 || phones[0].Extension != "" {
					t.Errorf("phones of the customer: got %+v, want exactly one, %s without extension", phones, dialectsE164)
				}
			})
		}
	}
}

// TestDialectsSeedExamples sends each dialect's seed page example, as the
// page shows it (ids and credentials filled in), through the program's
// handler, and checks the status, media type and top-level keys the page
// shows. The dialects' own tests check the values.
func TestDialectsSeedExamples(t *testing.T) {
	t.Parallel()
	e := newDialectsEnv(t)

	// Ids in paths: {id} the customer's integer id, {uuid} its uuid, {ext}
	// its external_id, {phone} the id of a phone it holds (added through
	// /v1 first when the path names one), {slug} the tenant.
	const (
		crossRiverBody = "{\n \"isPrimary\": true,\n \"phoneType\": \"work\",\n \"phoneNumber\": \"2015551212\",\n \"extension\": \"123\"\n}\n"
		v9Single       = `{ "phone_numbers": [ { "label": "home", "country_code": "+1", "number": "504-555-0123", "extension": null, "is_primary": false } ] }`
		v9Multi        = `{ "phone_numbers": [ { "label": "home", "country_code": "+1", "number": "541-555-0123", "extension": null, "is_primary": false }, { "label": "work", "country_code": "+1", "number": "541-555-0987", "extension": 5, "is_primary": false }, { "label": "cell", "country_code": "+1", "number": "541-555-0573", "extension": null, "is_primary": true } ] }`
		rambaseXML     = "<Phone>\n     <Type>MOBILE</Type>\n     <IsDefault>true</IsDefault>\n     <PhoneNumber>504.555.0199</PhoneNumber>\n</Phone>\n"
		rambaseJSON    = `{"Phone": {"Type": "MOBILE", "IsDefault": "true", "PhoneNumber": "504.555.0199"}}`
		relayBody      = `{"consent_type": "express", "phone_type": "mobile", "country_code": "1", "client_source": "patient-portal"}`
		waspSample     = `[
  {
    "CustomerNo": "sample string 3",
    "CustomerNumber": "sample string 2",
    "FormId": 0,
    "PhoneNumber": "sample string 4",
    "PhoneExtension": "sample string 5",
    "PhoneTypeName": "sample string 6"
  },
  {
    "CustomerNo": "sample string 3",
    "CustomerNumber": "sample string 2",
    "FormId": 0,
    "PhoneNumber": "sample string 4",
    "PhoneExtension": "sample string 5",
    "PhoneTypeName": "sample string 6"
  }
]`
		waspRealistic = `[{"CustomerNo": "{ext}", "CustomerNumber": "{ext}", "FormId": 0, "PhoneNumber": "(504) 555-0123", "PhoneExtension": "12", "PhoneTypeName": "Work"}]`
	)
	crossRiverKeys := []string{"id", "customerId", "status", "phoneType", "isPrimary", "phoneNumber", "extension",
		"notes", // not in the page's example answer (its request sent none), in its field list: README deviation
		"createdAt", "lastModifiedAt", "partnerId"}
	v9Page := []string{"current_page", "per_page", "total_entries", "phone_numbers"}
	v9Phone := []string{"id", "url", "country_code", "raw_number", "number", "extension", "label", "updated_at"}
	rambasePhone := []string{"PhoneId", "Type", "IsDefault", "PhoneNumber"}
	waspEnvelope := []string{"Data", "Messages", "BatchNumber", "HasError", "HasHttpError", "HasMessage", "HasSuccessWithMoreDataRemaining", "TotalRecordsLongCount"}
	waspData := []string{"ResultList", "SuccessfullResults", "TotalResults", "ErrorCount"}
	waspResult := []string{"ResultCode", "Message", "HttpStatusCode", "FieldName"}

	tests := []struct {
		name, method, path string
		hdr                map[string]string // {key} is the admin key
		body               string
		needsPhone         bool
		status             int
		mediaType          string
		keys               []string            // top-level keys (XML: the root's children)
		xmlRoot            string              // the XML root element
		inner              map[string][]string // keys of a member object (or of an array's first element)
		contains           string              // HTML: a text the page holds
	}{
		{
			name: "crossriver curl -d", method: http.MethodPost, path: "/core/v1/cm/customers/{uuid}/phones",
			hdr:  map[string]string{"Authorization": "Bearer {key}", "Content-Type": "application/x-www-form-urlencoded"},
			body: crossRiverBody, status: http.StatusOK, mediaType: "application/json", keys: crossRiverKeys,
		},
		{
			name: "crossriver python, no Content-Type", method: http.MethodPost, path: "/core/v1/cm/customers/{uuid}/phones",
			hdr:  map[string]string{"Authorization": "Bearer {key}"},
			body: strings.ReplaceAll(crossRiverBody, "\n", "\r\n"), status: http.StatusOK, mediaType: "application/json", keys: crossRiverKeys,
		},
		{
			name: "crossriver read back", method: http.MethodGet, path: "/core/v1/cm/customers/{uuid}/phones", needsPhone: true,
			hdr: map[string]string{"Authorization": "Bearer {key}"}, status: http.StatusOK, mediaType: "application/json",
			inner: map[string][]string{"[]": crossRiverKeys},
		},
		{
			name: "ticketevolution create single", method: http.MethodPost, path: "/v9/clients/{id}/phone_numbers",
			hdr:  map[string]string{"X-Token": "{key}", "Content-Type": "application/json"},
			body: v9Single, status: http.StatusCreated, mediaType: "application/json", keys: v9Page,
			inner: map[string][]string{"phone_numbers": v9Phone},
		},
		{
			name: "ticketevolution create multi", method: http.MethodPost, path: "/v9/clients/{id}/phone_numbers",
			hdr:  map[string]string{"X-Token": "{key}", "Content-Type": "application/json"},
			body: v9Multi, status: http.StatusCreated, mediaType: "application/json", keys: v9Page,
			inner: map[string][]string{"phone_numbers": v9Phone},
		},
		{
			name: "ticketevolution list", method: http.MethodGet, path: "/v9/clients/{id}/phone_numbers?page=1&per_page=100", needsPhone: true,
			hdr: map[string]string{"X-Token": "{key}"}, status: http.StatusOK, mediaType: "application/json", keys: v9Page,
			inner: map[string][]string{"phone_numbers": v9Phone},
		},
		{
			name: "ticketevolution show", method: http.MethodGet, path: "/v9/clients/{id}/phone_numbers/{phone}", needsPhone: true,
			hdr: map[string]string{"X-Token": "{key}"}, status: http.StatusOK, mediaType: "application/json", keys: v9Phone,
		},
		{
			name: "ticketevolution update", method: http.MethodPut, path: "/v9/clients/{id}/phone_numbers/{phone}", needsPhone: true,
			hdr:  map[string]string{"X-Token": "{key}", "Content-Type": "application/json"},
			body: `{"label": "work"}`, status: http.StatusOK, mediaType: "application/json", keys: v9Phone,
		},
		{
			name: "rambase PUT xml", method: http.MethodPut, path: "/collaboration/contacts/{id}/phones/{phone}", needsPhone: true,
			hdr:  map[string]string{"Authorization": "Bearer {key}", "Content-Type": "application/xml"},
			body: rambaseXML, status: http.StatusOK, mediaType: "application/xml", xmlRoot: "Phone", keys: rambasePhone,
		},
		{
			name: "rambase PUT json, $format=json, $access_token, $db", method: http.MethodPut, needsPhone: true,
			path: "/collaboration/contacts/{id}/phones/{phone}?$format=json&$access_token={key}&$db={slug}&$useMinimumVersion=4",
			hdr:  map[string]string{"Content-Type": "application/json"},
			body: rambaseJSON, status: http.StatusOK, mediaType: "application/json", keys: []string{"Phone"},
			inner: map[string][]string{"Phone": rambasePhone},
		},
		{
			name: "rambase PUT, $format=html", method: http.MethodPut, path: "/collaboration/contacts/{id}/phones/{phone}?$format=html", needsPhone: true,
			hdr:  map[string]string{"Authorization": "Bearer {key}", "Content-Type": "application/xml"},
			body: rambaseXML, status: http.StatusOK, mediaType: "text/html", contains: "504.555.0199",
		},
		{
			name: "rambase POST xml", method: http.MethodPost, path: "/collaboration/contacts/{id}/phones",
			hdr:  map[string]string{"Authorization": "Bearer {key}", "Content-Type": "application/xml"},
			body: rambaseXML, status: http.StatusCreated, mediaType: "application/xml", xmlRoot: "Phone", keys: rambasePhone,
		},
		{
			name: "relay add_phone", method: http.MethodPut, path: "/platform/v3/api/cdm/client/{slug}/customer/{ext}/add_phone/5045550123",
			hdr:  map[string]string{"xx-relay-api-key": "{key}", "Content-Type": "application/json"},
			body: relayBody, status: http.StatusOK, mediaType: "application/json", keys: []string{"message"},
		},
		{
			name: "relay add_phone POST, no body", method: http.MethodPost, path: "/platform/v3/api/cdm/client/{slug}/customer/{ext}/add_phone/5045550123",
			hdr:    map[string]string{"xx-relay-api-key": "{key}"},
			status: http.StatusOK, mediaType: "application/json", keys: []string{"message"},
		},
		{
			name: "relay remove_phone", method: http.MethodPut, path: "/platform/v3/api/cdm/client/{slug}/customer/{ext}/remove_phone/{number}", needsPhone: true,
			hdr:    map[string]string{"xx-relay-api-key": "{key}"},
			status: http.StatusOK, mediaType: "application/json", keys: []string{"message"},
		},
		{
			name: "wasp page sample", method: http.MethodPost, path: "/public-api/phones/customer/save",
			hdr:  map[string]string{"Authorization": "Bearer {key}", "Content-Type": "application/json"},
			body: waspSample, status: http.StatusOK, mediaType: "application/json", keys: waspEnvelope,
			inner: map[string][]string{"Data": waspData, "Messages": waspResult},
		},
		{
			name: "wasp realistic", method: http.MethodPost, path: "/public-api/phones/customer/save",
			hdr:  map[string]string{"Authorization": "Bearer {key}", "Content-Type": "application/json"},
			body: waspRealistic, status: http.StatusOK, mediaType: "application/json", keys: waspEnvelope,
			inner: map[string][]string{"Data": waspData, "Messages": waspResult},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.customer(t, dialectsKey, "seed")
			phoneID := ""
			if tt.needsPhone {
				r := dialectsAPIs[0].add(t, e, c)
				dialectsAPIs[0].added(t, r, c)
				phoneID = fmt.Sprint(r.object(t)["id"])
			}
			fill := strings.NewReplacer("{key}", dialectsKey, "{id}", fmt.Sprint(c.ID), "{uuid}", c.UUID,
				"{ext}", c.ExternalID, "{phone}", phoneID, "{slug}", dialectsSlug, "{number}", "5045550123")
			hdr := map[string]string{}
			for k, v := range tt.hdr {
				hdr[k] = fill.Replace(v)
			}
			r := e.do(t, tt.method, fill.Replace(tt.path), hdr, fill.Replace(tt.body))
			dialectsWant(t, r, tt.status, tt.mediaType)
			switch {
			case tt.contains != "":
				if !bytes.Contains(r.body, []byte(tt.contains)) {
					t.Errorf("body: want it to hold %q\n%v", tt.contains, r)
				}
			case tt.xmlRoot != "":
				x := dialectsParseXML(t, r)
				if x.root != tt.xmlRoot || !slices.Equal(x.order, tt.keys) {
					t.Errorf("XML: got <%s> with %q, want <%s> with %q\n%v", x.root, x.order, tt.xmlRoot, tt.keys, r)
				}
			default:
				var top any
				if err := json.Unmarshal(r.body, &top); err != nil {
					t.Fatalf("body: not JSON: %v\n%v", err, r)
				}
				if tt.keys != nil {
					if got := dialectsKeys(top); !dialectsSameKeys(got, tt.keys) {
						t.Errorf("keys: got %q, want %q\n%v", got, tt.keys, r)
					}
				}
				for member, want := range tt.inner {
					v := top
					if member != "[]" {
						m, _ := top.(map[string]any)
						v = m[member]
					}
					if got := dialectsKeys(v); !dialectsSameKeys(got, want) {
						t.Errorf("keys of %s: got %q, want %q\n%v", member, got, want, r)
					}
				}
			}
		})
	}
}

// dialectsKeys are the keys of a JSON object, or of the first element of
// an array; nil for anything else.
func dialectsKeys(v any) []string {
	if a, ok := v.([]any); ok {
		if len(a) == 0 {
			return nil
		}
		v = a[0]
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func dialectsSameKeys(got, want []string) bool {
	w := slices.Clone(want)
	sort.Strings(w)
	return slices.Equal(got, w)
}

// TestDialectsOtherTenantNotFound sends, with tenant acme's key, every
// dialect route naming a customer (and a phone) of tenant globex: each
// answers its own "not found", and nothing changes at globex.
func TestDialectsOtherTenantNotFound(t *testing.T) {
	t.Parallel()
	e := newDialectsEnv(t)
	other := e.customer(t, dialectsOtherKey, "globex")
	r := e.do(t, http.MethodPost, fmt.Sprintf("/v1/customers/%d/phones", other.ID), dialectsBearer(dialectsOtherKey, "application/json"),
		`{"number": "(504) 555-0123", "type": "home"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("add globex's phone: want 201\n%v", r)
	}
	otherPhone := fmt.Sprint(r.object(t)["id"])
	// An acme customer, so that acme's calls are well-formed everywhere.
	_ = e.customer(t, dialectsKey, "acme")

	crossRiver := func(t *testing.T, r *dialectsResp) {
		dialectsWant(t, r, http.StatusNotFound, "application/json")
		var body struct{ Errors []struct{ Code int } }
		if err := json.Unmarshal(r.body, &body); err != nil || len(body.Errors) != 1 || body.Errors[0].Code != 2001 {
			t.Errorf("want Errors[0].Code 2001\n%v", r)
		}
	}
	v9 := func(t *testing.T, r *dialectsResp) {
		dialectsWant(t, r, http.StatusNotFound, "application/json")
		if got := r.object(t)["error"]; got != "Client not found" {
			t.Errorf(`error: got %v, want "Client not found"`+"\n%v", got, r)
		}
	}
	rambase := func(t *testing.T, r *dialectsResp) {
		dialectsWant(t, r, http.StatusNotFound, "application/xml")
		if x := dialectsParseXML(t, r); x.root != "Error" || x.fields["Code"] != "109000" || x.fields["HttpStatusCode"] != "404" {
			t.Errorf("want <Error> Code 109000, HttpStatusCode 404\n%v", r)
		}
	}
	relay := func(msg string) func(*testing.T, *dialectsResp) {
		return func(t *testing.T, r *dialectsResp) {
			dialectsWant(t, r, http.StatusNotFound, "application/json")
			if got := r.object(t)["message"]; got != msg {
				t.Errorf("message: got %v, want %q\n%v", got, msg, r)
			}
		}
	}
	wasp := func(field string) func(*testing.T, *dialectsResp) {
		return func(t *testing.T, r *dialectsResp) {
			dialectsWant(t, r, http.StatusOK, "application/json")
			var out struct {
				Data struct {
					ResultList []struct {
						ResultCode     int
						HttpStatusCode int
						FieldName      string
					}
					SuccessfullResults, ErrorCount int
				}
				HasError bool
			}
			if err := json.Unmarshal(r.body, &out); err != nil || !out.HasError || len(out.Data.ResultList) != 1 ||
				out.Data.ResultList[0].ResultCode != -1004 || out.Data.ResultList[0].HttpStatusCode != 404 ||
				out.Data.ResultList[0].FieldName != field || out.Data.SuccessfullResults != 0 || out.Data.ErrorCount != 1 {
				t.Errorf("want one record failed with ResultCode -1004, HttpStatusCode 404, FieldName %s\n%v", field, r)
			}
		}
	}
	v1 := func(t *testing.T, r *dialectsResp) {
		dialectsWant(t, r, http.StatusNotFound, "application/problem+json")
		if got := r.object(t)["code"]; got != phonebook.ECodeNotFound {
			t.Errorf("code: got %v, want not_found\n%v", got, r)
		}
	}

	ext := url.PathEscape(other.ExternalID)
	relayBase := "/platform/v3/api/cdm/client/" + dialectsSlug + "/customer/" + ext
	bearer := map[string]string{"Authorization": "Bearer " + dialectsKey, "Content-Type": "application/json"}
	xmlBearer := map[string]string{"Authorization": "Bearer " + dialectsKey, "Content-Type": "application/xml"}
	token := map[string]string{"X-Token": dialectsKey, "Content-Type": "application/json"}
	relayKey := map[string]string{"xx-relay-api-key": dialectsKey}
	rambasePhone := "<Phone><PhoneNumber>+1 (504) 555-0124</PhoneNumber></Phone>"
	tests := []struct {
		name, method, path string
		hdr                map[string]string
		body               string
		check              func(*testing.T, *dialectsResp)
	}{
		{"v1 add", http.MethodPost, fmt.Sprintf("/v1/customers/%d/phones", other.ID), bearer, `{"number": "5045550124"}`, v1},
		{"v1 list", http.MethodGet, fmt.Sprintf("/v1/customers/%s/phones", other.UUID), bearer, "", v1},
		{"crossriver POST", http.MethodPost, "/core/v1/cm/customers/" + other.UUID + "/phones", bearer,
			`{"isPrimary": false, "phoneType": "home", "phoneNumber": "5045550124"}`, crossRiver},
		{"crossriver GET", http.MethodGet, "/core/v1/cm/customers/" + other.UUID + "/phones", bearer, "", crossRiver},
		{"ticketevolution create", http.MethodPost, fmt.Sprintf("/v9/clients/%d/phone_numbers", other.ID), token,
			`{"phone_numbers": [{"number": "504-555-0124", "country_code": "+1"}]}`, v9},
		{"ticketevolution list", http.MethodGet, fmt.Sprintf("/v9/clients/%d/phone_numbers", other.ID), token, "", v9},
		{"ticketevolution show", http.MethodGet, fmt.Sprintf("/v9/clients/%d/phone_numbers/%s", other.ID, otherPhone), token, "", v9},
		{"ticketevolution update", http.MethodPut, fmt.Sprintf("/v9/clients/%d/phone_numbers/%s", other.ID, otherPhone), token, `{"label": "x"}`, v9},
		{"rambase POST", http.MethodPost, fmt.Sprintf("/collaboration/contacts/%d/phones", other.ID), xmlBearer, rambasePhone, rambase},
		{"rambase PUT", http.MethodPut, fmt.Sprintf("/collaboration/contacts/%d/phones/%s", other.ID, otherPhone), xmlBearer, rambasePhone, rambase},
		{"relay add_phone", http.MethodPut, relayBase + "/add_phone/5045550124", relayKey, "",
			relay("Customer with ccid " + other.ExternalID + " not found")},
		{"relay remove_phone", http.MethodPut, relayBase + "/remove_phone/5045550123", relayKey, "",
			relay("Customer with ccid " + other.ExternalID + " not found")},
		{"relay add_phone, the other tenant's client_id", http.MethodPut,
			"/platform/v3/api/cdm/client/" + dialectsOtherSlug + "/customer/" + ext + "/add_phone/5045550124", relayKey, "",
			relay("Client not found")},
		{"wasp CustomerNumber", http.MethodPost, "/public-api/phones/customer/save", bearer,
			fmt.Sprintf(`[{"CustomerNumber": %q, "PhoneNumber": "504-555-0124", "PhoneTypeName": "home"}]`, other.ExternalID), wasp("CustomerNumber")},
		{"wasp CustomerNo", http.MethodPost, "/public-api/phones/customer/save", bearer,
			fmt.Sprintf(`[{"CustomerNo": %q, "PhoneNumber": "504-555-0123", "PhoneTypeName": "home"}]`, other.ExternalID), wasp("CustomerNo")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, e.do(t, tt.method, tt.path, tt.hdr, tt.body))
		})
	}

	phones := e.phones(t, dialectsOtherKey, other)
	if len(phones) != 1 || phones[0].E164 != dialectsE164 || phones[0].Raw != "(504) 555-0123" {
		t.Errorf("globex's customer: got phones %+v, want its one phone unchanged", phones)
	}
}
