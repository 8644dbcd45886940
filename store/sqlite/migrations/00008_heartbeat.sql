-- +goose Up
-- One row that /readyz rewrites (at most every few seconds) to prove the
-- store can still write: a full disk fails this write before it fails a
-- client's.
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE heartbeat;
