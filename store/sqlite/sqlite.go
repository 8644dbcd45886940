// Package sqlite is the embedded phonebook.Store: one SQLite file through
// the pure-Go driver modernc.org/sqlite, in WAL mode. One goroutine, the
// committer, runs every write transaction (SQLite allows one writer at a
// time anyway; one Go writer makes writers queue in Go instead of spinning
// on SQLITE_BUSY, and lets concurrent writes share a commit); reads run on
// a pool in parallel.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/phonebook/phonebook"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune a Store. The zero value is the durable default.
type Options struct {
	// Synchronous is SQLite's synchronous pragma: FULL (default) makes
	// every acknowledged commit survive power loss; NORMAL survives a
	// process crash only.
	Synchronous string
	// Now is the store's clock; defaults to time.Now.
	Now func() time.Time
	// Readers is the size of the read pool; defaults to 2 × CPUs.
	Readers int
}

// Store is a phonebook.Store on one SQLite file.
type Store struct {
	path    string
	writer  *sql.DB
	reader  *sql.DB
	now     func() time.Time
	wcache  *stmtCache
	rcache  *stmtCache
	writes  chan *writeReq
	stop    chan struct{}
	stopped chan struct{}
	closed  sync.Once
}

var _ phonebook.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite file at path and runs the
// embedded migrations.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Synchronous == "" {
		opts.Synchronous = "FULL"
	}
	switch strings.ToUpper(opts.Synchronous) {
	case "FULL", "NORMAL", "EXTRA", "OFF":
	default:
		return nil, fmt.Errorf("sqlite: unknown synchronous mode %q", opts.Synchronous)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Readers <= 0 {
		opts.Readers = 2 * runtime.NumCPU()
	}
	common := url.Values{}
	common.Add("_pragma", "busy_timeout(10000)")
	common.Add("_pragma", "foreign_keys(1)")
	common.Add("_pragma", "synchronous("+strings.ToUpper(opts.Synchronous)+")")
	w := url.Values{}
	for k, v := range common {
		w[k] = append([]string(nil), v...)
	}
	w.Add("_pragma", "journal_mode(WAL)")
	// 16 MiB of page cache for the writer (the default is 2 MiB): the
	// pages where a large tenant's indexes grow stay in memory across
	// commits. (32 MiB made no difference to a 1 M seed, and the server's
	// memory is bounded; sub-journals stay on SQLite's default too, in
	// memory up to 64 KiB and then in a temporary file: with 32 batches of
	// 500 grouped in one transaction, all in memory cost 37 MiB.)
	w.Add("_pragma", "cache_size(-16384)")
	// IMMEDIATE takes the write lock at BEGIN, so a transaction never has to
	// upgrade from reading to writing and fail with SQLITE_BUSY halfway.
	w.Set("_txlock", "immediate")
	writer, err := sql.Open("sqlite", "file:"+path+"?"+w.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Writes are serialized by the committer goroutine (one transaction at
	// a time); the second connection lets statements be prepared for the
	// cache while the first is inside a transaction.
	writer.SetMaxOpenConns(2)
	writer.SetMaxIdleConns(2)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	s := &Store{path: path, writer: writer, now: opts.Now}
	if err := s.migrate(ctx); err != nil {
		writer.Close()
		return nil, err
	}
	// Statistics for the query planner, where they are missing or stale
	// (SQLite's advice for long-lived connections: at open). Best effort:
	// another process holding the write lock must not stop this one.
	_, _ = writer.ExecContext(ctx, `PRAGMA optimize=0x10002`)
	dropStat4(ctx, writer)
	r := common
	r.Add("_pragma", "query_only(1)")
	reader, err := sql.Open("sqlite", "file:"+path+"?"+r.Encode())
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	reader.SetMaxOpenConns(opts.Readers)
	reader.SetMaxIdleConns(opts.Readers)
	reader.SetConnMaxIdleTime(0)
	reader.SetConnMaxLifetime(0)
	s.reader = reader
	s.wcache, s.rcache = newStmtCache(writer), newStmtCache(reader)
	s.writes = make(chan *writeReq)
	s.stop, s.stopped = make(chan struct{}), make(chan struct{})
	go s.committer()
	return s, nil
}

// dropStat4 removes ANALYZE's value samples (sqlite_stat4), keeping the
// row counts (sqlite_stat1). With samples, SQLite plans a statement for
// the values bound to it, and binding new values expires the plan: every
// API request re-parsed and re-planned its key lookup, 15 % of a read's
// CPU. The hot queries name their index (INDEXED BY) and need no samples.
// Best effort, like the optimize before it.
func dropStat4(ctx context.Context, db *sql.DB) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'`).Scan(&n); err != nil || n == 0 {
		return
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM sqlite_stat4`); err != nil {
		return
	}
	// Reload the statistics, now without samples, on this connection.
	_, _ = db.ExecContext(ctx, `ANALYZE sqlite_schema`)
}

func (s *Store) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.writer, sub)
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", s.path, err)
	}
	return nil
}

// Migrate runs the embedded migrations on path and reports the version
// reached (for `phonebook migrate`).
func Migrate(ctx context.Context, path string) (int64, error) {
	s, err := Open(ctx, path, Options{})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	var v int64
	err = s.writer.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v, err
}

// Backup writes a consistent copy of the database to path (which must not
// exist) while the store keeps serving: VACUUM INTO reads one snapshot, so
// writers are not blocked and the copy is a complete, compact database.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("sqlite: backup: %s already exists", path)
	}
	// A connection of its own: the readers are query_only and the writer
	// must stay free for writes while the copy is made.
	db, err := sql.Open("sqlite", "file:"+s.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("sqlite: backup to %s: %w", path, err)
	}
	return nil
}

// Close closes both pools; the WAL is checkpointed by SQLite on last close.
func (s *Store) Close() error {
	s.closed.Do(func() {
		if s.stop != nil {
			close(s.stop)
			<-s.stopped
		}
	})
	var errs []error
	if s.wcache != nil {
		s.wcache.close()
		s.rcache.close()
	}
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	errs = append(errs, s.writer.Close())
	return errors.Join(errs...)
}

// Ping checks that the file can be read.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.reader.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return &phonebook.Error{Code: phonebook.ECodeUnavailable, Message: "store unavailable", Err: err}
	}
	return nil
}

// Write runs fn in an IMMEDIATE transaction on the writer connection.
func (s *Store) Write(ctx context.Context, fn func(phonebook.Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- r:
	case <-ctx.Done():
		return storeErr("write", ctx.Err())
	case <-s.stop:
		return &phonebook.Error{Code: phonebook.ECodeUnavailable, Message: "store closed"}
	}
	// Once handed over, the write is waited for even if ctx ends: the
	// caller must not be told it failed when it may be committed.
	return <-r.done
}

// Read runs fn in a read transaction: one snapshot of the file.
func (s *Store) Read(ctx context.Context, fn func(phonebook.Tx) error) error {
	return s.run(ctx, s.reader, s.rcache, fn)
}

func (s *Store) run(ctx context.Context, db *sql.DB, cache *stmtCache, fn func(phonebook.Tx) error) error {
	sqlTx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return storeErr("begin", err)
	}
	t := &tx{tx: sqlTx, now: s.now, cache: cache}
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return storeErr("commit", err)
	}
	return nil
}

// tx implements phonebook.Tx on one SQLite transaction.
type tx struct {
	tx    *sql.Tx
	now   func() time.Time
	cache *stmtCache
	depth int // of the savepoint under way
	facts txFacts
}

func (t *tx) Savepoint(ctx context.Context, fn func() error) error {
	// Named by depth, not numbered: a savepoint is released before the next
	// one at its depth begins, so the few names (and their prepared
	// statements, from the cache) serve every write of a group.
	t.depth++
	defer func() { t.depth-- }()
	name := "sp" + strconv.Itoa(t.depth)
	if _, err := t.exec(ctx, "SAVEPOINT "+name); err != nil {
		return storeErr("savepoint", err)
	}
	if err := fn(); err != nil {
		if _, rerr := t.exec(ctx, "ROLLBACK TO "+name); rerr != nil {
			return storeErr("rollback to savepoint", rerr)
		}
		if _, rerr := t.exec(ctx, "RELEASE "+name); rerr != nil {
			return storeErr("release savepoint", rerr)
		}
		t.facts.forget()
		return err
	}
	if _, err := t.exec(ctx, "RELEASE "+name); err != nil {
		return storeErr("release savepoint", err)
	}
	return nil
}

// storeErr wraps a database failure as an internal (or, when the file is
// busy or gone, unavailable) domain error; the cause goes to logs only.
func storeErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *phonebook.Error
	if errors.As(err, &pe) {
		return err
	}
	code := phonebook.ECodeInternal
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
			code = phonebook.ECodeUnavailable
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		code = phonebook.ECodeUnavailable
	}
	return &phonebook.Error{Code: code, Message: "store error", Err: fmt.Errorf("sqlite: %s: %w", op, err)}
}

// constraint reports which kind of constraint err violated: "unique",
// "foreignkey", "check", or "".
func constraint(err error) (kind, msg string) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return "", ""
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return "unique", se.Error()
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return "foreignkey", se.Error()
	case sqlite3.SQLITE_CONSTRAINT_CHECK:
		return "check", se.Error()
	}
	// ON DELETE RESTRICT reports through SQLite's trigger machinery.
	if se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT && strings.Contains(se.Error(), "FOREIGN KEY") {
		return "foreignkey", se.Error()
	}
	return "", ""
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func notFound(what string) error {
	return phonebook.Errorf(phonebook.ECodeNotFound, "", "%s not found", what)
}
