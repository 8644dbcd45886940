package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/store/postgres"
	"github.com/phonebook/phonebook/store/storetest"
)

// testURL returns the test database, skipping locally when none is given.
// CI always sets it (.ci/run), so these tests never skip there.
func testURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("PHONEBOOK_TEST_POSTGRES_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PHONEBOOK_TEST_POSTGRES_URL is not set in CI")
		}
		t.Skip("PHONEBOOK_TEST_POSTGRES_URL is not set")
	}
	return url
}

// MustOpen opens a store on a fresh schema, dropped when t ends.
func MustOpen(t *testing.T) phonebook.Store {
	t.Helper()
	url := testURL(t)
	schema := fmt.Sprintf("pbtest_%d_%d", os.Getpid(), rand.Uint64())
	s, err := postgres.Open(context.Background(), url, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		if err := postgres.DropSchema(context.Background(), url, schema); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, MustOpen)
}
