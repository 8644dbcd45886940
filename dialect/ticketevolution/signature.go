package ticketevolution

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net"
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
// a request that has one (POST, PUT). What v9's official clients build:
//
//   - the Ruby gem (ticketevolution-ruby, lib/ticket_evolution/core/connection.rb,
//     Connection#sign) strips the scheme and any ":port" before the path;
//   - the PHP client (ticketevolution-php, src/TEvoAuthMiddleware.php,
//     createBaseString) strips only "https://" and keeps the port, so a client
//     pointed at an http:// URL signs "http://host:port/path?...";
//   - both sign the JSON body as sent for POST and PUT, and "…/path?" (with
//     the "?") when there is nothing else;
//   - PHP sorts the query parameters by key (uksort strcmp) and the Ruby
//     gem sorts them too (lib/ext/hash.rb, Hash#to_ordered_hash).
//
// So the host is accepted with and without its port (and, for PHP over
// plain HTTP, with "http://" before it), the query as sent and sorted by
// key, and an empty payload with and without the "?".
func stringsToSign(r *http.Request, body []byte) []string {
	hosts := []string{r.Host}
	if h, _, err := net.SplitHostPort(r.Host); err == nil && h != "" {
		if strings.Contains(h, ":") {
			h = "[" + h + "]" // an IPv6 literal keeps its brackets
		}
		hosts = append(hosts, h)
	}
	if r.TLS == nil {
		hosts = append(hosts, "http://"+r.Host)
	}
	paths := []string{r.URL.EscapedPath()}
	if p := r.URL.Path; p != paths[0] {
		paths = append(paths, p)
	}
	var heads []string
	for _, h := range hosts {
		for _, p := range paths {
			heads = append(heads, r.Method+" "+h+p)
		}
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
		} else if r.Method == http.MethodPost || r.Method == http.MethodPut {
			// PHP signs the (empty) body of a POST or PUT, not its query.
			payloads = append(payloads, "?")
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
// secret: a key that requires signatures (every key made in the v9 format,
// and any key opted in) must send a valid one; another key's X-Signature is
// checked when it is sent, so that a wrong one is never let through. Keys
// without a signing secret cannot sign and X-Signature is ignored. body is
// the request body as read (nil for GET).
func verifySignature(r *http.Request, body []byte) error {
	a := phonebook.AuthFromContext(r.Context())
	if a == nil || a.Key == nil || a.Key.SigningSecret == "" {
		return nil
	}
	h := strings.TrimSpace(r.Header.Get(signatureHeader))
	if h == "" && !a.Key.RequireSignature {
		return nil
	}
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
