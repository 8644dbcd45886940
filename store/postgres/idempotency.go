package postgres

import (
	"context"
	"errors"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phonebook/phonebook"
)

// idempotencyLockSpace is the first half of the advisory lock key of an
// Idempotency-Key, so these locks never meet other advisory locks.
const idempotencyLockSpace = 0x1de0

func (t *tx) LockIdempotencyKey(ctx context.Context, tenantID int64, key string) (bool, error) {
	// A transaction-scoped advisory lock: released at commit or rollback,
	// and by the server when the node holding it dies with its connection.
	// Tried, not waited for: a repeat of a running request is told so.
	h := fnv.New32a()
	h.Write([]byte(strconv.FormatInt(tenantID, 10)))
	h.Write([]byte{0})
	h.Write([]byte(key))
	var ok bool
	err := t.tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1, $2)`, int32(idempotencyLockSpace), int32(h.Sum32())).Scan(&ok)
	if err != nil {
		return false, storeErr("lock idempotency key", err)
	}
	return ok, nil
}

func (t *tx) FindIdempotencyRecord(ctx context.Context, tenantID int64, key string) (*phonebook.IdempotencyRecord, error) {
	rec := &phonebook.IdempotencyRecord{TenantID: tenantID, Key: key}
	err := t.tx.QueryRow(ctx, `SELECT request_hash, status, content_type, etag, location, body, created_at
		FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2`, tenantID, key).
		Scan(&rec.RequestHash, &rec.Status, &rec.ContentType, &rec.ETag, &rec.Location, &rec.Body, &rec.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, phonebook.Errorf(phonebook.ECodeNotFound, "Idempotency-Key", "no response stored for this key")
	}
	if err != nil {
		return nil, storeErr("find idempotency record", err)
	}
	return rec, nil
}

func (t *tx) SaveIdempotencyRecord(ctx context.Context, rec *phonebook.IdempotencyRecord, expiredBefore time.Time) error {
	if _, err := t.tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE ctid IN
		(SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT 100)`, utc(expiredBefore)); err != nil {
		return storeErr("expire idempotency records", err)
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO idempotency_keys
		(tenant_id, idem_key, request_hash, status, content_type, etag, location, body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (tenant_id, idem_key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = EXCLUDED.status,
			content_type = EXCLUDED.content_type, etag = EXCLUDED.etag, location = EXCLUDED.location,
			body = EXCLUDED.body, created_at = EXCLUDED.created_at`,
		rec.TenantID, rec.Key, rec.RequestHash, rec.Status, rec.ContentType, rec.ETag, rec.Location, rec.Body, utc(rec.CreatedAt))
	return storeErr("save idempotency record", err)
}
