package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phonebook/phonebook"
)

func (t *tx) CreateConsoleSession(ctx context.Context, s *phonebook.ConsoleSession) error {
	// Inserted from the key's row, so a session can only name a key of its
	// own tenant.
	tag, err := t.tx.Exec(ctx, `INSERT INTO console_sessions (id, tenant_id, key_id, created_at, expires_at)
		SELECT $1, k.tenant_id, k.id, $2, $3 FROM api_keys k WHERE k.id = $4 AND k.tenant_id = $5`,
		s.ID, utc(s.CreatedAt), utc(s.ExpiresAt), s.KeyID, s.TenantID)
	if code, _ := violation(err); code == "23505" {
		return phonebook.Errorf(phonebook.ECodeConflict, "", "a console session with this id exists")
	}
	if err != nil {
		return storeErr("create console session", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("key")
	}
	return nil
}

func (t *tx) FindConsoleSession(ctx context.Context, id []byte) (*phonebook.ConsoleSession, *phonebook.APIKey, *phonebook.Tenant, error) {
	var s phonebook.ConsoleSession
	var k phonebook.APIKey
	var tn phonebook.Tenant
	var scopes string
	err := t.tx.QueryRow(ctx, `SELECT s.id, s.tenant_id, s.key_id, s.created_at, s.expires_at,
		k.id, k.tenant_id, k.name, k.prefix, k.scopes, k.created_at, k.revoked_at, k.signing_secret, k.require_signature, k.key_hash,
		t.id, t.uuid, t.slug, t.default_region, t.max_phones_per_customer, t.max_customers_per_number, t.strict_numbers, t.created_at
		FROM console_sessions s
		JOIN api_keys k ON k.id = s.key_id AND k.tenant_id = s.tenant_id
		JOIN tenants t ON t.id = s.tenant_id
		WHERE s.id = $1`, id).Scan(
		&s.ID, &s.TenantID, &s.KeyID, &s.CreatedAt, &s.ExpiresAt,
		&k.ID, &k.TenantID, &k.Name, &k.Prefix, &scopes, &k.CreatedAt, &k.RevokedAt, &k.SigningSecret, &k.RequireSignature, &k.Hash,
		&tn.ID, &tn.UUID, &tn.Slug, &tn.DefaultRegion, &tn.MaxPhonesPerCustomer, &tn.MaxCustomersPerNumber, &tn.StrictNumbers, &tn.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, nil, notFound("console session")
	}
	if err != nil {
		return nil, nil, nil, storeErr("find console session", err)
	}
	s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
	k.Scopes = strings.Split(scopes, ",")
	k.CreatedAt, k.RevokedAt, k.TenantSlug = k.CreatedAt.UTC(), utcPtr(k.RevokedAt), tn.Slug
	tn.CreatedAt = tn.CreatedAt.UTC()
	return &s, &k, &tn, nil
}

func (t *tx) DeleteConsoleSession(ctx context.Context, id []byte) error {
	tag, err := t.tx.Exec(ctx, `DELETE FROM console_sessions WHERE id = $1`, id)
	if err != nil {
		return storeErr("delete console session", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("console session")
	}
	return nil
}

func (t *tx) DeleteExpiredConsoleSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := t.tx.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1`, utc(now))
	if err != nil {
		return 0, storeErr("delete expired console sessions", err)
	}
	return tag.RowsAffected(), nil
}
