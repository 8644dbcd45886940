package phonebook

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ConsentRecord is one entry of a tenant's consent ledger: what a number's
// owner agreed to (or revoked), from when, on what evidence, and who wrote
// it down. The ledger is append-only, so the state at any past moment can
// be proved.
type ConsentRecord struct {
	ID         int64     `json:"id"`
	TenantID   int64     `json:"-"`
	E164       string    `json:"e164"`
	Type       string    `json:"type"` // written, express, stop
	Source     string    `json:"source"`
	Evidence   string    `json:"evidence,omitempty"`
	CapturedAt time.Time `json:"captured_at"` // when the consent was given or revoked
	RecordedAt time.Time `json:"recorded_at"` // when phonebook learnt of it
	KeyID      int64     `json:"key_id,omitempty"`
	KeyName    string    `json:"key_name,omitempty"`
	Via        string    `json:"via"` // the API or dialect it came through
}

// ConsentInput records consent for a number.
type ConsentInput struct {
	Type       string
	Source     string
	Evidence   string
	CapturedAt time.Time // zero: now
}

// MaxEvidenceLen bounds the evidence text of a consent record.
const MaxEvidenceLen = 2000

// ConsentState is a number's consent at one moment.
type ConsentState struct {
	E164   string         `json:"e164"`
	At     time.Time      `json:"at"`
	Type   string         `json:"type"` // none when nothing was recorded before At
	Record *ConsentRecord `json:"record"`
}

// RecordConsent appends to the ledger of the caller's tenant and flags the
// number's new state on every phone that holds it.
func (s *Service) RecordConsent(ctx context.Context, number, country string, in ConsentInput) (*ConsentRecord, error) {
	a, err := caller(ctx, ScopeCustomersWrite)
	if err != nil {
		return nil, err
	}
	n, err := s.parse(a.Tenant, number, country, "number")
	if err != nil {
		return nil, err
	}
	now := s.timestamp()
	rec := &ConsentRecord{
		TenantID: a.Tenant.ID, E164: n.E164, Type: in.Type, Source: strings.TrimSpace(in.Source),
		Evidence: in.Evidence, CapturedAt: in.CapturedAt.UTC().Truncate(time.Microsecond), RecordedAt: now, Via: a.Source,
	}
	if in.CapturedAt.IsZero() {
		rec.CapturedAt = now
	}
	if a.Key != nil {
		rec.KeyID, rec.KeyName = a.Key.ID, a.Key.Name
	}
	var errs ValidationErrors
	switch rec.Type {
	case ConsentWritten, ConsentExpress, ConsentStop:
	default:
		errs = append(errs, Errorf(ECodeValidation, "type", "type must be written, express or stop"))
	}
	if utf8.RuneCountInString(rec.Source) > MaxConsentSourceLen || !printable(rec.Source) {
		errs = append(errs, Errorf(ECodeValidation, "source", "source must be printable and at most %d characters", MaxConsentSourceLen))
	}
	if utf8.RuneCountInString(rec.Evidence) > MaxEvidenceLen || !validText(rec.Evidence) || strings.ContainsRune(rec.Evidence, 0) {
		errs = append(errs, Errorf(ECodeValidation, "evidence", "evidence must be at most %d characters", MaxEvidenceLen))
	}
	if rec.CapturedAt.After(now.Add(5 * time.Minute)) {
		errs = append(errs, Errorf(ECodeValidation, "captured_at", "captured_at is in the future"))
	}
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	err = s.write(ctx, func(tx Tx) error {
		r := *rec
		if err := s.appendConsent(ctx, tx, a, &r, nil); err != nil {
			return err
		}
		*rec = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// appendConsent writes rec and, when it is now the number's latest state,
// puts that state on every phone holding the number. locked, when not nil,
// is a customer the caller holds and touches itself.
func (s *Service) appendConsent(ctx context.Context, tx Tx, a *Auth, rec *ConsentRecord, locked *Customer) error {
	if err := tx.AddConsent(ctx, rec); err != nil {
		return err
	}
	latest, err := tx.FindConsentAt(ctx, a.Tenant.ID, rec.E164, farFuture)
	if err != nil {
		return err
	}
	if latest.ID != rec.ID {
		return nil // a back-dated record: the ledger has it, the current state stands
	}
	phones, err := tx.FindPhonesByNumber(ctx, a.Tenant.ID, rec.E164)
	if err != nil {
		return err
	}
	touched := map[int64]*Customer{}
	for _, p := range phones {
		if p.Consent.Type == rec.Type && p.Consent.Source == rec.Source {
			continue
		}
		if locked == nil || p.CustomerID != locked.ID {
			if touched[p.CustomerID] == nil {
				c, err := tx.FindCustomer(ctx, a.Tenant.ID, CustomerRef{ID: p.CustomerID}, true)
				if err != nil {
					return err
				}
				touched[p.CustomerID] = c
			}
		}
		before := *p
		p.Consent = Consent{Type: rec.Type, Source: rec.Source, UpdatedAt: &rec.RecordedAt}
		p.Version++
		p.UpdatedAt = rec.RecordedAt
		if err := tx.UpdatePhone(ctx, p); err != nil {
			return err
		}
		if err := tx.AddEvent(ctx, s.event(a, EventConsentChanged, p.CustomerID, p.ID, before.Consent, p.Consent)); err != nil {
			return err
		}
	}
	for _, c := range touched {
		if err := s.touch(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}

// phoneConsent writes p's consent, set by a client on one phone, to the
// number's ledger (consent is per number): every other phone holding the
// number follows.
func (s *Service) phoneConsent(ctx context.Context, tx Tx, a *Auth, p *Phone, c *Customer) error {
	switch p.Consent.Type {
	case ConsentWritten, ConsentExpress, ConsentStop:
	default:
		return nil
	}
	now := s.timestamp()
	rec := &ConsentRecord{TenantID: a.Tenant.ID, E164: p.E164, Type: p.Consent.Type, Source: p.Consent.Source,
		CapturedAt: now, RecordedAt: now, Via: a.Source}
	if a.Key != nil {
		rec.KeyID, rec.KeyName = a.Key.ID, a.Key.Name
	}
	return s.appendConsent(ctx, tx, a, rec, c)
}

// inheritConsent gives a new phone (asking for no consent) the current
// state of its number: a number that said STOP stays stopped wherever it
// is added.
func (s *Service) inheritConsent(ctx context.Context, tx Tx, a *Auth, p *Phone) error {
	if p.Consent.Type != ConsentNone {
		return nil
	}
	rec, err := tx.FindConsentAt(ctx, a.Tenant.ID, p.E164, farFuture)
	if IsCode(err, ECodeNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	p.Consent = Consent{Type: rec.Type, Source: rec.Source, UpdatedAt: &rec.RecordedAt}
	return nil
}

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// ConsentAt answers a number's consent at moment at (now when zero).
func (s *Service) ConsentAt(ctx context.Context, number, country string, at time.Time) (*ConsentState, error) {
	a, err := caller(ctx, ScopeCustomersRead)
	if err != nil {
		return nil, err
	}
	n, err := s.parse(a.Tenant, number, country, "number")
	if err != nil {
		return nil, err
	}
	if at.IsZero() {
		at = s.timestamp()
	}
	st := &ConsentState{E164: n.E164, At: at.UTC(), Type: ConsentNone}
	err = s.read(ctx, func(tx Tx) error {
		rec, err := tx.FindConsentAt(ctx, a.Tenant.ID, n.E164, at)
		if IsCode(err, ECodeNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		st.Type, st.Record = rec.Type, rec
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// ConsentHistory lists a number's ledger, oldest capture first.
func (s *Service) ConsentHistory(ctx context.Context, number, country string) ([]*ConsentRecord, error) {
	a, err := caller(ctx, ScopeCustomersRead)
	if err != nil {
		return nil, err
	}
	n, err := s.parse(a.Tenant, number, country, "number")
	if err != nil {
		return nil, err
	}
	var out []*ConsentRecord
	err = s.read(ctx, func(tx Tx) (err error) {
		out, err = tx.FindConsentHistory(ctx, a.Tenant.ID, n.E164)
		return err
	})
	return out, err
}

// Opt-out and opt-in keywords of inbound SMS (CTIA's standard set).
var (
	stopKeywords  = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
	startKeywords = []string{"START", "UNSTOP"}
)

// InboundResult says what an inbound SMS did.
type InboundResult struct {
	E164    string         `json:"e164"`
	Keyword string         `json:"keyword,omitempty"` // the keyword recognised, upper case
	Action  string         `json:"action"`            // stop, express, or none
	Record  *ConsentRecord `json:"record,omitempty"`
	Phones  int            `json:"phones"` // phones of the tenant holding the number
}

// SMSKeyword returns the consent an SMS body asks for: stop, express, or
// "" when it holds no keyword. The keyword must be the whole message, or
// its first word, in any case, with trailing punctuation ignored.
func SMSKeyword(body string) (keyword, action string) {
	fields := strings.FieldsFunc(strings.ToUpper(body), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r)
	})
	if len(fields) == 0 {
		return "", ""
	}
	w := fields[0]
	for _, k := range stopKeywords {
		if w == k {
			return k, ConsentStop
		}
	}
	for _, k := range startKeywords {
		if w == k {
			return k, ConsentExpress
		}
	}
	return "", ""
}

// InboundSMS applies an SMS received from number: an opt-out or opt-in
// keyword is recorded in the ledger and flagged on every phone holding the
// number, across all customers of the caller's tenant.
func (s *Service) InboundSMS(ctx context.Context, from, body string) (*InboundResult, error) {
	a, err := caller(ctx, ScopeCustomersWrite)
	if err != nil {
		return nil, err
	}
	n, err := s.parse(a.Tenant, from, "", "from")
	if err != nil {
		return nil, err
	}
	if len(body) > 2000 {
		return nil, Errorf(ECodeValidation, "body", "body is longer than 2000 bytes")
	}
	res := &InboundResult{E164: n.E164, Action: "none"}
	kw, action := SMSKeyword(body)
	if action != "" {
		res.Keyword, res.Action = kw, action
		// The message is the evidence: keep the keyword, not the text,
		// which may hold anything.
		res.Record, err = s.RecordConsent(ctx, n.E164, "", ConsentInput{Type: action, Source: "inbound_sms", Evidence: "SMS keyword " + kw})
		if err != nil {
			return nil, err
		}
	}
	err = s.read(ctx, func(tx Tx) error {
		phones, err := tx.FindPhonesByNumber(ctx, a.Tenant.ID, n.E164)
		res.Phones = len(phones)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// History lists the changes of a customer (phoneRef nil) or of one of its
// phones, oldest first, after seq afterSeq.
func (s *Service) History(ctx context.Context, ref CustomerRef, phoneRef *CustomerRef, afterSeq int64, limit int) ([]*Event, error) {
	a, err := caller(ctx, ScopeCustomersRead)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultPageLimit
	}
	if limit > MaxPageLimit {
		return nil, Errorf(ECodeValidation, "limit", "limit must be between 1 and %d", MaxPageLimit)
	}
	var out []*Event
	err = s.read(ctx, func(tx Tx) error {
		c, err := tx.FindCustomer(ctx, a.Tenant.ID, ref, false)
		if err != nil {
			return err
		}
		var phoneID int64
		if phoneRef != nil {
			p, err := tx.FindPhone(ctx, a.Tenant.ID, c.ID, *phoneRef)
			switch {
			case err == nil:
				phoneID = p.ID
			case IsCode(err, ECodeNotFound) && phoneRef.ID != 0:
				phoneID = phoneRef.ID // a deleted phone keeps its history
			default:
				return err
			}
		}
		out, err = tx.FindHistory(ctx, a.Tenant.ID, c.ID, phoneID, afterSeq, limit)
		if err != nil {
			return err
		}
		if phoneRef != nil && len(out) == 0 && afterSeq == 0 {
			return Errorf(ECodeNotFound, "phoneId", "phone not found")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
