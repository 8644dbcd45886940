package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/store/storetest"
)

// TestIdempotencyAcrossNodes runs requests under one Idempotency-Key on two
// stores (two pools, as two API nodes have) over one schema: a repeat on
// node 2 while node 1 still runs the request is told it is in progress; a
// node that dies mid-request (its connection killed) leaves nothing, and
// the retry on the other node runs once, cleanly.
func TestIdempotencyAcrossNodes(t *testing.T) {
	url := testURL(t)
	ctx := context.Background()
	nodes := MustNodes(t, 2, 4)
	env := storetest.MustTenant(t, nodes[0], phonebook.TenantInput{Slug: "acme"})
	var runs atomic.Int32
	create := func(name string, hold chan struct{}, started chan struct{}) phonebook.IdempotentFunc {
		return func(ctx context.Context) (*phonebook.IdempotencyRecord, error) {
			runs.Add(1)
			c, err := nodes[0].CreateCustomer(ctx, phonebook.CustomerInput{Name: name})
			if err != nil {
				return nil, err
			}
			if started != nil {
				close(started)
			}
			if hold != nil {
				<-hold
			}
			return &phonebook.IdempotencyRecord{Status: 201, Body: []byte(fmt.Sprint(c.ID))}, nil
		}
	}
	count := func(name string) int {
		t.Helper()
		page, err := nodes[1].FindCustomers(env.Ctx, phonebook.CustomerFilter{Q: name, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Customers)
	}

	// In progress on node 1: node 2 is told so, then replays the answer.
	started, hold := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		// The request's Service calls run on node 1's transaction, whichever
		// Service object they are made on: the transaction rides in ctx.
		_, _, err := nodes[0].RunIdempotent(env.Ctx, "k1", "h", create("Alpha", hold, started))
		first <- err
	}()
	<-started
	_, _, err := nodes[1].RunIdempotent(env.Ctx, "k1", "h", create("Alpha", nil, nil))
	storetest.WantCode(t, err, phonebook.ECodeIdempotencyInProgress, "Idempotency-Key")
	close(hold)
	if err := <-first; err != nil {
		t.Fatalf("node 1: %v", err)
	}
	rec, replayed, err := nodes[1].RunIdempotent(env.Ctx, "k1", "h", create("Alpha", nil, nil))
	if err != nil || !replayed || rec.Status != 201 {
		t.Fatalf("node 2 after node 1 finished: %+v replayed=%v err=%v", rec, replayed, err)
	}
	if got := count("Alpha"); got != 1 || runs.Load() != 1 {
		t.Errorf("Alpha: %d customers, %d runs; want 1 and 1", got, runs.Load())
	}

	// Node 1 dies mid-request: the database ends its session (as when the
	// process is killed), its transaction and lock go, nothing is stored.
	runs.Store(0)
	started, hold = make(chan struct{}), make(chan struct{})
	go func() {
		_, _, err := nodes[0].RunIdempotent(env.Ctx, "k2", "h", create("Beta", hold, started))
		first <- err
	}()
	<-started
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var killed int
	err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND classid = $1 AND granted`, 0x1de0).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminating node 1's session: killed %d, %v", killed, err)
	}
	close(hold)
	if err := <-first; err == nil {
		t.Fatalf("node 1's request survived the end of its session")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec, replayed, err = nodes[1].RunIdempotent(env.Ctx, "k2", "h", create("Beta", nil, nil))
		if !phonebook.IsCode(err, phonebook.ECodeIdempotencyInProgress) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || replayed || rec.Status != 201 {
		t.Fatalf("retry on node 2: %+v replayed=%v err=%v, want one clean run", rec, replayed, err)
	}
	if got := count("Beta"); got != 1 || runs.Load() != 2 {
		t.Errorf("Beta: %d customers after %d runs; want 1 customer (the dead run left nothing)", got, runs.Load())
	}
}
