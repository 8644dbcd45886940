package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/store/postgres"
	"github.com/phonebook/phonebook/store/sqlite"
)

// Store kinds a database URL can name.
const (
	storeSQLite   = "sqlite"
	storePostgres = "postgres"
)

// openStore opens (and migrates) the store named by a database URL:
// sqlite:path/to/file.db, sqlite://path, file:path or a bare path ending in
// .db for SQLite; postgres:// or postgresql:// for PostgreSQL.
func openStore(ctx context.Context, dbURL string) (phonebook.Store, error) {
	kind, path, err := parseDBURL(dbURL)
	if err != nil {
		return nil, err
	}
	switch kind {
	case storeSQLite:
		s, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return s, nil
	case storePostgres:
		s, err := postgres.Open(ctx, dbURL, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("open store: unsupported store %q", kind)
}

// migrateStore runs the migrations of the store named by dbURL and returns
// the schema version reached.
func migrateStore(ctx context.Context, dbURL string) (int64, error) {
	kind, path, err := parseDBURL(dbURL)
	if err != nil {
		return 0, err
	}
	switch kind {
	case storeSQLite:
		v, err := sqlite.Migrate(ctx, path)
		if err != nil {
			return 0, fmt.Errorf("migrate: %w", err)
		}
		return v, nil
	case storePostgres:
		v, err := postgres.Migrate(ctx, dbURL)
		if err != nil {
			return 0, fmt.Errorf("migrate: %w", err)
		}
		return v, nil
	}
	return 0, fmt.Errorf("migrate: unsupported store %q", kind)
}

// parseDBURL returns the store kind a database URL names and, for SQLite,
// the file path. Error messages never repeat the URL, which may hold a
// password.
func parseDBURL(dbURL string) (kind, path string, err error) {
	dbURL = strings.TrimSpace(dbURL)
	lower := strings.ToLower(dbURL)
	switch {
	case dbURL == "":
		return "", "", errors.New("no database URL given (--db or " + envDB + ")")
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return storePostgres, "", nil
	case strings.HasPrefix(lower, "sqlite:"):
		path = strings.TrimPrefix(dbURL[len("sqlite:"):], "//") // sqlite:///abs/file.db → /abs/file.db
	case strings.HasPrefix(lower, "file:"):
		path = strings.TrimPrefix(dbURL[len("file:"):], "//")
	case isBareSQLitePath(dbURL):
		path = dbURL
	default:
		if scheme, _, ok := strings.Cut(dbURL, "://"); ok {
			return "", "", fmt.Errorf("database URL: unsupported scheme %q (want sqlite:path/to/file.db or postgres://...)", scheme)
		}
		return "", "", errors.New("database URL: want sqlite:path/to/file.db, a path ending in .db, or postgres://...")
	}
	switch {
	case path == "":
		return "", "", errors.New("database URL: the SQLite file path is empty (want sqlite:path/to/file.db)")
	case strings.Contains(path, "?"):
		return "", "", errors.New("database URL: query parameters are not supported for SQLite")
	case strings.HasPrefix(path, ":memory:") || strings.Contains(path, "mode=memory"):
		return "", "", errors.New("database URL: in-memory SQLite is not supported, give a file path")
	}
	return storeSQLite, path, nil
}

// isBareSQLitePath reports whether s looks like a SQLite file given
// without a scheme (C:\data\phonebook.db included).
func isBareSQLitePath(s string) bool {
	if strings.Contains(s, "://") {
		return false
	}
	for _, ext := range []string{".db", ".sqlite", ".sqlite3"} {
		if strings.HasSuffix(strings.ToLower(s), ext) {
			return true
		}
	}
	return false
}
