package phone_test

import (
	"errors"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/phonebook/phonebook/phone"
)

func TestParse(t *testing.T) {
	cases := []struct {
		raw, country                                string
		e164, national, intl, region, lineType, ext string
		cc                                          int
		valid                                       bool
	}{
		{"(504) 555-0123", "US", "+15045550123", "(504) 555-0123", "+1 504-555-0123", "US", "fixed_line_or_mobile", "", 1, true},
		{"+1 504 555 0123", "", "+15045550123", "(504) 555-0123", "+1 504-555-0123", "US", "fixed_line_or_mobile", "", 1, true},
		{"5045550123", "+1", "+15045550123", "(504) 555-0123", "+1 504-555-0123", "US", "fixed_line_or_mobile", "", 1, true},
		{"5045550123", "1", "+15045550123", "(504) 555-0123", "+1 504-555-0123", "US", "fixed_line_or_mobile", "", 1, true},
		{"504-555-0123 ext. 5", "US", "+15045550123", "(504) 555-0123", "+1 504-555-0123", "US", "fixed_line_or_mobile", "5", 1, true},
		{"504-555-0123 x5", "US", "+15045550123", "(504) 555-0123", "+1 504-555-0123", "US", "fixed_line_or_mobile", "5", 1, true},
		{"+1 504 555 0123;ext=5", "", "+15045550123", "(504) 555-0123", "+1 504-555-0123", "US", "fixed_line_or_mobile", "5", 1, true},
		{"tel:+1-504-555-0123;ext=77", "", "+15045550123", "(504) 555-0123", "+1 504-555-0123", "US", "fixed_line_or_mobile", "77", 1, true},
		{"1-800-555-0199", "us", "+18005550199", "(800) 555-0199", "+1 800-555-0199", "US", "toll_free", "", 1, true},
		{"020 7946 0018", "GB", "+442079460018", "020 7946 0018", "+44 20 7946 0018", "GB", "fixed_line", "", 44, true},
		{"020 7946 0018", "44", "+442079460018", "020 7946 0018", "+44 20 7946 0018", "GB", "fixed_line", "", 44, true},
		{"07400 123456", "+44", "+447400123456", "07400 123456", "+44 7400 123456", "GB", "mobile", "", 44, true},
		{"0044 20 7946 0018", "DE", "+442079460018", "020 7946 0018", "+44 20 7946 0018", "GB", "fixed_line", "", 44, true},
		{"+1 999 555 0123", "", "+19995550123", "(999) 555-0123", "+1 999-555-0123", "US", "unknown", "", 1, false},
	}
	for _, tc := range cases {
		n, err := phone.Parse(tc.raw, tc.country)
		if err != nil {
			t.Errorf("Parse(%q, %q): %v", tc.raw, tc.country, err)
			continue
		}
		got := []any{n.E164, n.National, n.International, n.Region, n.LineType, n.Extension, n.CountryCode, n.Raw}
		want := []any{tc.e164, tc.national, tc.intl, tc.region, tc.lineType, tc.ext, tc.cc, tc.raw}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("Parse(%q, %q): got %v, want %v", tc.raw, tc.country, got, want)
				break
			}
		}
		if n.Valid != tc.valid {
			t.Errorf("Parse(%q): valid %v, want %v", tc.raw, n.Valid, tc.valid)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ raw, country string }{
		{"", "US"},
		{"   ", "US"},
		{"not a number", "US"},
		{"5045550123", ""},       // no + and no country: no way to read it
		{"5045550123", "Narnia"}, // unknown region
		{"5045550123", "+9999"},  // unknown calling code
		{"5045550123", "0"},
	}
	for _, tc := range cases {
		_, err := phone.Parse(tc.raw, tc.country)
		if err == nil {
			t.Errorf("Parse(%q, %q): no error", tc.raw, tc.country)
			continue
		}
		if !errors.Is(err, phone.ErrUnparseable) {
			t.Errorf("Parse(%q, %q): error %v is not ErrUnparseable", tc.raw, tc.country, err)
		}
	}
}

func TestPossible(t *testing.T) {
	cases := []struct {
		raw      string
		possible bool
	}{
		{"555-0123", false}, // local-only: no area code
		{"12", false},
		{"2015550123", true},
		{"201555012345678", false},
	}
	for _, tc := range cases {
		n, err := phone.Parse(tc.raw, "US")
		if err != nil {
			if tc.possible {
				t.Errorf("Parse(%q): %v", tc.raw, err)
			}
			continue
		}
		if n.Possible != tc.possible {
			t.Errorf("Parse(%q): possible %v, want %v", tc.raw, n.Possible, tc.possible)
		}
	}
}

func TestCountries(t *testing.T) {
	for _, c := range []string{"US", "us", "GB", "+1", "1", "44", "+800"} {
		if !phone.ValidCountry(c) {
			t.Errorf("ValidCountry(%q) = false", c)
		}
	}
	for _, c := range []string{"XX", "Narnia", "+9999", "abc"} {
		if phone.ValidCountry(c) {
			t.Errorf("ValidCountry(%q) = true", c)
		}
	}
	if got := phone.CallingCodeForRegion("gb"); got != 44 {
		t.Errorf("CallingCodeForRegion(gb) = %d", got)
	}
	e, err := phone.E164("(201) 555-0123", "US")
	if err != nil || e != "+12015550123" {
		t.Errorf("E164: %q, %v", e, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"(504) 555-0123", "+1 504 555 0123;ext=5", "x", "+", "00", "tel:+1"} {
		f.Add(s, "US")
	}
	f.Fuzz(func(t *testing.T, raw, country string) {
		n, err := phone.Parse(raw, country)
		if err == nil && (n.E164 == "" || n.E164[0] != '+') {
			t.Errorf("Parse(%q, %q): e164 %q", raw, country, n.E164)
		}
	})
}

func TestSplit(t *testing.T) {
	cases := []struct{ e164, dashed, area, sub string }{
		{"+15415550123", "541-555-0123", "541", "5550123"},
		{"+442079460018", "20-7946-0018", "20", "79460018"},
	}
	for _, tc := range cases {
		p, err := phone.Split(tc.e164)
		if err != nil {
			t.Fatalf("Split(%q): %v", tc.e164, err)
		}
		if p.Dashed != tc.dashed || p.AreaCode != tc.area || p.Subscriber != tc.sub {
			t.Errorf("Split(%q): got %+v, want %s %s %s", tc.e164, p, tc.dashed, tc.area, tc.sub)
		}
	}
	if _, err := phone.Split("nope"); err == nil {
		t.Error("Split(nope): no error")
	}
}

// describe reads validity off GetNumberType instead of calling
// IsValidNumber; this holds them to the same answer over example numbers
// of every region and type, and over neighbours of each (invalid ones too).
func TestValidIsKnownType(t *testing.T) {
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.VOIP, phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.PERSONAL_NUMBER}
	checked := 0
	for region := range phonenumbers.GetSupportedRegions() {
		for _, typ := range types {
			ex := phonenumbers.GetExampleNumberForType(region, typ)
			if ex == nil {
				continue
			}
			e164 := phonenumbers.Format(ex, phonenumbers.E164)
			for _, s := range []string{e164, e164[:len(e164)-1], e164 + "0", e164[:len(e164)-1] + "9", e164[:3] + "0" + e164[4:]} {
				num, err := phonenumbers.Parse(s, "")
				if err != nil {
					continue
				}
				valid := phonenumbers.IsValidNumber(num)
				if got := phonenumbers.GetNumberType(num) != phonenumbers.UNKNOWN; got != valid {
					t.Errorf("%s (%s): IsValidNumber %v, GetNumberType known %v", s, region, valid, got)
				}
				if n, err := phone.Parse(s, ""); err == nil && n.Valid != valid {
					t.Errorf("Parse(%s).Valid = %v, IsValidNumber %v", s, n.Valid, valid)
				}
				checked++
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d numbers checked", checked)
	}
}
