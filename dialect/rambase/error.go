package rambase

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/phonebook/phonebook"
)

// Error keys: what went wrong, one per numbered RamBase error. Domain
// errors are classified into them by classify; the dialect's own request
// checks name them directly.
const (
	keyContactNotFound  = "contact_not_found"
	keyPhoneNotFound    = "phone_not_found"
	keyContactID        = "contact_id"
	keyPhoneID          = "phone_id"
	keyMalformedBody    = "malformed_body"
	keyDoctype          = "doctype"
	keyUnknownField     = "unknown_field"
	keyMediaType        = "media_type"
	keyBodyTooLarge     = "body_too_large"
	keyNumberPattern    = "number_pattern"
	keyInvalidNumber    = "invalid_number"
	keyNumberRequired   = "number_required"
	keyTypeUnknown      = "type_unknown"
	keyIsDefault        = "is_default"
	keyPhoneDuplicate   = "phone_duplicate"
	keyPhoneLimit       = "phone_limit"
	keyNumberLimit      = "number_limit"
	keyFormat           = "format"
	keyMinimumVersion   = "minimum_version"
	keyInvalidValue     = "invalid_value"
	keyUnauthorized     = "unauthorized"
	keyForbidden        = "forbidden"
	keyRateLimited      = "rate_limited"
	keyDatabase         = "database"
	keyUnavailable      = "unavailable"
	keyInternal         = "internal"
	keyFieldType        = "field_type"
	keyRequestConflicts = "request_conflicts"
)

// errDef is one numbered RamBase error: its number, the HTTP status it is
// sent with, and its fixed English message.
type errDef struct {
	Code    int
	Status  int
	Message string
}

// errorTable is the one table of this dialect's errors. The 1090xx
// numbers are this dialect's own (RamBase publishes no list for these
// cases); they are part of the wire protocol: never renumber one.
//
// Statuses are only those RamBase documents: its getting-started page on
// error messages (https://api.rambase.net/gettingstarted/errormessages)
// lists 400, 403, 404 and 500, and its .NET SDK
// (RamBase/RamBaseApiDotNetSdk, RamBaseApiSdk/Request/RamBaseRequest.cs,
// ValidateResponse) handles 401 on its own. So a body over the cap and an
// unsupported media type are 400 (not 413/415), and a store outage is 500
// with Retry-After (not 503). The one status RamBase does not list that is
// sent is 429 with Retry-After: the service-wide limit on failed
// authentications and requests per key answers 429 on every API (issue
// 13), and every HTTP client knows it as "slow down".
//
// 101015 is not used: the seed page lists it as "Permission not found",
// which is not what a missing contact is; a missing contact is 109000.
var errorTable = map[string]errDef{
	keyContactNotFound:  {109000, http.StatusNotFound, "Contact not found"},
	keyPhoneNotFound:    {109001, http.StatusNotFound, "Phone not found"},
	keyContactID:        {109002, http.StatusBadRequest, "contactId must be an integer of at least 100000"},
	keyPhoneID:          {109003, http.StatusBadRequest, "phoneId must be an integer of at least 1"},
	keyMalformedBody:    {109004, http.StatusBadRequest, "The request body is not a well-formed Phone"},
	keyDoctype:          {109005, http.StatusBadRequest, "DOCTYPE and entity declarations are not allowed in the request body"},
	keyUnknownField:     {109006, http.StatusBadRequest, "Unknown field in the request body"},
	keyMediaType:        {109007, http.StatusBadRequest, "The request body must be application/xml, text/xml or application/json"},
	keyBodyTooLarge:     {109008, http.StatusBadRequest, "The request body is larger than 1 MiB"},
	keyNumberPattern:    {109010, http.StatusBadRequest, `PhoneNumber must match the pattern ^([0-9\(\)\s\.\+\-])*$`},
	keyInvalidNumber:    {109011, http.StatusBadRequest, "PhoneNumber is not a valid phone number"},
	keyNumberRequired:   {109012, http.StatusBadRequest, "PhoneNumber is required"},
	keyTypeUnknown:      {109013, http.StatusBadRequest, "Type is not a known phone type"},
	keyIsDefault:        {109014, http.StatusBadRequest, "IsDefault must be true or false"},
	keyPhoneDuplicate:   {109015, http.StatusBadRequest, "The contact already has this phone number"},
	keyPhoneLimit:       {109016, http.StatusBadRequest, "The contact has the most phones allowed"},
	keyNumberLimit:      {109017, http.StatusBadRequest, "The phone number is held by the most contacts allowed"},
	keyFormat:           {109018, http.StatusBadRequest, "$format must be xml, json or html"},
	keyMinimumVersion:   {109019, http.StatusBadRequest, "$useMinimumVersion must be an integer"},
	keyInvalidValue:     {109020, http.StatusBadRequest, "Invalid value"},
	keyFieldType:        {109021, http.StatusBadRequest, "A field of the request body has the wrong type"},
	keyRequestConflicts: {109022, http.StatusBadRequest, "The request conflicts with the current state of the resource"},
	keyUnauthorized:     {109030, http.StatusUnauthorized, "Access token is missing or invalid"},
	keyForbidden:        {109031, http.StatusForbidden, "The access token lacks the permission for this API resource"},
	keyDatabase:         {109032, http.StatusForbidden, "Database/company not accessible"},
	keyRateLimited:      {109033, http.StatusTooManyRequests, "Too many requests, retry after the time in Retry-After"},
	keyUnavailable:      {109098, http.StatusInternalServerError, "Service unavailable, try again later"},
	keyInternal:         {109099, http.StatusInternalServerError, "Internal error"},
}

// fieldNames translates the domain's field names to RamBase's.
var fieldNames = map[string]string{
	"number":       "PhoneNumber",
	"extension":    "PhoneNumber",
	"country_code": "PhoneNumber",
	"type":         "Type",
	"is_primary":   "IsDefault",
}

// rbError is an error found by the dialect itself, before the domain.
type rbError struct {
	key   string
	field string // RamBase field or parameter name
	msg   string // overrides the table's message when set
}

func (e *rbError) Error() string { return "rambase: " + e.key }

func fail(key, field string) error { return &rbError{key: key, field: field} }

func failf(key, field, msg string) error { return &rbError{key: key, field: field, msg: msg} }

// errorOut is RamBase's error object, as its getting-started page on
// error messages describes it and its .NET SDK deserializes it
// (RamBase/RamBaseApiDotNetSdk, RamBaseApiSdk/Request/Error.cs and
// ErrorMessage.cs): the object itself is the body (<Error> in XML, a bare
// JSON object whose first key is HttpStatusCode, which the SDK's batch
// reader looks for), with HttpStatusCode, HttpStatusDescription, Message,
// TranslatedMessage and ErrorMessage.ErrorMessageId. Code (the same number
// as an integer) and Field are phonebook's additions. Inner errors follow
// the same format without the two status fields.
type errorOut struct {
	XMLName               xml.Name     `xml:"Error" json:"-"`
	HttpStatusCode        int          `xml:"HttpStatusCode,omitempty" json:",omitempty"`
	HttpStatusDescription string       `xml:"HttpStatusDescription,omitempty" json:",omitempty"`
	Message               string       `xml:"Message"`
	TranslatedMessage     string       `xml:"TranslatedMessage"`
	ErrorMessage          errorMessage `xml:"ErrorMessage"`
	Code                  int          `xml:"Code"`
	Field                 string       `xml:"Field,omitempty" json:",omitempty"`
	InnerErrors           []errorOut   `xml:"-" json:",omitempty"`
	// InnerXML is InnerErrors for encoding/xml, which would write an
	// empty <InnerErrors/> for an empty list.
	InnerXML *innerErrors `xml:"InnerErrors,omitempty" json:"-"`
}

// errorMessage is RamBase's reference to the error-message object. There
// is no ErrorMessageLink: phonebook serves no error-message resource, and
// a link to RamBase's would name another system's errors.
type errorMessage struct {
	ErrorMessageId string `xml:"ErrorMessageId"`
}

type innerErrors struct {
	Errors []errorOut `xml:"Error"`
}

// newErrorOut builds the error object of def; status is 0 for an inner
// error (which carries no status fields).
func newErrorOut(def errDef, msg, field string, status int) errorOut {
	out := errorOut{
		HttpStatusCode:    status,
		Message:           msg,
		TranslatedMessage: msg, // $lang is not read: messages are English
		ErrorMessage:      errorMessage{ErrorMessageId: itoa(def.Code)},
		Code:              def.Code,
		Field:             field,
	}
	if status != 0 {
		out.HttpStatusDescription = http.StatusText(status)
	}
	return out
}

// describe returns the RamBase error of err.
func describe(err error) errorOut {
	var re *rbError
	if errors.As(err, &re) {
		def := errorTable[re.key]
		msg := def.Message
		if re.msg != "" {
			msg = re.msg
		}
		return newErrorOut(def, msg, re.field, def.Status)
	}
	fes := phonebook.FieldErrors(err)
	if len(fes) == 0 { // not a domain error at all
		def := errorTable[keyInternal]
		return newErrorOut(def, def.Message, "", def.Status)
	}
	key := classify(fes[0])
	def := errorTable[key]
	if def.Status >= 500 {
		return newErrorOut(def, def.Message, "", def.Status) // no detail
	}
	out := newErrorOut(def, def.Message, fieldNames[fes[0].Field], def.Status)
	if len(fes) > 1 {
		for _, fe := range fes {
			d := errorTable[classify(fe)]
			out.InnerErrors = append(out.InnerErrors, newErrorOut(d, d.Message, fieldNames[fe.Field], 0))
		}
		out.InnerXML = &innerErrors{out.InnerErrors}
	}
	return out
}

// classify maps a domain error (code + field) to its RamBase error key.
func classify(e *phonebook.Error) string {
	switch e.Code {
	case phonebook.ECodeNotFound:
		// The domain's not_found names no field; its message says which
		// row was missing ("phone not found" / "customer not found").
		if strings.HasPrefix(strings.ToLower(e.Message), "phone") {
			return keyPhoneNotFound
		}
		return keyContactNotFound
	case phonebook.ECodeValidation:
		switch e.Field {
		case "number":
			return keyNumberPattern // "required" is checked by the dialect first
		case "extension", "country_code":
			return keyInvalidNumber
		case "type":
			return keyTypeUnknown
		case "is_primary":
			return keyIsDefault
		}
		return keyInvalidValue
	case phonebook.ECodeInvalidNumber:
		return keyInvalidNumber
	case phonebook.ECodeTypeUnknown:
		return keyTypeUnknown
	case phonebook.ECodePhoneDuplicate:
		return keyPhoneDuplicate
	case phonebook.ECodePhoneLimit:
		return keyPhoneLimit
	case phonebook.ECodeNumberLimit:
		return keyNumberLimit
	case phonebook.ECodeConflict, phonebook.ECodePrecondition, phonebook.ECodeTypeInUse, phonebook.ECodeIdempotencyReused:
		return keyRequestConflicts
	case phonebook.ECodeUnauthorized:
		return keyUnauthorized
	case phonebook.ECodeForbidden:
		return keyForbidden
	case phonebook.ECodeRateLimited:
		return keyRateLimited
	case phonebook.ECodeUnavailable:
		return keyUnavailable
	}
	return keyInternal
}

// writeError answers err in RamBase's error shape, in format f.
func (d *Dialect) writeError(w http.ResponseWriter, r *http.Request, f format, err error) {
	out := describe(err)
	if out.HttpStatusCode >= 500 {
		d.log.ErrorContext(r.Context(), "rambase request failed", "route", r.Pattern, "code", out.Code, "err", err.Error())
	}
	switch {
	case out.HttpStatusCode == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="rambase"`)
	case out.Code == errorTable[keyUnavailable].Code:
		// A 500 a client may retry: the store is down, not the request wrong.
		w.Header().Set("Retry-After", "1")
	}
	switch f {
	case formatJSON:
		writeJSON(w, out.HttpStatusCode, out)
	case formatHTML:
		rows := []htmlRow{
			{"HttpStatusCode", itoa(out.HttpStatusCode)},
			{"HttpStatusDescription", out.HttpStatusDescription},
			{"Message", out.Message},
			{"ErrorMessageId", out.ErrorMessage.ErrorMessageId},
			{"Code", itoa(out.Code)},
		}
		if out.Field != "" {
			rows = append(rows, htmlRow{"Field", out.Field})
		}
		for _, in := range out.InnerErrors {
			v := itoa(in.Code) + " " + in.Message
			if in.Field != "" {
				v += " (" + in.Field + ")"
			}
			rows = append(rows, htmlRow{"InnerError", v})
		}
		writeHTML(w, out.HttpStatusCode, "Error", rows)
	default:
		writeXML(w, out.HttpStatusCode, out)
	}
}
