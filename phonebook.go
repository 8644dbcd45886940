// Package phonebook is the domain of the phonebook service: tenants, API
// keys, customers, phone types and phones, and the Service that holds every
// rule about them. It imports only the standard library and package phone;
// stores, the HTTP API and the vendor dialects import it, never the reverse.
package phonebook

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Tenant is one business keeping its customers in phonebook. Every other row
// belongs to exactly one tenant.
type Tenant struct {
	ID   int64  `json:"id"`
	UUID string `json:"uuid"` // Cross River partnerId
	Slug string `json:"slug"` // Relay client_id, RamBase $db
	// DefaultRegion reads numbers written without "+" (e.g. "US").
	DefaultRegion         string    `json:"default_region"`
	MaxPhonesPerCustomer  int       `json:"max_phones_per_customer"`
	MaxCustomersPerNumber int       `json:"max_customers_per_number"`
	StrictNumbers         bool      `json:"strict_numbers"` // reject numbers libphonenumber calls invalid
	CreatedAt             time.Time `json:"created_at"`
}

// Defaults of a new tenant (DESIGN §2; Relay's 50 × 50).
const (
	DefaultTenantSlug            = "default"
	DefaultRegion                = "US"
	DefaultMaxPhonesPerCustomer  = 50
	DefaultMaxCustomersPerNumber = 50
)

// DefaultPhoneTypes is the registry every tenant starts with.
var DefaultPhoneTypes = []string{"home", "mobile", "work", "fax", "other"}

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Scopes an API key can hold. Admin implies the other two.
const (
	ScopeCustomersRead  = "customers:read"
	ScopeCustomersWrite = "customers:write"
	ScopeAdmin          = "admin"
)

// AllScopes lists every scope, in the order they are shown.
var AllScopes = []string{ScopeCustomersRead, ScopeCustomersWrite, ScopeAdmin}

// APIKey lets a client act in one tenant. The secret itself is shown once
// when the key is made and stored only as a hash.
type APIKey struct {
	ID         int64      `json:"id"`
	TenantID   int64      `json:"tenant_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // first characters of the secret, to recognise it in lists
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	TenantSlug string     `json:"tenant"` // filled by list queries, for display
	// SigningSecret, when set, is the secret a client signs its requests
	// with (Ticket Evolution's X-Signature); never shown in lists.
	SigningSecret string `json:"-"`
	// RequireSignature makes every request of the key carry a valid
	// signature; without it a signature is checked only when one is sent.
	// Only a key with a SigningSecret can require one.
	RequireSignature bool `json:"require_signature"`
	// Hash is the SHA-256 of the secret, as stored.
	Hash []byte `json:"-"`
}

// HasScope reports whether the key may act with scope; admin may do all.
func (k *APIKey) HasScope(scope string) bool {
	return slices.Contains(k.Scopes, scope) || slices.Contains(k.Scopes, ScopeAdmin)
}

// Revoked reports whether the key no longer authenticates.
func (k *APIKey) Revoked() bool { return k.RevokedAt != nil }

// ParseScopes reads a comma-separated scope list, rejecting unknown scopes.
func ParseScopes(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !slices.Contains(AllScopes, p) {
			return nil, Errorf(ECodeValidation, "scopes", "unknown scope %q (known: %s)", p, strings.Join(AllScopes, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, Errorf(ECodeValidation, "scopes", "at least one scope is required")
	}
	return out, nil
}

// Auth is who is calling: the key, its tenant, and the API or dialect the
// call came through (recorded with every change).
type Auth struct {
	Tenant *Tenant
	Key    *APIKey // nil for operator commands run from the CLI
	Source string  // "v1", "crossriver", "cli", ...
}

type authKey struct{}

// NewContextWithAuth returns ctx carrying a.
func NewContextWithAuth(ctx context.Context, a *Auth) context.Context {
	return context.WithValue(ctx, authKey{}, a)
}

// AuthFromContext returns the caller set by NewContextWithAuth, or nil.
func AuthFromContext(ctx context.Context) *Auth {
	a, _ := ctx.Value(authKey{}).(*Auth)
	return a
}

// WithSource returns ctx whose Auth records source as the API used.
func WithSource(ctx context.Context, source string) context.Context {
	a := AuthFromContext(ctx)
	if a == nil {
		return ctx
	}
	c := *a
	c.Source = source
	return NewContextWithAuth(ctx, &c)
}
