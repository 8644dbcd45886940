package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/secretbox"
)

// withService opens the store named by dbURL, runs fn with a service over
// it, and closes the store.
func (c *cli) withService(ctx context.Context, dbURL string, fn func(*phonebook.Service) error) (err error) {
	return c.withServiceKey(ctx, dbURL, false, fn)
}

// withServiceKey is withService; with createKey, a SQLite store without a
// key file gets one (the command is about to seal a secret).
func (c *cli) withServiceKey(ctx context.Context, dbURL string, createKey bool, fn func(*phonebook.Service) error) (err error) {
	store, err := openStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
	}()
	svc, err := c.newService(store, dbURL, createKey)
	if err != nil {
		return err
	}
	return fn(svc)
}

// newService returns the service over store (named by dbURL), sealing
// secrets under the server key (see secretKey; the SQLite key file is
// generated only with createKey: serve's first start, or a command about
// to seal a secret); without one it refuses to create secret-bearing
// objects rather than store their secrets in clear.
func (c *cli) newService(store phonebook.Store, dbURL string, createKey bool) (*phonebook.Service, error) {
	svc := phonebook.NewService(store, nil)
	key, _, err := c.secretKeySource(dbURL, createKey)
	if err != nil {
		return nil, err
	}
	if key != "" {
		box, err := secretbox.New(key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envSecretKey, err)
		}
		svc.SetSealer(box)
	}
	return svc, nil
}

func (c *cli) tenantsCreate(ctx context.Context, args []string) error {
	fs := c.newFlagSet("tenants create", "tenants create SLUG [--region US] [--strict] [--max-phones 50] [--max-customers-per-number 50] [--db URL]")
	region := fs.String("region", phonebook.DefaultRegion, "default `REGION` (ISO 3166 code), to read numbers written without +")
	strict := fs.Bool("strict", false, "reject numbers libphonenumber calls invalid (default: keep them, flagged valid: false)")
	maxPhones := fs.Int("max-phones", phonebook.DefaultMaxPhonesPerCustomer, "most phones per customer")
	maxCustomers := fs.Int("max-customers-per-number", phonebook.DefaultMaxCustomersPerNumber, "most customers holding one number")
	db := dbFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf(fs, "tenants create takes one SLUG, got %d arguments", len(pos))
	}
	return c.withService(ctx, c.orEnv(*db, envDB, defaultDB), func(svc *phonebook.Service) error {
		t, err := svc.CreateTenant(ctx, phonebook.TenantInput{
			Slug:                  pos[0],
			DefaultRegion:         *region,
			MaxPhonesPerCustomer:  *maxPhones,
			MaxCustomersPerNumber: *maxCustomers,
			StrictNumbers:         *strict,
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Created tenant %q\n", t.Slug)
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  slug:\t%s\n", t.Slug)
		fmt.Fprintf(tw, "  id:\t%d\n", t.ID)
		fmt.Fprintf(tw, "  uuid:\t%s\n", t.UUID)
		fmt.Fprintf(tw, "  region:\t%s\n", t.DefaultRegion)
		fmt.Fprintf(tw, "  strict:\t%t\n", t.StrictNumbers)
		fmt.Fprintf(tw, "  max phones per customer:\t%d\n", t.MaxPhonesPerCustomer)
		fmt.Fprintf(tw, "  max customers per number:\t%d\n", t.MaxCustomersPerNumber)
		return tw.Flush()
	})
}

func (c *cli) tenantsList(ctx context.Context, args []string) error {
	fs := c.newFlagSet("tenants list", "tenants list [--db URL]")
	db := dbFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf(fs, "tenants list takes no arguments, got %q", pos[0])
	}
	return c.withService(ctx, c.orEnv(*db, envDB, defaultDB), func(svc *phonebook.Service) error {
		tenants, err := svc.Tenants(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSLUG\tUUID\tREGION\tSTRICT\tMAX_PHONES\tMAX_CUSTOMERS\tCREATED")
		for _, t := range tenants {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%t\t%d\t%d\t%s\n", t.ID, t.Slug, t.UUID, t.DefaultRegion,
				t.StrictNumbers, t.MaxPhonesPerCustomer, t.MaxCustomersPerNumber, formatTime(t.CreatedAt))
		}
		return tw.Flush()
	})
}

func (c *cli) keysCreate(ctx context.Context, args []string) error {
	fs := c.newFlagSet("keys create", "keys create --tenant SLUG --scopes customers:read,customers:write [--name NAME] [--format v9] [--signing-secret S] [--require-signature] [--db URL]")
	tenant := fs.String("tenant", "", "`slug` of the tenant the key acts in (required)")
	scopes := fs.String("scopes", "", "comma-separated `scopes`: "+strings.Join(phonebook.AllScopes, ", ")+" (required)")
	name := fs.String("name", "", "a `name` to recognise the key by")
	signing := fs.String("signing-secret", "", "a `secret` clients sign requests with (Ticket Evolution X-Signature); \"generate\" makes one")
	format := fs.String("format", "", "`v9`: a Ticket Evolution token (32 letters and digits) and secret (40 characters), which must sign every request")
	require := fs.Bool("require-signature", false, "the key must sign every request (X-Signature); generates a signing secret when none is given")
	db := dbFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf(fs, "keys create takes no arguments, got %q", pos[0])
	}
	if strings.TrimSpace(*tenant) == "" {
		return usageErrorf(fs, "--tenant is required")
	}
	sc, err := phonebook.ParseScopes(*scopes)
	if err != nil {
		return err
	}
	// A v9 key, and a key that must sign, has a signing secret: sealed
	// under the server key, which must then be found.
	needsKey := *signing != "" || *format == phonebook.KeyFormatV9 || *require
	return c.withServiceKey(ctx, c.orEnv(*db, envDB, defaultDB), needsKey, func(svc *phonebook.Service) error {
		k, secret, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{
			TenantSlug: *tenant, Name: *name, Scopes: sc, SigningSecret: *signing,
			Format: *format, RequireSignature: *require,
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Created API key %d for tenant %q (scopes %s).\n", k.ID, k.TenantSlug, strings.Join(k.Scopes, ","))
		if k.SigningSecret != "" {
			fmt.Fprintf(c.stdout, "Requests must be signed (X-Signature) with: %s\n", k.SigningSecret)
		}
		if *format == phonebook.KeyFormatV9 {
			// The names v9's clients give them (apiToken/token, apiSecret/secret).
			fmt.Fprintln(c.stdout, "Ticket Evolution clients: the key below is the API token (X-Token), the signing secret above the API secret.")
		}
		fmt.Fprintln(c.stdout, "Its secret is shown only once, store it now:")
		fmt.Fprintln(c.stdout, secret)
		return nil
	})
}

func (c *cli) keysList(ctx context.Context, args []string) error {
	fs := c.newFlagSet("keys list", "keys list [--db URL]")
	db := dbFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf(fs, "keys list takes no arguments, got %q", pos[0])
	}
	return c.withService(ctx, c.orEnv(*db, envDB, defaultDB), func(svc *phonebook.Service) error {
		keys, err := svc.APIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTENANT\tNAME\tPREFIX\tSCOPES\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = formatTime(*k.RevokedAt)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.TenantSlug, orDash(k.Name), k.Prefix,
				strings.Join(k.Scopes, ","), formatTime(k.CreatedAt), revoked)
		}
		return tw.Flush()
	})
}

func (c *cli) keysRevoke(ctx context.Context, args []string) error {
	fs := c.newFlagSet("keys revoke", "keys revoke ID [--db URL]")
	db := dbFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf(fs, "keys revoke takes one key ID, got %d arguments", len(pos))
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return phonebook.Errorf(phonebook.ECodeValidation, "id", "key ID must be a positive integer, got %q", pos[0])
	}
	return c.withService(ctx, c.orEnv(*db, envDB, defaultDB), func(svc *phonebook.Service) error {
		if err := svc.RevokeAPIKey(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "revoked key %d\n", id)
		return nil
	})
}

func (c *cli) keysRequireSignature(ctx context.Context, args []string) error {
	fs := c.newFlagSet("keys require-signature", "keys require-signature ID on|off [--db URL]")
	db := dbFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf(fs, "keys require-signature takes a key ID and on or off, got %d arguments", len(pos))
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return phonebook.Errorf(phonebook.ECodeValidation, "id", "key ID must be a positive integer, got %q", pos[0])
	}
	var on bool
	switch pos[1] {
	case "on":
		on = true
	case "off":
	default:
		return usageErrorf(fs, "keys require-signature: the second argument must be on or off, got %q", pos[1])
	}
	return c.withService(ctx, c.orEnv(*db, envDB, defaultDB), func(svc *phonebook.Service) error {
		if err := svc.SetAPIKeyRequireSignature(ctx, id, on); err != nil {
			return err
		}
		if on {
			fmt.Fprintf(c.stdout, "key %d must sign every request (X-Signature)\n", id)
		} else {
			fmt.Fprintf(c.stdout, "key %d may send requests without X-Signature (a signature sent is still checked)\n", id)
		}
		return nil
	})
}

func (c *cli) migrate(ctx context.Context, args []string) error {
	fs := c.newFlagSet("migrate", "migrate [--db URL]")
	db := dbFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf(fs, "migrate takes no arguments, got %q", pos[0])
	}
	v, err := migrateStore(ctx, c.orEnv(*db, envDB, defaultDB))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "migrations applied: schema version %d\n", v)
	return nil
}

func (c *cli) backup(ctx context.Context, args []string) error {
	fs := c.newFlagSet("backup", "backup FILE [--db URL]")
	db := dbFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf(fs, "backup takes one argument: the file to write")
	}
	dbURL := c.orEnv(*db, envDB, defaultDB)
	kind, _, err := parseDBURL(dbURL)
	if err != nil {
		return err
	}
	if kind == storePostgres {
		return errors.New("backup copies SQLite files; for PostgreSQL use pg_dump (e.g. pg_dump --format=custom --file=phonebook.dump \"$PHONEBOOK_DB\") or your provider's snapshots")
	}
	store, err := openStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	b, ok := store.(interface {
		Backup(ctx context.Context, path string) error
	})
	if !ok {
		return errors.New("this store cannot be backed up by phonebook")
	}
	start := time.Now()
	if err := b.Backup(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "backup written to %s in %s\n", pos[0], time.Since(start).Round(time.Millisecond))
	return nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
