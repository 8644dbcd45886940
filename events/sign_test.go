package events_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phonebook/phonebook/events"
)

func TestWebhookSignFormat(t *testing.T) {
	// Computed independently of Sign: HMAC-SHA256(secret, "<t>.<body>").
	secret, body := "whsec_abc", []byte(`{"id":"1"}`)
	at := time.Unix(1700000000, 0)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("1700000000." + string(body)))
	want := "t=1700000000,v1=" + hex.EncodeToString(m.Sum(nil))
	if got := events.Sign(secret, at, body); got != want {
		t.Errorf("Sign: got %q, want %q", got, want)
	}
}

func TestWebhookVerifySignature(t *testing.T) {
	const secret = "whsec_test_secret"
	body := []byte(`{"id":"0190a0b0-0000-7000-8000-000000000000","type":"phone.created"}`)
	now := time.Now()
	good := events.Sign(secret, now, body)
	_, goodSig, _ := strings.Cut(good, ",v1=")
	other := events.Sign("whsec_other_secret", now, body)
	_, otherSig, _ := strings.Cut(other, ",v1=")
	ts := fmt.Sprint(now.Unix())

	tests := []struct {
		name      string
		secret    string
		header    string
		body      []byte
		tolerance time.Duration
		want      error
	}{
		{"valid", secret, good, body, 5 * time.Minute, nil},
		{"valid without tolerance", secret, good, body, 0, nil},
		{"spaces after commas", secret, "t=" + ts + ", v1=" + goodSig, body, time.Minute, nil},
		{"rotated: one of two v1 matches", secret, "t=" + ts + ",v1=" + otherSig + ",v1=" + goodSig, body, time.Minute, nil},
		{"unknown schemes ignored", secret, "t=" + ts + ",v0=abc,v1=" + goodSig, body, time.Minute, nil},
		{"wrong secret", "whsec_wrong", good, body, time.Minute, events.ErrSignatureMismatch},
		{"body changed", secret, good, append([]byte(nil), append(body, ' ')...), time.Minute, events.ErrSignatureMismatch},
		{"timestamp changed", secret, "t=" + fmt.Sprint(now.Unix()+1) + ",v1=" + goodSig, body, time.Minute, events.ErrSignatureMismatch},
		{"too old", secret, events.Sign(secret, now.Add(-10*time.Minute), body), body, 5 * time.Minute, events.ErrSignatureExpired},
		{"too far ahead", secret, events.Sign(secret, now.Add(10*time.Minute), body), body, 5 * time.Minute, events.ErrSignatureExpired},
		{"old but no tolerance", secret, events.Sign(secret, now.Add(-48*time.Hour), body), body, 0, nil},
		{"empty header", secret, "", body, time.Minute, events.ErrNoSignature},
		{"no timestamp", secret, "v1=" + goodSig, body, time.Minute, events.ErrNoSignature},
		{"no v1", secret, "t=" + ts, body, time.Minute, events.ErrNoSignature},
		{"bad timestamp", secret, "t=abc,v1=" + goodSig, body, time.Minute, events.ErrNoSignature},
		{"v1 not hex", secret, "t=" + ts + ",v1=zz" + goodSig[2:], body, time.Minute, events.ErrNoSignature},
		{"v1 truncated", secret, "t=" + ts + ",v1=" + goodSig[:32], body, time.Minute, events.ErrNoSignature},
		{"garbage", secret, "Bearer xyz", body, time.Minute, events.ErrNoSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := events.Verify(tt.secret, tt.header, tt.body, tt.tolerance)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify(%q): got %v, want %v", tt.header, err, tt.want)
			}
		})
	}
}
