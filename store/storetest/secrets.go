package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/secretbox"
)

// testSecretsReseal: FindSecrets lists every sealed value (signing secret,
// webhook secret, idempotent answer), UpdateSecret writes them back, and
// ResealSecrets moves all of them to a new key at once; a service with
// no key refuses to create a webhook (never a secret in clear).
func testSecretsReseal(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	ctx := e.Ctx
	if _, _, err := phonebook.NewService(e.Store, nil).CreateWebhook(ctx, phonebook.WebhookInput{URL: "https://example.com/h"}); phonebook.ErrorCode(err) != phonebook.ECodeSecretKeyRequired {
		t.Errorf("webhook without a server key: got %v, want secret_key_required", err)
	}
	_, _, err := e.Svc.CreateWebhook(ctx, phonebook.WebhookInput{URL: "https://example.com/h", Secret: "whsec_reseal_secret_0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := e.Svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Scopes: []string{phonebook.ScopeCustomersRead}, SigningSecret: "signing_secret_0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	answer := func(context.Context) (*phonebook.IdempotencyRecord, error) {
		return &phonebook.IdempotencyRecord{Status: 201, Body: []byte(`{"secret":"whsec_in_an_answer"}`)}, nil
	}
	if _, _, err := e.Svc.RunIdempotent(ctx, "idem-1", "h", answer); err != nil {
		t.Fatal(err)
	}

	var list []*phonebook.StoredSecret
	if err := e.Store.Read(ctx, func(tx phonebook.Tx) (err error) { list, err = tx.FindSecrets(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, s := range list {
		kinds[s.Kind]++
		if strings.Contains(string(s.Value), "secret_0123456789") || strings.Contains(string(s.Value), "whsec_in") {
			t.Errorf("%s stored in clear: %q", s.Kind, s.Value)
		}
	}
	if kinds[phonebook.SecretWebhook] != 1 || kinds[phonebook.SecretSigning] != 1 || kinds[phonebook.SecretIdempotency] != 1 {
		t.Fatalf("FindSecrets kinds: got %v, want one of each", kinds)
	}

	newBox, err := secretbox.New("the-next-server-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	// The wrong current key changes nothing.
	if _, err := e.Svc.ResealSecrets(ctx, newBox, newBox); err == nil {
		t.Fatal("reseal from the wrong key: no error")
	}
	rep, err := e.Svc.ResealSecrets(ctx, MustBox(t), newBox)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Resealed != 3 || rep.Sealed != 0 {
		t.Errorf("reseal report: got %+v, want 3 re-sealed", rep)
	}
	after := phonebook.NewService(e.Store, nil)
	after.SetSealer(newBox)
	a, err := after.Authenticate(ctx, token)
	if err != nil || a.Key.SigningSecret != "signing_secret_0123456789" {
		t.Errorf("signing secret under the new key: %v, %v", a, err)
	}
	if _, err := e.Svc.Authenticate(ctx, token); err == nil {
		t.Error("the old key still opens the signing secret")
	}
	got, replayed, err := after.RunIdempotent(ctx, "idem-1", "h", answer)
	if err != nil || !replayed || string(got.Body) != `{"secret":"whsec_in_an_answer"}` {
		t.Errorf("idempotent answer under the new key: %v replayed=%v, %v", got, replayed, err)
	}
}

// testProbeWrite: the readiness write probe of a healthy store succeeds,
// writes the heartbeat and changes nothing a client sees; after Close it
// fails as unavailable.
func testProbeWrite(t *testing.T, open Opener) {
	st := open(t)
	p, ok := st.(interface {
		ProbeWrite(ctx context.Context) error
	})
	if !ok {
		st.Close()
		t.Fatal("the store has no ProbeWrite: /readyz cannot tell a store that cannot write")
	}
	for i := 0; i < 3; i++ {
		if err := p.ProbeWrite(context.Background()); err != nil {
			t.Fatalf("probe %d of a healthy store: %v", i, err)
		}
	}
	st.Close()
	if err := p.ProbeWrite(context.Background()); phonebook.ErrorCode(err) != phonebook.ECodeUnavailable {
		t.Errorf("probe of a closed store: got %v, want unavailable", err)
	}
}
