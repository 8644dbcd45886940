package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phonebook/phonebook"
)

func (t *tx) CreateAPIKey(ctx context.Context, k *phonebook.APIKey, hash []byte) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO api_keys (tenant_id, name, prefix, key_hash, scopes, created_at, signing_secret, require_signature)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		k.TenantID, k.Name, k.Prefix, hash, strings.Join(k.Scopes, ","), utc(k.CreatedAt), k.SigningSecret, k.RequireSignature).Scan(&k.ID)
	if code, _ := violation(err); code == "23505" {
		return phonebook.Errorf(phonebook.ECodeConflict, "secret", "a key with this secret already exists")
	}
	return storeErr("create key", err)
}

const keyColumns = `k.id, k.tenant_id, k.name, k.prefix, k.scopes, k.created_at, k.revoked_at, t.slug, k.signing_secret, k.require_signature, k.key_hash`

func scanKey(row pgx.Row) (*phonebook.APIKey, error) {
	var k phonebook.APIKey
	var scopes string
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &scopes, &k.CreatedAt, &k.RevokedAt, &k.TenantSlug, &k.SigningSecret, &k.RequireSignature, &k.Hash); err != nil {
		return nil, err
	}
	k.Scopes = strings.Split(scopes, ",")
	k.CreatedAt = k.CreatedAt.UTC()
	k.RevokedAt = utcPtr(k.RevokedAt)
	return &k, nil
}

func (t *tx) FindAPIKeyByHash(ctx context.Context, hash []byte) (*phonebook.APIKey, error) {
	k, err := scanKey(t.tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("key")
	}
	if err != nil {
		return nil, storeErr("find key", err)
	}
	return k, nil
}

func (t *tx) FindAPIKeys(ctx context.Context) ([]*phonebook.APIKey, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN tenants t ON t.id = k.tenant_id ORDER BY k.id`)
	if err != nil {
		return nil, storeErr("find keys", err)
	}
	defer rows.Close()
	out := []*phonebook.APIKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, storeErr("scan key", err)
		}
		out = append(out, k)
	}
	return out, storeErr("find keys", rows.Err())
}

func (t *tx) RevokeAPIKey(ctx context.Context, id int64, at time.Time) error {
	tag, err := t.tx.Exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`, utc(at), id)
	if err != nil {
		return storeErr("revoke key", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("key")
	}
	return nil
}

func (t *tx) FindAuth(ctx context.Context, hash []byte) (*phonebook.APIKey, *phonebook.Tenant, error) {
	var k phonebook.APIKey
	var tn phonebook.Tenant
	var scopes string
	err := t.tx.QueryRow(ctx, `SELECT k.id, k.tenant_id, k.name, k.prefix, k.scopes, k.created_at, k.revoked_at, k.signing_secret, k.require_signature, k.key_hash,
		t.id, t.uuid, t.slug, t.default_region, t.max_phones_per_customer, t.max_customers_per_number, t.strict_numbers, t.created_at
		FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = $1`, hash).Scan(
		&k.ID, &k.TenantID, &k.Name, &k.Prefix, &scopes, &k.CreatedAt, &k.RevokedAt, &k.SigningSecret, &k.RequireSignature, &k.Hash,
		&tn.ID, &tn.UUID, &tn.Slug, &tn.DefaultRegion, &tn.MaxPhonesPerCustomer, &tn.MaxCustomersPerNumber, &tn.StrictNumbers, &tn.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, notFound("key")
	}
	if err != nil {
		return nil, nil, storeErr("find key", err)
	}
	k.Scopes = strings.Split(scopes, ",")
	k.CreatedAt, k.RevokedAt, k.TenantSlug = k.CreatedAt.UTC(), utcPtr(k.RevokedAt), tn.Slug
	tn.CreatedAt = tn.CreatedAt.UTC()
	return &k, &tn, nil
}

func (t *tx) SetAPIKeyRequireSignature(ctx context.Context, id int64, on bool) error {
	var signing string
	err := t.tx.QueryRow(ctx, `SELECT signing_secret FROM api_keys WHERE id = $1 FOR UPDATE`, id).Scan(&signing)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("key")
	}
	if err != nil {
		return storeErr("find key", err)
	}
	if on && signing == "" {
		return errNoSigningSecret()
	}
	_, err = t.tx.Exec(ctx, `UPDATE api_keys SET require_signature = $1 WHERE id = $2`, on, id)
	return storeErr("set key require_signature", err)
}

// errNoSigningSecret refuses to make a key without a signing secret sign:
// there would be nothing to sign with.
func errNoSigningSecret() error {
	return phonebook.Errorf(phonebook.ECodeValidation, "require_signature", "the key has no signing secret: create a key with one (keys create --format v9 or --signing-secret)")
}
