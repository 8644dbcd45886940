package postgres

import (
	"context"
	"strconv"
	"time"

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
	// The event and the outbox of every subscriber (webhooks, publishers),
	// in the event's own transaction, in one statement: one round trip to
	// the server instead of three, on every write.
	err := t.tx.QueryRow(ctx, `WITH ev AS (
			INSERT INTO events (uuid, tenant_id, type, customer_id, phone_id, key_id, key_name, source, occurred_at, before, after)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb) RETURNING seq
		), d AS (
			INSERT INTO deliveries (webhook_id, tenant_id, event_seq, customer_id, next_attempt_at, created_at)
			SELECT w.id, w.tenant_id, ev.seq, $12, $9, $9 FROM webhooks w, ev
			WHERE w.tenant_id = $2 AND (w.event_types = '*' OR $3 = ANY (string_to_array(w.event_types, ',')))
		), p AS (
			INSERT INTO publications (publisher, event_seq) SELECT pb.name, ev.seq FROM publishers pb, ev
		)
		SELECT seq FROM ev`,
		e.ID, e.TenantID, e.Type, nullInt(e.CustomerID), nullInt(e.PhoneID), nullInt(e.KeyID), e.KeyName, e.Source,
		utc(e.OccurredAt), nullJSON(e.Before), nullJSON(e.After), e.CustomerID).Scan(&e.Seq)
	if err != nil {
		return storeErr("add event", err)
	}
	return nil
}

const eventColumns = `e.seq, e.uuid, e.tenant_id, t.slug, e.type, e.customer_id, e.phone_id, e.key_id, e.key_name, e.source, e.occurred_at, e.before::text, e.after::text`

// findEvents returns events matching where (on alias e, placeholders from
// $1), in seq order.
func (t *tx) findEvents(ctx context.Context, where string, args []any, limit int) ([]*phonebook.Event, error) {
	args = append(args, limit)
	rows, err := t.tx.Query(ctx, `SELECT `+eventColumns+` FROM events e JOIN tenants t ON t.id = e.tenant_id
		WHERE `+where+` ORDER BY e.seq LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, storeErr("find events", err)
	}
	defer rows.Close()
	out := []*phonebook.Event{}
	for rows.Next() {
		var e phonebook.Event
		var cust, ph, key *int64
		var before, after *string
		if err := rows.Scan(&e.Seq, &e.ID, &e.TenantID, &e.TenantSlug, &e.Type, &cust, &ph, &key, &e.KeyName, &e.Source, &e.OccurredAt, &before, &after); err != nil {
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

func (t *tx) FindEvents(ctx context.Context, tenantID int64, afterSeq int64, limit int) ([]*phonebook.Event, error) {
	return t.findEvents(ctx, `e.tenant_id = $1 AND e.seq > $2`, []any{tenantID, afterSeq}, limit)
}

func (t *tx) FindHistory(ctx context.Context, tenantID, customerID, phoneID, afterSeq int64, limit int) ([]*phonebook.Event, error) {
	if phoneID != 0 {
		return t.findEvents(ctx, `e.tenant_id = $1 AND e.customer_id = $2 AND e.phone_id = $3 AND e.seq > $4`, []any{tenantID, customerID, phoneID, afterSeq}, limit)
	}
	return t.findEvents(ctx, `e.tenant_id = $1 AND e.customer_id = $2 AND e.seq > $3`, []any{tenantID, customerID, afterSeq}, limit)
}

func (t *tx) RegisterPublisher(ctx context.Context, name string) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO publishers (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, name, utc(t.now()))
	return storeErr("register publisher", err)
}

func (t *tx) ClaimPublications(ctx context.Context, name, owner string, now, leaseUntil time.Time, limit int) ([]*phonebook.Event, bool, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE publishers SET owner = $1, leased_until = $2 WHERE name = $3 AND (owner = $1 OR leased_until <= $4)`,
		owner, utc(leaseUntil), name, utc(now))
	if err != nil {
		return nil, false, storeErr("lease publisher", err)
	}
	if tag.RowsAffected() == 0 {
		return nil, false, nil
	}
	evs, err := t.findEvents(ctx, `e.seq IN (SELECT event_seq FROM publications WHERE publisher = $1)`, []any{name}, limit)
	return evs, err == nil, err
}

func (t *tx) DeletePublications(ctx context.Context, name string, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	_, err := t.tx.Exec(ctx, `DELETE FROM publications WHERE publisher = $1 AND event_seq = ANY($2)`, name, seqs)
	return storeErr("delete publications", err)
}
