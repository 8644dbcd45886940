package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDialectTicketEvolutionV9Keys: "keys create --format v9" prints a
// token and a secret in the shape Ticket Evolution's Ruby gem checks
// before sending anything (ticketevolution/ticketevolution-ruby,
// lib/ticket_evolution/core/connection.rb: /^[a-zA-Z0-9]{32}$/ and
// /^\S{40}$/); the server takes the gem's signature (signed without the
// port) and requires one from such a key until "keys require-signature ID
// off".
func TestDialectTicketEvolutionV9Keys(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "phonebook.db")
	env := mapEnv(envBootstrapKey, guardKey, envWebhookWorkers, "0")
	s := startServer(t, env, "--addr", "127.0.0.1:0", "--db", db)

	st, body := secretsDo(t, "POST", s.url+"/v1/customers", `{"name":"Ada"}`, map[string]string{"Authorization": "Bearer " + guardKey, "Content-Type": "application/json"})
	if st != http.StatusCreated {
		t.Fatalf("create customer: %d %s", st, body)
	}
	var cust struct{ ID int64 }
	if err := json.Unmarshal(body, &cust); err != nil {
		t.Fatal(err)
	}

	out := MustRunCLI(t, env, "keys", "create", "--db", db, "--tenant", "default", "--scopes", "customers:read,customers:write", "--format", "v9", "--name", "box office")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	id := regexp.MustCompile(`Created API key (\d+) `).FindStringSubmatch(out)
	sec := regexp.MustCompile(`(?m)^Requests must be signed \(X-Signature\) with: (\S+)$`).FindStringSubmatch(out)
	if id == nil || sec == nil {
		t.Fatalf("keys create --format v9: no key id or secret in\n%s", out)
	}
	secret := sec[1]
	if !regexp.MustCompile(`^[a-zA-Z0-9]{32}$`).MatchString(token) || !regexp.MustCompile(`^\S{40}$`).MatchString(secret) {
		t.Fatalf("token %q / secret %q are not in the v9 format", token, secret)
	}

	u, _ := url.Parse(s.url)
	host, _, _ := strings.Cut(u.Host, ":")
	path := "/v9/clients/" + itoa(cust.ID) + "/phone_numbers"
	get := func(signed string) (int, string) {
		t.Helper()
		h := map[string]string{"X-Token": token}
		if signed != "" {
			m := hmac.New(sha256.New, []byte(secret))
			m.Write([]byte(signed))
			h["X-Signature"] = base64.StdEncoding.EncodeToString(m.Sum(nil))
		}
		st, b := secretsDo(t, "GET", s.url+path, "", h)
		return st, string(b)
	}
	// The Ruby gem's string: scheme and port stripped.
	if st, b := get("GET " + host + path + "?"); st != http.StatusOK {
		t.Errorf("signed as the Ruby gem does: %d %s", st, b)
	}
	if st, b := get(""); st != http.StatusUnauthorized || !strings.Contains(b, `"error":"missing X-Signature"`) {
		t.Errorf("unsigned: %d %s, want 401 missing X-Signature", st, b)
	}

	MustRunCLI(t, env, "keys", "require-signature", id[1], "off", "--db", db)
	if st, b := get(""); st != http.StatusOK {
		t.Errorf("unsigned after require-signature off: %d %s", st, b)
	}
	if st, b := get("GET " + host + path + "?page=9"); st != http.StatusUnauthorized {
		t.Errorf("a wrong signature after require-signature off: %d %s, want 401", st, b)
	}
	MustRunCLI(t, env, "keys", "require-signature", id[1], "on", "--db", db)
	if st, b := get(""); st != http.StatusUnauthorized {
		t.Errorf("unsigned after require-signature on: %d %s, want 401", st, b)
	}

	// The bootstrap key has no signing secret: it cannot be opted in.
	if _, stderr, err := runCLI(t, env, "keys", "require-signature", "1", "on", "--db", db); err == nil || !strings.Contains(stderr, "no signing secret") {
		t.Errorf("require-signature on a key without a signing secret: err %v, stderr %q", err, stderr)
	}
	if _, stderr, err := runCLI(t, env, "keys", "require-signature", id[1], "maybe", "--db", db); err == nil || !strings.Contains(stderr, "on or off") {
		t.Errorf("require-signature maybe: err %v, stderr %q", err, stderr)
	}
}
