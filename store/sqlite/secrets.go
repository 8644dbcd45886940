package sqlite

import (
	"context"

	"github.com/phonebook/phonebook"
)

// FindSecrets lists the signing secrets of keys, the secrets of webhooks
// and the stored idempotent responses.
func (t *tx) FindSecrets(ctx context.Context) ([]*phonebook.StoredSecret, error) {
	rows, err := t.query(ctx, `
		SELECT 'api_key', id, 0, '', CAST(signing_secret AS BLOB) FROM api_keys WHERE signing_secret <> ''
		UNION ALL SELECT 'webhook', id, tenant_id, '', CAST(secret AS BLOB) FROM webhooks
		UNION ALL SELECT 'idempotency', 0, tenant_id, idem_key, body FROM idempotency_keys WHERE body IS NOT NULL`)
	if err != nil {
		return nil, storeErr("find secrets", err)
	}
	defer rows.Close()
	var out []*phonebook.StoredSecret
	for rows.Next() {
		s := &phonebook.StoredSecret{}
		if err := rows.Scan(&s.Kind, &s.ID, &s.TenantID, &s.Key, &s.Value); err != nil {
			return nil, storeErr("find secrets", err)
		}
		out = append(out, s)
	}
	return out, storeErr("find secrets", rows.Err())
}

// UpdateSecret writes s.Value back to its row.
func (t *tx) UpdateSecret(ctx context.Context, s *phonebook.StoredSecret) error {
	var q string
	var args []any
	switch s.Kind {
	case phonebook.SecretSigning:
		q, args = `UPDATE api_keys SET signing_secret = ? WHERE id = ?`, []any{string(s.Value), s.ID}
	case phonebook.SecretWebhook:
		q, args = `UPDATE webhooks SET secret = ? WHERE id = ?`, []any{string(s.Value), s.ID}
	case phonebook.SecretIdempotency:
		q, args = `UPDATE idempotency_keys SET body = ? WHERE tenant_id = ? AND idem_key = ?`, []any{s.Value, s.TenantID, s.Key}
	default:
		return phonebook.Errorf(phonebook.ECodeValidation, "kind", "unknown secret kind %q", s.Kind)
	}
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return storeErr("update secret", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return phonebook.Errorf(phonebook.ECodeNotFound, "", "%s secret not found", s.Kind)
	}
	return nil
}
