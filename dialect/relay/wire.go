package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect"
)

// Relay's own values and limits (DESIGN §4).
const (
	defaultCountryCode = "1"
	maxCountryCodeLen  = 10
)

// registryType maps a Relay phone_type to the phone type registry entry
// the phone is filed under. The same value is also handed to the domain
// as the declared line kind.
var registryType = map[string]string{
	phonebook.LineMobile:   "mobile",
	phonebook.LineLandline: "home",
	phonebook.LineUnknown:  "other",
}

// addPhoneRequest is the optional body of add_phone (and remove_phone,
// which reads only country_code). Unknown fields are ignored.
type addPhoneRequest struct {
	ConsentType  *string     `json:"consent_type"`
	PhoneType    *string     `json:"phone_type"`
	CountryCode  countryCode `json:"country_code"`
	ClientSource *string     `json:"client_source"`
}

// countryCode is country_code as a client may write it: "1" or 1.
type countryCode struct {
	value string
	set   bool
}

// errCountryCodeType is country_code written as neither string nor number.
var errCountryCodeType = errors.New("country_code must be a string")

// UnmarshalJSON reads a JSON string, an integer or null.
func (c *countryCode) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*c = countryCode{}
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return errCountryCodeType
		}
		*c = countryCode{value: s, set: true}
		return nil
	default:
		n, err := strconv.ParseUint(string(b), 10, 32)
		if err != nil {
			return errCountryCodeType
		}
		*c = countryCode{value: strconv.FormatUint(n, 10), set: true}
		return nil
	}
}

// messageBody is every answer of the dialect, success or error.
type messageBody struct {
	Message string `json:"message"`
}

// decodeAddPhone reads one JSON object (or null) from body.
func decodeAddPhone(body []byte) (*addPhoneRequest, error) {
	var req addPhoneRequest
	if field, bad := dialect.InvalidUTF8JSON(body); bad {
		// encoding/json would store U+FFFD for each bad byte: refuse instead.
		return nil, phonebook.Errorf(phonebook.ECodeValidation, field, "%s is not valid UTF-8", field)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, phonebook.Errorf(phonebook.ECodeValidation, "", "request body must hold a single JSON object")
	}
	return &req, nil
}

// jsonError describes a decoding error without echoing the body.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, errCountryCodeType):
		return phonebook.Errorf(phonebook.ECodeValidation, "country_code", "country_code must be a string")
	case errors.As(err, &te) && te.Field != "":
		return phonebook.Errorf(phonebook.ECodeValidation, te.Field, "%s must be a string", te.Field)
	case errors.As(err, &te):
		return phonebook.Errorf(phonebook.ECodeValidation, "", "request body must be a JSON object")
	default:
		return phonebook.Errorf(phonebook.ECodeValidation, "", "request body is not valid JSON")
	}
}

// country returns the calling code to read phone_number with: country_code
// or "1". Relay allows at most 10 characters.
func (req *addPhoneRequest) country() (string, error) {
	cc := strings.TrimSpace(req.CountryCode.value)
	if cc == "" {
		return defaultCountryCode, nil
	}
	if utf8.RuneCountInString(cc) > maxCountryCodeLen {
		return "", phonebook.Errorf(phonebook.ECodeValidation, "country_code", "country_code must be at most %d characters", maxCountryCodeLen)
	}
	return cc, nil
}

// phoneInput turns the request into the domain's input for number (the
// path's phone_number). Values the domain knows (consent types, line
// kinds, the source's length) are left for it to check.
func (req *addPhoneRequest) phoneInput(number string) (phonebook.PhoneInput, error) {
	country, err := req.country()
	if err != nil {
		return phonebook.PhoneInput{}, err
	}
	in := phonebook.PhoneInput{
		Number:        number,
		Country:       country,
		Rules:         numberRules,
		ConsentSource: Source,
	}
	if req.ConsentType != nil {
		in.ConsentType = *req.ConsentType
		if in.ConsentType == phonebook.ConsentNone {
			// The domain's "no consent recorded" is not a Relay value.
			return phonebook.PhoneInput{}, phonebook.Errorf(phonebook.ECodeValidation, "consent.type", "consent type must be written, express or stop")
		}
	}
	if req.PhoneType != nil && *req.PhoneType != "" {
		in.LineKind = *req.PhoneType // an unknown value is refused by the domain (field line_kind)
		in.Type = registryType[in.LineKind]
	}
	if req.ClientSource != nil {
		if s := strings.TrimSpace(*req.ClientSource); s != "" {
			in.ConsentSource = s
		}
	}
	return in, nil
}

// maxMessageLen is the longest success message Relay documents ("message
// string, Max length 100" on its add and remove phone number references).
const maxMessageLen = 100

// successMessage is the 200 message of add_phone (verb "added to") and
// remove_phone ("removed from"), exactly as Relay's references give it:
//
//	Phone number {phone_number} has been added to customer with ccid {ccid} for client {client_id}.
//
// It is held to maxMessageLen bytes (so also characters). phone_number is
// at most 11 digits by then, so only a long ccid or client_id can exceed
// it: the ccid is cut first, then the client_id, each keeping its leading
// characters and ending in "...", so the message keeps its documented
// shape and its ending " for client ...". The full values are what the
// client sent in the path.
func successMessage(verb, number, ccid, clientID string) string {
	build := func(ccid, clientID string) string {
		return "Phone number " + number + " has been " + verb + " customer with ccid " + ccid + " for client " + clientID + "."
	}
	msg := build(ccid, clientID)
	if len(msg) <= maxMessageLen {
		return msg
	}
	over := len(msg) - maxMessageLen
	if cut := len(ccid) - over - len(ellipsis); cut > 0 {
		return build(shorten(ccid, cut), clientID)
	}
	msg = build(ellipsis, clientID)
	over = len(msg) - maxMessageLen
	if over <= 0 {
		return msg
	}
	return build(ellipsis, shorten(clientID, len(clientID)-over-len(ellipsis)))
}

// ellipsis ends a value successMessage had to cut.
const ellipsis = "..."

// shorten keeps at most n bytes of s, cut at a character boundary, and
// appends ellipsis.
func shorten(s string, n int) string {
	if n < 0 {
		n = 0
	}
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	if n > len(s) {
		n = len(s)
	}
	return s[:n] + ellipsis
}

// removePhoneRequest is the body of remove_phone: client_source is its
// only documented field. CountryCode is read only to refuse it.
type removePhoneRequest struct {
	ClientSource *string         `json:"client_source"`
	CountryCode  json.RawMessage `json:"country_code"`
}

// errRemoveCountryCode refuses a country_code other than 1 on remove_phone.
const errRemoveCountryCode = "remove_phone reads phone_number with country code 1: country_code must be 1 or absent"

// defaultCountryCodes are the spellings of Relay's default country code a
// remove_phone body may carry: they change nothing, so they are accepted.
var defaultCountryCodes = map[string]bool{`null`: true, `"1"`: true, `"+1"`: true, `1`: true}

// decodeRemovePhone reads the body of remove_phone: one JSON object (or
// null) whose only field is client_source, a printable string of at most
// 100 characters. Other fields are ignored, as add_phone ignores unknown
// ones (a client reusing its add_phone body keeps working), except
// country_code: ignoring one other than 1 would read the number as a +1
// one behind the client's back and remove another number than meant, so
// only 1 (the default, as "1", "+1" or 1) is accepted.
// client_source is checked, not stored: removing records no consent.
func decodeRemovePhone(body []byte) error {
	if field, bad := dialect.InvalidUTF8JSON(body); bad {
		return phonebook.Errorf(phonebook.ECodeValidation, field, "%s is not valid UTF-8", field)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var req removePhoneRequest
	if err := dec.Decode(&req); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return phonebook.Errorf(phonebook.ECodeValidation, "", "request body must hold a single JSON object")
	}
	if len(req.CountryCode) > 0 && !defaultCountryCodes[strings.TrimSpace(string(req.CountryCode))] {
		return phonebook.Errorf(phonebook.ECodeValidation, "", errRemoveCountryCode)
	}
	if req.ClientSource != nil && !printable(*req.ClientSource, maxClientSourceLen) {
		// Worded as add_phone words the same limit (fieldMessage).
		return phonebook.Errorf(phonebook.ECodeValidation, "client_source", "client_source must be printable and at most %d characters", maxClientSourceLen)
	}
	return nil
}

// maxClientSourceLen is Relay's limit on client_source.
const maxClientSourceLen = 100

// printable reports whether s has at most max characters and no control
// character, the domain's rule for a consent source.
func printable(s string, max int) bool {
	if utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// writeMessage answers {"message": msg} with status.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(messageBody{Message: msg}) // a struct of one string always encodes
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// consentInput turns the body of the consent route into the calling code
// to read addr (channel_addr) with and the ledger entry to record. The
// consent type is left for the domain to check (required; written, express
// or stop).
func (req *addPhoneRequest) consentInput(addr string) (string, phonebook.ConsentInput, error) {
	country, err := req.country()
	if err != nil {
		return "", phonebook.ConsentInput{}, err
	}
	if err := checkAddr(addr); err != nil {
		return "", phonebook.ConsentInput{}, err
	}
	in := phonebook.ConsentInput{Source: Source}
	if req.ConsentType != nil {
		in.Type = *req.ConsentType
	}
	if req.ClientSource != nil {
		if s := strings.TrimSpace(*req.ClientSource); s != "" {
			in.Source = s
		}
	}
	return country, in, nil
}

// checkAddr holds channel_addr to numberRules, Relay's limits on a number.
// phonebook.Service.RecordConsent takes no NumberRules (add_phone hands
// them to AddPhone), so the consent route applies the same values here,
// worded as the domain words them.
func checkAddr(addr string) error {
	digits := 0
	for _, c := range addr {
		if c >= '0' && c <= '9' {
			digits++
		} else if numberRules.DigitsOnly {
			return phonebook.Errorf(phonebook.ECodeValidation, "channel_addr", "channel_addr must hold digits only")
		}
	}
	if digits < numberRules.MinDigits || digits > numberRules.MaxDigits {
		return phonebook.Errorf(phonebook.ECodeValidation, "channel_addr", "channel_addr must have %d to %d digits", numberRules.MinDigits, numberRules.MaxDigits)
	}
	return nil
}
