package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
)

func ref(c *phonebook.Customer) phonebook.CustomerRef { return phonebook.CustomerRef{ID: c.ID} }
func pref(p *phonebook.Phone) phonebook.CustomerRef   { return phonebook.CustomerRef{ID: p.ID} }
func ptr[T any](v T) *T                               { return &v }

func testTenants(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	ctx := context.Background()
	if got, want := e.Tenant.DefaultRegion, "US"; got != want {
		t.Errorf("default region: got %q, want %q", got, want)
	}
	if got, want := e.Tenant.MaxPhonesPerCustomer, 50; got != want {
		t.Errorf("max phones: got %d, want %d", got, want)
	}
	_, err := e.Svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "acme"})
	WantCode(t, err, phonebook.ECodeConflict, "slug")
	_, err = e.Svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "Bad Slug!"})
	WantCode(t, err, phonebook.ECodeValidation, "slug")
	_, err = e.Svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "x", DefaultRegion: "QQ"})
	WantCode(t, err, phonebook.ECodeValidation, "default_region")
	gb, err := e.Svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "uk", DefaultRegion: "gb", StrictNumbers: true})
	if err != nil {
		t.Fatalf("CreateTenant uk: %v", err)
	}
	if gb.DefaultRegion != "GB" || !gb.StrictNumbers {
		t.Errorf("uk tenant: got %+v", gb)
	}
	ts, err := e.Svc.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var slugs []string
	for _, tn := range ts {
		slugs = append(slugs, tn.Slug)
	}
	if got, want := strings.Join(slugs, ","), "acme,uk"; got != want {
		t.Errorf("tenants: got %s, want %s", got, want)
	}
	types, err := e.Svc.PhoneTypes(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, pt := range types {
		names = append(names, pt.Name)
	}
	if got, want := strings.Join(names, ","), "fax,home,mobile,other,work"; got != want {
		t.Errorf("default phone types: got %s, want %s", got, want)
	}
}

// testKeyRequireSignature: a v9 key stores its flag and its (sealed)
// signing secret, and the flag changes only for a key with a signing secret.
func testKeyRequireSignature(t *testing.T, e *Env) {
	t.Helper()
	ctx := context.Background()
	k, token, err := e.Svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Name: "v9", Scopes: []string{phonebook.ScopeCustomersRead}, Format: phonebook.KeyFormatV9})
	if err != nil {
		t.Fatal(err)
	}
	auth := func() *phonebook.APIKey {
		t.Helper()
		a, err := e.Svc.Authenticate(ctx, token)
		if err != nil {
			t.Fatalf("Authenticate(v9 token): %v", err)
		}
		return a.Key
	}
	if got := auth(); !got.RequireSignature || got.SigningSecret != k.SigningSecret || len(token) != 32 {
		t.Errorf("v9 key: require_signature %t, secret kept %t, token length %d; want true, true, 32", got.RequireSignature, got.SigningSecret == k.SigningSecret, len(token))
	}
	if err := e.Svc.SetAPIKeyRequireSignature(ctx, k.ID, false); err != nil {
		t.Fatal(err)
	}
	if auth().RequireSignature {
		t.Errorf("require_signature still set after turning it off")
	}
	plain, _, err := e.Svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Name: "plain", Scopes: []string{phonebook.ScopeCustomersRead}})
	if err != nil {
		t.Fatal(err)
	}
	WantCode(t, e.Svc.SetAPIKeyRequireSignature(ctx, plain.ID, true), phonebook.ECodeValidation, "require_signature")
	WantCode(t, e.Svc.SetAPIKeyRequireSignature(ctx, 999999, true), phonebook.ECodeNotFound, "")
	if err := e.Svc.RevokeAPIKey(ctx, plain.ID); err != nil {
		t.Fatal(err)
	}
}

func testKeys(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	ctx := context.Background()
	k, secret, err := e.Svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Name: "ro", Scopes: []string{phonebook.ScopeCustomersRead}})
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) < 40 || k.Prefix == "" || !strings.HasPrefix(secret, k.Prefix) {
		t.Errorf("secret %q (prefix %q) looks weak", secret, k.Prefix)
	}
	a, err := e.Svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if a.Tenant.ID != e.Tenant.ID || !a.Key.HasScope(phonebook.ScopeCustomersRead) || a.Key.HasScope(phonebook.ScopeCustomersWrite) {
		t.Errorf("Authenticate: got tenant %d scopes %v", a.Tenant.ID, a.Key.Scopes)
	}
	_, err = e.Svc.Authenticate(ctx, secret+"x")
	WantCode(t, err, phonebook.ECodeUnauthorized, "")
	_, err = e.Svc.Authenticate(ctx, "")
	WantCode(t, err, phonebook.ECodeUnauthorized, "")
	if err := e.Svc.RevokeAPIKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.Svc.Authenticate(ctx, secret)
	WantCode(t, err, phonebook.ECodeUnauthorized, "")
	WantCode(t, e.Svc.RevokeAPIKey(ctx, 999999), phonebook.ECodeNotFound, "")
	testKeyRequireSignature(t, e)
	keys, err := e.Svc.APIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(keys), 4; got != want { // and the two keys of testKeyRequireSignature
		t.Fatalf("keys: got %d, want %d", got, want)
	}
	if !keys[1].Revoked() || keys[0].Revoked() || keys[1].TenantSlug != "acme" {
		t.Errorf("keys: got %+v %+v", keys[0], keys[1])
	}
	// An operator-chosen secret (PHONEBOOK_BOOTSTRAP_KEY) works as given.
	_, _, err = e.Svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Scopes: []string{"admin"}, Secret: "chosen-secret-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Authenticate(ctx, "chosen-secret-0123456789"); err != nil {
		t.Errorf("chosen secret: %v", err)
	}
	signed, signedSecret, err := e.Svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Scopes: []string{"admin"}, SigningSecret: "generate"})
	if err != nil {
		t.Fatal(err)
	}
	sa, err := e.Svc.Authenticate(ctx, signedSecret)
	if err != nil || sa.Key.SigningSecret == "" || sa.Key.SigningSecret != signed.SigningSecret {
		t.Errorf("signing secret: got %q, want %q (%v)", sa.Key.SigningSecret, signed.SigningSecret, err)
	}
	// The store holds the signing secret sealed, never in clear.
	err = e.Store.Read(ctx, func(tx phonebook.Tx) error {
		k, err := tx.FindAPIKeyByHash(ctx, phonebook.HashSecret(signedSecret))
		if err != nil {
			return err
		}
		if k.SigningSecret == "" || strings.Contains(k.SigningSecret, signed.SigningSecret) {
			t.Errorf("stored signing secret %q is not sealed", k.SigningSecret)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A service without the server key refuses keys with a signing secret.
	bare := phonebook.NewService(e.Store, nil)
	_, err = bare.Authenticate(ctx, signedSecret)
	WantCode(t, err, phonebook.ECodeUnauthorized, "")
	_, _, err = bare.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Scopes: []string{"admin"}, SigningSecret: "generate"})
	WantCode(t, err, phonebook.ECodeSecretKeyRequired, "signing_secret")
	_, _, err = e.Svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Scopes: []string{"admin"}, SigningSecret: "short"})
	WantCode(t, err, phonebook.ECodeValidation, "signing_secret")
	_, _, err = e.Svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "nope", Scopes: []string{"admin"}})
	WantCode(t, err, phonebook.ECodeNotFound, "tenant")
	_, _, err = e.Svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Scopes: []string{"root"}})
	WantCode(t, err, phonebook.ECodeValidation, "scopes")
}

func testCustomerIDs(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "First")
	if c.ID != phonebook.FirstCustomerID {
		t.Errorf("first customer id: got %d, want %d", c.ID, phonebook.FirstCustomerID)
	}
	c2 := e.MustCustomer(t, "Second")
	if c2.ID != c.ID+1 {
		t.Errorf("second customer id: got %d, want %d", c2.ID, c.ID+1)
	}
	if len(c.UUID) != 36 {
		t.Errorf("uuid: got %q", c.UUID)
	}
}

func testCustomerCRUD(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c, err := e.Svc.CreateCustomer(e.Ctx, phonebook.CustomerInput{Name: "  Ada Lovelace ", ExternalID: "crm-1"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Ada Lovelace" || c.Status != "active" || c.Version != 1 {
		t.Errorf("created: got %+v", c)
	}
	_, err = e.Svc.CreateCustomer(e.Ctx, phonebook.CustomerInput{Name: "Dup", ExternalID: "crm-1"})
	WantCode(t, err, phonebook.ECodeConflict, "external_id")
	_, err = e.Svc.CreateCustomer(e.Ctx, phonebook.CustomerInput{Name: strings.Repeat("n", 201)})
	WantCode(t, err, phonebook.ECodeValidation, "name")
	_, err = e.Svc.CreateCustomer(e.Ctx, phonebook.CustomerInput{Status: "gone"})
	WantCode(t, err, phonebook.ECodeValidation, "status")

	for _, r := range []phonebook.CustomerRef{{ID: c.ID}, {UUID: c.UUID}, {UUID: strings.ToUpper(c.UUID)}, {ExternalID: "crm-1"}} {
		got, err := e.Svc.FindCustomer(e.Ctx, r)
		if err != nil {
			t.Fatalf("FindCustomer(%+v): %v", r, err)
		}
		if got.ID != c.ID || got.Phones == nil {
			t.Errorf("FindCustomer(%+v): got %+v", r, got)
		}
	}
	_, err = e.Svc.FindCustomer(e.Ctx, phonebook.CustomerRef{ID: 1})
	WantCode(t, err, phonebook.ECodeNotFound, "")

	up, err := e.Svc.UpdateCustomer(e.Ctx, ref(c), phonebook.CustomerUpdate{Name: ptr("Ada King"), Status: ptr("inactive")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if up.Name != "Ada King" || up.Status != "inactive" || up.ExternalID != "crm-1" || up.Version != 2 {
		t.Errorf("updated: got %+v", up)
	}
	if err := e.Svc.DeleteCustomer(e.Ctx, ref(c), 0); err != nil {
		t.Fatal(err)
	}
	_, err = e.Svc.FindCustomer(e.Ctx, ref(c))
	WantCode(t, err, phonebook.ECodeNotFound, "")
	WantCode(t, e.Svc.DeleteCustomer(e.Ctx, ref(c), 0), phonebook.ECodeNotFound, "")
}

func testCustomerList(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	names := []string{"carol", "alice", "Bob", "dave", "eve", "alicia"}
	var cs []*phonebook.Customer
	for i, n := range names {
		c, err := e.Svc.CreateCustomer(e.Ctx, phonebook.CustomerInput{Name: n, ExternalID: fmt.Sprintf("x%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	e.MustPhone(t, cs[2], phonebook.PhoneInput{Number: "(504) 555-0123"})
	if _, err := e.Svc.UpdateCustomer(e.Ctx, ref(cs[3]), phonebook.CustomerUpdate{Status: ptr("inactive")}, 0); err != nil {
		t.Fatal(err)
	}
	list := func(f phonebook.CustomerFilter) []string {
		t.Helper()
		var out []string
		for {
			page, err := e.Svc.FindCustomers(e.Ctx, f)
			if err != nil {
				t.Fatalf("FindCustomers(%+v): %v", f, err)
			}
			for _, c := range page.Customers {
				out = append(out, c.Name)
			}
			if page.NextCursor == "" {
				return out
			}
			f.After, err = phonebook.DecodeCursor(page.NextCursor, orDefault(f.Sort))
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		f    phonebook.CustomerFilter
		want string
	}{
		{phonebook.CustomerFilter{}, "carol,alice,Bob,dave,eve,alicia"},
		{phonebook.CustomerFilter{Limit: 2}, "carol,alice,Bob,dave,eve,alicia"},
		{phonebook.CustomerFilter{Limit: 4, Sort: "-created_at"}, "alicia,eve,dave,Bob,alice,carol"},
		{phonebook.CustomerFilter{Limit: 1, Sort: "name"}, "alice,alicia,Bob,carol,dave,eve"},
		{phonebook.CustomerFilter{Q: "ALI"}, "alice,alicia"},
		{phonebook.CustomerFilter{Q: "%"}, ""},
		{phonebook.CustomerFilter{ExternalID: "x4"}, "eve"},
		{phonebook.CustomerFilter{Status: "inactive"}, "dave"},
		{phonebook.CustomerFilter{PhoneE164: "5045550123"}, "Bob"},
		{phonebook.CustomerFilter{PhoneE164: "+1 (504) 555-0123"}, "Bob"},
	}
	for _, tc := range cases {
		if got := strings.Join(list(tc.f), ","); got != tc.want {
			t.Errorf("FindCustomers(%+v): got %s, want %s", tc.f, got, tc.want)
		}
	}
	page, err := e.Svc.FindCustomers(e.Ctx, phonebook.CustomerFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(page.Customers[2].Phones); got != 1 {
		t.Errorf("listed customer phones: got %d, want 1", got)
	}
	for _, f := range []phonebook.CustomerFilter{{Limit: 501}, {Limit: -1}, {Sort: "age"}, {Status: "x"}} {
		_, err := e.Svc.FindCustomers(e.Ctx, f)
		WantCode(t, err, phonebook.ECodeValidation, "")
	}
	_, err = phonebook.DecodeCursor("garbage!", "name")
	WantCode(t, err, phonebook.ECodeValidation, "cursor")
}

func orDefault(sort string) string {
	if sort == "" {
		return phonebook.SortCreatedAsc
	}
	return sort
}

func testFirstPhonePrimary(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	p := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1), IsPrimary: false})
	if !p.IsPrimary {
		t.Errorf("first phone: is_primary false, want true")
	}
	p2 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(2)})
	if p2.IsPrimary {
		t.Errorf("second phone: is_primary true, want false")
	}
	if got := e.Primaries(t, c); !slices.Equal(got, []int64{p.ID}) {
		t.Errorf("primaries: got %v, want [%d]", got, p.ID)
	}
}

func testNewPrimaryDemotes(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	p1 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1)})
	p2 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(2), IsPrimary: true})
	if !p2.IsPrimary {
		t.Fatal("new primary not primary")
	}
	if got := e.Primaries(t, c); !slices.Equal(got, []int64{p2.ID}) {
		t.Errorf("after add: primaries %v, want [%d]", got, p2.ID)
	}
	// Through an update too.
	up, err := e.Svc.UpdatePhone(e.Ctx, ref(c), pref(p1), phonebook.PhoneUpdate{IsPrimary: ptr(true)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !up.IsPrimary {
		t.Error("updated phone not primary")
	}
	if got := e.Primaries(t, c); !slices.Equal(got, []int64{p1.ID}) {
		t.Errorf("after update: primaries %v, want [%d]", got, p1.ID)
	}
}

func testUnsetPrimary(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	p1 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1)})
	// The only phone stays primary.
	up, err := e.Svc.UpdatePhone(e.Ctx, ref(c), pref(p1), phonebook.PhoneUpdate{IsPrimary: ptr(false)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !up.IsPrimary {
		t.Error("only phone lost its primary flag")
	}
	p2 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(2)})
	e.MustPhone(t, c, phonebook.PhoneInput{Number: number(3)})
	up, err = e.Svc.UpdatePhone(e.Ctx, ref(c), pref(p1), phonebook.PhoneUpdate{IsPrimary: ptr(false)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if up.IsPrimary {
		t.Error("phone kept primary after unsetting it")
	}
	if got := e.Primaries(t, c); !slices.Equal(got, []int64{p2.ID}) {
		t.Errorf("primaries %v, want the oldest other [%d]", got, p2.ID)
	}
}

func testDeletePrimaryPromotes(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	p1 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1)})
	p2 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(2)})
	p3 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(3), IsPrimary: true})
	if err := e.Svc.DeletePhone(e.Ctx, ref(c), pref(p3), 0); err != nil {
		t.Fatal(err)
	}
	if got := e.Primaries(t, c); !slices.Equal(got, []int64{p1.ID}) {
		t.Errorf("after deleting primary: %v, want oldest [%d]", got, p1.ID)
	}
	if err := e.Svc.DeletePhone(e.Ctx, ref(c), pref(p2), 0); err != nil {
		t.Fatal(err)
	}
	if got := e.Primaries(t, c); !slices.Equal(got, []int64{p1.ID}) {
		t.Errorf("after deleting non-primary: %v, want [%d]", got, p1.ID)
	}
	if err := e.Svc.DeletePhone(e.Ctx, ref(c), pref(p1), 0); err != nil {
		t.Fatal(err)
	}
	if got := e.Phones(t, c); len(got) != 0 {
		t.Errorf("phones left: %d", len(got))
	}
	WantCode(t, e.Svc.DeletePhone(e.Ctx, ref(c), pref(p1), 0), phonebook.ECodeNotFound, "")
}

func testDuplicate(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	p := e.MustPhone(t, c, phonebook.PhoneInput{Number: "(504) 555-0123"})
	if p.E164 != "+15045550123" {
		t.Errorf("e164: got %q", p.E164)
	}
	for _, n := range []string{"+1 504 555 0123", "5045550123", "504.555.0123", "+15045550123"} {
		_, err := e.Svc.AddPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: n})
		WantCode(t, err, phonebook.ECodePhoneDuplicate, "number")
	}
	_, err := e.Svc.AddPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: "5045550123", Country: "+1"})
	WantCode(t, err, phonebook.ECodePhoneDuplicate, "number")
	if got := len(e.Phones(t, c)); got != 1 {
		t.Errorf("phones: got %d, want 1", got)
	}
	// The same number on another customer is fine.
	c2 := e.MustCustomer(t, "B")
	e.MustPhone(t, c2, phonebook.PhoneInput{Number: "5045550123"})
}

func testOtherExtension(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	e.MustPhone(t, c, phonebook.PhoneInput{Number: "504-555-0123"})
	p := e.MustPhone(t, c, phonebook.PhoneInput{Number: "504-555-0123 ext. 5"})
	if p.Extension != "5" || p.E164 != "+15045550123" {
		t.Errorf("got ext %q e164 %q", p.Extension, p.E164)
	}
	_, err := e.Svc.AddPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: "5045550123", Extension: "5"})
	WantCode(t, err, phonebook.ECodePhoneDuplicate, "number")
	_, err = e.Svc.AddPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: "+1 504 555 0123;ext=5"})
	WantCode(t, err, phonebook.ECodePhoneDuplicate, "number")
}

func testPhoneLimit(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	for i := 0; i < 50; i++ {
		e.MustPhone(t, c, phonebook.PhoneInput{Number: number(i)})
	}
	_, err := e.Svc.AddPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: number(50)})
	WantCode(t, err, phonebook.ECodePhoneLimit, "")
	// A duplicate at the limit is still reported as a duplicate.
	_, err = e.Svc.AddPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: number(3)})
	WantCode(t, err, phonebook.ECodePhoneDuplicate, "")
	if got := len(e.Phones(t, c)); got != 50 {
		t.Errorf("phones: got %d, want 50", got)
	}
}

func testNumberLimit(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	const n = "(201) 555-0100"
	for i := 0; i < 50; i++ {
		e.MustPhone(t, e.MustCustomer(t, fmt.Sprint("c", i)), phonebook.PhoneInput{Number: n})
	}
	c51 := e.MustCustomer(t, "c50")
	_, err := e.Svc.AddPhone(e.Ctx, ref(c51), phonebook.PhoneInput{Number: "+12015550100"})
	WantCode(t, err, phonebook.ECodeNumberLimit, "number")
	// Moving another number onto it by update is held too.
	p := e.MustPhone(t, c51, phonebook.PhoneInput{Number: number(7)})
	_, err = e.Svc.UpdatePhone(e.Ctx, ref(c51), pref(p), phonebook.PhoneUpdate{Number: ptr(n)}, 0)
	WantCode(t, err, phonebook.ECodeNumberLimit, "number")
	matches, err := e.Svc.LookupNumber(e.Ctx, n, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(matches); got != 50 {
		t.Errorf("holders: got %d, want 50", got)
	}
	// A holder adding the number again with an extension is not a new holder.
	first := matches[0].Customer
	e.MustPhone(t, first, phonebook.PhoneInput{Number: n, Extension: "9"})
}

func testPhoneTypes(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	_, err := e.Svc.AddPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: number(1), Type: "pager"})
	WantCode(t, err, phonebook.ECodeTypeUnknown, "type")
	if _, err := e.Svc.CreatePhoneType(e.Ctx, " Pager "); err != nil {
		t.Fatal(err)
	}
	_, err = e.Svc.CreatePhoneType(e.Ctx, "pager")
	WantCode(t, err, phonebook.ECodeConflict, "name")
	_, err = e.Svc.CreatePhoneType(e.Ctx, "")
	WantCode(t, err, phonebook.ECodeValidation, "name")
	p := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1), Type: "PAGER"})
	if p.Type != "pager" {
		t.Errorf("type: got %q, want pager", p.Type)
	}
	WantCode(t, e.Svc.DeletePhoneType(e.Ctx, "pager"), phonebook.ECodeTypeInUse, "name")
	_, err = e.Svc.UpdatePhone(e.Ctx, ref(c), pref(p), phonebook.PhoneUpdate{Type: ptr("satellite")}, 0)
	WantCode(t, err, phonebook.ECodeTypeUnknown, "type")
	if _, err := e.Svc.UpdatePhone(e.Ctx, ref(c), pref(p), phonebook.PhoneUpdate{Type: ptr("mobile")}, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.DeletePhoneType(e.Ctx, "pager"); err != nil {
		t.Fatal(err)
	}
	WantCode(t, e.Svc.DeletePhoneType(e.Ctx, "pager"), phonebook.ECodeNotFound, "name")
	WantCode(t, e.Svc.DeletePhoneType(e.Ctx, "home"), phonebook.ECodeConflict, "name")
	// Types are per tenant.
	other := MustTenant(t, e.Svc, phonebook.TenantInput{Slug: "other"})
	if _, err := other.Svc.CreatePhoneType(other.Ctx, "pager"); err != nil {
		t.Fatal(err)
	}
	_, err = e.Svc.AddPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: number(2), Type: "pager"})
	WantCode(t, err, phonebook.ECodeTypeUnknown, "type")
}

func testInvalidNumbers(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	cases := []struct {
		in    phonebook.PhoneInput
		code  string
		field string
	}{
		{phonebook.PhoneInput{Number: "not a number"}, phonebook.ECodeInvalidNumber, "number"},
		{phonebook.PhoneInput{Number: "12"}, phonebook.ECodeInvalidNumber, "number"},
		{phonebook.PhoneInput{Number: "555-0123"}, phonebook.ECodeInvalidNumber, "number"},
		{phonebook.PhoneInput{Number: "+999 123 456"}, phonebook.ECodeInvalidNumber, "number"},
		{phonebook.PhoneInput{Number: ""}, phonebook.ECodeValidation, "number"},
		{phonebook.PhoneInput{Number: strings.Repeat("1", 100)}, phonebook.ECodeInvalidNumber, "number"},
		{phonebook.PhoneInput{Number: number(1), Country: "Narnia"}, phonebook.ECodeValidation, "country_code"},
		{phonebook.PhoneInput{Number: number(1), Extension: "12a"}, phonebook.ECodeValidation, "extension"},
		{phonebook.PhoneInput{Number: number(1), Extension: strings.Repeat("1", 21)}, phonebook.ECodeValidation, "extension"},
		{phonebook.PhoneInput{Number: number(1), Label: strings.Repeat("l", 21)}, phonebook.ECodeValidation, "label"},
		{phonebook.PhoneInput{Number: number(1), Notes: strings.Repeat("n", 256)}, phonebook.ECodeValidation, "notes"},
		{phonebook.PhoneInput{Number: number(1), ConsentType: "maybe"}, phonebook.ECodeValidation, "consent.type"},
		{phonebook.PhoneInput{Number: number(1), ConsentSource: strings.Repeat("s", 101)}, phonebook.ECodeValidation, "consent.source"},
		{phonebook.PhoneInput{Number: number(1), Status: "gone"}, phonebook.ECodeValidation, "status"},
		{phonebook.PhoneInput{Number: number(1), LineKind: "tin-can"}, phonebook.ECodeValidation, "line_kind"},
	}
	for _, tc := range cases {
		_, err := e.Svc.AddPhone(e.Ctx, ref(c), tc.in)
		WantCode(t, err, tc.code, tc.field)
	}
	// Several bad fields are all reported.
	_, err := e.Svc.AddPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: "x", Label: strings.Repeat("l", 21)})
	if got := len(phonebook.FieldErrors(err)); got != 2 {
		t.Errorf("field errors: got %d (%v), want 2", got, err)
	}
	if got := len(e.Phones(t, c)); got != 0 {
		t.Errorf("phones stored: %d, want 0", got)
	}
	// Lenient tenants keep a possible-but-invalid number, flagged.
	p := e.MustPhone(t, c, phonebook.PhoneInput{Number: "+1 999 555 0123"})
	if p.Valid {
		t.Errorf("+1 999 555 0123: valid true, want false")
	}
	// Strict tenants refuse it.
	strict := MustTenant(t, e.Svc, phonebook.TenantInput{Slug: "strict", StrictNumbers: true})
	sc, err := strict.Svc.CreateCustomer(strict.Ctx, phonebook.CustomerInput{Name: "S"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = strict.Svc.AddPhone(strict.Ctx, ref(sc), phonebook.PhoneInput{Number: "+1 999 555 0123"})
	WantCode(t, err, phonebook.ECodeInvalidNumber, "number")
}

func testNumberFields(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	cases := []struct {
		in                                phonebook.PhoneInput
		e164, national, intl, region, ext string
		cc                                int
	}{
		{phonebook.PhoneInput{Number: "(504) 555-0123"}, "+15045550123", "(504) 555-0123", "+1 504-555-0123", "US", "", 1},
		{phonebook.PhoneInput{Number: "504-555-0124 ext. 5"}, "+15045550124", "(504) 555-0124", "+1 504-555-0124", "US", "5", 1},
		{phonebook.PhoneInput{Number: "5045550125 x77"}, "+15045550125", "(504) 555-0125", "+1 504-555-0125", "US", "77", 1},
		{phonebook.PhoneInput{Number: "+1 504 555 0126;ext=123"}, "+15045550126", "(504) 555-0126", "+1 504-555-0126", "US", "123", 1},
		{phonebook.PhoneInput{Number: "020 7946 0018", Country: "GB"}, "+442079460018", "020 7946 0018", "+44 20 7946 0018", "GB", "", 44},
		{phonebook.PhoneInput{Number: "020 7946 0019", Country: "+44"}, "+442079460019", "020 7946 0019", "+44 20 7946 0019", "GB", "", 44},
		{phonebook.PhoneInput{Number: "030 1234567", Country: "49"}, "+49301234567", "030 1234567", "+49 30 1234567", "DE", "", 49},
		{phonebook.PhoneInput{Number: "5045550127", Country: "1", Extension: "42"}, "+15045550127", "(504) 555-0127", "+1 504-555-0127", "US", "42", 1},
	}
	for _, tc := range cases {
		p := e.MustPhone(t, c, tc.in)
		got := []any{p.E164, p.National, p.International, p.Region, p.Extension, p.CountryCode, p.Raw}
		want := []any{tc.e164, tc.national, tc.intl, tc.region, tc.ext, tc.cc, tc.in.Number}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%+v: got %v, want %v", tc.in, got, want)
		}
		if !p.Valid {
			t.Errorf("%q: valid false", tc.in.Number)
		}
	}
	m := e.MustPhone(t, c, phonebook.PhoneInput{Number: "+44 7400 123456"})
	if m.LineType != "mobile" {
		t.Errorf("UK mobile line type: got %q", m.LineType)
	}
	us := e.MustPhone(t, c, phonebook.PhoneInput{Number: "2015550199", LineKind: "mobile"})
	if us.LineType != "mobile" {
		t.Errorf("declared mobile: got %q", us.LineType)
	}
	tf := e.MustPhone(t, c, phonebook.PhoneInput{Number: "1-800-555-0199", LineKind: "mobile"})
	if tf.LineType != "toll_free" {
		t.Errorf("toll free keeps libphonenumber's answer: got %q", tf.LineType)
	}
}

func testUpdatePhone(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	p1 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1)})
	p2 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(2), Label: "desk"})
	up, err := e.Svc.UpdatePhone(e.Ctx, ref(c), pref(p2), phonebook.PhoneUpdate{
		Number: ptr("(504) 555-0199 x12"), Label: ptr("cell"), Notes: ptr("after 5pm"), Type: ptr("mobile"),
		ConsentType: ptr("written"), ConsentSource: ptr("paper form"),
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if up.E164 != "+15045550199" || up.Extension != "12" || up.Label != "cell" || up.Notes != "after 5pm" ||
		up.Type != "mobile" || up.Consent.Type != "written" || up.Consent.UpdatedAt == nil || up.Version != 2 {
		t.Errorf("updated: got %+v", up)
	}
	_, err = e.Svc.UpdatePhone(e.Ctx, ref(c), pref(p2), phonebook.PhoneUpdate{Number: ptr(number(1))}, 0)
	WantCode(t, err, phonebook.ECodePhoneDuplicate, "number")
	_, err = e.Svc.UpdatePhone(e.Ctx, ref(c), pref(p2), phonebook.PhoneUpdate{Number: ptr("zzz")}, 0)
	WantCode(t, err, phonebook.ECodeInvalidNumber, "number")
	got, err := e.Svc.FindPhone(e.Ctx, ref(c), phonebook.CustomerRef{UUID: p2.UUID})
	if err != nil {
		t.Fatal(err)
	}
	if got.E164 != "+15045550199" || got.Version != 2 {
		t.Errorf("after failed updates: got %+v", got)
	}
	// Only the extension.
	up, err = e.Svc.UpdatePhone(e.Ctx, ref(c), pref(p1), phonebook.PhoneUpdate{Extension: ptr("7")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if up.E164 != p1.E164 || up.Extension != "7" {
		t.Errorf("extension update: got %s x%s", up.E164, up.Extension)
	}
	_, err = e.Svc.FindPhone(e.Ctx, ref(c), phonebook.CustomerRef{ID: 999999})
	WantCode(t, err, phonebook.ECodeNotFound, "")
	// A phone of another customer is not found under this one.
	c2 := e.MustCustomer(t, "B")
	_, err = e.Svc.FindPhone(e.Ctx, ref(c2), pref(p1))
	WantCode(t, err, phonebook.ECodeNotFound, "")
}

func testUpsert(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	if _, err := e.Svc.UpdateCustomer(e.Ctx, ref(c), phonebook.CustomerUpdate{ExternalID: ptr("ext-1")}, 0); err != nil {
		t.Fatal(err)
	}
	existing := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1), Label: "old"})
	items := []phonebook.UpsertItem{
		{Customer: phonebook.CustomerRef{ID: c.ID}, Phone: phonebook.PhoneInput{Number: "(201) 555-0001", Label: "new"}},      // update
		{Customer: phonebook.CustomerRef{ExternalID: "ext-1"}, Phone: phonebook.PhoneInput{Number: number(2), Type: "work"}},  // create
		{Customer: phonebook.CustomerRef{ExternalID: "ext-1"}, Phone: phonebook.PhoneInput{Number: "bad"}},                    // invalid
		{Customer: phonebook.CustomerRef{ExternalID: "nobody"}, Phone: phonebook.PhoneInput{Number: number(3)}},               // unknown customer
		{Customer: phonebook.CustomerRef{ID: c.ID}, Phone: phonebook.PhoneInput{Number: number(4), Type: "nope"}},             // unknown type
		{Customer: phonebook.CustomerRef{ID: c.ID}, Phone: phonebook.PhoneInput{Number: number(5), IsPrimary: true}},          // create primary
		{Customer: phonebook.CustomerRef{UUID: c.UUID}, Phone: phonebook.PhoneInput{Number: "+1 201 555 0002", Type: "home"}}, // update of the one created above
	}
	res, err := e.Svc.UpsertPhones(e.Ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"updated", "created", phonebook.ECodeInvalidNumber, phonebook.ECodeNotFound, phonebook.ECodeTypeUnknown, "created", "updated"}
	for i, r := range res {
		got := "updated"
		switch {
		case r.Err != nil:
			got = phonebook.ErrorCode(r.Err)
		case r.Created:
			got = "created"
		}
		if got != want[i] {
			t.Errorf("record %d: got %s, want %s (%v)", i, got, want[i], r.Err)
		}
	}
	if res[0].Phone.ID != existing.ID || res[0].Phone.Label != "new" {
		t.Errorf("record 0: got %+v", res[0].Phone)
	}
	if res[6].Phone.Type != "home" || res[6].Phone.ID != res[1].Phone.ID {
		t.Errorf("record 6: got %+v", res[6].Phone)
	}
	phones := e.Phones(t, c)
	if got := len(phones); got != 3 {
		t.Errorf("phones: got %d, want 3", got)
	}
	if got := e.Primaries(t, c); !slices.Equal(got, []int64{res[5].Phone.ID}) {
		t.Errorf("primaries: %v, want [%d]", got, res[5].Phone.ID)
	}
	// An unchanged record writes nothing.
	before, _ := e.Svc.FindCustomer(e.Ctx, ref(c))
	p, created, err := e.Svc.UpsertPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: "(201) 555-0001"})
	if err != nil || created || p.ID != existing.ID {
		t.Errorf("no-op upsert: got %v %v %v", p, created, err)
	}
	after, _ := e.Svc.FindCustomer(e.Ctx, ref(c))
	if before.Version != after.Version {
		t.Errorf("no-op upsert changed version %d -> %d", before.Version, after.Version)
	}
}

func testLookup(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	a, b := e.MustCustomer(t, "A"), e.MustCustomer(t, "B")
	e.MustPhone(t, a, phonebook.PhoneInput{Number: "504-555-0123"})
	e.MustPhone(t, b, phonebook.PhoneInput{Number: "+1 (504) 555-0123", Extension: "4"})
	e.MustPhone(t, b, phonebook.PhoneInput{Number: number(9)})
	for _, q := range []string{"5045550123", "+15045550123", "(504) 555 0123", "tel:+1-504-555-0123"} {
		m, err := e.Svc.LookupNumber(e.Ctx, q, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(m) != 2 || m[0].Customer.ID != a.ID || m[1].Customer.ID != b.ID {
			t.Fatalf("lookup %q: got %d matches", q, len(m))
		}
		if len(m[1].Customer.Phones) != 2 {
			t.Errorf("lookup %q: customer B comes with %d phones, want 2", q, len(m[1].Customer.Phones))
		}
	}
	m, err := e.Svc.LookupNumber(e.Ctx, "+1 504 555 9999", "")
	if err != nil || len(m) != 0 {
		t.Errorf("lookup of unknown number: got %d, %v", len(m), err)
	}
	_, err = e.Svc.LookupNumber(e.Ctx, "call me", "")
	WantCode(t, err, phonebook.ECodeInvalidNumber, "number")
}

func testVersions(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	p := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1)})
	cur, _ := e.Svc.FindCustomer(e.Ctx, ref(c))
	if cur.Version <= c.Version {
		t.Errorf("adding a phone did not change the customer's version (%d -> %d)", c.Version, cur.Version)
	}
	_, err := e.Svc.UpdateCustomer(e.Ctx, ref(c), phonebook.CustomerUpdate{Name: ptr("x")}, c.Version)
	WantCode(t, err, phonebook.ECodePrecondition, "")
	if _, err := e.Svc.UpdateCustomer(e.Ctx, ref(c), phonebook.CustomerUpdate{Name: ptr("x")}, cur.Version); err != nil {
		t.Errorf("update at current version: %v", err)
	}
	_, err = e.Svc.UpdatePhone(e.Ctx, ref(c), pref(p), phonebook.PhoneUpdate{Label: ptr("a")}, p.Version+1)
	WantCode(t, err, phonebook.ECodePrecondition, "")
	WantCode(t, e.Svc.DeletePhone(e.Ctx, ref(c), pref(p), 42), phonebook.ECodePrecondition, "")
	WantCode(t, e.Svc.DeleteCustomer(e.Ctx, ref(c), 1), phonebook.ECodePrecondition, "")
	if got := len(e.Phones(t, c)); got != 1 {
		t.Errorf("phones after refused delete: %d", got)
	}
}

func testEvents(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	p1 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1)})
	e.MustPhone(t, c, phonebook.PhoneInput{Number: number(2), IsPrimary: true})
	if err := e.Svc.DeletePhone(e.Ctx, ref(c), pref(p1), 0); err != nil {
		t.Fatal(err)
	}
	// A failed write leaves no event.
	_, _ = e.Svc.AddPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: number(2)})
	var evs []*phonebook.Event
	err := e.Store.Read(context.Background(), func(tx phonebook.Tx) (err error) {
		evs, err = tx.FindEvents(context.Background(), e.Tenant.ID, 0, 100)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type)
		if ev.ID == "" || ev.TenantID != e.Tenant.ID || ev.CustomerID != c.ID || ev.Source != "test" || ev.KeyID == 0 {
			t.Errorf("event %+v lacks ids", ev)
		}
	}
	want := "customer.created,phone.created,phone.updated,phone.created,phone.primary_changed,phone.deleted"
	if got := strings.Join(types, ","); got != want {
		t.Errorf("events:\n got %s\nwant %s", got, want)
	}
	var after phonebook.Phone
	if err := json.Unmarshal(evs[1].After, &after); err != nil || after.E164 != p1.E164 {
		t.Errorf("phone.created payload: %s (%v)", evs[1].After, err)
	}
}

func testTenantIsolation(t *testing.T, open Opener) {
	a := MustEnv(t, open, "tenant-a")
	b := MustTenant(t, a.Svc, phonebook.TenantInput{Slug: "tenant-b"})
	c, err := a.Svc.CreateCustomer(a.Ctx, phonebook.CustomerInput{Name: "A's", ExternalID: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	p := a.MustPhone(t, c, phonebook.PhoneInput{Number: number(1)})
	for _, r := range []phonebook.CustomerRef{{ID: c.ID}, {UUID: c.UUID}, {ExternalID: "shared"}} {
		_, err := b.Svc.FindCustomer(b.Ctx, r)
		WantCode(t, err, phonebook.ECodeNotFound, "")
		_, err = b.Svc.UpdateCustomer(b.Ctx, r, phonebook.CustomerUpdate{Name: ptr("mine")}, 0)
		WantCode(t, err, phonebook.ECodeNotFound, "")
		WantCode(t, b.Svc.DeleteCustomer(b.Ctx, r, 0), phonebook.ECodeNotFound, "")
		_, err = b.Svc.AddPhone(b.Ctx, r, phonebook.PhoneInput{Number: number(2)})
		WantCode(t, err, phonebook.ECodeNotFound, "")
		_, err = b.Svc.FindPhone(b.Ctx, r, pref(p))
		WantCode(t, err, phonebook.ECodeNotFound, "")
		_, err = b.Svc.UpdatePhone(b.Ctx, r, pref(p), phonebook.PhoneUpdate{Label: ptr("x")}, 0)
		WantCode(t, err, phonebook.ECodeNotFound, "")
		WantCode(t, b.Svc.DeletePhone(b.Ctx, r, pref(p), 0), phonebook.ECodeNotFound, "")
		res, err := b.Svc.UpsertPhones(b.Ctx, []phonebook.UpsertItem{{Customer: r, Phone: phonebook.PhoneInput{Number: number(3)}}})
		if err != nil {
			t.Fatal(err)
		}
		WantCode(t, res[0].Err, phonebook.ECodeNotFound, "")
	}
	m, err := b.Svc.LookupNumber(b.Ctx, number(1), "")
	if err != nil || len(m) != 0 {
		t.Errorf("B's lookup of A's number: %d matches, %v", len(m), err)
	}
	page, err := b.Svc.FindCustomers(b.Ctx, phonebook.CustomerFilter{})
	if err != nil || len(page.Customers) != 0 {
		t.Errorf("B's list: %d customers, %v", len(page.Customers), err)
	}
	// B may use the same external id for its own customer.
	if _, err := b.Svc.CreateCustomer(b.Ctx, phonebook.CustomerInput{ExternalID: "shared"}); err != nil {
		t.Errorf("B's own external id: %v", err)
	}
	got, err := a.Svc.FindCustomer(a.Ctx, ref(c))
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "A's" || len(got.Phones) != 1 || got.Phones[0].Label != "" {
		t.Errorf("A's customer changed: %+v", got)
	}
}

func testScopes(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	ctx := context.Background()
	_, ro, err := e.Svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Scopes: []string{phonebook.ScopeCustomersRead}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.Svc.Authenticate(ctx, ro)
	if err != nil {
		t.Fatal(err)
	}
	rctx := phonebook.NewContextWithAuth(ctx, a)
	c := e.MustCustomer(t, "A")
	if _, err := e.Svc.FindCustomer(rctx, ref(c)); err != nil {
		t.Errorf("read with customers:read: %v", err)
	}
	_, err = e.Svc.CreateCustomer(rctx, phonebook.CustomerInput{Name: "x"})
	WantCode(t, err, phonebook.ECodeForbidden, "")
	_, err = e.Svc.AddPhone(rctx, ref(c), phonebook.PhoneInput{Number: number(1)})
	WantCode(t, err, phonebook.ECodeForbidden, "")
	_, err = e.Svc.CreatePhoneType(rctx, "pager")
	WantCode(t, err, phonebook.ECodeForbidden, "")
	_, err = e.Svc.FindCustomer(ctx, ref(c))
	WantCode(t, err, phonebook.ECodeUnauthorized, "")
}

func testConcurrentPrimary(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	errs := concurrently(32, func(i int) error {
		_, err := e.Svc.AddPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: number(i), IsPrimary: true})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if got := len(e.Phones(t, c)); got != 32 {
		t.Errorf("phones: got %d, want 32", got)
	}
	if got := e.Primaries(t, c); len(got) != 1 {
		t.Errorf("primaries: got %v, want exactly one", got)
	}
}

func testConcurrentPhoneLimit(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	errs := concurrently(100, func(i int) error {
		_, err := e.Svc.AddPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: number(i)})
		return err
	})
	ok, limited := 0, 0
	for i, err := range errs {
		switch phonebook.ErrorCode(err) {
		case "":
			ok++
		case phonebook.ECodePhoneLimit:
			limited++
		default:
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if ok != 50 || limited != 50 {
		t.Errorf("got %d stored and %d phone_limit, want 50 and 50", ok, limited)
	}
	if got := len(e.Phones(t, c)); got != 50 {
		t.Errorf("phones: got %d, want 50", got)
	}
	if got := e.Primaries(t, c); len(got) != 1 {
		t.Errorf("primaries: got %v, want one", got)
	}
}

func testConcurrentNumberLimit(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	var cs []*phonebook.Customer
	for i := 0; i < 60; i++ {
		cs = append(cs, e.MustCustomer(t, fmt.Sprint("c", i)))
	}
	errs := concurrently(60, func(i int) error {
		_, err := e.Svc.AddPhone(e.Ctx, ref(cs[i]), phonebook.PhoneInput{Number: "(201) 555-0100"})
		return err
	})
	ok, limited := 0, 0
	for i, err := range errs {
		switch phonebook.ErrorCode(err) {
		case "":
			ok++
		case phonebook.ECodeNumberLimit:
			limited++
		default:
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if ok != 50 || limited != 10 {
		t.Errorf("got %d stored and %d number_limit, want 50 and 10", ok, limited)
	}
}

func testNumberRules(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	digits := &phonebook.NumberRules{DigitsOnly: true, MinDigits: 10, MaxDigits: 20}
	pattern := &phonebook.NumberRules{Pattern: regexp.MustCompile(`^([0-9\(\)\s\.\+\-])*$`)}
	cases := []struct {
		number string
		rules  *phonebook.NumberRules
		code   string
	}{
		{"2015550100", digits, ""},
		{"201-555-0101", digits, phonebook.ECodeValidation},
		{"201555010", digits, phonebook.ECodeValidation},
		{"201555010212345678901", digits, phonebook.ECodeValidation},
		{"(201) 555.0103", pattern, ""},
		{"201 555 0104 x5", pattern, phonebook.ECodeValidation},
	}
	for _, tc := range cases {
		_, err := e.Svc.AddPhone(e.Ctx, ref(c), phonebook.PhoneInput{Number: tc.number, Rules: tc.rules})
		if got := phonebook.ErrorCode(err); got != tc.code {
			t.Errorf("%q: got %q (%v), want %q", tc.number, got, err, tc.code)
		}
		if tc.code != "" && phonebook.ErrorField(err) != "number" {
			t.Errorf("%q: field %q, want number", tc.number, phonebook.ErrorField(err))
		}
	}
	p := e.Phones(t, c)[0]
	_, err := e.Svc.UpdatePhone(e.Ctx, ref(c), pref(p), phonebook.PhoneUpdate{Number: ptr("201-555-0199"), Rules: digits}, 0)
	WantCode(t, err, phonebook.ECodeValidation, "number")
}

func testRemoveNumber(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	p1 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1)})
	e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1), Extension: "5"})
	p3 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(3)})
	removed, err := e.Svc.RemoveNumber(e.Ctx, ref(c), "(201) 555-0001", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 || removed[0].ID != p1.ID {
		t.Errorf("removed %d phones", len(removed))
	}
	if got := e.Primaries(t, c); !slices.Equal(got, []int64{p3.ID}) {
		t.Errorf("primaries: %v, want [%d]", got, p3.ID)
	}
	_, err = e.Svc.RemoveNumber(e.Ctx, ref(c), number(1), "", nil)
	WantCode(t, err, phonebook.ECodeNotFound, "number")
}

func testAddPhonesAllOrNothing(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	ps, err := e.Svc.AddPhones(e.Ctx, ref(c), []phonebook.PhoneInput{{Number: number(1)}, {Number: number(2), IsPrimary: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].IsPrimary || !ps[1].IsPrimary {
		t.Errorf("added: %+v", ps)
	}
	_, err = e.Svc.AddPhones(e.Ctx, ref(c), []phonebook.PhoneInput{{Number: number(3)}, {Number: number(1)}})
	WantCode(t, err, phonebook.ECodePhoneDuplicate, "number")
	var be *phonebook.BatchError
	if !errors.As(err, &be) || be.Index != 1 {
		t.Errorf("batch error: %v, want index 1", err)
	}
	_, err = e.Svc.AddPhones(e.Ctx, ref(c), []phonebook.PhoneInput{{Number: number(4)}, {Number: "nope"}})
	WantCode(t, err, phonebook.ECodeInvalidNumber, "number")
	if got := len(e.Phones(t, c)); got != 2 {
		t.Errorf("phones: got %d, want 2 (nothing of the failed requests)", got)
	}
}

// testNumberLimitInBatch: a batch counts the holders of a number once and
// then keeps the count itself; the limit must still hold record by record,
// also when a record before fails and the batch is written again with a
// savepoint per record.
func testNumberLimitInBatch(t *testing.T, open Opener) {
	st := open(t)
	t.Cleanup(func() { st.Close() })
	svc := phonebook.NewService(st, nil)
	e := MustTenant(t, svc, phonebook.TenantInput{Slug: "few", MaxCustomersPerNumber: 3})
	const n = "+12015550100"
	e.MustPhone(t, e.MustCustomer(t, "holder"), phonebook.PhoneInput{Number: n})
	for _, failFirst := range []bool{false, true} {
		var items []phonebook.UpsertItem
		if failFirst { // a record the store refuses: an unknown type
			items = append(items, phonebook.UpsertItem{Customer: ref(e.MustCustomer(t, "x")), Phone: phonebook.PhoneInput{Number: number(1), Type: "pager"}})
		}
		var cs []*phonebook.Customer
		for i := 0; i < 4; i++ {
			c := e.MustCustomer(t, fmt.Sprint("c", i))
			cs = append(cs, c)
			items = append(items, phonebook.UpsertItem{Customer: ref(c), Phone: phonebook.PhoneInput{Number: n}})
		}
		// The first customer again, with an extension: not a new holder.
		items = append(items, phonebook.UpsertItem{Customer: ref(cs[0]), Phone: phonebook.PhoneInput{Number: n, Extension: "2"}})
		res, err := e.Svc.UpsertPhones(e.Ctx, items)
		if err != nil {
			t.Fatal(err)
		}
		if failFirst {
			WantCode(t, res[0].Err, phonebook.ECodeTypeUnknown, "type")
			res = res[1:]
		}
		// Round 1: the holder plus two fill the limit of 3. Round 2: full.
		wantOK := 2
		if failFirst {
			wantOK = 0
		}
		for i, r := range res[:4] {
			if i < wantOK && r.Err != nil {
				t.Errorf("failFirst=%v record %d: %v", failFirst, i, r.Err)
			}
			if i >= wantOK {
				WantCode(t, r.Err, phonebook.ECodeNumberLimit, "number")
			}
		}
		if !failFirst && res[4].Err != nil {
			t.Errorf("a holder's second extension: %v", res[4].Err)
		}
	}
	matches, err := e.Svc.LookupNumber(e.Ctx, n, "")
	if err != nil {
		t.Fatal(err)
	}
	holders := map[int64]bool{}
	for _, m := range matches {
		holders[m.Customer.ID] = true
	}
	if len(holders) != 3 {
		t.Errorf("holders: got %d, want 3", len(holders))
	}
}

// testPhoneKeys: the keys an add reads are those of the full phones.
func testPhoneKeys(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	other := e.MustCustomer(t, "B")
	e.MustPhone(t, other, phonebook.PhoneInput{Number: number(9)})
	e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1)})
	e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1), Extension: "12"})
	e.MustPhone(t, c, phonebook.PhoneInput{Number: number(2), IsPrimary: true})
	err := e.Store.Read(e.Ctx, func(tx phonebook.Tx) error {
		full, err := tx.FindPhones(e.Ctx, e.Tenant.ID, c.ID)
		if err != nil {
			return err
		}
		keys, err := tx.FindPhoneKeys(e.Ctx, e.Tenant.ID, c.ID)
		if err != nil {
			return err
		}
		if len(keys) != len(full) || len(keys) != 3 {
			t.Fatalf("keys %d, phones %d, want 3", len(keys), len(full))
		}
		for i, p := range full {
			want := phonebook.PhoneKey{ID: p.ID, E164: p.E164, Extension: p.Extension, IsPrimary: p.IsPrimary}
			if keys[i] != want {
				t.Errorf("key %d = %+v, want %+v", i, keys[i], want)
			}
		}
		if !keys[2].IsPrimary || keys[0].IsPrimary || keys[1].Extension != "12" {
			t.Errorf("keys = %+v", keys)
		}
		none, err := tx.FindPhoneKeys(e.Ctx, e.Tenant.ID+1000, c.ID) // another tenant's view
		if err == nil && len(none) != 0 {
			t.Errorf("another tenant sees %d keys", len(none))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testFindPhonesOfMany: the phones of several customers, each once, in
// customer then creation order, whatever the number of customers.
func testFindPhonesOfMany(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	var ids []int64
	for i := 0; i < 5; i++ {
		c := e.MustCustomer(t, fmt.Sprint("c", i))
		for j := 0; j <= i%3; j++ {
			e.MustPhone(t, c, phonebook.PhoneInput{Number: number(10*i + j)})
		}
		ids = append(ids, c.ID)
	}
	for n := 1; n <= len(ids); n++ {
		err := e.Store.Read(e.Ctx, func(tx phonebook.Tx) error {
			ps, err := tx.FindPhones(e.Ctx, e.Tenant.ID, ids[:n]...)
			if err != nil {
				return err
			}
			want := 0
			for i := 0; i < n; i++ {
				want += 1 + i%3
			}
			if len(ps) != want {
				t.Errorf("%d customers: %d phones, want %d", n, len(ps), want)
			}
			for k := 1; k < len(ps); k++ {
				if ps[k].CustomerID < ps[k-1].CustomerID || (ps[k].CustomerID == ps[k-1].CustomerID && ps[k].ID <= ps[k-1].ID) {
					t.Errorf("%d customers: phones out of order at %d", n, k)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
