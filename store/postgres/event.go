package postgres

import (
	"context"

	"github.com/google/uuid"

	"github.com/phonebook/phonebook"
)

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
	err := t.tx.QueryRow(ctx, `INSERT INTO events (uuid, tenant_id, type, customer_id, phone_id, key_id, key_name, source, occurred_at, before, after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb) RETURNING seq`,
		e.ID, e.TenantID, e.Type, nullInt(e.CustomerID), nullInt(e.PhoneID), nullInt(e.KeyID), e.KeyName, e.Source,
		utc(e.OccurredAt), nullJSON(e.Before), nullJSON(e.After)).Scan(&e.Seq)
	return storeErr("add event", err)
}

func (t *tx) FindEvents(ctx context.Context, tenantID int64, afterSeq int64, limit int) ([]*phonebook.Event, error) {
	rows, err := t.tx.Query(ctx, `SELECT seq, uuid, tenant_id, type, customer_id, phone_id, key_id, key_name, source, occurred_at, before::text, after::text
		FROM events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, tenantID, afterSeq, limit)
	if err != nil {
		return nil, storeErr("find events", err)
	}
	defer rows.Close()
	out := []*phonebook.Event{}
	for rows.Next() {
		var e phonebook.Event
		var cust, ph, key *int64
		var before, after *string
		if err := rows.Scan(&e.Seq, &e.ID, &e.TenantID, &e.Type, &cust, &ph, &key, &e.KeyName, &e.Source, &e.OccurredAt, &before, &after); err != nil {
			return nil, storeErr("scan event", err)
		}
		if cust != nil {
			e.CustomerID = *cust
		}
		if ph != nil {
			e.PhoneID = *ph
		}
		if key != nil {
			e.KeyID = *key
		}
		e.OccurredAt = e.OccurredAt.UTC()
		if before != nil {
			e.Before = []byte(*before)
		}
		if after != nil {
			e.After = []byte(*after)
		}
		out = append(out, &e)
	}
	return out, storeErr("find events", rows.Err())
}
