package ticketevolution

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/phonebook/phonebook"
)

// Codes of errors found by the dialect itself, before the domain.
const (
	codeMalformedJSON = "malformed_json"
	codeBodyTooLarge  = "body_too_large"
)

// errorJSON is v9's error shape: {"error": "..."}, plus, for validation,
// "errors": {"<field>": ["<message>"]}.
type errorJSON struct {
	Error  string              `json:"error"`
	Errors map[string][]string `json:"errors,omitempty"`
}

// wireError is how one error code is answered.
type wireError struct {
	status int
	// message replaces the domain's message when set.
	message string
	// fields lists the fields at fault under "errors".
	fields bool
}

// errorTable is the one table from error codes to v9 answers.
var errorTable = map[string]wireError{
	phonebook.ECodeValidation:     {status: http.StatusUnprocessableEntity, fields: true},
	phonebook.ECodeInvalidNumber:  {status: http.StatusUnprocessableEntity, fields: true},
	phonebook.ECodeTypeUnknown:    {status: http.StatusUnprocessableEntity, fields: true},
	phonebook.ECodePhoneDuplicate: {status: http.StatusUnprocessableEntity, fields: true, message: "Phone number already exists"},
	phonebook.ECodePhoneLimit:     {status: http.StatusUnprocessableEntity, fields: true},
	phonebook.ECodeNumberLimit:    {status: http.StatusUnprocessableEntity, fields: true},
	phonebook.ECodeConflict:       {status: http.StatusConflict},
	phonebook.ECodePrecondition:   {status: http.StatusPreconditionFailed},
	phonebook.ECodeNotFound:       {status: http.StatusNotFound},
	phonebook.ECodeUnauthorized:   {status: http.StatusUnauthorized},
	phonebook.ECodeForbidden:      {status: http.StatusForbidden},
	phonebook.ECodeRateLimited:    {status: http.StatusTooManyRequests, message: "Too many requests, retry after the time in Retry-After"},
	phonebook.ECodeUnavailable:    {status: http.StatusServiceUnavailable, message: "Service unavailable, try again later"},
	phonebook.ECodeInternal:       {status: http.StatusInternalServerError, message: "Internal server error"},
	codeMalformedJSON:             {status: http.StatusBadRequest},
	codeBodyTooLarge:              {status: http.StatusRequestEntityTooLarge, message: "Request body too large"},
}

// fieldNames turns the domain's field names into v9's: the phone type is
// chosen from the label, so an unknown type is the label's fault.
var fieldNames = map[string]string{"type": "label"}

func errorf(code, field, format string, args ...any) *phonebook.Error {
	return phonebook.Errorf(code, field, format, args...)
}

// notFound is the answer for an unknown client or phone number, including
// ids that cannot be one (not an integer, a client id under 100000).
func notFound(what string) *phonebook.Error {
	return errorf(phonebook.ECodeNotFound, "", "%s not found", what)
}

// writeError answers err in v9's shape. Errors of a create's records carry
// their position: "phone_numbers[2].number".
func writeError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	code := phonebook.ErrorCode(err)
	we, ok := errorTable[code]
	if !ok {
		we = errorTable[phonebook.ECodeInternal]
	}
	if we.status >= 500 {
		// The cause, never the request's body or numbers.
		log.ErrorContext(r.Context(), "ticketevolution: request failed", "code", code, "err", err)
	}
	prefix := ""
	var be *phonebook.BatchError
	if errors.As(err, &be) {
		prefix = "phone_numbers[" + strconv.Itoa(be.Index) + "]."
	}
	out := errorJSON{Error: we.message}
	if we.status < 500 && we.fields {
		for _, fe := range phonebook.FieldErrors(err) {
			name := fe.Field
			if n, ok := fieldNames[name]; ok {
				name = n
			}
			if name == "" {
				name = "base"
			}
			msg := fe.Message
			if m := errorTable[fe.Code].message; m != "" {
				msg = m
			}
			if out.Errors == nil {
				out.Errors = map[string][]string{}
			}
			out.Errors[prefix+name] = append(out.Errors[prefix+name], msg)
			if out.Error == "" {
				out.Error = msg
			} else if we.message == "" && !strings.Contains(out.Error, msg) {
				out.Error += "; " + msg
			}
		}
	}
	if out.Error == "" && code == phonebook.ECodeNotFound {
		// The store names what it did not find: "customer not found",
		// "phone not found"; v9 calls them clients and phone numbers.
		out.Error = "Client not found"
		if strings.HasPrefix(strings.ToLower(phonebook.ErrorMessage(err)), "phone") {
			out.Error = "Phone number not found"
		}
	}
	if out.Error == "" {
		out.Error = phonebook.ErrorMessage(err)
	}
	writeJSON(w, we.status, out)
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only unencodable Go values get here: a programming error.
		http.Error(w, `{"error":"Internal server error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
