package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/phonebook/phonebook"
)

const phoneColumns = `id, uuid, tenant_id, customer_id, raw, e164, country_code, national_number, national, international,
	region, line_type, valid, extension, type, label, is_primary, notes, status,
	consent_type, consent_source, consent_updated_at, created_at, updated_at, version`

func scanPhone(row interface{ Scan(...any) error }) (*phonebook.Phone, error) {
	var p phonebook.Phone
	var consentAt sql.NullInt64
	var created, updated int64
	err := row.Scan(&p.ID, &p.UUID, &p.TenantID, &p.CustomerID, &p.Raw, &p.E164, &p.CountryCode, &p.NationalNumber,
		&p.National, &p.International, &p.Region, &p.LineType, &p.Valid, &p.Extension, &p.Type, &p.Label,
		&p.IsPrimary, &p.Notes, &p.Status, &p.Consent.Type, &p.Consent.Source, &consentAt, &created, &updated, &p.Version)
	if err != nil {
		return nil, err
	}
	p.Consent.UpdatedAt = fromNullMicros(consentAt)
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

func (t *tx) queryPhones(ctx context.Context, query string, args ...any) ([]*phonebook.Phone, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, storeErr("find phones", err)
	}
	defer rows.Close()
	out := []*phonebook.Phone{}
	for rows.Next() {
		p, err := scanPhone(rows)
		if err != nil {
			return nil, storeErr("scan phone", err)
		}
		out = append(out, p)
	}
	return out, storeErr("find phones", rows.Err())
}

func (t *tx) FindPhones(ctx context.Context, tenantID int64, customerIDs ...int64) ([]*phonebook.Phone, error) {
	if len(customerIDs) == 0 {
		return []*phonebook.Phone{}, nil
	}
	// The IN list is padded to a power of two with the last id (a
	// duplicate matches nothing more): each list length is a statement of
	// its own in the prepared-statement cache, and a batch's lists of up to
	// 500 customers would otherwise fill it with hundreds of large ones.
	n := 1
	for n < len(customerIDs) {
		n *= 2
	}
	args := make([]any, 0, n+1)
	args = append(args, tenantID)
	for _, id := range customerIDs {
		args = append(args, id)
	}
	for len(args) < n+1 {
		args = append(args, customerIDs[len(customerIDs)-1])
	}
	in := strings.Repeat("?,", n)
	return t.queryPhones(ctx, `SELECT `+phoneColumns+` FROM phones INDEXED BY phones_tenant_customer WHERE tenant_id = ? AND customer_id IN (`+in[:len(in)-1]+`) ORDER BY customer_id, id`, args...)
}

func (t *tx) FindPhoneKeys(ctx context.Context, tenantID, customerID int64) ([]phonebook.PhoneKey, error) {
	rows, err := t.query(ctx, `SELECT id, e164, extension, is_primary FROM phones INDEXED BY phones_tenant_customer
		WHERE tenant_id = ? AND customer_id = ? ORDER BY id`, tenantID, customerID)
	if err != nil {
		return nil, storeErr("find phone keys", err)
	}
	defer rows.Close()
	out := []phonebook.PhoneKey{}
	for rows.Next() {
		var k phonebook.PhoneKey
		if err := rows.Scan(&k.ID, &k.E164, &k.Extension, &k.IsPrimary); err != nil {
			return nil, storeErr("scan phone key", err)
		}
		out = append(out, k)
	}
	return out, storeErr("find phone keys", rows.Err())
}

func (t *tx) FindPhone(ctx context.Context, tenantID, customerID int64, ref phonebook.CustomerRef) (*phonebook.Phone, error) {
	where, arg := `id = ?`, any(ref.ID)
	if ref.UUID != "" {
		where, arg = `uuid = ?`, strings.ToLower(ref.UUID)
	} else if ref.ID == 0 {
		return nil, notFound("phone")
	}
	p, err := scanPhone(t.queryRow(ctx, `SELECT `+phoneColumns+` FROM phones WHERE tenant_id = ? AND customer_id = ? AND `+where, tenantID, customerID, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("phone")
	}
	if err != nil {
		return nil, storeErr("find phone", err)
	}
	return p, nil
}

func (t *tx) FindPhonesByNumber(ctx context.Context, tenantID int64, e164 string) ([]*phonebook.Phone, error) {
	return t.queryPhones(ctx, `SELECT `+phoneColumns+` FROM phones INDEXED BY phones_tenant_e164 WHERE tenant_id = ? AND e164 = ? ORDER BY id`, tenantID, e164)
}

func (t *tx) LockNumber(ctx context.Context, tenantID int64, e164 string, exceptCustomerID int64) (int, error) {
	// The single writer already serializes every writer of the file.
	var n int
	// INDEXED BY: without statistics the planner took customer_id <> ? as
	// a range on phones_tenant_customer and scanned the tenant's phones.
	err := t.queryRow(ctx, `SELECT COUNT(DISTINCT customer_id) FROM phones INDEXED BY phones_tenant_e164 WHERE tenant_id = ? AND e164 = ? AND customer_id <> ?`,
		tenantID, e164, exceptCustomerID).Scan(&n)
	return n, storeErr("count number holders", err)
}

// phoneViolation turns a constraint failure on phones into the rule it
// broke.
func phoneViolation(err error) error {
	kind, msg := constraint(err)
	switch {
	case kind == "unique" && strings.Contains(msg, "e164"):
		return phonebook.Errorf(phonebook.ECodePhoneDuplicate, "number", "the customer already has this phone number")
	case kind == "unique" && strings.Contains(msg, "phones.customer_id"):
		return phonebook.Errorf(phonebook.ECodeConflict, "is_primary", "the customer already has a primary phone")
	case kind == "foreignkey":
		// The customer row is locked and known to exist, so the failing
		// reference is the phone type.
		return phonebook.Errorf(phonebook.ECodeTypeUnknown, "type", "unknown phone type; see /v1/phone-types")
	case kind == "check":
		return phonebook.Errorf(phonebook.ECodeValidation, "", "a phone field is out of range")
	}
	return nil
}

func (t *tx) CreatePhone(ctx context.Context, p *phonebook.Phone) error {
	p.UUID = uuid.Must(uuid.NewV7()).String()
	var err error
	p.ID, err = t.insert(ctx, `INSERT INTO phones (uuid, tenant_id, customer_id, raw, e164, country_code, national_number,
		national, international, region, line_type, valid, extension, type, label, is_primary, notes, status,
		consent_type, consent_source, consent_updated_at, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.UUID, p.TenantID, p.CustomerID, p.Raw, p.E164, p.CountryCode, p.NationalNumber,
		p.National, p.International, p.Region, p.LineType, p.Valid, p.Extension, p.Type, p.Label, p.IsPrimary, p.Notes, p.Status,
		p.Consent.Type, p.Consent.Source, nullMicros(p.Consent.UpdatedAt), micros(p.CreatedAt), micros(p.UpdatedAt), p.Version)
	if e := phoneViolation(err); e != nil {
		return e
	}
	return storeErr("create phone", err)
}

func (t *tx) UpdatePhone(ctx context.Context, p *phonebook.Phone) error {
	res, err := t.exec(ctx, `UPDATE phones SET raw = ?, e164 = ?, country_code = ?, national_number = ?, national = ?,
		international = ?, region = ?, line_type = ?, valid = ?, extension = ?, type = ?, label = ?, is_primary = ?, notes = ?,
		status = ?, consent_type = ?, consent_source = ?, consent_updated_at = ?, updated_at = ?, version = ?
		WHERE tenant_id = ? AND id = ?`,
		p.Raw, p.E164, p.CountryCode, p.NationalNumber, p.National, p.International, p.Region, p.LineType, p.Valid,
		p.Extension, p.Type, p.Label, p.IsPrimary, p.Notes, p.Status, p.Consent.Type, p.Consent.Source,
		nullMicros(p.Consent.UpdatedAt), micros(p.UpdatedAt), p.Version, p.TenantID, p.ID)
	if e := phoneViolation(err); e != nil {
		return e
	}
	if err != nil {
		return storeErr("update phone", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("phone")
	}
	return nil
}

func (t *tx) DeletePhone(ctx context.Context, tenantID, id int64) error {
	res, err := t.exec(ctx, `DELETE FROM phones WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return storeErr("delete phone", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("phone")
	}
	return nil
}
