package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/httpapi"
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
)

// serve opens and migrates the store, creates the default tenant and its
// admin key on an empty store, and serves HTTP until ctx is cancelled
// (SIGINT, SIGTERM); then it drains requests and closes the store.
func (c *cli) serve(ctx context.Context, args []string) error {
	fs := c.newFlagSet("serve", "serve [--addr HOST:PORT] [--db URL]")
	addrFlag := fs.String("addr", "", "listen `address` (env "+envAddr+", default "+defaultAddr+"); port 0 picks a free port")
	dbFlag := dbFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf(fs, "serve takes no arguments, got %q", pos[0])
	}
	addr := c.orEnv(*addrFlag, envAddr, defaultAddr)
	dbURL := c.orEnv(*dbFlag, envDB, defaultDB)

	c.log.Info("starting", "version", buildVersion())
	store, err := openStore(ctx, dbURL)
	if err != nil {
		return err
	}
	err = c.serveStore(ctx, addr, store)
	if cerr := store.Close(); cerr != nil {
		c.log.Error("closing the store", "err", cerr)
		err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
	}
	if err == nil {
		c.log.Info("stopped")
	}
	return err
}

// serveStore runs the server on an open store; the caller closes it.
func (c *cli) serveStore(ctx context.Context, addr string, store phonebook.Store) error {
	svc, err := c.newService(store)
	if err != nil {
		return err
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
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           httpapi.NewServer(c.log, svc, httpapi.Options{Dialects: dialects(c.log, svc), RateLimit: rl}),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(c.log.Handler(), slog.LevelWarn),
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
