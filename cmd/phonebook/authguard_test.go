package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const guardKey = "pb_guard_bootstrap_key_0123456789"

// guardDoor is one way in: a route of /v1, of a dialect, with the
// dialect's credential header, and what its 429 looks like.
type guardDoor struct {
	name, method, path, body string
	header                   func(key string) map[string]string
	limited                  func(t *testing.T, body []byte)
}

// guardLimitedStatus is a door's answer over the limit where it is not
// 429: none; every door answers 429, RamBase too.
var guardLimitedStatus = map[string]int{}

func bearerHeader(key string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + key, "Content-Type": "application/json"}
}

var guardDoors = []guardDoor{
	{"v1", "GET", "/v1/customers", "", bearerHeader, func(t *testing.T, b []byte) {
		var p struct{ Code string }
		if err := json.Unmarshal(b, &p); err != nil || p.Code != "rate_limited" {
			t.Errorf("v1: want problem code rate_limited, got %s", b)
		}
	}},
	{"crossriver", "POST", "/core/v1/cm/customers/0191b2f6-1111-7000-8000-000000000000/phones", `{"phoneNumber":"5045550123"}`, bearerHeader, func(t *testing.T, b []byte) {
		var e struct{ Errors []struct{ Code int } }
		if err := json.Unmarshal(b, &e); err != nil || len(e.Errors) != 1 || e.Errors[0].Code != 3003 {
			t.Errorf("crossriver: want Errors[0].Code 3003, got %s", b)
		}
	}},
	{"ticketevolution", "GET", "/v9/clients/100000/phone_numbers", "", func(key string) map[string]string {
		return map[string]string{"X-Token": key}
	}, func(t *testing.T, b []byte) {
		var e struct{ Error string }
		if err := json.Unmarshal(b, &e); err != nil || !strings.Contains(e.Error, "Too many requests") {
			t.Errorf("ticketevolution: want {\"error\": \"Too many requests...\"}, got %s", b)
		}
	}},
	{"rambase", "POST", "/collaboration/contacts/100000/phones", `<Phone><PhoneNumber>5045550123</PhoneNumber></Phone>`, func(key string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + key, "Content-Type": "application/xml"}
	}, func(t *testing.T, b []byte) {
		var e struct {
			XMLName xml.Name `xml:"Error"`
			Code    int      `xml:"Code"`
		}
		if err := xml.Unmarshal(b, &e); err != nil || e.Code != 109033 {
			t.Errorf("rambase: want <Error><Code>109033, got %s", b)
		}
	}},
	{"relay", "PUT", "/platform/v3/api/cdm/client/default/customer/c1/add_phone/5045550123", `{}`, func(key string) map[string]string {
		return map[string]string{"xx-relay-api-key": key, "Content-Type": "application/json"}
	}, func(t *testing.T, b []byte) {
		var e struct{ Message string }
		if err := json.Unmarshal(b, &e); err != nil || !strings.Contains(e.Message, "too many requests") {
			t.Errorf("relay: want {\"message\": \"too many requests...\"}, got %s", b)
		}
	}},
	{"wasp", "POST", "/public-api/phones/customer/save", `[{"CustomerNumber":"c1","PhoneNumber":"5045550123","PhoneTypeName":"mobile"}]`, bearerHeader, func(t *testing.T, b []byte) {
		var e struct {
			Messages []struct{ ResultCode, HttpStatusCode int }
		}
		if err := json.Unmarshal(b, &e); err != nil || len(e.Messages) != 1 || e.Messages[0].ResultCode != -3003 || e.Messages[0].HttpStatusCode != 429 {
			t.Errorf("wasp: want Messages[0] ResultCode -3003, HttpStatusCode 429, got %s", b)
		}
	}},
}

// guardDo sends one request of door d with key from client address xff
// (X-Forwarded-For; the test's peer is 127.0.0.1).
func guardDo(t *testing.T, base string, d guardDoor, key, xff string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(d.method, base+d.path, strings.NewReader(d.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range d.header(key) {
		req.Header.Set(k, v)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", d.method, d.path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func wantRetryAfter(t *testing.T, what string, res *http.Response) {
	t.Helper()
	if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("%s: Retry-After %q, want 1-60 seconds", what, res.Header.Get("Retry-After"))
	}
}

// TestAuthFailuresLimitEveryDoor guesses keys on /v1, each dialect (with
// its own credential header) and the console's sign-in form, each from its
// own client address behind a trusted proxy: N wrong keys answer 401, the
// next 429 with Retry-After in the door's own error shape, and so does the
// correct key; other addresses are not affected.
func TestAuthFailuresLimitEveryDoor(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "phonebook.db")
	const n = 3
	s := startServer(t, mapEnv(envBootstrapKey, guardKey, envAuthFailures, strconv.Itoa(n), envTrustedProxies, "127.0.0.1"),
		"--addr", "127.0.0.1:0", "--db", db)
	for i, d := range guardDoors {
		t.Run(d.name, func(t *testing.T) {
			addr := fmt.Sprintf("198.51.100.%d", i+1)
			for j := 0; j < n; j++ {
				if res, b := guardDo(t, s.url, d, "pb_wrong_key_"+strconv.Itoa(j), addr); res.StatusCode != http.StatusUnauthorized {
					t.Fatalf("wrong key %d: got %d, want 401: %s", j, res.StatusCode, b)
				}
			}
			for _, key := range []string{"pb_wrong_key_again", guardKey} {
				res, b := guardDo(t, s.url, d, key, addr)
				want := http.StatusTooManyRequests
				if s, ok := guardLimitedStatus[d.name]; ok {
					want = s
				}
				if res.StatusCode != want {
					t.Fatalf("over the limit: got %d, want %d: %s", res.StatusCode, want, b)
				}
				wantRetryAfter(t, d.name, res)
				d.limited(t, b)
			}
			// The correct key from another address is served as usual.
			if res, b := guardDo(t, s.url, d, guardKey, fmt.Sprintf("203.0.113.%d", i+1)); res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusTooManyRequests {
				t.Errorf("correct key from another address: got %d: %s", res.StatusCode, b)
			}
		})
	}
	t.Run("console", func(t *testing.T) {
		const addr = "198.51.100.99"
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		login := func(key string) (*http.Response, string) {
			res, err := c.Get(s.url + "/console/login")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(res.Body)
			res.Body.Close()
			m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
			if m == nil {
				t.Fatalf("no CSRF token on the sign-in page")
			}
			form := url.Values{"key": {key}, "csrf": {string(m[1])}}
			req, _ := http.NewRequest("POST", s.url+"/console/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", addr)
			res, err = c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res, string(b)
		}
		for j := 0; j < n; j++ {
			if res, _ := login("pb_wrong_key"); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("wrong key %d: got %d, want 401", j, res.StatusCode)
			}
		}
		for _, key := range []string{"pb_wrong_key", guardKey} {
			res, page := login(key)
			if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "Too many failed sign-ins") {
				t.Fatalf("sign-in over the limit: got %d, want 429 and the reason", res.StatusCode)
			}
			wantRetryAfter(t, "console", res)
		}
	})
}

// TestAuthFailuresWithoutTrustedProxy: X-Forwarded-For from a peer that
// is not a trusted proxy changes nothing (the limit holds however the
// attacker fills it in), and 0 turns the limit off.
func TestAuthFailuresWithoutTrustedProxy(t *testing.T) {
	t.Parallel()
	v1 := guardDoors[0]
	s := startServer(t, mapEnv(envBootstrapKey, guardKey, envAuthFailures, "2"),
		"--addr", "127.0.0.1:0", "--db", "sqlite:"+filepath.Join(t.TempDir(), "phonebook.db"))
	for j := 0; j < 2; j++ {
		if res, _ := guardDo(t, s.url, v1, "pb_wrong_key", fmt.Sprintf("192.0.2.%d", j)); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong key %d: got %d, want 401", j, res.StatusCode)
		}
	}
	res, _ := guardDo(t, s.url, v1, "pb_wrong_key", "192.0.2.77")
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a spoofed X-Forwarded-For escaped the limit: got %d, want 429", res.StatusCode)
	}
	wantRetryAfter(t, "v1", res)

	off := startServer(t, mapEnv(envBootstrapKey, guardKey, envAuthFailures, "0"),
		"--addr", "127.0.0.1:0", "--db", "sqlite:"+filepath.Join(t.TempDir(), "phonebook.db"))
	for j := 0; j < 40; j++ {
		if res, _ := guardDo(t, off.url, v1, "pb_wrong_key", ""); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("limit off, wrong key %d: got %d, want 401", j, res.StatusCode)
		}
	}
}

// TestServeRefusesBadGuardSettings: a short bootstrap key, a malformed
// trusted proxy and a bad limit stop serve with a clear error.
func TestServeRefusesBadGuardSettings(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "phonebook.db")
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"bootstrap key of 23 characters", []string{envBootstrapKey, strings.Repeat("k", 23)}, nil, "at least 24 characters"},
		{"bad trusted proxy", []string{envTrustedProxies, "10.0.0.0/8,proxy.internal"}, nil, `trusted proxy "proxy.internal"`},
		{"bad trusted proxy flag", nil, []string{"--trusted-proxies", "10.0.0.0/99"}, `trusted proxy "10.0.0.0/99"`},
		{"negative limit", []string{envAuthFailures, "-1"}, nil, envAuthFailures},
		{"limit not a number", nil, []string{"--auth-failures-per-minute", "many"}, envAuthFailures},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, tc.args...)
			_, stderr, err := runCLI(t, mapEnv(tc.env...), args...)
			if err == nil || !strings.Contains(stderr, tc.want) {
				t.Errorf("serve: err %v, stderr %q; want an error saying %q", err, stderr, tc.want)
			}
		})
	}
	// 24 characters are enough.
	s := startServer(t, mapEnv(envBootstrapKey, strings.Repeat("k", 24)), "--addr", "127.0.0.1:0", "--db", db)
	if status, _, _ := get(t, s.url+"/healthz"); status != http.StatusOK {
		t.Errorf("serve with a 24-character bootstrap key: /healthz %d", status)
	}
}
