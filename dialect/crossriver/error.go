package crossriver

import (
	"log/slog"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/phonebook/phonebook"
)

// Codes of errors found by the dialect itself, before the domain.
const (
	codeMalformed    = "malformed_body"
	codeBodyTooLarge = "body_too_large"
)

// messageConflict answers a 409 in the words of Cross River's response
// codes page: the client retries.
const messageConflict = "The resource is in a conflicted state due to simultaneous operations; retry the request"

var errBodyTooLarge = phonebook.Errorf(codeBodyTooLarge, "", "the request body is larger than %d bytes", maxBodyBytes)

func malformed(msg string) error { return phonebook.Errorf(codeMalformed, "", "%s", msg) }

// vendorCode is how one error code is answered: Cross River's number (0:
// the field's own validation number, see fieldCodes), the HTTP status, and
// a fixed message ("" keeps the domain's, field names translated).
type vendorCode struct {
	Code    int
	Status  int
	Message string
}

// codes is the one table from error codes to Cross River's: 1000-1999
// validation, 2000-2999 rule violations, 3000-3999 security, 9999 system.
var codes = map[string]vendorCode{
	codeMalformed:                 {1000, http.StatusBadRequest, ""},
	codeBodyTooLarge:              {1000, http.StatusRequestEntityTooLarge, ""},
	phonebook.ECodeValidation:     {0, http.StatusBadRequest, ""},
	phonebook.ECodeInvalidNumber:  {0, http.StatusBadRequest, ""},
	phonebook.ECodeNotFound:       {2001, http.StatusNotFound, "Customer not found"},
	phonebook.ECodePhoneDuplicate: {2230, http.StatusBadRequest, "Phone number already exists"},
	phonebook.ECodePhoneLimit:     {2231, http.StatusBadRequest, ""},
	phonebook.ECodeNumberLimit:    {2232, http.StatusBadRequest, ""},
	phonebook.ECodeTypeUnknown:    {2233, http.StatusBadRequest, "phoneType is not a phone type of this partner"},
	phonebook.ECodePrecondition:   {2234, http.StatusPreconditionFailed, ""},
	// 409: "The resource is in a conflicted state, most likely due to
	// simultaneous operations being performed. Your request should be
	// retried." (COS response codes page). The domain says conflict when a
	// concurrent writer took a unique value first, idempotency_in_progress
	// while the same request is still running.
	phonebook.ECodeConflict:              {2235, http.StatusConflict, messageConflict},
	phonebook.ECodeIdempotencyInProgress: {2238, http.StatusConflict, messageConflict},
	phonebook.ECodeTypeInUse:             {2236, http.StatusConflict, ""},
	phonebook.ECodeIdempotencyReused:     {2237, http.StatusUnprocessableEntity, ""},
	phonebook.ECodeUnauthorized:          {3001, http.StatusUnauthorized, ""},
	phonebook.ECodeForbidden:             {3002, http.StatusForbidden, ""},
	phonebook.ECodeRateLimited:           {3003, http.StatusTooManyRequests, "Too many requests, retry after the time in Retry-After"},
	phonebook.ECodeUnavailable:           {9998, http.StatusServiceUnavailable, "Service temporarily unavailable, retry later"},
	phonebook.ECodeInternal:              {9999, http.StatusInternalServerError, "Internal error"},
}

// fieldCodes number validation errors by the field at fault (domain name)
// and give the field's Cross River name; other fields are 1999.
var fieldCodes = map[string]struct {
	Code int
	Name string
}{
	"is_primary": {1001, "isPrimary"},
	"type":       {1002, "phoneType"},
	"number":     {1003, "phoneNumber"},
	"extension":  {1004, "extension"},
	"notes":      {1005, "notes"},
}

// domainField returns the domain's name of a Cross River field, "" if none.
func domainField(vendor string) string {
	for d, f := range fieldCodes {
		if f.Name == vendor {
			return d
		}
	}
	return ""
}

// errorBody is Cross River's error shape.
type errorBody struct {
	Errors []errorItem `json:"Errors"`
}

type errorItem struct {
	Code    int    `json:"Code"`
	Message string `json:"Message"`
}

// encodeError returns the status and body answering err, and the code of
// its first error.
func encodeError(err error) (int, errorBody, string) {
	fes := phonebook.FieldErrors(err)
	if len(fes) == 0 {
		fes = []*phonebook.Error{{Code: phonebook.ErrorCode(err)}}
	}
	body := errorBody{Errors: make([]errorItem, 0, len(fes))}
	status := 0
	for _, e := range fes {
		vc, ok := codes[e.Code]
		if !ok {
			vc = codes[phonebook.ECodeInternal]
		}
		if status == 0 {
			status = vc.Status
		}
		item := errorItem{Code: vc.Code, Message: vc.Message}
		if item.Message == "" {
			item.Message = capitalize(e.Message)
		}
		if vc.Code == 0 { // validation: numbered and named by field
			f, ok := fieldCodes[e.Field]
			if !ok {
				f.Code, f.Name = 1999, e.Field
			}
			item.Code, item.Message = f.Code, rename(e.Message, e.Field, f.Name)
		}
		body.Errors = append(body.Errors, item)
	}
	return status, body, phonebook.ErrorCode(fes[0])
}

// writeError answers err in Cross River's shape; server-side failures are
// logged (the error, never the request).
func writeError(log *slog.Logger, w http.ResponseWriter, err error) {
	status, body, code := encodeError(err)
	if status >= 500 {
		log.Error("crossriver: request failed", "code", code, "err", err.Error())
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="phonebook"`)
	case http.StatusConflict:
		// The page tells the client to retry a 409; say when.
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, body)
}

// rename puts the Cross River field name in place of the domain's at the
// start of a message ("number must hold digits only").
func rename(msg, field, name string) string {
	if field != "" && strings.HasPrefix(msg, field+" ") {
		return name + msg[len(field):]
	}
	return msg
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
