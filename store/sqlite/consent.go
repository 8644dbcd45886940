package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/phonebook/phonebook"
)

func (t *tx) AddConsent(ctx context.Context, r *phonebook.ConsentRecord) error {
	var err error
	r.ID, err = t.insert(ctx, `INSERT INTO consent_ledger (tenant_id, e164, type, source, evidence, captured_at, recorded_at, key_id, key_name, via)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.TenantID, r.E164, r.Type, r.Source, r.Evidence, micros(r.CapturedAt), micros(r.RecordedAt), nullInt(r.KeyID), r.KeyName, r.Via)
	if err == nil {
		learn(&t.facts.ledger, r.TenantID)
	}
	return storeErr("add consent", err)
}

const consentColumns = `id, tenant_id, e164, type, source, evidence, captured_at, recorded_at, key_id, key_name, via`

func scanConsent(row interface{ Scan(...any) error }) (*phonebook.ConsentRecord, error) {
	var r phonebook.ConsentRecord
	var captured, recorded int64
	var key sql.NullInt64
	if err := row.Scan(&r.ID, &r.TenantID, &r.E164, &r.Type, &r.Source, &r.Evidence, &captured, &recorded, &key, &r.KeyName, &r.Via); err != nil {
		return nil, err
	}
	r.CapturedAt, r.RecordedAt, r.KeyID = fromMicros(captured), fromMicros(recorded), key.Int64
	return &r, nil
}

func (t *tx) FindConsentAt(ctx context.Context, tenantID int64, e164 string, at time.Time) (*phonebook.ConsentRecord, error) {
	if has, err := t.hasLedger(ctx, tenantID); err != nil {
		return nil, storeErr("find consent", err)
	} else if !has {
		return nil, notFound("consent")
	}
	r, err := scanConsent(t.queryRow(ctx, `SELECT `+consentColumns+` FROM consent_ledger
		WHERE tenant_id = ? AND e164 = ? AND captured_at <= ? ORDER BY captured_at DESC, id DESC LIMIT 1`, tenantID, e164, micros(at)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("consent")
	}
	if err != nil {
		return nil, storeErr("find consent", err)
	}
	return r, nil
}

func (t *tx) FindConsentHistory(ctx context.Context, tenantID int64, e164 string) ([]*phonebook.ConsentRecord, error) {
	rows, err := t.query(ctx, `SELECT `+consentColumns+` FROM consent_ledger WHERE tenant_id = ? AND e164 = ? ORDER BY captured_at, id`, tenantID, e164)
	if err != nil {
		return nil, storeErr("find consent history", err)
	}
	defer rows.Close()
	out := []*phonebook.ConsentRecord{}
	for rows.Next() {
		r, err := scanConsent(rows)
		if err != nil {
			return nil, storeErr("scan consent", err)
		}
		out = append(out, r)
	}
	return out, storeErr("find consent history", rows.Err())
}
