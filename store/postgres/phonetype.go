package postgres

import (
	"context"

	"github.com/phonebook/phonebook"
)

func (t *tx) CreatePhoneType(ctx context.Context, tenantID int64, pt *phonebook.PhoneType) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO phone_types (tenant_id, name, built_in, created_at) VALUES ($1, $2, $3, $4)`,
		tenantID, pt.Name, pt.BuiltIn, utc(pt.CreatedAt))
	if code, _ := violation(err); code == "23505" {
		return phonebook.Errorf(phonebook.ECodeConflict, "name", "phone type %q already exists", pt.Name)
	}
	return storeErr("create phone type", err)
}

func (t *tx) FindPhoneTypes(ctx context.Context, tenantID int64) ([]*phonebook.PhoneType, error) {
	rows, err := t.tx.Query(ctx, `SELECT name, built_in, created_at FROM phone_types WHERE tenant_id = $1 ORDER BY name COLLATE "C"`, tenantID)
	if err != nil {
		return nil, storeErr("find phone types", err)
	}
	defer rows.Close()
	out := []*phonebook.PhoneType{}
	for rows.Next() {
		var pt phonebook.PhoneType
		if err := rows.Scan(&pt.Name, &pt.BuiltIn, &pt.CreatedAt); err != nil {
			return nil, storeErr("scan phone type", err)
		}
		pt.CreatedAt = pt.CreatedAt.UTC()
		out = append(out, &pt)
	}
	return out, storeErr("find phone types", rows.Err())
}

func (t *tx) DeletePhoneType(ctx context.Context, tenantID int64, name string) error {
	tag, err := t.tx.Exec(ctx, `DELETE FROM phone_types WHERE tenant_id = $1 AND name = $2`, tenantID, name)
	if code, _ := violation(err); code == "23503" {
		return phonebook.Errorf(phonebook.ECodeTypeInUse, "name", "phone type %q is used by phones", name)
	}
	if err != nil {
		return storeErr("delete phone type", err)
	}
	if tag.RowsAffected() == 0 {
		return phonebook.Errorf(phonebook.ECodeNotFound, "name", "phone type %q not found", name)
	}
	return nil
}
