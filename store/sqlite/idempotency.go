package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/phonebook/phonebook"
)

func (t *tx) ReserveIdempotencyKey(ctx context.Context, rec *phonebook.IdempotencyRecord, expiredBefore, staleBefore time.Time) (*phonebook.IdempotencyRecord, error) {
	var old phonebook.IdempotencyRecord
	var created int64
	err := t.queryRow(ctx, `SELECT request_hash, status, content_type, etag, location, body, created_at
		FROM idempotency_keys WHERE tenant_id = ? AND idem_key = ?`, rec.TenantID, rec.Key).
		Scan(&old.RequestHash, &old.Status, &old.ContentType, &old.ETag, &old.Location, &old.Body, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, storeErr("find idempotency key", err)
	default:
		old.TenantID, old.Key, old.CreatedAt = rec.TenantID, rec.Key, fromMicros(created)
		live := old.CreatedAt.After(expiredBefore) && (old.Done() || old.CreatedAt.After(staleBefore))
		if live {
			return &old, nil
		}
		if _, err := t.exec(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = ? AND idem_key = ?`, rec.TenantID, rec.Key); err != nil {
			return nil, storeErr("expire idempotency key", err)
		}
	}
	// Expired records of the tenant go too, a few at a time, so the table
	// stays the size of one day of POSTs.
	if _, err := t.exec(ctx, `DELETE FROM idempotency_keys WHERE rowid IN
		(SELECT rowid FROM idempotency_keys WHERE created_at < ? LIMIT 100)`, micros(expiredBefore)); err != nil {
		return nil, storeErr("expire idempotency keys", err)
	}
	_, err = t.exec(ctx, `INSERT INTO idempotency_keys (tenant_id, idem_key, request_hash, created_at) VALUES (?, ?, ?, ?)`,
		rec.TenantID, rec.Key, rec.RequestHash, micros(rec.CreatedAt))
	return nil, storeErr("reserve idempotency key", err)
}

func (t *tx) CompleteIdempotencyKey(ctx context.Context, rec *phonebook.IdempotencyRecord) error {
	_, err := t.exec(ctx, `UPDATE idempotency_keys SET status = ?, content_type = ?, etag = ?, location = ?, body = ?
		WHERE tenant_id = ? AND idem_key = ?`, rec.Status, rec.ContentType, rec.ETag, rec.Location, rec.Body, rec.TenantID, rec.Key)
	return storeErr("complete idempotency key", err)
}

func (t *tx) ReleaseIdempotencyKey(ctx context.Context, tenantID int64, key string) error {
	_, err := t.exec(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = ? AND idem_key = ?`, tenantID, key)
	return storeErr("release idempotency key", err)
}
