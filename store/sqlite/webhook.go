package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/phonebook/phonebook"
)

func (t *tx) CreateWebhook(ctx context.Context, w *phonebook.Webhook, max int) error {
	// The one writer connection serializes creates: the count holds.
	var n int
	if err := t.queryRow(ctx, `SELECT count(*) FROM webhooks WHERE tenant_id = ?`, w.TenantID).Scan(&n); err != nil {
		return storeErr("count webhooks", err)
	}
	if n >= max {
		return webhookLimit(max)
	}
	var err error
	w.ID, err = t.insert(ctx, `INSERT INTO webhooks (tenant_id, url, event_types, secret, description, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		w.TenantID, w.URL, strings.Join(w.EventTypes, ","), w.Secret, w.Description, micros(w.CreatedAt))
	if err == nil {
		learn(&t.facts.webhooks, w.TenantID)
	}
	return storeErr("create webhook", err)
}

// webhookLimit is the error of a create beyond the tenant's limit.
func webhookLimit(max int) error {
	return phonebook.Errorf(phonebook.ECodeWebhookLimit, "", "the tenant has %d webhooks, the most allowed; delete one first", max)
}

const webhookColumns = `id, tenant_id, url, event_types, secret, description, created_at`

func scanWebhook(row interface{ Scan(...any) error }) (*phonebook.Webhook, error) {
	var w phonebook.Webhook
	var types string
	var created int64
	if err := row.Scan(&w.ID, &w.TenantID, &w.URL, &types, &w.Secret, &w.Description, &created); err != nil {
		return nil, err
	}
	w.EventTypes = strings.Split(types, ",")
	w.CreatedAt = fromMicros(created)
	return &w, nil
}

func (t *tx) FindWebhooks(ctx context.Context, tenantID int64) ([]*phonebook.Webhook, error) {
	rows, err := t.query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE tenant_id = ? ORDER BY id`, tenantID)
	if err != nil {
		return nil, storeErr("find webhooks", err)
	}
	defer rows.Close()
	out := []*phonebook.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, storeErr("scan webhook", err)
		}
		out = append(out, w)
	}
	return out, storeErr("find webhooks", rows.Err())
}

func (t *tx) FindWebhook(ctx context.Context, tenantID, id int64) (*phonebook.Webhook, error) {
	w, err := scanWebhook(t.queryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("webhook")
	}
	if err != nil {
		return nil, storeErr("find webhook", err)
	}
	return w, nil
}

func (t *tx) DeleteWebhook(ctx context.Context, tenantID, id int64) error {
	res, err := t.exec(ctx, `DELETE FROM webhooks WHERE tenant_id = ? AND id = ?`, tenantID, id)
	delete(t.facts.webhooks, tenantID) // it may have been the last one
	if err != nil {
		return storeErr("delete webhook", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("webhook")
	}
	return nil
}

const deliveryColumns = `d.id, d.webhook_id, e.uuid, e.type, d.customer_id, d.status, d.attempts, d.next_attempt_at, d.created_at, d.delivered_at`

func scanDelivery(row interface{ Scan(...any) error }) (*phonebook.Delivery, error) {
	var d phonebook.Delivery
	var next, created int64
	var delivered sql.NullInt64
	if err := row.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &d.CustomerID, &d.Status, &d.Attempts, &next, &created, &delivered); err != nil {
		return nil, err
	}
	if d.Status == phonebook.DeliveryPending {
		n := fromMicros(next)
		d.NextAttemptAt = &n
	}
	d.CreatedAt = fromMicros(created)
	d.DeliveredAt = fromNullMicros(delivered)
	d.AttemptLog = []phonebook.DeliveryAttempt{}
	return &d, nil
}

func (t *tx) FindDeliveries(ctx context.Context, tenantID, webhookID int64, limit int) ([]*phonebook.Delivery, error) {
	rows, err := t.query(ctx, `SELECT `+deliveryColumns+` FROM deliveries d JOIN events e ON e.seq = d.event_seq
		WHERE d.tenant_id = ? AND d.webhook_id = ? ORDER BY d.id DESC LIMIT ?`, tenantID, webhookID, limit)
	if err != nil {
		return nil, storeErr("find deliveries", err)
	}
	out := []*phonebook.Delivery{}
	byID := map[int64]*phonebook.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, storeErr("scan delivery", err)
		}
		out = append(out, d)
		byID[d.ID] = d
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, storeErr("find deliveries", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	// The attempts of the listed deliveries, in one query.
	arows, err := t.query(ctx, `SELECT a.delivery_id, a.attempt, a.at, a.status_code, a.error, a.reason, a.duration_ms
		FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
		WHERE d.tenant_id = ? AND d.webhook_id = ? AND a.delivery_id >= ? ORDER BY a.delivery_id, a.attempt`,
		tenantID, webhookID, out[len(out)-1].ID)
	if err != nil {
		return nil, storeErr("find attempts", err)
	}
	defer arows.Close()
	for arows.Next() {
		var id, at int64
		var a phonebook.DeliveryAttempt
		if err := arows.Scan(&id, &a.N, &at, &a.StatusCode, &a.Error, &a.Reason, &a.DurationMS); err != nil {
			return nil, storeErr("scan attempt", err)
		}
		a.At = fromMicros(at)
		if d := byID[id]; d != nil {
			d.AttemptLog = append(d.AttemptLog, a)
		}
	}
	return out, storeErr("find attempts", arows.Err())
}

func (t *tx) RequeueDelivery(ctx context.Context, tenantID, webhookID, deliveryID int64, now time.Time) (*phonebook.Delivery, error) {
	res, err := t.exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, leased_until = 0, delivered_at = NULL
		WHERE tenant_id = ? AND webhook_id = ? AND id = ?`, micros(now), tenantID, webhookID, deliveryID)
	if err != nil {
		return nil, storeErr("requeue delivery", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, notFound("delivery")
	}
	d, err := scanDelivery(t.queryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.id = ?`, deliveryID))
	return d, storeErr("find delivery", err)
}

func (t *tx) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*phonebook.ClaimedDelivery, error) {
	// The single writer serializes claims: no two workers see the same row.
	rows, err := t.query(ctx, `SELECT d.id FROM deliveries d
		WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND d.leased_until <= ?
		  AND NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.webhook_id = d.webhook_id AND p.customer_id = d.customer_id
		                  AND p.status = 'pending' AND p.id < d.id)
		ORDER BY d.id LIMIT ?`, micros(now), micros(now), limit)
	if err != nil {
		return nil, storeErr("claim deliveries", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, storeErr("claim deliveries", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := []*phonebook.ClaimedDelivery{}
	for _, id := range ids {
		if _, err := t.exec(ctx, `UPDATE deliveries SET leased_until = ?, attempts = attempts + 1 WHERE id = ?`, micros(leaseUntil), id); err != nil {
			return nil, storeErr("lease delivery", err)
		}
		c, err := t.claimed(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// claimed loads a delivery with its webhook and event.
func (t *tx) claimed(ctx context.Context, id int64) (*phonebook.ClaimedDelivery, error) {
	d, err := scanDelivery(t.queryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.id = ?`, id))
	if err != nil {
		return nil, storeErr("find delivery", err)
	}
	var tenantID, seq int64
	if err := t.queryRow(ctx, `SELECT tenant_id, event_seq FROM deliveries WHERE id = ?`, id).Scan(&tenantID, &seq); err != nil {
		return nil, storeErr("find delivery", err)
	}
	w, err := t.FindWebhook(ctx, tenantID, d.WebhookID)
	if err != nil {
		return nil, err
	}
	evs, err := t.findEvents(ctx, `e.seq = ?`, []any{seq}, 1)
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, notFound("event")
	}
	return &phonebook.ClaimedDelivery{Delivery: d, Webhook: w, Event: evs[0]}, nil
}

func (t *tx) RecordAttempt(ctx context.Context, deliveryID int64, at phonebook.DeliveryAttempt, status string, next *time.Time) error {
	if _, err := t.exec(ctx, `INSERT OR REPLACE INTO delivery_attempts (delivery_id, attempt, at, status_code, error, reason, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, deliveryID, at.N, micros(at.At), at.StatusCode, at.Error, at.Reason, at.DurationMS); err != nil {
		return storeErr("record attempt", err)
	}
	var delivered any
	nextAt := int64(0)
	if status == phonebook.DeliveryDelivered {
		delivered = micros(at.At)
	}
	if next != nil {
		nextAt = micros(*next)
	}
	_, err := t.exec(ctx, `UPDATE deliveries SET status = ?, next_attempt_at = ?, leased_until = 0, delivered_at = ? WHERE id = ?`,
		status, nextAt, delivered, deliveryID)
	return storeErr("record attempt", err)
}
