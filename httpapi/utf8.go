package httpapi

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/phonebook/phonebook"
)

// checkUTF8 refuses a request whose query parameters or path values hold
// invalid UTF-8 (validation, naming the parameter), in the route's own
// error shape: a name searched for, an external id or a number in a path
// must be text, not bytes the store would keep or compare as they come.
// JSON and XML bodies are checked where they are decoded.
func checkUTF8(rt Route, next http.Handler) http.Handler {
	deny := rt.Unauthorized
	if deny == nil {
		deny = writeError
	}
	wildcards := patternWildcards(rt.Pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, name := range wildcards {
			if !utf8.ValidString(r.PathValue(name)) {
				deny(w, r, phonebook.Errorf(phonebook.ECodeValidation, name, "%s is not valid UTF-8", name))
				return
			}
		}
		if r.URL.RawQuery != "" {
			for name, values := range r.URL.Query() {
				field := name
				if !utf8.ValidString(name) {
					field = "query"
				}
				for _, v := range append(values, name) {
					if !utf8.ValidString(v) {
						deny(w, r, phonebook.Errorf(phonebook.ECodeValidation, field, "%s is not valid UTF-8", field))
						return
					}
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// patternWildcards lists the names of the wildcards of a Go 1.22 pattern:
// "/v1/customers/{id}/phones/{phoneId}" → id, phoneId.
func patternWildcards(pattern string) []string {
	var out []string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return out
		}
		name := strings.TrimSuffix(pattern[i+1:i+j], "...")
		if name != "$" {
			out = append(out, name)
		}
		pattern = pattern[i+j+1:]
	}
}
