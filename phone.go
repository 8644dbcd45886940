package phonebook

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Phone statuses share the customer's values (active, inactive).

// Consent types (Relay's values, plus none).
const (
	ConsentNone    = "none"
	ConsentWritten = "written"
	ConsentExpress = "express"
	ConsentStop    = "stop"
)

// Line kinds a client may declare (Relay phone_type); libphonenumber's own
// line types (fixed_line_or_mobile, toll_free, ...) are richer.
const (
	LineMobile   = "mobile"
	LineLandline = "landline"
	LineUnknown  = "unknown"
)

// Limits of phone fields.
const (
	MaxExtensionLen     = 20
	MaxLabelLen         = 20
	MaxNotesLen         = 255
	MaxConsentSourceLen = 100
	MaxPhoneTypeLen     = 50
	MaxRawLen           = 64
)

// Consent is whether the customer agreed to be contacted at a phone.
type Consent struct {
	Type      string     `json:"type"`
	Source    string     `json:"source,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// PhoneKey is the part of a stored phone the rules of an add look at.
type PhoneKey struct {
	ID        int64
	E164      string
	Extension string
	IsPrimary bool
}

// Phone is one number of one customer, as given and as libphonenumber
// reads it.
type Phone struct {
	ID             int64     `json:"id"`
	UUID           string    `json:"uuid"`
	TenantID       int64     `json:"-"`
	CustomerID     int64     `json:"customer_id"`
	Raw            string    `json:"raw"`
	E164           string    `json:"e164"`
	CountryCode    int       `json:"country_code"`
	NationalNumber string    `json:"national_number"`
	National       string    `json:"national"`
	International  string    `json:"international"`
	Region         string    `json:"region"`
	LineType       string    `json:"line_type"`
	Valid          bool      `json:"valid"`
	Extension      string    `json:"extension"`
	Type           string    `json:"type"`
	Label          string    `json:"label"`
	IsPrimary      bool      `json:"is_primary"`
	Notes          string    `json:"notes"`
	Status         string    `json:"status"`
	Consent        Consent   `json:"consent"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	Version        int64     `json:"version"`
}

// PhoneInput is what a client gives to add a phone. Number is parsed with
// Country (a region such as "US" or a calling code such as "+1"), or with
// the tenant's default region when Country is empty.
type PhoneInput struct {
	Number    string
	Country   string
	Extension string
	Type      string // phone type from the tenant's registry; default "other"
	Label     string
	IsPrimary bool
	Notes     string
	Status    string // default active
	// LineKind is the line a client declares (mobile, landline, unknown); it
	// fills line_type where libphonenumber cannot tell.
	LineKind      string
	ConsentType   string
	ConsentSource string
	// Rules are the calling dialect's limits on how Number is written.
	Rules *NumberRules
}

// NumberRules are a vendor's own limits on how a number may be written
// (Cross River: digits only, 10-20; Relay: 10-11 digits; RamBase: a
// character pattern). A dialect hands them to the service with its input,
// so they are checked in one place with the domain's own rules.
type NumberRules struct {
	DigitsOnly bool           // nothing but 0-9
	MinDigits  int            // fewest digits; 0 means no limit
	MaxDigits  int            // most digits; 0 means no limit
	Pattern    *regexp.Regexp // the whole number must match
}

// check reports a validation error on field when number breaks r.
func (r *NumberRules) check(number, field string) error {
	if r == nil {
		return nil
	}
	digits := 0
	for _, c := range number {
		if c >= '0' && c <= '9' {
			digits++
		} else if r.DigitsOnly {
			return Errorf(ECodeValidation, field, "%s must hold digits only", field)
		}
	}
	if r.Pattern != nil && !r.Pattern.MatchString(number) {
		return Errorf(ECodeValidation, field, "%s holds characters that are not allowed", field)
	}
	switch {
	case r.MinDigits > 0 && r.MaxDigits > 0 && (digits < r.MinDigits || digits > r.MaxDigits):
		return Errorf(ECodeValidation, field, "%s must have %d to %d digits", field, r.MinDigits, r.MaxDigits)
	case r.MinDigits > 0 && digits < r.MinDigits:
		return Errorf(ECodeValidation, field, "%s must have at least %d digits", field, r.MinDigits)
	case r.MaxDigits > 0 && digits > r.MaxDigits:
		return Errorf(ECodeValidation, field, "%s must have at most %d digits", field, r.MaxDigits)
	}
	return nil
}

// PhoneUpdate changes the fields that are not nil. Number and Country are
// read together: a new Country alone re-reads the stored raw number.
type PhoneUpdate struct {
	Number        *string
	Country       *string
	Extension     *string
	Type          *string
	Label         *string
	IsPrimary     *bool
	Notes         *string
	Status        *string
	LineKind      *string
	ConsentType   *string
	ConsentSource *string
	// Rules are the calling dialect's limits on how Number is written.
	Rules *NumberRules
}

// PhoneType is an entry of a tenant's phone type registry.
type PhoneType struct {
	Name      string    `json:"name"`
	BuiltIn   bool      `json:"built_in"`
	CreatedAt time.Time `json:"created_at"`
}

// NormalizeTypeName is how type names are compared: trimmed, lower case.
func NormalizeTypeName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func validatePhoneType(name string) error {
	if name == "" {
		return Errorf(ECodeValidation, "name", "name is required")
	}
	if utf8.RuneCountInString(name) > MaxPhoneTypeLen || !printable(name) {
		return Errorf(ECodeValidation, "name", "name must be printable and at most %d characters", MaxPhoneTypeLen)
	}
	return nil
}

// PhoneMatch is a phone found by number, with its customer.
type PhoneMatch struct {
	Phone    *Phone    `json:"phone"`
	Customer *Customer `json:"customer"`
}
