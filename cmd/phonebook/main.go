// Command phonebook runs the phonebook server and its operator commands:
// tenants, API keys, migrations.
//
// main only wires the process (arguments, environment, standard streams)
// into run, which holds the whole program and is what the tests call.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/phonebook/phonebook"
)

func main() {
	ctx := context.Background()
	if err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		// run has already told the user what went wrong on stderr.
		os.Exit(1)
	}
}

// Environment variables read by phonebook.
const (
	envAddr         = "PHONEBOOK_ADDR"
	envDB           = "PHONEBOOK_DB"
	envBootstrapKey = "PHONEBOOK_BOOTSTRAP_KEY"
	envSecretKey    = "PHONEBOOK_SECRET_KEY"
	envPublicURL    = "PHONEBOOK_PUBLIC_URL"
	// envSecretKeyFile names a file holding the server key.
	envSecretKeyFile = "PHONEBOOK_SECRET_KEY_FILE"
	// envSecretKeyNew is the new server key of "secrets rotate".
	envSecretKeyNew   = "PHONEBOOK_SECRET_KEY_NEW"
	envAuthFailures   = "PHONEBOOK_AUTH_FAILURES_PER_MINUTE"
	envTrustedProxies = "PHONEBOOK_TRUSTED_PROXIES"
	envRateLimit      = "PHONEBOOK_RATE_LIMIT"
	envRateBurst      = "PHONEBOOK_RATE_BURST"
	envLogFormat      = "PHONEBOOK_LOG_FORMAT"

	envNATSURL           = "PHONEBOOK_NATS_URL"
	envNATSStream        = "PHONEBOOK_NATS_STREAM"
	envNATSSubjectPrefix = "PHONEBOOK_NATS_SUBJECT_PREFIX"
	envWebhookWorkers    = "PHONEBOOK_WEBHOOK_WORKERS"
	envPprofAddr         = "PHONEBOOK_PPROF_ADDR"
	envCPUProfile        = "PHONEBOOK_CPUPROFILE"

	envWebhookAllowPrivate = "PHONEBOOK_WEBHOOK_ALLOW_PRIVATE"
	envWebhookRequireHTTPS = "PHONEBOOK_WEBHOOK_REQUIRE_HTTPS"
	envWebhookMaxPerTenant = "PHONEBOOK_WEBHOOK_MAX_PER_TENANT"
)

// Defaults of the flags.
const (
	defaultAddr = "127.0.0.1:8080"
	defaultDB   = "sqlite:phonebook.db"
)

const usage = `phonebook keeps customers' phone numbers for many tenants.

Usage:
  phonebook <command> [arguments] [flags]

Commands:
  serve                   run the HTTP server (--addr, --db, --nats); it also
                          delivers webhooks and, with --nats, publishes events
  tenants create SLUG     create a tenant (--region, --strict, --max-phones,
                          --max-customers-per-number)
  tenants list            list the tenants
  keys create             create an API key (--tenant SLUG, --scopes LIST, --name,
                          --format v9, --signing-secret, --require-signature);
                          its secret is shown once
  keys list               list the API keys (never their secrets)
  keys revoke ID          revoke an API key
  keys require-signature ID on|off
                          whether the key must sign every request (X-Signature)
  secrets rotate          re-seal every stored secret under a new server key
                          (PHONEBOOK_SECRET_KEY_NEW or --new-key-file)
  migrate                 run the database migrations
  backup FILE             write a consistent copy of the SQLite database to FILE
                          while the server keeps running
  seed                    load a synthetic tenant in bulk (--customers N,
                          --phones P, --tenant SLUG)
  import FILE.csv         import customers and phones from CSV (--tenant,
                          --rejects FILE, --batch 500, --restart); resumable
  export                  write a tenant's customers and phones as CSV
                          (--tenant, --out FILE|-)
  version                 print the version
  help                    print this help

Every command but version takes --db URL: sqlite:path/to/file.db (default
sqlite:phonebook.db) or postgres://... Run "phonebook <command> -h" for its flags.

Environment:
  PHONEBOOK_DB             database URL, when --db is not given
  PHONEBOOK_ADDR           listen address of serve, when --addr is not given
  PHONEBOOK_PUBLIC_URL     URL clients reach serve at, when --public-url is not
                           given; https://... makes console cookies Secure
  PHONEBOOK_BOOTSTRAP_KEY  secret of the admin key serve creates on an empty store
                           (24+ characters)
  PHONEBOOK_SECRET_KEY     server key (16+ characters) that seals webhook and signing
                           secrets (default: the file <db>.secret-key beside a SQLite
                           database, generated on the first start)
  PHONEBOOK_SECRET_KEY_FILE
                           a file holding the server key
  PHONEBOOK_SECRET_KEY_NEW the new key of "secrets rotate"
  PHONEBOOK_AUTH_FAILURES_PER_MINUTE
                           failed authentications per client address and minute
                           before 429 (default 30, 0 = off; --auth-failures-per-minute)
  PHONEBOOK_TRUSTED_PROXIES
                           comma-separated CIDRs/IPs of reverse proxies whose
                           X-Forwarded-For/-Proto are believed (--trusted-proxies)
  PHONEBOOK_RATE_LIMIT     requests per second per API key (default 1000, 0 = off)
  PHONEBOOK_RATE_BURST     burst per API key (default 2000)
  PHONEBOOK_LOG_FORMAT     text (default) or json
  PHONEBOOK_WEBHOOK_WORKERS
                           webhook requests in flight per server (default 4;
                           0: this server delivers none, the others do)
  PHONEBOOK_WEBHOOK_ALLOW_PRIVATE
                           true: webhooks may reach loopback, private and
                           carrier-grade NAT addresses (on-premise receivers);
                           default false (--webhook-allow-private)
  PHONEBOOK_WEBHOOK_REQUIRE_HTTPS
                           true: refuse http:// webhooks; default false
                           (--webhook-require-https)
  PHONEBOOK_WEBHOOK_MAX_PER_TENANT
                           most webhooks per tenant (default 20;
                           --webhook-max-per-tenant)
  PHONEBOOK_NATS_URL       NATS server(s) to publish events to, when --nats is
                           not given (nats://host:4222, comma-separated)
  PHONEBOOK_NATS_STREAM    JetStream stream of the events (default PHONEBOOK)
  PHONEBOOK_NATS_SUBJECT_PREFIX
                           first subject token (default phonebook): events go
                           to <prefix>.<tenant>.<event type>
  PHONEBOOK_PPROF_ADDR     serve Go's /debug/pprof/ on this separate address
  PHONEBOOK_CPUPROFILE     write a CPU profile of the command to this file
                           (for seed, import, export: go tool pprof FILE)
`

// startCPUProfile profiles the whole command into path, for the bulk
// commands that have no HTTP listener to ask.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envCPUProfile, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", envCPUProfile, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// cli is one invocation of the program: its environment and streams. It
// replaces what other programs keep in globals.
type cli struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	// webhooks is serve's webhook destination policy, from its flags.
	webhooks phonebook.WebhookPolicy
}

// run is the whole program. args includes the program name (os.Args).
// Errors are reported on stderr before run returns them; main only has to
// turn them into exit status 1.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	c := &cli{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	c.log = newLogger(getenv(envLogFormat), stderr)
	if len(args) > 0 {
		args = args[1:]
	}
	if f := getenv(envCPUProfile); f != "" {
		stopProfile, err := startCPUProfile(f)
		if err != nil {
			c.printError(err)
			return err
		}
		defer stopProfile()
	}
	err := c.dispatch(ctx, args)
	if helpRequested(err) { // "phonebook <command> -h": usage shown, not a failure
		return nil
	}
	if err != nil {
		c.printError(err)
	}
	return err
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if strings.EqualFold(format, "json") {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stdout, usage)
		return reportedError{errors.New("no command given")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usage)
		return nil
	case "serve":
		return c.serve(ctx, rest)
	case "tenants":
		return c.subcommand(ctx, "tenants", rest, map[string]func(context.Context, []string) error{
			"create": c.tenantsCreate,
			"list":   c.tenantsList,
		})
	case "keys":
		return c.subcommand(ctx, "keys", rest, map[string]func(context.Context, []string) error{
			"create":            c.keysCreate,
			"list":              c.keysList,
			"revoke":            c.keysRevoke,
			"require-signature": c.keysRequireSignature,
		})
	case "secrets":
		return c.subcommand(ctx, "secrets", rest, map[string]func(context.Context, []string) error{
			"rotate": c.secretsRotate,
		})
	case "migrate":
		return c.migrate(ctx, rest)
	case "backup":
		return c.backup(ctx, rest)
	case "seed":
		return c.seed(ctx, rest)
	case "import":
		return c.importCSV(ctx, rest)
	case "export":
		return c.exportCSV(ctx, rest)
	case "version":
		return c.version(rest)
	}
	fmt.Fprint(c.stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// subcommand runs one of the commands of a group such as "tenants".
func (c *cli) subcommand(ctx context.Context, group string, args []string, cmds map[string]func(context.Context, []string) error) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return fmt.Errorf("%s: missing command", group)
	}
	if fn, ok := cmds[args[0]]; ok {
		return fn(ctx, args[1:])
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(c.stdout, usage)
		return nil
	}
	fmt.Fprint(c.stderr, usage)
	return fmt.Errorf("unknown command %q", group+" "+args[0])
}

// reportedError is an error already shown to the user (by package flag,
// for example): run returns it without printing it again.
type reportedError struct{ error }

func (e reportedError) Unwrap() error { return e.error }

// printError shows err on stderr. Domain errors show their client-safe
// message and the field at fault; the detail of internal ones goes to the
// log, never a secret or a phone number.
func (c *cli) printError(err error) {
	var rep reportedError
	if errors.As(err, &rep) {
		return
	}
	fes := phonebook.FieldErrors(err)
	if len(fes) == 0 {
		fmt.Fprintf(c.stderr, "error: %v\n", err)
		return
	}
	for _, fe := range fes {
		msg := phonebook.ErrorMessage(fe)
		if fe.Field != "" {
			msg += " (field " + fe.Field + ")"
		}
		fmt.Fprintf(c.stderr, "error: %s\n", msg)
	}
	if code := phonebook.ErrorCode(err); code == phonebook.ECodeInternal || code == phonebook.ECodeUnavailable {
		c.log.Error("command failed", "code", code, "err", err)
	}
}

// newFlagSet returns a flag set for one command that reports to stderr
// and returns errors instead of exiting.
func (c *cli) newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: phonebook %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// dbFlag adds --db to fs. The value is resolved by resolveDB after parsing
// so that a URL from the environment (which may one day hold a password)
// is never printed as the flag's default.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "", "database `URL`: sqlite:path/to/file.db or postgres://... (env "+envDB+", default "+defaultDB+")")
}

// orEnv returns the flag value v if given, else the environment variable
// key if set, else def.
func (c *cli) orEnv(v, key, def string) string {
	if v != "" {
		return v
	}
	if e := c.getenv(key); e != "" {
		return e
	}
	return def
}

// parseFlags parses args with fs, allowing positional arguments before,
// between and after the flags, and returns the positional ones. A help
// request or a bad flag has already been reported by fs.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, reportedError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil // everything after "--" is positional
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// helpRequested reports whether err is a -h / --help request, which is not
// a failure.
func helpRequested(err error) bool { return errors.Is(err, flag.ErrHelp) }

// usageErrorf reports a misuse of command fs: the message, then its usage.
func usageErrorf(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "error: "+format+"\n", args...)
	fs.Usage()
	return reportedError{fmt.Errorf(format, args...)}
}
