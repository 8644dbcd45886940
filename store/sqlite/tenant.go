package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/phonebook/phonebook"
)

const tenantColumns = `id, uuid, slug, default_region, max_phones_per_customer, max_customers_per_number, strict_numbers, created_at`

func scanTenant(row interface{ Scan(...any) error }) (*phonebook.Tenant, error) {
	var t phonebook.Tenant
	var created int64
	if err := row.Scan(&t.ID, &t.UUID, &t.Slug, &t.DefaultRegion, &t.MaxPhonesPerCustomer, &t.MaxCustomersPerNumber, &t.StrictNumbers, &created); err != nil {
		return nil, err
	}
	t.CreatedAt = fromMicros(created)
	return &t, nil
}

func (t *tx) CreateTenant(ctx context.Context, tn *phonebook.Tenant) error {
	if tn.UUID == "" {
		tn.UUID = uuid.Must(uuid.NewV7()).String()
	}
	var err error
	tn.ID, err = t.insert(ctx, `INSERT INTO tenants (uuid, slug, default_region, max_phones_per_customer, max_customers_per_number, strict_numbers, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		tn.UUID, tn.Slug, tn.DefaultRegion, tn.MaxPhonesPerCustomer, tn.MaxCustomersPerNumber, tn.StrictNumbers, micros(tn.CreatedAt))
	if kind, _ := constraint(err); kind == "unique" {
		return phonebook.Errorf(phonebook.ECodeConflict, "slug", "tenant %q already exists", tn.Slug)
	}
	return storeErr("create tenant", err)
}

func (t *tx) FindTenantByID(ctx context.Context, id int64) (*phonebook.Tenant, error) {
	return t.findTenant(ctx, `id = ?`, id)
}

func (t *tx) FindTenantBySlug(ctx context.Context, slug string) (*phonebook.Tenant, error) {
	return t.findTenant(ctx, `slug = ?`, strings.TrimSpace(slug))
}

func (t *tx) findTenant(ctx context.Context, where string, arg any) (*phonebook.Tenant, error) {
	tn, err := scanTenant(t.queryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("tenant")
	}
	if err != nil {
		return nil, storeErr("find tenant", err)
	}
	return tn, nil
}

func (t *tx) FindTenants(ctx context.Context) ([]*phonebook.Tenant, error) {
	rows, err := t.query(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
	if err != nil {
		return nil, storeErr("find tenants", err)
	}
	defer rows.Close()
	out := []*phonebook.Tenant{}
	for rows.Next() {
		tn, err := scanTenant(rows)
		if err != nil {
			return nil, storeErr("scan tenant", err)
		}
		out = append(out, tn)
	}
	return out, storeErr("find tenants", rows.Err())
}
