package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/store/postgres"
	"github.com/phonebook/phonebook/store/storetest"
)

func benchOpen(b *testing.B) phonebook.Store {
	url := testURL(b)
	schema := fmt.Sprintf("pbbench_%d_%d", os.Getpid(), rand.Uint64())
	s, err := postgres.Open(context.Background(), url, postgres.Options{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		// The bench env closes the store first (its cleanup runs before this).
		if err := postgres.DropSchema(context.Background(), url, schema); err != nil {
			b.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return s
}

// BenchmarkStore measures every store operation through the service.
func BenchmarkStore(b *testing.B) { storetest.RunBenchmarks(b, benchOpen) }

// BenchmarkRawInsert is the server's own ceiling for this client: one
// single-row insert per transaction (synchronous_commit on, the default)
// through pgx, with nothing else around it.
func BenchmarkRawInsert(b *testing.B) {
	url := testURL(b)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	schema := fmt.Sprintf("pbraw_%d_%d", os.Getpid(), rand.Uint64())
	if _, err := pool.Exec(ctx, `CREATE SCHEMA `+schema+`; CREATE TABLE `+schema+`.t (id bigserial PRIMARY KEY, v text NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	defer pool.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := pool.Exec(ctx, `INSERT INTO `+schema+`.t (v) VALUES ('+12015550123')`); err != nil {
			b.Fatal(err)
		}
	}
}
