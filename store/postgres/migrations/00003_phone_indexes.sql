-- +goose Up
CREATE INDEX phones_tenant_customer ON phones (tenant_id, customer_id, id);
-- Names sort case-insensitively (ASCII, as SQLite's NOCASE does).
DROP INDEX customers_name;
CREATE INDEX customers_name ON customers (tenant_id, (lower(name COLLATE "C")) COLLATE "C", id);

-- +goose Down
DROP INDEX phones_tenant_customer;
DROP INDEX customers_name;
CREATE INDEX customers_name ON customers (tenant_id, name COLLATE "C", id);
