package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/phonebook/phonebook"
)

// LockIdempotencyKey always succeeds: the store has one writer, so a
// write transaction holds every key already, and the one writing process
// keeps track of requests still running itself.
func (t *tx) LockIdempotencyKey(context.Context, int64, string) (bool, error) {
	return true, nil
}

func (t *tx) FindIdempotencyRecord(ctx context.Context, tenantID int64, key string) (*phonebook.IdempotencyRecord, error) {
	rec := &phonebook.IdempotencyRecord{TenantID: tenantID, Key: key}
	var created int64
	err := t.queryRow(ctx, `SELECT request_hash, status, content_type, etag, location, body, created_at
		FROM idempotency_keys WHERE tenant_id = ? AND idem_key = ?`, tenantID, key).
		Scan(&rec.RequestHash, &rec.Status, &rec.ContentType, &rec.ETag, &rec.Location, &rec.Body, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, phonebook.Errorf(phonebook.ECodeNotFound, "Idempotency-Key", "no response stored for this key")
	}
	if err != nil {
		return nil, storeErr("find idempotency record", err)
	}
	rec.CreatedAt = fromMicros(created)
	return rec, nil
}

func (t *tx) SaveIdempotencyRecord(ctx context.Context, rec *phonebook.IdempotencyRecord, expiredBefore time.Time) error {
	// Expired records go a few at a time, so the table stays the size of
	// one day of POSTs.
	if _, err := t.exec(ctx, `DELETE FROM idempotency_keys WHERE rowid IN
		(SELECT rowid FROM idempotency_keys WHERE created_at < ? LIMIT 100)`, micros(expiredBefore)); err != nil {
		return storeErr("expire idempotency records", err)
	}
	_, err := t.exec(ctx, `INSERT OR REPLACE INTO idempotency_keys
		(tenant_id, idem_key, request_hash, status, content_type, etag, location, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rec.TenantID, rec.Key, rec.RequestHash, rec.Status, rec.ContentType, rec.ETag, rec.Location, rec.Body, micros(rec.CreatedAt))
	return storeErr("save idempotency record", err)
}
