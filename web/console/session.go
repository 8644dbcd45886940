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
	"errors"
	"fmt"
	"net/http"
)

// Cookie names. The session cookie holds the session token sealed with
// AES-GCM under a key derived from PHONEBOOK_SECRET_KEY, so its value is
// opaque and only nodes sharing the key can read it; the session itself is
// the store's record of the token (its hash), which sign-out deletes. The
// login cookie carries the CSRF nonce of the sign-in form, before any
// session exists.
const (
	sessionCookie = "pb_console"
	loginCookie   = "pb_console_login"
	cookiePath    = "/console"
)

// sealer seals session cookies and derives CSRF tokens.
type sealer struct {
	aead    cipher.AEAD
	csrfKey []byte
}

// sessionAAD binds sealed values to their use; v2 cookies hold a session
// token (v1 held the API key itself, and is refused).
const sessionAAD = "phonebook console session v2"

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
			return nil, fmt.Errorf("derive cookie key: %w", err)
		}
		if csrfKey, err = hkdf.Key(sha256.New, []byte(serverKey), nil, "phonebook console csrf v1", 32); err != nil {
			return nil, fmt.Errorf("derive csrf key: %w", err)
		}
	}
	block, err := aes.NewCipher(cookieKey)
	if err != nil {
		return nil, fmt.Errorf("cookie cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("cookie cipher: %w", err)
	}
	return &sealer{aead: aead, csrfKey: csrfKey}, nil
}

// seal returns the opaque cookie value of a session token.
func (s *sealer) seal(token string) string {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(token), []byte(sessionAAD)))
}

var errBadSession = errors.New("console: session cookie is not valid")

// maxCookieValue bounds a session cookie before it is decoded: a sealed
// token is under 100 characters.
const maxCookieValue = 512

// open returns the session token of a cookie value made by seal, refusing
// a forged or corrupt one, or one sealed under another server key. Whether
// the session still runs is the store's to say.
func (s *sealer) open(v string) (string, error) {
	if len(v) > maxCookieValue {
		return "", errBadSession
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	n := s.aead.NonceSize()
	if err != nil || len(raw) < n {
		return "", errBadSession
	}
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(sessionAAD))
	if err != nil || len(plain) == 0 {
		return "", errBadSession
	}
	return string(plain), nil
}

// csrfToken is the token every form carries: an HMAC, under a key derived
// from the server key, of the session token (or, on the sign-in form, of
// the login cookie's nonce). It cannot be made without the server key,
// changes with every sign-in, and verifies on every node sharing the key.
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
// /console, Secure over TLS, when the options ask for it (the public URL
// is https://: TLS ends at a proxy in front), or when a trusted proxy says
// the client came over https (X-Forwarded-Proto).
func (c *Console) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	secure := c.opts.SecureCookies || c.opts.ClientAddr.HTTPS(r)
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     cookiePath,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteStrictMode,
	}
}
