package phonebook

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/phonebook/phonebook/phone"
)

// parse reads number for tenant t (rule 4: always through libphonenumber).
// country overrides the tenant's default region. field names the input in
// errors.
func (s *Service) parse(t *Tenant, number, country, field string) (*phone.Number, error) {
	number = strings.TrimSpace(number)
	if number == "" {
		return nil, Errorf(ECodeValidation, field, "%s is required", field)
	}
	if len(number) > MaxRawLen || !printable(number) {
		return nil, Errorf(ECodeInvalidNumber, field, "%s is not a phone number", field)
	}
	if country == "" {
		country = t.DefaultRegion
	} else if !phone.ValidCountry(country) {
		return nil, Errorf(ECodeValidation, "country_code", "unknown country or calling code %q", country)
	}
	n, err := phone.Parse(number, country)
	if err != nil {
		return nil, &Error{Code: ECodeInvalidNumber, Field: field, Message: field + " is not a phone number", Err: err}
	}
	if !n.Possible {
		return nil, Errorf(ECodeInvalidNumber, field, "%s has the wrong length for a number of +%d", field, n.CountryCode)
	}
	if t.StrictNumbers && !n.Valid {
		return nil, Errorf(ECodeInvalidNumber, field, "%s is not a valid number (this tenant accepts only valid numbers)", field)
	}
	return n, nil
}

// NormalizeNumber returns the E.164 form of number as the caller's tenant
// reads it (for lookups and filters).
func (s *Service) NormalizeNumber(ctx context.Context, number, country string) (*phone.Number, error) {
	a, err := caller(ctx, ScopeCustomersRead)
	if err != nil {
		return nil, err
	}
	return s.parse(a.Tenant, number, country, "number")
}

func validExtension(ext string) error {
	if utf8.RuneCountInString(ext) > MaxExtensionLen {
		return Errorf(ECodeValidation, "extension", "extension is longer than %d characters", MaxExtensionLen)
	}
	for _, r := range ext {
		if r < '0' || r > '9' {
			return Errorf(ECodeValidation, "extension", "extension must be digits only")
		}
	}
	return nil
}

// setNumber reads number into p. An explicit extension wins over one
// written inside the number.
func (s *Service) setNumber(t *Tenant, p *Phone, number, country, ext string) error {
	n, err := s.parse(t, number, country, "number")
	if err != nil {
		return err
	}
	ext = strings.TrimSpace(ext)
	if ext == "" {
		ext = n.Extension
	}
	if err := validExtension(ext); err != nil {
		return err
	}
	p.Raw = strings.TrimSpace(number)
	p.E164, p.CountryCode, p.NationalNumber = n.E164, n.CountryCode, n.NationalNumber
	p.National, p.International, p.Region = n.National, n.International, n.Region
	p.LineType, p.Valid, p.Extension = n.LineType, n.Valid, ext
	return nil
}

// applyLineKind lets a client's declared line kind fill what libphonenumber
// could not tell.
func applyLineKind(p *Phone, kind string) {
	if p.LineType != "fixed_line_or_mobile" && p.LineType != "unknown" {
		return
	}
	switch kind {
	case LineMobile:
		p.LineType = "mobile"
	case LineLandline:
		p.LineType = "fixed_line"
	}
}

// phoneFields validates the free-form fields shared by create and update.
type phoneFields struct {
	Type, Label, Notes, Status, LineKind, ConsentType, ConsentSource *string
}

func (f phoneFields) validate() error {
	var errs ValidationErrors
	if f.Type != nil {
		*f.Type = NormalizeTypeName(*f.Type)
		if *f.Type == "" {
			errs = append(errs, Errorf(ECodeValidation, "type", "type must not be empty"))
		} else if utf8.RuneCountInString(*f.Type) > MaxPhoneTypeLen || !printable(*f.Type) {
			errs = append(errs, Errorf(ECodeTypeUnknown, "type", "unknown phone type"))
		}
	}
	if f.Label != nil {
		*f.Label = strings.TrimSpace(*f.Label)
		if utf8.RuneCountInString(*f.Label) > MaxLabelLen || !printable(*f.Label) {
			errs = append(errs, Errorf(ECodeValidation, "label", "label must be printable and at most %d characters", MaxLabelLen))
		}
	}
	if f.Notes != nil {
		if utf8.RuneCountInString(*f.Notes) > MaxNotesLen || !validText(*f.Notes) || strings.ContainsRune(*f.Notes, 0) {
			errs = append(errs, Errorf(ECodeValidation, "notes", "notes must be at most %d characters", MaxNotesLen))
		}
	}
	if f.Status != nil && *f.Status != StatusActive && *f.Status != StatusInactive {
		errs = append(errs, Errorf(ECodeValidation, "status", "status must be active or inactive"))
	}
	if f.LineKind != nil {
		switch *f.LineKind {
		case "", LineMobile, LineLandline, LineUnknown:
		default:
			errs = append(errs, Errorf(ECodeValidation, "line_kind", "line kind must be mobile, landline or unknown"))
		}
	}
	if f.ConsentType != nil {
		switch *f.ConsentType {
		case ConsentNone, ConsentWritten, ConsentExpress, ConsentStop:
		default:
			errs = append(errs, Errorf(ECodeValidation, "consent.type", "consent type must be written, express, stop or none"))
		}
	}
	if f.ConsentSource != nil {
		if utf8.RuneCountInString(*f.ConsentSource) > MaxConsentSourceLen || !printable(*f.ConsentSource) {
			errs = append(errs, Errorf(ECodeValidation, "consent.source", "consent source must be printable and at most %d characters", MaxConsentSourceLen))
		}
	}
	return errs.orNil()
}

// newPhone validates in and builds the phone it describes for customer c.
func (s *Service) newPhone(t *Tenant, in PhoneInput) (*Phone, error) {
	if in.Type == "" {
		in.Type = "other"
	}
	if in.Status == "" {
		in.Status = StatusActive
	}
	if in.ConsentType == "" {
		in.ConsentType = ConsentNone
	}
	var errs ValidationErrors
	p := &Phone{TenantID: t.ID}
	numberOK := false
	if err := in.Rules.check(strings.TrimSpace(in.Number), "number"); err != nil {
		errs = append(errs, err.(*Error))
	} else if err := s.setNumber(t, p, in.Number, in.Country, in.Extension); err != nil {
		errs = append(errs, FieldErrors(err)...)
	} else {
		numberOK = true
	}
	if !numberOK && !hasFieldError(errs, "extension") {
		// A number that cannot be read must not hide a bad extension: a
		// client with several wrong fields hears of all of them at once.
		if err := validExtension(strings.TrimSpace(in.Extension)); err != nil {
			errs = append(errs, err.(*Error))
		}
	}
	f := phoneFields{&in.Type, &in.Label, &in.Notes, &in.Status, &in.LineKind, &in.ConsentType, &in.ConsentSource}
	if err := f.validate(); err != nil {
		errs = append(errs, FieldErrors(err)...)
	}
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	now := s.timestamp()
	p.Type, p.Label, p.Notes, p.Status = in.Type, in.Label, in.Notes, in.Status
	p.IsPrimary = in.IsPrimary
	p.Consent = Consent{Type: in.ConsentType, Source: in.ConsentSource}
	if in.ConsentType != ConsentNone || in.ConsentSource != "" {
		p.Consent.UpdatedAt = &now
	}
	applyLineKind(p, in.LineKind)
	p.CreatedAt, p.UpdatedAt, p.Version = now, now, 1
	return p, nil
}

// hasFieldError reports whether errs holds an error on field.
func hasFieldError(errs ValidationErrors, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

// CheckPhoneInput validates in as AddPhone would, without reading or
// writing the store: every field error at once (validation,
// invalid_number, type_unknown), or nil. A dialect that has already found
// some fields of a request wrong calls it to report the others in the same
// answer. Errors: unauthorized, forbidden, validation, invalid_number,
// type_unknown.
func (s *Service) CheckPhoneInput(ctx context.Context, in PhoneInput) error {
	a, err := caller(ctx, ScopeCustomersWrite)
	if err != nil {
		return err
	}
	_, err = s.newPhone(a.Tenant, in)
	return err
}

// AddPhone adds a phone to a customer of the caller's tenant, holding rules
// 1-3: the first phone (or one asked to be) is the primary, a number is
// held once per customer, and both limits.
func (s *Service) AddPhone(ctx context.Context, ref CustomerRef, in PhoneInput) (*Phone, error) {
	a, err := caller(ctx, ScopeCustomersWrite)
	if err != nil {
		return nil, err
	}
	p, err := s.newPhone(a.Tenant, in)
	if err != nil {
		return nil, err
	}
	err = s.write(ctx, func(tx Tx) error {
		c, err := tx.FindCustomer(ctx, a.Tenant.ID, ref, true)
		if err != nil {
			return err
		}
		phones, err := s.phonesForAdd(ctx, tx, a.Tenant.ID, c.ID, p.IsPrimary)
		if err != nil {
			return err
		}
		q := *p // fn may run again: start from the validated phone each time
		if _, err := s.insertPhone(ctx, tx, a, c, &q, phones, nil); err != nil {
			return err
		}
		*p = q
		return s.touch(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// AddPhones adds several phones to one customer, all or nothing (Ticket
// Evolution's create). On failure the error's field is prefixed with the
// failing input's index: "phone_numbers[2].number" style is up to the
// caller, the index is returned in BatchError.
func (s *Service) AddPhones(ctx context.Context, ref CustomerRef, ins []PhoneInput) ([]*Phone, error) {
	a, err := caller(ctx, ScopeCustomersWrite)
	if err != nil {
		return nil, err
	}
	parsed := make([]*Phone, len(ins))
	for i, in := range ins {
		if parsed[i], err = s.newPhone(a.Tenant, in); err != nil {
			return nil, &BatchError{Index: i, Err: err}
		}
	}
	out := make([]*Phone, len(ins))
	err = s.write(ctx, func(tx Tx) error {
		c, err := tx.FindCustomer(ctx, a.Tenant.ID, ref, true)
		if err != nil {
			return err
		}
		phones, err := tx.FindPhones(ctx, a.Tenant.ID, c.ID)
		if err != nil {
			return err
		}
		for i, p := range parsed {
			q := *p
			if phones, err = s.insertPhone(ctx, tx, a, c, &q, phones, nil); err != nil {
				return &BatchError{Index: i, Err: err}
			}
			out[i] = &q
		}
		if err := s.touch(ctx, tx, c); err != nil {
			return err
		}
		// A later phone may have taken the primary flag from an earlier
		// one: answer with the state as committed.
		all, err := tx.FindPhones(ctx, a.Tenant.ID, c.ID)
		if err != nil {
			return err
		}
		for _, p := range all {
			for i := range out {
				if out[i].ID == p.ID {
					out[i] = p
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// phonesForAdd returns what insertPhone needs of a customer's phones to add
// one. A phone flagged primary takes the flag from the current primary, which
// is written back whole, so then the phones are read whole; otherwise only
// their keys are (ids, numbers, the primary flag: insertPhone reads no more
// of them and writes none of them), which is most of the cost of an add
// saved for a customer with many phones.
func (s *Service) phonesForAdd(ctx context.Context, tx Tx, tenantID, customerID int64, primary bool) ([]*Phone, error) {
	if primary {
		return tx.FindPhones(ctx, tenantID, customerID)
	}
	keys, err := tx.FindPhoneKeys(ctx, tenantID, customerID)
	if err != nil {
		return nil, err
	}
	out := make([]*Phone, len(keys))
	for i, k := range keys {
		out[i] = &Phone{ID: k.ID, TenantID: tenantID, CustomerID: customerID, E164: k.E164, Extension: k.Extension, IsPrimary: k.IsPrimary}
	}
	return out, nil
}

// BatchError is the failure of one input of an all-or-nothing request.
type BatchError struct {
	Index int
	Err   error
}

func (e *BatchError) Error() string { return "record " + strconv.Itoa(e.Index) + ": " + e.Err.Error() }

// Unwrap exposes the record's domain error (its code and field).
func (e *BatchError) Unwrap() error { return e.Err }

// insertPhone adds p to the locked customer c, whose phones are phones,
// inside tx, and returns c's phones after the change. The caller touches c.
// holders, when not nil, counts the customers holding each number of a
// batch (from lockBatch, kept up to date by the batch) and saves asking the
// store again for every record.
func (s *Service) insertPhone(ctx context.Context, tx Tx, a *Auth, c *Customer, p *Phone, phones []*Phone, holders map[string]int) ([]*Phone, error) {
	t := a.Tenant
	holds := false
	for _, o := range phones {
		if o.E164 == p.E164 {
			holds = true
			if o.Extension == p.Extension {
				return phones, Errorf(ECodePhoneDuplicate, "number", "the customer already has this phone number")
			}
		}
	}
	if len(phones) >= t.MaxPhonesPerCustomer {
		return phones, Errorf(ECodePhoneLimit, "number", "the customer already has %d phones, the most allowed", t.MaxPhonesPerCustomer)
	}
	if !holds {
		n, known := holders[p.E164]
		if !known {
			var err error
			if n, err = tx.LockNumber(ctx, t.ID, p.E164, c.ID); err != nil {
				return phones, err
			}
		}
		if n >= t.MaxCustomersPerNumber {
			return phones, Errorf(ECodeNumberLimit, "number", "this number is already held by %d customers, the most allowed", t.MaxCustomersPerNumber)
		}
	}
	p.CustomerID = c.ID
	var demoted *Phone
	var err error
	if len(phones) == 0 {
		p.IsPrimary = true
	} else if p.IsPrimary {
		if demoted, err = s.demote(ctx, tx, a, phones); err != nil {
			return phones, err
		}
	}
	asked := p.Consent.Type != ConsentNone
	if err := s.inheritConsent(ctx, tx, a, p); err != nil {
		return phones, err
	}
	if err := tx.CreatePhone(ctx, p); err != nil {
		return phones, err
	}
	if _, known := holders[p.E164]; known && !holds {
		holders[p.E164]++ // c holds it now
	}
	if err := tx.AddEvent(ctx, s.event(a, EventPhoneCreated, c.ID, p.ID, nil, p)); err != nil {
		return phones, err
	}
	if demoted != nil {
		if err := s.primaryMoved(ctx, tx, a, c.ID, demoted, p); err != nil {
			return phones, err
		}
	}
	added := *p
	phones = append(phones, &added)
	if asked {
		if err := s.phoneConsent(ctx, tx, a, p, c); err != nil {
			return phones, err
		}
		// The number's consent may have moved to other phones of c too.
		return tx.FindPhones(ctx, t.ID, c.ID)
	}
	return phones, nil
}

// demote clears the primary flag of the current primary among phones and
// returns it (nil if none).
func (s *Service) demote(ctx context.Context, tx Tx, a *Auth, phones []*Phone) (*Phone, error) {
	for _, o := range phones {
		if !o.IsPrimary {
			continue
		}
		before := *o
		o.IsPrimary = false
		o.Version++
		o.UpdatedAt = s.timestamp()
		if err := tx.UpdatePhone(ctx, o); err != nil {
			return nil, err
		}
		if err := tx.AddEvent(ctx, s.event(a, EventPhoneUpdated, o.CustomerID, o.ID, &before, o)); err != nil {
			return nil, err
		}
		return o, nil
	}
	return nil, nil
}

// promote makes p the primary (it must not be one) and records it.
func (s *Service) promote(ctx context.Context, tx Tx, a *Auth, p *Phone) error {
	before := *p
	p.IsPrimary = true
	p.Version++
	p.UpdatedAt = s.timestamp()
	if err := tx.UpdatePhone(ctx, p); err != nil {
		return err
	}
	return tx.AddEvent(ctx, s.event(a, EventPhoneUpdated, p.CustomerID, p.ID, &before, p))
}

type primaryChange struct {
	PreviousPhoneID int64 `json:"previous_phone_id,omitempty"`
	PrimaryPhoneID  int64 `json:"primary_phone_id,omitempty"`
}

func (s *Service) primaryMoved(ctx context.Context, tx Tx, a *Auth, customerID int64, from, to *Phone) error {
	var b, af primaryChange
	var subject int64
	if from != nil {
		b.PrimaryPhoneID = from.ID
		af.PreviousPhoneID = from.ID
	}
	if to != nil {
		af.PrimaryPhoneID = to.ID
		subject = to.ID
	}
	return tx.AddEvent(ctx, s.event(a, EventPrimaryChanged, customerID, subject, b, af))
}

// touch bumps the customer's version: its representation includes its
// phones, so its ETag must change when they do.
func (s *Service) touch(ctx context.Context, tx Tx, c *Customer) error {
	c.Version++
	c.UpdatedAt = s.timestamp()
	return tx.UpdateCustomer(ctx, c)
}

// FindPhones lists a customer's phones, oldest first.
func (s *Service) FindPhones(ctx context.Context, ref CustomerRef) ([]*Phone, error) {
	c, err := s.FindCustomer(ctx, ref)
	if err != nil {
		return nil, err
	}
	return c.Phones, nil
}

// FindPhone returns one phone of a customer. pref is its id or uuid.
func (s *Service) FindPhone(ctx context.Context, ref, pref CustomerRef) (*Phone, error) {
	a, err := caller(ctx, ScopeCustomersRead)
	if err != nil {
		return nil, err
	}
	var p *Phone
	err = s.read(ctx, func(tx Tx) error {
		c, err := tx.FindCustomer(ctx, a.Tenant.ID, ref, false)
		if err != nil {
			return err
		}
		p, err = tx.FindPhone(ctx, a.Tenant.ID, c.ID, pref)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// UpdatePhone changes a phone. ifVersion, when not 0, must be the phone's
// current version.
func (s *Service) UpdatePhone(ctx context.Context, ref, pref CustomerRef, upd PhoneUpdate, ifVersion int64) (*Phone, error) {
	a, err := caller(ctx, ScopeCustomersWrite)
	if err != nil {
		return nil, err
	}
	f := phoneFields{upd.Type, upd.Label, upd.Notes, upd.Status, upd.LineKind, upd.ConsentType, upd.ConsentSource}
	if err := f.validate(); err != nil {
		return nil, err
	}
	if upd.Number != nil {
		if err := upd.Rules.check(strings.TrimSpace(*upd.Number), "number"); err != nil {
			return nil, err
		}
	}
	var out *Phone
	err = s.write(ctx, func(tx Tx) error {
		c, err := tx.FindCustomer(ctx, a.Tenant.ID, ref, true)
		if err != nil {
			return err
		}
		p, err := tx.FindPhone(ctx, a.Tenant.ID, c.ID, pref)
		if err != nil {
			return err
		}
		if err := checkVersion(ifVersion, p.Version); err != nil {
			return err
		}
		if noop := (PhoneUpdate{Rules: upd.Rules}); upd == noop {
			out = p // nothing asked: no write, no new version, no event
			return nil
		}
		if err := s.applyPhoneUpdate(ctx, tx, a, c, p, upd); err != nil {
			return err
		}
		out = p
		return s.touch(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// applyPhoneUpdate changes p (of the locked customer c) as upd says and
// writes it with its events.
func (s *Service) applyPhoneUpdate(ctx context.Context, tx Tx, a *Auth, c *Customer, p *Phone, upd PhoneUpdate) error {
	before := *p
	if upd.Number != nil || upd.Country != nil || upd.Extension != nil {
		number, country, ext := p.Raw, "", p.Extension
		if upd.Number != nil {
			number = *upd.Number
			if upd.Extension == nil {
				ext = "" // a new number brings its own extension, if any
			}
		}
		if upd.Country != nil {
			country = *upd.Country
		} else if upd.Number == nil && !strings.HasPrefix(strings.TrimSpace(number), "+") {
			country = "+" + strconv.Itoa(p.CountryCode) // keep reading the stored number as it was read
		}
		if upd.Extension != nil {
			ext = *upd.Extension
		}
		if err := s.setNumber(a.Tenant, p, number, country, ext); err != nil {
			return err
		}
		if p.E164 != before.E164 {
			phones, err := tx.FindPhones(ctx, a.Tenant.ID, c.ID)
			if err != nil {
				return err
			}
			holds := false
			for _, o := range phones {
				if o.ID != p.ID && o.E164 == p.E164 {
					holds = true
				}
			}
			if !holds {
				n, err := tx.LockNumber(ctx, a.Tenant.ID, p.E164, c.ID)
				if err != nil {
					return err
				}
				if n >= a.Tenant.MaxCustomersPerNumber {
					return Errorf(ECodeNumberLimit, "number", "this number is already held by %d customers, the most allowed", a.Tenant.MaxCustomersPerNumber)
				}
			}
		}
	}
	if upd.Type != nil {
		p.Type = *upd.Type
	}
	if upd.Label != nil {
		p.Label = *upd.Label
	}
	if upd.Notes != nil {
		p.Notes = *upd.Notes
	}
	if upd.Status != nil {
		p.Status = *upd.Status
	}
	if upd.LineKind != nil {
		applyLineKind(p, *upd.LineKind)
	}
	consentChanged := false
	if upd.ConsentType != nil && *upd.ConsentType != p.Consent.Type {
		p.Consent.Type = *upd.ConsentType
		consentChanged = true
	}
	if upd.ConsentSource != nil && *upd.ConsentSource != p.Consent.Source {
		p.Consent.Source = *upd.ConsentSource
		consentChanged = true
	}
	now := s.timestamp()
	if consentChanged {
		p.Consent.UpdatedAt = &now
	}
	var from, to *Phone
	written := false
	if upd.IsPrimary != nil && *upd.IsPrimary != p.IsPrimary {
		phones, err := tx.FindPhones(ctx, a.Tenant.ID, c.ID)
		if err != nil {
			return err
		}
		if *upd.IsPrimary {
			if from, err = s.demote(ctx, tx, a, phones); err != nil {
				return err
			}
			p.IsPrimary, to = true, p
		} else {
			// Rule 1: a customer with phones has exactly one primary. Giving
			// up the flag hands it to the oldest other phone; the only phone
			// stays primary.
			for _, o := range phones {
				if o.ID != p.ID {
					p.IsPrimary = false
					p.Version++
					p.UpdatedAt = now
					if err := tx.UpdatePhone(ctx, p); err != nil {
						return err
					}
					written = true
					if err := s.promote(ctx, tx, a, o); err != nil {
						return err
					}
					from, to = p, o
					break
				}
			}
		}
	}
	if !written {
		p.Version++
		p.UpdatedAt = now
		if err := tx.UpdatePhone(ctx, p); err != nil {
			return err
		}
	}
	if err := tx.AddEvent(ctx, s.event(a, EventPhoneUpdated, c.ID, p.ID, &before, p)); err != nil {
		return err
	}
	if consentChanged {
		if err := tx.AddEvent(ctx, s.event(a, EventConsentChanged, c.ID, p.ID, before.Consent, p.Consent)); err != nil {
			return err
		}
		if err := s.phoneConsent(ctx, tx, a, p, c); err != nil {
			return err
		}
	}
	if to != nil {
		return s.primaryMoved(ctx, tx, a, c.ID, from, to)
	}
	return nil
}

// DeletePhone deletes a phone; when it was the primary, the oldest
// remaining phone becomes the primary (rule 1).
func (s *Service) DeletePhone(ctx context.Context, ref, pref CustomerRef, ifVersion int64) error {
	a, err := caller(ctx, ScopeCustomersWrite)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx Tx) error {
		c, err := tx.FindCustomer(ctx, a.Tenant.ID, ref, true)
		if err != nil {
			return err
		}
		p, err := tx.FindPhone(ctx, a.Tenant.ID, c.ID, pref)
		if err != nil {
			return err
		}
		if err := checkVersion(ifVersion, p.Version); err != nil {
			return err
		}
		if err := tx.DeletePhone(ctx, a.Tenant.ID, p.ID); err != nil {
			return err
		}
		if err := tx.AddEvent(ctx, s.event(a, EventPhoneDeleted, c.ID, p.ID, p, nil)); err != nil {
			return err
		}
		if p.IsPrimary {
			rest, err := tx.FindPhones(ctx, a.Tenant.ID, c.ID)
			if err != nil {
				return err
			}
			if len(rest) > 0 {
				if err := s.promote(ctx, tx, a, rest[0]); err != nil {
					return err
				}
				if err := s.primaryMoved(ctx, tx, a, c.ID, p, rest[0]); err != nil {
					return err
				}
			}
		}
		return s.touch(ctx, tx, c)
	})
}

// RemoveNumber deletes every phone of a customer holding number (any
// extension) and returns them; the primary moves on as in DeletePhone.
// Errors: not_found when the customer does not hold the number.
func (s *Service) RemoveNumber(ctx context.Context, ref CustomerRef, number, country string, rules *NumberRules) ([]*Phone, error) {
	a, err := caller(ctx, ScopeCustomersWrite)
	if err != nil {
		return nil, err
	}
	if err := rules.check(strings.TrimSpace(number), "number"); err != nil {
		return nil, err
	}
	n, err := s.parse(a.Tenant, number, country, "number")
	if err != nil {
		return nil, err
	}
	var removed []*Phone
	err = s.write(ctx, func(tx Tx) error {
		removed = nil
		c, err := tx.FindCustomer(ctx, a.Tenant.ID, ref, true)
		if err != nil {
			return err
		}
		phones, err := tx.FindPhones(ctx, a.Tenant.ID, c.ID)
		if err != nil {
			return err
		}
		var rest []*Phone
		var lostPrimary *Phone
		for _, p := range phones {
			if p.E164 != n.E164 {
				rest = append(rest, p)
				continue
			}
			if err := tx.DeletePhone(ctx, a.Tenant.ID, p.ID); err != nil {
				return err
			}
			if err := tx.AddEvent(ctx, s.event(a, EventPhoneDeleted, c.ID, p.ID, p, nil)); err != nil {
				return err
			}
			if p.IsPrimary {
				lostPrimary = p
			}
			removed = append(removed, p)
		}
		if len(removed) == 0 {
			return Errorf(ECodeNotFound, "number", "the customer does not have this phone number")
		}
		if lostPrimary != nil && len(rest) > 0 {
			if err := s.promote(ctx, tx, a, rest[0]); err != nil {
				return err
			}
			if err := s.primaryMoved(ctx, tx, a, c.ID, lostPrimary, rest[0]); err != nil {
				return err
			}
		}
		return s.touch(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

// UpsertResult is the outcome of one record of an upsert.
type UpsertResult struct {
	Phone   *Phone
	Created bool
	Err     error
}

// UpsertItem is one record of a batch: a customer and the phone it should
// have, matched on number + extension.
type UpsertItem struct {
	Customer CustomerRef
	Phone    PhoneInput
}

// UpsertPhones creates or updates phones, each record on its own: a bad
// record fails alone and the others are stored. Results are in input order.
// The whole batch is one transaction, with a savepoint per record, so it
// costs one durable commit.
func (s *Service) UpsertPhones(ctx context.Context, items []UpsertItem) ([]UpsertResult, error) {
	a, err := caller(ctx, ScopeCustomersWrite)
	if err != nil {
		return nil, err
	}
	results := make([]UpsertResult, len(items))
	parsed := make([]*Phone, len(items))
	for i, it := range items {
		parsed[i], results[i].Err = s.newPhone(a.Tenant, it.Phone)
	}
	// As an import's batches: first without a savepoint per record (each
	// costs a copy of every page the record changes), and only when a
	// record fails in the store, again with them, so it fails alone.
	err = s.upsertBatch(ctx, a, items, parsed, results, false)
	if errors.Is(err, errRowFailed) {
		err = s.upsertBatch(ctx, a, items, parsed, results, true)
	}
	if err != nil {
		return nil, err
	}
	return results, nil
}

// upsertBatch writes the parsed records of items in one transaction and
// sets their results. Without perRecord, the first record the store
// refuses fails the attempt with errRowFailed.
func (s *Service) upsertBatch(ctx context.Context, a *Auth, items []UpsertItem, parsed []*Phone, results []UpsertResult, perRecord bool) error {
	return s.write(ctx, func(tx Tx) error {
		batch, err := s.lockBatch(ctx, tx, a, items, parsed)
		if err != nil {
			return err
		}
		for i, it := range items {
			if parsed[i] == nil {
				continue
			}
			results[i] = UpsertResult{}
			if e := batch.refErr[it.Customer]; e != nil {
				results[i].Err = e
				continue
			}
			st := batch.byRef[it.Customer]
			var out *Phone
			var created bool
			if !perRecord {
				if out, created, err = s.upsertOne(ctx, tx, a, st, parsed[i], it.Phone); err != nil {
					if ErrorCode(err) == ECodeInternal || ErrorCode(err) == ECodeUnavailable {
						return err
					}
					return errRowFailed
				}
				results[i].Phone, results[i].Created = out, created
				continue
			}
			restore := st.snapshot(parsed[i].E164)
			err := tx.Savepoint(ctx, func() error {
				var err error
				out, created, err = s.upsertOne(ctx, tx, a, st, parsed[i], it.Phone)
				return err
			})
			if err != nil {
				restore() // the savepoint undid the record's writes: undo them here too
				if ErrorCode(err) == ECodeInternal || ErrorCode(err) == ECodeUnavailable {
					return err // the transaction itself failed: retry or give up whole
				}
				results[i].Err = err
				continue
			}
			results[i].Phone, results[i].Created = out, created
		}
		for _, st := range batch.locked {
			if st.changed {
				if err := s.touch(ctx, tx, st.c); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// batchCustomer is a customer a batch holds locked, with its phones as
// the batch has changed them so far.
type batchCustomer struct {
	c       *Customer
	phones  []*Phone
	changed bool
	// holders counts the customers holding each number of the batch (one
	// map for the whole batch): the numbers are locked, so only the batch
	// changes the counts.
	holders map[string]int
}

// snapshot returns a function that puts st back as it is now, for a record
// (of number e164) whose savepoint is rolled back.
func (st *batchCustomer) snapshot(e164 string) (restore func()) {
	c, phones, changed := *st.c, clonePhones(st.phones), st.changed
	held, known := st.holders[e164]
	return func() {
		*st.c, st.phones, st.changed = c, phones, changed
		if known {
			st.holders[e164] = held
		}
	}
}

type lockedBatch struct {
	byRef  map[CustomerRef]*batchCustomer
	refErr map[CustomerRef]error
	locked []*batchCustomer // in id order
}

// lockBatch locks every customer of the batch, in id order, then every
// number, in E.164 order, before any savepoint: a ROLLBACK TO would release
// row locks taken inside it, and locks taken in input order deadlock
// against other batches and writers on other nodes.
func (s *Service) lockBatch(ctx context.Context, tx Tx, a *Auth, items []UpsertItem, parsed []*Phone) (*lockedBatch, error) {
	b := &lockedBatch{byRef: map[CustomerRef]*batchCustomer{}, refErr: map[CustomerRef]error{}}
	idOf := map[CustomerRef]int64{}
	var ids []int64
	for i, it := range items {
		if parsed[i] == nil {
			continue
		}
		if _, ok := idOf[it.Customer]; ok || b.refErr[it.Customer] != nil {
			continue
		}
		c, err := tx.FindCustomer(ctx, a.Tenant.ID, it.Customer, false)
		if IsCode(err, ECodeNotFound) {
			field := "customer_id"
			if it.Customer.ExternalID != "" {
				field = "external_id"
			}
			b.refErr[it.Customer] = Errorf(ECodeNotFound, field, "customer not found")
			continue
		}
		if err != nil {
			return nil, err
		}
		idOf[it.Customer] = c.ID
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	byID := map[int64]*batchCustomer{}
	holders := map[string]int{}
	var lockedIDs []int64
	for _, id := range ids {
		c, err := tx.FindCustomer(ctx, a.Tenant.ID, CustomerRef{ID: id}, true)
		if IsCode(err, ECodeNotFound) {
			continue // deleted since: its records fail below
		}
		if err != nil {
			return nil, err
		}
		bc := &batchCustomer{c: c, phones: []*Phone{}, holders: holders}
		byID[id] = bc
		b.locked = append(b.locked, bc)
		lockedIDs = append(lockedIDs, id)
	}
	// The phones of every locked customer in one query, not one each.
	all, err := tx.FindPhones(ctx, a.Tenant.ID, lockedIDs...)
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		if bc := byID[p.CustomerID]; bc != nil {
			bc.phones = append(bc.phones, p)
		}
	}
	var numbers []string
	for ref, id := range idOf {
		if bc := byID[id]; bc != nil {
			b.byRef[ref] = bc
		} else {
			b.refErr[ref] = Errorf(ECodeNotFound, "customer_id", "customer not found")
		}
	}
	for i, it := range items {
		if parsed[i] != nil && b.byRef[it.Customer] != nil {
			numbers = append(numbers, parsed[i].E164)
		}
	}
	slices.Sort(numbers)
	for _, n := range slices.Compact(numbers) {
		held, err := tx.LockNumber(ctx, a.Tenant.ID, n, 0)
		if err != nil {
			return nil, err
		}
		holders[n] = held
	}
	return b, nil
}

func clonePhones(ps []*Phone) []*Phone {
	out := make([]*Phone, len(ps))
	for i, p := range ps {
		c := *p
		out[i] = &c
	}
	return out
}

// UpsertPhone creates or updates one phone of a customer, matched on number
// and extension.
func (s *Service) UpsertPhone(ctx context.Context, ref CustomerRef, in PhoneInput) (*Phone, bool, error) {
	res, err := s.UpsertPhones(ctx, []UpsertItem{{Customer: ref, Phone: in}})
	if err != nil {
		return nil, false, err
	}
	return res[0].Phone, res[0].Created, res[0].Err
}

// upsertOne creates or updates parsed on the locked customer st.
func (s *Service) upsertOne(ctx context.Context, tx Tx, a *Auth, st *batchCustomer, parsed *Phone, in PhoneInput) (*Phone, bool, error) {
	c := st.c
	for _, o := range st.phones {
		if o.E164 != parsed.E164 || o.Extension != parsed.Extension {
			continue
		}
		upd := PhoneUpdate{}
		if strings.TrimSpace(in.Number) != o.Raw {
			upd.Number, upd.Extension = &parsed.Raw, &parsed.Extension
		}
		if in.Type != "" {
			upd.Type = &parsed.Type
		}
		if in.Label != "" {
			upd.Label = &parsed.Label
		}
		if in.Notes != "" {
			upd.Notes = &parsed.Notes
		}
		if in.Status != "" {
			upd.Status = &parsed.Status
		}
		if in.IsPrimary {
			upd.IsPrimary = &in.IsPrimary
		}
		if in.LineKind != "" {
			upd.LineKind = &in.LineKind
		}
		if in.ConsentType != "" {
			upd.ConsentType = &parsed.Consent.Type
		}
		if in.ConsentSource != "" {
			upd.ConsentSource = &parsed.Consent.Source
		}
		if upd == (PhoneUpdate{}) {
			return o, false, nil // nothing to change: no write, no event
		}
		if upd.Number != nil {
			country := in.Country
			upd.Country = &country
		}
		if err := s.applyPhoneUpdate(ctx, tx, a, c, o, upd); err != nil {
			return nil, false, err
		}
		out := *o
		st.changed = true
		if upd.IsPrimary != nil || upd.ConsentType != nil || upd.ConsentSource != nil {
			// The primary flag or the number's consent may have moved to
			// other phones: read them back rather than guess. Other changes
			// touch o alone, which the cache holds.
			phones, err := tx.FindPhones(ctx, a.Tenant.ID, c.ID)
			if err != nil {
				return nil, false, err
			}
			st.phones = phones
		}
		return &out, false, nil
	}
	p := *parsed
	phones, err := s.insertPhone(ctx, tx, a, c, &p, st.phones, st.holders)
	if err != nil {
		return nil, false, err
	}
	st.phones, st.changed = phones, true
	return &p, true, nil
}

// LookupNumber finds every phone of the caller's tenant holding number, in
// any format, with its customer.
func (s *Service) LookupNumber(ctx context.Context, number, country string) ([]*PhoneMatch, error) {
	a, err := caller(ctx, ScopeCustomersRead)
	if err != nil {
		return nil, err
	}
	n, err := s.parse(a.Tenant, number, country, "number")
	if err != nil {
		return nil, err
	}
	var out []*PhoneMatch
	err = s.read(ctx, func(tx Tx) error {
		phones, err := tx.FindPhonesByNumber(ctx, a.Tenant.ID, n.E164)
		if err != nil {
			return err
		}
		customers := map[int64]*Customer{}
		var ids []int64
		for _, p := range phones {
			c := customers[p.CustomerID]
			if c == nil {
				if c, err = tx.FindCustomer(ctx, a.Tenant.ID, CustomerRef{ID: p.CustomerID}, false); err != nil {
					return err
				}
				c.Phones = []*Phone{}
				customers[p.CustomerID] = c
				ids = append(ids, c.ID)
			}
			out = append(out, &PhoneMatch{Phone: p, Customer: c})
		}
		// Each customer comes whole, with all its phones.
		all, err := tx.FindPhones(ctx, a.Tenant.ID, ids...)
		if err != nil {
			return err
		}
		for _, p := range all {
			customers[p.CustomerID].Phones = append(customers[p.CustomerID].Phones, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// --- phone type registry ---

// PhoneTypes lists the caller's phone type registry. Writers may read it
// too: choosing a phone's type is part of writing one.
func (s *Service) PhoneTypes(ctx context.Context) ([]*PhoneType, error) {
	a, err := caller(ctx, ScopeCustomersRead)
	if IsCode(err, ECodeForbidden) {
		a, err = caller(ctx, ScopeCustomersWrite)
	}
	if err != nil {
		return nil, err
	}
	var out []*PhoneType
	err = s.read(ctx, func(tx Tx) (err error) {
		out, err = tx.FindPhoneTypes(ctx, a.Tenant.ID)
		return err
	})
	return out, err
}

// CreatePhoneType adds a type to the caller's registry (admin scope).
func (s *Service) CreatePhoneType(ctx context.Context, name string) (*PhoneType, error) {
	a, err := caller(ctx, ScopeAdmin)
	if err != nil {
		return nil, err
	}
	pt := &PhoneType{Name: NormalizeTypeName(name), CreatedAt: s.timestamp()}
	if err := validatePhoneType(pt.Name); err != nil {
		return nil, err
	}
	err = s.write(ctx, func(tx Tx) error {
		return tx.CreatePhoneType(ctx, a.Tenant.ID, pt)
	})
	if err != nil {
		return nil, err
	}
	return pt, nil
}

// DeletePhoneType removes a type no phone uses (admin scope).
func (s *Service) DeletePhoneType(ctx context.Context, name string) error {
	a, err := caller(ctx, ScopeAdmin)
	if err != nil {
		return err
	}
	name = NormalizeTypeName(name)
	return s.write(ctx, func(tx Tx) error {
		types, err := tx.FindPhoneTypes(ctx, a.Tenant.ID)
		if err != nil {
			return err
		}
		for _, pt := range types {
			// Built-in types stay: the dialects map vendor values onto them.
			if pt.Name == name && pt.BuiltIn {
				return Errorf(ECodeConflict, "name", "phone type %q is built in and cannot be deleted", name)
			}
		}
		return tx.DeletePhoneType(ctx, a.Tenant.ID, name)
	})
}

// IsCode reports whether err is a domain error with code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
