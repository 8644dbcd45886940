package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/phonebook/phonebook"
)

const customerColumns = `id, uuid, tenant_id, external_id, name, status, created_at, updated_at, version`

func scanCustomer(row pgx.Row) (*phonebook.Customer, error) {
	var c phonebook.Customer
	var ext *string
	if err := row.Scan(&c.ID, &c.UUID, &c.TenantID, &ext, &c.Name, &c.Status, &c.CreatedAt, &c.UpdatedAt, &c.Version); err != nil {
		return nil, err
	}
	if ext != nil {
		c.ExternalID = *ext
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

func externalIDTaken(err error) error {
	if code, _ := violation(err); code == "23505" {
		return phonebook.Errorf(phonebook.ECodeConflict, "external_id", "another customer has this external_id")
	}
	return nil
}

func (t *tx) CreateCustomer(ctx context.Context, c *phonebook.Customer) error {
	c.UUID = uuid.Must(uuid.NewV7()).String()
	err := t.tx.QueryRow(ctx, `INSERT INTO customers (uuid, tenant_id, external_id, name, status, created_at, updated_at, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		c.UUID, c.TenantID, nullString(c.ExternalID), c.Name, c.Status, utc(c.CreatedAt), utc(c.UpdatedAt), c.Version).Scan(&c.ID)
	if e := externalIDTaken(err); e != nil {
		return e
	}
	return storeErr("create customer", err)
}

func (t *tx) FindCustomer(ctx context.Context, tenantID int64, ref phonebook.CustomerRef, forUpdate bool) (*phonebook.Customer, error) {
	where, arg := `id = $2`, any(ref.ID)
	switch {
	case ref.UUID != "":
		if _, err := uuid.Parse(ref.UUID); err != nil {
			return nil, notFound("customer")
		}
		where, arg = `uuid = $2`, strings.ToLower(ref.UUID)
	case ref.ExternalID != "":
		where, arg = `external_id = $2`, ref.ExternalID
	case ref.ID == 0:
		return nil, notFound("customer")
	}
	q := `SELECT ` + customerColumns + ` FROM customers WHERE tenant_id = $1 AND ` + where
	if forUpdate {
		// Writers of one customer queue here: the phone limit and the
		// primary flag are decided by one transaction at a time.
		q += ` FOR UPDATE`
	}
	c, err := scanCustomer(t.tx.QueryRow(ctx, q, tenantID, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("customer")
	}
	if err != nil {
		return nil, storeErr("find customer", err)
	}
	return c, nil
}

func (t *tx) FindCustomers(ctx context.Context, tenantID int64, f phonebook.CustomerFilter) ([]*phonebook.Customer, error) {
	args := []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{`tenant_id = $1`}
	if f.ExternalID != "" {
		where = append(where, `external_id = `+arg(f.ExternalID))
	}
	if f.Status != "" {
		where = append(where, `status = `+arg(f.Status))
	}
	if f.Q != "" {
		where = append(where, `name ILIKE `+arg("%"+likeEscaper.Replace(f.Q)+"%")+` ESCAPE '\'`)
	}
	if f.PhoneE164 != "" {
		where = append(where, `id IN (SELECT customer_id FROM phones WHERE tenant_id = $1 AND e164 = `+arg(f.PhoneE164)+`)`)
	}
	// Names sort by their ASCII lower case (lower() under COLLATE "C"
	// folds ASCII only, as SQLite's NOCASE does), so both stores page the
	// same way.
	order := `created_at, id`
	switch f.Sort {
	case phonebook.SortCreatedDesc:
		order = `created_at DESC, id DESC`
	case phonebook.SortName:
		order = `lower(name COLLATE "C") COLLATE "C", id`
	}
	if c := f.After; c != nil {
		switch f.Sort {
		case phonebook.SortName:
			where = append(where, `(lower(name COLLATE "C") COLLATE "C", id) > (lower(`+arg(c.Key)+` COLLATE "C") COLLATE "C", `+arg(c.ID)+`)`)
		default:
			us, err := strconv.ParseInt(c.Key, 10, 64)
			if err != nil {
				return nil, phonebook.Errorf(phonebook.ECodeValidation, "cursor", "cursor is not valid for this list")
			}
			op := ">"
			if f.Sort == phonebook.SortCreatedDesc {
				op = "<"
			}
			where = append(where, `(created_at, id) `+op+` (`+arg(time.UnixMicro(us).UTC())+`, `+arg(c.ID)+`)`)
		}
	}
	q := `SELECT ` + customerColumns + ` FROM customers WHERE ` + strings.Join(where, " AND ") + ` ORDER BY ` + order + ` LIMIT ` + arg(f.Limit)
	rows, err := t.tx.Query(ctx, q, args...)
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
	tag, err := t.tx.Exec(ctx, `UPDATE customers SET external_id = $1, name = $2, status = $3, updated_at = $4, version = $5
		WHERE tenant_id = $6 AND id = $7`,
		nullString(c.ExternalID), c.Name, c.Status, utc(c.UpdatedAt), c.Version, c.TenantID, c.ID)
	if e := externalIDTaken(err); e != nil {
		return e
	}
	if err != nil {
		return storeErr("update customer", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("customer")
	}
	return nil
}

func (t *tx) DeleteCustomer(ctx context.Context, tenantID, id int64) error {
	tag, err := t.tx.Exec(ctx, `DELETE FROM customers WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err != nil {
		return storeErr("delete customer", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("customer")
	}
	return nil
}
