-- +goose Up
-- Times are Unix microseconds (UTC), the precision both stores keep.
CREATE TABLE tenants (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid                     TEXT    NOT NULL UNIQUE,
    slug                     TEXT    NOT NULL UNIQUE,
    default_region           TEXT    NOT NULL,
    max_phones_per_customer  INTEGER NOT NULL CHECK (max_phones_per_customer > 0),
    max_customers_per_number INTEGER NOT NULL CHECK (max_customers_per_number > 0),
    strict_numbers           INTEGER NOT NULL DEFAULT 0,
    created_at               INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL DEFAULT '',
    prefix     TEXT    NOT NULL,
    key_hash   BLOB    NOT NULL UNIQUE, -- SHA-256 of the secret; the secret itself is never stored
    scopes     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE phone_types (
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    built_in   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid        TEXT    NOT NULL UNIQUE,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    external_id TEXT,
    name        TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL CHECK (status IN ('active', 'inactive')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    UNIQUE (id, tenant_id) -- lets phones prove they belong to their customer's tenant
);
CREATE UNIQUE INDEX customers_external_id ON customers (tenant_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX customers_created ON customers (tenant_id, created_at, id);
CREATE INDEX customers_name ON customers (tenant_id, name, id);
-- Integer customer ids start at 100000 (RamBase contactId minimum).
INSERT INTO sqlite_sequence (name, seq) VALUES ('customers', 99999);

CREATE TABLE phones (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid               TEXT    NOT NULL UNIQUE,
    tenant_id          INTEGER NOT NULL,
    customer_id        INTEGER NOT NULL,
    raw                TEXT    NOT NULL,
    e164               TEXT    NOT NULL,
    country_code       INTEGER NOT NULL,
    national_number    TEXT    NOT NULL,
    national           TEXT    NOT NULL,
    international      TEXT    NOT NULL,
    region             TEXT    NOT NULL DEFAULT '',
    line_type          TEXT    NOT NULL,
    valid              INTEGER NOT NULL,
    extension          TEXT    NOT NULL DEFAULT '' CHECK (length(extension) <= 20),
    type               TEXT    NOT NULL,
    label              TEXT    NOT NULL DEFAULT '' CHECK (length(label) <= 20),
    is_primary         INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    notes              TEXT    NOT NULL DEFAULT '' CHECK (length(notes) <= 255),
    status             TEXT    NOT NULL CHECK (status IN ('active', 'inactive')),
    consent_type       TEXT    NOT NULL DEFAULT 'none' CHECK (consent_type IN ('none', 'written', 'express', 'stop')),
    consent_source     TEXT    NOT NULL DEFAULT '',
    consent_updated_at INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    version            INTEGER NOT NULL,
    FOREIGN KEY (customer_id, tenant_id) REFERENCES customers (id, tenant_id) ON DELETE CASCADE,
    -- Rule: a phone's type exists in its tenant's registry; a used type cannot go.
    FOREIGN KEY (tenant_id, type) REFERENCES phone_types (tenant_id, name) ON DELETE RESTRICT
);
-- Rule 1: at most one primary per customer.
CREATE UNIQUE INDEX phones_one_primary ON phones (customer_id) WHERE is_primary = 1;
-- Rule 2: a number (with its extension) once per customer.
CREATE UNIQUE INDEX phones_number ON phones (customer_id, e164, extension);
CREATE INDEX phones_tenant_e164 ON phones (tenant_id, e164);
CREATE INDEX phones_tenant_type ON phones (tenant_id, type);

-- Rule 6: the outbox, written in the transaction of each change.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid        TEXT    NOT NULL UNIQUE,
    tenant_id   INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    customer_id INTEGER,
    phone_id    INTEGER,
    key_id      INTEGER,
    key_name    TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL DEFAULT '',
    occurred_at INTEGER NOT NULL,
    before      TEXT,
    after       TEXT
);
CREATE INDEX events_tenant_seq ON events (tenant_id, seq);
CREATE INDEX events_customer ON events (tenant_id, customer_id, seq);

-- +goose Down
DROP TABLE events;
DROP TABLE phones;
DROP TABLE customers;
DROP TABLE phone_types;
DROP TABLE api_keys;
DROP TABLE tenants;
