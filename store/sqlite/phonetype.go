package sqlite

import (
	"context"

	"github.com/phonebook/phonebook"
)

func (t *tx) CreatePhoneType(ctx context.Context, tenantID int64, pt *phonebook.PhoneType) error {
	_, err := t.exec(ctx, `INSERT INTO phone_types (tenant_id, name, built_in, created_at) VALUES (?, ?, ?, ?)`,
		tenantID, pt.Name, pt.BuiltIn, micros(pt.CreatedAt))
	if kind, _ := constraint(err); kind == "unique" {
		return phonebook.Errorf(phonebook.ECodeConflict, "name", "phone type %q already exists", pt.Name)
	}
	return storeErr("create phone type", err)
}

func (t *tx) FindPhoneTypes(ctx context.Context, tenantID int64) ([]*phonebook.PhoneType, error) {
	rows, err := t.query(ctx, `SELECT name, built_in, created_at FROM phone_types WHERE tenant_id = ? ORDER BY name`, tenantID)
	if err != nil {
		return nil, storeErr("find phone types", err)
	}
	defer rows.Close()
	out := []*phonebook.PhoneType{}
	for rows.Next() {
		var pt phonebook.PhoneType
		var created int64
		if err := rows.Scan(&pt.Name, &pt.BuiltIn, &created); err != nil {
			return nil, storeErr("scan phone type", err)
		}
		pt.CreatedAt = fromMicros(created)
		out = append(out, &pt)
	}
	return out, storeErr("find phone types", rows.Err())
}

func (t *tx) DeletePhoneType(ctx context.Context, tenantID int64, name string) error {
	res, err := t.exec(ctx, `DELETE FROM phone_types WHERE tenant_id = ? AND name = ?`, tenantID, name)
	if kind, _ := constraint(err); kind == "foreignkey" {
		return phonebook.Errorf(phonebook.ECodeTypeInUse, "name", "phone type %q is used by phones", name)
	}
	if err != nil {
		return storeErr("delete phone type", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return phonebook.Errorf(phonebook.ECodeNotFound, "name", "phone type %q not found", name)
	}
	return nil
}
