package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/phonebook/phonebook"
)

// flag returns the flag emoji of a two-letter region (regional indicator
// symbols), a globe for libphonenumber's non-geographic "001", and "" for
// anything else.
func flag(region string) string {
	if region == "001" {
		return "\U0001F310"
	}
	if len(region) != 2 {
		return ""
	}
	var b strings.Builder
	for _, c := range strings.ToUpper(region) {
		if c < 'A' || c > 'Z' {
			return ""
		}
		b.WriteRune(0x1F1E6 + (c - 'A'))
	}
	return b.String()
}

// formatNumber writes p as a person of the tenant reads it: national
// format in the tenant's own region, international otherwise, with the
// extension.
func formatNumber(p *phonebook.Phone, defaultRegion string) string {
	s := p.International
	if p.Region == defaultRegion && p.National != "" {
		s = p.National
	}
	if s == "" {
		s = p.E164
	}
	if s == "" {
		s = p.Raw
	}
	if p.Extension != "" {
		s += " ext. " + p.Extension
	}
	return s
}

// words turns a code ("fixed_line_or_mobile") into words.
func words(s string) string {
	if s == "" {
		return "unknown"
	}
	return strings.ReplaceAll(s, "_", " ")
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmtTime(*t)
}

// isoTime is the machine-readable form for <time datetime>.
func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// consentLabel names a consent type for people.
func consentLabel(typ string) string {
	switch typ {
	case phonebook.ConsentWritten:
		return "Written consent"
	case phonebook.ConsentExpress:
		return "Express consent"
	case phonebook.ConsentStop:
		return "Opted out (STOP)"
	default:
		return "No consent recorded"
	}
}

// eventLabel names an event type for people.
func eventLabel(typ string) string {
	switch typ {
	case phonebook.EventCustomerCreated:
		return "Customer created"
	case phonebook.EventCustomerUpdated:
		return "Customer changed"
	case phonebook.EventCustomerDeleted:
		return "Customer deleted"
	case phonebook.EventPhoneCreated:
		return "Phone added"
	case phonebook.EventPhoneUpdated:
		return "Phone changed"
	case phonebook.EventPhoneDeleted:
		return "Phone deleted"
	case phonebook.EventPrimaryChanged:
		return "Primary phone changed"
	case phonebook.EventConsentChanged:
		return "Consent changed"
	}
	return typ
}

// change is one field an event changed.
type change struct {
	Field, Before, After string
}

// noisy fields change with every write and say nothing to a person.
var noisy = []string{"version", "updated_at", "created_at", "id", "uuid", "customer_id", "phones", "tenant_id"}

// derived fields are libphonenumber's reading of the number: they follow
// raw and e164, and would only repeat them.
var derived = []string{"country_code", "international", "national", "national_number", "region", "line_type", "valid"}

// diff lists the fields that differ between an event's before and after
// (either may be empty), flattening nested objects ("consent.type"). A
// creation or deletion lists what was given, not what was derived or left
// empty.
func diff(before, after json.RawMessage) []change {
	whole := len(before) == 0 || len(after) == 0
	b, a := flatten(before), flatten(after)
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []change
	for _, k := range keys {
		top, _, _ := strings.Cut(k, ".")
		if slices.Contains(noisy, top) || strings.HasSuffix(k, ".updated_at") {
			continue
		}
		if whole && (slices.Contains(derived, k) || k == "e164" || b[k]+a[k] == "" || b[k]+a[k] == "false") {
			continue
		}
		if !whole && slices.Contains(derived, k) {
			continue
		}
		if b[k] != a[k] {
			out = append(out, change{Field: k, Before: b[k], After: a[k]})
		}
	}
	return out
}

func flatten(raw json.RawMessage) map[string]string {
	out := map[string]string{}
	if len(raw) == 0 {
		return out
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return out
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				name := k
				if prefix != "" {
					name = prefix + "." + k
				}
				walk(name, e)
			}
		case nil:
			out[prefix] = ""
		case string:
			out[prefix] = x
		case []any:
			b, _ := json.Marshal(x)
			out[prefix] = string(b)
		default:
			out[prefix] = fmt.Sprint(x)
		}
	}
	walk("", v)
	return out
}

// summary describes an event's subject in a few words: the phone number
// or customer name it was about.
func summary(e *phonebook.Event) string {
	for _, raw := range []json.RawMessage{e.After, e.Before} {
		f := flatten(raw)
		if n := f["e164"]; n != "" {
			if x := f["extension"]; x != "" {
				n += " ext. " + x
			}
			return n
		}
		if e.Type == phonebook.EventCustomerCreated || e.Type == phonebook.EventCustomerUpdated || e.Type == phonebook.EventCustomerDeleted {
			if n := f["name"]; n != "" {
				return n
			}
		}
	}
	return ""
}
