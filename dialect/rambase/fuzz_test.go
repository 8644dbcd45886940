package rambase_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/rambase"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
)

// fuzzKey is the admin key of the fuzz target's tenant.
const fuzzKey = "fuzz-admin-key-0000000001"

// fuzzServer is the real router with this dialect over a real SQLite
// file, built once per fuzz target (and per fuzzing worker): tenant acme,
// an admin key, and customer C-1 (external id) with one phone.
type fuzzServer struct {
	h        http.Handler
	customer *phonebook.Customer
	phone    *phonebook.Phone
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	ctx := context.Background()
	// synchronous=OFF: the fuzzer writes many rows; durability is not
	// what is under test.
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "pb.db"), sqlite.Options{Synchronous: "OFF"})
	if err != nil {
		f.Fatalf("sqlite.Open: %v", err)
	}
	f.Cleanup(func() { _ = st.Close() })
	svc := phonebook.NewService(st, nil)
	log := slog.New(slog.DiscardHandler)
	// No rate limit: the fuzzer sends far more than a client may.
	srv := httpapi.NewServer(log, svc, httpapi.Options{Dialects: []httpapi.Dialect{rambase.New(log, svc)}, RateLimit: &httpapi.RateLimit{}})
	t, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "acme"})
	if err != nil {
		f.Fatalf("create tenant: %v", err)
	}
	if _, _, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Name: "fuzz", Scopes: []string{phonebook.ScopeAdmin}, Secret: fuzzKey}); err != nil {
		f.Fatalf("create key: %v", err)
	}
	actx := phonebook.NewContextWithAuth(ctx, &phonebook.Auth{Tenant: t, Source: "test"})
	c, err := svc.CreateCustomer(actx, phonebook.CustomerInput{ExternalID: "C-1", Name: "Ada"})
	if err != nil {
		f.Fatalf("create customer: %v", err)
	}
	p, err := svc.AddPhone(actx, phonebook.CustomerRef{ID: c.ID}, phonebook.PhoneInput{Number: "+1 504 555 0123", Type: "home"})
	if err != nil {
		f.Fatalf("add phone: %v", err)
	}
	return &fuzzServer{h: srv, customer: c, phone: p}
}

// serve sends req with the dialect's credential and fails t on a 5xx.
func (s *fuzzServer) serve(t *testing.T, req *http.Request, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s with body %q: status %d: %s", req.Method, req.URL, body, rec.Code, rec.Body)
	}
	return rec
}

// FuzzRamBaseRequest sends arbitrary bodies, Content-Types and query
// strings ($format, $db, ...) to the RamBase create (POST
// /collaboration/contacts/{contactId}/phones) and update (PUT
// .../phones/{phoneId}) decoders, XML and JSON: no input may cause a 5xx,
// and every refusal is a numbered RamBase error in XML, JSON or HTML.
func FuzzRamBaseRequest(f *testing.F) {
	s := newFuzzServer(f)
	for _, c := range []struct {
		put       bool
		ct, query string
		body      string
	}{
		{false, "application/xml", "", `<?xml version="1.0" encoding="UTF-8"?><Phone><Type>BUSINESS</Type><IsDefault>true</IsDefault><PhoneNumber>+1 (504) 555-0199</PhoneNumber></Phone>`},
		{false, "application/json", "$format=json", `{"Phone":{"Type":"MOBILE","IsDefault":"false","PhoneNumber":"504.555.0177"}}`},
		{true, "text/xml", "$format=html&$db=acme", `<Phone><IsDefault>1</IsDefault></Phone>`},
		{true, "", "$useMinimumVersion=2", `{"phoneNumber":"+1 504 555 0166","type":"home"}`},
		{false, "application/xml", "", `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Phone><PhoneNumber>&lol2;</PhoneNumber></Phone>`},
		{false, "application/xml", "", `<!DOCTYPE Phone [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Phone><PhoneNumber>&xxe;</PhoneNumber></Phone>`},
		{false, "application/xml", "", `<Phone><PhoneNumber><![CDATA[5045550155]]></PhoneNumber><X/></Phone>`},
		{true, "application/xml; charset=utf-16", "$format=yaml", `<?xml version="1.0" encoding="UTF-16"?><Phone/>`},
		{false, "text/plain", "$access_token=nope", `PhoneNumber=1`},
		{false, "", "", "\xef\xbb\xbf<Phone><PhoneNumber>&#0;</PhoneNumber></Phone>"},
		{true, "application/json", "", `{"Phone":null}`},
	} {
		f.Add(c.put, c.ct, c.query, []byte(c.body))
	}
	contact := "/collaboration/contacts/" + strconv.FormatInt(s.customer.ID, 10) + "/phones"
	one := contact + "/" + strconv.FormatInt(s.phone.ID, 10)
	f.Fuzz(func(t *testing.T, put bool, contentType, rawQuery string, body []byte) {
		method, path := http.MethodPost, contact
		if put {
			method, path = http.MethodPut, one
		}
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.URL.RawQuery = rawQuery
		req.Header.Set("Authorization", "Bearer "+fuzzKey)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := s.serve(t, req, body)
		if rec.Code < 400 {
			return
		}
		mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
		code := 0
		switch mt {
		case "application/xml":
			var out struct{ Code int }
			_ = xml.Unmarshal(rec.Body.Bytes(), &out)
			code = out.Code
		case "application/json":
			var out struct{ Code int }
			_ = json.Unmarshal(rec.Body.Bytes(), &out)
			code = out.Code
		case "text/html":
			if bytes.Contains(rec.Body.Bytes(), []byte("<th>Code</th><td>1")) {
				code = 1
			}
		}
		if code == 0 {
			t.Fatalf("%s ?%q %q body %q: status %d not a RamBase error: %s %s", method, rawQuery, contentType, body, rec.Code, mt, rec.Body)
		}
	})
}
