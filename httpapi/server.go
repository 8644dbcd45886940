// Package httpapi is phonebook's native REST API (/v1) on net/http, with
// the health, metrics and documentation routes, and the mount point of the
// vendor dialects.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/authlimit"
	"github.com/phonebook/phonebook/clientaddr"
	"github.com/phonebook/phonebook/dialect"
)

// Options configure a Server.
type Options struct {
	// Dialects are mounted next to /v1: each adds its vendor's routes.
	Dialects []Dialect
	// Registry collects the metrics served at /metrics; a new one when nil.
	Registry *prometheus.Registry
	// RateLimit is the per-key limit; nil means DefaultRateLimit, a zero
	// Rate turns it off.
	RateLimit *RateLimit
	// Keys is the per-key limiter, shared with the web console so its
	// pages count against the same bucket; made from RateLimit when nil.
	Keys *authlimit.Keys
	// AuthFailures limits failed authentications per client address
	// (PHONEBOOK_AUTH_FAILURES_PER_MINUTE); nil limits nothing.
	AuthFailures *authlimit.Failures
	// ClientAddr finds the client's address behind trusted proxies; nil
	// takes the connection's peer.
	ClientAddr *clientaddr.Resolver
	// ProbeInterval is how often /readyz tries a write at most;
	// DefaultProbeInterval when 0. A failing store is tried again every
	// ProbeInterval/5.
	ProbeInterval time.Duration
}

// Dialect is a vendor wire format served on the same store and keys.
type Dialect = dialect.Dialect

// Route is one route of the router (see dialect.Route).
type Route = dialect.Route

// Server is the HTTP API.
type Server struct {
	log      *slog.Logger
	svc      *phonebook.Service
	mux      *http.ServeMux
	routes   []Route
	metrics  *metrics
	registry *prometheus.Registry
	keys     *authlimit.Keys
	failures *authlimit.Failures
	clients  *clientaddr.Resolver
	ready    *readiness
}

// NewServer returns the whole HTTP API over svc.
func NewServer(log *slog.Logger, svc *phonebook.Service, opts Options) *Server {
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	rl := DefaultRateLimit
	if opts.RateLimit != nil {
		rl = *opts.RateLimit
	}
	keys := opts.Keys
	if keys == nil {
		keys = NewKeyLimit(rl)
	}
	s := &Server{log: log, svc: svc, mux: http.NewServeMux(), metrics: newMetrics(reg), registry: reg,
		keys: keys, failures: opts.AuthFailures, clients: opts.ClientAddr, ready: newReadiness(svc.Store(), opts.ProbeInterval)}
	s.routes = s.allRoutes(opts.Dialects)
	s.mount()
	return s
}

// Routes lists every route the router serves (for the OpenAPI comparison
// and the tenant isolation walk).
func (s *Server) Routes() []Route { return s.routes }

// ServeHTTP serves r.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// mount registers every route, wrapped in the common middleware, plus 405
// answers for known paths and a 404 for the rest, all as problem+json.
func (s *Server) mount() {
	methods := map[string][]string{}
	var order []string
	for _, rt := range s.routes {
		if _, ok := methods[rt.Pattern]; !ok {
			order = append(order, rt.Pattern)
		}
		methods[rt.Pattern] = append(methods[rt.Pattern], rt.Method)
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	for _, p := range order {
		allow := methods[p]
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", joinMethods(allow))
			writeError(w, r, httpError(codeMethodNotAllowed, "", fmt.Sprintf("%s is not allowed here", r.Method)))
		})
		s.mux.Handle(p, s.wrap(Route{Pattern: p, Public: true, Handler: h}))
	}
	if _, ok := methods["/"]; !ok {
		s.mux.Handle("/", s.wrap(Route{Pattern: "/", Public: true, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, r, phonebook.Errorf(phonebook.ECodeNotFound, "", "no such route"))
		})}))
	}
}

func joinMethods(ms []string) string {
	out := ""
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m] {
			continue
		}
		seen[m] = true
		if out != "" {
			out += ", "
		}
		out += m
		if m == http.MethodGet && !seen[http.MethodHead] {
			seen[http.MethodHead] = true
			out += ", HEAD"
		}
	}
	return out
}

// wrap adds, outside in: recovery, logging and metrics, the body cap,
// authentication and scope, and idempotency.
func (s *Server) wrap(rt Route) http.Handler {
	h := capBody(rt.Handler)
	if rt.Idempotent {
		h = s.idempotent(h)
	}
	if !rt.Public {
		h = checkUTF8(rt, h)
		h = s.authenticate(rt, h)
	}
	return s.observe(rt.Pattern, h)
}

// capBody caps request bodies at MaxBodyBytes on every route, dialects
// included; a handler reading past it gets *http.MaxBytesError and answers
// 413 in its own error shape.
func capBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// statusWriter records what a handler answered, for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
	code   string
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// setErrorCode records the error code on the response writer for the log.
func setErrorCode(w http.ResponseWriter, code string) {
	for {
		switch x := w.(type) {
		case *statusWriter:
			x.code = code
			return
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return
		}
	}
}

// observe logs one line per request (route pattern, never the URL: paths
// of some dialects carry phone numbers) and records metrics. It turns a
// panic into a 500.
func (s *Server) observe(pattern string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		reqID := r.Header.Get("X-Request-ID")
		if reqID == "" || len(reqID) > 64 || !safeID(reqID) {
			reqID = newRequestID()
		}
		w.Header().Set("X-Request-ID", reqID)
		log := s.log.With("request_id", reqID)
		info := &requestInfo{}
		ctx := context.WithValue(r.Context(), loggerKey{}, log)
		ctx = context.WithValue(ctx, infoKey{}, info)
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, r, phonebook.Errorf(phonebook.ECodeInternal, "", "internal error"))
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.observe(pattern, r.Method, status, d)
			attrs := []any{"method", r.Method, "route", pattern, "status", status,
				"duration_ms", float64(d.Microseconds()) / 1000, "bytes", sw.bytes}
			if info.tenant != "" {
				attrs = append(attrs, "tenant", info.tenant, "key_id", info.keyID)
			}
			if sw.code != "" {
				attrs = append(attrs, "code", sw.code)
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			log.Log(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

type infoKey struct{}

// requestInfo collects what the log line needs from inner layers.
type requestInfo struct {
	tenant string
	keyID  int64
}

func safeID(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// metrics are the Prometheus series of the HTTP API.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "phonebook_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "phonebook_http_request_duration_seconds", Help: "HTTP request latency by route pattern, method and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	st := strconv.Itoa(status)
	m.requests.WithLabelValues(route, method, st).Inc()
	m.latency.WithLabelValues(route, method, st).Observe(d.Seconds())
}
