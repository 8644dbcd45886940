// Command pocketbase-bench is PocketBase (the version go.mod pins), set up
// as the peer of phonebook in scripts/bench.sh: the same customers and
// phones, in PocketBase's own collections, measured by the same load
// generator with the same requests.
//
//	pocketbase-bench seed --dir DATA --customers N --phones P
//	pocketbase-bench token --dir DATA               # prints a superuser token
//	pocketbase-bench serve --dir DATA --http 127.0.0.1:8090
//
// serve is PocketBase's own command with its default settings. A
// migration (run by every command) creates two collections:
//
//	customers  name, external_id (text), status (select: active, inactive), created, updated
//	phones     customer (relation to customers, required, cascade delete), number (text,
//	           required), type (select: home, mobile, work, fax, other), extension, notes
//	           (text), is_primary (bool), created, updated; unique index on (customer, number)
//
// Their API rules are PocketBase's defaults for a new collection: none,
// so only a superuser may read or write them, and the load generator
// authenticates every request as one (phonebook's requests carry an API
// key the server checks likewise). seed writes the data phonebook's
// `seed` writes: customer i is "Customer 00000i" (external_id
// "seed-00000i", active) with P phones, numbers (i-1)*50 .. (i-1)*50+P-1
// of the same sequence of US numbers, types mobile, home, work in turn,
// the first primary.
//
// This is a module of its own (scripts/bench/pocketbase/go.mod), outside
// phonebook's: `go test ./...` and `go vet ./...` at the root do not enter
// it, and phonebook does not depend on PocketBase.
package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"
)

func main() {
	// pocketbase.New() but never in dev mode, which logs every SQL
	// statement and which New turns on for a binary under the temporary
	// directory (where bench.sh builds it).
	app := pocketbase.NewWithConfig(pocketbase.Config{DefaultDev: false})
	core.AppMigrations.Register(createCollections, dropCollections, "1760000000_phonebook_bench.go")
	app.RootCmd.AddCommand(seedCommand(app), tokenCommand(app))
	if err := app.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "pocketbase-bench:", err)
		os.Exit(1)
	}
}

// phoneTypes are phonebook's built-in phone types.
var phoneTypes = []string{"home", "mobile", "work", "fax", "other"}

func createCollections(app core.App) error {
	customers := core.NewBaseCollection("customers")
	customers.Fields.Add(
		&core.TextField{Name: "name"},
		&core.TextField{Name: "external_id"},
		&core.SelectField{Name: "status", Values: []string{"active", "inactive"}, MaxSelect: 1},
		&core.AutodateField{Name: "created", OnCreate: true},
		&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
	)
	if err := app.Save(customers); err != nil {
		return fmt.Errorf("customers: %w", err)
	}
	phones := core.NewBaseCollection("phones")
	phones.Fields.Add(
		&core.RelationField{Name: "customer", CollectionId: customers.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
		&core.TextField{Name: "number", Required: true},
		&core.SelectField{Name: "type", Values: phoneTypes, MaxSelect: 1},
		&core.TextField{Name: "extension"},
		&core.BoolField{Name: "is_primary"},
		&core.TextField{Name: "notes"},
		&core.AutodateField{Name: "created", OnCreate: true},
		&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
	)
	phones.AddIndex("idx_phones_customer_number", true, "customer, number", "")
	if err := app.Save(phones); err != nil {
		return fmt.Errorf("phones: %w", err)
	}
	return nil
}

func dropCollections(app core.App) error {
	for _, name := range []string{"phones", "customers"} {
		c, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			continue
		}
		if err := app.Delete(c); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// seedAreaCodes are the first area codes of phonebook's seed (its
// service_bulk.go), enough for 2 x 8 million numbers: 320,000 customers
// at 50 numbers each.
var seedAreaCodes = []int{201, 202}

// seedNumber is the g-th number of phonebook's seed, in E.164.
func seedNumber(g int64) (string, error) {
	if g/(800*10000) >= int64(len(seedAreaCodes)) {
		return "", errors.New("more customers than the seed's numbers")
	}
	ac := seedAreaCodes[g/(800*10000)]
	rest := g % (800 * 10000)
	return fmt.Sprintf("+1%03d%03d%04d", ac, 200+rest/10000, rest%10000), nil
}

// stride is phonebook's max_phones_per_customer: customer i's numbers
// start at (i-1)*stride.
const stride = 50

func seedCommand(app core.App) *cobra.Command {
	var customers, phones int
	c := &cobra.Command{
		Use:   "seed",
		Short: "Fills customers and phones as phonebook's seed does",
		RunE: func(cmd *cobra.Command, args []string) error {
			if customers < 1 || phones < 0 || phones > stride {
				return fmt.Errorf("--customers must be at least 1 and --phones 0 to %d", stride)
			}
			if err := app.RunAllMigrations(); err != nil {
				return err
			}
			start := time.Now()
			if err := seed(app, customers, phones); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Seeded %d customers, %d phones in %s\n", customers, customers*phones, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	c.Flags().IntVar(&customers, "customers", 0, "customers to create")
	c.Flags().IntVar(&phones, "phones", 1, "phones per customer")
	return failing(c)
}

// seed writes the customers and phones through app.Save (PocketBase's
// validation and hooks, as an API write would), in transactions of about
// 10,000 records.
func seed(app core.App, customers, phones int) error {
	cc, err := app.FindCollectionByNameOrId("customers")
	if err != nil {
		return err
	}
	pc, err := app.FindCollectionByNameOrId("phones")
	if err != nil {
		return err
	}
	per := max(10000/(phones+1), 1)
	for first := 1; first <= customers; first += per {
		err := app.RunInTransaction(func(tx core.App) error {
			for i := first; i < first+per && i <= customers; i++ {
				cu := core.NewRecord(cc)
				cu.Set("name", fmt.Sprintf("Customer %06d", i))
				cu.Set("external_id", fmt.Sprintf("seed-%06d", i))
				cu.Set("status", "active")
				if err := tx.Save(cu); err != nil {
					return fmt.Errorf("customer %d: %w", i, err)
				}
				for j := range phones {
					number, err := seedNumber(int64(i-1)*stride + int64(j))
					if err != nil {
						return err
					}
					p := core.NewRecord(pc)
					p.Set("customer", cu.Id)
					p.Set("number", number)
					p.Set("type", []string{"mobile", "home", "work"}[j%3])
					p.Set("is_primary", j == 0)
					if err := tx.Save(p); err != nil {
						return fmt.Errorf("phone %d of customer %d: %w", j, i, err)
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func tokenCommand(app core.App) *cobra.Command {
	var email, password string
	var ttl time.Duration
	c := &cobra.Command{
		Use:   "token",
		Short: "Prints an auth token of a superuser (made if missing) for the load generator",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.RunAllMigrations(); err != nil {
				return err
			}
			su, err := app.FindAuthRecordByEmail(core.CollectionNameSuperusers, email)
			if err != nil {
				col, err := app.FindCollectionByNameOrId(core.CollectionNameSuperusers)
				if err != nil {
					return err
				}
				su = core.NewRecord(col)
				su.SetEmail(email)
				su.SetPassword(password)
				if err := app.Save(su); err != nil {
					return fmt.Errorf("superuser: %w", err)
				}
			}
			tok, err := su.NewStaticAuthToken(ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	c.Flags().StringVar(&email, "email", "bench@example.com", "the superuser's email")
	c.Flags().StringVar(&password, "password", "bench-password-not-secret", "its password, when it is made")
	c.Flags().DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token is valid")
	return failing(c)
}

// failing makes c's error end the program with status 1: PocketBase runs
// its commands without looking at their errors, and bench.sh must stop
// when a step fails.
func failing(c *cobra.Command) *cobra.Command {
	run := c.RunE
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if err := run(cmd, args); err != nil {
			fmt.Fprintln(os.Stderr, "pocketbase-bench:", err)
			os.Exit(1)
		}
		return nil
	}
	c.SilenceUsage = true
	return c
}
