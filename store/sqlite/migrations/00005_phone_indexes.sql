-- +goose Up
-- Phones are read by customer far more than by anything else: without this
-- index SQLite's planner chose phones_tenant_type and scanned the tenant.
CREATE INDEX phones_tenant_customer ON phones (tenant_id, customer_id, id);
-- Names sort case-insensitively (ASCII), the same way on both stores.
DROP INDEX customers_name;
CREATE INDEX customers_name ON customers (tenant_id, name COLLATE NOCASE, id);

-- +goose Down
DROP INDEX phones_tenant_customer;
DROP INDEX customers_name;
CREATE INDEX customers_name ON customers (tenant_id, name, id);
