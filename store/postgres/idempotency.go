package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phonebook/phonebook"
)

func (t *tx) ReserveIdempotencyKey(ctx context.Context, rec *phonebook.IdempotencyRecord, expiredBefore, staleBefore time.Time) (*phonebook.IdempotencyRecord, error) {
	// Insert first: of two nodes racing on one key, exactly one inserts;
	// the other waits for it here and then reads its row.
	tag, err := t.tx.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, rec.TenantID, rec.Key, rec.RequestHash, utc(rec.CreatedAt))
	if err != nil {
		return nil, storeErr("reserve idempotency key", err)
	}
	if tag.RowsAffected() == 1 {
		_, err := t.tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE ctid IN
			(SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT 100)`, utc(expiredBefore))
		return nil, storeErr("expire idempotency keys", err)
	}
	var old phonebook.IdempotencyRecord
	err = t.tx.QueryRow(ctx, `SELECT request_hash, status, content_type, etag, location, body, created_at
		FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2 FOR UPDATE`, rec.TenantID, rec.Key).
		Scan(&old.RequestHash, &old.Status, &old.ContentType, &old.ETag, &old.Location, &old.Body, &old.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, phonebook.Errorf(phonebook.ECodeConflict, "Idempotency-Key", "a request with this Idempotency-Key is in progress")
	}
	if err != nil {
		return nil, storeErr("find idempotency key", err)
	}
	old.TenantID, old.Key = rec.TenantID, rec.Key
	if old.CreatedAt.After(expiredBefore) && (old.Done() || old.CreatedAt.After(staleBefore)) {
		return &old, nil
	}
	_, err = t.tx.Exec(ctx, `UPDATE idempotency_keys SET request_hash = $3, status = 0, content_type = '', etag = '', location = '', body = NULL, created_at = $4
		WHERE tenant_id = $1 AND idem_key = $2`, rec.TenantID, rec.Key, rec.RequestHash, utc(rec.CreatedAt))
	return nil, storeErr("renew idempotency key", err)
}

func (t *tx) CompleteIdempotencyKey(ctx context.Context, rec *phonebook.IdempotencyRecord) error {
	_, err := t.tx.Exec(ctx, `UPDATE idempotency_keys SET status = $1, content_type = $2, etag = $3, location = $4, body = $5
		WHERE tenant_id = $6 AND idem_key = $7`, rec.Status, rec.ContentType, rec.ETag, rec.Location, rec.Body, rec.TenantID, rec.Key)
	return storeErr("complete idempotency key", err)
}

func (t *tx) ReleaseIdempotencyKey(ctx context.Context, tenantID int64, key string) error {
	_, err := t.tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2`, tenantID, key)
	return storeErr("release idempotency key", err)
}
