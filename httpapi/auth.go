package httpapi

import (
	"net/http"
	"strings"

	"github.com/phonebook/phonebook"
)

// bearerOrAPIKey reads the native credential: Authorization: Bearer <key>
// or X-API-Key: <key>.
func bearerOrAPIKey(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(rest)
		}
		return ""
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key"))
}

// authenticate puts the caller of rt's credential in the request context,
// refusing a missing or bad key (401) and a key without rt.Scope (403).
func (s *Server) authenticate(rt Route, next http.Handler) http.Handler {
	read := rt.Auth
	if read == nil {
		read = bearerOrAPIKey
	}
	deny := rt.Unauthorized
	if deny == nil {
		deny = writeError
	}
	source := rt.Source
	if source == "" {
		source = "v1"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.svc.Authenticate(r.Context(), read(r))
		if err != nil {
			deny(w, r, err)
			return
		}
		if info, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
			info.tenant, info.keyID = a.Tenant.Slug, a.Key.ID
		}
		if !s.limiter.allow(w, a.Key.ID) {
			writeError(w, r, httpError(codeRateLimited, "", "too many requests for this API key; retry after the time in Retry-After"))
			return
		}
		if rt.Scope != "" && !a.Key.HasScope(rt.Scope) {
			deny(w, r, phonebook.Errorf(phonebook.ECodeForbidden, "", "this key lacks the %s scope", rt.Scope))
			return
		}
		a.Source = source
		next.ServeHTTP(w, r.WithContext(phonebook.NewContextWithAuth(r.Context(), a)))
	})
}
