package dialect

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// InvalidUTF8JSON reports whether the JSON document body holds invalid
// UTF-8 and, when it does, the path of the first field whose key or value
// holds it ("name", "records[2].notes"; "" for the top level). Go's
// encoding/json would silently turn each bad byte into U+FFFD, storing
// text the client never sent: every JSON reader checks this first and
// answers a validation error naming the field instead. A body that is not
// JSON at all is left to the decoder to refuse (bad is false).
func InvalidUTF8JSON(body []byte) (field string, bad bool) {
	if utf8.Valid(body) {
		return "", false
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return "", false
	}
	if path, ok := replaced(v, ""); ok {
		return path, true
	}
	return "", true
}

// replaced finds the first string under v (map keys included) holding
// U+FFFD, which is where the decoder put a bad byte.
func replaced(v any, path string) (string, bool) {
	switch x := v.(type) {
	case string:
		return path, strings.ContainsRune(x, utf8.RuneError)
	case []any:
		for i, e := range x {
			if p, ok := replaced(e, path+"["+strconv.Itoa(i)+"]"); ok {
				return p, true
			}
		}
	case map[string]any:
		// Go maps have no order: look at the keys in a stable order so the
		// same body always names the same field.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if strings.ContainsRune(k, utf8.RuneError) {
				return p, true
			}
			if p, ok := replaced(x[k], p); ok {
				return p, true
			}
		}
	}
	return "", false
}

// InvalidUTF8XML reports whether the XML document body holds invalid
// UTF-8 and, when it does, the name of the element it is in (the last one
// opened before the first bad byte).
func InvalidUTF8XML(body []byte) (field string, bad bool) {
	if utf8.Valid(body) {
		return "", false
	}
	at := 0
	for at < len(body) {
		r, n := utf8.DecodeRune(body[at:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		at += n
	}
	before := body[:at]
	for {
		i := bytes.LastIndexByte(before, '<')
		if i < 0 {
			return "", true
		}
		tag := before[i+1:]
		if len(tag) > 0 && tag[0] != '/' && tag[0] != '?' && tag[0] != '!' {
			end := bytes.IndexAny(tag, " \t\r\n/>")
			if end < 0 {
				end = len(tag)
			}
			return string(tag[:end]), true
		}
		before = before[:i]
	}
}
