package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/phonebook/phonebook"
)

// Codes of errors found by the HTTP layer itself, before the domain.
const (
	codeMalformedJSON    = "malformed_json"
	codeUnknownField     = "unknown_field"
	codeBodyTooLarge     = "body_too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeMethodNotAllowed = "method_not_allowed"
	codeRateLimited      = phonebook.ECodeRateLimited
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[string]int{
	phonebook.ECodeValidation:            http.StatusUnprocessableEntity,
	phonebook.ECodeInvalidNumber:         http.StatusUnprocessableEntity,
	phonebook.ECodeTypeUnknown:           http.StatusUnprocessableEntity,
	phonebook.ECodeIdempotencyReused:     http.StatusUnprocessableEntity,
	phonebook.ECodeURLForbidden:          http.StatusUnprocessableEntity,
	phonebook.ECodeWebhookLimit:          http.StatusUnprocessableEntity,
	phonebook.ECodePhoneDuplicate:        http.StatusConflict,
	phonebook.ECodePhoneLimit:            http.StatusConflict,
	phonebook.ECodeNumberLimit:           http.StatusConflict,
	phonebook.ECodeConflict:              http.StatusConflict,
	phonebook.ECodeIdempotencyInProgress: http.StatusConflict,
	phonebook.ECodeTypeInUse:             http.StatusConflict,
	phonebook.ECodeNotFound:              http.StatusNotFound,
	phonebook.ECodePrecondition:          http.StatusPreconditionFailed,
	phonebook.ECodeUnauthorized:          http.StatusUnauthorized,
	phonebook.ECodeForbidden:             http.StatusForbidden,
	phonebook.ECodeUnavailable:           http.StatusServiceUnavailable,
	phonebook.ECodeInternal:              http.StatusInternalServerError,
	codeMalformedJSON:                    http.StatusBadRequest,
	codeUnknownField:                     http.StatusBadRequest,
	codeBodyTooLarge:                     http.StatusRequestEntityTooLarge,
	codeUnsupportedMedia:                 http.StatusUnsupportedMediaType,
	codeMethodNotAllowed:                 http.StatusMethodNotAllowed,
	codeRateLimited:                      http.StatusTooManyRequests,
	phonebook.ECodeSecretKeyRequired:     http.StatusUnprocessableEntity,
}

// titles are the short, fixed summaries of each code (RFC 9457 "title").
var titles = map[string]string{
	phonebook.ECodeValidation:            "Invalid request",
	phonebook.ECodeInvalidNumber:         "Invalid phone number",
	phonebook.ECodeTypeUnknown:           "Unknown phone type",
	phonebook.ECodeIdempotencyReused:     "Idempotency key reused",
	phonebook.ECodeURLForbidden:          "Webhook destination forbidden",
	phonebook.ECodeWebhookLimit:          "Too many webhooks",
	phonebook.ECodePhoneDuplicate:        "Phone number already exists",
	phonebook.ECodePhoneLimit:            "Too many phones",
	phonebook.ECodeNumberLimit:           "Number held by too many customers",
	phonebook.ECodeConflict:              "Conflict",
	phonebook.ECodeIdempotencyInProgress: "Idempotent request in progress",
	phonebook.ECodeTypeInUse:             "Phone type in use",
	phonebook.ECodeNotFound:              "Not found",
	phonebook.ECodePrecondition:          "Precondition failed",
	phonebook.ECodeUnauthorized:          "Unauthorized",
	phonebook.ECodeForbidden:             "Forbidden",
	phonebook.ECodeUnavailable:           "Service unavailable",
	phonebook.ECodeInternal:              "Internal error",
	codeMalformedJSON:                    "Malformed JSON",
	codeUnknownField:                     "Unknown field",
	codeBodyTooLarge:                     "Request body too large",
	codeUnsupportedMedia:                 "Unsupported media type",
	codeMethodNotAllowed:                 "Method not allowed",
	codeRateLimited:                      "Too many requests",
	phonebook.ECodeSecretKeyRequired:     "Server key required",
}

// Problem is an RFC 9457 problem document with phonebook's extensions.
type Problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail"`
	Instance string         `json:"instance,omitempty"`
	Code     string         `json:"code"`
	Errors   []ProblemField `json:"errors"`
}

// ProblemField is one field at fault.
type ProblemField struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// problemTypeBase prefixes each code to make the problem "type" URI.
const problemTypeBase = "https://phonebook.dev/problems/"

// problemFor builds the problem document of err.
func problemFor(err error) Problem {
	code := phonebook.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = phonebook.ECodeInternal, http.StatusInternalServerError
	}
	p := Problem{
		Type: problemTypeBase + code, Title: titles[code], Status: status, Code: code,
		Detail: phonebook.ErrorMessage(err), Errors: []ProblemField{},
	}
	if status >= 500 {
		p.Detail = titles[code]
		return p
	}
	for _, fe := range phonebook.FieldErrors(err) {
		if fe.Field == "" {
			continue
		}
		p.Errors = append(p.Errors, ProblemField{Field: fe.Field, Code: fe.Code, Message: fe.Message})
	}
	return p
}

// writeError answers err as application/problem+json. Internal details go
// to the log, never to the client.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	if p.Status >= 500 {
		log := loggerFrom(r.Context())
		log.ErrorContext(r.Context(), "request failed", "err", err.Error())
	}
	var e *phonebook.Error
	if errors.As(err, &e) && e.Code == phonebook.ECodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="phonebook"`)
	}
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	p.Instance = r.URL.Path
	setErrorCode(w, p.Code)
	writeJSONStatus(w, p.Status, "application/problem+json", p)
}

// httpError is an error found by the HTTP layer.
func httpError(code, field, msg string) error {
	return &phonebook.Error{Code: code, Field: field, Message: msg}
}

// loggerFrom returns the request's logger (set by the logging middleware).
func loggerFrom(ctx interface{ Value(any) any }) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

type loggerKey struct{}
