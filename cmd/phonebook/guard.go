package main

import (
	"fmt"
	"strconv"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/authlimit"
	"github.com/phonebook/phonebook/clientaddr"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/web/console"
)

// guard is what every door of serve (the API, the dialects, the console)
// shares against guessed credentials: who the client is behind trusted
// proxies, its count of failed authentications, and each key's rate.
type guard struct {
	clients  *clientaddr.Resolver
	failures *authlimit.Failures
	keys     *authlimit.Keys
}

// newGuard reads --trusted-proxies / PHONEBOOK_TRUSTED_PROXIES and
// --auth-failures-per-minute / PHONEBOOK_AUTH_FAILURES_PER_MINUTE (default
// 30, 0 turns the limit off), and the per-key rate (PHONEBOOK_RATE_LIMIT,
// PHONEBOOK_RATE_BURST).
func (c *cli) newGuard(proxiesFlag, failuresFlag string) (*guard, error) {
	rl, err := c.rateLimit()
	if err != nil {
		return nil, err
	}
	clients, err := clientaddr.New(c.orEnv(proxiesFlag, envTrustedProxies, ""))
	if err != nil {
		return nil, fmt.Errorf("%s / --trusted-proxies: %w", envTrustedProxies, err)
	}
	perMinute := authlimit.DefaultFailuresPerMinute
	if v := c.orEnv(failuresFlag, envAuthFailures, ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: want failed authentications per minute per client address (0 turns the limit off), got %q", envAuthFailures, v)
		}
		perMinute = n
	}
	if perMinute == 0 {
		c.log.Warn("the limit on failed authentications is off", envAuthFailures, 0)
	}
	return &guard{clients: clients, failures: authlimit.NewFailures(perMinute, authlimit.FailuresOptions{}), keys: httpapi.NewKeyLimit(*rl)}, nil
}

// consoleOptions are the console's share of the guard.
func (g *guard) consoleOptions(opts console.Options) console.Options {
	opts.Keys, opts.AuthFailures, opts.ClientAddr = g.keys, g.failures, g.clients
	return opts
}

// apiOptions are the API's share of the guard.
func (g *guard) apiOptions(opts httpapi.Options) httpapi.Options {
	opts.Keys, opts.AuthFailures, opts.ClientAddr = g.keys, g.failures, g.clients
	return opts
}

// checkBootstrapKey refuses a PHONEBOOK_BOOTSTRAP_KEY too short to resist
// guessing, before anything is created with it.
func checkBootstrapKey(key string) error {
	if key != "" && len(key) < phonebook.MinBootstrapKeyLen {
		return fmt.Errorf("%s is %d characters long: an admin key must be at least %d characters (for example: openssl rand -base64 32)",
			envBootstrapKey, len(key), phonebook.MinBootstrapKeyLen)
	}
	return nil
}
