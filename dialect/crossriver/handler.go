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
	"sort"
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
		typeErrs, err := shapeErrors(decode(w, r, &req))
		if err != nil {
			writeError(log, w, err)
			return
		}
		in, errs := req.input(typeErrs)
		if len(errs) > 0 {
			// Some fields are wrong already: the domain checks the others
			// (lengths, the number, the extension) without writing, so that
			// one answer lists every problem.
			writeError(log, w, withDomainErrors(errs, checkPhone(r, svc, in)))
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

// checkPhone validates in as addPhone would, without writing, reading a
// long number once more as international when the tenant's region cannot.
func checkPhone(r *http.Request, svc *phonebook.Service, in phonebook.PhoneInput) error {
	err := svc.CheckPhoneInput(r.Context(), in)
	if err == nil || len(in.Number) <= 10 || !numberUnreadable(err) {
		return err
	}
	retry := in
	retry.Number = "+" + in.Number
	retry.Rules = nil
	if err2 := svc.CheckPhoneInput(r.Context(), retry); !numberUnreadable(err2) {
		return err2
	}
	return err
}

// shapeErrors splits what decode returned: field errors of a readable
// object (the request goes on, to find the other problems), or an error
// that ends the request.
func shapeErrors(err error) (phonebook.ValidationErrors, error) {
	if err == nil {
		return nil, nil
	}
	var v phonebook.ValidationErrors
	if errors.As(err, &v) {
		return v, nil
	}
	return nil, err
}

// withDomainErrors adds to errs the domain's field errors in derr on
// fields errs does not name already, in the order of the page's fields.
func withDomainErrors(errs phonebook.ValidationErrors, derr error) phonebook.ValidationErrors {
	named := map[string]bool{}
	for _, e := range errs {
		named[e.Field] = true
	}
	for _, e := range phonebook.FieldErrors(derr) {
		switch e.Code {
		case phonebook.ECodeValidation, phonebook.ECodeInvalidNumber, phonebook.ECodeTypeUnknown:
		default:
			continue // not a field's problem: the request is refused for its fields
		}
		if e.Field == "" || named[e.Field] {
			continue
		}
		named[e.Field] = true
		errs = append(errs, e)
	}
	sort.SliceStable(errs, func(i, j int) bool { return fieldOrder(errs[i].Field) < fieldOrder(errs[j].Field) })
	return errs
}

// fieldOrder ranks a domain field by its Cross River code (the page's
// order of fields); other fields come last.
func fieldOrder(field string) int {
	if f, ok := fieldCodes[field]; ok {
		return f.Code
	}
	return 1999
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

// decode reads the JSON body of r into req. Any Content-Type is accepted
// (the page's curl example sends form-encoded, its other examples none);
// unknown fields are ignored; field names match in any letter case.
func decode(w http.ResponseWriter, r *http.Request, req *phoneRequest) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		return malformed("the request body could not be read")
	}
	return decodeBytes(body, req)
}
