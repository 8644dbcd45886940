package phonebook

import (
	"bytes"
	"context"
	"time"
	"unicode/utf8"
)

// IdempotencyTTL is how long a stored response answers a repeated
// Idempotency-Key.
const IdempotencyTTL = 24 * time.Hour

// idempotencyPendingTTL is how long a reserved key with no response yet
// blocks its repeats: past it, the first request is taken to have died.
const idempotencyPendingTTL = 2 * time.Minute

// sealedBody marks a stored response body sealed by the service's Sealer.
const sealedBody = "sealed:"

// MaxIdempotencyKeyLen bounds the Idempotency-Key header.
const MaxIdempotencyKeyLen = 255

// IdempotencyRecord is a POST's stored outcome, keyed by the caller's
// tenant and its Idempotency-Key.
type IdempotencyRecord struct {
	TenantID    int64
	Key         string
	RequestHash string // of method, path and body: another request under the same key is refused
	Status      int    // 0 while the first request runs
	ContentType string
	ETag        string
	Location    string
	Body        []byte
	CreatedAt   time.Time
}

// Done reports whether the record holds a response.
func (r *IdempotencyRecord) Done() bool { return r.Status != 0 }

// BeginIdempotent reserves key for a request whose hash is requestHash.
// It returns the stored record when the same request ran before (replay
// it), nil when the caller should run the request and then call
// FinishIdempotent or AbandonIdempotent. Errors: idempotency_key_reused
// (the key came with another request), conflict (the first request is
// still running).
func (s *Service) BeginIdempotent(ctx context.Context, key, requestHash string) (*IdempotencyRecord, error) {
	a, err := caller(ctx, "")
	if err != nil {
		return nil, err
	}
	if key == "" || len(key) > MaxIdempotencyKeyLen || !utf8.ValidString(key) || !printable(key) {
		return nil, Errorf(ECodeValidation, "Idempotency-Key", "Idempotency-Key must be 1-%d printable characters", MaxIdempotencyKeyLen)
	}
	now := s.timestamp()
	rec := &IdempotencyRecord{TenantID: a.Tenant.ID, Key: key, RequestHash: requestHash, CreatedAt: now}
	var found *IdempotencyRecord
	err = s.store.Write(ctx, func(tx Tx) (err error) {
		found, err = tx.ReserveIdempotencyKey(ctx, rec, now.Add(-IdempotencyTTL), now.Add(-idempotencyPendingTTL))
		return err
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, nil
	}
	if found.RequestHash != requestHash {
		return nil, Errorf(ECodeIdempotencyReused, "Idempotency-Key", "this Idempotency-Key was used with another request")
	}
	if !found.Done() {
		return nil, Errorf(ECodeConflict, "Idempotency-Key", "a request with this Idempotency-Key is still in progress")
	}
	if body, ok := bytes.CutPrefix(found.Body, []byte(sealedBody)); ok {
		if s.sealer == nil {
			return nil, Errorf(ECodeConflict, "Idempotency-Key", "the stored response cannot be read: PHONEBOOK_SECRET_KEY is not set")
		}
		plain, err := s.sealer.Open(string(body))
		if err != nil {
			return nil, &Error{Code: ECodeInternal, Message: "internal error", Err: err}
		}
		found.Body = []byte(plain)
	}
	return found, nil
}

// FinishIdempotent stores the response of the request that reserved key.
func (s *Service) FinishIdempotent(ctx context.Context, rec *IdempotencyRecord) error {
	a, err := caller(ctx, "")
	if err != nil {
		return err
	}
	rec.TenantID = a.Tenant.ID
	if s.sealer != nil {
		// Stored responses hold what the response held: phone numbers,
		// and a webhook's secret shown once. Keep them sealed at rest.
		sealed, err := s.sealer.Seal(string(rec.Body))
		if err != nil {
			return &Error{Code: ECodeInternal, Message: "internal error", Err: err}
		}
		stored := *rec
		stored.Body = []byte(sealedBody + sealed)
		rec = &stored
	}
	return s.store.Write(ctx, func(tx Tx) error { return tx.CompleteIdempotencyKey(ctx, rec) })
}

// AbandonIdempotent frees key after a request that must be retryable
// (a 5xx) so the client's retry runs again.
func (s *Service) AbandonIdempotent(ctx context.Context, key string) error {
	a, err := caller(ctx, "")
	if err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx Tx) error { return tx.ReleaseIdempotencyKey(ctx, a.Tenant.ID, key) })
}
