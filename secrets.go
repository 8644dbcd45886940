package phonebook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
)

// Kinds of StoredSecret: everything the server key (PHONEBOOK_SECRET_KEY)
// seals at rest.
const (
	SecretSigning     = "api_key"     // an API key's signing secret (Ticket Evolution X-Signature)
	SecretWebhook     = "webhook"     // a webhook's signing secret
	SecretIdempotency = "idempotency" // a stored idempotent response (it may hold a secret shown once)
)

// StoredSecret is one value the store keeps sealed (or, from before the
// server had a key, in clear), for key rotation. Rows are named by Kind and
// ID, or TenantID and Key for idempotency records.
type StoredSecret struct {
	Kind     string
	ID       int64
	TenantID int64
	Key      string
	Value    []byte
}

// sealedPrefix marks a webhook or signing secret sealed by secretbox.
const sealedPrefix = "v1:"

// ResealReport counts what ResealSecrets did.
type ResealReport struct {
	Resealed int // sealed under the old key, now under the new one
	Sealed   int // found in clear, now sealed
}

// ResealSecrets re-seals every secret of the store under to, in one
// transaction: values sealed under from are opened and sealed again;
// values in clear (webhooks created, responses stored, before the server
// had a key) are sealed. from may be nil when nothing is sealed yet. If
// one value cannot be opened with from (the wrong old key), nothing
// changes.
func (s *Service) ResealSecrets(ctx context.Context, from, to Sealer) (ResealReport, error) {
	if to == nil {
		return ResealReport{}, errors.New("reseal: no new key")
	}
	var rep ResealReport
	err := s.write(ctx, func(tx Tx) error {
		rep = ResealReport{}
		list, err := tx.FindSecrets(ctx)
		if err != nil {
			return err
		}
		for _, sec := range list {
			plain, sealed, err := openStored(sec, from)
			if err != nil {
				return err
			}
			out, err := to.Seal(plain)
			if err != nil {
				return fmt.Errorf("reseal: %w", err)
			}
			if sec.Kind == SecretIdempotency {
				sec.Value = []byte(sealedBody + out)
			} else {
				sec.Value = []byte(out)
			}
			if err := tx.UpdateSecret(ctx, sec); err != nil {
				return err
			}
			if sealed {
				rep.Resealed++
			} else {
				rep.Sealed++
			}
		}
		return nil
	})
	return rep, err
}

// openStored returns the plain value of sec and whether it was sealed.
func openStored(sec *StoredSecret, from Sealer) (plain string, sealed bool, err error) {
	v := string(sec.Value)
	if sec.Kind == SecretIdempotency {
		body, ok := bytes.CutPrefix(sec.Value, []byte(sealedBody))
		if !ok {
			return v, false, nil
		}
		v = string(body)
	} else if !strings.HasPrefix(v, sealedPrefix) {
		return v, false, nil
	}
	if from == nil {
		return "", false, fmt.Errorf("reseal: %s %s is sealed, but no current key was given", sec.Kind, sec.name())
	}
	plain, err = from.Open(v)
	if err != nil {
		return "", false, fmt.Errorf("reseal: %s %s cannot be opened with the current key (is it the key the server runs with?): %w", sec.Kind, sec.name(), err)
	}
	return plain, true, nil
}

func (s *StoredSecret) name() string {
	if s.Kind == SecretIdempotency {
		return fmt.Sprintf("of tenant %d", s.TenantID)
	}
	return fmt.Sprintf("%d", s.ID)
}
