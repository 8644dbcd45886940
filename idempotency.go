package phonebook

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// IdempotencyTTL is how long a stored response answers a repeated
// Idempotency-Key.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyRetryAfter is what a repeat of a request still running is
// told to wait (Retry-After) before it asks again.
const IdempotencyRetryAfter = time.Second

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
	Status      int
	ContentType string
	ETag        string
	Location    string
	Body        []byte
	CreatedAt   time.Time
}

// Done reports whether the record holds a response. (Records written by
// versions before responses were stored in the change's own transaction
// may be pending, with status 0: they never answer a repeat.)
func (r *IdempotencyRecord) Done() bool { return r.Status != 0 }

// live reports whether r still answers repeats of its key at now.
func (r *IdempotencyRecord) live(now time.Time) bool {
	return r.Done() && r.CreatedAt.After(now.Add(-IdempotencyTTL))
}

// IdempotentFunc runs a request under an Idempotency-Key and returns its
// response. ctx carries the transaction the response will be stored in:
// every Service call made with it joins that transaction, so the change and
// the stored answer to it commit together or not at all.
type IdempotentFunc func(ctx context.Context) (*IdempotencyRecord, error)

// errNotStored rolls back a request whose response must not be stored
// (a 5xx: the client's retry has to run the request again).
var errNotStored = errors.New("idempotent response not stored")

// RunIdempotent runs fn once per key and request: the first call runs it
// and stores its response in the same transaction as every change fn made
// (so a crash leaves either both or neither); a later call with the same
// key and requestHash gets the stored response back, with replayed true,
// and changes nothing. A response with status 500 or more is returned but
// not stored, and fn's changes are rolled back, so a retry runs again.
//
// fn runs to its end even when ctx is cancelled (the client hung up): its
// answer is stored for the retry. Errors: validation (a malformed key),
// idempotency_key_reused (the key came with another request),
// idempotency_in_progress (the first request with this key is still
// running, on this node or another; retry after IdempotencyRetryAfter).
func (s *Service) RunIdempotent(ctx context.Context, key, requestHash string, fn IdempotentFunc) (rec *IdempotencyRecord, replayed bool, err error) {
	a, err := caller(ctx, "")
	if err != nil {
		return nil, false, err
	}
	if key == "" || len(key) > MaxIdempotencyKeyLen || !utf8.ValidString(key) || !printable(key) {
		return nil, false, Errorf(ECodeValidation, "Idempotency-Key", "Idempotency-Key must be 1-%d printable characters", MaxIdempotencyKeyLen)
	}
	// Nothing below depends on the client still being there: the request
	// runs to its end and its answer is stored, for the retry to find.
	ctx = context.WithoutCancel(ctx)
	release, ok := s.running.start(a.Tenant.ID, key)
	if !ok {
		return nil, false, inProgress()
	}
	defer release()

	// A repeat of a finished request is answered from a read, without
	// waiting for the writer.
	var found *IdempotencyRecord
	err = s.store.Read(ctx, func(tx Tx) (err error) {
		found, err = tx.FindIdempotencyRecord(ctx, a.Tenant.ID, key)
		return err
	})
	if err != nil && !IsCode(err, ECodeNotFound) {
		return nil, false, err
	}
	if found != nil && found.live(s.timestamp()) {
		rec, err := s.replay(found, requestHash)
		return rec, err == nil, err
	}

	var out *IdempotencyRecord
	err = s.store.Write(ctx, func(tx Tx) error {
		out, found = nil, nil
		// Held until this transaction ends, on every node: a second
		// request with the key waits for none and runs nothing.
		ok, err := tx.LockIdempotencyKey(ctx, a.Tenant.ID, key)
		if err != nil {
			return err
		}
		if !ok {
			return inProgress()
		}
		// Finished by another node between the read above and the lock.
		f, err := tx.FindIdempotencyRecord(ctx, a.Tenant.ID, key)
		if err != nil && !IsCode(err, ECodeNotFound) {
			return err
		}
		now := s.timestamp()
		if f != nil && f.live(now) {
			found = f
			return nil
		}
		amb := &ambient{tx: tx}
		res, err := fn(context.WithValue(ctx, ambientKey{}, amb))
		if err != nil {
			return err
		}
		out = res
		if res.Status >= 500 || res.Status == 0 {
			// A store failure inside the request: when the store can run
			// the transaction again (a serialization failure), it does.
			if f := amb.failure(); f != nil {
				return f
			}
			return errNotStored
		}
		stored := *res
		stored.TenantID, stored.Key, stored.RequestHash, stored.CreatedAt = a.Tenant.ID, key, requestHash, now
		if s.sealer != nil {
			// Stored responses hold what the response held: phone numbers,
			// and a webhook's secret shown once. Keep them sealed at rest.
			sealed, err := s.sealer.Seal(string(res.Body))
			if err != nil {
				return &Error{Code: ECodeInternal, Message: "internal error", Err: err}
			}
			stored.Body = []byte(sealedBody + sealed)
		}
		return tx.SaveIdempotencyRecord(ctx, &stored, now.Add(-IdempotencyTTL))
	})
	switch {
	case found != nil && err == nil:
		rec, err := s.replay(found, requestHash)
		return rec, err == nil, err
	case errors.Is(err, errNotStored) || (err != nil && out != nil && out.Status >= 500):
		return out, false, nil
	case err != nil:
		return nil, false, err
	}
	return out, false, nil
}

// replay returns the stored response of found for a repeat whose request
// hashes to requestHash.
func (s *Service) replay(found *IdempotencyRecord, requestHash string) (*IdempotencyRecord, error) {
	if found.RequestHash != requestHash {
		return nil, Errorf(ECodeIdempotencyReused, "Idempotency-Key", "this Idempotency-Key was used with another request")
	}
	if body, ok := bytes.CutPrefix(found.Body, []byte(sealedBody)); ok {
		if s.sealer == nil {
			return nil, Errorf(ECodeConflict, "Idempotency-Key", "the stored response cannot be read: PHONEBOOK_SECRET_KEY is not set")
		}
		plain, err := s.sealer.Open(string(body))
		if err != nil {
			return nil, &Error{Code: ECodeInternal, Message: "internal error", Err: err}
		}
		out := *found
		out.Body = []byte(plain)
		return &out, nil
	}
	return found, nil
}

func inProgress() error {
	return Errorf(ECodeIdempotencyInProgress, "Idempotency-Key",
		"a request with this Idempotency-Key is still running; retry in %s s", strconv.Itoa(int(IdempotencyRetryAfter/time.Second)))
}

// runningKeys are the Idempotency-Keys whose requests run on this node: a
// repeat arriving meanwhile is told so at once instead of queueing for the
// writer behind the request it repeats. (Other nodes are held off by the
// store's lock on the key.)
type runningKeys struct {
	mu   sync.Mutex
	keys map[runningKey]struct{}
}

type runningKey struct {
	tenant int64
	key    string
}

// start marks key as running and returns the function that unmarks it;
// ok is false when it already runs.
func (r *runningKeys) start(tenant int64, key string) (release func(), ok bool) {
	k := runningKey{tenant, key}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, busy := r.keys[k]; busy {
		return nil, false
	}
	if r.keys == nil {
		r.keys = map[runningKey]struct{}{}
	}
	r.keys[k] = struct{}{}
	return func() {
		r.mu.Lock()
		delete(r.keys, k)
		r.mu.Unlock()
	}, true
}

// ambient is the transaction an idempotent request runs in. The Service
// calls made inside the request join it (write and read below) instead of
// starting transactions of their own.
type ambient struct {
	tx     Tx
	mu     sync.Mutex
	failed error // the last store failure (not a rule refusal) of a write
}

type ambientKey struct{}

func (a *ambient) failure() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.failed
}

// write runs fn in a transaction: the request's own when it runs under an
// Idempotency-Key (inside a savepoint, so a refused change is undone alone
// and the refusal can be stored as the answer), a new one otherwise.
func (s *Service) write(ctx context.Context, fn func(Tx) error) error {
	amb, ok := ctx.Value(ambientKey{}).(*ambient)
	if !ok {
		return s.store.Write(ctx, fn)
	}
	err := amb.tx.Savepoint(ctx, func() error { return fn(amb.tx) })
	if code := ErrorCode(err); code == ECodeInternal || code == ECodeUnavailable {
		amb.mu.Lock()
		amb.failed = err
		amb.mu.Unlock()
	}
	return err
}

// read runs fn in a read transaction, or in the request's own (which sees
// its own writes) when it runs under an Idempotency-Key.
func (s *Service) read(ctx context.Context, fn func(Tx) error) error {
	if amb, ok := ctx.Value(ambientKey{}).(*ambient); ok {
		return fn(amb.tx)
	}
	return s.store.Read(ctx, fn)
}
