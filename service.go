package phonebook

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/phonebook/phonebook/phone"
)

// Service holds every rule of DESIGN §2. Every API layer (the native API,
// each dialect, the CLI) calls it; none talks to a store directly.
type Service struct {
	store  Store
	now    func() time.Time
	sealer Sealer
	// webhooks is the operator's destination policy (SetWebhookPolicy).
	webhooks WebhookPolicy
	running  runningKeys // Idempotency-Keys whose requests run on this node
}

// Sealer encrypts the secrets the service must read back (signing
// secrets) under a server key; package secretbox implements it.
type Sealer interface {
	Seal(plain string) (string, error)
	Open(sealed string) (string, error)
}

// SetSealer makes the service able to keep signing secrets, encrypted by
// x. Without one, keys with a signing secret and webhooks cannot be made
// (secret_key_required): their secrets are never stored in clear. Call it
// before the service is used.
func (s *Service) SetSealer(x Sealer) { s.sealer = x }

// errSecretKeyRequired refuses to create an object whose secret would
// have to be stored in clear.
func errSecretKeyRequired(field, what string) error {
	return Errorf(ECodeSecretKeyRequired, field, "%s are stored encrypted and this server has no key: set PHONEBOOK_SECRET_KEY (16+ characters, the same on every node) or PHONEBOOK_SECRET_KEY_FILE, and restart", what)
}

// NewService returns a Service over store. now defaults to time.Now.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// Store returns the store the service runs on (for readiness checks).
func (s *Service) Store() Store { return s.store }

// timestamp is the service's clock, at the microsecond precision both
// stores keep, so a value read back equals the value written.
func (s *Service) timestamp() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// --- tenants and keys: operator actions (CLI), no caller tenant ---

// TenantInput creates a tenant. Zero values take the defaults.
type TenantInput struct {
	Slug                  string
	DefaultRegion         string
	MaxPhonesPerCustomer  int
	MaxCustomersPerNumber int
	StrictNumbers         bool
}

// CreateTenant creates a tenant with the default phone type registry.
func (s *Service) CreateTenant(ctx context.Context, in TenantInput) (*Tenant, error) {
	t, err := s.newTenant(in)
	if err != nil {
		return nil, err
	}
	if err := s.write(ctx, func(tx Tx) error { return createTenant(ctx, tx, t) }); err != nil {
		return nil, err
	}
	return t, nil
}

// newTenant validates in and returns the tenant it describes.
func (s *Service) newTenant(in TenantInput) (*Tenant, error) {
	t := &Tenant{
		Slug:                  strings.TrimSpace(in.Slug),
		DefaultRegion:         strings.ToUpper(strings.TrimSpace(in.DefaultRegion)),
		MaxPhonesPerCustomer:  in.MaxPhonesPerCustomer,
		MaxCustomersPerNumber: in.MaxCustomersPerNumber,
		StrictNumbers:         in.StrictNumbers,
		CreatedAt:             s.timestamp(),
	}
	if t.DefaultRegion == "" {
		t.DefaultRegion = DefaultRegion
	}
	if t.MaxPhonesPerCustomer == 0 {
		t.MaxPhonesPerCustomer = DefaultMaxPhonesPerCustomer
	}
	if t.MaxCustomersPerNumber == 0 {
		t.MaxCustomersPerNumber = DefaultMaxCustomersPerNumber
	}
	var errs ValidationErrors
	if !slugPattern.MatchString(t.Slug) {
		errs = append(errs, Errorf(ECodeValidation, "slug", "slug must be 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit"))
	}
	if !phone.ValidRegion(t.DefaultRegion) {
		errs = append(errs, Errorf(ECodeValidation, "default_region", "unknown region %q", t.DefaultRegion))
	}
	if t.MaxPhonesPerCustomer < 1 || t.MaxPhonesPerCustomer > 10000 {
		errs = append(errs, Errorf(ECodeValidation, "max_phones_per_customer", "must be between 1 and 10000"))
	}
	if t.MaxCustomersPerNumber < 1 || t.MaxCustomersPerNumber > 10000 {
		errs = append(errs, Errorf(ECodeValidation, "max_customers_per_number", "must be between 1 and 10000"))
	}
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	return t, nil
}

// createTenant inserts t with the default phone type registry.
func createTenant(ctx context.Context, tx Tx, t *Tenant) error {
	if err := tx.CreateTenant(ctx, t); err != nil {
		return err
	}
	for _, name := range DefaultPhoneTypes {
		if err := tx.CreatePhoneType(ctx, t.ID, &PhoneType{Name: name, BuiltIn: true, CreatedAt: t.CreatedAt}); err != nil {
			return err
		}
	}
	return nil
}

// Tenants lists every tenant.
func (s *Service) Tenants(ctx context.Context) ([]*Tenant, error) {
	var out []*Tenant
	err := s.read(ctx, func(tx Tx) (err error) {
		out, err = tx.FindTenants(ctx)
		return err
	})
	return out, err
}

// Tenant returns the tenant with this slug.
func (s *Service) Tenant(ctx context.Context, slug string) (*Tenant, error) {
	var t *Tenant
	err := s.read(ctx, func(tx Tx) (err error) {
		t, err = tx.FindTenantBySlug(ctx, slug)
		return err
	})
	return t, err
}

// KeyInput creates an API key.
type KeyInput struct {
	TenantSlug string
	Name       string
	Scopes     []string
	// Secret, when set, becomes the key's secret instead of a random one
	// (PHONEBOOK_BOOTSTRAP_KEY, for automation).
	Secret string
	// SigningSecret, when set, makes clients sign their requests with it
	// (Ticket Evolution's X-Signature). "generate" makes a random one.
	SigningSecret string
	// Format is the shape of the generated key: "" (phonebook's own, "pb_"
	// and 43 URL-safe characters) or KeyFormatV9.
	Format string
	// RequireSignature makes the key sign every request; a signing secret
	// is generated when none is given. A key created with a signing secret,
	// or in KeyFormatV9, requires one anyway (SetAPIKeyRequireSignature
	// changes it later).
	RequireSignature bool
}

// KeyFormatV9 is Ticket Evolution's credential format, the one its official
// clients check before sending anything: a token of 32 ASCII letters and
// digits and a secret of 40 non-space characters
// (ticketevolution/ticketevolution-ruby, lib/ticket_evolution/core/connection.rb:
// /^[a-zA-Z0-9]{32}$/ and /^\S{40}$/). The token is the key (stored as a
// hash like any other); the secret is the signing secret.
const KeyFormatV9 = "v9"

// v9 credential lengths (KeyFormatV9).
const (
	v9TokenLen  = 32
	v9SecretLen = 40
)

var (
	v9TokenPattern  = regexp.MustCompile(`^[a-zA-Z0-9]{32}$`)
	v9SecretPattern = regexp.MustCompile(`^\S{40}$`)
)

// MinSecretLen is the shortest secret accepted from an operator.
const MinSecretLen = 16

// MinBootstrapKeyLen is the shortest PHONEBOOK_BOOTSTRAP_KEY accepted: the
// first key is an admin key, often chosen by hand, and the server must be
// able to tell a guessable one from a random one.
const MinBootstrapKeyLen = 24

// CreateAPIKey creates a key and returns it with its secret, which is shown
// this once: only its hash is stored.
func (s *Service) CreateAPIKey(ctx context.Context, in KeyInput) (*APIKey, string, error) {
	k, secret, err := s.newKey(in)
	if err != nil {
		return nil, "", err
	}
	stored := *k
	if k.SigningSecret != "" {
		if s.sealer == nil {
			return nil, "", errSecretKeyRequired("signing_secret", "signing secrets")
		}
		if stored.SigningSecret, err = s.sealer.Seal(k.SigningSecret); err != nil {
			return nil, "", &Error{Code: ECodeInternal, Message: "internal error", Err: err}
		}
	}
	err = s.write(ctx, func(tx Tx) error { return createKey(ctx, tx, &stored, in.TenantSlug, secret) })
	if err != nil {
		return nil, "", err
	}
	k.ID, k.TenantID, k.TenantSlug = stored.ID, stored.TenantID, stored.TenantSlug
	return k, secret, nil
}

// newKey validates in and returns the key it describes with its secret.
func (s *Service) newKey(in KeyInput) (*APIKey, string, error) {
	switch in.Format {
	case "", KeyFormatV9:
	default:
		return nil, "", Errorf(ECodeValidation, "format", "format must be %q or empty, got %q", KeyFormatV9, in.Format)
	}
	v9 := in.Format == KeyFormatV9
	secret := in.Secret
	prefix := ""
	switch {
	case secret == "" && v9:
		secret = newAlnum(v9TokenLen)
		prefix = secret[:7] // 7 of 32 characters: names the key, reveals nothing useful
	case secret == "":
		secret = newSecret()
		prefix = secret[:10] // "pb_" + 7 random characters: names the key, reveals nothing useful
	case v9 && !v9TokenPattern.MatchString(secret):
		return nil, "", Errorf(ECodeValidation, "secret", "a v9 token must be 32 letters and digits")
	case len(secret) < MinSecretLen || len(secret) > 256 || !printable(secret) || strings.ContainsAny(secret, " ,"):
		return nil, "", Errorf(ECodeValidation, "secret", "a given key must be %d to 256 printable characters without spaces or commas", MinSecretLen)
	}
	if len(in.Scopes) == 0 {
		return nil, "", Errorf(ECodeValidation, "scopes", "at least one scope is required")
	}
	if _, err := ParseScopes(strings.Join(in.Scopes, ",")); err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(in.Name)
	if utf8.RuneCountInString(name) > 100 || !printable(name) {
		return nil, "", Errorf(ECodeValidation, "name", "name must be printable and at most 100 characters")
	}
	signing := in.SigningSecret
	if signing == "" && (v9 || in.RequireSignature) {
		signing = "generate"
	}
	switch {
	case signing == "generate" && v9:
		signing = newAlnum(v9SecretLen)
	case signing == "generate":
		signing = newSecret()
	case v9 && !v9SecretPattern.MatchString(signing):
		return nil, "", Errorf(ECodeValidation, "signing_secret", "a v9 secret must be 40 characters without spaces")
	case signing != "" && (len(signing) < MinSecretLen || len(signing) > 256 || !printable(signing)):
		return nil, "", Errorf(ECodeValidation, "signing_secret", "a signing secret must be %d to 256 printable characters", MinSecretLen)
	}
	return &APIKey{
		Name: name, Scopes: in.Scopes, Prefix: prefix, CreatedAt: s.timestamp(),
		SigningSecret: signing, RequireSignature: signing != "",
	}, secret, nil
}

func createKey(ctx context.Context, tx Tx, k *APIKey, slug, secret string) error {
	t, err := tx.FindTenantBySlug(ctx, slug)
	if ErrorCode(err) == ECodeNotFound {
		return Errorf(ECodeNotFound, "tenant", "tenant %q not found", slug)
	}
	if err != nil {
		return err
	}
	k.TenantID, k.TenantSlug = t.ID, t.Slug
	return tx.CreateAPIKey(ctx, k, HashSecret(secret))
}

// APIKeys lists every key (never their secrets).
func (s *Service) APIKeys(ctx context.Context) ([]*APIKey, error) {
	var out []*APIKey
	err := s.read(ctx, func(tx Tx) (err error) {
		out, err = tx.FindAPIKeys(ctx)
		return err
	})
	return out, err
}

// RevokeAPIKey revokes key id; it stops authenticating at once.
func (s *Service) RevokeAPIKey(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx Tx) error {
		return tx.RevokeAPIKey(ctx, id, s.timestamp())
	})
}

// SetAPIKeyRequireSignature sets whether key id must sign every request
// (Ticket Evolution's X-Signature); only a key with a signing secret can.
// Errors: not_found, validation.
func (s *Service) SetAPIKeyRequireSignature(ctx context.Context, id int64, on bool) error {
	return s.write(ctx, func(tx Tx) error {
		return tx.SetAPIKeyRequireSignature(ctx, id, on)
	})
}

// HashSecret is how key secrets are stored. Secrets are 256-bit random
// values (or operator-chosen long strings), so a fast hash is enough: there
// is nothing to brute-force that a slow hash would protect.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// alnum is the alphabet of v9 credentials.
const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newAlnum returns n random letters and digits, uniformly drawn (bytes
// past the last whole multiple of the alphabet are redrawn, so no letter is
// likelier than another).
func newAlnum(n int) string {
	const limit = 256 - 256%len(alnum)
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails on supported platforms
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alnum[int(b)%len(alnum)])
			}
		}
	}
	return string(out)
}

func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return "pb_" + base64.RawURLEncoding.EncodeToString(b)
}

// Authenticate returns the caller holding secret. Errors: unauthorized for
// an unknown or revoked key.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Auth, error) {
	unauth := Errorf(ECodeUnauthorized, "", "missing or invalid API key")
	if secret == "" || len(secret) > 512 {
		return nil, unauth
	}
	hash := HashSecret(secret)
	var a *Auth
	err := s.read(ctx, func(tx Tx) error {
		k, t, err := tx.FindAuth(ctx, hash)
		if err != nil {
			return err
		}
		a = &Auth{Tenant: t, Key: k}
		return nil
	})
	if ErrorCode(err) == ECodeNotFound {
		return nil, unauth
	}
	if err != nil {
		return nil, err
	}
	// The lookup was by hash; compare again in constant time so that no
	// store, index or cache can ever let a near miss through.
	if !KeyMatches(secret, a.Key.Hash) || a.Key.Revoked() {
		return nil, unauth
	}
	if a.Key.SigningSecret != "" {
		// Without the server key the secret cannot be checked: refuse the
		// key rather than accept unsigned requests.
		if s.sealer == nil {
			return nil, &Error{Code: ECodeUnauthorized, Message: unauth.Message, Err: errors.New("key has a signing secret but PHONEBOOK_SECRET_KEY is not set")}
		}
		plain, err := s.sealer.Open(a.Key.SigningSecret)
		if err != nil {
			return nil, &Error{Code: ECodeUnauthorized, Message: unauth.Message, Err: err}
		}
		a.Key.SigningSecret = plain
	}
	return a, nil
}

// KeyMatches compares a presented secret with a stored hash in constant time.
func KeyMatches(secret string, hash []byte) bool {
	return subtle.ConstantTimeCompare(HashSecret(secret), hash) == 1
}

// Bootstrap makes a fresh store usable: when it holds no tenant, it creates
// tenant "default" (region US, lenient numbers) and an admin key, whose
// secret it returns (secret if given). created is false when the store
// already had a tenant.
func (s *Service) Bootstrap(ctx context.Context, secret string) (created bool, key *APIKey, keySecret string, err error) {
	if secret != "" && len(secret) < MinBootstrapKeyLen {
		return false, nil, "", Errorf(ECodeValidation, "secret", "a bootstrap key must be at least %d characters", MinBootstrapKeyLen)
	}
	tenants, err := s.Tenants(ctx)
	if err != nil {
		return false, nil, "", err
	}
	if len(tenants) > 0 {
		return false, nil, "", nil
	}
	key, keySecret, err = s.newKey(KeyInput{
		Name: "bootstrap admin", Scopes: []string{ScopeCustomersRead, ScopeCustomersWrite, ScopeAdmin}, Secret: secret,
	})
	if err != nil {
		return false, nil, "", err
	}
	t, err := s.newTenant(TenantInput{Slug: DefaultTenantSlug})
	if err != nil {
		return false, nil, "", err
	}
	// Tenant and key in one transaction: never a tenant nobody can use.
	err = s.write(ctx, func(tx Tx) error {
		if err := createTenant(ctx, tx, t); err != nil {
			return err
		}
		return createKey(ctx, tx, key, t.Slug, keySecret)
	})
	if ErrorCode(err) == ECodeConflict { // another node bootstrapped first
		return false, nil, "", nil
	}
	if err != nil {
		return false, nil, "", err
	}
	return true, key, keySecret, nil
}

// --- calls made on behalf of an authenticated caller ---

// caller returns the caller of ctx if it holds scope ("" for any
// authenticated caller).
func caller(ctx context.Context, scope string) (*Auth, error) {
	a := AuthFromContext(ctx)
	if a == nil || a.Tenant == nil {
		return nil, Errorf(ECodeUnauthorized, "", "missing or invalid API key")
	}
	if scope != "" && a.Key != nil && !a.Key.HasScope(scope) {
		return nil, Errorf(ECodeForbidden, "", "this key lacks the %s scope", scope)
	}
	return a, nil
}

// event builds an outbox event for a change made by a.
func (s *Service) event(a *Auth, typ string, customerID, phoneID int64, before, after any) *Event {
	e := &Event{
		TenantID: a.Tenant.ID, Type: typ, CustomerID: customerID, PhoneID: phoneID,
		Source: a.Source, OccurredAt: s.timestamp(),
	}
	if a.Key != nil {
		e.KeyID, e.KeyName = a.Key.ID, a.Key.Name
	}
	if before != nil {
		e.Before, _ = json.Marshal(before)
	}
	if after != nil {
		e.After, _ = json.Marshal(after)
	}
	return e
}

// checkVersion enforces an If-Match precondition; 0 means none.
func checkVersion(want, have int64) error {
	if want != 0 && want != have {
		return Errorf(ECodePrecondition, "", "the resource has changed (version %d, expected %d)", have, want)
	}
	return nil
}
