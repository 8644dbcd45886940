package relay

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/phonebook/phonebook"
)

// codeBodyTooLarge is the one error the dialect finds itself that has no
// domain code: a body over the 1 MiB cap.
const codeBodyTooLarge = "body_too_large"

// errorCase is how one error code is answered: its status and message.
type errorCase struct {
	status  int
	message func(c *call, err error) string
}

// errorTable is the one table from error codes to Relay answers. Every
// answer is {"message": "..."}; codes not listed are internal errors.
var errorTable = map[string]errorCase{
	phonebook.ECodeValidation:     {http.StatusBadRequest, fieldMessages},
	phonebook.ECodeInvalidNumber:  {http.StatusBadRequest, fieldMessages},
	phonebook.ECodeTypeUnknown:    {http.StatusBadRequest, fixed("phone_type is not available for this client")},
	phonebook.ECodeNotFound:       {http.StatusNotFound, notFoundMessage},
	phonebook.ECodePhoneDuplicate: {http.StatusConflict, duplicateMessage},
	phonebook.ECodePhoneLimit:     {http.StatusConflict, phoneLimitMessage},
	phonebook.ECodeNumberLimit:    {http.StatusConflict, numberLimitMessage},
	phonebook.ECodeConflict:       {http.StatusConflict, domainMessage},
	phonebook.ECodeTypeInUse:      {http.StatusConflict, domainMessage},
	phonebook.ECodePrecondition:   {http.StatusConflict, domainMessage},
	// Relay documents no 403: a key without customers:write is a 401.
	phonebook.ECodeUnauthorized: {http.StatusUnauthorized, fixed("Unauthorized: missing or invalid " + HeaderAPIKey)},
	phonebook.ECodeForbidden:    {http.StatusUnauthorized, fixed("API key lacks permission")},
	codeBodyTooLarge:            {http.StatusRequestEntityTooLarge, domainMessage},
	phonebook.ECodeRateLimited:  {http.StatusTooManyRequests, fixed("too many requests, retry after the time in Retry-After")},
	phonebook.ECodeUnavailable:  {http.StatusServiceUnavailable, fixed("service unavailable, please retry your request")},
	phonebook.ECodeInternal:     {http.StatusInternalServerError, fixed("internal error")},
}

// fieldNames turns the domain's field names into Relay's.
var fieldNames = map[string]string{
	"number":         "phone_number",
	"extension":      "phone_number",
	"country_code":   "country_code",
	"line_kind":      "phone_type",
	"type":           "phone_type",
	"consent.type":   "consent_type",
	"consent.source": "client_source",
	"external_id":    "ccid",
	"client_id":      "client_id",
	"channel_addr":   "channel_addr",
}

// fieldMessage replaces the domain's wording where it names values or
// fields Relay does not have.
var fieldMessage = map[string]string{
	"line_kind":      "phone_type must be mobile, landline or unknown",
	"consent.type":   "consent_type must be written, express or stop",
	"consent.source": fmt.Sprintf("client_source must be printable and at most %d characters", phonebook.MaxConsentSourceLen),
}

// writeError answers err in Relay's shape. Internal details go to the log
// (never the number, the key or the body), not to the client.
func (d *Dialect) writeError(w http.ResponseWriter, r *http.Request, c *call, err error) {
	code := phonebook.ErrorCode(err)
	ec, ok := errorTable[code]
	if !ok {
		code, ec = phonebook.ECodeInternal, errorTable[phonebook.ECodeInternal]
	}
	if ec.status >= 500 {
		d.log.ErrorContext(r.Context(), "relay: request failed", "code", code, "err", err.Error())
	}
	if ec.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeMessage(w, ec.status, ec.message(c, err))
}

func fixed(msg string) func(*call, error) string {
	return func(*call, error) string { return msg }
}

// domainMessage is the domain's own client-safe message.
func domainMessage(_ *call, err error) string { return phonebook.ErrorMessage(err) }

// fieldMessages lists every field error, in Relay's field names.
func fieldMessages(_ *call, err error) string {
	var msgs []string
	for _, fe := range phonebook.FieldErrors(err) {
		msgs = append(msgs, vendorMessage(fe))
	}
	if len(msgs) == 0 {
		return phonebook.ErrorMessage(err)
	}
	return strings.Join(msgs, "; ")
}

// vendorMessage words one field error with Relay's field name.
func vendorMessage(fe *phonebook.Error) string {
	if m, ok := fieldMessage[fe.Field]; ok {
		return m
	}
	name, ok := fieldNames[fe.Field]
	switch {
	case fe.Field == "" || !ok:
		return fe.Message
	case strings.HasPrefix(fe.Message, fe.Field+" "):
		return name + fe.Message[len(fe.Field):]
	case strings.HasPrefix(fe.Message, name+" "):
		return fe.Message
	default:
		return name + ": " + fe.Message
	}
}

func notFoundMessage(c *call, err error) string {
	switch phonebook.ErrorField(err) {
	case "client_id":
		return "Client not found"
	case "number":
		return fmt.Sprintf("Phone number %s not found for customer with ccid %s", c.number, c.ccid)
	default:
		return fmt.Sprintf("Customer with ccid %s not found", c.ccid)
	}
}

func duplicateMessage(c *call, _ error) string {
	return fmt.Sprintf("Phone number %s already exists for customer with ccid %s", c.number, c.ccid)
}

func phoneLimitMessage(c *call, _ error) string {
	return fmt.Sprintf("Customer with ccid %s already has %d phone numbers", c.ccid, c.maxPhones())
}

func numberLimitMessage(c *call, _ error) string {
	return fmt.Sprintf("Phone number %s is already associated with %d customers", c.number, c.maxCustomers())
}

func (c *call) maxPhones() int {
	if c.tenant == nil {
		return phonebook.DefaultMaxPhonesPerCustomer
	}
	return c.tenant.MaxPhonesPerCustomer
}

func (c *call) maxCustomers() int {
	if c.tenant == nil {
		return phonebook.DefaultMaxCustomersPerNumber
	}
	return c.tenant.MaxCustomersPerNumber
}

// consentFieldNames are the fields of phonebook.Service.RecordConsent's
// errors, renamed to those of the table above for the consent route.
var consentFieldNames = map[string]string{
	"type":   "consent.type",
	"source": "consent.source",
	"number": "channel_addr",
}

// consentFields renames the fields of the consent route's field errors
// (validation, invalid_number) so they are answered in Relay's names:
// RecordConsent's "type" is consent_type there, not phone_type, and its
// "number" is channel_addr. Other errors pass unchanged.
func consentFields(err error) error {
	switch phonebook.ErrorCode(err) {
	case phonebook.ECodeValidation, phonebook.ECodeInvalidNumber:
	default:
		return err
	}
	var out phonebook.ValidationErrors
	for _, fe := range phonebook.FieldErrors(err) {
		e := *fe
		if name, ok := consentFieldNames[fe.Field]; ok {
			e.Field = name
			if strings.HasPrefix(e.Message, fe.Field+" ") {
				e.Message = name + e.Message[len(fe.Field):]
			}
		}
		out = append(out, &e)
	}
	if len(out) == 0 {
		return err
	}
	return out
}
