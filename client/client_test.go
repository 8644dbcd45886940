package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phonebook/phonebook/client"
)

func TestCustomerLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	var info client.ResponseInfo
	c, err := e.writer.CreateCustomer(ctx, client.CustomerInput{Name: "Ada Lovelace", ExternalID: "crm-42"}, client.Capture(&info))
	if err != nil {
		t.Fatalf("CreateCustomer: %v", err)
	}
	if c.ID < 100000 || len(c.UUID) != 36 || c.Name != "Ada Lovelace" || c.ExternalID != "crm-42" ||
		c.Status != client.StatusActive || c.Version != 1 || c.Phones == nil || len(c.Phones) != 0 || c.CreatedAt.IsZero() {
		t.Errorf("CreateCustomer: got %+v", c)
	}
	if got, want := c.ETag, client.ETag(c.Version); got != want {
		t.Errorf("CreateCustomer ETag: got %q, want %q", got, want)
	}
	if got, want := info, (client.ResponseInfo{Status: 201, ETag: c.ETag, Location: "/v1/customers/" + client.ID(c.ID), RequestID: info.RequestID}); got != want || info.RequestID == "" {
		t.Errorf("CreateCustomer response: got %+v, want %+v", got, want)
	}

	// by integer id, by uuid, by upper-case uuid
	for _, id := range []string{client.ID(c.ID), c.UUID, strings.ToUpper(c.UUID)} {
		got, err := e.reader.GetCustomer(ctx, id)
		if err != nil {
			t.Fatalf("GetCustomer(%s): %v", id, err)
		}
		if got.ID != c.ID || got.ETag != c.ETag || got.Name != c.Name {
			t.Errorf("GetCustomer(%s): got %+v, want %+v", id, got, c)
		}
	}

	// If-None-Match: 304 while unchanged, the body when the tag is another.
	if got, err := e.reader.GetCustomer(ctx, c.UUID, client.IfNoneMatch(c.ETag)); !errors.Is(err, client.ErrNotModified) || got != nil {
		t.Errorf("GetCustomer IfNoneMatch current: got %v, %v, want nil, ErrNotModified", got, err)
	}
	if got := client.StatusCode(client.ErrNotModified); got != http.StatusNotModified {
		t.Errorf("StatusCode(ErrNotModified): got %d, want 304", got)
	}
	if _, err := e.reader.GetCustomer(ctx, c.UUID, client.IfNoneMatch("1")); !errors.Is(err, client.ErrNotModified) {
		t.Errorf("GetCustomer IfNoneMatch bare version 1: got %v, want ErrNotModified", err)
	}
	if got, err := e.reader.GetCustomer(ctx, c.UUID, client.IfNoneMatch(`"7"`)); err != nil || got.ID != c.ID {
		t.Errorf("GetCustomer IfNoneMatch other: got %v, %v, want the customer", got, err)
	}

	// PATCH with the current tag, then with the stale one.
	upd, err := e.writer.UpdateCustomer(ctx, client.ID(c.ID), client.CustomerPatch{Name: client.String("Ada King"), Status: client.String(client.StatusInactive)}, client.IfMatch(c.ETag))
	if err != nil {
		t.Fatalf("UpdateCustomer: %v", err)
	}
	if upd.Name != "Ada King" || upd.Status != client.StatusInactive || upd.ExternalID != "crm-42" || upd.Version != 2 || upd.ETag != `"2"` {
		t.Errorf("UpdateCustomer: got %+v", upd)
	}
	_, err = e.writer.UpdateCustomer(ctx, client.ID(c.ID), client.CustomerPatch{Name: client.String("stale")}, client.IfMatch(c.ETag))
	checkErr(t, "UpdateCustomer stale IfMatch", err, wantErr{412, client.CodePreconditionFailed, ""})
	if !client.IsPreconditionFailed(err) {
		t.Errorf("IsPreconditionFailed(%v) = false", err)
	}
	if _, err := e.reader.GetCustomer(ctx, c.UUID, client.IfNoneMatch(c.ETag)); err != nil {
		t.Errorf("GetCustomer IfNoneMatch of the old version: got %v, want the customer", err)
	}
	// clearing external_id with ""
	upd, err = e.writer.UpdateCustomer(ctx, c.UUID, client.CustomerPatch{ExternalID: client.String("")})
	if err != nil || upd.ExternalID != "" {
		t.Errorf("UpdateCustomer clear external_id: got %+v, %v", upd, err)
	}

	// DELETE: stale tag, then current, then gone.
	err = e.writer.DeleteCustomer(ctx, client.ID(c.ID), client.IfMatch(c.ETag))
	checkErr(t, "DeleteCustomer stale IfMatch", err, wantErr{412, client.CodePreconditionFailed, ""})
	if err := e.writer.DeleteCustomer(ctx, client.ID(c.ID), client.IfMatch(upd.ETag)); err != nil {
		t.Fatalf("DeleteCustomer: %v", err)
	}
	_, err = e.reader.GetCustomer(ctx, client.ID(c.ID))
	checkErr(t, "GetCustomer deleted", err, wantErr{404, client.CodeNotFound, ""})
	if !client.IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
	checkErr(t, "DeleteCustomer deleted", e.writer.DeleteCustomer(ctx, c.UUID), wantErr{404, client.CodeNotFound, ""})
}

func TestPhones(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.mustCustomer(t, client.CustomerInput{Name: "Ada"})
	cid := client.ID(c.ID)

	p1, err := e.writer.AddPhone(ctx, cid, client.PhoneInput{
		Number: "(504) 555-0123", Type: "mobile", Label: "desk", Extension: "12",
		Consent: &client.ConsentInput{Type: client.ConsentWritten, Source: "web form"},
	})
	if err != nil {
		t.Fatalf("AddPhone: %v", err)
	}
	if p1.CustomerID != c.ID || p1.E164 != "+15045550123" || p1.Raw != "(504) 555-0123" || p1.Extension != "12" ||
		p1.Type != "mobile" || p1.Label != "desk" || !p1.IsPrimary || p1.Region != "US" || p1.CountryCode != 1 ||
		p1.Consent.Type != client.ConsentWritten || p1.Consent.Source != "web form" || p1.Consent.UpdatedAt == nil ||
		p1.ETag != client.ETag(p1.Version) || p1.ETag == "" {
		t.Errorf("AddPhone: got %+v", p1)
	}
	p2 := e.mustPhone(t, c, client.PhoneInput{Number: "+44 20 7946 0958", Type: "work"})
	if p2.IsPrimary || p2.Region != "GB" {
		t.Errorf("second phone: got primary %v region %q, want false GB", p2.IsPrimary, p2.Region)
	}

	// Errors of AddPhone.
	for _, tc := range []struct {
		name string
		in   client.PhoneInput
		want wantErr
	}{
		{"duplicate other format", client.PhoneInput{Number: "+1 504 555 0123 x12"}, wantErr{409, client.CodePhoneDuplicate, "number"}},
		{"invalid number", client.PhoneInput{Number: "12"}, wantErr{422, client.CodeInvalidNumber, "number"}},
		{"unknown type", client.PhoneInput{Number: "+1 504 555 0199", Type: "pager"}, wantErr{422, client.CodeTypeUnknown, "type"}},
		{"bad status", client.PhoneInput{Number: "+1 504 555 0199", Status: "gone"}, wantErr{422, client.CodeValidation, "status"}},
		{"no number", client.PhoneInput{}, wantErr{422, client.CodeValidation, "number"}},
	} {
		_, err := e.writer.AddPhone(ctx, cid, tc.in)
		checkErr(t, "AddPhone "+tc.name, err, tc.want)
	}
	_, err = e.writer.AddPhone(ctx, "999999", client.PhoneInput{Number: "+1 504 555 0199"})
	checkErr(t, "AddPhone unknown customer", err, wantErr{404, client.CodeNotFound, ""})

	phones, err := e.reader.ListPhones(ctx, c.UUID)
	if err != nil {
		t.Fatalf("ListPhones: %v", err)
	}
	if got, want := ids(phones), []int64{p1.ID, p2.ID}; !slices.Equal(got, want) {
		t.Errorf("ListPhones: got ids %v, want %v", got, want)
	}
	_, err = e.reader.ListPhones(ctx, "not-an-id")
	checkErr(t, "ListPhones bad id", err, wantErr{404, client.CodeNotFound, ""})

	for _, id := range []string{client.ID(p1.ID), p1.UUID} {
		got, err := e.reader.GetPhone(ctx, cid, id)
		if err != nil || got.ID != p1.ID || got.ETag != p1.ETag {
			t.Errorf("GetPhone(%s): got %+v, %v, want phone %d", id, got, err, p1.ID)
		}
	}
	if _, err := e.reader.GetPhone(ctx, cid, client.ID(p1.ID), client.IfNoneMatch(p1.ETag)); !errors.Is(err, client.ErrNotModified) {
		t.Errorf("GetPhone IfNoneMatch: got %v, want ErrNotModified", err)
	}

	// PATCH, then stale PATCH, PUT and DELETE.
	up, err := e.writer.UpdatePhone(ctx, cid, client.ID(p2.ID), client.PhonePatch{
		Label: client.String("London"), IsPrimary: client.Bool(true), Consent: &client.ConsentPatch{Type: client.String(client.ConsentExpress)},
	}, client.IfMatch(p2.ETag))
	if err != nil {
		t.Fatalf("UpdatePhone: %v", err)
	}
	if up.Label != "London" || !up.IsPrimary || up.Type != "work" || up.Consent.Type != client.ConsentExpress || up.Version != p2.Version+1 {
		t.Errorf("UpdatePhone: got %+v", up)
	}
	if old, _ := e.reader.GetPhone(ctx, cid, client.ID(p1.ID)); old == nil || old.IsPrimary {
		t.Errorf("old primary after UpdatePhone is_primary: got %+v, want not primary", old)
	}
	_, err = e.writer.UpdatePhone(ctx, cid, client.ID(p2.ID), client.PhonePatch{Label: client.String("x")}, client.IfMatch(p2.ETag))
	checkErr(t, "UpdatePhone stale IfMatch", err, wantErr{412, client.CodePreconditionFailed, ""})
	_, err = e.writer.ReplacePhone(ctx, cid, client.ID(p2.ID), client.PhoneReplace{Number: "+44 20 7946 0959"}, client.IfMatch(p2.ETag))
	checkErr(t, "ReplacePhone stale IfMatch", err, wantErr{412, client.CodePreconditionFailed, ""})
	err = e.writer.DeletePhone(ctx, cid, client.ID(p2.ID), client.IfMatch(p2.ETag))
	checkErr(t, "DeletePhone stale IfMatch", err, wantErr{412, client.CodePreconditionFailed, ""})
	_, err = e.writer.UpdatePhone(ctx, cid, client.ID(p2.ID), client.PhonePatch{Number: client.String("+1 504 555 0123"), Extension: client.String("12")})
	checkErr(t, "UpdatePhone to a duplicate", err, wantErr{409, client.CodePhoneDuplicate, "number"})

	rp, err := e.writer.ReplacePhone(ctx, cid, p2.UUID, client.PhoneReplace{Number: "+44 20 7946 0959", Type: "home"}, client.IfMatch(up.ETag))
	if err != nil {
		t.Fatalf("ReplacePhone: %v", err)
	}
	if rp.E164 != "+442079460959" || rp.Type != "home" || rp.Label != "" || !rp.IsPrimary || rp.Consent.Type != client.ConsentExpress || rp.ETag == "" {
		t.Errorf("ReplacePhone: got %+v (label cleared, primary and consent kept)", rp)
	}
	_, err = e.writer.ReplacePhone(ctx, cid, p2.UUID, client.PhoneReplace{})
	checkErr(t, "ReplacePhone without number", err, wantErr{422, client.CodeValidation, "number"})

	if err := e.writer.DeletePhone(ctx, cid, client.ID(p2.ID), client.IfMatch(rp.ETag)); err != nil {
		t.Fatalf("DeletePhone: %v", err)
	}
	_, err = e.reader.GetPhone(ctx, cid, client.ID(p2.ID))
	checkErr(t, "GetPhone deleted", err, wantErr{404, client.CodeNotFound, ""})
	checkErr(t, "DeletePhone deleted", e.writer.DeletePhone(ctx, cid, client.ID(p2.ID)), wantErr{404, client.CodeNotFound, ""})
	// the customer of the phones
	got, err := e.reader.GetCustomer(ctx, cid)
	if err != nil || len(got.Phones) != 1 || got.Phones[0].ID != p1.ID || !got.Phones[0].IsPrimary {
		t.Errorf("GetCustomer after the phone changes: got %+v, %v, want phone %d alone and primary", got, err, p1.ID)
	}
}

func ids(phones []client.Phone) []int64 {
	var out []int64
	for _, p := range phones {
		out = append(out, p.ID)
	}
	return out
}

func TestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	taken := e.mustCustomer(t, client.CustomerInput{ExternalID: "taken"})
	bad := client.New(e.srv.URL, "pb_not-a-key")

	for _, tc := range []struct {
		name string
		call func() error
		want wantErr
	}{
		{"bad key", func() error { _, err := bad.GetCustomer(ctx, client.ID(taken.ID)); return err }, wantErr{401, client.CodeUnauthorized, ""}},
		{"read key writes", func() error { _, err := e.reader.CreateCustomer(ctx, client.CustomerInput{}); return err }, wantErr{403, client.CodeForbidden, ""}},
		{"writer adds a type", func() error { _, err := e.writer.CreatePhoneType(ctx, "pager"); return err }, wantErr{403, client.CodeForbidden, ""}},
		{"unknown customer", func() error { _, err := e.reader.GetCustomer(ctx, "100999"); return err }, wantErr{404, client.CodeNotFound, ""}},
		{"not an id", func() error { _, err := e.reader.GetCustomer(ctx, "nobody"); return err }, wantErr{404, client.CodeNotFound, ""}},
		{"id with a slash", func() error { _, err := e.reader.GetCustomer(ctx, "1/phones"); return err }, wantErr{404, client.CodeNotFound, ""}},
		{"bad status", func() error {
			_, err := e.writer.CreateCustomer(ctx, client.CustomerInput{Status: "gone"})
			return err
		}, wantErr{422, client.CodeValidation, "status"}},
		{"external_id taken", func() error {
			_, err := e.writer.CreateCustomer(ctx, client.CustomerInput{ExternalID: "taken"})
			return err
		}, wantErr{409, client.CodeConflict, "external_id"}},
		{"limit too big", func() error {
			_, err := e.reader.ListCustomers(ctx, client.ListCustomersParams{Limit: 501})
			return err
		}, wantErr{422, client.CodeValidation, "limit"}},
		{"bad sort", func() error {
			_, err := e.reader.ListCustomers(ctx, client.ListCustomersParams{Sort: "id"})
			return err
		}, wantErr{422, client.CodeValidation, "sort"}},
		{"bad cursor", func() error {
			_, err := e.reader.ListCustomers(ctx, client.ListCustomersParams{Cursor: "nope"})
			return err
		}, wantErr{422, client.CodeValidation, "cursor"}},
		{"lookup without number", func() error { _, err := e.reader.LookupNumber(ctx, "", ""); return err }, wantErr{422, client.CodeValidation, "number"}},
		{"lookup bad number", func() error { _, err := e.reader.LookupNumber(ctx, "12", ""); return err }, wantErr{422, client.CodeInvalidNumber, "number"}},
		{"empty batch", func() error { _, err := e.writer.BatchPhones(ctx, nil); return err }, wantErr{422, client.CodeValidation, "records"}},
	} {
		err := tc.call()
		checkErr(t, tc.name, err, tc.want)
		e.checkNoKey(t, err)
	}
	if err := bad.Health(ctx); err != nil {
		t.Errorf("Health with a bad key (a public route): %v", err)
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  *client.Error
		want string
	}{
		{&client.Error{Method: "POST", Path: "/v1/customers/100000/phones", Status: 409, Code: "phone_duplicate",
			Detail: "the customer already has this phone number", Errors: []client.FieldError{{Field: "number"}}},
			"phonebook: POST /v1/customers/100000/phones: 409 phone_duplicate: the customer already has this phone number (number)"},
		{&client.Error{Status: 502, Title: "Bad Gateway"}, "phonebook: 502: Bad Gateway"},
		{&client.Error{Status: 422, Code: "validation", Detail: "bad", Errors: []client.FieldError{{Field: "a"}, {Field: "b"}}}, "phonebook: 422 validation: bad (a, b)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error(): got %q, want %q", got, tc.want)
		}
	}
	wrapped := fmt.Errorf("adding: %w", &client.Error{Status: 404, Code: "not_found"})
	if !client.IsNotFound(wrapped) || client.ErrorCode(wrapped) != "not_found" || client.IsConflict(wrapped) {
		t.Errorf("helpers on a wrapped error: IsNotFound %v ErrorCode %q IsConflict %v", client.IsNotFound(wrapped), client.ErrorCode(wrapped), client.IsConflict(wrapped))
	}
	if !client.IsRateLimited(&client.Error{Status: 429}) || client.IsRateLimited(wrapped) {
		t.Errorf("IsRateLimited: wrong answer")
	}
	for _, err := range []error{nil, errors.New("boom")} {
		if client.IsNotFound(err) || client.ErrorCode(err) != "" || client.StatusCode(err) != 0 || client.AsError(err) != nil {
			t.Errorf("helpers on %v: want false, \"\", 0, nil", err)
		}
	}
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	var first, again client.ResponseInfo
	c1, err := e.writer.CreateCustomer(ctx, client.CustomerInput{Name: "Once"}, client.IdempotencyKey("k-1"), client.Capture(&first))
	if err != nil {
		t.Fatalf("CreateCustomer: %v", err)
	}
	c2, err := e.writer.CreateCustomer(ctx, client.CustomerInput{Name: "Once"}, client.IdempotencyKey("k-1"), client.Capture(&again))
	if err != nil {
		t.Fatalf("CreateCustomer replay: %v", err)
	}
	if c1.ID != c2.ID || c1.ETag != c2.ETag || c2.ETag == "" {
		t.Errorf("replay: got customer %d %s, want %d %s", c2.ID, c2.ETag, c1.ID, c1.ETag)
	}
	if first.Replayed || !again.Replayed || again.Status != 201 || again.Location != first.Location {
		t.Errorf("replay: got first %+v, again %+v", first, again)
	}
	_, err = e.writer.CreateCustomer(ctx, client.CustomerInput{Name: "Other"}, client.IdempotencyKey("k-1"))
	checkErr(t, "same key, other body", err, wantErr{422, client.CodeIdempotencyKeyReused, ""})
	page, err := e.reader.ListCustomers(ctx, client.ListCustomersParams{})
	if err != nil || len(page.Data) != 1 {
		t.Errorf("customers after the replay: got %v, %v, want one", page, err)
	}

	// A stored error is replayed too.
	in := client.PhoneInput{Number: "+1 504 555 0123"}
	p, err := e.writer.AddPhone(ctx, client.ID(c1.ID), in, client.IdempotencyKey("p-1"))
	if err != nil {
		t.Fatalf("AddPhone: %v", err)
	}
	p2, err := e.writer.AddPhone(ctx, client.ID(c1.ID), in, client.IdempotencyKey("p-1"))
	if err != nil || p2.ID != p.ID {
		t.Errorf("AddPhone replay: got %+v, %v, want phone %d", p2, err, p.ID)
	}
	_, err = e.writer.AddPhone(ctx, client.ID(c1.ID), in, client.IdempotencyKey("p-2"))
	checkErr(t, "AddPhone duplicate, new key", err, wantErr{409, client.CodePhoneDuplicate, "number"})
	var info client.ResponseInfo
	_, err = e.writer.AddPhone(ctx, client.ID(c1.ID), in, client.IdempotencyKey("p-2"), client.Capture(&info))
	checkErr(t, "AddPhone duplicate replayed", err, wantErr{409, client.CodePhoneDuplicate, "number"})
	if !info.Replayed || info.Status != 409 {
		t.Errorf("replayed 409: got %+v", info)
	}

	recs := []client.BatchRecord{{CustomerID: c1.UUID, PhoneInput: client.PhoneInput{Number: "+1 504 555 0177"}}}
	b1, err := e.writer.BatchPhones(ctx, recs, client.IdempotencyKey("b-1"))
	if err != nil {
		t.Fatalf("BatchPhones: %v", err)
	}
	b2, err := e.writer.BatchPhones(ctx, recs, client.IdempotencyKey("b-1"))
	if err != nil || b2.Counts != b1.Counts || b2.Results[0].Status != client.BatchCreated {
		t.Errorf("BatchPhones replay: got %+v, %v, want %+v (created, as the first)", b2, err, b1)
	}

	pt, err := e.admin.CreatePhoneType(ctx, "pager", client.IdempotencyKey("t-1"))
	if err != nil {
		t.Fatalf("CreatePhoneType: %v", err)
	}
	pt2, err := e.admin.CreatePhoneType(ctx, "pager", client.IdempotencyKey("t-1"))
	if err != nil || *pt2 != *pt {
		t.Errorf("CreatePhoneType replay: got %+v, %v, want %+v", pt2, err, pt)
	}
}

func TestListAndIterateCustomers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	names := []string{"Carol", "alice", "Bob", "Dave", "Erin", "Frank", "Grace"}
	var made []*client.Customer
	for i, n := range names {
		in := client.CustomerInput{Name: n, ExternalID: "ext-" + n}
		if i%3 == 2 {
			in.Status = client.StatusInactive
		}
		made = append(made, e.mustCustomer(t, in))
	}
	e.mustPhone(t, made[1], client.PhoneInput{Number: "+1 504 555 0123"})

	for _, tc := range []struct {
		name   string
		params client.ListCustomersParams
		want   []string
	}{
		{"all", client.ListCustomersParams{}, names},
		{"external_id", client.ListCustomersParams{ExternalID: "ext-Dave"}, []string{"Dave"}},
		{"phone in another format", client.ListCustomersParams{Phone: "(504) 555-0123"}, []string{"alice"}},
		{"q", client.ListCustomersParams{Q: "RA"}, []string{"Frank", "Grace"}},
		{"status", client.ListCustomersParams{Status: client.StatusInactive}, []string{"Bob", "Frank"}},
		{"newest first", client.ListCustomersParams{Sort: client.SortCreatedDesc}, reversed(names)},
		// sort=name ignores case
		{"by name", client.ListCustomersParams{Sort: client.SortName}, []string{"alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace"}},
		{"by name, pages of 2", client.ListCustomersParams{Sort: client.SortName, Limit: 2}, []string{"alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace"}},
		{"pages of 3", client.ListCustomersParams{Limit: 3}, names},
		{"pages of 1, active", client.ListCustomersParams{Limit: 1, Status: client.StatusActive}, []string{"Carol", "alice", "Dave", "Erin", "Grace"}},
	} {
		var got []string
		pages := 0
		err := e.reader.IterateCustomers(ctx, tc.params, func(c *client.Customer) error {
			got = append(got, c.Name)
			if c.Phones == nil {
				return fmt.Errorf("customer %d without phones", c.ID)
			}
			return nil
		})
		if err != nil {
			t.Errorf("IterateCustomers %s: %v", tc.name, err)
		}
		if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("IterateCustomers %s: got %v, want %v", tc.name, got, tc.want)
		}
		// the same pages by hand
		p := tc.params
		var byHand []string
		for {
			page, err := e.reader.ListCustomers(ctx, p)
			if err != nil {
				t.Fatalf("ListCustomers %s: %v", tc.name, err)
			}
			pages++
			for _, c := range page.Data {
				byHand = append(byHand, c.Name)
			}
			if page.HasMore != (page.NextCursor != "") {
				t.Errorf("ListCustomers %s: has_more %v with next_cursor %q", tc.name, page.HasMore, page.NextCursor)
			}
			if !page.HasMore {
				break
			}
			p.Cursor = page.NextCursor
		}
		if !slices.Equal(byHand, got) {
			t.Errorf("ListCustomers %s by hand: got %v, want %v", tc.name, byHand, got)
		}
		if tc.params.Limit > 0 {
			if want := (len(tc.want) + tc.params.Limit - 1) / tc.params.Limit; pages < want {
				t.Errorf("ListCustomers %s: got %d pages, want at least %d", tc.name, pages, want)
			}
		}
	}

	// fn's error stops the walk and comes back as is.
	stop := errors.New("stop")
	n := 0
	err := e.reader.IterateCustomers(ctx, client.ListCustomersParams{Limit: 2}, func(*client.Customer) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("IterateCustomers stopped: got %v after %d, want stop after 3", err, n)
	}
	// a server error comes back too
	err = e.reader.IterateCustomers(ctx, client.ListCustomersParams{Limit: 1000}, func(*client.Customer) error { return nil })
	checkErr(t, "IterateCustomers limit 1000", err, wantErr{422, client.CodeValidation, "limit"})
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func TestBatchPhones(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := e.mustCustomer(t, client.CustomerInput{Name: "A"})
	b := e.mustCustomer(t, client.CustomerInput{Name: "B", ExternalID: "crm-b"})
	old := e.mustPhone(t, a, client.PhoneInput{Number: "+1 504 555 0100"})

	res, err := e.writer.BatchPhones(ctx, []client.BatchRecord{
		{CustomerID: client.ID(a.ID), PhoneInput: client.PhoneInput{Number: "+1 504 555 0101", Type: "mobile"}},
		{CustomerID: a.UUID, PhoneInput: client.PhoneInput{Number: "(504) 555-0100", Label: "home line"}},
		{ExternalID: "crm-b", PhoneInput: client.PhoneInput{Number: "12"}},
		{ExternalID: "nobody", PhoneInput: client.PhoneInput{Number: "+1 504 555 0102"}},
		{CustomerID: client.ID(b.ID), ExternalID: "crm-b", PhoneInput: client.PhoneInput{Number: "+1 504 555 0102"}},
		{ExternalID: "crm-b", PhoneInput: client.PhoneInput{Number: "+1 504 555 0102", IsPrimary: true}},
	})
	if err != nil {
		t.Fatalf("BatchPhones: %v", err)
	}
	if got, want := res.Counts, (client.BatchCounts{Total: 6, Created: 2, Updated: 1, Failed: 3}); got != want {
		t.Errorf("BatchPhones counts: got %+v, want %+v", got, want)
	}
	want := []struct {
		status string
		err    wantErr
	}{
		{client.BatchCreated, wantErr{}},
		{client.BatchUpdated, wantErr{}},
		{client.BatchError, wantErr{422, client.CodeInvalidNumber, "records[2].number"}},
		{client.BatchError, wantErr{404, client.CodeNotFound, "records[3].external_id"}},
		{client.BatchError, wantErr{422, client.CodeValidation, "records[4].customer_id"}},
		{client.BatchCreated, wantErr{}},
	}
	if len(res.Results) != len(want) {
		t.Fatalf("BatchPhones: got %d results, want %d", len(res.Results), len(want))
	}
	for i, r := range res.Results {
		w := want[i]
		if r.Index != i || r.Status != w.status {
			t.Errorf("result %d: got index %d status %s, want %d %s", i, r.Index, r.Status, i, w.status)
		}
		if w.status == client.BatchError {
			if r.Phone != nil || r.Error == nil {
				t.Errorf("result %d: got phone %v error %v, want an error alone", i, r.Phone, r.Error)
				continue
			}
			if r.Error.Status != w.err.status || r.Error.Code != w.err.code || len(r.Error.Errors) == 0 || r.Error.Errors[0].Field != w.err.field ||
				r.Error.Instance != fmt.Sprintf("records/%d", i) {
				t.Errorf("result %d: got error %+v, want %+v", i, r.Error, w.err)
			}
			continue
		}
		if r.Phone == nil || r.Error != nil {
			t.Errorf("result %d: got phone %v error %v, want a phone alone", i, r.Phone, r.Error)
		}
	}
	if p := res.Results[1].Phone; p == nil || p.ID != old.ID || p.Label != "home line" {
		t.Errorf("updated phone: got %+v, want phone %d labelled", p, old.ID)
	}
	if p := res.Results[5].Phone; p == nil || p.CustomerID != b.ID || !p.IsPrimary {
		t.Errorf("created phone of B: got %+v", p)
	}
}

func TestLookupNumber(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := e.mustCustomer(t, client.CustomerInput{Name: "A"})
	b := e.mustCustomer(t, client.CustomerInput{Name: "B"})
	pa := e.mustPhone(t, a, client.PhoneInput{Number: "(504) 555-0123"})
	pb := e.mustPhone(t, b, client.PhoneInput{Number: "+15045550123", Extension: "7"})
	e.mustPhone(t, b, client.PhoneInput{Number: "+1 504 555 0999"})

	for _, tc := range []struct {
		number, country string
		wantE164        string
		wantPhones      []int64
	}{
		{"504.555.0123", "", "+15045550123", []int64{pa.ID, pb.ID}},
		{"5045550123", "US", "+15045550123", []int64{pa.ID, pb.ID}},
		{"+1 504 555 0999", "", "+15045550999", []int64{pb.ID + 1}},
		{"+1 504 555 0100", "", "+15045550100", nil},
		{"020 7946 0958", "GB", "+442079460958", nil},
	} {
		got, err := e.reader.LookupNumber(ctx, tc.number, tc.country)
		if err != nil {
			t.Errorf("LookupNumber(%q, %q): %v", tc.number, tc.country, err)
			continue
		}
		var phones []int64
		for _, m := range got.Data {
			phones = append(phones, m.Phone.ID)
			if m.Customer.ID != m.Phone.CustomerID {
				t.Errorf("LookupNumber(%q): match of phone %d has customer %d", tc.number, m.Phone.ID, m.Customer.ID)
			}
		}
		if got.E164 != tc.wantE164 || !slices.Equal(phones, tc.wantPhones) || got.Data == nil {
			t.Errorf("LookupNumber(%q, %q): got %s %v, want %s %v", tc.number, tc.country, got.E164, phones, tc.wantE164, tc.wantPhones)
		}
	}
}

func TestPhoneTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	types, err := e.reader.ListPhoneTypes(ctx)
	if err != nil {
		t.Fatalf("ListPhoneTypes: %v", err)
	}
	var names []string
	for _, pt := range types {
		names = append(names, pt.Name)
		if !pt.BuiltIn || pt.CreatedAt.IsZero() {
			t.Errorf("built-in type %+v", pt)
		}
	}
	slices.Sort(names)
	if want := []string{"fax", "home", "mobile", "other", "work"}; !slices.Equal(names, want) {
		t.Errorf("ListPhoneTypes: got %v, want %v", names, want)
	}

	pt, err := e.admin.CreatePhoneType(ctx, "  Pager ")
	if err != nil || pt.Name != "pager" || pt.BuiltIn {
		t.Fatalf("CreatePhoneType: got %+v, %v, want pager", pt, err)
	}
	_, err = e.admin.CreatePhoneType(ctx, "pager")
	checkErr(t, "CreatePhoneType again", err, wantErr{409, client.CodeConflict, "name"})
	_, err = e.admin.CreatePhoneType(ctx, "")
	checkErr(t, "CreatePhoneType empty", err, wantErr{422, client.CodeValidation, "name"})

	c := e.mustCustomer(t, client.CustomerInput{})
	p := e.mustPhone(t, c, client.PhoneInput{Number: "+1 504 555 0123", Type: "PAGER"})
	checkErr(t, "DeletePhoneType in use", e.admin.DeletePhoneType(ctx, "pager"), wantErr{409, client.CodeTypeInUse, ""})
	if err := e.writer.DeletePhone(ctx, client.ID(c.ID), client.ID(p.ID)); err != nil {
		t.Fatalf("DeletePhone: %v", err)
	}
	checkErr(t, "DeletePhoneType by a writer", e.writer.DeletePhoneType(ctx, "pager"), wantErr{403, client.CodeForbidden, ""})
	if err := e.admin.DeletePhoneType(ctx, "pager"); err != nil {
		t.Errorf("DeletePhoneType: %v", err)
	}
	checkErr(t, "DeletePhoneType gone", e.admin.DeletePhoneType(ctx, "pager"), wantErr{404, client.CodeNotFound, ""})
}

func TestHealthReady(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if err := e.reader.Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
	if err := e.reader.Ready(ctx); err != nil {
		t.Errorf("Ready: %v", err)
	}
}

// TestWire checks what goes on the wire and how answers that are no
// problem document read, against a fake server.
func TestWire(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Clone(context.Background()))
		mu.Unlock()
		switch r.URL.Path {
		case "/prefix/readyz":
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(503)
			io.WriteString(w, `{"status":"unavailable"}`)
		case "/prefix/healthz":
			w.WriteHeader(502)
			io.WriteString(w, "<html>bad gateway</html>")
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("ETag", `"4"`)
			io.WriteString(w, `{"id":100001,"name":"x","phones":[]}`)
		}
	}))
	defer srv.Close()
	const secret = "pb_super-secret-key"
	c := client.New(srv.URL+"/prefix/", secret, client.WithUserAgent("test-agent/2"), client.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	ctx := context.Background()

	cust, err := c.UpdateCustomer(ctx, "a b/c", client.CustomerPatch{Name: client.String("x")}, client.IfMatch("3"), client.RequestID("req-1"))
	if err != nil || cust.ID != 100001 || cust.ETag != `"4"` {
		t.Errorf("UpdateCustomer on the fake: got %+v, %v", cust, err)
	}
	if _, err := c.LookupNumber(ctx, "+1 504 555 0123", "US", client.IfNoneMatch(`W/"2"`)); err != nil {
		t.Errorf("LookupNumber on the fake: %v", err)
	}
	if _, err := c.AddPhone(ctx, "7", client.PhoneInput{Number: "1"}, client.IdempotencyKey("idem")); err != nil {
		t.Errorf("AddPhone on the fake: %v", err)
	}
	err = c.Ready(ctx)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 503 || ce.Code != "" || ce.Detail != "unavailable" || ce.RetryAfter != time.Second {
		t.Errorf("Ready 503: got %#v", err)
	}
	err = c.Health(ctx)
	if !errors.As(err, &ce) || ce.Status != 502 || ce.Title != "Bad Gateway" || ce.Method != "GET" || ce.Path != "/healthz" {
		t.Errorf("Health 502: got %#v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	type wire struct{ method, uri, auth, ua, ctype, ifMatch, ifNone, idem, reqID string }
	want := []wire{
		{"PATCH", "/prefix/v1/customers/a%20b%2Fc", "Bearer " + secret, "test-agent/2", "application/json", `"3"`, "", "", "req-1"},
		{"GET", "/prefix/v1/phones?country_code=US&number=%2B1+504+555+0123", "Bearer " + secret, "test-agent/2", "", "", `W/"2"`, "", ""},
		{"POST", "/prefix/v1/customers/7/phones", "Bearer " + secret, "test-agent/2", "application/json", "", "", "idem", ""},
		{"GET", "/prefix/readyz", "Bearer " + secret, "test-agent/2", "", "", "", "", ""},
		{"GET", "/prefix/healthz", "Bearer " + secret, "test-agent/2", "", "", "", "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d requests, want %d", len(got), len(want))
	}
	for i, r := range got {
		h := r.Header
		w := wire{r.Method, r.RequestURI, h.Get("Authorization"), h.Get("User-Agent"), h.Get("Content-Type"), h.Get("If-Match"), h.Get("If-None-Match"), h.Get("Idempotency-Key"), h.Get("X-Request-ID")}
		if w != want[i] {
			t.Errorf("request %d:\n got %+v\nwant %+v", i, w, want[i])
		}
	}

	// A transport error names the URL but never the key.
	srv.Close()
	_, err = c.GetCustomer(ctx, "1")
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("GetCustomer on a closed server: got %v, want an error without the key", err)
	}
}

// TestConcurrentUse runs one client from many goroutines (for -race).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.mustCustomer(t, client.CustomerInput{Name: "shared"})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 5 {
				if _, err := e.writer.AddPhone(ctx, client.ID(c.ID), client.PhoneInput{Number: fmt.Sprintf("+1 504 555 %02d%02d", g, i)}); err != nil {
					errs <- err
				}
				if _, err := e.writer.GetCustomer(ctx, c.UUID); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := e.reader.ListPhones(ctx, c.UUID)
	if err != nil || len(got) != 40 {
		t.Errorf("ListPhones: got %d, %v, want 40", len(got), err)
	}
}
