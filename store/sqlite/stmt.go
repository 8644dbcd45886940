package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps one prepared statement per SQL text and pool, so SQLite
// parses each query once per connection instead of on every call (parsing
// was a third of the CPU of a write).
//
// A statement missing from the cache is prepared on the caller's own
// transaction for that call, and on the pool in the background: preparing
// on the pool needs a free connection, and a transaction waiting for one
// while every connection is held by such transactions would wait forever.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
	wg      sync.WaitGroup
	closed  bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// maxCached bounds the cache: queries built with variable IN lists could
// otherwise grow it without end.
const maxCached = 2000

// lookup returns the cached statement for query, or nil after starting its
// preparation in the background.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st
	}
	if c.closed || c.pending[query] || len(c.m)+len(c.pending) >= maxCached {
		return nil
	}
	c.pending[query] = true
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		st, err := c.db.PrepareContext(context.Background(), query)
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.pending, query)
		if err != nil {
			return // the next call prepares on its transaction again
		}
		if c.closed {
			st.Close()
			return
		}
		c.m[query] = st
	}()
	return nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
	c.mu.Unlock()
	c.wg.Wait()
}

// stmt returns query prepared for this transaction.
func (t *tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := t.cache.lookup(query); st != nil {
		return t.tx.StmtContext(ctx, st), nil
	}
	return t.tx.PrepareContext(ctx, query)
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// row is a *sql.Row, or the error of preparing its statement.
type row struct {
	r   *sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) row {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return row{err: err}
	}
	return row{r: st.QueryRowContext(ctx, args...)}
}

// insert runs an INSERT and returns the rowid it made. It is used instead
// of RETURNING, which made SQLite open a statement journal for every insert
// (a second copy of each changed page): the 1 M-row seed ran twice as fast
// without it.
func (t *tx) insert(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}
