package console_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/phonebook/phonebook/authlimit"
	"github.com/phonebook/phonebook/web/console"
)

// TestSignInFailuresAreLimited guesses keys at the sign-in form: after the
// limit, the form answers 429 with Retry-After before looking the key up,
// even for a correct key.
func TestSignInFailuresAreLimited(t *testing.T) {
	const n = 3
	e := newEnv(t, console.Options{AuthFailures: authlimit.NewFailures(n, authlimit.FailuresOptions{})})
	u := e.newUser(t)
	for i := 0; i < n; i++ {
		if res, _ := u.login("pb_wrong_"+strconv.Itoa(i), ""); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong key %d: status %d, want 401", i, res.StatusCode)
		}
	}
	for _, key := range []string{"pb_wrong_again", e.a.admin} {
		res, page := u.login(key, "")
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("sign-in over the limit: status %d, want 429", res.StatusCode)
		}
		if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
			t.Errorf("Retry-After %q, want 1-60 seconds", res.Header.Get("Retry-After"))
		}
		if !strings.Contains(page, "Too many failed sign-ins") {
			t.Errorf("the page does not say why:\n%s", page)
		}
		if u.cookie("pb_console") != nil {
			t.Fatal("signed in while limited")
		}
	}
}

// TestPagesShareTheKeyRateLimit gives the console the API's per-key
// limiter: a key's pages draw on its bucket like its API calls.
func TestPagesShareTheKeyRateLimit(t *testing.T) {
	keys := authlimit.NewKeys(0.01, 3)
	e := newEnv(t, console.Options{Keys: keys})
	u := e.signedIn(t, e.a.admin)
	for i := 0; i < 3; i++ {
		if res, _ := u.get("/console/search"); res.StatusCode != http.StatusOK {
			t.Fatalf("page %d: status %d, want 200", i, res.StatusCode)
		}
	}
	res, page := u.get("/console/search")
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("page over the key's rate: status %d, want 429", res.StatusCode)
	}
	if res.Header.Get("Retry-After") == "" || !strings.Contains(page, "Too many requests") {
		t.Errorf("429 page without Retry-After or reason: %q\n%s", res.Header.Get("Retry-After"), page)
	}
	// Another key has its own bucket.
	if res, _ := e.signedIn(t, e.a.write).get("/console/search"); res.StatusCode != http.StatusOK {
		t.Errorf("another key's page: status %d, want 200", res.StatusCode)
	}
}
