package phonebook

import (
	"errors"
	"fmt"
)

// Error codes are stable: API layers map them to their own wire shapes
// (HTTP status, vendor error numbers), so changing one breaks clients.
const (
	ECodeValidation        = "validation"      // a field is missing, too long or malformed
	ECodeInvalidNumber     = "invalid_number"  // libphonenumber cannot read the number (or, strict tenants, calls it invalid)
	ECodePhoneDuplicate    = "phone_duplicate" // the customer already has this number+extension
	ECodePhoneLimit        = "phone_limit"     // the customer has max_phones_per_customer phones
	ECodeNumberLimit       = "number_limit"    // the number is held by max_customers_per_number customers
	ECodeTypeUnknown       = "type_unknown"    // the phone type is not in the tenant's registry
	ECodeTypeInUse         = "type_in_use"     // a phone type that phones still use cannot be deleted
	ECodeNotFound          = "not_found"       // no such row in the caller's tenant
	ECodeConflict          = "conflict"        // a unique value (slug, external_id, type name) is taken
	ECodePrecondition      = "precondition_failed"
	ECodeUnauthorized      = "unauthorized"
	ECodeForbidden         = "forbidden"
	ECodeIdempotencyReused = "idempotency_key_reused" // an Idempotency-Key sent again with another request
	// ECodeIdempotencyInProgress: the first request with this
	// Idempotency-Key is still running; retry after Retry-After.
	ECodeIdempotencyInProgress = "idempotency_in_progress"
	ECodeUnavailable           = "unavailable"         // the store cannot be reached right now; retry later
	ECodeURLForbidden          = "url_forbidden"       // a webhook URL the destination policy refuses (internal address, http when https is required)
	ECodeWebhookLimit          = "webhook_limit"       // the tenant has the most webhooks allowed
	ECodeRateLimited           = "rate_limited"        // too many requests (per key) or failed authentications (per address); retry after Retry-After
	ECodeSecretKeyRequired     = "secret_key_required" // a secret-bearing object needs PHONEBOOK_SECRET_KEY, which is not set
	ECodeInternal              = "internal"
)

// Error is the one error type of the domain. Message is safe to show to a
// client; Field names the input at fault (JSON name of the native API).
type Error struct {
	Code    string
	Message string
	Field   string
	// Err is the underlying cause, for logs only; it never reaches a client.
	Err error
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes the cause to errors.Is / errors.As.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message.
func Errorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, ECodeInternal for errors that are not
// domain errors, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ECodeInternal
}

// ErrorField returns the field at fault, if err is a domain error naming one.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorMessage returns the client-safe message of err; internal errors
// become "internal error" so no detail leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != ECodeInternal {
		return e.Message
	}
	return "internal error"
}

// ValidationErrors holds several field errors found in one request, so a
// client can fix them all at once. Its code is that of its first error.
type ValidationErrors []*Error

func (v ValidationErrors) Error() string {
	if len(v) == 0 {
		return "validation: no errors"
	}
	s := v[0].Error()
	if len(v) > 1 {
		s += fmt.Sprintf(" (and %d more)", len(v)-1)
	}
	return s
}

// Unwrap lets errors.As find the first error's code.
func (v ValidationErrors) Unwrap() []error {
	out := make([]error, len(v))
	for i, e := range v {
		out[i] = e
	}
	return out
}

// FieldErrors lists every field error carried by err: all of a
// ValidationErrors, or the one *Error.
func FieldErrors(err error) []*Error {
	var b *BatchError
	if errors.As(err, &b) {
		err = b.Err
	}
	var v ValidationErrors
	if errors.As(err, &v) {
		return v
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return nil
}

// orNil turns an empty list into a nil error.
func (v ValidationErrors) orNil() error {
	if len(v) == 0 {
		return nil
	}
	return v
}
