// Package ticketevolution serves the phone numbers of Ticket Evolution API
// v9's clients ("Clients / Phone Numbers": create, list, show, update) over
// phonebook's customers. A v9 client_id is the customer's integer id; the
// credential is X-Token, with X-Signature when the key has a signing secret.
// README.md describes the protocol as implemented.
package ticketevolution

import (
	"cmp"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect"
)

// Source names this dialect in the history of changes.
const Source = "ticketevolution"

// maxBodyBytes caps request bodies (the router caps them too).
const maxBodyBytes = 1 << 20

// Dialect is Ticket Evolution API v9's client phone numbers.
type Dialect struct {
	log *slog.Logger
	svc *phonebook.Service
}

// New returns the dialect over svc.
func New(log *slog.Logger, svc *phonebook.Service) *Dialect {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dialect{log: log, svc: svc}
}

// Routes lists the dialect's routes: GET and POST
// /v9/clients/{client_id}/phone_numbers, GET and PUT
// /v9/clients/{client_id}/phone_numbers/{id}.
func (d *Dialect) Routes() []dialect.Route {
	const base = "/v9/clients/{client_id}/phone_numbers"
	route := func(method, pattern, scope string, h http.Handler) dialect.Route {
		return dialect.Route{
			Method: method, Pattern: pattern, Scope: scope, Source: Source, Handler: h,
			Auth: readToken,
			Unauthorized: func(w http.ResponseWriter, r *http.Request, err error) {
				writeError(d.log, w, r, err)
			},
		}
	}
	return []dialect.Route{
		route(http.MethodGet, base, phonebook.ScopeCustomersRead, handleList(d.log, d.svc)),
		route(http.MethodPost, base, phonebook.ScopeCustomersWrite, handleCreate(d.log, d.svc)),
		route(http.MethodGet, base+"/{id}", phonebook.ScopeCustomersRead, handleGet(d.log, d.svc)),
		route(http.MethodPut, base+"/{id}", phonebook.ScopeCustomersWrite, handleUpdate(d.log, d.svc)),
	}
}

// handleCreate adds one or more phone numbers to a client, all or nothing,
// and answers them as one page (201).
func handleCreate(log *slog.Logger, svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r)
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		if err := verifySignature(r, body); err != nil {
			writeError(log, w, r, err)
			return
		}
		ref, err := clientRef(r)
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		reg, err := phoneTypes(r, svc)
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		ins, err := createInputs(body, reg)
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		phones, err := svc.AddPhones(r.Context(), ref, ins)
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		// One page holds every created phone number: per_page grows past
		// the default page size when more were sent.
		writeJSON(w, http.StatusCreated, toPage(1, max(defaultPerPage, len(phones)), len(phones), phones))
	})
}

// handleList answers a page of a client's phone numbers, oldest first.
func handleList(log *slog.Logger, svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := verifySignature(r, nil); err != nil {
			writeError(log, w, r, err)
			return
		}
		ref, err := clientRef(r)
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		page, perPage, err := pageParams(r.URL.Query())
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		phones, err := svc.FindPhones(r.Context(), ref)
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		slices.SortFunc(phones, func(a, b *phonebook.Phone) int { return cmp.Compare(a.ID, b.ID) })
		total := len(phones)
		var shown []*phonebook.Phone
		if pages := (total + perPage - 1) / perPage; page-1 < int64(pages) {
			start := int(page-1) * perPage
			shown = phones[start:min(start+perPage, total)]
		}
		writeJSON(w, http.StatusOK, toPage(int(page), perPage, total, shown))
	})
}

// handleGet answers one phone number, as the object alone.
func handleGet(log *slog.Logger, svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := verifySignature(r, nil); err != nil {
			writeError(log, w, r, err)
			return
		}
		ref, pref, err := phoneRefs(r)
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		p, err := svc.FindPhone(r.Context(), ref, pref)
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toPhoneJSON(p))
	})
}

// handleUpdate changes the members of a phone number the body holds and
// answers the phone number, as the object alone.
func handleUpdate(log *slog.Logger, svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r)
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		if err := verifySignature(r, body); err != nil {
			writeError(log, w, r, err)
			return
		}
		ref, pref, err := phoneRefs(r)
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		var pb phoneBody
		if err := decodeObject(body, &pb); err != nil {
			writeError(log, w, r, err)
			return
		}
		var reg registry
		if len(pb.Label) > 0 { // the label picks the phone type
			if reg, err = phoneTypes(r, svc); err != nil {
				writeError(log, w, r, err)
				return
			}
		}
		upd, err := pb.update(reg)
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		p, err := svc.UpdatePhone(r.Context(), ref, pref, upd, 0)
		if err != nil {
			writeError(log, w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toPhoneJSON(p))
	})
}

// readBody reads the whole body once: the signature covers it as sent.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(codeBodyTooLarge, "", "the request body is larger than %d bytes", maxBodyBytes)
		}
		return nil, errorf(codeMalformedJSON, "", "the request body could not be read")
	}
	return body, nil
}

// clientRef reads {client_id}: a customer's integer id, so at least
// phonebook.FirstCustomerID; anything else is a client not found.
func clientRef(r *http.Request) (phonebook.CustomerRef, error) {
	id, ok := positiveInt(r.PathValue("client_id"))
	if !ok || id < phonebook.FirstCustomerID {
		return phonebook.CustomerRef{}, notFound("Client")
	}
	return phonebook.CustomerRef{ID: id}, nil
}

// phoneRefs reads {client_id} and the phone number's integer {id}.
func phoneRefs(r *http.Request) (ref, pref phonebook.CustomerRef, err error) {
	if ref, err = clientRef(r); err != nil {
		return ref, pref, err
	}
	id, ok := positiveInt(r.PathValue("id"))
	if !ok {
		return ref, pref, notFound("Phone number")
	}
	return ref, phonebook.CustomerRef{ID: id}, nil
}

// pageParams reads page (default 1) and per_page (default 100, at most
// 100).
func pageParams(q url.Values) (page int64, perPage int, err error) {
	page, perPage = 1, defaultPerPage
	var errs phonebook.ValidationErrors
	if q.Has("page") {
		var ok bool
		if page, ok = positiveInt(q.Get("page")); !ok {
			errs = append(errs, errorf(phonebook.ECodeValidation, "page", "page must be a positive integer"))
		}
	}
	if q.Has("per_page") {
		n, ok := positiveInt(q.Get("per_page"))
		if !ok || n > maxPerPage {
			errs = append(errs, errorf(phonebook.ECodeValidation, "per_page", "per_page must be an integer from 1 to %d", maxPerPage))
		}
		perPage = int(n)
	}
	if len(errs) > 0 {
		return 0, 0, errs
	}
	return page, perPage, nil
}

// phoneTypes is the caller's phone type registry, which labels name. A key
// holding customers:write without customers:read may not list it; the
// built-in types stand in for it then.
func phoneTypes(r *http.Request, svc *phonebook.Service) (registry, error) {
	reg := registry{}
	types, err := svc.PhoneTypes(r.Context())
	if phonebook.IsCode(err, phonebook.ECodeForbidden) {
		for _, name := range phonebook.DefaultPhoneTypes {
			reg[name] = true
		}
		return reg, nil
	}
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		reg[t.Name] = true
	}
	return reg, nil
}
