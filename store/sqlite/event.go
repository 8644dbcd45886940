package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

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
	var err error
	e.Seq, err = t.insert(ctx, `INSERT INTO events (uuid, tenant_id, type, customer_id, phone_id, key_id, key_name, source, occurred_at, before, after)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.TenantID, e.Type, nullInt(e.CustomerID), nullInt(e.PhoneID), nullInt(e.KeyID), e.KeyName, e.Source,
		micros(e.OccurredAt), nullJSON(e.Before), nullJSON(e.After))
	if err != nil {
		return storeErr("add event", err)
	}
	// The outbox of every subscriber, in the event's own transaction.
	if err := t.queueDeliveries(ctx, e); err != nil {
		return err
	}
	return t.queuePublications(ctx, e)
}

// queueDeliveries queues e for every webhook of its tenant that wants it.
func (t *tx) queueDeliveries(ctx context.Context, e *phonebook.Event) error {
	has, err := t.hasWebhooks(ctx, e.TenantID)
	if err != nil {
		return storeErr("find webhooks", err)
	}
	if !has {
		return nil
	}
	_, err = t.exec(ctx, `INSERT INTO deliveries (webhook_id, tenant_id, event_seq, customer_id, next_attempt_at, created_at)
		SELECT id, tenant_id, ?, ?, ?, ? FROM webhooks
		WHERE tenant_id = ? AND (event_types = '*' OR ',' || event_types || ',' LIKE '%,' || ? || ',%')`,
		e.Seq, e.CustomerID, micros(e.OccurredAt), micros(e.OccurredAt), e.TenantID, e.Type)
	return storeErr("queue deliveries", err)
}

// queuePublications queues e for every registered publisher (NATS).
func (t *tx) queuePublications(ctx context.Context, e *phonebook.Event) error {
	has, err := t.hasPublishers(ctx)
	if err != nil {
		return storeErr("find publishers", err)
	}
	if !has {
		return nil
	}
	_, err = t.exec(ctx, `INSERT INTO publications (publisher, event_seq) SELECT name, ? FROM publishers`, e.Seq)
	return storeErr("queue publications", err)
}

const eventColumns = `e.seq, e.uuid, e.tenant_id, t.slug, e.type, e.customer_id, e.phone_id, e.key_id, e.key_name, e.source, e.occurred_at, e.before, e.after`

// findEvents returns events matching where (on alias e), in seq order.
func (t *tx) findEvents(ctx context.Context, where string, args []any, limit int) ([]*phonebook.Event, error) {
	rows, err := t.query(ctx, `SELECT `+eventColumns+` FROM events e JOIN tenants t ON t.id = e.tenant_id
		WHERE `+where+` ORDER BY e.seq LIMIT ?`, append(args, limit)...)
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
		if err := rows.Scan(&e.Seq, &e.ID, &e.TenantID, &e.TenantSlug, &e.Type, &cust, &ph, &key, &e.KeyName, &e.Source, &at, &before, &after); err != nil {
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

func (t *tx) FindEvents(ctx context.Context, tenantID int64, afterSeq int64, limit int) ([]*phonebook.Event, error) {
	return t.findEvents(ctx, `e.tenant_id = ? AND e.seq > ?`, []any{tenantID, afterSeq}, limit)
}

func (t *tx) FindHistory(ctx context.Context, tenantID, customerID, phoneID, afterSeq int64, limit int) ([]*phonebook.Event, error) {
	if phoneID != 0 {
		return t.findEvents(ctx, `e.tenant_id = ? AND e.customer_id = ? AND e.phone_id = ? AND e.seq > ?`, []any{tenantID, customerID, phoneID, afterSeq}, limit)
	}
	return t.findEvents(ctx, `e.tenant_id = ? AND e.customer_id = ? AND e.seq > ?`, []any{tenantID, customerID, afterSeq}, limit)
}

func (t *tx) RegisterPublisher(ctx context.Context, name string) error {
	_, err := t.exec(ctx, `INSERT INTO publishers (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING`, name, micros(t.now()))
	yes := true
	t.facts.publishers = &yes
	return storeErr("register publisher", err)
}

func (t *tx) ClaimPublications(ctx context.Context, name, owner string, now, leaseUntil time.Time, limit int) ([]*phonebook.Event, bool, error) {
	res, err := t.exec(ctx, `UPDATE publishers SET owner = ?, leased_until = ? WHERE name = ? AND (owner = ? OR leased_until <= ?)`,
		owner, micros(leaseUntil), name, owner, micros(now))
	if err != nil {
		return nil, false, storeErr("lease publisher", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, false, nil
	}
	evs, err := t.findEvents(ctx, `e.seq IN (SELECT event_seq FROM publications WHERE publisher = ?)`, []any{name}, limit)
	return evs, err == nil, err
}

func (t *tx) DeletePublications(ctx context.Context, name string, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	args := []any{name}
	for _, s := range seqs {
		args = append(args, s)
	}
	in := strings.Repeat("?,", len(seqs))
	_, err := t.exec(ctx, `DELETE FROM publications WHERE publisher = ? AND event_seq IN (`+in[:len(in)-1]+`)`, args...)
	return storeErr("delete publications", err)
}
