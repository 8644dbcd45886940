package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestInvalidUTF8IsRefusedWithTheField: invalid UTF-8 anywhere a client
// writes text (a JSON value or key, a query parameter, a path value) is a
// 422 validation error naming the field, never text patched with U+FFFD.
func TestInvalidUTF8IsRefusedWithTheField(t *testing.T) {
	e := newGuardEnv(t, 0, "")
	cases := []struct {
		name, method, target, body, field string
	}{
		{"name", "POST", "/v1/customers", "{\"name\":\"Ada \xffLovelace\"}", "name"},
		{"truncated sequence", "POST", "/v1/customers", "{\"name\":\"x\",\"external_id\":\"C-\xc3\"}", "external_id"},
		{"lone surrogate escape", "POST", "/v1/customers", `{"name":"a\ud800b"}`, "name"},
		{"nested", "POST", "/v1/phones/batch", "{\"records\":[{\"customer_id\":100000,\"number\":\"5045550123\"},{\"customer_id\":100000,\"number\":\"5045550124\",\"notes\":\"\xfe\"}]}", "records[1].notes"},
		{"webhook description", "POST", "/v1/webhooks", "{\"url\":\"https://example.com/h\",\"description\":\"\xff\"}", "description"},
		{"inbound sms body", "POST", "/v1/inbound/sms", "{\"from\":\"5045550123\",\"body\":\"STOP\xff\"}", "body"},
		{"query q", "GET", "/v1/customers?q=%FF", "", "q"},
		{"query external_id", "GET", "/v1/customers?external_id=C-%C3", "", "external_id"},
		{"path id", "GET", "/v1/customers/%FF", "", "id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+e.key)
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			e.srv.ServeHTTP(rec, req)
			var p struct {
				Code   string
				Errors []struct{ Field, Code string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
			}
			if rec.Code != http.StatusUnprocessableEntity || p.Code != "validation" || len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
				t.Errorf("got %d %s, want 422 validation on field %q", rec.Code, rec.Body, tc.field)
			}
		})
	}
}
