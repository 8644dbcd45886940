-- +goose Up
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url         TEXT    NOT NULL,
    event_types TEXT    NOT NULL, -- comma-separated, or *
    secret      TEXT    NOT NULL, -- sealed under PHONEBOOK_SECRET_KEY when set
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id);

-- One row per event and subscribed webhook, queued in the event's
-- transaction: the outbox of webhook delivery.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    tenant_id       INTEGER NOT NULL,
    event_seq       INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    customer_id     INTEGER NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    leased_until    INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_order ON deliveries (webhook_id, customer_id, id) WHERE status = 'pending';
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id);

CREATE TABLE delivery_attempts (
    delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (delivery_id, attempt)
);

-- The consent ledger: append-only, per tenant and number.
CREATE TABLE consent_ledger (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    e164        TEXT    NOT NULL,
    type        TEXT    NOT NULL CHECK (type IN ('written', 'express', 'stop')),
    source      TEXT    NOT NULL DEFAULT '',
    evidence    TEXT    NOT NULL DEFAULT '',
    captured_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    key_id      INTEGER,
    key_name    TEXT    NOT NULL DEFAULT '',
    via         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX consent_ledger_number ON consent_ledger (tenant_id, e164, captured_at, id);

-- Publishers (NATS) registered on this database: every later event is
-- queued for each of them in its own transaction.
CREATE TABLE publishers (
    name         TEXT PRIMARY KEY,
    created_at   INTEGER NOT NULL,
    owner        TEXT    NOT NULL DEFAULT '', -- the node publishing now
    leased_until INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE publications (
    publisher TEXT    NOT NULL REFERENCES publishers (name) ON DELETE CASCADE,
    event_seq INTEGER NOT NULL,
    PRIMARY KEY (publisher, event_seq)
);

-- +goose Down
DROP TABLE publications;
DROP TABLE publishers;
DROP TABLE consent_ledger;
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE webhooks;
