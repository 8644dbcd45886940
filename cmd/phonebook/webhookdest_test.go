package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const whKey = "pb_test_webhook_dest_key_0123456789"

// whDo sends one request with the bootstrap key and decodes the answer.
func whDo(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+whKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m
}

// The public receivers below are literal addresses (93.184.216.34): the
// server looks names up at create time, and tests stay offline. No
// delivery is ever made to them (no change is written in those servers).

// whCreate posts a webhook to url and checks the status (and, for a
// refusal, the problem's code).
func whCreate(t *testing.T, s *server, url string, wantStatus int, wantCode string) map[string]any {
	t.Helper()
	status, m := whDo(t, "POST", s.url+"/v1/webhooks", `{"url":`+strconv.Quote(url)+`}`)
	if status != wantStatus {
		t.Fatalf("POST /v1/webhooks %s: got %d %v, want %d", url, status, m, wantStatus)
	}
	if wantCode != "" {
		if got := m["code"]; got != wantCode {
			t.Errorf("POST /v1/webhooks %s: got code %v, want %s", url, got, wantCode)
		}
		if errs, _ := m["errors"].([]any); wantCode == "url_forbidden" && (len(errs) == 0 || errs[0].(map[string]any)["field"] != "url") {
			t.Errorf("POST /v1/webhooks %s: got errors %v, want one on field url", url, m["errors"])
		}
	}
	return m
}

// TestServeWebhookDestinations: the binary refuses internal webhook
// destinations by default; PHONEBOOK_WEBHOOK_ALLOW_PRIVATE=true (or
// --webhook-allow-private) lets a receiver on 127.0.0.1 get its
// deliveries, and a failed attempt shows its classified reason; the flag
// wins over the environment.
func TestServeWebhookDestinations(t *testing.T) {
	t.Parallel()
	var got atomic.Int64
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	db := func() string { return "sqlite:" + filepath.Join(t.TempDir(), "pb.db") }

	t.Run("default refuses", func(t *testing.T) {
		s := startServer(t, mapEnv(envBootstrapKey, whKey), "--addr", "127.0.0.1:0", "--db", db())
		for _, u := range []string{rc.URL + "/hook", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]/", "http://2130706433/"} {
			whCreate(t, s, u, http.StatusUnprocessableEntity, "url_forbidden")
		}
	})
	t.Run("flag wins over env", func(t *testing.T) {
		s := startServer(t, mapEnv(envBootstrapKey, whKey, envWebhookAllowPrivate, "true"), "--addr", "127.0.0.1:0", "--db", db(), "--webhook-allow-private=false")
		whCreate(t, s, rc.URL+"/hook", http.StatusUnprocessableEntity, "url_forbidden")
	})
	t.Run("flag allows", func(t *testing.T) {
		s := startServer(t, mapEnv(envBootstrapKey, whKey), "--addr", "127.0.0.1:0", "--db", db(), "--webhook-allow-private")
		whCreate(t, s, rc.URL+"/hook", http.StatusCreated, "")
		whCreate(t, s, "http://169.254.169.254/latest/meta-data/", http.StatusUnprocessableEntity, "url_forbidden")
	})
	t.Run("env allows and delivers", func(t *testing.T) {
		s := startServer(t, mapEnv(envBootstrapKey, whKey, envWebhookAllowPrivate, "true"), "--addr", "127.0.0.1:0", "--db", db())
		ok := whCreate(t, s, rc.URL+"/hook", http.StatusCreated, "")
		bad := whCreate(t, s, closedURL, http.StatusCreated, "")
		before := got.Load()
		if status, m := whDo(t, "POST", s.url+"/v1/customers", `{"name":"Hooked"}`); status != http.StatusCreated {
			t.Fatalf("POST /v1/customers: %d %v", status, m)
		}
		attempt := func(hook map[string]any) map[string]any {
			path := s.url + "/v1/webhooks/" + strconv.FormatFloat(hook["id"].(float64), 'f', 0, 64) + "/deliveries"
			deadline := time.Now().Add(30 * time.Second)
			for {
				_, m := whDo(t, "GET", path, "")
				if data, _ := m["data"].([]any); len(data) > 0 {
					if log, _ := data[0].(map[string]any)["attempt_log"].([]any); len(log) > 0 {
						return log[0].(map[string]any)
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("GET %s: no attempt within 30s: %v", path, m)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		if a := attempt(ok); a["reason"] != nil || a["status_code"] != float64(http.StatusNoContent) {
			t.Errorf("delivered attempt: got %v, want status 204 and no reason", a)
		}
		if got.Load() <= before {
			t.Errorf("the receiver on 127.0.0.1 got no delivery")
		}
		if a := attempt(bad); a["reason"] != "connection_refused" || a["status_code"] != nil {
			t.Errorf("attempt to a closed port: got %v, want reason connection_refused and no status", a)
		}
	})
	t.Run("require https", func(t *testing.T) {
		s := startServer(t, mapEnv(envBootstrapKey, whKey, envWebhookRequireHTTPS, "1"), "--addr", "127.0.0.1:0", "--db", db())
		whCreate(t, s, "http://example.com/hook", http.StatusUnprocessableEntity, "url_forbidden")
		whCreate(t, s, "https://93.184.216.34/hook", http.StatusCreated, "")
	})
	t.Run("max per tenant", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			env  func(string) string
			args []string
			max  int
		}{
			{"env", mapEnv(envBootstrapKey, whKey, envWebhookMaxPerTenant, "2"), nil, 2},
			{"flag", mapEnv(envBootstrapKey, whKey, envWebhookMaxPerTenant, "5"), []string{"--webhook-max-per-tenant", "1"}, 1},
		} {
			s := startServer(t, tc.env, append([]string{"--addr", "127.0.0.1:0", "--db", db()}, tc.args...)...)
			for i := range tc.max {
				whCreate(t, s, "https://93.184.216.34/hook/"+strconv.Itoa(i), http.StatusCreated, "")
			}
			whCreate(t, s, "https://93.184.216.34/hook/more", http.StatusUnprocessableEntity, "webhook_limit")
		}
	})
}

// TestServeWebhookSettingsRejected: a webhook setting that is not exactly
// a boolean or a sane number stops serve at start.
func TestServeWebhookSettingsRejected(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "bad.db")
	for _, tt := range []struct {
		name   string
		getenv func(string) string
		args   []string
		want   string
	}{
		{"allow private yes", mapEnv(envWebhookAllowPrivate, "yes"), nil, envWebhookAllowPrivate + ": want true or false"},
		{"allow private TRUE ", mapEnv(envWebhookAllowPrivate, "true "), nil, envWebhookAllowPrivate + ": want true or false"},
		{"require https on", mapEnv(envWebhookRequireHTTPS, "on"), nil, envWebhookRequireHTTPS + ": want true or false"},
		{"max zero", mapEnv(envWebhookMaxPerTenant, "0"), nil, envWebhookMaxPerTenant + ": want a number of webhooks"},
		{"max letters", mapEnv(envWebhookMaxPerTenant, "twenty"), nil, envWebhookMaxPerTenant + ": want a number of webhooks"},
		{"max flag zero", mapEnv(), []string{"--webhook-max-per-tenant", "0"}, "--webhook-max-per-tenant: want a number of webhooks"},
		{"allow private flag value", mapEnv(), []string{"--webhook-allow-private=maybe"}, "webhook-allow-private"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := runCLI(t, tt.getenv, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, tt.args...)...)
			if err == nil {
				t.Fatalf("serve started; stderr:\n%s", stderr)
			}
			if msg := stderr + err.Error(); !strings.Contains(msg, tt.want) {
				t.Errorf("error: want %q in\n%s", tt.want, msg)
			}
		})
	}
}
