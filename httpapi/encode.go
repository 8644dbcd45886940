package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect"
)

// MaxBodyBytes caps every request body.
const MaxBodyBytes = 1 << 20

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONStatus(w, status, "application/json", v)
}

func writeJSONStatus(w http.ResponseWriter, status int, contentType string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only unencodable Go values get here: a programming error.
		http.Error(w, `{"code":"internal"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// jsonContentType reports whether the request says its body is JSON
// (application/json, or any +json type such as merge-patch+json).
func jsonContentType(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// decode reads the JSON body of r into v, refusing unknown fields, trailing
// data, bodies over MaxBodyBytes and other content types.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if !jsonContentType(r) {
		return httpError(codeUnsupportedMedia, "Content-Type", "the request body must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return httpError(codeBodyTooLarge, "", fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes))
		}
		return httpError(codeMalformedJSON, "", "the request body could not be read")
	}
	return decodeBytes(body, v)
}

func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return httpError(codeMalformedJSON, "", "the request body is empty")
	}
	if field, bad := dialect.InvalidUTF8JSON(body); bad {
		return invalidUTF8(field)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return httpError(codeMalformedJSON, "", "the request body holds data after the JSON value")
	}
	return nil
}

// jsonError turns a decoding failure into a client error naming the field.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var fe *fieldError
	switch {
	case errors.As(err, &fe):
		return fe.err
	case errors.As(err, &syn):
		return httpError(codeMalformedJSON, "", fmt.Sprintf("malformed JSON at byte %d", syn.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return httpError(codeMalformedJSON, "", "the JSON body ends too early")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return httpError(codeMalformedJSON, "", fmt.Sprintf("the body must be %s", describeType(typ)))
		}
		return httpError(phonebook.ECodeValidation, field, fmt.Sprintf("%s must be %s", field, describeType(typ)))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return httpError(codeUnknownField, name, fmt.Sprintf("unknown field %q", name))
	}
	return httpError(codeMalformedJSON, "", "malformed JSON")
}

func describeType(t *json.UnmarshalTypeError) string {
	switch t.Type.Kind().String() {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "of another type"
}

// fieldError carries a domain error out of a custom UnmarshalJSON.
type fieldError struct{ err error }

func (e *fieldError) Error() string { return e.err.Error() }

// opt is a JSON field that tells "absent" from "null" from a value (for
// PATCH): Set is true when the field was present, Null when it was null.
type opt[T any] struct {
	Set  bool
	Null bool
	V    T
}

func (o *opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	// Nested objects (consent) refuse unknown fields like the body does:
	// json.Unmarshal would drop a misspelt field without a word.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(&o.V)
}

// ptr returns a pointer to the value, or to the zero value when null, or
// nil when absent.
func (o opt[T]) ptr() *T {
	if !o.Set {
		return nil
	}
	v := o.V
	return &v
}

// flexString accepts a JSON string or number (clients send "+1" and 1,
// "5" and 5 for the same thing); null is empty.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	switch {
	case s == "null":
		*f = ""
	case strings.HasPrefix(s, `"`):
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*f = flexString(v)
	case len(s) > 0 && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n.String())
	default:
		return &json.UnmarshalTypeError{Value: "value", Type: reflect.TypeFor[string]()}
	}
	return nil
}

// etag is the entity tag of a resource at version.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads If-Match as the version it requires: 0 for none (or *),
// -1 for a tag that can match no version.
func ifMatch(r *http.Request) int64 {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0
	}
	for _, tag := range strings.Split(h, ",") {
		tag = strings.TrimSpace(tag)
		if strings.HasPrefix(tag, "W/") {
			continue // If-Match compares strongly: a weak tag never matches (RFC 9110 §13.1.1)
		}
		if v, err := strconv.ParseInt(strings.Trim(tag, `"`), 10, 64); err == nil && v > 0 {
			return v
		}
	}
	return -1
}

// notModified answers 304 when If-None-Match names tag.
func notModified(w http.ResponseWriter, r *http.Request, tag string) bool {
	h := r.Header.Get("If-None-Match")
	if h == "" {
		return false
	}
	for _, t := range strings.Split(h, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			w.Header().Set("ETag", tag)
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

// invalidUTF8 is the validation error of a field holding invalid UTF-8.
func invalidUTF8(field string) error {
	name := field
	if name == "" {
		name = "the request body"
	}
	return phonebook.Errorf(phonebook.ECodeValidation, field, "%s is not valid UTF-8", name)
}
