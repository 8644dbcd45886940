package main

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one request of a scenario, made by worker w. The engine times it
// whole, less what w.Untimed spent.
type Op func(ctx context.Context, w *Worker) error

// Worker is one of the concurrent loops of a run. Each has its own random
// source (seeded from the run's seed and its ID) and its own latency slice,
// so workers share nothing while they run.
type Worker struct {
	ID   int
	Rand *rand.Rand
	// State is the scenario's own per-worker data.
	State any

	untimed   time.Duration
	made      int64 // requests of the current phase
	cancelled int64 // requests of the current phase cut short
	lat       []time.Duration
	errs      map[string]int64
	samples   map[string]string
}

// Untimed runs f (preparation the request needs, such as making a fresh
// customer) and leaves its time out of the current request's latency.
func (w *Worker) Untimed(f func() error) error {
	start := time.Now()
	err := f()
	w.untimed += time.Since(start)
	return err
}

// Config is how a run drives its Op.
type Config struct {
	Concurrency int           // workers
	Duration    time.Duration // measured time, when Requests is 0
	Requests    int64         // measured requests in all, when > 0
	Warmup      time.Duration // time run first and not measured
	Seed        uint64        // of the workers' random sources
	// Classify names the kind of a failed request ("409 phone_duplicate");
	// nil uses the error's message.
	Classify func(error) string
}

// Stats is what the measured part of a run did.
type Stats struct {
	Requests     int64             // requests made, failed ones included
	Errors       int64             // of which failed
	ErrorsByKind map[string]int64  // failures by Classify
	ErrorSamples map[string]string // the first message of each kind
	Elapsed      time.Duration     // wall time of the measured part
	Cancelled    int64             // requests in flight when the time was up: cancelled, not counted
	Latencies    []time.Duration   // of every request, sorted
	Interrupted  bool              // the context ended the run early
}

// RPS is requests per second of wall time.
func (s *Stats) RPS() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Requests) / s.Elapsed.Seconds()
}

// Percentile returns the p-th percentile (0 < p <= 100) of the latencies.
func (s *Stats) Percentile(p float64) time.Duration { return Percentile(s.Latencies, p) }

// Max returns the longest latency.
func (s *Stats) Max() time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	return s.Latencies[len(s.Latencies)-1]
}

// Percentile returns the p-th percentile of sorted by the nearest-rank
// method: the smallest value with at least p % of the values at or below
// it (p <= 0 gives the smallest, p >= 100 the largest, no values 0).
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// less a hair, so that float error does not push 99.9 % of 1000 past 999
	rank := int(math.Ceil(p*float64(n)/100 - 1e-9))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// Run drives op with cfg.Concurrency workers: first for cfg.Warmup without
// measuring, then for cfg.Duration (or until cfg.Requests requests were
// made) measuring every request. When the time is up, the requests still
// in flight are cancelled and not counted (Stats.Cancelled says how many),
// so the measured window is the duration asked for. A cancelled ctx stops
// the run at once, and what was measured so far comes back with
// Interrupted set.
func Run(ctx context.Context, cfg Config, op Op) (*Stats, error) {
	if cfg.Concurrency < 1 {
		return nil, errors.New("concurrency must be at least 1")
	}
	if cfg.Requests <= 0 && cfg.Duration <= 0 {
		return nil, errors.New("give a duration or a number of requests")
	}
	workers := make([]*Worker, cfg.Concurrency)
	for i := range workers {
		workers[i] = &Worker{ID: i, Rand: rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1))}
	}
	// Each worker's latency slice is allocated before the measured part:
	// the count's share, or an estimate from the warmup's rate.
	capacity := 1024
	if cfg.Warmup > 0 {
		n, _ := phase(ctx, workers, op, cfg.Warmup, 0, nil)
		if ctx.Err() != nil {
			return &Stats{Interrupted: true, ErrorsByKind: map[string]int64{}, ErrorSamples: map[string]string{}}, nil
		}
		if cfg.Requests <= 0 {
			perWorker := float64(n) / float64(cfg.Concurrency) * cfg.Duration.Seconds() / cfg.Warmup.Seconds()
			capacity = max(capacity, int(math.Min(perWorker*1.25, 1<<24)))
		}
	}
	if cfg.Requests > 0 {
		capacity = int(min(cfg.Requests/int64(cfg.Concurrency)+1, 1<<24))
	}
	for _, w := range workers {
		w.lat = make([]time.Duration, 0, capacity)
		w.errs = map[string]int64{}
		w.samples = map[string]string{}
	}
	classify := cfg.Classify
	if classify == nil {
		classify = func(err error) string { return err.Error() }
	}
	_, elapsed := phase(ctx, workers, op, cfg.Duration, cfg.Requests, classify)
	st := &Stats{Elapsed: elapsed, ErrorsByKind: map[string]int64{}, ErrorSamples: map[string]string{}, Interrupted: ctx.Err() != nil}
	total := 0
	for _, w := range workers {
		total += len(w.lat)
		st.Cancelled += w.cancelled
	}
	st.Latencies = make([]time.Duration, 0, total)
	for _, w := range workers {
		st.Latencies = append(st.Latencies, w.lat...)
		for k, n := range w.errs {
			st.ErrorsByKind[k] += n
			st.Errors += n
			if _, ok := st.ErrorSamples[k]; !ok {
				st.ErrorSamples[k] = w.samples[k]
			}
		}
	}
	slices.Sort(st.Latencies)
	st.Requests = int64(len(st.Latencies))
	return st, nil
}

// phase runs every worker until d has passed (count == 0) or count
// requests were started, and returns how many requests were made and the
// time the phase measured: up to the deadline, or until the last request
// ended. With a nil classify nothing is recorded (warmup).
func phase(ctx context.Context, workers []*Worker, op Op, d time.Duration, count int64, classify func(error) string) (int64, time.Duration) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	var end atomic.Int64 // nanoseconds after start when the time was up
	if count <= 0 {
		t := time.AfterFunc(d, func() {
			end.Store(int64(time.Since(start)))
			cancel()
		})
		defer t.Stop()
	}
	var started atomic.Int64
	var wg sync.WaitGroup
	for _, w := range workers {
		w.made, w.cancelled = 0, 0
		wg.Go(func() {
			for runCtx.Err() == nil {
				if count > 0 && started.Add(1) > count {
					return
				}
				w.untimed = 0
				t0 := time.Now()
				err := op(runCtx, w)
				lat := time.Since(t0) - w.untimed
				if err != nil && runCtx.Err() != nil {
					w.cancelled++ // cut short by the deadline or the caller: not a sample
					return
				}
				w.made++
				if classify == nil {
					continue
				}
				w.lat = append(w.lat, lat)
				if err != nil {
					k := classify(err)
					if w.errs[k] == 0 {
						w.samples[k] = err.Error()
					}
					w.errs[k]++
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if e := end.Load(); e > 0 && ctx.Err() == nil {
		elapsed = time.Duration(e)
	}
	var n int64
	for _, w := range workers {
		n += w.made
	}
	return n, elapsed
}
