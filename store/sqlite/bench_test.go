package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/store/sqlite"
	"github.com/phonebook/phonebook/store/storetest"
)

func benchOpen(b *testing.B) phonebook.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkStore measures every store operation through the service.
func BenchmarkStore(b *testing.B) { storetest.RunBenchmarks(b, benchOpen) }

// BenchmarkRawInsert is the store's own ceiling: one durable single-row
// insert per transaction through the same driver and settings (WAL,
// synchronous=FULL), with nothing else around it.
func BenchmarkRawInsert(b *testing.B) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := db.Exec(`INSERT INTO t (v) VALUES ('+12015550123')`); err != nil {
			b.Fatal(err)
		}
	}
}
