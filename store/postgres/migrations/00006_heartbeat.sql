-- +goose Up
-- One row that /readyz rewrites (at most every few seconds) to prove the
-- database still takes writes (not read-only, not out of disk).
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE heartbeat;
