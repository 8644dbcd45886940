package phonebook

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"
)

// ConsoleSession is a sign-in to the web console, as the store keeps it.
// The browser holds a random token; the store holds only the token's
// SHA-256 (ID), so a copy of the database cannot be replayed as a cookie.
// Every node reading the same store sees the same sessions, and deleting
// the record (sign-out) ends the session on all of them at once.
type ConsoleSession struct {
	ID        []byte // SHA-256 of the token
	TenantID  int64
	KeyID     int64 // the API key signed in with: revoking it ends the session
	CreatedAt time.Time
	ExpiresAt time.Time
}

// maxSessionToken bounds a presented token before it is hashed: ours are
// 43 characters.
const maxSessionToken = 256

// sessionHash is how a session token is stored. Tokens are 256-bit random
// values, so a fast hash leaves nothing to brute-force.
func sessionHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// newSessionToken returns a random 256-bit session token.
func newSessionToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// StartSession signs in to the console with an API key's secret: it
// checks the key as Authenticate does and stores a session record that
// expires after ttl. It returns the session token (for the cookie; only
// its hash is stored) and the caller. Expired records of every session are
// deleted on the way, so the table holds only live sessions and those that
// ended less than one sign-in ago. Errors: unauthorized (unknown or revoked
// key), validation (ttl not positive), unavailable.
func (s *Service) StartSession(ctx context.Context, secret string, ttl time.Duration) (string, *Auth, error) {
	if ttl <= 0 {
		return "", nil, Errorf(ECodeValidation, "ttl", "a session must last a positive time")
	}
	a, err := s.Authenticate(ctx, secret)
	if err != nil {
		return "", nil, err
	}
	token := newSessionToken()
	now := s.timestamp()
	rec := &ConsoleSession{ID: sessionHash(token), TenantID: a.Tenant.ID, KeyID: a.Key.ID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err = s.write(ctx, func(tx Tx) error {
		if _, err := tx.DeleteExpiredConsoleSessions(ctx, now); err != nil {
			return err
		}
		return tx.CreateConsoleSession(ctx, rec)
	})
	if err != nil {
		return "", nil, err
	}
	return token, a, nil
}

// SessionAuth returns the caller of a console session token, in one query:
// the session, its key and its tenant. It checks on every call that the
// session has not ended (signed out on any node, or expired) and that its
// key is not revoked, so either ends the session at once everywhere. The
// key's signing secret is left out: the console does not sign requests.
// Errors: unauthorized, unavailable.
func (s *Service) SessionAuth(ctx context.Context, token string) (*Auth, error) {
	unauth := Errorf(ECodeUnauthorized, "", "the console session has ended")
	if token == "" || len(token) > maxSessionToken {
		return nil, unauth
	}
	var a *Auth
	var rec *ConsoleSession
	err := s.read(ctx, func(tx Tx) error {
		r, k, t, err := tx.FindConsoleSession(ctx, sessionHash(token))
		if err != nil {
			return err
		}
		rec, a = r, &Auth{Tenant: t, Key: k}
		return nil
	})
	if ErrorCode(err) == ECodeNotFound {
		return nil, unauth
	}
	if err != nil {
		return nil, err
	}
	if !s.timestamp().Before(rec.ExpiresAt) {
		return nil, &Error{Code: ECodeUnauthorized, Message: unauth.Message, Err: errors.New("session expired")}
	}
	if a.Key.Revoked() {
		return nil, &Error{Code: ECodeUnauthorized, Message: unauth.Message, Err: errors.New("key revoked")}
	}
	a.Key.SigningSecret = ""
	return a, nil
}

// EndSession signs a console session out: its record is deleted, so the
// token is refused from now on by every node, whoever kept a copy of the
// cookie. Ending a session that has already ended is not an error.
// Errors: unavailable.
func (s *Service) EndSession(ctx context.Context, token string) error {
	if token == "" || len(token) > maxSessionToken {
		return nil
	}
	err := s.write(ctx, func(tx Tx) error {
		return tx.DeleteConsoleSession(ctx, sessionHash(token))
	})
	if ErrorCode(err) == ECodeNotFound {
		return nil
	}
	return err
}
