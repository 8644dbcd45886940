package rambase

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"html/template"
	"io"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect"
)

// --- formats ---

// format is how a response is written: RamBase answers XML unless $format
// or Accept asks for JSON or HTML.
type format int

const (
	formatXML format = iota
	formatJSON
	formatHTML
)

// responseFormat reads $format (case-insensitive), else Accept. An unknown
// $format is an error answered in XML.
func responseFormat(r *http.Request) (format, error) {
	q := r.URL.Query()
	if q.Has("$format") {
		switch strings.ToLower(strings.TrimSpace(q.Get("$format"))) {
		case "xml":
			return formatXML, nil
		case "json", "jsonstream":
			return formatJSON, nil
		case "html":
			return formatHTML, nil
		}
		return formatXML, fail(keyFormat, "$format")
	}
	return acceptFormat(r.Header.Values("Accept")), nil
}

// acceptFormat picks the format of the highest-weighted media range of
// Accept that RamBase serves; ties go to the first listed. */*, nothing
// served, or no Accept at all give XML.
func acceptFormat(headers []string) format {
	type choice struct {
		f     format
		q     float64
		order int
	}
	var cs []choice
	n := 0
	for _, h := range headers {
		for _, part := range strings.Split(h, ",") {
			n++
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(v, 64); err != nil || q < 0 || q > 1 {
					continue
				}
			}
			if q == 0 {
				continue
			}
			var f format
			switch {
			case mt == "application/json" || strings.HasSuffix(mt, "+json"):
				f = formatJSON
			case mt == "text/html" || mt == "application/xhtml+xml":
				f = formatHTML
			case mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml"),
				mt == "*/*", mt == "application/*", mt == "text/*":
				f = formatXML
			default:
				continue
			}
			cs = append(cs, choice{f, q, n})
		}
	}
	if len(cs) == 0 {
		return formatXML
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	return cs[0].f
}

// --- request body ---

// phoneIn is a RamBase Phone as a client sent it; nil fields were absent
// (or empty, or JSON null).
type phoneIn struct {
	Type        *string
	IsDefault   *bool
	PhoneNumber *string
}

// numberRules hold the seed page's limit on how PhoneNumber is
// written; the domain checks it (NumberRules), not the dialect.
var numberRules = &phonebook.NumberRules{Pattern: regexp.MustCompile(`^([0-9\(\)\s\.\+\-])*$`)}

// readPhone reads the request body as XML or JSON (by Content-Type; without
// one, by its first character).
func readPhone(r *http.Request) (phoneIn, error) {
	var kind format
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return phoneIn{}, fail(keyMediaType, "Content-Type")
		case mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml"):
			kind = formatXML
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			kind = formatJSON
		default:
			return phoneIn{}, fail(keyMediaType, "Content-Type")
		}
	} else {
		kind = -1
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return phoneIn{}, fail(keyBodyTooLarge, "")
		}
		return phoneIn{}, failf(keyMalformedBody, "", "The request body could not be read")
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return phoneIn{}, failf(keyMalformedBody, "", "The request body is empty")
	}
	if kind == -1 {
		switch trimmed[0] {
		case '<':
			kind = formatXML
		case '{':
			kind = formatJSON
		default:
			return phoneIn{}, fail(keyMediaType, "Content-Type")
		}
	}
	if kind == formatJSON {
		return decodeJSON(body)
	}
	return decodeXML(body)
}

// maxNameEcho caps how much of a client's element or key name is echoed.
const maxNameEcho = 64

func echoName(s string) string {
	if len(s) > maxNameEcho {
		s = s[:maxNameEcho] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// decodeXML reads <Phone><Type/><IsDefault/><PhoneNumber/></Phone>. It
// walks the tokens itself: any DOCTYPE (so any entity declaration, internal
// or external) is refused before it could matter, the decoder stays Strict
// (an undeclared entity such as &lol; is an error, never expanded), no
// CharsetReader is set (only UTF-8), and nothing is ever fetched.
func decodeXML(body []byte) (phoneIn, error) {
	var p phoneIn
	if field, bad := dialect.InvalidUTF8XML(body); bad {
		return p, failf(keyInvalidValue, field, field+" is not valid UTF-8")
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	malformed := func(msg string) error { return failf(keyMalformedBody, "", msg) }
	var (
		depth   int    // 0 outside the root, 1 inside <Phone>, 2 inside a field
		seen    bool   // the root was read
		field   string // the field element being read
		text    strings.Builder
		present = map[string]bool{}
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return phoneIn{}, malformed("The XML request body is malformed (line " + itoa(se.Line) + ")")
			}
			return phoneIn{}, malformed("The XML request body is malformed")
		}
		switch t := tok.(type) {
		case xml.Directive:
			return phoneIn{}, fail(keyDoctype, "")
		case xml.ProcInst, xml.Comment:
			// the <?xml ...?> declaration (its encoding is checked by the
			// decoder), other processing instructions and comments: ignored
		case xml.CharData:
			switch depth {
			case 2:
				text.Write(t)
			default:
				if len(bytes.TrimSpace(t)) > 0 {
					return phoneIn{}, malformed("The XML request body holds text outside the fields of Phone")
				}
			}
		case xml.StartElement:
			switch depth {
			case 0:
				if seen {
					return phoneIn{}, malformed("The XML request body holds more than one root element")
				}
				if t.Name.Local != "Phone" {
					return phoneIn{}, malformed("The root element must be Phone")
				}
				seen = true
			case 1:
				switch t.Name.Local {
				case "Type", "IsDefault", "PhoneNumber":
				default:
					return phoneIn{}, failf(keyUnknownField, echoName(t.Name.Local), "Unknown field "+echoName(t.Name.Local)+" in Phone")
				}
				if present[t.Name.Local] {
					return phoneIn{}, failf(keyMalformedBody, t.Name.Local, t.Name.Local+" is given more than once")
				}
				present[t.Name.Local] = true
				field = t.Name.Local
				text.Reset()
			default:
				return phoneIn{}, failf(keyMalformedBody, field, field+" must hold text, not elements")
			}
			depth++
		case xml.EndElement:
			depth--
			if depth == 1 {
				if err := p.set(field, text.String()); err != nil {
					return phoneIn{}, err
				}
			}
		}
	}
	if !seen {
		return phoneIn{}, malformed("The request body must be a Phone element")
	}
	return p, nil
}

// set stores one XML field. Empty elements count as absent.
func (p *phoneIn) set(field, v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	switch field {
	case "Type":
		p.Type = &v
	case "PhoneNumber":
		p.PhoneNumber = &v
	case "IsDefault":
		b, ok := parseBool(v)
		if !ok {
			return fail(keyIsDefault, "IsDefault")
		}
		p.IsDefault = &b
	}
	return nil
}

// parseBool reads xsd:boolean (true, false, 1, 0), any case.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// phoneJSON is the JSON object of a Phone; each field is checked by hand so
// a wrong type names the field.
type phoneJSON struct {
	Type        json.RawMessage `json:"Type"`
	IsDefault   json.RawMessage `json:"IsDefault"`
	PhoneNumber json.RawMessage `json:"PhoneNumber"`
}

// decodeJSON reads {"Phone": {...}} or the bare {...}. Keys match
// case-insensitively (RamBase's JSON is often written in camel case).
func decodeJSON(body []byte) (phoneIn, error) {
	if field, bad := dialect.InvalidUTF8JSON(body); bad {
		// encoding/json would store U+FFFD for each bad byte: refuse instead.
		return phoneIn{}, failf(keyInvalidValue, field, field+" is not valid UTF-8")
	}
	var top map[string]json.RawMessage
	if err := strictJSON(body, &top, false); err != nil {
		return phoneIn{}, err
	}
	if top == nil {
		return phoneIn{}, failf(keyMalformedBody, "", "The JSON request body must be an object")
	}
	obj := body
	if len(top) == 1 {
		for k, v := range top {
			if strings.EqualFold(k, "Phone") {
				obj = v
			}
		}
	}
	if string(bytes.TrimSpace(obj)) == "null" {
		return phoneIn{}, nil
	}
	var raw phoneJSON
	if err := strictJSON(obj, &raw, true); err != nil {
		return phoneIn{}, err
	}
	var p phoneIn
	var err error
	if p.Type, err = jsonString(raw.Type, "Type"); err != nil {
		return phoneIn{}, err
	}
	if p.PhoneNumber, err = jsonString(raw.PhoneNumber, "PhoneNumber"); err != nil {
		return phoneIn{}, err
	}
	if p.IsDefault, err = jsonBool(raw.IsDefault, "IsDefault"); err != nil {
		return phoneIn{}, err
	}
	return p, nil
}

// jsonBool reads an optional boolean: true, false, or the same as a string
// (the seed page writes "IsDefault": "{Boolean}"); absent, null and "" are
// nil.
func jsonBool(raw json.RawMessage, field string) (*bool, error) {
	v := bytes.TrimSpace(raw)
	if len(v) == 0 || string(v) == "null" {
		return nil, nil
	}
	var b bool
	if json.Unmarshal(v, &b) == nil {
		return &b, nil
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return nil, fail(keyIsDefault, field)
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	b, ok := parseBool(s)
	if !ok {
		return nil, fail(keyIsDefault, field)
	}
	return &b, nil
}

// strictJSON decodes one JSON value, refusing trailing data and (when
// known is set) unknown keys.
func strictJSON(b []byte, v any, known bool) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if known {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		switch {
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return failf(keyUnknownField, echoName(name), "Unknown field "+echoName(name)+" in Phone")
		case errors.As(err, &typ):
			if known && typ.Field == "" {
				return failf(keyMalformedBody, "Phone", "Phone must be a JSON object")
			}
			return failf(keyMalformedBody, "", "The JSON request body must be an object")
		}
		return failf(keyMalformedBody, "", "The JSON request body is malformed")
	}
	if _, err := dec.Token(); err != io.EOF {
		return failf(keyMalformedBody, "", "The JSON request body holds data after the object")
	}
	return nil
}

// jsonString reads an optional string field: absent, null and "" are nil.
func jsonString(raw json.RawMessage, field string) (*string, error) {
	v := bytes.TrimSpace(raw)
	if len(v) == 0 || string(v) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, failf(keyFieldType, field, field+" must be a string")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	return &s, nil
}

// --- phone types ---

// typeToDomain maps RamBase phone types to the tenant's registry. Other
// names are looked up in the registry by their lower-case name (the domain
// refuses names it does not hold: type_unknown).
var typeToDomain = map[string]string{
	"BUSINESS": "work",
	"WORK":     "work",
	"MOBILE":   "mobile",
	"CELLULAR": "mobile",
	"HOME":     "home",
	"PRIVATE":  "home",
	"FAX":      "fax",
	"OTHER":    "other",
}

// typeFromDomain is the RamBase name of a registry type; types a tenant
// added are shown upper-case.
var typeFromDomain = map[string]string{
	"work":   "BUSINESS",
	"mobile": "MOBILE",
	"home":   "HOME",
	"fax":    "FAX",
	"other":  "OTHER",
}

// defaultType is the RamBase default of Type.
const defaultType = "BUSINESS"

func domainType(t string) string {
	if v, ok := typeToDomain[strings.ToUpper(strings.TrimSpace(t))]; ok {
		return v
	}
	return phonebook.NormalizeTypeName(t)
}

func rambaseType(t string) string {
	if v, ok := typeFromDomain[t]; ok {
		return v
	}
	return strings.ToUpper(t)
}

// input is the phone a POST adds.
func (p phoneIn) input() (phonebook.PhoneInput, error) {
	if p.PhoneNumber == nil {
		return phonebook.PhoneInput{}, fail(keyNumberRequired, "PhoneNumber")
	}
	typ := defaultType
	if p.Type != nil {
		typ = *p.Type
	}
	in := phonebook.PhoneInput{Number: *p.PhoneNumber, Type: domainType(typ), Rules: numberRules}
	if p.IsDefault != nil {
		in.IsPrimary = *p.IsDefault
	}
	return in, nil
}

// update is the change a PUT asks for: only the fields given.
func (p phoneIn) update() phonebook.PhoneUpdate {
	upd := phonebook.PhoneUpdate{Number: p.PhoneNumber, IsPrimary: p.IsDefault, Rules: numberRules}
	if p.Type != nil {
		t := domainType(*p.Type)
		upd.Type = &t
	}
	return upd
}

// --- responses ---

// phoneOut is the Phone resource RamBase answers with. PhoneNumber is the
// number as the client wrote it (the domain's raw).
type phoneOut struct {
	XMLName     xml.Name `xml:"Phone" json:"-"`
	PhoneID     int64    `xml:"PhoneId" json:"PhoneId"`
	Type        string   `xml:"Type" json:"Type"`
	IsDefault   bool     `xml:"IsDefault" json:"IsDefault"`
	PhoneNumber string   `xml:"PhoneNumber" json:"PhoneNumber"`
}

func toPhoneOut(p *phonebook.Phone) phoneOut {
	return phoneOut{PhoneID: p.ID, Type: rambaseType(p.Type), IsDefault: p.IsPrimary, PhoneNumber: p.Raw}
}

func writePhone(w http.ResponseWriter, f format, status int, p *phonebook.Phone) {
	out := toPhoneOut(p)
	switch f {
	case formatJSON:
		writeJSON(w, status, struct {
			Phone phoneOut `json:"Phone"`
		}{out})
	case formatHTML:
		writeHTML(w, status, "Phone", []htmlRow{
			{"PhoneId", strconv.FormatInt(out.PhoneID, 10)},
			{"Type", out.Type},
			{"IsDefault", strconv.FormatBool(out.IsDefault)},
			{"PhoneNumber", out.PhoneNumber},
		})
	default:
		writeXML(w, status, out)
	}
}

func writeBody(w http.ResponseWriter, status int, contentType string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil { // only unencodable Go values: a programming error
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	out := make([]byte, 0, len(xml.Header)+len(b)+1)
	out = append(append(append(out, xml.Header...), b...), '\n')
	writeBody(w, status, "application/xml; charset=utf-8", out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeBody(w, status, "application/json; charset=utf-8", buf.Bytes())
}

// htmlRow is one field shown on an HTML page.
type htmlRow struct{ Name, Value string }

var htmlPage = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
<table>
{{- range .Rows}}
<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>
{{- end}}
</table>
</body>
</html>
`))

func writeHTML(w http.ResponseWriter, status int, title string, rows []htmlRow) {
	var buf bytes.Buffer
	if err := htmlPage.Execute(&buf, struct {
		Title string
		Rows  []htmlRow
	}{title, rows}); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeBody(w, status, "text/html; charset=utf-8", buf.Bytes())
}

func itoa(n int) string { return strconv.Itoa(n) }
