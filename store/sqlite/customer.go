package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/phonebook/phonebook"
)

const customerColumns = `id, uuid, tenant_id, external_id, name, status, created_at, updated_at, version`

func scanCustomer(row interface{ Scan(...any) error }) (*phonebook.Customer, error) {
	var c phonebook.Customer
	var ext sql.NullString
	var created, updated int64
	if err := row.Scan(&c.ID, &c.UUID, &c.TenantID, &ext, &c.Name, &c.Status, &created, &updated, &c.Version); err != nil {
		return nil, err
	}
	c.ExternalID = ext.String
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func externalIDTaken(err error) error {
	if kind, _ := constraint(err); kind == "unique" {
		return phonebook.Errorf(phonebook.ECodeConflict, "external_id", "another customer has this external_id")
	}
	return nil
}

func (t *tx) CreateCustomer(ctx context.Context, c *phonebook.Customer) error {
	c.UUID = uuid.Must(uuid.NewV7()).String()
	var err error
	c.ID, err = t.insert(ctx, `INSERT INTO customers (uuid, tenant_id, external_id, name, status, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.UUID, c.TenantID, nullString(c.ExternalID), c.Name, c.Status, micros(c.CreatedAt), micros(c.UpdatedAt), c.Version)
	if e := externalIDTaken(err); e != nil {
		return e
	}
	return storeErr("create customer", err)
}

func (t *tx) FindCustomer(ctx context.Context, tenantID int64, ref phonebook.CustomerRef, forUpdate bool) (*phonebook.Customer, error) {
	// forUpdate needs nothing here: a write transaction holds SQLite's one
	// write lock from BEGIN IMMEDIATE to COMMIT.
	where, arg := `id = ?`, any(ref.ID)
	switch {
	case ref.UUID != "":
		where, arg = `uuid = ?`, strings.ToLower(ref.UUID)
	case ref.ExternalID != "":
		where, arg = `external_id = ?`, ref.ExternalID
	case ref.ID == 0:
		return nil, notFound("customer")
	}
	c, err := scanCustomer(t.queryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE tenant_id = ? AND `+where, tenantID, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("customer")
	}
	if err != nil {
		return nil, storeErr("find customer", err)
	}
	return c, nil
}

func (t *tx) FindCustomers(ctx context.Context, tenantID int64, f phonebook.CustomerFilter) ([]*phonebook.Customer, error) {
	where := []string{`tenant_id = ?`}
	args := []any{tenantID}
	if f.ExternalID != "" {
		where = append(where, `external_id = ?`)
		args = append(args, f.ExternalID)
	}
	if f.Status != "" {
		where = append(where, `status = ?`)
		args = append(args, f.Status)
	}
	if f.Q != "" {
		where = append(where, `name LIKE ? ESCAPE '\'`)
		args = append(args, "%"+likeEscaper.Replace(f.Q)+"%")
	}
	if f.PhoneE164 != "" {
		where = append(where, `id IN (SELECT customer_id FROM phones WHERE tenant_id = ? AND e164 = ?)`)
		args = append(args, tenantID, f.PhoneE164)
	}
	order := `created_at, id`
	switch f.Sort {
	case phonebook.SortCreatedDesc:
		order = `created_at DESC, id DESC`
	case phonebook.SortName:
		order = `name COLLATE NOCASE, id`
	}
	if c := f.After; c != nil {
		switch f.Sort {
		case phonebook.SortName:
			where = append(where, `(name COLLATE NOCASE > ? OR (name COLLATE NOCASE = ? AND id > ?))`)
			args = append(args, c.Key, c.Key, c.ID)
		default:
			at, err := strconv.ParseInt(c.Key, 10, 64)
			if err != nil {
				return nil, phonebook.Errorf(phonebook.ECodeValidation, "cursor", "cursor is not valid for this list")
			}
			op := ">"
			if f.Sort == phonebook.SortCreatedDesc {
				op = "<"
			}
			where = append(where, `(created_at `+op+` ? OR (created_at = ? AND id `+op+` ?))`)
			args = append(args, at, at, c.ID)
		}
	}
	args = append(args, f.Limit)
	rows, err := t.query(ctx, `SELECT `+customerColumns+` FROM customers WHERE `+strings.Join(where, " AND ")+` ORDER BY `+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, storeErr("find customers", err)
	}
	defer rows.Close()
	out := []*phonebook.Customer{}
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, storeErr("scan customer", err)
		}
		out = append(out, c)
	}
	return out, storeErr("find customers", rows.Err())
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func (t *tx) UpdateCustomer(ctx context.Context, c *phonebook.Customer) error {
	res, err := t.exec(ctx, `UPDATE customers SET external_id = ?, name = ?, status = ?, updated_at = ?, version = ?
		WHERE tenant_id = ? AND id = ?`,
		nullString(c.ExternalID), c.Name, c.Status, micros(c.UpdatedAt), c.Version, c.TenantID, c.ID)
	if e := externalIDTaken(err); e != nil {
		return e
	}
	if err != nil {
		return storeErr("update customer", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("customer")
	}
	return nil
}

func (t *tx) DeleteCustomer(ctx context.Context, tenantID, id int64) error {
	res, err := t.exec(ctx, `DELETE FROM customers WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return storeErr("delete customer", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("customer")
	}
	return nil
}
