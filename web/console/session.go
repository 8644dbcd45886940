package console

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Cookie names. The session cookie holds the API key sealed with AES-GCM,
// so its value is opaque; the login cookie carries the CSRF token of the
// sign-in form, before any session exists.
const (
	sessionCookie = "pb_console"
	loginCookie   = "pb_console_login"
	cookiePath    = "/console"
)

// sessionData is what the session cookie carries, sealed.
type sessionData struct {
	Secret string `json:"k"` // the API key: every request authenticates again with it
	ID     string `json:"s"` // random session id: the CSRF token is derived from it
	Issued int64  `json:"t"` // unix seconds
}

// sealer seals session cookies and derives CSRF tokens.
type sealer struct {
	aead    cipher.AEAD
	csrfKey []byte
}

const sessionAAD = "phonebook console session v1"

// newSealer keys the cookie cipher and the CSRF MAC from serverKey
// (PHONEBOOK_SECRET_KEY), or from random keys, good for this process only,
// when serverKey is empty.
func newSealer(serverKey string) (*sealer, error) {
	var cookieKey, csrfKey []byte
	if serverKey == "" {
		cookieKey, csrfKey = make([]byte, 32), make([]byte, 32)
		_, _ = rand.Read(cookieKey) // crypto/rand.Read never fails on supported platforms
		_, _ = rand.Read(csrfKey)
	} else {
		var err error
		if cookieKey, err = hkdf.Key(sha256.New, []byte(serverKey), nil, "phonebook console cookie v1", 32); err != nil {
			return nil, err
		}
		if csrfKey, err = hkdf.Key(sha256.New, []byte(serverKey), nil, "phonebook console csrf v1", 32); err != nil {
			return nil, err
		}
	}
	block, err := aes.NewCipher(cookieKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, csrfKey: csrfKey}, nil
}

// seal returns the opaque cookie value of d.
func (s *sealer) seal(d sessionData) string {
	plain, _ := json.Marshal(d)
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(sessionAAD)))
}

var errBadSession = errors.New("console: session cookie is not valid")

// open reads a cookie value made by seal, refusing a forged, corrupt or
// expired one.
func (s *sealer) open(v string, now time.Time, ttl time.Duration) (*sessionData, error) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	n := s.aead.NonceSize()
	if err != nil || len(raw) < n {
		return nil, errBadSession
	}
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(sessionAAD))
	if err != nil {
		return nil, errBadSession
	}
	var d sessionData
	if err := json.Unmarshal(plain, &d); err != nil || d.Secret == "" || d.ID == "" {
		return nil, errBadSession
	}
	issued := time.Unix(d.Issued, 0)
	if now.Sub(issued) > ttl || issued.After(now.Add(time.Minute)) {
		return nil, fmt.Errorf("%w: expired", errBadSession)
	}
	return &d, nil
}

// csrfToken is the token every form of a session carries: an HMAC of the
// session id, so it cannot be made without the server key and changes with
// every sign-in.
func (s *sealer) csrfToken(purpose, id string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// tokenEqual compares two tokens in constant time.
func tokenEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func randomID() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// cookie returns a console cookie: HttpOnly, SameSite=Strict, scoped to
// /console, Secure over TLS or when the options ask for it.
func (c *Console) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     cookiePath,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   c.opts.SecureCookies || r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	}
}
