package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
)

func testHistory(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	c := e.MustCustomer(t, "A")
	p1 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1)})
	p2 := e.MustPhone(t, c, phonebook.PhoneInput{Number: number(2)})
	if _, err := e.Svc.UpdatePhone(e.Ctx, ref(c), pref(p2), phonebook.PhoneUpdate{Label: ptr("desk")}, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.DeletePhone(e.Ctx, ref(c), pref(p1), 0); err != nil {
		t.Fatal(err)
	}
	all, err := e.Svc.History(e.Ctx, ref(c), nil, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range all {
		types = append(types, ev.Type)
	}
	want := "customer.created,phone.created,phone.created,phone.updated,phone.deleted,phone.updated,phone.primary_changed"
	if got := strings.Join(types, ","); got != want {
		t.Errorf("customer history:\n got %s\nwant %s", got, want)
	}
	ph, err := e.Svc.History(e.Ctx, ref(c), &phonebook.CustomerRef{ID: p2.ID}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ph) != 4 || ph[1].Type != phonebook.EventPhoneUpdated {
		t.Fatalf("phone history: %d events", len(ph))
	}
	var before, after phonebook.Phone
	_ = json.Unmarshal(ph[1].Before, &before)
	_ = json.Unmarshal(ph[1].After, &after)
	if before.Label != "" || after.Label != "desk" || ph[1].KeyID == 0 || ph[1].KeyName != "test" || ph[1].Source != "test" {
		t.Errorf("history entry: before %q after %q key %d %q source %q", before.Label, after.Label, ph[1].KeyID, ph[1].KeyName, ph[1].Source)
	}
	// A deleted phone keeps its history.
	gone, err := e.Svc.History(e.Ctx, ref(c), &phonebook.CustomerRef{ID: p1.ID}, 0, 100)
	if err != nil || len(gone) != 2 || gone[1].Type != phonebook.EventPhoneDeleted {
		t.Errorf("deleted phone history: %d events, %v", len(gone), err)
	}
	// Paging by seq.
	page, err := e.Svc.History(e.Ctx, ref(c), nil, all[2].Seq, 2)
	if err != nil || len(page) != 2 || page[0].Seq != all[3].Seq {
		t.Errorf("history page: %d, %v", len(page), err)
	}
	_, err = e.Svc.History(e.Ctx, ref(c), &phonebook.CustomerRef{ID: 999999}, 0, 10)
	WantCode(t, err, phonebook.ECodeNotFound, "")
	other := MustTenant(t, e.Svc, phonebook.TenantInput{Slug: "other"})
	_, err = other.Svc.History(other.Ctx, ref(c), nil, 0, 10)
	WantCode(t, err, phonebook.ECodeNotFound, "")
}

func testConsentLedger(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	const n = "(201) 555-0123"
	var cs []*phonebook.Customer
	for i := 0; i < 3; i++ {
		c := e.MustCustomer(t, "holder")
		e.MustPhone(t, c, phonebook.PhoneInput{Number: n})
		cs = append(cs, c)
	}
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	steps := []struct {
		typ string
		at  time.Time
	}{
		{phonebook.ConsentWritten, t0},
		{phonebook.ConsentStop, t0.Add(10 * time.Minute)},
		{phonebook.ConsentExpress, t0.Add(20 * time.Minute)},
	}
	for _, st := range steps {
		if _, err := e.Svc.RecordConsent(e.Ctx, n, "", phonebook.ConsentInput{Type: st.typ, Source: "web form", Evidence: "ip 203.0.113.9", CapturedAt: st.at}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		at   time.Time
		want string
	}{
		{t0.Add(-time.Minute), phonebook.ConsentNone},
		{t0, phonebook.ConsentWritten},
		{t0.Add(5 * time.Minute), phonebook.ConsentWritten},
		{t0.Add(10 * time.Minute), phonebook.ConsentStop},
		{t0.Add(15 * time.Minute), phonebook.ConsentStop},
		{t0.Add(25 * time.Minute), phonebook.ConsentExpress},
		{time.Time{}, phonebook.ConsentExpress},
	}
	for _, tc := range cases {
		st, err := e.Svc.ConsentAt(e.Ctx, "+12015550123", "", tc.at)
		if err != nil {
			t.Fatal(err)
		}
		if st.Type != tc.want {
			t.Errorf("consent at %s: got %s, want %s", tc.at, st.Type, tc.want)
		}
	}
	// A back-dated record goes in the ledger but does not change the
	// current state.
	if _, err := e.Svc.RecordConsent(e.Ctx, n, "", phonebook.ConsentInput{Type: phonebook.ConsentStop, Source: "paper", CapturedAt: t0.Add(15 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		ps := e.Phones(t, c)
		if ps[0].Consent.Type != phonebook.ConsentExpress {
			t.Errorf("customer %d consent: %s, want express", c.ID, ps[0].Consent.Type)
		}
	}
	hist, err := e.Svc.ConsentHistory(e.Ctx, n, "")
	if err != nil || len(hist) != 4 || hist[2].Source != "paper" {
		t.Errorf("ledger: %d records, %v", len(hist), err)
	}
	// STOP by SMS flags every holder.
	res, err := e.Svc.InboundSMS(e.Ctx, "+1 201 555 0123", "  stop. ")
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != phonebook.ConsentStop || res.Keyword != "STOP" || res.Phones != 3 {
		t.Errorf("inbound: %+v", res)
	}
	for _, c := range cs {
		if got := e.Phones(t, c)[0].Consent.Type; got != phonebook.ConsentStop {
			t.Errorf("customer %d after STOP: %s", c.ID, got)
		}
	}
	// A new holder inherits the stop.
	c4 := e.MustCustomer(t, "late")
	if p := e.MustPhone(t, c4, phonebook.PhoneInput{Number: n}); p.Consent.Type != phonebook.ConsentStop {
		t.Errorf("new holder consent: %s, want stop", p.Consent.Type)
	}
	res, err = e.Svc.InboundSMS(e.Ctx, "2015550123", "Hello, is this the pharmacy?")
	if err != nil || res.Action != "none" {
		t.Errorf("plain SMS: %+v %v", res, err)
	}
	res, err = e.Svc.InboundSMS(e.Ctx, "2015550123", "unstop")
	if err != nil || res.Action != phonebook.ConsentExpress {
		t.Errorf("UNSTOP: %+v %v", res, err)
	}
	// Consent set on one phone is the number's consent.
	p := e.Phones(t, cs[0])[0]
	if _, err := e.Svc.UpdatePhone(e.Ctx, ref(cs[0]), pref(p), phonebook.PhoneUpdate{ConsentType: ptr(phonebook.ConsentWritten)}, 0); err != nil {
		t.Fatal(err)
	}
	if got := e.Phones(t, cs[1])[0].Consent.Type; got != phonebook.ConsentWritten {
		t.Errorf("other holder after a phone-level change: %s", got)
	}
	_, err = e.Svc.RecordConsent(e.Ctx, n, "", phonebook.ConsentInput{Type: "maybe"})
	WantCode(t, err, phonebook.ECodeValidation, "type")
	_, err = e.Svc.RecordConsent(e.Ctx, "nope", "", phonebook.ConsentInput{Type: "stop"})
	WantCode(t, err, phonebook.ECodeInvalidNumber, "number")
	// Ledgers are per tenant.
	other := MustTenant(t, e.Svc, phonebook.TenantInput{Slug: "other"})
	st, err := other.Svc.ConsentAt(other.Ctx, n, "", time.Time{})
	if err != nil || st.Type != phonebook.ConsentNone {
		t.Errorf("other tenant: %+v %v", st, err)
	}
}

func testSMSKeywords(t *testing.T, _ Opener) {
	cases := map[string]string{
		"STOP": "stop", "stop": "stop", " Stop! ": "stop", "STOPALL": "stop", "unsubscribe": "stop", "cancel": "stop",
		"end": "stop", "quit": "stop", "revoke": "stop", "optout": "stop", "stop please": "stop",
		"START": "express", "unstop": "express", "": "", "stopping by later": "", "please stop": "", "yes": "",
	}
	for body, want := range cases {
		if _, got := phonebook.SMSKeyword(body); got != want {
			t.Errorf("SMSKeyword(%q) = %q, want %q", body, got, want)
		}
	}
}

func testWebhookDeliveries(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	w, secret, err := e.Svc.CreateWebhook(e.Ctx, phonebook.WebhookInput{URL: "https://example.com/hook", EventTypes: []string{phonebook.EventPhoneCreated, phonebook.EventPhoneDeleted}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		t.Errorf("secret %q", secret)
	}
	all, _, err := e.Svc.CreateWebhook(e.Ctx, phonebook.WebhookInput{URL: "http://hooks.example.net:9/all", Secret: "my-own-secret-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []phonebook.WebhookInput{{URL: "ftp://x"}, {URL: "not a url"}, {URL: "https://x.example", EventTypes: []string{"phone.exploded"}}, {URL: "https://x.example", Secret: "short"}} {
		_, _, err := e.Svc.CreateWebhook(e.Ctx, in)
		WantCode(t, err, phonebook.ECodeValidation, "")
	}
	c1, c2 := e.MustCustomer(t, "A"), e.MustCustomer(t, "B")
	p := e.MustPhone(t, c1, phonebook.PhoneInput{Number: number(1)})
	e.MustPhone(t, c2, phonebook.PhoneInput{Number: number(2)})
	if err := e.Svc.DeletePhone(e.Ctx, ref(c1), pref(p), 0); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	claimed, err := e.Svc.ClaimDeliveries(ctx, time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	// Per webhook and customer only the oldest pending delivery is due.
	var got []string
	for _, c := range claimed {
		got = append(got, c.Event.Type)
		if c.Webhook.ID == w.ID && c.Webhook.Secret != secret {
			t.Errorf("claimed webhook secret %q, want the plain secret", c.Webhook.Secret)
		}
		if c.Event.TenantSlug != "acme" || len(c.Event.After) == 0 && c.Event.Type != phonebook.EventPhoneDeleted {
			t.Errorf("claimed event %+v", c.Event)
		}
	}
	want := "customer.created,customer.created,phone.created,phone.created"
	if strings.Join(got, ",") != want {
		t.Errorf("first claim: got %s, want %s", strings.Join(got, ","), want)
	}
	// Leased deliveries are not claimed again.
	again, err := e.Svc.ClaimDeliveries(ctx, time.Minute, 100)
	if err != nil || len(again) != 0 {
		t.Errorf("second claim: %d, %v", len(again), err)
	}
	// Record outcomes: the first webhook's phone.created fails once.
	for _, c := range claimed {
		ok := !(c.Webhook.ID == w.ID && c.Delivery.CustomerID == c1.ID)
		at := phonebook.DeliveryAttempt{N: c.Delivery.Attempts, At: time.Now(), StatusCode: map[bool]int{true: 200, false: 500}[ok], DurationMS: 3}
		if !ok {
			at.Reason, at.Error = phonebook.ReasonHTTPStatus, "HTTP 500: boom"
		}
		if err := e.Svc.RecordAttempt(ctx, c.Delivery, at, ok); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := e.Svc.Deliveries(e.Ctx, w.ID, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 { // created, created, deleted
		t.Fatalf("deliveries of the first webhook: %d", len(ds))
	}
	var failed *phonebook.Delivery
	for _, d := range ds {
		if d.CustomerID == c1.ID && d.EventType == phonebook.EventPhoneCreated {
			failed = d
		}
	}
	if failed == nil || failed.Status != phonebook.DeliveryPending || failed.Attempts != 1 || len(failed.AttemptLog) != 1 ||
		failed.AttemptLog[0].StatusCode != 500 || failed.AttemptLog[0].Reason != phonebook.ReasonHTTPStatus ||
		failed.AttemptLog[0].Error != "HTTP 500: boom" || failed.NextAttemptAt == nil {
		t.Fatalf("failed delivery: %+v", failed)
	}
	// Requeue makes it due now.
	if _, err := e.Svc.Redeliver(e.Ctx, w.ID, failed.ID); err != nil {
		t.Fatal(err)
	}
	next, err := e.Svc.ClaimDeliveries(ctx, time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range next {
		if c.Delivery.ID == failed.ID {
			found = true
			if c.Delivery.Attempts != 2 {
				t.Errorf("attempts: %d", c.Delivery.Attempts)
			}
		}
	}
	if !found {
		t.Error("requeued delivery not claimed")
	}
	_, err = e.Svc.Redeliver(e.Ctx, w.ID, 999999)
	WantCode(t, err, phonebook.ECodeNotFound, "")
	hooks, err := e.Svc.Webhooks(e.Ctx)
	if err != nil || len(hooks) != 2 {
		t.Errorf("webhooks: %d %v", len(hooks), err)
	}
	other := MustTenant(t, e.Svc, phonebook.TenantInput{Slug: "other"})
	WantCode(t, other.Svc.DeleteWebhook(other.Ctx, all.ID), phonebook.ECodeNotFound, "")
	_, err = other.Svc.Deliveries(other.Ctx, w.ID, 10)
	WantCode(t, err, phonebook.ECodeNotFound, "")
	if err := e.Svc.DeleteWebhook(e.Ctx, all.ID); err != nil {
		t.Fatal(err)
	}
	if d := phonebook.Backoff(1); d != time.Second {
		t.Errorf("Backoff(1) = %s", d)
	}
	if d := phonebook.Backoff(30); d != time.Hour {
		t.Errorf("Backoff(30) = %s", d)
	}
}

func testPublications(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	ctx := context.Background()
	e.MustCustomer(t, "before") // before registration: not queued
	if err := e.Svc.RegisterPublisher(ctx, "nats"); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.RegisterPublisher(ctx, "nats"); err != nil {
		t.Fatal(err)
	}
	c := e.MustCustomer(t, "after")
	e.MustPhone(t, c, phonebook.PhoneInput{Number: number(1)})
	var got []string
	fail := true
	publish := func(ev *phonebook.Event) error {
		if ev.Type == phonebook.EventPhoneCreated && fail {
			fail = false
			return context.DeadlineExceeded
		}
		got = append(got, ev.Type)
		return nil
	}
	n, ok, err := e.Svc.PublishPending(ctx, "nats", "node-1", time.Minute, 100, publish)
	if n != 1 || !ok || err == nil {
		t.Errorf("first publish: %d %v %v", n, ok, err)
	}
	// Another node waits for the lease.
	if _, ok, err := e.Svc.PublishPending(ctx, "nats", "node-2", time.Minute, 100, publish); ok || err != nil {
		t.Errorf("second node: ok %v err %v, want a refusal", ok, err)
	}
	n, ok, err = e.Svc.PublishPending(ctx, "nats", "node-1", time.Minute, 100, publish)
	if err != nil || !ok || n != 1 {
		t.Errorf("retry: %d %v %v", n, ok, err)
	}
	if want := "customer.created,phone.created"; strings.Join(got, ",") != want {
		t.Errorf("published %s, want %s", strings.Join(got, ","), want)
	}
	n, _, err = e.Svc.PublishPending(ctx, "nats", "node-1", time.Minute, 100, publish)
	if n != 0 || err != nil {
		t.Errorf("nothing left: %d %v", n, err)
	}
}

// testWebhookLimit: a tenant has at most the policy's MaxPerTenant
// webhooks, also when creates race on several connections; other
// tenants are counted apart, and a delete makes room.
func testWebhookLimit(t *testing.T, open Opener) {
	e := MustEnv(t, open, "acme")
	const max = 5
	e.Svc.SetWebhookPolicy(phonebook.WebhookPolicy{MaxPerTenant: max})
	errs := concurrently(20, func(i int) error {
		_, _, err := e.Svc.CreateWebhook(e.Ctx, phonebook.WebhookInput{URL: fmt.Sprintf("https://example.com/hook/%d", i)})
		return err
	})
	ok, limited := 0, 0
	for i, err := range errs {
		switch phonebook.ErrorCode(err) {
		case "":
			ok++
		case phonebook.ECodeWebhookLimit:
			limited++
		default:
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if ok != max || limited != 20-max {
		t.Errorf("got %d created and %d webhook_limit, want %d and %d", ok, limited, max, 20-max)
	}
	hooks, err := e.Svc.Webhooks(e.Ctx)
	if err != nil || len(hooks) != max {
		t.Fatalf("webhooks: got %d (%v), want %d", len(hooks), err, max)
	}
	other := MustTenant(t, e.Svc, phonebook.TenantInput{Slug: "other"})
	if _, _, err := other.Svc.CreateWebhook(other.Ctx, phonebook.WebhookInput{URL: "https://example.com/other"}); err != nil {
		t.Errorf("another tenant's first webhook: %v", err)
	}
	if err := e.Svc.DeleteWebhook(e.Ctx, hooks[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Svc.CreateWebhook(e.Ctx, phonebook.WebhookInput{URL: "https://example.com/after-delete"}); err != nil {
		t.Errorf("a create after a delete: %v", err)
	}
	_, _, err = e.Svc.CreateWebhook(e.Ctx, phonebook.WebhookInput{URL: "https://example.com/one-more"})
	WantCode(t, err, phonebook.ECodeWebhookLimit, "")
}
