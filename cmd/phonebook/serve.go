package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/events"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/web/console"
)

// HTTP server limits: slow or oversized clients cannot hold connections.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	// shutdownTimeout bounds the drain of in-flight requests on SIGTERM.
	shutdownTimeout = 10 * time.Second
	// defaultMemoryLimit is the soft limit of the Go heap of serve.
	defaultMemoryLimit = 64 << 20
)

// serve opens and migrates the store, creates the default tenant and its
// admin key on an empty store, and serves HTTP until ctx is cancelled
// (SIGINT, SIGTERM); then it drains requests and closes the store. Next to
// HTTP it delivers webhooks and, with --nats, publishes events to NATS.
func (c *cli) serve(ctx context.Context, args []string) error {
	fs := c.newFlagSet("serve", "serve [--addr HOST:PORT] [--db URL] [--nats URL] [--public-url URL]")
	addrFlag := fs.String("addr", "", "listen `address` (env "+envAddr+", default "+defaultAddr+"); port 0 picks a free port")
	dbFlag := dbFlag(fs)
	natsFlag := fs.String("nats", "", "also publish events to NATS JetStream at `URL` (nats://host:4222; env "+envNATSURL+")")
	hookFlags := webhookFlags(fs)
	publicURLFlag := fs.String("public-url", "", "the `URL` clients reach this server at (env "+envPublicURL+"); https://... makes the console's cookies Secure")
	proxiesFlag := fs.String("trusted-proxies", "", "comma-separated `CIDRs` or IPs of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (env "+envTrustedProxies+")")
	failuresFlag := fs.String("auth-failures-per-minute", "", "failed authentications a client address may make per `minute` before 429 (env "+envAuthFailures+", default 30, 0 = off)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf(fs, "serve takes no arguments, got %q", pos[0])
	}
	if c.webhooks, err = c.webhookPolicy(fs, hookFlags); err != nil {
		return err
	}
	addr := c.orEnv(*addrFlag, envAddr, defaultAddr)
	dbURL := c.orEnv(*dbFlag, envDB, defaultDB)
	natsURL := c.orEnv(*natsFlag, envNATSURL, "")
	if err := checkNATSURL(natsURL); err != nil {
		return usageErrorf(fs, "%v", err)
	}
	publicURL := c.orEnv(*publicURLFlag, envPublicURL, "")
	if err := checkPublicURL(publicURL); err != nil {
		return usageErrorf(fs, "%v", err)
	}
	if err := checkBootstrapKey(c.getenv(envBootstrapKey)); err != nil {
		return err
	}
	g, err := c.newGuard(*proxiesFlag, *failuresFlag)
	if err != nil {
		return err
	}

	if c.getenv("GOMEMLIMIT") == "" {
		// A soft limit on the Go heap: with GOGC's default the heap may grow
		// to twice what is live, and 32 clients with a 500-record batch each
		// in flight made that the largest part of the server's memory. Near
		// the limit the collector runs more often instead. GOMEMLIMIT (read
		// by the Go runtime itself) overrides it.
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	c.log.Info("starting", "version", buildVersion())
	store, err := openStore(ctx, dbURL)
	if err != nil {
		return err
	}
	copts, err := c.consoleOptions(publicURL, dbURL)
	if err == nil {
		err = c.serveStore(ctx, addr, natsURL, dbURL, copts, store, g)
	}
	if cerr := store.Close(); cerr != nil {
		c.log.Error("closing the store", "err", cerr)
		err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
	}
	if err == nil {
		c.log.Info("stopped")
	}
	return err
}

// serveStore runs the server on an open store; the caller closes it. The
// outbox workers (webhooks, NATS) have stopped when it returns.
func (c *cli) serveStore(ctx context.Context, addr, natsURL, dbURL string, copts console.Options, store phonebook.Store, g *guard) error {
	svc, err := c.newService(store, dbURL, true)
	if err != nil {
		return err
	}
	svc.SetWebhookPolicy(c.webhooks)
	if c.webhooks.AllowPrivate {
		c.log.Info("webhooks may reach loopback and private addresses", envWebhookAllowPrivate, true)
	}
	created, key, secret, err := svc.Bootstrap(ctx, c.getenv(envBootstrapKey))
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if created {
		// The secret goes to stdout once, never to the log.
		fmt.Fprintf(c.stdout, "Created tenant %q and an admin API key (shown once, store it now):\n  %s\n", phonebook.DefaultTenantSlug, secret)
		c.log.Info("bootstrapped an empty store", "tenant", phonebook.DefaultTenantSlug, "key_id", key.ID)
	} else if c.getenv(envBootstrapKey) != "" {
		c.log.Info(envBootstrapKey + " ignored: the store already has tenants")
	}

	rl, err := c.rateLimit()
	if err != nil {
		return err
	}
	workers, err := c.webhookWorkers()
	if err != nil {
		return err
	}
	var pub *events.Publisher
	if natsURL != "" {
		pub = events.NewPublisher(c.log.With("component", "nats"), svc, natsURL, events.PublisherOptions{
			Stream: c.getenv(envNATSStream), SubjectPrefix: c.getenv(envNATSSubjectPrefix),
		})
		// Before the first request: every change from now on is queued for
		// NATS, even while NATS is down.
		if err := pub.Register(ctx); err != nil {
			return fmt.Errorf("nats: %w", err)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           httpapi.NewServer(c.log, svc, g.apiOptions(httpapi.Options{Dialects: dialects(c.log, svc, g.consoleOptions(copts)), RateLimit: rl})),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(c.log.Handler(), slog.LevelWarn),
	}
	// The outbox workers run until shutdown; serveStore waits for them, so
	// they are done before the caller closes the store.
	bgCtx, stopBG := context.WithCancel(ctx)
	var bg sync.WaitGroup
	defer func() {
		stopBG()
		bg.Wait()
	}()
	if workers > 0 {
		deliverer := events.NewDeliverer(c.log.With("component", "webhooks"), svc, events.DelivererOptions{Workers: workers})
		bg.Go(func() {
			if err := deliverer.Run(bgCtx); err != nil {
				c.log.Error("webhook delivery stopped", "err", err)
			}
		})
	} else {
		c.log.Info("webhook delivery is off on this node", envWebhookWorkers, 0)
	}
	if pub != nil {
		bg.Go(func() {
			if err := pub.Run(bgCtx); err != nil {
				c.log.Error("nats publishing stopped; events stay queued", "err", err)
			}
		})
	}
	if pa := c.getenv(envPprofAddr); pa != "" {
		if err := c.servePprof(bgCtx, &bg, pa); err != nil {
			return err
		}
	}
	c.log.Info("listening", "addr", ln.Addr().String())
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr: // Serve never returns nil
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	c.log.Info("shutting down", "drain_timeout", shutdownTimeout.String())
	// A fresh context: ctx is already cancelled, the drain gets its own time.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		<-serveErr
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// servePprof serves net/http/pprof on its own listener until ctx ends. It
// is off unless PHONEBOOK_PPROF_ADDR is set, and never on the API's address:
// profiles show internals that API clients must not reach.
func (c *cli) servePprof(ctx context.Context, bg *sync.WaitGroup, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: listen: %w", envPprofAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout}
	c.log.Info("pprof listening", "addr", ln.Addr().String())
	bg.Go(func() { _ = srv.Serve(ln) })
	bg.Go(func() {
		<-ctx.Done()
		_ = srv.Close()
	})
	return nil
}

// webhookWorkers reads PHONEBOOK_WEBHOOK_WORKERS: webhook requests in
// flight at once on this node (default 4; 0 leaves delivery to the other
// nodes).
func (c *cli) webhookWorkers() (int, error) {
	v := c.getenv(envWebhookWorkers)
	if v == "" {
		return 4, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1000 {
		return 0, fmt.Errorf("%s: want a number of workers from 0 (off) to 1000, got %q", envWebhookWorkers, v)
	}
	return n, nil
}

// webhookFlagValues are serve's webhook destination flags.
type webhookFlagValues struct {
	allowPrivate, requireHTTPS *bool
	maxPerTenant               *int
}

// webhookFlags adds the webhook destination flags to fs.
func webhookFlags(fs *flag.FlagSet) webhookFlagValues {
	return webhookFlagValues{
		allowPrivate: fs.Bool("webhook-allow-private", false, "let webhooks reach loopback, private (RFC 1918, fc00::/7) and carrier-grade NAT addresses, for an on-premise receiver (env "+envWebhookAllowPrivate+")"),
		requireHTTPS: fs.Bool("webhook-require-https", false, "refuse http:// webhooks (env "+envWebhookRequireHTTPS+")"),
		maxPerTenant: fs.Int("webhook-max-per-tenant", 0, "most webhooks one tenant may have (env "+envWebhookMaxPerTenant+", default "+strconv.Itoa(phonebook.DefaultMaxWebhooksPerTenant)+")"),
	}
}

// webhookPolicy reads the webhook destination settings: a flag given on
// the command line wins over its environment variable.
func (c *cli) webhookPolicy(fs *flag.FlagSet, f webhookFlagValues) (phonebook.WebhookPolicy, error) {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	// A name that resolves inside already is refused at create time too.
	p := phonebook.WebhookPolicy{Resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}}
	var err error
	if p.AllowPrivate, err = c.envBool(envWebhookAllowPrivate, *f.allowPrivate, set["webhook-allow-private"]); err != nil {
		return p, err
	}
	if p.RequireHTTPS, err = c.envBool(envWebhookRequireHTTPS, *f.requireHTTPS, set["webhook-require-https"]); err != nil {
		return p, err
	}
	p.MaxPerTenant = phonebook.DefaultMaxWebhooksPerTenant
	switch v := c.getenv(envWebhookMaxPerTenant); {
	case set["webhook-max-per-tenant"]:
		p.MaxPerTenant = *f.maxPerTenant
		if p.MaxPerTenant < 1 || p.MaxPerTenant > maxWebhooksPerTenant {
			return p, usageErrorf(fs, "--webhook-max-per-tenant: want a number of webhooks from 1 to %d, got %d", maxWebhooksPerTenant, p.MaxPerTenant)
		}
	case v != "":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxWebhooksPerTenant {
			return p, fmt.Errorf("%s: want a number of webhooks from 1 to %d, got %q", envWebhookMaxPerTenant, maxWebhooksPerTenant, v)
		}
		p.MaxPerTenant = n
	}
	return p, nil
}

// maxWebhooksPerTenant bounds the per-tenant setting: every change is
// queued for every webhook of its tenant, in its transaction.
const maxWebhooksPerTenant = 1000

// envBool is a boolean setting: the flag's value when given, else the
// environment variable key, read strictly (true, false, 1 or 0: a typo
// must not silently leave a security setting at its default).
func (c *cli) envBool(key string, flagValue, flagSet bool) (bool, error) {
	if flagSet {
		return flagValue, nil
	}
	switch v := c.getenv(key); v {
	case "":
		return false, nil
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	default:
		return false, fmt.Errorf("%s: want true or false (or 1 or 0), got %q", key, v)
	}
}

// checkNATSURL rejects a NATS URL that can never connect; empty means no
// NATS. Errors never repeat the URL, which may hold a password.
func checkNATSURL(s string) error {
	if s == "" {
		return nil
	}
	for _, one := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil || u.Host == "" {
			return errors.New("--nats: want nats://host:port (several separated by commas)")
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("--nats: unsupported scheme %q (want nats://, tls://, ws:// or wss://)", u.Scheme)
		}
	}
	return nil
}

// consoleOptions configures the web console of serve: the server key that
// seals its session cookies and signs its forms (so they are good on every
// node sharing it, and across restarts), and Secure cookies when clients
// reach the server over https (publicURL; over TLS served here they always
// are).
func (c *cli) consoleOptions(publicURL, dbURL string) (console.Options, error) {
	key, err := c.secretKey(dbURL)
	if err != nil {
		return console.Options{}, err
	}
	return console.Options{
		SecretKey:     key,
		SecureCookies: strings.HasPrefix(strings.ToLower(publicURL), "https://"),
	}, nil
}

// checkPublicURL rejects a public URL that is not an absolute http(s) URL
// of a host; empty means not configured.
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("--public-url: want the URL clients reach the server at, such as https://phonebook.example.com")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("--public-url: unsupported scheme %q (want https:// or http://)", u.Scheme)
	}
	return nil
}

// rateLimit reads the per-key rate limit from PHONEBOOK_RATE_LIMIT
// (requests per second, 0 turns it off) and PHONEBOOK_RATE_BURST.
func (c *cli) rateLimit() (*httpapi.RateLimit, error) {
	rl := httpapi.DefaultRateLimit
	if v := c.getenv(envRateLimit); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s: want requests per second (0 turns limiting off), got %q", envRateLimit, v)
		}
		rl.Rate = f
	}
	if v := c.getenv(envRateBurst); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: want a positive number of requests, got %q", envRateBurst, v)
		}
		rl.Burst = n
	}
	return &rl, nil
}
