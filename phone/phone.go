// Package phone reads and formats phone numbers. It is a thin wrapper over
// github.com/nyaruka/phonenumbers (Google's libphonenumber): every parse and
// format in phonebook goes through here, none is written by hand.
package phone

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Number is what libphonenumber reads from one written phone number.
type Number struct {
	Raw            string // as given
	E164           string // +15045550123
	CountryCode    int    // 1
	NationalNumber string // 5045550123
	Region         string // US; "" when the number belongs to no single region
	National       string // (504) 555-0123
	International  string // +1 504-555-0123
	LineType       string // mobile, fixed_line, fixed_line_or_mobile, voip, toll_free, ...
	Valid          bool   // libphonenumber knows the number as assigned in its region
	Possible       bool   // the length is right for the country
	Extension      string // written inside the number: "ext. 5", "x5", ";ext=5"
}

// ErrUnparseable wraps every error of Parse, so callers can tell a bad number
// from their own failures.
var ErrUnparseable = errors.New("not a phone number")

// Parse reads raw as a phone number. country says how to read a number
// written without "+": a region ("US"), or a country calling code ("1",
// "+1", "44"); empty means raw must start with "+" (or 00 + code).
func Parse(raw, country string) (*Number, error) {
	region, err := regionFor(country)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSpace(raw)
	if text == "" {
		return nil, fmt.Errorf("%w: empty", ErrUnparseable)
	}
	if region == "" {
		region = "ZZ" // unknown region: only numbers in international form parse
		if cc := callingCode(country); cc != 0 && !strings.HasPrefix(text, "+") {
			// A non-geographic calling code (800, 882, ...) has no region to
			// parse with; writing the code in front is libphonenumber's way.
			text = "+" + strconv.Itoa(cc) + " " + text
		}
	}
	num, err := phonenumbers.Parse(text, region)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnparseable, err)
	}
	return describe(raw, num), nil
}

func describe(raw string, num *phonenumbers.PhoneNumber) *Number {
	ext := num.GetExtension()
	// Formats are of the number alone; the extension is kept apart. num is
	// ours (fresh from Parse), so it can be changed in place.
	num.Extension = nil
	bare := num
	n := &Number{
		Raw:            raw,
		E164:           phonenumbers.Format(bare, phonenumbers.E164),
		CountryCode:    int(num.GetCountryCode()),
		NationalNumber: phonenumbers.GetNationalSignificantNumber(bare),
		National:       phonenumbers.Format(bare, phonenumbers.NATIONAL),
		International:  phonenumbers.Format(bare, phonenumbers.INTERNATIONAL),
		// Local-only lengths (555-0123 without an area code) are not enough
		// to reach anyone, so they do not count as possible.
		Possible:  phonenumbers.IsPossibleNumberWithReason(bare) == phonenumbers.IS_POSSIBLE,
		Extension: ext,
	}
	// Matching a number against its region's patterns is most of the cost
	// of a parse (a seed or import spends a third of its CPU here), and
	// IsValidNumber, GetNumberType and GetRegionCodeForNumber each start by
	// finding the region. IsValidNumber(n) is "GetNumberType(n) is known"
	// (both match the same region's patterns), so one call answers both.
	t := phonenumbers.GetNumberType(bare)
	n.Valid = t != phonenumbers.UNKNOWN
	n.LineType = lineType(t)
	region := phonenumbers.GetRegionCodeForNumber(bare)
	if region == "" || region == "ZZ" || region == "001" {
		// Invalid numbers have no region of their own; the calling code's
		// main region is the best answer there is.
		region = phonenumbers.GetRegionCodeForCountryCode(n.CountryCode)
	}
	if region == "ZZ" || region == "001" {
		region = ""
	}
	n.Region = region
	return n
}

// regionFor turns a country argument into a region code for Parse: "" for a
// non-geographic calling code or no country at all.
func regionFor(country string) (string, error) {
	c := strings.TrimSpace(country)
	if c == "" {
		return "", nil
	}
	if cc := callingCode(c); cc != 0 {
		r := phonenumbers.GetRegionCodeForCountryCode(cc)
		if r == "ZZ" {
			return "", fmt.Errorf("%w: unknown country calling code %q", ErrUnparseable, country)
		}
		if r == "001" {
			return "", nil
		}
		return r, nil
	}
	r := strings.ToUpper(c)
	if !ValidRegion(r) {
		return "", fmt.Errorf("%w: unknown country %q", ErrUnparseable, country)
	}
	return r, nil
}

// callingCode reads "+1", "1", "001" or "+44" as a calling code; 0 if c is
// not one.
func callingCode(c string) int {
	c = strings.TrimPrefix(strings.TrimSpace(c), "+")
	if c == "" || len(c) > 4 {
		return 0
	}
	n, err := strconv.Atoi(c)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// ValidRegion reports whether libphonenumber knows region (e.g. "US", "GB").
func ValidRegion(region string) bool {
	return phonenumbers.GetSupportedRegions()[strings.ToUpper(region)]
}

// ValidCountry reports whether country is a region or calling code Parse
// accepts.
func ValidCountry(country string) bool {
	_, err := regionFor(country)
	return err == nil
}

// CallingCodeForRegion returns the calling code of region (1 for US), 0 if
// the region is unknown.
func CallingCodeForRegion(region string) int {
	return phonenumbers.GetCountryCodeForRegion(strings.ToUpper(region))
}

// E164 parses raw like Parse and returns only its E.164 form, for lookups.
func E164(raw, country string) (string, error) {
	n, err := Parse(raw, country)
	if err != nil {
		return "", err
	}
	return n.E164, nil
}

func lineType(t phonenumbers.PhoneNumberType) string {
	switch t {
	case phonenumbers.FIXED_LINE:
		return "fixed_line"
	case phonenumbers.MOBILE:
		return "mobile"
	case phonenumbers.FIXED_LINE_OR_MOBILE:
		return "fixed_line_or_mobile"
	case phonenumbers.TOLL_FREE:
		return "toll_free"
	case phonenumbers.PREMIUM_RATE:
		return "premium_rate"
	case phonenumbers.SHARED_COST:
		return "shared_cost"
	case phonenumbers.VOIP:
		return "voip"
	case phonenumbers.PERSONAL_NUMBER:
		return "personal_number"
	case phonenumbers.PAGER:
		return "pager"
	case phonenumbers.UAN:
		return "uan"
	case phonenumbers.VOICEMAIL:
		return "voicemail"
	default:
		return "unknown"
	}
}

// Parts are the pieces of a number in RFC 3966 form, for wire formats that
// split a number (Ticket Evolution: "541-555-0123", raw "5550123").
type Parts struct {
	Dashed     string // national number with RFC 3966 dashes: 541-555-0123
	AreaCode   string // national destination code: 541 ("" where there is none)
	Subscriber string // the rest of the national number: 5550123
}

// Split returns the parts of an E.164 number.
func Split(e164 string) (Parts, error) {
	num, err := phonenumbers.Parse(e164, "ZZ")
	if err != nil {
		return Parts{}, fmt.Errorf("%w: %v", ErrUnparseable, err)
	}
	num.Extension = nil
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	n := phonenumbers.GetLengthOfNationalDestinationCode(num)
	if n > len(nsn) {
		n = 0
	}
	// RFC 3966 is "tel:+1-541-555-0123": drop the scheme and calling code.
	rfc := phonenumbers.Format(num, phonenumbers.RFC3966)
	dashed := strings.TrimPrefix(rfc, "tel:+"+strconv.Itoa(int(num.GetCountryCode())))
	dashed = strings.TrimPrefix(dashed, "-")
	return Parts{Dashed: dashed, AreaCode: nsn[:n], Subscriber: nsn[n:]}, nil
}
