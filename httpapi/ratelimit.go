package httpapi

import "github.com/phonebook/phonebook/authlimit"

// RateLimit is the per-key token bucket: Rate requests per second on
// average, bursts of up to Burst. A zero Rate turns limiting off. Each
// node keeps its own buckets, so N nodes allow N times the rate.
type RateLimit struct {
	Rate  float64
	Burst int
}

// DefaultRateLimit is generous: it stops a runaway client, not a busy one.
var DefaultRateLimit = RateLimit{Rate: 1000, Burst: 2000}

// NewKeyLimit returns the per-key limiter of rl, to share between the
// Server (Options.Keys) and the web console, so a key's pages and its API
// calls draw on one bucket.
func NewKeyLimit(rl RateLimit) *authlimit.Keys { return authlimit.NewKeys(rl.Rate, rl.Burst) }
