package ticketevolution

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect"
	"github.com/phonebook/phonebook/phone"
)

// Limits of the wire format itself (the domain holds every other limit).
const (
	// maxCreate is the most phone numbers one create may carry: v9
	// documents no cap, so it is the service-wide cap on one multi-record
	// write (as /v1/phones/batch and Wasp's save). The tenant's phones per
	// customer (50 by default) usually stops a create long before.
	maxCreate = 500
	// defaultPerPage and maxPerPage are the page sizes of the list.
	defaultPerPage = 100
	maxPerPage     = 100
)

// field is one member of a JSON object as sent: absent (raw empty), null,
// or a value still to be read. name is the vendor's name for it, with the
// record's position for creates ("phone_numbers[1].label").
type field struct {
	name string
	raw  json.RawMessage
}

func (f field) present() bool { return len(f.raw) > 0 }
func (f field) null() bool    { return string(f.raw) == "null" }

// text reads a string; numbers are accepted too (clients send "+1" and 1,
// "5" and 5 for the same thing) and kept as written. Null and absent are "".
func (f field) text() (string, error) {
	if !f.present() || f.null() {
		return "", nil
	}
	switch c := f.raw[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(f.raw, &s); err != nil {
			return "", f.wrongType("a string")
		}
		return s, nil
	case c == '-' || (c >= '0' && c <= '9'):
		var n json.Number
		if err := json.Unmarshal(f.raw, &n); err != nil {
			return "", f.wrongType("a string")
		}
		return n.String(), nil
	}
	return "", f.wrongType("a string")
}

// boolean reads true or false; null and absent are false.
func (f field) boolean() (bool, error) {
	if !f.present() || f.null() {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(f.raw, &b); err != nil {
		return false, f.wrongType("true or false")
	}
	return b, nil
}

// wrongType reports f's value as not of the JSON type it must be; the
// message names the member alone, Field its whole path.
func (f field) wrongType(what string) *phonebook.Error {
	short := f.name
	if i := strings.LastIndexByte(short, '.'); i >= 0 {
		short = short[i+1:]
	}
	return phonebook.Errorf(phonebook.ECodeValidation, f.name, "%s must be %s", short, what)
}

// phoneBody is one phone number as a client writes it, in a create's
// "phone_numbers" array or as the whole body of an update. Members other
// than these are ignored, as v9 does (a client may send back what it read,
// with id, url, raw_number and updated_at).
type phoneBody struct {
	Label       json.RawMessage `json:"label"`
	CountryCode json.RawMessage `json:"country_code"`
	Number      json.RawMessage `json:"number"`
	Extension   json.RawMessage `json:"extension"`
	IsPrimary   json.RawMessage `json:"is_primary"`
}

// createBody is the body of a create: {"phone_numbers": [...]}.
type createBody struct {
	PhoneNumbers json.RawMessage `json:"phone_numbers"`
}

// registry is the tenant's phone type registry, which a label may name.
type registry map[string]bool

// typeFor picks the phone type a v9 label stands for: the registry type it
// names (case-insensitive), "cell" as mobile, anything else as other.
func (reg registry) typeFor(label string) string {
	l := phonebook.NormalizeTypeName(label)
	switch {
	case l != "" && reg[l]:
		return l
	case l == "cell" && reg["mobile"]:
		return "mobile"
	}
	return "other"
}

// decodeObject reads body as one JSON object into v: 400 when it is not
// JSON or not an object.
func decodeObject(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return errorf(codeMalformedJSON, "", "the request body is empty")
	}
	if trimmed[0] != '{' {
		return errorf(codeMalformedJSON, "", "the request body must be a JSON object")
	}
	if field, bad := dialect.InvalidUTF8JSON(trimmed); bad {
		// encoding/json would store U+FFFD for each bad byte: refuse instead.
		return errorf(phonebook.ECodeValidation, field, "%s is not valid UTF-8", field)
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return errorf(codeMalformedJSON, "", "malformed JSON at byte %d", syn.Offset)
		}
		return errorf(codeMalformedJSON, "", "malformed JSON")
	}
	return nil
}

// createInputs reads a create's body into the phones to add. Every field of
// every record that has the wrong JSON type is reported at once.
func createInputs(body []byte, reg registry) ([]phonebook.PhoneInput, error) {
	var cb createBody
	if err := decodeObject(body, &cb); err != nil {
		return nil, err
	}
	list := field{name: "phone_numbers", raw: cb.PhoneNumbers}
	if !list.present() || list.null() {
		return nil, phonebook.Errorf(phonebook.ECodeValidation, list.name, "phone_numbers is required")
	}
	var raws []json.RawMessage
	if list.raw[0] != '[' || json.Unmarshal(list.raw, &raws) != nil {
		return nil, list.wrongType("an array")
	}
	switch {
	case len(raws) == 0:
		return nil, phonebook.Errorf(phonebook.ECodeValidation, list.name, "phone_numbers must hold at least one phone number")
	case len(raws) > maxCreate:
		return nil, phonebook.Errorf(phonebook.ECodeValidation, list.name, "phone_numbers may hold at most %d phone numbers", maxCreate)
	}
	var errs phonebook.ValidationErrors
	ins := make([]phonebook.PhoneInput, len(raws))
	for i, raw := range raws {
		at := fmt.Sprintf("phone_numbers[%d]", i)
		var pb phoneBody
		if raw[0] != '{' || json.Unmarshal(raw, &pb) != nil {
			errs = append(errs, field{name: at}.wrongType("an object"))
			continue
		}
		in, err := pb.input(at+".", reg)
		if err != nil {
			errs = append(errs, phonebook.FieldErrors(err)...)
			continue
		}
		ins[i] = in
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return ins, nil
}

// fields names the members of b for errors, each prefixed with at.
func (b *phoneBody) fields(at string) (label, country, number, ext, primary field) {
	return field{at + "label", b.Label}, field{at + "country_code", b.CountryCode},
		field{at + "number", b.Number}, field{at + "extension", b.Extension}, field{at + "is_primary", b.IsPrimary}
}

// input is the phone a create record asks for.
func (b *phoneBody) input(at string, reg registry) (phonebook.PhoneInput, error) {
	fl, fc, fn, fe, fp := b.fields(at)
	var errs phonebook.ValidationErrors
	var in phonebook.PhoneInput
	var err error
	if in.Label, err = fl.text(); err != nil {
		errs = append(errs, err.(*phonebook.Error))
	}
	if in.Country, err = fc.text(); err != nil {
		errs = append(errs, err.(*phonebook.Error))
	}
	if in.Number, err = fn.text(); err != nil {
		errs = append(errs, err.(*phonebook.Error))
	}
	if in.Extension, err = fe.text(); err != nil {
		errs = append(errs, err.(*phonebook.Error))
	}
	if in.IsPrimary, err = fp.boolean(); err != nil {
		errs = append(errs, err.(*phonebook.Error))
	}
	if len(errs) > 0 {
		return in, errs
	}
	in.Type = reg.typeFor(in.Label)
	return in, nil
}

// update is the change an update body asks for: only the members present.
// Null clears label, extension and country_code (back to the tenant's
// region); a null number is refused; a null is_primary changes nothing.
func (b *phoneBody) update(reg registry) (phonebook.PhoneUpdate, error) {
	fl, fc, fn, fe, fp := b.fields("")
	var errs phonebook.ValidationErrors
	var upd phonebook.PhoneUpdate
	text := func(f field) *string {
		if !f.present() {
			return nil
		}
		s, err := f.text()
		if err != nil {
			errs = append(errs, err.(*phonebook.Error))
			return nil
		}
		return &s
	}
	if upd.Label = text(fl); upd.Label != nil {
		t := reg.typeFor(*upd.Label)
		upd.Type = &t
	}
	upd.Country = text(fc)
	if fn.null() {
		errs = append(errs, phonebook.Errorf(phonebook.ECodeValidation, fn.name, "number must not be null"))
	} else {
		upd.Number = text(fn)
	}
	upd.Extension = text(fe)
	if fp.present() && !fp.null() {
		p, err := fp.boolean()
		if err != nil {
			errs = append(errs, err.(*phonebook.Error))
		} else {
			upd.IsPrimary = &p
		}
	}
	if len(errs) > 0 {
		return upd, errs
	}
	return upd, nil
}

// phoneJSON is a phone number as v9 shows it.
type phoneJSON struct {
	ID          int64   `json:"id"`
	URL         string  `json:"url"`
	CountryCode string  `json:"country_code"`
	RawNumber   string  `json:"raw_number"`
	Number      string  `json:"number"`
	Extension   *string `json:"extension"`
	Label       *string `json:"label"`
	UpdatedAt   string  `json:"updated_at"`
}

// pageJSON is v9's page envelope.
type pageJSON struct {
	CurrentPage  int         `json:"current_page"`
	PerPage      int         `json:"per_page"`
	TotalEntries int         `json:"total_entries"`
	PhoneNumbers []phoneJSON `json:"phone_numbers"`
}

// toPhoneJSON shows p: number is the national number with RFC 3966 dashes
// ("541-555-0123"), raw_number what follows the area code ("5550123").
func toPhoneJSON(p *phonebook.Phone) phoneJSON {
	out := phoneJSON{
		ID:          p.ID,
		URL:         phoneURL(p.CustomerID, p.ID),
		CountryCode: strconv.Itoa(p.CountryCode),
		RawNumber:   p.NationalNumber,
		Number:      p.NationalNumber,
		Extension:   nullable(p.Extension),
		Label:       nullable(p.Label),
		UpdatedAt:   p.UpdatedAt.UTC().Truncate(time.Second).Format(time.RFC3339),
	}
	if parts, err := phone.Split(p.E164); err == nil {
		out.Number, out.RawNumber = parts.Dashed, parts.Subscriber
	}
	return out
}

func phoneURL(customerID, phoneID int64) string {
	return "/clients/" + strconv.FormatInt(customerID, 10) + "/phone_numbers/" + strconv.FormatInt(phoneID, 10)
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// toPage shows phones as one page of the envelope.
func toPage(page, perPage, total int, phones []*phonebook.Phone) pageJSON {
	out := pageJSON{CurrentPage: page, PerPage: perPage, TotalEntries: total, PhoneNumbers: make([]phoneJSON, 0, len(phones))}
	for _, p := range phones {
		out.PhoneNumbers = append(out.PhoneNumbers, toPhoneJSON(p))
	}
	return out
}

// positiveInt reads a path or query value written with digits only.
func positiveInt(s string) (int64, bool) {
	if s == "" || len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}
