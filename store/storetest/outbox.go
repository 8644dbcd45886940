package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
)

// testOutboxInOneTx checks that a transaction's own writes decide what its
// later writes queue: a store may remember "this tenant has no webhooks"
// (or consent records, or publishers) for a transaction, so a webhook made
// earlier in the same transaction, or a deletion undone by a savepoint,
// must still be seen.
func testOutboxInOneTx(t *testing.T, open Opener) {
	e := MustEnv(t, open, "outbox")
	ctx := context.Background()
	tid := e.Tenant.ID
	c := e.MustCustomer(t, "Ada")
	now := time.Now().UTC().Truncate(time.Microsecond)
	ev := func(typ string) *phonebook.Event {
		return &phonebook.Event{TenantID: tid, Type: typ, CustomerID: c.ID, Source: "test", OccurredAt: now}
	}
	w := &phonebook.Webhook{TenantID: tid, URL: "https://example.com/hook", EventTypes: []string{"*"}, Secret: "s", CreatedAt: now}
	err := e.Store.Write(ctx, func(tx phonebook.Tx) error {
		if err := tx.AddEvent(ctx, ev("customer.updated")); err != nil { // before any webhook
			return err
		}
		if err := tx.CreateWebhook(ctx, w, phonebook.DefaultMaxWebhooksPerTenant); err != nil {
			return err
		}
		return tx.AddEvent(ctx, ev("phone.created"))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Store.Write(ctx, func(tx phonebook.Tx) error {
		undo := errors.New("undo")
		err := tx.Savepoint(ctx, func() error {
			if err := tx.DeleteWebhook(ctx, tid, w.ID); err != nil {
				return err
			}
			if err := tx.AddEvent(ctx, ev("phone.updated")); err != nil { // no webhook now
				return err
			}
			return undo
		})
		if !errors.Is(err, undo) {
			return err
		}
		return tx.AddEvent(ctx, ev("phone.deleted")) // the webhook is back
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = e.Store.Read(ctx, func(tx phonebook.Tx) error {
		ds, err := tx.FindDeliveries(ctx, tid, w.ID, 10)
		for _, d := range ds {
			got = append(got, d.EventType)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "phone.deleted" || got[1] != "phone.created" {
		t.Errorf("deliveries (newest first) = %v, want [phone.deleted phone.created]", got)
	}

	// Consent: none, then one recorded in the same transaction.
	const num = "+12015550100"
	err = e.Store.Write(ctx, func(tx phonebook.Tx) error {
		if _, err := tx.FindConsentAt(ctx, tid, num, now); !phonebook.IsCode(err, phonebook.ECodeNotFound) {
			t.Errorf("FindConsentAt on an empty ledger: %v, want not_found", err)
		}
		rec := &phonebook.ConsentRecord{TenantID: tid, E164: num, Type: phonebook.ConsentWritten, Source: "form",
			CapturedAt: now, RecordedAt: now, Via: "test"}
		if err := tx.AddConsent(ctx, rec); err != nil {
			return err
		}
		r, err := tx.FindConsentAt(ctx, tid, num, now)
		if err != nil {
			t.Errorf("FindConsentAt after AddConsent in the same transaction: %v", err)
		} else if r.ID != rec.ID {
			t.Errorf("FindConsentAt = record %d, want %d", r.ID, rec.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Publications: queued from the registration on, in one transaction.
	var seqs []int64
	err = e.Store.Write(ctx, func(tx phonebook.Tx) error {
		if err := tx.AddEvent(ctx, ev("customer.updated")); err != nil {
			return err
		}
		if err := tx.RegisterPublisher(ctx, "outbox-test"); err != nil {
			return err
		}
		after := ev("phone.created")
		if err := tx.AddEvent(ctx, after); err != nil {
			return err
		}
		seqs = append(seqs, after.Seq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Store.Write(ctx, func(tx phonebook.Tx) error {
		evs, ok, err := tx.ClaimPublications(ctx, "outbox-test", "me", now, now.Add(time.Minute), 10)
		if err != nil || !ok {
			return errors.Join(err, errors.New("publisher lease not granted"))
		}
		if len(evs) != 1 || evs[0].Seq != seqs[0] {
			t.Errorf("publications = %d events, want only the one after registration (seq %d)", len(evs), seqs[0])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
