package sqlite

import "context"

// txFacts caches, for one transaction, whether a tenant has webhooks or
// consent records and whether any publisher is registered. Every phone
// write asks (to queue deliveries and publications, to inherit a number's
// consent), and for most tenants the answer is "none": a statement each
// that finds nothing. Within a transaction the answer changes only through
// this transaction's own writes (a read sees one snapshot; a write holds
// SQLite's one write lock), which update the cache; a rolled-back
// savepoint forgets it all, since its writes are undone.
type txFacts struct {
	webhooks   map[int64]bool
	ledger     map[int64]bool
	publishers *bool
}

func (f *txFacts) forget() { *f = txFacts{} }

// known asks query once per transaction for key of m.
func (t *tx) known(ctx context.Context, m *map[int64]bool, key int64, query string) (bool, error) {
	if v, ok := (*m)[key]; ok {
		return v, nil
	}
	var v bool
	if err := t.queryRow(ctx, query, key).Scan(&v); err != nil {
		return false, err
	}
	if *m == nil {
		*m = map[int64]bool{}
	}
	(*m)[key] = v
	return v, nil
}

func (t *tx) hasWebhooks(ctx context.Context, tenantID int64) (bool, error) {
	return t.known(ctx, &t.facts.webhooks, tenantID, `SELECT EXISTS (SELECT 1 FROM webhooks WHERE tenant_id = ?)`)
}

func (t *tx) hasLedger(ctx context.Context, tenantID int64) (bool, error) {
	return t.known(ctx, &t.facts.ledger, tenantID, `SELECT EXISTS (SELECT 1 FROM consent_ledger WHERE tenant_id = ?)`)
}

func (t *tx) hasPublishers(ctx context.Context) (bool, error) {
	if p := t.facts.publishers; p != nil {
		return *p, nil
	}
	var v bool
	if err := t.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM publishers)`).Scan(&v); err != nil {
		return false, err
	}
	t.facts.publishers = &v
	return v, nil
}

// learn records that this transaction wrote a row of m for key.
func learn(m *map[int64]bool, key int64) {
	if *m == nil {
		*m = map[int64]bool{}
	}
	(*m)[key] = true
}
