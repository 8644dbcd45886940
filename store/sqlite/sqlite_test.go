package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/store/sqlite"
	"github.com/phonebook/phonebook/store/storetest"
)

// MustOpen opens a store on a new file in t's temp dir.
func MustOpen(t *testing.T) phonebook.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "phonebook.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, MustOpen)
}

func TestRestartKeepsAcknowledgedWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "phonebook.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := phonebook.NewService(s, nil)
	e := storetest.MustTenant(t, svc, phonebook.TenantInput{Slug: "acme"})
	var want []int64
	for i := 0; i < 20; i++ {
		c := e.MustCustomer(t, fmt.Sprint("c", i))
		p := e.MustPhone(t, c, phonebook.PhoneInput{Number: fmt.Sprintf("201-555-%04d", i)})
		want = append(want, p.ID)
	}
	secret := "restart-secret-0123456789"
	if _, _, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Scopes: []string{"admin"}, Secret: secret}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	svc2 := phonebook.NewService(s2, nil)
	a, err := svc2.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("key after restart: %v", err)
	}
	rctx := phonebook.NewContextWithAuth(ctx, a)
	page, err := svc2.FindCustomers(rctx, phonebook.CustomerFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, c := range page.Customers {
		for _, p := range c.Phones {
			got = append(got, p.ID)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("phones after restart:\n got %v\nwant %v", got, want)
	}
	// The next customer id continues the sequence.
	c, err := svc2.CreateCustomer(rctx, phonebook.CustomerInput{Name: "after"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.ID, int64(phonebook.FirstCustomerID+20); got != want {
		t.Errorf("next id: got %d, want %d", got, want)
	}
}

func TestFileSettingsAndConstraints(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "phonebook.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := phonebook.NewService(s, nil)
	e := storetest.MustTenant(t, svc, phonebook.TenantInput{Slug: "acme"})
	c := e.MustCustomer(t, "A")
	p := e.MustPhone(t, c, phonebook.PhoneInput{Number: "201-555-0001"})
	_, secret, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Scopes: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	// A second, plain connection sees what the store set up.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode: got %q (%v), want wal", mode, err)
	}
	// The database holds no secret in clear.
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM api_keys WHERE CAST(key_hash AS TEXT) LIKE ? OR name LIKE ? OR prefix = ? OR scopes LIKE ?`,
		"%"+secret+"%", "%"+secret+"%", secret, "%"+secret+"%").Scan(&n); err != nil || n != 0 {
		t.Errorf("secret found in api_keys: %d rows (%v)", n, err)
	}
	// The constraints hold even against SQL that bypasses the service.
	insert := `INSERT INTO phones (uuid, tenant_id, customer_id, raw, e164, country_code, national_number, national, international,
		line_type, valid, extension, type, is_primary, status, created_at, updated_at, version)
		VALUES (?, ?, ?, 'x', ?, 1, 'x', 'x', 'x', 'unknown', 1, ?, ?, ?, 'active', 0, 0, 1)`
	cases := []struct {
		name string
		args []any
	}{
		{"second primary", []any{"u1", e.Tenant.ID, c.ID, "+12015550002", "", "home", 1}},
		{"duplicate number", []any{"u2", e.Tenant.ID, c.ID, p.E164, "", "home", 0}},
		{"unknown type", []any{"u3", e.Tenant.ID, c.ID, "+12015550003", "", "pager", 0}},
		{"customer of another tenant", []any{"u4", e.Tenant.ID + 1, c.ID, "+12015550004", "", "home", 0}},
		{"long extension", []any{"u5", e.Tenant.ID, c.ID, "+12015550005", "123456789012345678901", "home", 0}},
	}
	for _, tc := range cases {
		if _, err := db.Exec(insert, tc.args...); err == nil {
			t.Errorf("%s: insert succeeded, want a constraint error", tc.name)
		}
	}
	if _, err := db.Exec(insert, "u6", e.Tenant.ID, c.ID, "+12015550006", "", "home", 0); err != nil {
		t.Errorf("a valid insert failed: %v", err)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), sqlite.Options{Synchronous: "SOMETIMES"})
	if err == nil {
		t.Error("Open accepted synchronous SOMETIMES")
	}
	_, err = sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "missing-dir", "x.db"), sqlite.Options{})
	if err == nil {
		t.Error("Open succeeded in a missing directory")
	}
}

func TestMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "phonebook.db")
	v, err := sqlite.Migrate(context.Background(), path)
	if err != nil || v < 1 {
		t.Fatalf("Migrate: %d, %v", v, err)
	}
	v2, err := sqlite.Migrate(context.Background(), path)
	if err != nil || v2 != v {
		t.Fatalf("second Migrate: %d, %v; want %d", v2, err, v)
	}
}

// TestGroupCommit: concurrent writes share commits, yet each succeeds or
// fails alone — a failing or panicking write leaves no trace, the others
// in its group are committed.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	st := MustOpen(t)
	defer st.Close()
	svc := phonebook.NewService(st, nil)
	e := storetest.MustTenant(t, svc, phonebook.TenantInput{Slug: "acme"})
	var wg sync.WaitGroup
	errs := make([]error, 300)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = st.Write(ctx, func(tx phonebook.Tx) error {
				c := &phonebook.Customer{TenantID: e.Tenant.ID, Name: fmt.Sprint("c", i), ExternalID: fmt.Sprint("x", i),
					Status: "active", CreatedAt: time.Now(), UpdatedAt: time.Now(), Version: 1}
				if err := tx.CreateCustomer(ctx, c); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return phonebook.Errorf(phonebook.ECodeValidation, "", "refused after writing")
				case 7:
					panic("boom")
				}
				return nil
			})
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		want := ""
		switch i % 10 {
		case 3:
			want = phonebook.ECodeValidation
		case 7:
			want = phonebook.ECodeInternal
		}
		if got := phonebook.ErrorCode(err); got != want {
			t.Errorf("write %d: got %q (%v), want %q", i, got, err, want)
		}
	}
	page, err := svc.FindCustomers(e.Ctx, phonebook.CustomerFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(page.Customers), 240; got != want {
		t.Errorf("customers stored: got %d, want %d", got, want)
	}
	for _, c := range page.Customers {
		var i int
		fmt.Sscanf(c.Name, "c%d", &i)
		if i%10 == 3 || i%10 == 7 {
			t.Errorf("customer %s of a failed write was stored", c.Name)
		}
	}
	// A cancelled context before the write starts: refused, nothing written.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = st.Write(cctx, func(tx phonebook.Tx) error { t.Error("fn ran under a cancelled context"); return nil })
	if err == nil {
		t.Error("write under a cancelled context succeeded")
	}
	// After Close, writes fail cleanly.
	st.Close()
	if err := st.Write(ctx, func(phonebook.Tx) error { return nil }); phonebook.ErrorCode(err) != phonebook.ECodeUnavailable {
		t.Errorf("write after close: %v", err)
	}
}

// Value samples (sqlite_stat4) make SQLite re-plan a statement whenever
// new values are bound to it, which defeats the statement cache; Open
// keeps the row counts of ANALYZE and drops the samples.
func TestOpenDropsStat4(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "phonebook.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := storetest.MustTenant(t, phonebook.NewService(s, nil), phonebook.TenantInput{Slug: "acme"})
	for i := 0; i < 30; i++ {
		e.MustPhone(t, e.MustCustomer(t, fmt.Sprint("c", i)), phonebook.PhoneInput{Number: fmt.Sprintf("+1 201 555 %04d", i)})
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(table string) int {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		return n
	}
	if _, err := db.Exec(`ANALYZE`); err != nil {
		t.Fatal(err)
	}
	if count("sqlite_stat4") == 0 {
		t.Skip("this SQLite build keeps no stat4 samples")
	}
	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if n := count("sqlite_stat4"); n != 0 {
		t.Errorf("sqlite_stat4 has %d samples after Open, want 0", n)
	}
	if count("sqlite_stat1") == 0 {
		t.Error("sqlite_stat1 is empty: the row counts should stay")
	}
}
