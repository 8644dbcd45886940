package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/phonebook/phonebook"
)

const phoneColumns = `id, uuid, tenant_id, customer_id, raw, e164, country_code, national_number, national, international,
	region, line_type, valid, extension, type, label, is_primary, notes, status,
	consent_type, consent_source, consent_updated_at, created_at, updated_at, version`

func scanPhone(row pgx.Row) (*phonebook.Phone, error) {
	var p phonebook.Phone
	err := row.Scan(&p.ID, &p.UUID, &p.TenantID, &p.CustomerID, &p.Raw, &p.E164, &p.CountryCode, &p.NationalNumber,
		&p.National, &p.International, &p.Region, &p.LineType, &p.Valid, &p.Extension, &p.Type, &p.Label,
		&p.IsPrimary, &p.Notes, &p.Status, &p.Consent.Type, &p.Consent.Source, &p.Consent.UpdatedAt, &p.CreatedAt, &p.UpdatedAt, &p.Version)
	if err != nil {
		return nil, err
	}
	p.Consent.UpdatedAt = utcPtr(p.Consent.UpdatedAt)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return &p, nil
}

func (t *tx) queryPhones(ctx context.Context, query string, args ...any) ([]*phonebook.Phone, error) {
	rows, err := t.tx.Query(ctx, query, args...)
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
	return t.queryPhones(ctx, `SELECT `+phoneColumns+` FROM phones WHERE tenant_id = $1 AND customer_id = ANY($2) ORDER BY customer_id, id`, tenantID, customerIDs)
}

func (t *tx) FindPhoneKeys(ctx context.Context, tenantID, customerID int64) ([]phonebook.PhoneKey, error) {
	rows, err := t.tx.Query(ctx, `SELECT id, e164, extension, is_primary FROM phones WHERE tenant_id = $1 AND customer_id = $2 ORDER BY id`, tenantID, customerID)
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
	where, arg := `id = $3`, any(ref.ID)
	if ref.UUID != "" {
		if _, err := uuid.Parse(ref.UUID); err != nil {
			return nil, notFound("phone")
		}
		where, arg = `uuid = $3`, strings.ToLower(ref.UUID)
	} else if ref.ID == 0 {
		return nil, notFound("phone")
	}
	p, err := scanPhone(t.tx.QueryRow(ctx, `SELECT `+phoneColumns+` FROM phones WHERE tenant_id = $1 AND customer_id = $2 AND `+where, tenantID, customerID, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("phone")
	}
	if err != nil {
		return nil, storeErr("find phone", err)
	}
	return p, nil
}

func (t *tx) FindPhonesByNumber(ctx context.Context, tenantID int64, e164 string) ([]*phonebook.Phone, error) {
	return t.queryPhones(ctx, `SELECT `+phoneColumns+` FROM phones WHERE tenant_id = $1 AND e164 = $2 ORDER BY id`, tenantID, e164)
}

func (t *tx) LockNumber(ctx context.Context, tenantID int64, e164 string, exceptCustomerID int64) (int, error) {
	// The number's row is the lock every writer of the number queues on;
	// once it is held, the count below (a new statement, so a fresh READ
	// COMMITTED snapshot) sees every holder committed before.
	if _, err := t.tx.Exec(ctx, `INSERT INTO numbers (tenant_id, e164) VALUES ($1, $2) ON CONFLICT DO NOTHING`, tenantID, e164); err != nil {
		return 0, storeErr("add number", err)
	}
	if _, err := t.tx.Exec(ctx, `SELECT 1 FROM numbers WHERE tenant_id = $1 AND e164 = $2 FOR UPDATE`, tenantID, e164); err != nil {
		return 0, storeErr("lock number", err)
	}
	var n int
	err := t.tx.QueryRow(ctx, `SELECT COUNT(DISTINCT customer_id) FROM phones WHERE tenant_id = $1 AND e164 = $2 AND customer_id <> $3`,
		tenantID, e164, exceptCustomerID).Scan(&n)
	return n, storeErr("count number holders", err)
}

// phoneViolation turns a constraint failure on phones into the rule it
// broke.
func phoneViolation(err error) error {
	code, name := violation(err)
	switch {
	case code == "23505" && name == "phones_number":
		return phonebook.Errorf(phonebook.ECodePhoneDuplicate, "number", "the customer already has this phone number")
	case code == "23505" && name == "phones_one_primary":
		return phonebook.Errorf(phonebook.ECodeConflict, "is_primary", "the customer already has a primary phone")
	case code == "23503" && name == "phones_type":
		return phonebook.Errorf(phonebook.ECodeTypeUnknown, "type", "unknown phone type; see /v1/phone-types")
	case code == "23503":
		return phonebook.Errorf(phonebook.ECodeNotFound, "", "customer not found")
	case code == "23514":
		return phonebook.Errorf(phonebook.ECodeValidation, "", "a phone field is out of range")
	}
	return nil
}

func (t *tx) CreatePhone(ctx context.Context, p *phonebook.Phone) error {
	p.UUID = uuid.Must(uuid.NewV7()).String()
	err := t.tx.QueryRow(ctx, `INSERT INTO phones (uuid, tenant_id, customer_id, raw, e164, country_code, national_number,
		national, international, region, line_type, valid, extension, type, label, is_primary, notes, status,
		consent_type, consent_source, consent_updated_at, created_at, updated_at, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24) RETURNING id`,
		p.UUID, p.TenantID, p.CustomerID, p.Raw, p.E164, p.CountryCode, p.NationalNumber,
		p.National, p.International, p.Region, p.LineType, p.Valid, p.Extension, p.Type, p.Label, p.IsPrimary, p.Notes, p.Status,
		p.Consent.Type, p.Consent.Source, utcPtr(p.Consent.UpdatedAt), utc(p.CreatedAt), utc(p.UpdatedAt), p.Version).Scan(&p.ID)
	if e := phoneViolation(err); e != nil {
		return e
	}
	return storeErr("create phone", err)
}

func (t *tx) UpdatePhone(ctx context.Context, p *phonebook.Phone) error {
	tag, err := t.tx.Exec(ctx, `UPDATE phones SET raw = $1, e164 = $2, country_code = $3, national_number = $4, national = $5,
		international = $6, region = $7, line_type = $8, valid = $9, extension = $10, type = $11, label = $12, is_primary = $13, notes = $14,
		status = $15, consent_type = $16, consent_source = $17, consent_updated_at = $18, updated_at = $19, version = $20
		WHERE tenant_id = $21 AND id = $22`,
		p.Raw, p.E164, p.CountryCode, p.NationalNumber, p.National, p.International, p.Region, p.LineType, p.Valid,
		p.Extension, p.Type, p.Label, p.IsPrimary, p.Notes, p.Status, p.Consent.Type, p.Consent.Source,
		utcPtr(p.Consent.UpdatedAt), utc(p.UpdatedAt), p.Version, p.TenantID, p.ID)
	if e := phoneViolation(err); e != nil {
		return e
	}
	if err != nil {
		return storeErr("update phone", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("phone")
	}
	return nil
}

func (t *tx) DeletePhone(ctx context.Context, tenantID, id int64) error {
	tag, err := t.tx.Exec(ctx, `DELETE FROM phones WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err != nil {
		return storeErr("delete phone", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("phone")
	}
	return nil
}
