// Package rambase is the RamBase Collaboration API dialect (seed 002): a
// contact's phones added with POST and changed with PUT, in XML (RamBase's
// default), JSON or HTML, with RamBase's numbered errors. See README.md.
package rambase

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect"
)

// Source names this dialect in the history of changes.
const Source = "rambase"

// Route patterns.
const (
	phonesPattern = "/collaboration/contacts/{contactId}/phones"
	phonePattern  = "/collaboration/contacts/{contactId}/phones/{phoneId}"
)

// Dialect serves the RamBase Collaboration API routes.
type Dialect struct {
	log *slog.Logger
	svc *phonebook.Service
}

// New returns the RamBase dialect over svc.
func New(log *slog.Logger, svc *phonebook.Service) *Dialect {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dialect{log: log, svc: svc}
}

// Routes lists the dialect's routes: POST adds a phone (201), PUT changes
// the fields given (200).
func (d *Dialect) Routes() []dialect.Route {
	return []dialect.Route{
		{
			Method: http.MethodPost, Pattern: phonesPattern, Scope: phonebook.ScopeCustomersWrite, Source: Source,
			Auth: credential, Unauthorized: d.unauthorized, Handler: d.handleCreate(),
		},
		{
			Method: http.MethodPut, Pattern: phonePattern, Scope: phonebook.ScopeCustomersWrite, Source: Source,
			Auth: credential, Unauthorized: d.unauthorized, Handler: d.handleUpdate(),
		},
	}
}

// credential reads the access token: the $access_token query parameter
// first, else Authorization: Bearer.
func credential(r *http.Request) string {
	if v := strings.TrimSpace(r.URL.Query().Get("$access_token")); v != "" {
		return v
	}
	scheme, rest, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(rest)
	}
	return ""
}

// unauthorized answers a missing or bad token (401), a token without the
// route's scope (403), or a store failure while checking the token, in
// the format the request asked for.
func (d *Dialect) unauthorized(w http.ResponseWriter, r *http.Request, err error) {
	f, _ := responseFormat(r)
	d.writeError(w, r, f, err)
}

// prelude reads what every route shares: the response format, $db (must
// name the token's tenant) and $useMinimumVersion (an integer, otherwise
// ignored). Other query parameters, $-prefixed or not, are ignored.
func prelude(r *http.Request) (format, error) {
	f, err := responseFormat(r)
	if err != nil {
		return f, err
	}
	q := r.URL.Query()
	if q.Has("$db") {
		a := phonebook.AuthFromContext(r.Context())
		if a == nil || a.Tenant == nil || !strings.EqualFold(strings.TrimSpace(q.Get("$db")), a.Tenant.Slug) {
			return f, fail(keyDatabase, "$db")
		}
	}
	if q.Has("$useMinimumVersion") {
		if _, err := strconv.ParseInt(strings.TrimSpace(q.Get("$useMinimumVersion")), 10, 32); err != nil {
			return f, fail(keyMinimumVersion, "$useMinimumVersion")
		}
	}
	return f, nil
}

// pathID reads an integer path parameter of at least min.
func pathID(r *http.Request, name string, min int64, key string) (int64, error) {
	s := r.PathValue(name)
	if s == "" || len(s) > 19 {
		return 0, fail(key, name)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fail(key, name)
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < min {
		return 0, fail(key, name)
	}
	return id, nil
}

func phoneLocation(p *phonebook.Phone) string {
	return "/collaboration/contacts/" + strconv.FormatInt(p.CustomerID, 10) + "/phones/" + strconv.FormatInt(p.ID, 10)
}

// handleCreate serves POST /collaboration/contacts/{contactId}/phones.
func (d *Dialect) handleCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := prelude(r)
		if err != nil {
			d.writeError(w, r, f, err)
			return
		}
		contactID, err := pathID(r, "contactId", phonebook.FirstCustomerID, keyContactID)
		if err != nil {
			d.writeError(w, r, f, err)
			return
		}
		body, err := readPhone(r)
		if err != nil {
			d.writeError(w, r, f, err)
			return
		}
		in, err := body.input()
		if err != nil {
			d.writeError(w, r, f, err)
			return
		}
		p, err := d.svc.AddPhone(r.Context(), phonebook.CustomerRef{ID: contactID}, in)
		if err != nil {
			d.writeError(w, r, f, err)
			return
		}
		w.Header().Set("Location", phoneLocation(p))
		writePhone(w, f, http.StatusCreated, p)
	})
}

// handleUpdate serves PUT /collaboration/contacts/{contactId}/phones/{phoneId}:
// every field is optional and only the fields given change.
func (d *Dialect) handleUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := prelude(r)
		if err != nil {
			d.writeError(w, r, f, err)
			return
		}
		contactID, err := pathID(r, "contactId", phonebook.FirstCustomerID, keyContactID)
		if err != nil {
			d.writeError(w, r, f, err)
			return
		}
		phoneID, err := pathID(r, "phoneId", 1, keyPhoneID)
		if err != nil {
			d.writeError(w, r, f, err)
			return
		}
		body, err := readPhone(r)
		if err != nil {
			d.writeError(w, r, f, err)
			return
		}
		p, err := d.svc.UpdatePhone(r.Context(), phonebook.CustomerRef{ID: contactID}, phonebook.CustomerRef{ID: phoneID}, body.update(), 0)
		if err != nil {
			d.writeError(w, r, f, err)
			return
		}
		writePhone(w, f, http.StatusOK, p)
	})
}
