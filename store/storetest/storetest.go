// Package storetest is the conformance suite every phonebook.Store runs:
// each Store behaviour and each rule of DESIGN §2, through the Service, the
// way every API layer reaches a store.
package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/secretbox"
)

// Opener returns a fresh, empty, migrated store; the suite closes it.
type Opener func(t *testing.T) phonebook.Store

// Env is one test's service with a tenant and a caller context.
type Env struct {
	Svc    *phonebook.Service
	Store  phonebook.Store
	Tenant *phonebook.Tenant
	Ctx    context.Context // carries an admin caller of Tenant
}

// MustEnv opens a store, creates tenant slug and returns an admin caller.
func MustEnv(t *testing.T, open Opener, slug string) *Env {
	t.Helper()
	st := open(t)
	t.Cleanup(func() { st.Close() })
	svc := phonebook.NewService(st, nil)
	svc.SetSealer(MustBox(t))
	return MustTenant(t, svc, phonebook.TenantInput{Slug: slug})
}

// MustBox returns a secretbox under a fixed test server key.
func MustBox(t testing.TB) *secretbox.Box {
	t.Helper()
	b, err := secretbox.New("test-server-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// MustTenant creates a tenant on svc and returns an admin caller of it.
func MustTenant(t *testing.T, svc *phonebook.Service, in phonebook.TenantInput) *Env {
	t.Helper()
	ctx := context.Background()
	tn, err := svc.CreateTenant(ctx, in)
	if err != nil {
		t.Fatalf("CreateTenant(%q): %v", in.Slug, err)
	}
	k, secret, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: tn.Slug, Name: "test", Scopes: phonebook.AllScopes})
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	a, err := svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if a.Key.ID != k.ID {
		t.Fatalf("Authenticate: got key %d, want %d", a.Key.ID, k.ID)
	}
	a.Source = "test"
	return &Env{Svc: svc, Store: svc.Store(), Tenant: tn, Ctx: phonebook.NewContextWithAuth(ctx, a)}
}

// MustCustomer creates a customer named name.
func (e *Env) MustCustomer(t *testing.T, name string) *phonebook.Customer {
	t.Helper()
	c, err := e.Svc.CreateCustomer(e.Ctx, phonebook.CustomerInput{Name: name})
	if err != nil {
		t.Fatalf("CreateCustomer(%q): %v", name, err)
	}
	return c
}

// MustPhone adds number to customer c.
func (e *Env) MustPhone(t *testing.T, c *phonebook.Customer, in phonebook.PhoneInput) *phonebook.Phone {
	t.Helper()
	p, err := e.Svc.AddPhone(e.Ctx, phonebook.CustomerRef{ID: c.ID}, in)
	if err != nil {
		t.Fatalf("AddPhone(%q): %v", in.Number, err)
	}
	return p
}

// Phones returns c's phones.
func (e *Env) Phones(t *testing.T, c *phonebook.Customer) []*phonebook.Phone {
	t.Helper()
	ps, err := e.Svc.FindPhones(e.Ctx, phonebook.CustomerRef{ID: c.ID})
	if err != nil {
		t.Fatalf("FindPhones: %v", err)
	}
	return ps
}

// Primaries returns the ids of c's primary phones.
func (e *Env) Primaries(t *testing.T, c *phonebook.Customer) []int64 {
	t.Helper()
	var ids []int64
	for _, p := range e.Phones(t, c) {
		if p.IsPrimary {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

// WantCode fails t unless err carries code (and field, when not "").
func WantCode(t *testing.T, err error, code, field string) {
	t.Helper()
	if got := phonebook.ErrorCode(err); got != code {
		t.Fatalf("error code: got %q (%v), want %q", got, err, code)
	}
	if field != "" {
		if got := phonebook.ErrorField(err); got != field {
			t.Fatalf("error field: got %q, want %q (%v)", got, field, err)
		}
	}
}

// Run runs the whole suite against the store open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"Idempotency", testIdempotency},
		{"IdempotencyRecords", testIdempotencyRecords},
		{"Tenants", testTenants},
		{"Keys", testKeys},
		{"TenantKeys", testTenantKeys},
		{"ConsoleSessions", testConsoleSessions},
		{"CustomerIDsStartAt100000", testCustomerIDs},
		{"CustomerCRUD", testCustomerCRUD},
		{"CustomerList", testCustomerList},
		{"FirstPhoneIsPrimary", testFirstPhonePrimary},
		{"NewPrimaryDemotesOld", testNewPrimaryDemotes},
		{"UnsetPrimaryHandsItOn", testUnsetPrimary},
		{"DeletePrimaryPromotesOldest", testDeletePrimaryPromotes},
		{"DuplicateInAnyFormat", testDuplicate},
		{"SameNumberOtherExtension", testOtherExtension},
		{"PhoneLimit", testPhoneLimit},
		{"NumberLimit", testNumberLimit},
		{"NumberLimitInBatch", testNumberLimitInBatch},
		{"PhoneKeys", testPhoneKeys},
		{"FindPhonesOfMany", testFindPhonesOfMany},
		{"PhoneTypes", testPhoneTypes},
		{"InvalidNumbers", testInvalidNumbers},
		{"NumberFields", testNumberFields},
		{"UpdatePhone", testUpdatePhone},
		{"Upsert", testUpsert},
		{"NumberRules", testNumberRules},
		{"RemoveNumber", testRemoveNumber},
		{"AddPhonesAllOrNothing", testAddPhonesAllOrNothing},
		{"Lookup", testLookup},
		{"Versions", testVersions},
		{"Events", testEvents},
		{"TenantIsolation", testTenantIsolation},
		{"Scopes", testScopes},
		{"History", testHistory},
		{"ConsentLedger", testConsentLedger},
		{"SMSKeywords", testSMSKeywords},
		{"WebhookDeliveries", testWebhookDeliveries},
		{"WebhookLimit", testWebhookLimit},
		{"SecretsReseal", testSecretsReseal},
		{"ProbeWrite", testProbeWrite},
		{"Publications", testPublications},
		{"OutboxInOneTx", testOutboxInOneTx},
		{"ConcurrentPrimary", testConcurrentPrimary},
		{"ConcurrentPhoneLimit", testConcurrentPhoneLimit},
		{"ConcurrentNumberLimit", testConcurrentNumberLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// concurrently runs fn(i) for i in [0,n) at once and returns the errors.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}(i)
	}
	close(start)
	wg.Wait()
	return errs
}

// number returns the i-th distinct valid US number.
func number(i int) string { return fmt.Sprintf("+1 201 555 %04d", i) }

// fixedClock is a clock tests can move.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}
