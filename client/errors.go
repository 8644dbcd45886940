package client

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error codes the server answers (the code field of a problem document).
const (
	CodeValidation            = "validation"
	CodeInvalidNumber         = "invalid_number"
	CodeTypeUnknown           = "type_unknown"
	CodeIdempotencyKeyReused  = "idempotency_key_reused"
	CodeIdempotencyInProgress = "idempotency_in_progress"
	CodePhoneDuplicate        = "phone_duplicate"
	CodePhoneLimit            = "phone_limit"
	CodeNumberLimit           = "number_limit"
	CodeConflict              = "conflict"
	CodeTypeInUse             = "type_in_use"
	CodeNotFound              = "not_found"
	CodePreconditionFailed    = "precondition_failed"
	CodeUnauthorized          = "unauthorized"
	CodeForbidden             = "forbidden"
	CodeUnavailable           = "unavailable"
	CodeInternal              = "internal"
	CodeMalformedJSON         = "malformed_json"
	CodeUnknownField          = "unknown_field"
	CodeBodyTooLarge          = "body_too_large"
	CodeUnsupportedMedia      = "unsupported_media_type"
	CodeMethodNotAllowed      = "method_not_allowed"
	CodeRateLimited           = "rate_limited"
)

// Error is an error the server answered: an RFC 9457 problem document
// (application/problem+json) with phonebook's code and field errors. It is
// also the error of a failed record of a batch (BatchResult.Error), where
// Status is the status the record alone would have had.
//
// Answers that are no problem document (a proxy's 502 page, /readyz's
// 503) give an Error with Status and Title from the HTTP status and an
// empty Code.
type Error struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail"`
	Instance string       `json:"instance,omitempty"`
	Code     string       `json:"code"`
	Errors   []FieldError `json:"errors"`

	// Method and Path are the request's (the path without its query).
	Method string `json:"-"`
	Path   string `json:"-"`
	// RequestID is the X-Request-ID of the answer, to find it in the logs.
	RequestID string `json:"-"`
	// RetryAfter is the Retry-After of a 503 (0 when absent).
	RetryAfter time.Duration `json:"-"`
}

// FieldError is one field at fault.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error reads like "phonebook: POST /v1/customers/100000/phones: 409
// phone_duplicate: the customer already has this phone number (number)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("phonebook: ")
	if e.Method != "" {
		b.WriteString(e.Method + " " + e.Path + ": ")
	}
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	switch {
	case e.Detail != "":
		b.WriteString(": " + e.Detail)
	case e.Title != "":
		b.WriteString(": " + e.Title)
	}
	if len(e.Errors) > 0 {
		b.WriteString(" (")
		for i, f := range e.Errors {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Field)
		}
		b.WriteString(")")
	}
	return b.String()
}

// Field returns the error of field, if the server named it.
func (e *Error) Field(field string) (FieldError, bool) {
	for _, f := range e.Errors {
		if f.Field == field {
			return f, true
		}
	}
	return FieldError{}, false
}

// AsError returns the *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// ErrorCode returns the problem code of err ("phone_duplicate", ...), or
// "" when err is nil or not an error the server answered.
func ErrorCode(err error) string {
	if e := AsError(err); e != nil {
		return e.Code
	}
	return ""
}

// StatusCode returns the HTTP status of err (304 for ErrNotModified), or
// 0 when err is nil or not an answer of the server.
func StatusCode(err error) int {
	if errors.Is(err, ErrNotModified) {
		return http.StatusNotModified
	}
	if e := AsError(err); e != nil {
		return e.Status
	}
	return 0
}

// IsNotFound reports whether err is a 404: no such resource in the
// caller's tenant.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// IsConflict reports whether err is a 409 (phone_duplicate, phone_limit,
// number_limit, conflict, type_in_use).
func IsConflict(err error) bool { return StatusCode(err) == http.StatusConflict }

// IsPreconditionFailed reports whether err is a 412: IfMatch named a stale
// version.
func IsPreconditionFailed(err error) bool {
	return StatusCode(err) == http.StatusPreconditionFailed
}

// IsRateLimited reports whether err is a 429: the key sent more requests
// than the server allows (retry after the error's RetryAfter).
func IsRateLimited(err error) bool { return StatusCode(err) == http.StatusTooManyRequests }
