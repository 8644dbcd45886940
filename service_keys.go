package phonebook

import "context"

// TenantKeys lists the keys of the caller's tenant (admin scope), never
// their secrets: the console's Keys page, where a tenant's admin manages
// its own keys without the operator's CLI.
func (s *Service) TenantKeys(ctx context.Context) ([]*APIKey, error) {
	a, err := caller(ctx, ScopeAdmin)
	if err != nil {
		return nil, err
	}
	var out []*APIKey
	err = s.read(ctx, func(tx Tx) error {
		all, err := tx.FindAPIKeys(ctx)
		if err != nil {
			return err
		}
		// The store lists every tenant's keys (the operator's view); a
		// tenant's admin sees only its own.
		for _, k := range all {
			if k.TenantID == a.Tenant.ID {
				// The store's rows carry the hash and the sealed signing
				// secret; a list for a tenant's page needs neither.
				k.Hash, k.SigningSecret = nil, ""
				out = append(out, k)
			}
		}
		return nil
	})
	return out, err
}

// CreateTenantKey creates a key in the caller's tenant (admin scope),
// whatever in.TenantSlug says, and returns it with its secret, shown this
// once. An operator-chosen Secret or SigningSecret is refused: a tenant's
// keys are random, so none is guessable or reused from elsewhere.
func (s *Service) CreateTenantKey(ctx context.Context, in KeyInput) (*APIKey, string, error) {
	a, err := caller(ctx, ScopeAdmin)
	if err != nil {
		return nil, "", err
	}
	if in.Secret != "" {
		return nil, "", Errorf(ECodeValidation, "secret", "a tenant's keys are generated: no secret may be given")
	}
	if in.SigningSecret != "" && in.SigningSecret != "generate" {
		return nil, "", Errorf(ECodeValidation, "signing_secret", "a tenant's signing secrets are generated: none may be given")
	}
	in.TenantSlug = a.Tenant.Slug
	return s.CreateAPIKey(ctx, in)
}

// RevokeTenantKey revokes key id of the caller's tenant (admin scope); it
// stops authenticating at once. A key of another tenant is not_found, like
// one that does not exist; the caller's own key is refused, so an admin
// cannot lock itself out by a slip of the mouse.
func (s *Service) RevokeTenantKey(ctx context.Context, id int64) error {
	a, err := caller(ctx, ScopeAdmin)
	if err != nil {
		return err
	}
	if a.Key != nil && a.Key.ID == id {
		return Errorf(ECodeValidation, "id", "the key you are signed in with cannot be revoked here")
	}
	return s.write(ctx, func(tx Tx) error {
		all, err := tx.FindAPIKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range all {
			if k.ID == id && k.TenantID == a.Tenant.ID {
				return tx.RevokeAPIKey(ctx, id, s.timestamp())
			}
		}
		return Errorf(ECodeNotFound, "key", "key %d not found", id)
	})
}
