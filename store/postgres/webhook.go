package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phonebook/phonebook"
)

func (t *tx) CreateWebhook(ctx context.Context, w *phonebook.Webhook, max int) error {
	// The tenant's row lock serializes its creates on every node, so two
	// concurrent creates cannot both see max-1. NO KEY UPDATE does not
	// block the key-share locks of foreign keys to the tenant.
	// The count is a statement of its own, after the lock: under READ
	// COMMITTED it sees what the creator the lock waited for committed.
	if _, err := t.tx.Exec(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, w.TenantID); err != nil {
		return storeErr("lock tenant", err)
	}
	var n int
	if err := t.tx.QueryRow(ctx, `SELECT count(*) FROM webhooks WHERE tenant_id = $1`, w.TenantID).Scan(&n); err != nil {
		return storeErr("count webhooks", err)
	}
	if n >= max {
		return phonebook.Errorf(phonebook.ECodeWebhookLimit, "", "the tenant has %d webhooks, the most allowed; delete one first", max)
	}
	err := t.tx.QueryRow(ctx, `INSERT INTO webhooks (tenant_id, url, event_types, secret, description, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		w.TenantID, w.URL, strings.Join(w.EventTypes, ","), w.Secret, w.Description, utc(w.CreatedAt)).Scan(&w.ID)
	return storeErr("create webhook", err)
}

const webhookColumns = `id, tenant_id, url, event_types, secret, description, created_at`

func scanWebhook(row pgx.Row) (*phonebook.Webhook, error) {
	var w phonebook.Webhook
	var types string
	if err := row.Scan(&w.ID, &w.TenantID, &w.URL, &types, &w.Secret, &w.Description, &w.CreatedAt); err != nil {
		return nil, err
	}
	w.EventTypes = strings.Split(types, ",")
	w.CreatedAt = w.CreatedAt.UTC()
	return &w, nil
}

func (t *tx) FindWebhooks(ctx context.Context, tenantID int64) ([]*phonebook.Webhook, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE tenant_id = $1 ORDER BY id`, tenantID)
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
	w, err := scanWebhook(t.tx.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("webhook")
	}
	if err != nil {
		return nil, storeErr("find webhook", err)
	}
	return w, nil
}

func (t *tx) DeleteWebhook(ctx context.Context, tenantID, id int64) error {
	tag, err := t.tx.Exec(ctx, `DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err != nil {
		return storeErr("delete webhook", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("webhook")
	}
	return nil
}

const deliveryColumns = `d.id, d.webhook_id, e.uuid, e.type, d.customer_id, d.status, d.attempts, d.next_attempt_at, d.created_at, d.delivered_at`

func scanDelivery(row pgx.Row) (*phonebook.Delivery, error) {
	var d phonebook.Delivery
	var next time.Time
	if err := row.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &d.CustomerID, &d.Status, &d.Attempts, &next, &d.CreatedAt, &d.DeliveredAt); err != nil {
		return nil, err
	}
	if d.Status == phonebook.DeliveryPending {
		n := next.UTC()
		d.NextAttemptAt = &n
	}
	d.CreatedAt = d.CreatedAt.UTC()
	d.DeliveredAt = utcPtr(d.DeliveredAt)
	d.AttemptLog = []phonebook.DeliveryAttempt{}
	return &d, nil
}

func (t *tx) FindDeliveries(ctx context.Context, tenantID, webhookID int64, limit int) ([]*phonebook.Delivery, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries d JOIN events e ON e.seq = d.event_seq
		WHERE d.tenant_id = $1 AND d.webhook_id = $2 ORDER BY d.id DESC LIMIT $3`, tenantID, webhookID, limit)
	if err != nil {
		return nil, storeErr("find deliveries", err)
	}
	out := []*phonebook.Delivery{}
	byID := map[int64]*phonebook.Delivery{}
	var ids []int64
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, storeErr("scan delivery", err)
		}
		out = append(out, d)
		byID[d.ID] = d
		ids = append(ids, d.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, storeErr("find deliveries", err)
	}
	if len(ids) == 0 {
		return out, nil
	}
	arows, err := t.tx.Query(ctx, `SELECT delivery_id, attempt, at, status_code, error, reason, duration_ms FROM delivery_attempts
		WHERE delivery_id = ANY($1) ORDER BY delivery_id, attempt`, ids)
	if err != nil {
		return nil, storeErr("find attempts", err)
	}
	defer arows.Close()
	for arows.Next() {
		var id int64
		var a phonebook.DeliveryAttempt
		if err := arows.Scan(&id, &a.N, &a.At, &a.StatusCode, &a.Error, &a.Reason, &a.DurationMS); err != nil {
			return nil, storeErr("scan attempt", err)
		}
		a.At = a.At.UTC()
		if d := byID[id]; d != nil {
			d.AttemptLog = append(d.AttemptLog, a)
		}
	}
	return out, storeErr("find attempts", arows.Err())
}

func (t *tx) RequeueDelivery(ctx context.Context, tenantID, webhookID, deliveryID int64, now time.Time) (*phonebook.Delivery, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, leased_until = 'epoch', delivered_at = NULL
		WHERE tenant_id = $2 AND webhook_id = $3 AND id = $4`, utc(now), tenantID, webhookID, deliveryID)
	if err != nil {
		return nil, storeErr("requeue delivery", err)
	}
	if tag.RowsAffected() == 0 {
		return nil, notFound("delivery")
	}
	d, err := scanDelivery(t.tx.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.id = $1`, deliveryID))
	return d, storeErr("find delivery", err)
}

func (t *tx) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*phonebook.ClaimedDelivery, error) {
	// SKIP LOCKED: nodes claiming at the same moment take different rows;
	// the lease keeps a claimed row from the others until its attempt is
	// recorded, and the NOT EXISTS keeps each customer's events in order.
	rows, err := t.tx.Query(ctx, `UPDATE deliveries SET leased_until = $2, attempts = attempts + 1
		WHERE id IN (
			SELECT d.id FROM deliveries d
			WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND d.leased_until <= $1
			  AND NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.webhook_id = d.webhook_id AND p.customer_id = d.customer_id
			                  AND p.status = 'pending' AND p.id < d.id)
			ORDER BY d.id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING id, tenant_id, event_seq`, utc(now), utc(leaseUntil), limit)
	if err != nil {
		return nil, storeErr("claim deliveries", err)
	}
	type claim struct{ id, tenant, seq int64 }
	var claims []claim
	for rows.Next() {
		var c claim
		if err := rows.Scan(&c.id, &c.tenant, &c.seq); err != nil {
			rows.Close()
			return nil, storeErr("claim deliveries", err)
		}
		claims = append(claims, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, storeErr("claim deliveries", err)
	}
	out := []*phonebook.ClaimedDelivery{}
	for _, c := range claims {
		d, err := scanDelivery(t.tx.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.id = $1`, c.id))
		if err != nil {
			return nil, storeErr("find delivery", err)
		}
		w, err := t.FindWebhook(ctx, c.tenant, d.WebhookID)
		if err != nil {
			return nil, err
		}
		evs, err := t.findEvents(ctx, `e.seq = $1`, []any{c.seq}, 1)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			return nil, notFound("event")
		}
		out = append(out, &phonebook.ClaimedDelivery{Delivery: d, Webhook: w, Event: evs[0]})
	}
	// RETURNING does not keep the subquery's order.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Delivery.ID < out[j-1].Delivery.ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

func (t *tx) RecordAttempt(ctx context.Context, deliveryID int64, at phonebook.DeliveryAttempt, status string, next *time.Time) error {
	if _, err := t.tx.Exec(ctx, `INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, error, reason, duration_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (delivery_id, attempt) DO UPDATE
		SET at = EXCLUDED.at, status_code = EXCLUDED.status_code, error = EXCLUDED.error, reason = EXCLUDED.reason, duration_ms = EXCLUDED.duration_ms`,
		deliveryID, at.N, utc(at.At), at.StatusCode, at.Error, at.Reason, at.DurationMS); err != nil {
		return storeErr("record attempt", err)
	}
	var delivered *time.Time
	nextAt := time.Unix(0, 0).UTC()
	if status == phonebook.DeliveryDelivered {
		d := utc(at.At)
		delivered = &d
	}
	if next != nil {
		nextAt = utc(*next)
	}
	_, err := t.tx.Exec(ctx, `UPDATE deliveries SET status = $1, next_attempt_at = $2, leased_until = 'epoch', delivered_at = $3 WHERE id = $4`,
		status, nextAt, delivered, deliveryID)
	return storeErr("record attempt", err)
}
