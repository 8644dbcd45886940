// Package authlimit holds the two limits every door of phonebook shares
// (the native API, each dialect and the web console): Failures, the failed
// authentications a client address may make before it is refused without
// its key being looked up, and Keys, the request rate of each API key.
// Each node keeps its own counts, so N nodes allow N times the rates.
package authlimit

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultFailuresPerMinute is PHONEBOOK_AUTH_FAILURES_PER_MINUTE's default.
const DefaultFailuresPerMinute = 30

// DefaultMaxAddresses bounds the table of client addresses with recent
// failures (about 100 bytes each).
const DefaultMaxAddresses = 1 << 16

// Failures counts failed authentications per client address in a token
// bucket: perMinute failures in a burst, then one more every 60/perMinute
// seconds. An address whose bucket is empty is refused (429) until a
// failure's worth has refilled, whatever key it sends: a guesser that found
// a valid key while refused learns nothing from the answer. IPv6 addresses
// count per /64, which is what one subscriber usually gets. A nil
// *Failures limits nothing.
type Failures struct {
	perMinute float64
	max       int
	now       func() time.Time

	mu      sync.Mutex
	buckets map[netip.Prefix]*failBucket
	swept   time.Time
}

type failBucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

// FailuresOptions tune NewFailures; zero values take the defaults.
type FailuresOptions struct {
	// MaxAddresses bounds the table; DefaultMaxAddresses when 0.
	MaxAddresses int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// NewFailures returns a limit of perMinute failed authentications per
// client address; nil (no limit) when perMinute is 0 or less.
func NewFailures(perMinute int, opts FailuresOptions) *Failures {
	if perMinute <= 0 {
		return nil
	}
	if opts.MaxAddresses <= 0 {
		opts.MaxAddresses = DefaultMaxAddresses
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Failures{perMinute: float64(perMinute), max: opts.MaxAddresses, now: opts.Now,
		buckets: map[netip.Prefix]*failBucket{}, swept: opts.Now()}
}

// group is the bucket a client address counts in.
func group(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := a.BitLen()
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	if err != nil { // the zero Addr: requests without a parsable peer share one bucket
		return netip.Prefix{}
	}
	return p
}

// refill brings b up to date at now.
func (f *Failures) refill(b *failBucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(f.perMinute, b.tokens+d.Minutes()*f.perMinute)
	}
	b.at = now
}

// Blocked reports whether a has used up its failures; retryAfter is how
// long until it may try again (whole seconds, at least one).
func (f *Failures) Blocked(a netip.Addr) (retryAfter time.Duration, blocked bool) {
	if f == nil {
		return 0, false
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buckets[group(a)]
	if b == nil {
		return 0, false
	}
	f.refill(b, now)
	if b.tokens >= 1 {
		return 0, false
	}
	secs := math.Ceil((1 - b.tokens) * 60 / f.perMinute)
	return time.Duration(max(1, secs)) * time.Second, true
}

// Fail counts one failed authentication of a.
func (f *Failures) Fail(a netip.Addr) {
	if f == nil {
		return
	}
	now := f.now()
	g := group(a)
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buckets[g]
	if b == nil {
		if len(f.buckets) >= f.max || now.Sub(f.swept) > time.Minute {
			f.sweep(now)
		}
		b = &failBucket{tokens: f.perMinute, at: now}
		f.buckets[g] = b
	}
	f.refill(b, now)
	b.tokens = max(0, b.tokens-1)
}

// sweep drops the buckets that have refilled (they are as good as absent)
// and, when the table is still full (failures from more addresses than it
// holds, within a minute), arbitrary others: the table stays bounded, at
// the price of forgetting some addresses early.
func (f *Failures) sweep(now time.Time) {
	for g, b := range f.buckets {
		f.refill(b, now)
		if b.tokens >= f.perMinute {
			delete(f.buckets, g)
		}
	}
	for g := range f.buckets {
		if len(f.buckets) < f.max {
			break
		}
		delete(f.buckets, g)
	}
	f.swept = now
}

// Len is the number of addresses tracked (for tests and metrics).
func (f *Failures) Len() int {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.buckets)
}

// Keys is the per-key token bucket: Rate requests per second on average,
// bursts of up to Burst. A nil *Keys, or a zero Rate, limits nothing.
type Keys struct {
	rate  float64
	burst int

	mu      sync.Mutex
	buckets map[int64]*keyBucket
	swept   time.Time
}

type keyBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewKeys returns a per-key limit of r requests per second with bursts of
// burst.
func NewKeys(r float64, burst int) *Keys {
	return &Keys{rate: r, burst: burst, buckets: map[int64]*keyBucket{}, swept: time.Now()}
}

// Allow takes a token for key and sets the RateLimit-* headers in h; it
// reports false (and sets Retry-After) when the bucket is empty.
func (l *Keys) Allow(h http.Header, key int64) bool {
	if l == nil || l.rate <= 0 {
		return true
	}
	now := time.Now()
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		b = &keyBucket{lim: rate.NewLimiter(rate.Limit(l.rate), l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	if now.Sub(l.swept) > time.Minute {
		// Buckets of keys idle for a while are full again anyway: drop them.
		for k, o := range l.buckets {
			if now.Sub(o.seen) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	l.mu.Unlock()

	ok := b.lim.AllowN(now, 1)
	tokens := b.lim.TokensAt(now)
	h.Set("RateLimit-Limit", strconv.Itoa(l.burst))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(0, int(math.Floor(tokens)))))
	// Seconds until the bucket is full again.
	full := (float64(l.burst) - tokens) / l.rate
	h.Set("RateLimit-Reset", strconv.Itoa(int(math.Ceil(max(0, full)))))
	if !ok {
		wait := math.Ceil((1 - tokens) / l.rate)
		h.Set("Retry-After", strconv.Itoa(max(1, int(wait))))
	}
	return ok
}
