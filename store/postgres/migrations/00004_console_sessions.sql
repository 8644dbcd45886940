-- +goose Up
-- Web console sign-ins. The browser holds a random token; only its SHA-256
-- is stored here, so a copy of the database is no use as a cookie. Signing
-- out deletes the row, which ends the session for every node at once.
CREATE TABLE console_sessions (
    id         BYTEA       NOT NULL PRIMARY KEY, -- SHA-256 of the session token
    tenant_id  BIGINT      NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_id     BIGINT      NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
-- Expired rows are deleted at each sign-in.
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- +goose Down
DROP TABLE console_sessions;
