package authlimit_test

import (
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/phonebook/phonebook/authlimit"
)

// clock is a test clock moved by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestFailuresRefillAndRetryAfter(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	f := authlimit.NewFailures(30, authlimit.FailuresOptions{Now: c.now})
	a := netip.MustParseAddr("198.51.100.7")
	for i := 0; i < 30; i++ {
		if _, blocked := f.Blocked(a); blocked {
			t.Fatalf("failure %d: blocked before the limit", i)
		}
		f.Fail(a)
	}
	wait, blocked := f.Blocked(a)
	if !blocked || wait != 2*time.Second {
		t.Fatalf("after 30 failures: blocked %v, wait %v; want true, 2s (one failure per 2 s at 30/min)", blocked, wait)
	}
	c.t = c.t.Add(time.Second)
	if wait, blocked := f.Blocked(a); !blocked || wait != time.Second {
		t.Errorf("1 s later: blocked %v, wait %v; want true, 1s", blocked, wait)
	}
	c.t = c.t.Add(time.Second)
	if _, blocked := f.Blocked(a); blocked {
		t.Error("2 s later: still blocked, want one more try")
	}
	f.Fail(a)
	if _, blocked := f.Blocked(a); !blocked {
		t.Error("after the extra try failed: not blocked")
	}
	// A minute idle refills the whole bucket, and the sweep forgets it.
	c.t = c.t.Add(2 * time.Minute)
	f.Fail(netip.MustParseAddr("192.0.2.1")) // a new address triggers the sweep
	if got, want := f.Len(), 1; got != want {
		t.Errorf("tracked addresses after the sweep: got %d, want %d", got, want)
	}
}

func TestFailuresTableIsBounded(t *testing.T) {
	f := authlimit.NewFailures(5, authlimit.FailuresOptions{MaxAddresses: 100})
	for i := 0; i < 1000; i++ {
		f.Fail(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
		if f.Len() > 100 {
			t.Fatalf("after %d addresses: %d tracked, want at most 100", i+1, f.Len())
		}
	}
}

func TestNilLimitsNothing(t *testing.T) {
	var f *authlimit.Failures
	f.Fail(netip.MustParseAddr("192.0.2.1"))
	if _, blocked := f.Blocked(netip.MustParseAddr("192.0.2.1")); blocked {
		t.Error("nil Failures blocked")
	}
	var k *authlimit.Keys
	if !k.Allow(http.Header{}, 1) {
		t.Error("nil Keys refused")
	}
}

func TestKeysBucket(t *testing.T) {
	k := authlimit.NewKeys(0.5, 2)
	h := http.Header{}
	for i := 0; i < 2; i++ {
		if !k.Allow(h, 7) {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	h = http.Header{}
	if k.Allow(h, 7) {
		t.Fatal("third request allowed past the burst")
	}
	if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q", h.Get("Retry-After"))
	}
	if !k.Allow(http.Header{}, 8) {
		t.Error("another key shares the bucket")
	}
}
