-- +goose Up
-- Ticket Evolution signs requests with a per-key secret (X-Signature).
ALTER TABLE api_keys ADD COLUMN signing_secret TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE api_keys DROP COLUMN signing_secret;
