-- +goose Up
-- Whether a key must sign every request (Ticket Evolution's X-Signature).
-- Keys that already had a signing secret had to sign: they keep doing so.
ALTER TABLE api_keys ADD COLUMN require_signature BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE api_keys SET require_signature = TRUE WHERE signing_secret <> '';

-- +goose Down
ALTER TABLE api_keys DROP COLUMN require_signature;
