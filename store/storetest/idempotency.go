package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
)

// idemCall runs one request under key: it creates a customer named name
// and answers status with the customer's id as the body.
func idemCall(e *Env, ctx context.Context, key, hash, name string, status int, calls *atomic.Int32) (*phonebook.IdempotencyRecord, bool, error) {
	return e.Svc.RunIdempotent(ctx, key, hash, func(ctx context.Context) (*phonebook.IdempotencyRecord, error) {
		calls.Add(1)
		c, err := e.Svc.CreateCustomer(ctx, phonebook.CustomerInput{Name: name})
		if err != nil {
			return nil, err
		}
		return &phonebook.IdempotencyRecord{Status: status, ContentType: "text/plain", Location: fmt.Sprint("/c/", c.ID), Body: []byte(fmt.Sprint(c.ID))}, nil
	})
}

// customersNamed counts the tenant's customers called name.
func customersNamed(t *testing.T, e *Env, name string) int {
	t.Helper()
	cs, err := e.Svc.FindCustomers(e.Ctx, phonebook.CustomerFilter{Q: name, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cs.Customers {
		if c.Name == name {
			n++
		}
	}
	return n
}

// testIdempotency: a request under an Idempotency-Key runs once; its answer
// is stored with its change, replayed after, and a 5xx leaves nothing.
func testIdempotency(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	var calls atomic.Int32

	first, replayed, err := idemCall(e, e.Ctx, "k1", "h1", "Once", 201, &calls)
	if err != nil || replayed || first.Status != 201 {
		t.Fatalf("first run: %+v replayed=%v err=%v", first, replayed, err)
	}
	again, replayed, err := idemCall(e, e.Ctx, "k1", "h1", "Once", 201, &calls)
	if err != nil || !replayed {
		t.Fatalf("repeat: replayed=%v err=%v", replayed, err)
	}
	if got, want := string(again.Body), string(first.Body); got != want || again.Status != 201 || again.Location != first.Location || again.ContentType != "text/plain" {
		t.Errorf("replay: got %d %q %q, want 201 %q %q", again.Status, got, again.Location, want, first.Location)
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("runs: got %d, want 1", got)
	}
	if got := customersNamed(t, e, "Once"); got != 1 {
		t.Errorf("customers made: got %d, want 1", got)
	}
	_, _, err = idemCall(e, e.Ctx, "k1", "other", "Once", 201, &calls)
	WantCode(t, err, phonebook.ECodeIdempotencyReused, "Idempotency-Key")

	// Keys are per tenant: another tenant's same key runs.
	other := MustTenant(t, e.Svc, phonebook.TenantInput{Slug: "other"})
	if _, replayed, err := idemCall(other, other.Ctx, "k1", "h1", "Once", 201, &calls); err != nil || replayed {
		t.Errorf("other tenant, same key: replayed=%v err=%v", replayed, err)
	}

	// A 5xx is answered, not stored, and its change is rolled back.
	res, replayed, err := idemCall(e, e.Ctx, "k5", "h5", "Failed", 500, &calls)
	if err != nil || replayed || res.Status != 500 {
		t.Fatalf("5xx run: %+v replayed=%v err=%v", res, replayed, err)
	}
	if got := customersNamed(t, e, "Failed"); got != 0 {
		t.Errorf("a 5xx answer kept its change: %d customers", got)
	}
	calls.Store(0)
	if res, replayed, err := idemCall(e, e.Ctx, "k5", "h5", "Failed", 201, &calls); err != nil || replayed || res.Status != 201 || calls.Load() != 1 {
		t.Errorf("retry after a 5xx: %+v replayed=%v err=%v runs=%d, want a fresh run", res, replayed, err, calls.Load())
	}

	// A refusal inside the request is undone alone and its answer stored:
	// the customer stays, the duplicate phone is refused, the 409 replays.
	refuse := func(ctx context.Context) (*phonebook.IdempotencyRecord, error) {
		c, err := e.Svc.CreateCustomer(ctx, phonebook.CustomerInput{Name: "Refused"})
		if err != nil {
			return nil, err
		}
		in := phonebook.PhoneInput{Number: "+1 504 555 0123"}
		if _, err := e.Svc.AddPhone(ctx, ref(c), in); err != nil {
			return nil, err
		}
		_, err = e.Svc.AddPhone(ctx, ref(c), in)
		if phonebook.ErrorCode(err) != phonebook.ECodePhoneDuplicate {
			return nil, fmt.Errorf("second add: got %v, want phone_duplicate", err)
		}
		// The request reads its own writes.
		ps, err := e.Svc.FindPhones(ctx, ref(c))
		if err != nil || len(ps) != 1 {
			return nil, fmt.Errorf("phones inside the request: %d, %v", len(ps), err)
		}
		return &phonebook.IdempotencyRecord{Status: 409, Body: []byte("duplicate")}, nil
	}
	if res, _, err := e.Svc.RunIdempotent(e.Ctx, "k4", "h4", refuse); err != nil || res.Status != 409 {
		t.Fatalf("refusing run: %+v %v", res, err)
	}
	if res, replayed, err := e.Svc.RunIdempotent(e.Ctx, "k4", "h4", refuse); err != nil || !replayed || res.Status != 409 {
		t.Errorf("repeat of a refusal: %+v replayed=%v err=%v", res, replayed, err)
	}
	if got := customersNamed(t, e, "Refused"); got != 1 {
		t.Errorf("customers of the refusing run: %d, want 1", got)
	}

	// A request whose client has gone runs to its end and is stored.
	gone, cancel := context.WithCancel(e.Ctx)
	cancel()
	if res, _, err := idemCall(e, gone, "k6", "h6", "Orphan", 201, &calls); err != nil || res.Status != 201 {
		t.Fatalf("run with a cancelled context: %+v %v", res, err)
	}
	if _, replayed, err := idemCall(e, e.Ctx, "k6", "h6", "Orphan", 201, &calls); err != nil || !replayed {
		t.Errorf("retry after the client hung up: replayed=%v err=%v", replayed, err)
	}

	// A repeat while the first still runs: idempotency_in_progress, and
	// the first then finishes and is replayed.
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, _, err := e.Svc.RunIdempotent(e.Ctx, "k7", "h7", func(ctx context.Context) (*phonebook.IdempotencyRecord, error) {
			if _, err := e.Svc.CreateCustomer(ctx, phonebook.CustomerInput{Name: "Slow"}); err != nil {
				return nil, err
			}
			close(started)
			<-release
			return &phonebook.IdempotencyRecord{Status: 201, Body: []byte("slow")}, nil
		})
		done <- err
	}()
	<-started
	_, _, err = idemCall(e, e.Ctx, "k7", "h7", "Slow", 201, &calls)
	WantCode(t, err, phonebook.ECodeIdempotencyInProgress, "Idempotency-Key")
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("slow run: %v", err)
	}
	if res, replayed, err := idemCall(e, e.Ctx, "k7", "h7", "Slow", 201, &calls); err != nil || !replayed || string(res.Body) != "slow" {
		t.Errorf("after the slow run: %+v replayed=%v err=%v", res, replayed, err)
	}
	if got := customersNamed(t, e, "Slow"); got != 1 {
		t.Errorf("customers of the slow run: %d, want 1", got)
	}

	_, _, err = idemCall(e, e.Ctx, "", "h", "x", 201, &calls)
	WantCode(t, err, phonebook.ECodeValidation, "Idempotency-Key")
}

// testIdempotencyRecords: the store keeps, replaces and expires records.
func testIdempotencyRecords(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	old := &phonebook.IdempotencyRecord{TenantID: e.Tenant.ID, Key: "old", RequestHash: "h", Status: 201, Body: []byte("a"), CreatedAt: now.Add(-48 * time.Hour)}
	rec := &phonebook.IdempotencyRecord{TenantID: e.Tenant.ID, Key: "k", RequestHash: "h", Status: 200, ContentType: "application/json", ETag: `"1"`, Location: "/x", Body: []byte(`{}`), CreatedAt: now}
	err := e.Store.Write(ctx, func(tx phonebook.Tx) error {
		ok, err := tx.LockIdempotencyKey(ctx, e.Tenant.ID, "k")
		if err != nil || !ok {
			return fmt.Errorf("lock: %v %v", ok, err)
		}
		if err := tx.SaveIdempotencyRecord(ctx, old, now.Add(-72*time.Hour)); err != nil {
			return err
		}
		return tx.SaveIdempotencyRecord(ctx, rec, now.Add(-72*time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	find := func(key string) (*phonebook.IdempotencyRecord, error) {
		var got *phonebook.IdempotencyRecord
		err := e.Store.Read(ctx, func(tx phonebook.Tx) (err error) {
			got, err = tx.FindIdempotencyRecord(ctx, e.Tenant.ID, key)
			return err
		})
		return got, err
	}
	got, err := find("k")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != 200 || got.ContentType != rec.ContentType || got.ETag != rec.ETag || got.Location != "/x" || string(got.Body) != "{}" || !got.CreatedAt.Equal(now) {
		t.Errorf("record: got %+v, want %+v", got, rec)
	}
	_, err = find("missing")
	WantCode(t, err, phonebook.ECodeNotFound, "")
	// Another tenant's key of the same name is another record.
	var otherErr error
	_ = e.Store.Read(ctx, func(tx phonebook.Tx) error {
		_, otherErr = tx.FindIdempotencyRecord(ctx, e.Tenant.ID+1000, "k")
		return nil
	})
	WantCode(t, otherErr, phonebook.ECodeNotFound, "")
	// Saving again replaces; saving anything expires old records.
	rec2 := *rec
	rec2.Status, rec2.Body = 201, []byte("2")
	if err := e.Store.Write(ctx, func(tx phonebook.Tx) error { return tx.SaveIdempotencyRecord(ctx, &rec2, now.Add(-24*time.Hour)) }); err != nil {
		t.Fatal(err)
	}
	if got, err := find("k"); err != nil || got.Status != 201 || string(got.Body) != "2" {
		t.Errorf("replaced record: %+v %v", got, err)
	}
	_, err = find("old")
	WantCode(t, err, phonebook.ECodeNotFound, "")
}
