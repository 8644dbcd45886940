// Package relay is the Relay CDM dialect (seed 003): a client adds a phone
// number to, or removes one from, a customer it names by its own ccid,
// under a client_id that is the tenant's slug.
//
//	PUT /platform/v3/api/cdm/client/{client_id}/customer/{ccid}/add_phone/{phone_number}
//	PUT /platform/v3/api/cdm/client/{client_id}/customer/{ccid}/remove_phone/{phone_number}
//
// (POST is served on both paths too.) A client also sets the consent of a
// number, for every customer holding it, in the tenant's consent ledger:
//
//	PUT /platform/v3/api/messaging/client/{client_id}/consent/channel_addr/{addr}/channel_type/sms
//
// The key is read from the xx-relay-api-key header; every answer is JSON
// {"message": "..."}. The package only translates: the rules (10-11
// digits, the 50 × 50 limits, duplicates, consent values) are the
// domain's, handed the Relay limits as phonebook.NumberRules (except on the
// consent route, whose domain call takes none: see checkAddr).
package relay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect"
)

// Source names this dialect in the history of changes, and is the consent
// source recorded when a client gives no client_source (Relay's "internal
// source").
const Source = "relay"

// HeaderAPIKey is the header Relay clients send their API key in.
const HeaderAPIKey = "xx-relay-api-key"

// Route patterns (Go 1.22), full paths.
const (
	basePath      = "/platform/v3/api/cdm/client/{client_id}/customer/{ccid}"
	AddPattern    = basePath + "/add_phone/{phone_number}"
	RemovePattern = basePath + "/remove_phone/{phone_number}"
	// ConsentPattern sets the consent of a number (channel_addr) in the
	// tenant's ledger.
	ConsentPattern = "/platform/v3/api/messaging/client/{client_id}/consent/channel_addr/{addr}/channel_type/sms"
)

// maxBodyBytes is the router's cap, repeated so the dialect holds it even
// when mounted on its own.
const maxBodyBytes = 1 << 20

// numberRules are Relay's limits on phone_number: 10 to 11 digits, nothing
// else.
var numberRules = &phonebook.NumberRules{DigitsOnly: true, MinDigits: 10, MaxDigits: 11}

// Dialect serves the Relay CDM routes over the domain service.
type Dialect struct {
	log *slog.Logger
	svc *phonebook.Service
}

// New returns the Relay dialect over svc. log receives internal errors only
// (never numbers, keys or bodies).
func New(log *slog.Logger, svc *phonebook.Service) *Dialect {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dialect{log: log, svc: svc}
}

// Routes lists the dialect's routes: add_phone and remove_phone, each on
// PUT (DESIGN §4) and POST (the seed README), and the consent route (PUT).
func (d *Dialect) Routes() []dialect.Route {
	add, remove := d.handleAddPhone(), d.handleRemovePhone()
	route := func(method, pattern string, h http.Handler) dialect.Route {
		return dialect.Route{
			Method: method, Pattern: pattern, Handler: h,
			Scope:        phonebook.ScopeCustomersWrite,
			Source:       Source,
			Auth:         apiKey,
			Unauthorized: d.unauthorized,
		}
	}
	return []dialect.Route{
		route(http.MethodPut, AddPattern, add),
		route(http.MethodPost, AddPattern, add),
		route(http.MethodPut, RemovePattern, remove),
		route(http.MethodPost, RemovePattern, remove),
		route(http.MethodPut, ConsentPattern, d.handleConsent()),
	}
}

// apiKey reads the caller's key from Relay's header.
func apiKey(r *http.Request) string {
	return strings.TrimSpace(r.Header.Get(HeaderAPIKey))
}

// unauthorized answers a missing, bad or under-scoped key (and a store
// failure met while checking it) in Relay's shape.
func (d *Dialect) unauthorized(w http.ResponseWriter, r *http.Request, err error) {
	d.writeError(w, r, &call{}, err)
}

// call is what one request names, for the messages of its answers.
type call struct {
	clientID string
	ccid     string
	number   string // phone_number (channel_addr) as in the path
	tenant   *phonebook.Tenant
}

// client reads client_id (and number, the path segment named numberParam)
// from r and checks client_id against the caller's tenant: another
// tenant's slug and an unknown one are both "not found".
func client(r *http.Request, numberParam string) (*call, error) {
	c := &call{clientID: r.PathValue("client_id"), number: r.PathValue(numberParam)}
	if a := phonebook.AuthFromContext(r.Context()); a != nil {
		c.tenant = a.Tenant
	}
	if c.tenant == nil || c.clientID != c.tenant.Slug {
		return c, phonebook.Errorf(phonebook.ECodeNotFound, "client_id", "client not found")
	}
	return c, nil
}

// target reads the path of an add_phone or remove_phone call: the client
// (see client) and the ccid.
func target(r *http.Request) (*call, error) {
	c, err := client(r, "phone_number")
	c.ccid = r.PathValue("ccid")
	if err != nil {
		return c, err
	}
	if utf8.RuneCountInString(c.ccid) > phonebook.MaxExternalIDLen {
		return c, phonebook.Errorf(phonebook.ECodeValidation, "external_id", "ccid must be at most %d characters", phonebook.MaxExternalIDLen)
	}
	if c.ccid == "" {
		return c, phonebook.Errorf(phonebook.ECodeNotFound, "", "customer not found")
	}
	return c, nil
}

// ref is the customer the call names: its external_id is the ccid.
func (c *call) ref() phonebook.CustomerRef {
	return phonebook.CustomerRef{ExternalID: c.ccid}
}

// readBody reads the optional JSON body of r (the same fields for every
// route). An empty body is no body.
func readBody(w http.ResponseWriter, r *http.Request) (*addPhoneRequest, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return nil, phonebook.Errorf(codeBodyTooLarge, "", "request body is larger than %d bytes", mbe.Limit)
		}
		return nil, phonebook.Errorf(phonebook.ECodeValidation, "", "request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &addPhoneRequest{}, nil
	}
	return decodeAddPhone(body)
}

// readRemoveBody reads the optional body of remove_phone (see
// decodeRemovePhone); an empty body is no body.
func readRemoveBody(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return phonebook.Errorf(codeBodyTooLarge, "", "request body is larger than %d bytes", mbe.Limit)
		}
		return phonebook.Errorf(phonebook.ECodeValidation, "", "request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return decodeRemovePhone(body)
}

// handleAddPhone adds phone_number to the customer named by ccid.
func (d *Dialect) handleAddPhone() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := target(r)
		if err != nil {
			d.writeError(w, r, c, err)
			return
		}
		req, err := readBody(w, r)
		if err != nil {
			d.writeError(w, r, c, err)
			return
		}
		in, err := req.phoneInput(c.number)
		if err != nil {
			d.writeError(w, r, c, err)
			return
		}
		if _, err := d.svc.AddPhone(r.Context(), c.ref(), in); err != nil {
			d.writeError(w, r, c, err)
			return
		}
		writeMessage(w, http.StatusOK, successMessage("added to", c.number, c.ccid, c.clientID))
	})
}

// handleRemovePhone removes every phone of the customer holding
// phone_number (whatever its extension). The optional body holds only
// client_source, as Relay's "remove phone number" reference documents it
// (see decodeRemovePhone). phone_number is read with Relay's default
// country code, 1.
func (d *Dialect) handleRemovePhone() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := target(r)
		if err != nil {
			d.writeError(w, r, c, err)
			return
		}
		if err := readRemoveBody(w, r); err != nil {
			d.writeError(w, r, c, err)
			return
		}
		if _, err := d.svc.RemoveNumber(r.Context(), c.ref(), c.number, defaultCountryCode, numberRules); err != nil {
			d.writeError(w, r, c, err)
			return
		}
		writeMessage(w, http.StatusOK, successMessage("removed from", c.number, c.ccid, c.clientID))
	})
}

// handleConsent records consent_type for the number channel_addr in the
// tenant's consent ledger; the domain flags the new state on every phone
// of every customer holding the number. The body is that of add_phone:
// consent_type (required), client_source and country_code; other fields
// are ignored.
func (d *Dialect) handleConsent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := client(r, "addr")
		if err != nil {
			d.writeError(w, r, c, err)
			return
		}
		req, err := readBody(w, r)
		if err != nil {
			d.writeError(w, r, c, err)
			return
		}
		country, in, err := req.consentInput(c.number)
		if err != nil {
			d.writeError(w, r, c, consentFields(err))
			return
		}
		if _, err := d.svc.RecordConsent(r.Context(), c.number, country, in); err != nil {
			d.writeError(w, r, c, consentFields(err))
			return
		}
		writeMessage(w, http.StatusOK, fmt.Sprintf("Consent for channel_addr %s has been set to %s", c.number, in.Type))
	})
}
