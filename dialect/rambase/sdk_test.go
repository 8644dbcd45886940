package rambase_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// sdkError is the error object as RamBase's .NET SDK declares it
// (RamBase/RamBaseApiDotNetSdk, RamBaseApiSdk/Request/Error.cs and
// ErrorMessage.cs), read the way it reads it: the whole body is the object
// (RamBaseRequest.ValidateResponse: JsonConvert.DeserializeObject<Error>).
type sdkError struct {
	HttpStatusCode        int
	HttpStatusDescription string
	Message               string
	TranslatedMessage     string
	ErrorMessage          *struct {
		ErrorMessageId   string
		ErrorMessageLink string
	}
	InnerErrors []sdkError
}

// sdkContentType is what the SDK's StringContent(data, Encoding.UTF8,
// "application/json") sends (RamBaseRequest.SendRequestAsync).
const sdkContentType = "application/json; charset=utf-8"

// sdkHeader is what the SDK's HttpClient sends on every request
// (RamBaseApiSdk/RamBaseApi.cs: DefaultRequestHeaders.Accept
// application/json; the token as Authorization: Bearer, which req.token
// sets). It sends no $format.
var sdkHeader = map[string]string{"Accept": "application/json"}

// TestSDKReadsErrors replays requests as the .NET SDK builds them and reads
// each error the way the SDK does: status fields at the top level (its
// batch reader checks the body starts with "httpStatusCode", any case),
// Message and TranslatedMessage set, the error id in
// ErrorMessage.ErrorMessageId, and only the statuses RamBase documents
// (https://api.rambase.net/gettingstarted/errormessages: 400, 403, 404,
// 500; the SDK treats 401 itself).
func TestSDKReadsErrors(t *testing.T) {
	e := newEnv(t)
	cid := e.mustCustomer(e.token)
	for _, tc := range []struct {
		name   string
		path   string
		ctype  string
		body   string
		token  string
		status int
		id     string
	}{
		{"unknown contact: a not-found id, not 101015 Permission not found", phonesPath(999999), sdkContentType, `{"phone":{"phoneNumber":"5045550123"}}`, e.token, 404, "109000"},
		{"wrong content type is 400, not 415", phonesPath(cid), "text/plain; charset=utf-8", `PhoneNumber=5045550123`, e.token, 400, "109007"},
		{"bad pattern", phonesPath(cid), sdkContentType, `{"phone":{"phoneNumber":"abc"}}`, e.token, 400, "109010"},
		{"contactId too small", phonesPath(99), sdkContentType, `{"phone":{"phoneNumber":"5045550123"}}`, e.token, 400, "109002"},
		{"other database", phonesPath(cid) + "?$db=SOMEONEELSE", sdkContentType, `{"phone":{"phoneNumber":"5045550123"}}`, e.token, 403, "109032"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(req{method: http.MethodPost, path: tc.path, ctype: tc.ctype, body: tc.body, header: sdkHeader, token: tc.token})
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d; body %s", r.status, tc.status, r.body)
			}
			head := strings.ToLower(strings.TrimSpace(strings.TrimLeft(r.body, "{")))
			if !strings.HasPrefix(head, `"httpstatuscode"`) {
				t.Errorf("body does not start with httpStatusCode as the SDK's batch reader expects: %s", r.body)
			}
			var got sdkError
			if err := json.Unmarshal([]byte(r.body), &got); err != nil {
				t.Fatalf("decoding %s: %v", r.body, err)
			}
			if got.HttpStatusCode != tc.status || got.HttpStatusDescription != http.StatusText(tc.status) {
				t.Errorf("HttpStatusCode, HttpStatusDescription = %d, %q; want %d, %q", got.HttpStatusCode, got.HttpStatusDescription, tc.status, http.StatusText(tc.status))
			}
			if got.Message == "" || got.TranslatedMessage != got.Message {
				t.Errorf("Message %q, TranslatedMessage %q: want both set (English)", got.Message, got.TranslatedMessage)
			}
			if got.ErrorMessage == nil || got.ErrorMessage.ErrorMessageId != tc.id {
				t.Errorf("ErrorMessage = %+v, want ErrorMessageId %s", got.ErrorMessage, tc.id)
			}
		})
	}
	t.Run("inner errors carry no status", func(t *testing.T) {
		r := e.do(req{method: http.MethodPost, path: phonesPath(cid), ctype: sdkContentType, header: sdkHeader,
			body: `{"phone":{"type":"` + strings.Repeat("x", 300) + `","phoneNumber":"abc"}}`, token: e.token})
		var got sdkError
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatalf("decoding %s: %v", r.body, err)
		}
		if len(got.InnerErrors) != 2 {
			t.Fatalf("InnerErrors = %+v, want 2; body %s", got.InnerErrors, r.body)
		}
		for _, in := range got.InnerErrors {
			if in.HttpStatusCode != 0 || in.HttpStatusDescription != "" || in.ErrorMessage == nil || in.ErrorMessage.ErrorMessageId == "" || in.Message == "" {
				t.Errorf("inner error %+v: want an id and a message and no status fields", in)
			}
		}
	})
}

// TestJSONCasing: a body in the seed page's PascalCase and one in the
// camelCase of RamBase's public API docs (e.g. the error-message resource's
// JSON, "errorMessage": {"httpStatusCode": ...}) are read alike, as the SDK
// posts them (application/json; charset=utf-8).
func TestJSONCasing(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, create, update string
	}{
		{"PascalCase", `{"Phone": {"Type": "MOBILE", "IsDefault": "true", "PhoneNumber": "504.555.0199"}}`, `{"Phone": {"Type": "HOME", "PhoneNumber": "+1 504 555 0198"}}`},
		{"camelCase", `{"phone": {"type": "MOBILE", "isDefault": true, "phoneNumber": "504.555.0199"}}`, `{"phone": {"type": "HOME", "phoneNumber": "+1 504 555 0198"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cid := e.mustCustomer(e.token)
			r := e.do(req{method: http.MethodPost, path: phonesPath(cid), ctype: sdkContentType, body: tc.create, token: e.token})
			p := mustPhone(t, r, http.StatusCreated)
			if p.Type != "MOBILE" || !p.IsDefault || p.PhoneNumber != "504.555.0199" {
				t.Errorf("created %+v", p)
			}
			r = e.do(req{method: http.MethodPut, path: phonePath(cid, p.PhoneID), ctype: sdkContentType, body: tc.update, token: e.token})
			p = mustPhone(t, r, http.StatusOK)
			if p.Type != "HOME" || p.PhoneNumber != "+1 504 555 0198" {
				t.Errorf("updated %+v", p)
			}
			if got := e.v1Phone(cid, p.PhoneID).E164; got != "+15045550198" {
				t.Errorf("e164 = %s, want +15045550198", got)
			}
		})
	}
}
