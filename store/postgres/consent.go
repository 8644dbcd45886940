package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phonebook/phonebook"
)

func (t *tx) AddConsent(ctx context.Context, r *phonebook.ConsentRecord) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO consent_ledger (tenant_id, e164, type, source, evidence, captured_at, recorded_at, key_id, key_name, via)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		r.TenantID, r.E164, r.Type, r.Source, r.Evidence, utc(r.CapturedAt), utc(r.RecordedAt), nullInt(r.KeyID), r.KeyName, r.Via).Scan(&r.ID)
	return storeErr("add consent", err)
}

const consentColumns = `id, tenant_id, e164, type, source, evidence, captured_at, recorded_at, key_id, key_name, via`

func scanConsent(row pgx.Row) (*phonebook.ConsentRecord, error) {
	var r phonebook.ConsentRecord
	var key *int64
	if err := row.Scan(&r.ID, &r.TenantID, &r.E164, &r.Type, &r.Source, &r.Evidence, &r.CapturedAt, &r.RecordedAt, &key, &r.KeyName, &r.Via); err != nil {
		return nil, err
	}
	if key != nil {
		r.KeyID = *key
	}
	r.CapturedAt, r.RecordedAt = r.CapturedAt.UTC(), r.RecordedAt.UTC()
	return &r, nil
}

func (t *tx) FindConsentAt(ctx context.Context, tenantID int64, e164 string, at time.Time) (*phonebook.ConsentRecord, error) {
	r, err := scanConsent(t.tx.QueryRow(ctx, `SELECT `+consentColumns+` FROM consent_ledger
		WHERE tenant_id = $1 AND e164 = $2 AND captured_at <= $3 ORDER BY captured_at DESC, id DESC LIMIT 1`, tenantID, e164, utc(at)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("consent")
	}
	if err != nil {
		return nil, storeErr("find consent", err)
	}
	return r, nil
}

func (t *tx) FindConsentHistory(ctx context.Context, tenantID int64, e164 string) ([]*phonebook.ConsentRecord, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+consentColumns+` FROM consent_ledger WHERE tenant_id = $1 AND e164 = $2 ORDER BY captured_at, id`, tenantID, e164)
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
