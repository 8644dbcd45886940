// Package secretbox encrypts the few secrets phonebook must read back
// (Ticket Evolution signing secrets) with AES-256-GCM under a server key
// (PHONEBOOK_SECRET_KEY), so a copy of the database alone does not reveal
// them. API key secrets are not here: those are stored only as hashes.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// MinKeyLen is the shortest server key accepted.
const MinKeyLen = 16

// prefix marks the format, so it can change without guessing.
const prefix = "v1:"

// Box seals and opens secrets under one server key.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box keyed by serverKey (any string of MinKeyLen or more
// characters; a 256-bit key is derived from it with HKDF-SHA256).
func New(serverKey string) (*Box, error) {
	if len(serverKey) < MinKeyLen {
		return nil, fmt.Errorf("secretbox: the server key must be at least %d characters", MinKeyLen)
	}
	key, err := hkdf.Key(sha256.New, []byte(serverKey), nil, "phonebook secretbox v1", 32)
	if err != nil {
		return nil, fmt.Errorf("secretbox: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain with a random nonce.
func (b *Box) Seal(plain string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secretbox: nonce: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), []byte(prefix))
	return prefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// ErrOpen is returned for a sealed value that is corrupt or was sealed
// under another server key.
var ErrOpen = errors.New("secretbox: cannot open: wrong server key or corrupt value")

// Open decrypts a value made by Seal.
func (b *Box) Open(sealed string) (string, error) {
	if !strings.HasPrefix(sealed, prefix) {
		return "", ErrOpen
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed[len(prefix):])
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(prefix))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}
