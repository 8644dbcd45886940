package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/phonebook/phonebook"
)

// TestCollisionsPastRetriesAreConflicts: a transaction that keeps failing
// with a serialization failure is run Retries+1 times, then answered as a
// conflict (409: "retry"), not an internal error; one that recovers on a
// retry succeeds.
func TestCollisionsPastRetriesAreConflicts(t *testing.T) {
	url := os.Getenv("PHONEBOOK_TEST_POSTGRES_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PHONEBOOK_TEST_POSTGRES_URL is not set in CI")
		}
		t.Skip("PHONEBOOK_TEST_POSTGRES_URL is not set")
	}
	ctx := context.Background()
	schema := fmt.Sprintf("pbretry_%d_%d", os.Getpid(), rand.Uint64())
	s, err := Open(ctx, url, Options{Schema: schema, Retries: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		s.Close()
		if err := DropSchema(ctx, url, schema); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	}()
	collide := func(ptx phonebook.Tx) error {
		_, err := ptx.(*tx).tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'collision' USING ERRCODE = '40001'; END $$`)
		return storeErr("collide", err)
	}
	runs := 0
	err = s.Write(ctx, func(tx phonebook.Tx) error { runs++; return collide(tx) })
	if got := phonebook.ErrorCode(err); got != phonebook.ECodeConflict || runs != 3 {
		t.Errorf("always colliding: %d runs, code %q (%v); want 3 runs and conflict", runs, got, err)
	}
	runs = 0
	err = s.Write(ctx, func(tx phonebook.Tx) error {
		runs++
		if runs == 1 {
			return collide(tx)
		}
		return nil
	})
	if err != nil || runs != 2 {
		t.Errorf("colliding once: %d runs, %v; want 2 runs and success", runs, err)
	}
}
