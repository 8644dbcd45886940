package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is the per-key token bucket: Rate requests per second on
// average, bursts of up to Burst. A zero Rate turns limiting off. Each
// node keeps its own buckets, so N nodes allow N times the rate.
type RateLimit struct {
	Rate  float64
	Burst int
}

// DefaultRateLimit is generous: it stops a runaway client, not a busy one.
var DefaultRateLimit = RateLimit{Rate: 1000, Burst: 2000}

// limiter holds one bucket per API key.
type limiter struct {
	cfg     RateLimit
	mu      sync.Mutex
	buckets map[int64]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(cfg RateLimit) *limiter {
	return &limiter{cfg: cfg, buckets: map[int64]*bucket{}, swept: time.Now()}
}

// allow takes a token for key and sets the RateLimit-* headers; it reports
// false (and sets Retry-After) when the bucket is empty.
func (l *limiter) allow(w http.ResponseWriter, key int64) bool {
	if l == nil || l.cfg.Rate <= 0 {
		return true
	}
	now := time.Now()
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.cfg.Rate), l.cfg.Burst)}
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
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(l.cfg.Burst))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(0, int(math.Floor(tokens)))))
	// Seconds until the bucket is full again.
	full := (float64(l.cfg.Burst) - tokens) / l.cfg.Rate
	h.Set("RateLimit-Reset", strconv.Itoa(int(math.Ceil(max(0, full)))))
	if !ok {
		wait := math.Ceil((1 - tokens) / l.cfg.Rate)
		h.Set("Retry-After", strconv.Itoa(max(1, int(wait))))
	}
	return ok
}
