package crossriver_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/crossriver"
)

// pageBody builds a request body the way the seed page's Python and
// Node.js examples do (/work/shared/seeds/000_3ed806453b39c54b.txt): members
// on lines of their own, joined by "\r\n", two spaces of indent, and a
// trailing "\r\n" after the closing brace.
func pageBody(members ...string) string {
	return "{\r\n  " + strings.Join(members, ",\r\n  ") + "\r\n}\r\n"
}

// TestSeveralErrorsInOneAnswer: Cross River's response-codes page
// (docs.crbcos.com/cos-api/docs/response-codes-and-errors) shows one error
// object holding an "Errors" array with one entry per problem ("First name
// required", "Last name required"). A request with several wrong fields is
// answered with every one of them, in the page's order of fields, and
// stores nothing.
func TestSeveralErrorsInOneAnswer(t *testing.T) {
	e := newEnv(t)
	k := e.mustTenant(phonebook.TenantInput{})
	long := strings.Repeat("a", 256)
	tests := []struct {
		name   string
		header []string // as the page's examples send: curl -d (form), the others none
		body   string
		codes  []int
		msgs   []string
	}{
		{
			"every field wrong", []string{"Content-Type", "application/x-www-form-urlencoded"},
			pageBody(`"isPrimary": "yes"`, `"phoneType": "pager"`, `"phoneNumber": "201-555-1212"`, `"extension": "12a"`, `"notes": "`+long+`"`),
			[]int{1001, 1002, 1003, 1004, 1005},
			[]string{"isPrimary must be true or false", "phoneType must be one of home, mobile, work, fax", "phoneNumber must hold digits only", "extension must be digits only", "notes must be at most 255 characters"},
		},
		{
			"missing required fields and too long ones", nil,
			pageBody(`"phoneNumber": "2015551212"`, `"extension": "`+strings.Repeat("1", 21)+`"`, `"notes": "`+long+`"`),
			[]int{1001, 1002, 1004, 1005},
			[]string{"isPrimary is required", "phoneType is required", "extension is longer than 20 characters", "notes must be at most 255 characters"},
		},
		{
			"two members of the wrong JSON type", nil,
			pageBody(`"isPrimary": 1`, `"phoneType": ["work"]`, `"phoneNumber": "2015551212"`),
			[]int{1001, 1002},
			[]string{"isPrimary must be true or false", "phoneType must be a string"},
		},
		{
			"a number that cannot be read and a bad extension", nil,
			pageBody(`"isPrimary": true`, `"phoneType": "work"`, `"phoneNumber": "99999999999"`, `"extension": "x1"`),
			[]int{1003, 1004},
			[]string{"phoneNumber has the wrong length", "extension must be digits only"},
		},
		{
			"a required field missing and a number too short", nil,
			pageBody(`"isPrimary": true`, `"phoneNumber": "201555121"`, `"notes": "`+long+`"`),
			[]int{1002, 1003, 1005},
			[]string{"phoneType is required", "phoneNumber must have 10 to 20 digits", "notes must be at most 255 characters"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.mustCustomer(k.RW)
			resp, body := e.do(http.MethodPost, phonesPath(c.UUID), tt.body, append([]string{"Authorization", "Bearer " + k.RW}, tt.header...)...)
			wantError(t, resp, body, http.StatusBadRequest, tt.codes, tt.msgs...)
			if got := len(e.native(c.UUID, k.RW)); got != 0 {
				t.Errorf("phones after a refused request: got %d, want 0", got)
			}
		})
	}

	// The page's own example, byte for byte, still succeeds.
	c := e.mustCustomer(k.RW)
	resp, body := e.do(http.MethodPost, phonesPath(c.UUID),
		pageBody(`"isPrimary": true`, `"phoneType": "work"`, `"phoneNumber": "2015551212"`, `"extension": "123"`),
		"Authorization", "Bearer "+k.RW)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the page's example: got %d %s, want 200", resp.StatusCode, body)
	}
}

// TestConflictIs409: the response-codes page says 409 "The resource is in a
// conflicted state, most likely due to simultaneous operations being
// performed. Your request should be retried." The domain's codes for that
// state — conflict (a concurrent writer took a unique value first, such as
// the primary flag the stores' unique index holds) and
// idempotency_in_progress (the same request still running) — answer 409 in
// Cross River's shape, with a rule-violation code and Retry-After.
func TestConflictIs409(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		name string
		err  error
		code int
	}{
		// The stores' own error when two writers make a primary at once.
		{"conflict", phonebook.Errorf(phonebook.ECodeConflict, "is_primary", "the customer already has a primary phone"), 2235},
		{"idempotency in progress", phonebook.Errorf(phonebook.ECodeIdempotencyInProgress, "Idempotency-Key", "a request with this Idempotency-Key is still running"), 2238},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			crossriver.WriteError(log, w, tt.err)
			if got, want := w.Code, http.StatusConflict; got != want {
				t.Fatalf("status: got %d, want %d", got, want)
			}
			if got, want := w.Header().Get("Retry-After"), "1"; got != want {
				t.Errorf("Retry-After: got %q, want %q", got, want)
			}
			got := mustDecode[wireErrors](t, w.Body.Bytes())
			if len(got.Errors) != 1 || got.Errors[0].Code != tt.code || !strings.Contains(got.Errors[0].Message, "retry") {
				t.Errorf("body: got %s, want one error %d telling to retry", w.Body.Bytes(), tt.code)
			}
		})
	}
}
