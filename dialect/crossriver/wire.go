package crossriver

import (
	"bytes"
	"encoding/json"
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
// and returns the phone to add, with the problems found: typeErrs (members
// of the wrong JSON type, from decodeBytes) and the missing ones. Every
// other limit is the service's: the number rules travel with the input,
// extension and notes lengths are the domain's own. The input holds the
// fields that are good, so the domain can check them even when others are
// wrong.
func (b *phoneRequest) input(typeErrs phonebook.ValidationErrors) (phonebook.PhoneInput, phonebook.ValidationErrors) {
	errs := typeErrs
	bad := func(field string) bool {
		for _, e := range typeErrs {
			if e.Field == field {
				return true
			}
		}
		return false
	}
	in := phonebook.PhoneInput{Rules: numberRules}
	switch {
	case bad("is_primary"):
	case b.IsPrimary == nil:
		errs = append(errs, phonebook.Errorf(phonebook.ECodeValidation, "is_primary", "isPrimary is required"))
	default:
		in.IsPrimary = *b.IsPrimary
	}
	typ := ""
	if b.PhoneType != nil {
		typ = phonebook.NormalizeTypeName(*b.PhoneType)
	}
	switch {
	case bad("type"):
	case typ == "":
		errs = append(errs, phonebook.Errorf(phonebook.ECodeValidation, "type", "phoneType is required"))
	case !isPhoneType(typ):
		errs = append(errs, phonebook.Errorf(phonebook.ECodeValidation, "type", "phoneType must be one of %s", strings.Join(phoneTypes, ", ")))
	default:
		in.Type = typ
	}
	number := ""
	if b.PhoneNumber != nil {
		number = strings.TrimSpace(*b.PhoneNumber)
	}
	switch {
	case bad("number"):
	case number == "":
		errs = append(errs, phonebook.Errorf(phonebook.ECodeValidation, "number", "phoneNumber is required"))
	default:
		in.Number = number
	}
	if b.Extension != nil && !bad("extension") {
		in.Extension = *b.Extension
	}
	if b.Notes != nil && !bad("notes") {
		in.Notes = *b.Notes
	}
	return in, errs
}

func isPhoneType(s string) bool {
	for _, t := range phoneTypes {
		if s == t {
			return true
		}
	}
	return false
}

// decodeBytes reads one JSON object into req, member by member, so that
// every member of the wrong JSON type is reported, not just the first
// (Cross River's error array holds one entry per problem). Names match in
// any letter case; a later member wins over an earlier one of the same
// name, as with encoding/json; unknown members are ignored. Anything that is
// not one JSON object is malformed.
func decodeBytes(body []byte, req *phoneRequest) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return malformed("the request body is empty")
	}
	if field, bad := dialect.InvalidUTF8JSON(body); bad {
		// encoding/json would store U+FFFD for each bad byte: refuse instead.
		return phonebook.Errorf(phonebook.ECodeValidation, domainFieldOr(field), "%s is not valid UTF-8", field)
	}
	var members []struct {
		name string
		raw  json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return malformed("the request body is not valid JSON")
	}
	if tok == nil { // null: an object with no members, as encoding/json reads it
		if _, err := dec.Token(); err != io.EOF {
			return malformed("the request body holds data after the JSON object")
		}
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return malformed("the request body must be a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return malformed("the request body is not valid JSON")
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return malformed("the request body is not valid JSON")
		}
		members = append(members, struct {
			name string
			raw  json.RawMessage
		}{name, raw})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return malformed("the request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("the request body holds data after the JSON object")
	}
	fields := []struct {
		name string
		dst  any
	}{
		{"isPrimary", &req.IsPrimary},
		{"phoneType", &req.PhoneType},
		{"phoneNumber", &req.PhoneNumber},
		{"extension", &req.Extension},
		{"notes", &req.Notes},
	}
	bad := map[string]*phonebook.Error{}
	for _, m := range members {
		for _, f := range fields {
			if !strings.EqualFold(m.name, f.name) {
				continue
			}
			if err := json.Unmarshal(m.raw, f.dst); err != nil {
				want := "a string"
				if f.name == "isPrimary" {
					want = "true or false"
				}
				bad[f.name] = phonebook.Errorf(phonebook.ECodeValidation, domainField(f.name), "%s must be %s", f.name, want)
			} else {
				delete(bad, f.name) // a later member of the same name wins
			}
		}
	}
	var errs phonebook.ValidationErrors
	for _, f := range fields { // in the page's order of fields
		if e := bad[f.name]; e != nil {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
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
