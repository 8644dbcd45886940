-- +goose Up
-- Why an attempt failed, classified (timeout, connection_refused, dns, tls,
-- http_status, destination_forbidden, network, canceled); '' for attempts
-- recorded before, and for delivered ones.
ALTER TABLE delivery_attempts ADD COLUMN reason TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE delivery_attempts DROP COLUMN reason;
