package storetest

import (
	"context"
	"testing"

	"github.com/phonebook/phonebook"
)

// testTenantKeys: a tenant's admin lists, creates and revokes the keys of
// its own tenant only (the console's Keys page), and nothing else.
func testTenantKeys(t *testing.T, open Opener) {
	a := MustEnv(t, open, "acme")
	b := MustTenant(t, a.Svc, phonebook.TenantInput{Slug: "globex"})
	ctx := context.Background()

	// The tenant is the caller's, whatever the input says.
	k, token, err := a.Svc.CreateTenantKey(a.Ctx, phonebook.KeyInput{TenantSlug: "globex", Name: "box office", Scopes: []string{phonebook.ScopeCustomersRead}, Format: phonebook.KeyFormatV9})
	if err != nil {
		t.Fatal(err)
	}
	if k.TenantID != a.Tenant.ID || len(token) != 32 || len(k.SigningSecret) != 40 || !k.RequireSignature {
		t.Fatalf("CreateTenantKey: tenant %d (want %d), token %d chars, secret %d chars, require %v", k.TenantID, a.Tenant.ID, len(token), len(k.SigningSecret), k.RequireSignature)
	}
	auth, err := a.Svc.Authenticate(ctx, token)
	if err != nil || auth.Tenant.ID != a.Tenant.ID || !auth.Key.RequireSignature {
		t.Fatalf("the new key: %v, %+v", err, auth)
	}
	for _, tc := range []struct {
		name  string
		in    phonebook.KeyInput
		field string
	}{
		{"chosen secret", phonebook.KeyInput{Scopes: []string{"admin"}, Secret: "chosen-secret-0123456789"}, "secret"},
		{"chosen signing secret", phonebook.KeyInput{Scopes: []string{"admin"}, SigningSecret: "chosen-signing-0123456789"}, "signing_secret"},
		{"no scope", phonebook.KeyInput{Name: "x"}, "scopes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := a.Svc.CreateTenantKey(a.Ctx, tc.in)
			WantCode(t, err, phonebook.ECodeValidation, tc.field)
		})
	}

	list := func(e *Env) map[int64]*phonebook.APIKey {
		t.Helper()
		keys, err := e.Svc.TenantKeys(e.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]*phonebook.APIKey{}
		for _, k := range keys {
			if k.TenantID != e.Tenant.ID || k.SigningSecret != "" || len(k.Hash) != 0 {
				t.Errorf("TenantKeys of %s: key %d of tenant %d, with a secret: %v", e.Tenant.Slug, k.ID, k.TenantID, k.SigningSecret != "" || len(k.Hash) != 0)
			}
			out[k.ID] = k
		}
		return out
	}
	if got := list(a); len(got) != 2 || got[k.ID] == nil {
		t.Errorf("acme's keys: %d, want its admin key and the new one", len(got))
	}
	if got := list(b); len(got) != 1 {
		t.Errorf("globex's keys: %d, want 1", len(got))
	}

	// Another tenant's key is not found; the caller's own key is refused.
	WantCode(t, b.Svc.RevokeTenantKey(b.Ctx, k.ID), phonebook.ECodeNotFound, "")
	WantCode(t, a.Svc.RevokeTenantKey(a.Ctx, phonebook.AuthFromContext(a.Ctx).Key.ID), phonebook.ECodeValidation, "id")
	WantCode(t, a.Svc.RevokeTenantKey(a.Ctx, 999999), phonebook.ECodeNotFound, "")
	if _, err := a.Svc.Authenticate(ctx, token); err != nil {
		t.Fatalf("refused revocations revoked the key: %v", err)
	}
	if err := a.Svc.RevokeTenantKey(a.Ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Svc.Authenticate(ctx, token); !phonebook.IsCode(err, phonebook.ECodeUnauthorized) {
		t.Errorf("the revoked key: %v, want unauthorized", err)
	}
	if got := list(a)[k.ID]; got == nil || got.RevokedAt == nil {
		t.Error("the revoked key is not listed as revoked")
	}

	// Without admin scope, none of it.
	ro, roSecret, err := a.Svc.CreateTenantKey(a.Ctx, phonebook.KeyInput{Scopes: []string{phonebook.ScopeCustomersWrite}})
	if err != nil {
		t.Fatal(err)
	}
	roAuth, err := a.Svc.Authenticate(ctx, roSecret)
	if err != nil {
		t.Fatal(err)
	}
	roCtx := phonebook.NewContextWithAuth(ctx, roAuth)
	_, err = a.Svc.TenantKeys(roCtx)
	WantCode(t, err, phonebook.ECodeForbidden, "")
	_, _, err = a.Svc.CreateTenantKey(roCtx, phonebook.KeyInput{Scopes: []string{"admin"}})
	WantCode(t, err, phonebook.ECodeForbidden, "")
	WantCode(t, a.Svc.RevokeTenantKey(roCtx, ro.ID), phonebook.ECodeForbidden, "")
	_, err = a.Svc.TenantKeys(ctx)
	WantCode(t, err, phonebook.ECodeUnauthorized, "")
}
