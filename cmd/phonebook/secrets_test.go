package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/secretbox"
	"github.com/phonebook/phonebook/store/postgres"
	"github.com/phonebook/phonebook/store/sqlite"
)

// secretsDo sends one request to the server and returns status and body.
func secretsDo(t *testing.T, method, target, body string, header map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// teGet sends a Ticket Evolution list signed with secret and returns the
// status.
func teGet(t *testing.T, base, token, secret string, clientID int64) int {
	t.Helper()
	u, _ := url.Parse(base)
	path := "/v9/clients/" + itoa(clientID) + "/phone_numbers"
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("GET " + u.Host + path + "?"))
	st, _ := secretsDo(t, "GET", base+path, "", map[string]string{
		"X-Token": token, "X-Signature": base64.StdEncoding.EncodeToString(m.Sum(nil)),
	})
	return st
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestSecretsAtRestAndRotation: a first start without PHONEBOOK_SECRET_KEY
// generates a key file beside the database (0600, said once in the log,
// never the key itself); webhook and signing secrets are stored sealed,
// never in clear; "secrets rotate" re-seals all of them under a new key in
// one go and writes it to the key file; a server with the new key signs
// and verifies with the original secrets, the old key opens nothing.
func TestSecretsAtRestAndRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "phonebook.db")
	db := "sqlite:" + dbPath
	keyFile := dbPath + keyFileSuffix
	env := mapEnv(envBootstrapKey, guardKey, envWebhookWorkers, "0")

	s := startServer(t, env, "--addr", "127.0.0.1:0", "--db", db)
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("no key file beside the database: %v", err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode: got %o, want 600", got)
	}
	keyA, err := readKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(s.stderr.String(), "generated "+envSecretKey); got != 1 {
		t.Errorf("log lines about the generated key: got %d, want 1\n%s", got, s.stderr)
	}
	if strings.Contains(s.stderr.String(), keyA) {
		t.Error("the log holds the server key")
	}

	// A webhook (through an idempotent POST, whose stored answer holds the
	// secret too), a customer (so a delivery is queued) and a signing key.
	admin := map[string]string{"Authorization": "Bearer " + guardKey, "Content-Type": "application/json"}
	withIdem := map[string]string{"Idempotency-Key": "wh-1"}
	for k, v := range admin {
		withIdem[k] = v
	}
	st, body := secretsDo(t, "POST", s.url+"/v1/webhooks", `{"url":"https://crm.example.com/hook","secret":"whsec_original_secret_0123456789"}`, withIdem)
	if st != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", st, body)
	}
	st, body = secretsDo(t, "POST", s.url+"/v1/customers", `{"name":"Ada"}`, admin)
	if st != http.StatusCreated {
		t.Fatalf("create customer: %d %s", st, body)
	}
	var cust struct{ ID int64 }
	_ = json.Unmarshal(body, &cust)
	out := MustRunCLI(t, env, "keys", "create", "--db", db, "--tenant", "default", "--scopes", "customers:read", "--signing-secret", "te_signing_secret_0123456789")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	if got := teGet(t, s.url, token, "te_signing_secret_0123456789", cust.ID); got != http.StatusOK {
		t.Fatalf("signed v9 request under key A: %d", got)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}

	// Never in clear: the database holds sealed values only.
	raw, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	dump := func() string {
		var b strings.Builder
		for _, q := range []string{`SELECT secret FROM webhooks`, `SELECT signing_secret FROM api_keys`, `SELECT CAST(body AS TEXT) FROM idempotency_keys WHERE body IS NOT NULL`} {
			rows, err := raw.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var v sql.NullString
				_ = rows.Scan(&v)
				b.WriteString(v.String + "\n")
			}
			rows.Close()
		}
		return b.String()
	}
	before := dump()
	for _, plain := range []string{"whsec_original_secret_0123456789", "te_signing_secret_0123456789"} {
		if strings.Contains(before, plain) {
			t.Errorf("a secret is stored in clear:\n%s", before)
		}
	}

	// Rotate to key B.
	const keyB = "new-server-key-B-0123456789abcdef"
	out = MustRunCLI(t, mapEnv(envSecretKeyNew, keyB), "secrets", "rotate", "--db", db)
	if !strings.Contains(out, "Re-sealed 3 secrets") {
		t.Errorf("rotate output: %s", out)
	}
	if got, _ := readKeyFile(keyFile); got != keyB {
		t.Errorf("key file after rotation: got %q, want the new key", got)
	}
	after := dump()
	raw.Close()
	if after == before || strings.Contains(after, "whsec_original") {
		t.Errorf("rotation did not re-seal the values:\nbefore\n%s\nafter\n%s", before, after)
	}

	// A server with B (from the key file) reads every secret.
	s = startServer(t, env, "--addr", "127.0.0.1:0", "--db", db)
	if got := teGet(t, s.url, token, "te_signing_secret_0123456789", cust.ID); got != http.StatusOK {
		t.Errorf("signed v9 request under key B: %d, want 200", got)
	}
	st, body = secretsDo(t, "POST", s.url+"/v1/webhooks", `{"url":"https://crm.example.com/hook","secret":"whsec_original_secret_0123456789"}`, withIdem)
	if st != http.StatusCreated || !strings.Contains(string(body), "whsec_original_secret_0123456789") {
		t.Errorf("idempotent replay under key B: %d %s, want the stored answer", st, body)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	claim := func(key string) ([]*phonebook.ClaimedDelivery, error) {
		store, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		box, _ := secretbox.New(key)
		svc := phonebook.NewService(store, nil)
		svc.SetSealer(box)
		return svc.ClaimDeliveries(context.Background(), time.Millisecond, 10)
	}
	cs, err := claim(keyB)
	if err != nil || len(cs) == 0 || cs[0].Webhook.Secret != "whsec_original_secret_0123456789" {
		t.Errorf("deliveries under key B: %v, %v; want the original webhook secret to sign with", cs, err)
	}
	time.Sleep(5 * time.Millisecond) // the lease ends
	if _, err := claim(keyA); err == nil {
		t.Error("deliveries under the old key A: no error, want the secret unreadable")
	}

	// A server with the old key cannot open them.
	s = startServer(t, mapEnv(envBootstrapKey, guardKey, envWebhookWorkers, "0", envSecretKey, keyA), "--addr", "127.0.0.1:0", "--db", db)
	if got := teGet(t, s.url, token, "te_signing_secret_0123456789", cust.ID); got != http.StatusUnauthorized {
		t.Errorf("signed v9 request under the old key: %d, want 401", got)
	}
	// Rotating with the wrong current key changes nothing.
	_, stderr, err := runCLI(t, mapEnv(envSecretKey, keyA, envSecretKeyNew, "third-key-C-0123456789abcdef"), "secrets", "rotate", "--db", db)
	if err == nil || !strings.Contains(stderr, "cannot be opened with the current key") {
		t.Errorf("rotate from the wrong key: err %v, stderr %s", err, stderr)
	}
}

// TestSecretKeyRequiredWithoutKey: with no key at all (a PostgreSQL store
// and no PHONEBOOK_SECRET_KEY), webhooks and signing secrets are refused
// with secret_key_required, never stored in clear.
func TestSecretKeyRequiredWithoutKey(t *testing.T) {
	t.Parallel()
	pg := os.Getenv("PHONEBOOK_TEST_POSTGRES_URL")
	if pg == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PHONEBOOK_TEST_POSTGRES_URL is not set under CI")
		}
		t.Skip("PHONEBOOK_TEST_POSTGRES_URL is not set")
	}
	schema := fmt.Sprintf("secrets_%d", time.Now().UnixNano())
	dbURL, err := mnWithSearchPath(pg, schema)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), pg)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	_, err = conn.Exec(context.Background(), `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize())
	conn.Close(context.Background())
	if err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := postgres.DropSchema(context.Background(), pg, schema); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	s := startServer(t, mapEnv(envBootstrapKey, guardKey, envWebhookWorkers, "0"), "--addr", "127.0.0.1:0", "--db", dbURL)
	st, body := secretsDo(t, "POST", s.url+"/v1/webhooks", `{"url":"https://crm.example.com/hook"}`,
		map[string]string{"Authorization": "Bearer " + guardKey, "Content-Type": "application/json"})
	var p struct{ Code, Detail string }
	_ = json.Unmarshal(body, &p)
	if st != http.StatusUnprocessableEntity || p.Code != "secret_key_required" || !strings.Contains(p.Detail, envSecretKey) {
		t.Errorf("webhook without a server key: %d %s, want 422 secret_key_required naming %s", st, body, envSecretKey)
	}
	_, stderr, err := runCLI(t, mapEnv(), "keys", "create", "--db", dbURL, "--tenant", "default", "--scopes", "customers:read", "--signing-secret", "generate")
	if err == nil || !strings.Contains(stderr, envSecretKey) {
		t.Errorf("signing secret without a server key: err %v, stderr %s", err, stderr)
	}
}
