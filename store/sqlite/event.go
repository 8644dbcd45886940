package sqlite

import (
	"context"
	"database/sql"

	"github.com/google/uuid"

	"github.com/phonebook/phonebook"
)

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

func (t *tx) AddEvent(ctx context.Context, e *phonebook.Event) error {
	if e.ID == "" {
		e.ID = uuid.Must(uuid.NewV7()).String()
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = t.now()
	}
	err := t.tx.QueryRowContext(ctx, `INSERT INTO events (uuid, tenant_id, type, customer_id, phone_id, key_id, key_name, source, occurred_at, before, after)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		e.ID, e.TenantID, e.Type, nullInt(e.CustomerID), nullInt(e.PhoneID), nullInt(e.KeyID), e.KeyName, e.Source,
		micros(e.OccurredAt), nullJSON(e.Before), nullJSON(e.After)).Scan(&e.Seq)
	return storeErr("add event", err)
}

func (t *tx) FindEvents(ctx context.Context, tenantID int64, afterSeq int64, limit int) ([]*phonebook.Event, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT seq, uuid, tenant_id, type, customer_id, phone_id, key_id, key_name, source, occurred_at, before, after
		FROM events WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`, tenantID, afterSeq, limit)
	if err != nil {
		return nil, storeErr("find events", err)
	}
	defer rows.Close()
	out := []*phonebook.Event{}
	for rows.Next() {
		var e phonebook.Event
		var cust, ph, key sql.NullInt64
		var before, after sql.NullString
		var at int64
		if err := rows.Scan(&e.Seq, &e.ID, &e.TenantID, &e.Type, &cust, &ph, &key, &e.KeyName, &e.Source, &at, &before, &after); err != nil {
			return nil, storeErr("scan event", err)
		}
		e.CustomerID, e.PhoneID, e.KeyID = cust.Int64, ph.Int64, key.Int64
		e.OccurredAt = fromMicros(at)
		if before.Valid {
			e.Before = []byte(before.String)
		}
		if after.Valid {
			e.After = []byte(after.String)
		}
		out = append(out, &e)
	}
	return out, storeErr("find events", rows.Err())
}
