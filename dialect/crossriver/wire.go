package crossriver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect"
	"github.com/phonebook/phonebook/phone"
)

// phoneRequest is the body of POST .../phones. Pointers tell a missing (or
// null) field from a zero one.
type phoneRequest struct {
	IsPrimary   *bool   `json:"isPrimary"`
	PhoneType   *string `json:"phoneType"`
	PhoneNumber *string `json:"phoneNumber"`
	Extension   *string `json:"extension"`
	Notes       *string `json:"notes"`
}

// phoneTypes are the values Cross River documents for phoneType.
var phoneTypes = []string{"home", "mobile", "work", "fax"}

// input checks the request's shape (required fields, the phoneType enum)
// and returns the phone to add. Every other limit is the service's: the
// number rules travel with the input, extension and notes lengths are the
// domain's own.
func (b *phoneRequest) input() (phonebook.PhoneInput, error) {
	var errs phonebook.ValidationErrors
	if b.IsPrimary == nil {
		errs = append(errs, phonebook.Errorf(phonebook.ECodeValidation, "is_primary", "isPrimary is required"))
	}
	typ := ""
	if b.PhoneType != nil {
		typ = phonebook.NormalizeTypeName(*b.PhoneType)
	}
	switch {
	case typ == "":
		errs = append(errs, phonebook.Errorf(phonebook.ECodeValidation, "type", "phoneType is required"))
	case !isPhoneType(typ):
		errs = append(errs, phonebook.Errorf(phonebook.ECodeValidation, "type", "phoneType must be one of %s", strings.Join(phoneTypes, ", ")))
	}
	number := ""
	if b.PhoneNumber != nil {
		number = strings.TrimSpace(*b.PhoneNumber)
	}
	if number == "" {
		errs = append(errs, phonebook.Errorf(phonebook.ECodeValidation, "number", "phoneNumber is required"))
	}
	if len(errs) > 0 {
		return phonebook.PhoneInput{}, errs
	}
	in := phonebook.PhoneInput{Number: number, Type: typ, IsPrimary: *b.IsPrimary, Rules: numberRules}
	if b.Extension != nil {
		in.Extension = *b.Extension
	}
	if b.Notes != nil {
		in.Notes = *b.Notes
	}
	return in, nil
}

func isPhoneType(s string) bool {
	for _, t := range phoneTypes {
		if s == t {
			return true
		}
	}
	return false
}

// decodeBytes reads one JSON object into v; a wrongly typed field is a
// validation error on that field, anything else unreadable is malformed.
func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return malformed("the request body is empty")
	}
	if field, bad := dialect.InvalidUTF8JSON(body); bad {
		// encoding/json would store U+FFFD for each bad byte: refuse instead.
		return phonebook.Errorf(phonebook.ECodeValidation, domainFieldOr(field), "%s is not valid UTF-8", field)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			if field := domainField(typ.Field); field != "" {
				return phonebook.Errorf(phonebook.ECodeValidation, field, "%s must be %s", typ.Field, describe(typ))
			}
			return malformed("the request body must be a JSON object")
		}
		return malformed("the request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("the request body holds data after the JSON object")
	}
	return nil
}

func describe(t *json.UnmarshalTypeError) string {
	if t.Type.Kind().String() == "bool" {
		return "true or false"
	}
	return "a string"
}

// phoneResponse is a phone as Cross River answers it, fields in the page's
// order.
type phoneResponse struct {
	ID             string `json:"id"`
	CustomerID     string `json:"customerId"`
	Status         string `json:"status"`
	PhoneType      string `json:"phoneType"`
	IsPrimary      bool   `json:"isPrimary"`
	PhoneNumber    string `json:"phoneNumber"`
	Extension      string `json:"extension"`
	Notes          string `json:"notes"`
	CreatedAt      string `json:"createdAt"`
	LastModifiedAt string `json:"lastModifiedAt"`
	PartnerID      string `json:"partnerId"`
}

// toWire returns p, a phone of customer customerUUID in tenant t, in Cross
// River's shape.
func toWire(p *phonebook.Phone, customerUUID string, t *phonebook.Tenant) phoneResponse {
	return phoneResponse{
		ID:             p.UUID,
		CustomerID:     customerUUID,
		Status:         p.Status,
		PhoneType:      p.Type,
		IsPrimary:      p.IsPrimary,
		PhoneNumber:    wireNumber(p, t),
		Extension:      p.Extension,
		Notes:          p.Notes,
		CreatedAt:      p.CreatedAt.UTC().Format(time.RFC3339Nano),
		LastModifiedAt: p.UpdatedAt.UTC().Format(time.RFC3339Nano),
		PartnerID:      t.UUID,
	}
}

// wireNumber is phoneNumber as Cross River writes it, digits only: the
// digits the client sent when the number was written that way (the page
// echoes "2015551212"); for a number written otherwise (through /v1 or
// another dialect) the national number when it is of the tenant's own
// calling code, else the calling code and national number.
func wireNumber(p *phonebook.Phone, t *phonebook.Tenant) string {
	if d := strings.TrimPrefix(p.Raw, "+"); d != "" && digitsOnly(d) {
		return d
	}
	if p.CountryCode == phone.CallingCodeForRegion(t.DefaultRegion) {
		return p.NationalNumber
	}
	return strconv.Itoa(p.CountryCode) + p.NationalNumber
}

func digitsOnly(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	var b []byte
	if err := enc.Encode(v); err != nil {
		// Only unencodable Go values get here: a programming error.
		status, b = http.StatusInternalServerError, []byte(`{"Errors":[{"Code":9999,"Message":"Internal error"}]}`+"\n")
	} else {
		b = buf.Bytes()
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// domainFieldOr is the domain's name of a Cross River field, or the
// field's own name when the domain has none.
func domainFieldOr(vendor string) string {
	if d := domainField(vendor); d != "" {
		return d
	}
	return vendor
}
