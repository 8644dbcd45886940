package httpapi

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/phonebook/phonebook"
)

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// DefaultProbeInterval is how often /readyz tries a write at most: a
// healthy store is probed every 5 s, a failing one every second, so a node
// comes back soon after its disk has room again.
const DefaultProbeInterval = 5 * time.Second

// writeProber is a store that can tell whether it can still write
// (store/sqlite: a heartbeat row and the free disk space; store/postgres:
// a heartbeat row).
type writeProber interface {
	ProbeWrite(ctx context.Context) error
}

// readiness caches the write probe: every /readyz pings the store (cheap),
// but a write is tried at most once per interval, and concurrent callers
// wait for one probe instead of each running their own.
type readiness struct {
	probe writeProber // nil: the store cannot be probed; ping only
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	at   time.Time
	last error
}

func newReadiness(store phonebook.Store, every time.Duration) *readiness {
	p, _ := store.(writeProber)
	if every <= 0 {
		every = DefaultProbeInterval
	}
	return &readiness{probe: p, every: every, now: time.Now}
}

// writable returns the result of the latest write probe, probing again
// when it is older than its interval.
func (rd *readiness) writable(ctx context.Context) error {
	if rd.probe == nil {
		return nil
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	every := rd.every
	if rd.last != nil {
		every /= 5
	}
	if !rd.at.IsZero() && rd.now().Sub(rd.at) < every {
		return rd.last
	}
	rd.last = rd.probe.ProbeWrite(ctx)
	rd.at = rd.now()
	return rd.last
}

// handleReadyz reports whether the store answers and can write: a load
// balancer takes a node out while its database is unreachable or full.
func (s *Server) handleReadyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		err := s.svc.Store().Ping(ctx)
		if err != nil {
			loggerFrom(r.Context()).Warn("store ping failed", "err", err.Error())
		} else if err = s.ready.writable(ctx); err != nil {
			loggerFrom(r.Context()).Warn("store cannot write", "err", err.Error())
		}
		if err != nil {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
