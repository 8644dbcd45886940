package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
)

// advance moves the clock by d.
func (c *fixedClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tokenHash is how the service stores a session token.
func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// testConsoleSessions checks the console's server-side sessions: a record
// holding only the token's hash, ended by sign-out, by expiry and by the
// key's revocation, on any service sharing the store (another node).
func testConsoleSessions(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	ctx := context.Background()
	clk := &fixedClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	svc := phonebook.NewService(e.Store, clk.Now)
	other := phonebook.NewService(e.Store, clk.Now) // a second node on the same store
	k, secret, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Name: "support", Scopes: []string{phonebook.ScopeCustomersRead}})
	if err != nil {
		t.Fatal(err)
	}

	token, a, err := svc.StartSession(ctx, secret, time.Hour)
	if err != nil {
		t.Fatalf("StartSession: %v", err)
	}
	if len(token) < 40 || a.Key.ID != k.ID || a.Tenant.ID != e.Tenant.ID {
		t.Fatalf("StartSession: token %d characters, key %d, tenant %d; want 40+, %d, %d", len(token), a.Key.ID, a.Tenant.ID, k.ID, e.Tenant.ID)
	}
	got, err := other.SessionAuth(ctx, token)
	if err != nil {
		t.Fatalf("SessionAuth on another node: %v", err)
	}
	if got.Key.ID != k.ID || got.Tenant.ID != e.Tenant.ID || got.Tenant.Slug != "acme" || !got.Key.HasScope(phonebook.ScopeCustomersRead) ||
		got.Key.HasScope(phonebook.ScopeCustomersWrite) || got.Tenant.DefaultRegion != "US" {
		t.Errorf("SessionAuth: key %d scopes %v tenant %d %q; want key %d, read only, tenant %d acme", got.Key.ID, got.Key.Scopes, got.Tenant.ID, got.Tenant.Slug, k.ID, e.Tenant.ID)
	}

	// The store holds the token's hash, never the token.
	err = e.Store.Read(ctx, func(tx phonebook.Tx) error {
		s, key, tn, err := tx.FindConsoleSession(ctx, tokenHash(token))
		if err != nil {
			return err
		}
		if !bytes.Equal(s.ID, tokenHash(token)) || s.KeyID != k.ID || s.TenantID != e.Tenant.ID || key.ID != k.ID || tn.ID != e.Tenant.ID {
			t.Errorf("FindConsoleSession: %+v key %d tenant %d", s, key.ID, tn.ID)
		}
		if !s.ExpiresAt.Equal(s.CreatedAt.Add(time.Hour)) {
			t.Errorf("session expires at %v, want created_at %v + 1h", s.ExpiresAt, s.CreatedAt)
		}
		_, _, _, err = tx.FindConsoleSession(ctx, []byte(token))
		if got := phonebook.ErrorCode(err); got != phonebook.ECodeNotFound {
			t.Errorf("FindConsoleSession(the token itself): %v, want not_found", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Wrong secrets and tokens.
	_, _, err = svc.StartSession(ctx, secret+"x", time.Hour)
	WantCode(t, err, phonebook.ECodeUnauthorized, "")
	_, _, err = svc.StartSession(ctx, secret, 0)
	WantCode(t, err, phonebook.ECodeValidation, "ttl")
	for _, bad := range []string{"", token + "x", token[1:], string(make([]byte, 300))} {
		_, err = svc.SessionAuth(ctx, bad)
		WantCode(t, err, phonebook.ECodeUnauthorized, "")
	}

	// Sign-out on one node ends the session on every node; twice is fine.
	token2, _, err := svc.StartSession(ctx, secret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if token2 == token {
		t.Fatal("two sign-ins got the same token")
	}
	if err := other.EndSession(ctx, token); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	for _, s := range []*phonebook.Service{svc, other} {
		_, err = s.SessionAuth(ctx, token)
		WantCode(t, err, phonebook.ECodeUnauthorized, "")
	}
	if err := svc.EndSession(ctx, token); err != nil {
		t.Errorf("EndSession of an ended session: %v", err)
	}
	if _, err := svc.SessionAuth(ctx, token2); err != nil {
		t.Errorf("another session of the same key after sign-out: %v", err)
	}

	// Expiry: good until the last moment, refused from expires_at on.
	clk.advance(59 * time.Minute)
	if _, err := svc.SessionAuth(ctx, token2); err != nil {
		t.Errorf("SessionAuth after 59 min of 60: %v", err)
	}
	clk.advance(time.Minute)
	_, err = svc.SessionAuth(ctx, token2)
	WantCode(t, err, phonebook.ECodeUnauthorized, "")
	// The next sign-in deletes expired records.
	token3, _, err := svc.StartSession(ctx, secret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	err = e.Store.Read(ctx, func(tx phonebook.Tx) error {
		_, _, _, err := tx.FindConsoleSession(ctx, tokenHash(token2))
		if got := phonebook.ErrorCode(err); got != phonebook.ECodeNotFound {
			t.Errorf("FindConsoleSession(expired) after a sign-in: %v, want not_found", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Revoking the key ends its sessions.
	if err := svc.RevokeAPIKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = other.SessionAuth(ctx, token3)
	WantCode(t, err, phonebook.ECodeUnauthorized, "")

	// Another tenant's key signs in to its own tenant.
	b := MustTenant(t, svc, phonebook.TenantInput{Slug: "globex"})
	_, bsecret, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "globex", Scopes: []string{phonebook.ScopeAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	btoken, _, err := svc.StartSession(ctx, bsecret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ba, err := other.SessionAuth(ctx, btoken)
	if err != nil || ba.Tenant.ID != b.Tenant.ID {
		t.Errorf("globex session: %v, %v; want tenant %d", ba, err, b.Tenant.ID)
	}

	// The Tx methods' own errors, each in a transaction of its own (a
	// failed statement ends a PostgreSQL transaction).
	now := clk.Now()
	rec := &phonebook.ConsoleSession{ID: tokenHash("tx-test"), TenantID: b.Tenant.ID, KeyID: k.ID, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	create := func(tx phonebook.Tx) error { return tx.CreateConsoleSession(ctx, rec) }
	// acme's key in globex: refused.
	WantCode(t, e.Store.Write(ctx, create), phonebook.ECodeNotFound, "")
	rec.TenantID = e.Tenant.ID
	if err := e.Store.Write(ctx, create); err != nil {
		t.Fatalf("CreateConsoleSession: %v", err)
	}
	WantCode(t, e.Store.Write(ctx, create), phonebook.ECodeConflict, "")
	WantCode(t, e.Store.Write(ctx, func(tx phonebook.Tx) error {
		return tx.DeleteConsoleSession(ctx, tokenHash("no such session"))
	}), phonebook.ECodeNotFound, "")
	for _, tc := range []struct {
		at   time.Time
		want int64
	}{
		{now.Add(time.Minute - time.Microsecond), 0},
		{now.Add(time.Minute), 1},   // the one that expires then
		{now.Add(2 * time.Hour), 2}, // acme's and globex's
		{now.Add(2 * time.Hour), 0},
	} {
		var n int64
		err := e.Store.Write(ctx, func(tx phonebook.Tx) (err error) {
			n, err = tx.DeleteExpiredConsoleSessions(ctx, tc.at)
			return err
		})
		if err != nil || n != tc.want {
			t.Errorf("DeleteExpiredConsoleSessions(%v): %d, %v; want %d", tc.at.Sub(now), n, err, tc.want)
		}
	}
}
