package httpapi

import (
	"net/http"
	"net/netip"
	"strconv"
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
// A client address that failed to authenticate too often is refused (429,
// in the route's own error shape) before its key is even looked up, a
// correct key included: the answer must not tell a guesser it found one.
// Every 401 counts as a failure, also one a handler answers after the key
// was accepted (a bad Ticket Evolution X-Signature).
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
		var ip netip.Addr
		if s.failures != nil {
			ip = s.clients.ClientIP(r)
			if wait, blocked := s.failures.Blocked(ip); blocked {
				w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
				deny(w, r, phonebook.Errorf(phonebook.ECodeRateLimited, "", "too many failed authentications from this address; retry after the time in Retry-After"))
				return
			}
		}
		a, err := s.svc.Authenticate(r.Context(), read(r))
		if err != nil {
			if phonebook.IsCode(err, phonebook.ECodeUnauthorized) {
				s.failures.Fail(ip)
			}
			deny(w, r, err)
			return
		}
		if info, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
			info.tenant, info.keyID = a.Tenant.Slug, a.Key.ID
		}
		if !s.keys.Allow(w.Header(), a.Key.ID) {
			deny(w, r, phonebook.Errorf(phonebook.ECodeRateLimited, "", "too many requests for this API key; retry after the time in Retry-After"))
			return
		}
		if rt.Scope != "" && !a.Key.HasScope(rt.Scope) {
			deny(w, r, phonebook.Errorf(phonebook.ECodeForbidden, "", "this key lacks the %s scope", rt.Scope))
			return
		}
		a.Source = source
		next.ServeHTTP(w, r.WithContext(phonebook.NewContextWithAuth(r.Context(), a)))
		if s.failures != nil && answered(w) == http.StatusUnauthorized {
			s.failures.Fail(ip)
		}
	})
}

// answered is the status a handler wrote to w (0 if none).
func answered(w http.ResponseWriter) int {
	for {
		switch x := w.(type) {
		case *statusWriter:
			return x.status
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return 0
		}
	}
}
