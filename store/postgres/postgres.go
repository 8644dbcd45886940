// Package postgres is the phonebook.Store for several API nodes on one
// PostgreSQL database, through pgx's connection pool. Transactions run at
// READ COMMITTED; the rules hold across connections by constraints and row
// locks (SELECT ... FOR UPDATE on the customer and on the number), and a
// transaction that fails to serialize or deadlocks is retried here, never
// surfaced to the client.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/phonebook/phonebook"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune a Store.
type Options struct {
	// Schema, when set, is created if missing and used as the search_path
	// (tests give each run a schema of its own).
	Schema string
	// Now is the store's clock; defaults to time.Now.
	Now func() time.Time
	// MaxConns is the pool size; defaults to pgxpool's (max(4, CPUs)).
	MaxConns int32
	// Retries is how often a transaction is retried after a
	// serialization failure or deadlock; defaults to 10.
	Retries int
}

// Store is a phonebook.Store on PostgreSQL.
type Store struct {
	pool    *pgxpool.Pool
	now     func() time.Time
	retries int
}

var _ phonebook.Store = (*Store)(nil)

// Open connects to the database at url (postgres://...), creating
// opts.Schema if set, and runs the embedded migrations.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The URL may hold a password: never repeat it.
		return nil, errors.New("postgres: the database URL is not valid")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.Schema != "" {
		if err := createSchema(ctx, cfg.ConnConfig.Copy(), opts.Schema); err != nil {
			return nil, err
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Retries <= 0 {
		opts.Retries = 10
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool, now: opts.Now, retries: opts.Retries}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func createSchema(ctx context.Context, cfg *pgx.ConnConfig, schema string) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("postgres: create schema: %w", err)
	}
	return nil
}

// DropSchema drops schema and everything in it (test clean-up).
func DropSchema(ctx context.Context, url, schema string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
	return err
}

func (s *Store) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	// Several nodes may start at once: one migrates, the others wait.
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(newLocker()))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Migrate runs the migrations on url and reports the version reached.
func Migrate(ctx context.Context, url string) (int64, error) {
	s, err := Open(ctx, url, Options{})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	var v int64
	err = s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v, err
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return &phonebook.Error{Code: phonebook.ECodeUnavailable, Message: "store unavailable", Err: err}
	}
	return nil
}

// Write runs fn in a read-write transaction, retrying it on serialization
// failures and deadlocks.
func (s *Store) Write(ctx context.Context, fn func(phonebook.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
}

// Read runs fn in a read-only REPEATABLE READ transaction: one snapshot.
func (s *Store) Read(ctx context.Context, fn func(phonebook.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

func (s *Store) run(ctx context.Context, opts pgx.TxOptions, fn func(phonebook.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.once(ctx, opts, fn)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		if attempt >= s.retries {
			// Concurrent writers kept colliding: the client may retry,
			// which a 409 says and a 500 would not.
			return &phonebook.Error{Code: phonebook.ECodeConflict, Message: "a concurrent change conflicted with this one; retry", Err: err}
		}
		// Back off a little, with jitter, so the writers that collided
		// do not collide again in step.
		d := time.Duration(1<<min(attempt, 6)) * time.Millisecond
		d += time.Duration(rand.Int64N(int64(d)))
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return storeErr("retry", ctx.Err())
		}
	}
}

func (s *Store) once(ctx context.Context, opts pgx.TxOptions, fn func(phonebook.Tx) error) error {
	ptx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return storeErr("begin", err)
	}
	t := &tx{tx: ptx, now: s.now}
	if err := fn(t); err != nil {
		_ = ptx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return storeErr("commit", err)
	}
	return nil
}

// retryable reports whether err is a serialization failure or a deadlock,
// which a fresh run of the same transaction can get past.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// tx implements phonebook.Tx on one PostgreSQL transaction.
type tx struct {
	tx         pgx.Tx
	now        func() time.Time
	savepoints int
}

func (t *tx) Savepoint(ctx context.Context, fn func() error) error {
	t.savepoints++
	name := fmt.Sprintf("sp%d", t.savepoints)
	if _, err := t.tx.Exec(ctx, "SAVEPOINT "+name); err != nil {
		return storeErr("savepoint", err)
	}
	if err := fn(); err != nil {
		if retryable(err) || phonebook.ErrorCode(err) == phonebook.ECodeUnavailable {
			return err // the whole transaction must go
		}
		if _, rerr := t.tx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return storeErr("rollback to savepoint", rerr)
		}
		return err
	}
	if _, err := t.tx.Exec(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return storeErr("release savepoint", err)
	}
	return nil
}

// storeErr wraps a database failure as a domain error: unavailable when
// the server cannot be reached (clients retry), internal otherwise. A
// serialization failure keeps its *pgconn.PgError reachable so run can
// retry it.
func storeErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *phonebook.Error
	if errors.As(err, &de) {
		return err
	}
	code := phonebook.ECodeInternal
	if unavailable(err) {
		code = phonebook.ECodeUnavailable
	}
	return &phonebook.Error{Code: code, Message: "store error", Err: fmt.Errorf("postgres: %s: %w", op, err)}
}

// unavailable reports whether err means the database is down or the
// connection was lost, rather than a bad statement.
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "08", "57", "53": // connection exception, operator intervention (shutdown, terminate), resources
			return true
		}
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	return errors.Is(err, pgx.ErrTxClosed) || errors.Is(err, net.ErrClosed)
}

// violation returns the constraint a statement broke, if any.
func violation(err error) (code, constraint string) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code, pe.ConstraintName
	}
	return "", ""
}

func notFound(what string) error {
	return phonebook.Errorf(phonebook.ECodeNotFound, "", "%s not found", what)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
