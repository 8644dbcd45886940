package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
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
