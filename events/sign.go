package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the header that carries a webhook request's
// signature: "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
const SignatureHeader = "Phonebook-Signature"

// Errors of Verify.
var (
	// ErrNoSignature: the header is empty, malformed, or has no v1 value.
	ErrNoSignature = errors.New("webhook signature: missing or malformed header")
	// ErrSignatureMismatch: no v1 value matches the body and secret.
	ErrSignatureMismatch = errors.New("webhook signature: no signature matches the body")
	// ErrSignatureExpired: the timestamp is further from now than the
	// tolerance (a replayed or badly delayed request).
	ErrSignatureExpired = errors.New("webhook signature: timestamp outside the tolerance")
)

// Sign returns the Phonebook-Signature header value for body sent at t:
// "t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>.<body>")>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a Phonebook-Signature header against the raw request body
// (as received, before any JSON decoding) and the webhook's secret. It
// accepts the header when one of its v1 values matches (a header may carry
// several) and, with tolerance > 0, its timestamp is within tolerance of
// the receiver's clock; 5 minutes is a sensible tolerance. Errors:
// ErrNoSignature, ErrSignatureMismatch, ErrSignatureExpired.
func Verify(secret, header string, body []byte, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	want := mac(secret, ts, body)
	matched := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			matched = true
		}
	}
	if !matched {
		return ErrSignatureMismatch
	}
	if tolerance > 0 {
		if d := time.Since(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
			return ErrSignatureExpired
		}
	}
	return nil
}
