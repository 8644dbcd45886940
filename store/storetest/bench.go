package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/phonebook/phonebook"
)

// BenchOpener returns a fresh store for a benchmark; the suite closes it.
type BenchOpener func(b *testing.B) phonebook.Store

// benchEnv is a tenant with customers and phones to read.
type benchEnv struct {
	svc       *phonebook.Service
	ctx       context.Context
	customers []*phonebook.Customer
}

func newBenchEnv(b *testing.B, open BenchOpener, customers int) *benchEnv {
	b.Helper()
	st := open(b)
	b.Cleanup(func() { st.Close() })
	svc := phonebook.NewService(st, nil)
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "bench"}); err != nil {
		b.Fatal(err)
	}
	_, secret, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "bench", Scopes: phonebook.AllScopes})
	if err != nil {
		b.Fatal(err)
	}
	a, err := svc.Authenticate(ctx, secret)
	if err != nil {
		b.Fatal(err)
	}
	e := &benchEnv{svc: svc, ctx: phonebook.NewContextWithAuth(ctx, a)}
	for i := 0; i < customers; i++ {
		c, err := svc.CreateCustomer(e.ctx, phonebook.CustomerInput{Name: fmt.Sprint("c", i), ExternalID: fmt.Sprint("x", i)})
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 2; j++ {
			if _, err := svc.AddPhone(e.ctx, phonebook.CustomerRef{ID: c.ID}, phonebook.PhoneInput{Number: fmt.Sprintf("+1 201 55%d %04d", j, i)}); err != nil {
				b.Fatal(err)
			}
		}
		e.customers = append(e.customers, c)
	}
	return e
}

// RunBenchmarks measures each store operation through the service, serial
// and with parallel callers (b.RunParallel, GOMAXPROCS × -cpu goroutines).
func RunBenchmarks(b *testing.B, open BenchOpener) {
	b.Run("CreateCustomer", func(b *testing.B) {
		e := newBenchEnv(b, open, 0)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := e.svc.CreateCustomer(e.ctx, phonebook.CustomerInput{Name: "n"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AddPhoneParallel", func(b *testing.B) {
		e := newBenchEnv(b, open, 0)
		var next atomic.Int64
		b.SetParallelism(8) // many concurrent writers, as under HTTP load
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := next.Add(1)
				c, err := e.svc.CreateCustomer(e.ctx, phonebook.CustomerInput{Name: "n"})
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := e.svc.AddPhone(e.ctx, phonebook.CustomerRef{ID: c.ID}, phonebook.PhoneInput{Number: fmt.Sprintf("+1 201 555 %04d", n%10000)}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("FindCustomer", func(b *testing.B) {
		e := newBenchEnv(b, open, 200)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				c := e.customers[i%len(e.customers)]
				i++
				if _, err := e.svc.FindCustomer(e.ctx, phonebook.CustomerRef{ID: c.ID}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("LookupNumber", func(b *testing.B) {
		e := newBenchEnv(b, open, 200)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := e.svc.LookupNumber(e.ctx, fmt.Sprintf("(201) 550-%04d", i%200), ""); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
	b.Run("Upsert500", func(b *testing.B) {
		e := newBenchEnv(b, open, 50)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			items := make([]phonebook.UpsertItem, 500)
			for j := range items {
				items[j] = phonebook.UpsertItem{
					Customer: phonebook.CustomerRef{ID: e.customers[j%50].ID},
					Phone:    phonebook.PhoneInput{Number: fmt.Sprintf("+1 202 555 %04d", j/50+i%4*10), Label: fmt.Sprint(i)},
				}
			}
			res, err := e.svc.UpsertPhones(e.ctx, items)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		}
	})
}
