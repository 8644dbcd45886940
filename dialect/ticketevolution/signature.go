package ticketevolution

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"

	"github.com/phonebook/phonebook"
)

// The credential headers of v9.
const (
	tokenHeader     = "X-Token"
	signatureHeader = "X-Signature"
)

// readToken reads the caller's key from X-Token (Route.Auth).
func readToken(r *http.Request) string {
	return strings.TrimSpace(r.Header.Get(tokenHeader))
}

// sign is v9's signature of s: HMAC-SHA256 keyed by the signing secret.
// Clients send it base64-encoded in X-Signature.
func sign(secret, s string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(s))
	return m.Sum(nil)
}

// stringsToSign lists what a client may have signed for r: "METHOD
// host/path?payload", the payload being the query string, or the body for
// a request that has one (POST, PUT). Besides the exact query as sent it
// accepts the query sorted by key (v9 tells clients to sort it), and with
// no query (or body) both "…/path?" — what v9's own clients sign — and
// "…/path".
func stringsToSign(r *http.Request, body []byte) []string {
	heads := []string{r.Method + " " + r.Host + r.URL.EscapedPath()}
	if p := r.Method + " " + r.Host + r.URL.Path; p != heads[0] {
		heads = append(heads, p)
	}
	var payloads []string
	if r.Method != http.MethodGet && r.Method != http.MethodHead && len(body) > 0 {
		payloads = []string{"?" + string(body)}
	} else {
		q := r.URL.RawQuery
		payloads = []string{"?" + q}
		if s := sortedQuery(q); s != q {
			payloads = append(payloads, "?"+s)
		}
		if q == "" {
			payloads = append(payloads, "")
		}
	}
	out := make([]string, 0, len(heads)*len(payloads))
	for _, h := range heads {
		for _, p := range payloads {
			out = append(out, h+p)
		}
	}
	return out
}

// sortedQuery returns the raw query q with its parameters sorted by key,
// each kept as written.
func sortedQuery(q string) string {
	if q == "" {
		return q
	}
	parts := strings.Split(q, "&")
	slices.SortStableFunc(parts, func(a, b string) int {
		ka, _, _ := strings.Cut(a, "=")
		kb, _, _ := strings.Cut(b, "=")
		return strings.Compare(ka, kb)
	})
	return strings.Join(parts, "&")
}

// verifySignature checks X-Signature when the caller's key has a signing
// secret; keys without one do not sign and X-Signature is ignored. body is
// the request body as read (nil for GET).
func verifySignature(r *http.Request, body []byte) error {
	a := phonebook.AuthFromContext(r.Context())
	if a == nil || a.Key == nil || a.Key.SigningSecret == "" {
		return nil
	}
	h := strings.TrimSpace(r.Header.Get(signatureHeader))
	if h == "" {
		return errorf(phonebook.ECodeUnauthorized, "", "missing X-Signature")
	}
	got, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		got, err = base64.RawStdEncoding.DecodeString(h)
	}
	if err == nil && len(got) == sha256.Size {
		for _, s := range stringsToSign(r, body) {
			if hmac.Equal(sign(a.Key.SigningSecret, s), got) {
				return nil
			}
		}
	}
	return errorf(phonebook.ECodeUnauthorized, "", "invalid X-Signature")
}
