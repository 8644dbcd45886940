// Package crossriver speaks the Cross River COS Customer Management wire
// format (seed page 000): POST /core/v1/cm/customers/{customerId}/phones adds
// one phone to a customer named by its uuid, and answers the phone in Cross
// River's shape; errors are {"Errors":[{"Code":2230,"Message":"..."}]}.
// It only translates: every rule is the domain service's. README.md is the
// protocol as implemented.
package crossriver

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect"
)

// Source names this dialect in the history of changes.
const Source = "crossriver"

// maxBodyBytes caps a request body (the router caps it too; this keeps the
// dialect safe when mounted elsewhere).
const maxBodyBytes = 1 << 20

// numberRules are Cross River's own limits on phoneNumber: "phone number
// with no spaces or other characters, minimum 10, maximum 20".
var numberRules = &phonebook.NumberRules{DigitsOnly: true, MinDigits: 10, MaxDigits: 20}

// Dialect serves the Cross River COS routes over the domain service.
type Dialect struct {
	log *slog.Logger
	svc *phonebook.Service
}

// New returns the Cross River dialect over svc. Only server-side failures
// are logged (never numbers, keys or bodies).
func New(log *slog.Logger, svc *phonebook.Service) *Dialect {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dialect{log: log, svc: svc}
}

// Routes lists the dialect's routes: the seed page's POST, and a GET that
// reads the customer's phones back in the same shape (an extension).
func (d *Dialect) Routes() []dialect.Route {
	deny := func(w http.ResponseWriter, r *http.Request, err error) { writeError(d.log, w, err) }
	const path = "/core/v1/cm/customers/{customerId}/phones"
	return []dialect.Route{
		{
			Method: http.MethodPost, Pattern: path, Scope: phonebook.ScopeCustomersWrite, Source: Source,
			Auth: bearer, Unauthorized: deny, Handler: handlePhoneCreate(d.log, d.svc),
		},
		{
			Method: http.MethodGet, Pattern: path, Scope: phonebook.ScopeCustomersRead, Source: Source,
			Auth: bearer, Unauthorized: deny, Handler: handlePhoneList(d.log, d.svc),
		},
	}
}

// bearer reads the key from Authorization: Bearer <key>.
func bearer(r *http.Request) string {
	scheme, rest, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(rest)
}

// tenant is the caller's tenant. The service has already refused a call
// without one, so it is set whenever a handler gets this far.
func tenant(r *http.Request) *phonebook.Tenant {
	if a := phonebook.AuthFromContext(r.Context()); a != nil && a.Tenant != nil {
		return a.Tenant
	}
	return &phonebook.Tenant{}
}

// customerRef reads {customerId}: Cross River names customers by their
// uuid only; anything else is an unknown customer.
func customerRef(r *http.Request) (phonebook.CustomerRef, error) {
	ref, err := phonebook.ParseCustomerRef(r.PathValue("customerId"))
	if err != nil {
		return phonebook.CustomerRef{}, err
	}
	if ref.UUID == "" {
		return phonebook.CustomerRef{}, phonebook.Errorf(phonebook.ECodeNotFound, "customerId", "customer not found")
	}
	return ref, nil
}

// handlePhoneCreate adds one phone: POST .../customers/{customerId}/phones.
func handlePhoneCreate(log *slog.Logger, svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref, err := customerRef(r)
		if err != nil {
			writeError(log, w, err)
			return
		}
		var req phoneRequest
		if err := decode(w, r, &req); err != nil {
			writeError(log, w, err)
			return
		}
		in, err := req.input()
		if err != nil {
			writeError(log, w, err)
			return
		}
		p, err := addPhone(r, svc, ref, in)
		if err != nil {
			writeError(log, w, err)
			return
		}
		writeJSON(w, http.StatusOK, toWire(p, ref.UUID, tenant(r)))
	})
}

// addPhone calls the service. A digits-only number of more than 10 digits
// that the tenant's region cannot read (e.g. "442071838750" for a US
// tenant) is read once more as an international number with its country
// code in front ("+442071838750"): Cross River numbers carry no "+".
func addPhone(r *http.Request, svc *phonebook.Service, ref phonebook.CustomerRef, in phonebook.PhoneInput) (*phonebook.Phone, error) {
	p, err := svc.AddPhone(r.Context(), ref, in)
	if err == nil || len(in.Number) <= 10 || !numberUnreadable(err) {
		return p, err
	}
	retry := in
	retry.Number = "+" + in.Number
	retry.Rules = nil // the digits already passed the rules; the "+" is ours
	p2, err2 := svc.AddPhone(r.Context(), ref, retry)
	if numberUnreadable(err2) {
		return nil, err // the international reading is no better: report the first
	}
	return p2, err2
}

// numberUnreadable reports whether err says libphonenumber could not read
// the number.
func numberUnreadable(err error) bool {
	for _, e := range phonebook.FieldErrors(err) {
		if e.Code == phonebook.ECodeInvalidNumber && e.Field == "number" {
			return true
		}
	}
	return false
}

// handlePhoneList lists a customer's phones in the same shape (extension:
// the seed page shows only the POST).
func handlePhoneList(log *slog.Logger, svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref, err := customerRef(r)
		if err != nil {
			writeError(log, w, err)
			return
		}
		phones, err := svc.FindPhones(r.Context(), ref)
		if err != nil {
			writeError(log, w, err)
			return
		}
		t := tenant(r)
		out := make([]phoneResponse, 0, len(phones))
		for _, p := range phones {
			out = append(out, toWire(p, ref.UUID, t))
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// decode reads the JSON body of r into v. Any Content-Type is accepted (the
// page's curl example sends form-encoded, its other examples none); unknown
// fields are ignored; field names match in any letter case.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		return malformed("the request body could not be read")
	}
	return decodeBytes(body, v)
}
