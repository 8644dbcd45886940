package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/store/postgres"
	"github.com/phonebook/phonebook/store/storetest"
)

// testURL returns the test database, skipping locally when none is given.
// CI always sets it (.ci/run), so these tests never skip there.
func testURL(t testing.TB) string {
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

// TestRulesAcrossNodes runs writers on three stores (three pools, as three
// API nodes would have) over one schema: the rules hold across connections,
// not only goroutines.
func TestRulesAcrossNodes(t *testing.T) {
	nodes := MustNodes(t, 3, 8)
	env := storetest.MustTenant(t, nodes[0], phonebook.TenantInput{Slug: "acme"})
	node := func(i int) *phonebook.Service { return nodes[i%len(nodes)] }

	// One customer, 96 writers asking to be primary on three nodes.
	c := env.MustCustomer(t, "hot")
	errs := make(chan error, 96)
	var wg sync.WaitGroup
	for i := 0; i < 96; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := node(i).AddPhone(env.Ctx, phonebook.CustomerRef{ID: c.ID},
				phonebook.PhoneInput{Number: fmt.Sprintf("+1 201 555 %04d", i), IsPrimary: true})
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	stored, limited := 0, 0
	for err := range errs {
		switch phonebook.ErrorCode(err) {
		case "":
			stored++
		case phonebook.ECodePhoneLimit:
			limited++
		default:
			t.Errorf("writer: %v", err)
		}
	}
	if stored != 50 || limited != 46 {
		t.Errorf("got %d stored and %d phone_limit, want 50 and 46", stored, limited)
	}
	if got := env.Primaries(t, c); len(got) != 1 {
		t.Errorf("primaries: %v, want exactly one", got)
	}

	// One number, 70 customers on three nodes: 50 get it.
	var cs []*phonebook.Customer
	for i := 0; i < 70; i++ {
		cs = append(cs, env.MustCustomer(t, fmt.Sprint("c", i)))
	}
	errs = make(chan error, len(cs))
	for i := range cs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := node(i).AddPhone(env.Ctx, phonebook.CustomerRef{ID: cs[i].ID}, phonebook.PhoneInput{Number: "(201) 555-0100"})
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	stored, limited = 0, 0
	for err := range errs {
		switch phonebook.ErrorCode(err) {
		case "":
			stored++
		case phonebook.ECodeNumberLimit:
			limited++
		default:
			t.Errorf("writer: %v", err)
		}
	}
	if stored != 50 || limited != 20 {
		t.Errorf("got %d stored and %d number_limit, want 50 and 20", stored, limited)
	}

	// The same number added to one customer from three nodes at once: one
	// phone, the others are duplicates.
	d := env.MustCustomer(t, "dup")
	errs = make(chan error, 30)
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := node(i).AddPhone(env.Ctx, phonebook.CustomerRef{ID: d.ID}, phonebook.PhoneInput{Number: []string{"(504) 555-0123", "+1 504 555 0123", "5045550123"}[i%3]})
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	stored = 0
	for err := range errs {
		switch phonebook.ErrorCode(err) {
		case "":
			stored++
		case phonebook.ECodePhoneDuplicate:
		default:
			t.Errorf("writer: %v", err)
		}
	}
	if stored != 1 || len(env.Phones(t, d)) != 1 {
		t.Errorf("got %d stored, %d phones, want 1 and 1", stored, len(env.Phones(t, d)))
	}
}

// MustNodes opens n stores (n pools of maxConns, as n API nodes have) over
// one fresh schema, dropped when t ends, and returns a service on each.
func MustNodes(t *testing.T, n int, maxConns int32) []*phonebook.Service {
	t.Helper()
	url := testURL(t)
	ctx := context.Background()
	schema := fmt.Sprintf("pbnodes_%d_%d", os.Getpid(), rand.Uint64())
	t.Cleanup(func() {
		if err := postgres.DropSchema(ctx, url, schema); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	var nodes []*phonebook.Service
	for i := 0; i < n; i++ {
		s, err := postgres.Open(ctx, url, postgres.Options{Schema: schema, MaxConns: maxConns})
		if err != nil {
			t.Fatalf("open node %d: %v", i, err)
		}
		t.Cleanup(func() { s.Close() })
		nodes = append(nodes, phonebook.NewService(s, nil))
	}
	return nodes
}
