package httpapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/phonebook/phonebook"
)

func TestCustomers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})

	h, carol := e.mustDo(t, http.StatusCreated, "POST", "/v1/customers", a.write, obj{"name": "Carol", "external_id": "ext-carol"})
	if got, want := h.Get("Location"), custPath(carol); got != want {
		t.Errorf("POST /v1/customers: got Location %q, want %q", got, want)
	}
	if h.Get("ETag") == "" {
		t.Errorf("POST /v1/customers: no ETag")
	}
	if got, want := h.Get("Content-Type"), "application/json"; got != want {
		t.Errorf("POST /v1/customers: got Content-Type %q, want %q", got, want)
	}
	for _, c := range []struct{ path, want string }{
		{"name", "Carol"}, {"external_id", "ext-carol"}, {"status", "active"}, {"version", "1"}, {"phones", "[]"},
	} {
		if got := str(carol, c.path); got != c.want {
			t.Errorf("created customer %s: got %q, want %q", c.path, got, c.want)
		}
	}
	if got := num(carol, "id"); got < phonebook.FirstCustomerID {
		t.Errorf("created customer id: got %d, want >= %d", got, phonebook.FirstCustomerID)
	}
	if got := str(carol, "uuid"); len(got) != 36 {
		t.Errorf("created customer uuid: got %q, want a uuid", got)
	}
	for _, f := range []string{"created_at", "updated_at"} {
		if str(carol, f) == "" {
			t.Errorf("created customer has no %s", f)
		}
	}
	alice := e.MustCustomer(t, a.write, obj{"name": "Alice", "external_id": "ext-alice"})
	bob := e.MustCustomer(t, a.admin, obj{"name": "Bob", "status": "inactive"})
	e.MustPhone(t, a.write, alice, obj{"number": "(504) 555-0123"})

	t.Run("GetByIDAndUUID", func(t *testing.T) {
		for _, ref := range []string{idOf(carol), str(carol, "uuid"), strings.ToUpper(str(carol, "uuid"))} {
			h, got := e.mustDo(t, http.StatusOK, "GET", "/v1/customers/"+ref, a.read, nil)
			if str(got, "id") != idOf(carol) || str(got, "name") != "Carol" {
				t.Errorf("GET /v1/customers/%s: got %v, want Carol", ref, got)
			}
			if h.Get("ETag") == "" {
				t.Errorf("GET /v1/customers/%s: no ETag", ref)
			}
		}
		got := e.MustGet(t, a.read, custPath(alice))
		if got, want := str(got, "phones.0.e164"), "+15045550123"; got != want {
			t.Errorf("GET customer includes its phones: got phones.0.e164 %q, want %q", got, want)
		}
	})

	t.Run("ListFilters", func(t *testing.T) {
		cases := []struct {
			query string
			want  []string
		}{
			{"", []string{"Carol", "Alice", "Bob"}},
			{"external_id=ext-alice", []string{"Alice"}},
			{"external_id=nobody", nil},
			{"phone=" + q("+15045550123"), []string{"Alice"}},
			{"phone=" + q("504.555.0123"), []string{"Alice"}},
			{"phone=" + q("1 (504) 555 0123"), []string{"Alice"}},
			{"phone=" + q("+1 504 555 0199"), nil},
			{"q=aro", []string{"Carol"}},
			{"q=ALI", []string{"Alice"}},
			{"q=" + q("%"), nil},
			{"status=inactive", []string{"Bob"}},
			{"status=active", []string{"Carol", "Alice"}},
			{"status=active&q=a", []string{"Carol", "Alice"}},
			{"sort=created_at", []string{"Carol", "Alice", "Bob"}},
			{"sort=-created_at", []string{"Bob", "Alice", "Carol"}},
			{"sort=name", []string{"Alice", "Bob", "Carol"}},
			{"sort=name&status=active", []string{"Alice", "Carol"}},
			{"sort=name&limit=2", []string{"Alice", "Bob"}},
		}
		for _, tc := range cases {
			m := e.MustGet(t, a.read, "/v1/customers?"+tc.query)
			var got []string
			for _, c := range list(m, "data") {
				got = append(got, str(c, "name"))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("GET /v1/customers?%s: got %q, want %q", tc.query, got, tc.want)
			}
			if _, ok := get(m, "data").([]any); !ok {
				t.Errorf("GET /v1/customers?%s: data is %v, want an array", tc.query, get(m, "data"))
			}
		}
		status, h, body := e.do(t, "GET", "/v1/customers?phone=banana", a.read, nil)
		wantProblem(t, "filter on a bad phone", status, h, body, http.StatusUnprocessableEntity, "invalid_number", "phone")
	})

	t.Run("Patch", func(t *testing.T) {
		h, got := e.mustDo(t, http.StatusOK, "PATCH", custPath(bob), a.write, obj{"name": "Robert", "status": "active"})
		if str(got, "name") != "Robert" || str(got, "status") != "active" || str(got, "version") != "2" {
			t.Errorf("PATCH: got %v, want Robert, active, version 2", got)
		}
		if h.Get("ETag") == "" {
			t.Errorf("PATCH: no ETag")
		}
		// By uuid; external_id null clears it; absent fields stay.
		_, got = e.mustDo(t, http.StatusOK, "PATCH", "/v1/customers/"+str(carol, "uuid"), a.write, obj{"external_id": nil})
		if _, ok := got["external_id"]; ok || str(got, "name") != "Carol" {
			t.Errorf("PATCH external_id null: got %v, want no external_id and name Carol", got)
		}
		// JSON merge patch is JSON too.
		_, got = e.mustDo(t, http.StatusOK, "PATCH", custPath(carol), a.write, obj{"name": "Carol"}, "Content-Type", "application/merge-patch+json")
		if str(got, "name") != "Carol" {
			t.Errorf("PATCH as merge-patch+json: got %v", got)
		}
		got = e.MustGet(t, a.read, custPath(carol))
		if _, ok := got["external_id"]; ok {
			t.Errorf("GET after clearing external_id: got %v", got["external_id"])
		}
		if m := e.MustGet(t, a.read, "/v1/customers?external_id=ext-carol"); len(list(m, "data")) != 0 {
			t.Errorf("filter on a cleared external_id still finds %v", list(m, "data"))
		}
	})

	t.Run("Delete", func(t *testing.T) {
		c := e.MustCustomer(t, a.write, obj{"name": "Doomed"})
		e.MustPhone(t, a.write, c, obj{"number": "+1 504 555 0177"})
		if status, _, body := e.do(t, "DELETE", "/v1/customers/"+str(c, "uuid"), a.write, nil); status != http.StatusNoContent || body != nil {
			t.Fatalf("DELETE by uuid: got %d %v, want 204 and no body", status, body)
		}
		status, h, body := e.do(t, "GET", custPath(c), a.read, nil)
		wantProblem(t, "GET deleted customer", status, h, body, http.StatusNotFound, "not_found", "")
		if m := e.MustGet(t, a.read, "/v1/phones?number="+q("+15045550177")); len(list(m, "data")) != 0 {
			t.Errorf("the deleted customer's phone is still found: %v", m)
		}
		status, h, body = e.do(t, "DELETE", custPath(alice), a.write, nil)
		if status != http.StatusNoContent {
			t.Fatalf("DELETE by id: got %d %v, want 204", status, body)
		}
		status, h, body = e.do(t, "DELETE", custPath(alice), a.write, nil)
		wantProblem(t, "DELETE twice", status, h, body, http.StatusNotFound, "not_found", "")
	})
}

func TestPhones(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	c := e.MustCustomer(t, a.write, obj{"name": "Ada"})

	h, p1 := e.mustDo(t, http.StatusCreated, "POST", custPath(c)+"/phones", a.write, obj{"number": "(504) 555-0123", "type": "Mobile", "label": " cell "})
	want := map[string]string{
		"raw": "(504) 555-0123", "e164": "+15045550123", "national": "(504) 555-0123",
		"international": "+1 504-555-0123", "national_number": "5045550123", "region": "US", "country_code": "1",
		"valid": "true", "line_type": "fixed_line_or_mobile", "extension": "", "type": "mobile", "label": "cell",
		"is_primary": "true", "status": "active", "consent.type": "none", "version": "1", "customer_id": idOf(c),
	}
	for f, w := range want {
		if got := str(p1, f); got != w {
			t.Errorf("created phone %s: got %q, want %q", f, got, w)
		}
	}
	if got, want := h.Get("Location"), phonePath(p1); got != want {
		t.Errorf("POST phone: got Location %q, want %q", got, want)
	}
	if h.Get("ETag") == "" {
		t.Errorf("POST phone: no ETag")
	}
	if len(str(p1, "uuid")) != 36 || num(p1, "id") <= 0 {
		t.Errorf("created phone ids: got id %v uuid %v", p1["id"], p1["uuid"])
	}

	t.Run("Formats", func(t *testing.T) {
		cust := e.MustCustomer(t, a.write, obj{"name": "Formats"})
		cases := []struct {
			body obj
			want map[string]string
		}{
			{obj{"number": "+44 20 7946 0018"}, map[string]string{"e164": "+442079460018", "region": "GB", "country_code": "44", "national": "020 7946 0018", "international": "+44 20 7946 0018", "line_type": "fixed_line", "valid": "true"}},
			{obj{"number": "07400 123456", "country_code": "+44"}, map[string]string{"e164": "+447400123456", "region": "GB", "line_type": "mobile"}},
			{obj{"number": "020 7946 0019", "country_code": 44}, map[string]string{"e164": "+442079460019", "region": "GB"}},
			{obj{"number": "504-555-0124", "line_kind": "mobile"}, map[string]string{"e164": "+15045550124", "line_type": "mobile"}},
			{obj{"number": "504-555-0124 ext. 7"}, map[string]string{"e164": "+15045550124", "extension": "7", "raw": "504-555-0124 ext. 7"}},
			{obj{"number": "504-555-0124", "extension": 8}, map[string]string{"e164": "+15045550124", "extension": "8"}},
			{obj{"number": "1-800-555-0199"}, map[string]string{"e164": "+18005550199", "line_type": "toll_free"}},
			{obj{"number": "+1 999 555 0123"}, map[string]string{"e164": "+19995550123", "valid": "false"}},
			{obj{"number": "+15045550125", "consent": obj{"type": "written", "source": "web form"}, "notes": "call after 5"}, map[string]string{"consent.type": "written", "consent.source": "web form", "notes": "call after 5"}},
		}
		for _, tc := range cases {
			p := e.MustPhone(t, a.write, cust, tc.body)
			for f, w := range tc.want {
				if got := str(p, f); got != w {
					t.Errorf("phone %v: %s got %q, want %q", tc.body, f, got, w)
				}
			}
		}
	})

	t.Run("GetListPatchPut", func(t *testing.T) {
		p2 := e.MustPhone(t, a.write, c, obj{"number": "+1 504 555 0100", "type": "work"})
		m := e.MustGet(t, a.read, custPath(c)+"/phones")
		var ids []string
		for _, p := range list(m, "data") {
			ids = append(ids, idOf(p.(obj)))
		}
		if got, want := ids, []string{idOf(p1), idOf(p2)}; !slices.Equal(got, want) {
			t.Errorf("GET phones: got ids %v, want %v (oldest first)", got, want)
		}
		m = e.MustGet(t, a.read, "/v1/customers/"+str(c, "uuid")+"/phones")
		if got := len(list(m, "data")); got != 2 {
			t.Errorf("GET phones by customer uuid: got %d phones, want 2", got)
		}
		for _, path := range []string{
			phonePath(p2),
			custPath(c) + "/phones/" + str(p2, "uuid"),
			"/v1/customers/" + str(c, "uuid") + "/phones/" + str(p2, "uuid"),
		} {
			h, got := e.mustDo(t, http.StatusOK, "GET", path, a.read, nil)
			if str(got, "id") != idOf(p2) || str(got, "e164") != "+15045550100" {
				t.Errorf("GET %s: got %v", path, got)
			}
			if h.Get("ETag") == "" {
				t.Errorf("GET %s: no ETag", path)
			}
		}

		h, got := e.mustDo(t, http.StatusOK, "PATCH", custPath(c)+"/phones/"+str(p2, "uuid"), a.write, obj{"label": "desk", "notes": "ask for Ada"})
		if str(got, "label") != "desk" || str(got, "notes") != "ask for Ada" || str(got, "type") != "work" || str(got, "e164") != "+15045550100" || str(got, "version") != "2" {
			t.Errorf("PATCH phone: got %v", got)
		}
		if h.Get("ETag") == "" {
			t.Errorf("PATCH phone: no ETag")
		}
		h, got = e.mustDo(t, http.StatusOK, "PATCH", phonePath(p2), a.write, obj{"number": "504.555.0101"})
		if str(got, "e164") != "+15045550101" || str(got, "raw") != "504.555.0101" || str(got, "label") != "desk" {
			t.Errorf("PATCH phone number: got %v", got)
		}

		// PUT replaces: absent fields go back to their defaults.
		h, got = e.mustDo(t, http.StatusOK, "PUT", phonePath(p2), a.write, obj{"number": "+1 504 555 0199", "label": "new"})
		for f, w := range map[string]string{"e164": "+15045550199", "raw": "+1 504 555 0199", "type": "other", "label": "new", "notes": "", "is_primary": "false"} {
			if got := str(got, f); got != w {
				t.Errorf("PUT phone %s: got %q, want %q", f, got, w)
			}
		}
		if h.Get("ETag") == "" {
			t.Errorf("PUT phone: no ETag")
		}
		stored := e.MustGet(t, a.read, phonePath(p2))
		if str(stored, "e164") != "+15045550199" || str(stored, "label") != "new" {
			t.Errorf("GET after PUT: got %v", stored)
		}
		status, hh, body := e.do(t, "PUT", phonePath(p2), a.write, obj{"label": "no number"})
		wantProblem(t, "PUT without number", status, hh, body, http.StatusUnprocessableEntity, "validation", "number")

		if status, _, body := e.do(t, "DELETE", custPath(c)+"/phones/"+str(p2, "uuid"), a.write, nil); status != http.StatusNoContent {
			t.Fatalf("DELETE phone by uuid: got %d %v", status, body)
		}
		status, hh, body = e.do(t, "GET", phonePath(p2), a.read, nil)
		wantProblem(t, "GET deleted phone", status, hh, body, http.StatusNotFound, "not_found", "")
	})

	t.Run("Primary", func(t *testing.T) {
		cust := e.MustCustomer(t, a.write, obj{"name": "Primary"})
		q1 := e.MustPhone(t, a.write, cust, obj{"number": "+1 504 555 0201"})
		q2 := e.MustPhone(t, a.write, cust, obj{"number": "+1 504 555 0202"})
		if str(q1, "is_primary") != "true" || str(q2, "is_primary") != "false" {
			t.Fatalf("first phone primary: got q1 %v, q2 %v", q1["is_primary"], q2["is_primary"])
		}
		primaries := func() []string {
			var ids []string
			for _, p := range list(e.MustGet(t, a.read, custPath(cust)), "phones") {
				if str(p, "is_primary") == "true" {
					ids = append(ids, str(p, "id"))
				}
			}
			return ids
		}
		// Making the second phone primary demotes the first.
		_, got := e.mustDo(t, http.StatusOK, "PATCH", phonePath(q2), a.write, obj{"is_primary": true})
		if str(got, "is_primary") != "true" {
			t.Errorf("PATCH is_primary: got %v", got["is_primary"])
		}
		if got := e.MustGet(t, a.read, phonePath(q1)); str(got, "is_primary") != "false" {
			t.Errorf("the old primary was not demoted: %v", got)
		}
		if got, want := primaries(), []string{idOf(q2)}; !slices.Equal(got, want) {
			t.Errorf("primaries: got %v, want %v", got, want)
		}
		// A new phone asking to be primary takes it.
		q3 := e.MustPhone(t, a.write, cust, obj{"number": "+1 504 555 0203", "is_primary": true})
		if got, want := primaries(), []string{idOf(q3)}; !slices.Equal(got, want) {
			t.Errorf("primaries after a new primary: got %v, want %v", got, want)
		}
		// Deleting the primary promotes the oldest remaining phone.
		if status, _, body := e.do(t, "DELETE", phonePath(q3), a.write, nil); status != http.StatusNoContent {
			t.Fatalf("DELETE primary: got %d %v", status, body)
		}
		if got, want := primaries(), []string{idOf(q1)}; !slices.Equal(got, want) {
			t.Errorf("primaries after deleting the primary: got %v, want %v (the oldest)", got, want)
		}
		// Giving up the flag hands it on; the only phone stays primary.
		e.mustDo(t, http.StatusOK, "PATCH", phonePath(q1), a.write, obj{"is_primary": false})
		if got, want := primaries(), []string{idOf(q2)}; !slices.Equal(got, want) {
			t.Errorf("primaries after unsetting: got %v, want %v", got, want)
		}
		e.mustDo(t, http.StatusNoContent, "DELETE", phonePath(q1), a.write, nil)
		_, got = e.mustDo(t, http.StatusOK, "PATCH", phonePath(q2), a.write, obj{"is_primary": false})
		if str(got, "is_primary") != "true" {
			t.Errorf("the only phone gave up primary: %v", got)
		}
	})
}

func TestLookup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	alice := e.MustCustomer(t, a.write, obj{"name": "Alice"})
	bob := e.MustCustomer(t, a.write, obj{"name": "Bob"})
	pa := e.MustPhone(t, a.write, alice, obj{"number": "(504) 555-0123"})
	pb := e.MustPhone(t, a.write, bob, obj{"number": "504.555.0123", "extension": "9"})
	uk := e.MustPhone(t, a.write, bob, obj{"number": "+44 20 7946 0018"})

	for _, number := range []string{
		"+15045550123", "504-555-0123", "(504) 555-0123", "5045550123", "+1 (504) 555-0123", "1 504 555 0123", "+1.504.555.0123", "tel:+1-504-555-0123",
	} {
		m := e.MustGet(t, a.read, "/v1/phones?number="+q(number))
		if got, want := str(m, "e164"), "+15045550123"; got != want {
			t.Errorf("lookup %q: got e164 %q, want %q", number, got, want)
		}
		var got []string
		for _, d := range list(m, "data") {
			got = append(got, str(d, "phone.id")+"/"+str(d, "customer.id")+"/"+str(d, "customer.name"))
		}
		want := []string{idOf(pa) + "/" + idOf(alice) + "/Alice", idOf(pb) + "/" + idOf(bob) + "/Bob"}
		if !slices.Equal(got, want) {
			t.Errorf("lookup %q: got %v, want %v", number, got, want)
		}
	}
	for _, query := range []string{"number=" + q("020 7946 0018") + "&country_code=GB", "number=" + q("+44 20 7946 0018"), "number=" + q("20 7946 0018") + "&country_code=44"} {
		m := e.MustGet(t, a.read, "/v1/phones?"+query)
		if got := list(m, "data"); len(got) != 1 || str(got[0], "phone.id") != idOf(uk) {
			t.Errorf("lookup %s: got %v, want phone %s", query, got, idOf(uk))
		}
	}
	m := e.MustGet(t, a.read, "/v1/phones?number="+q("+1 504 555 0999"))
	if got, ok := get(m, "data").([]any); !ok || len(got) != 0 {
		t.Errorf("lookup of an unknown number: got data %v, want []", get(m, "data"))
	}
	for _, tc := range []struct{ query, code string }{
		{"", "validation"},
		{"number=", "validation"},
		{"number=" + q("555-0123"), "invalid_number"},
		{"number=banana", "invalid_number"},
	} {
		status, h, body := e.do(t, "GET", "/v1/phones?"+tc.query, a.read, nil)
		wantProblem(t, "lookup "+tc.query, status, h, body, http.StatusUnprocessableEntity, tc.code, "number")
	}
}

func TestPhoneTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	names := func() []string {
		var out []string
		for _, pt := range list(e.MustGet(t, a.read, "/v1/phone-types"), "data") {
			out = append(out, str(pt, "name"))
		}
		return out
	}
	if got, want := names(), []string{"fax", "home", "mobile", "other", "work"}; !slices.Equal(got, want) {
		t.Errorf("GET /v1/phone-types: got %v, want %v", got, want)
	}
	h, pt := e.mustDo(t, http.StatusCreated, "POST", "/v1/phone-types", a.admin, obj{"name": " Pager "})
	if str(pt, "name") != "pager" || str(pt, "built_in") != "false" {
		t.Errorf("POST /v1/phone-types: got %v, want pager, not built in", pt)
	}
	if got, want := h.Get("Location"), "/v1/phone-types/pager"; got != want {
		t.Errorf("POST /v1/phone-types: got Location %q, want %q", got, want)
	}
	if got, want := names(), []string{"fax", "home", "mobile", "other", "pager", "work"}; !slices.Equal(got, want) {
		t.Errorf("GET /v1/phone-types after POST: got %v, want %v", got, want)
	}
	status, hh, body := e.do(t, "POST", "/v1/phone-types", a.admin, obj{"name": "home"})
	wantProblem(t, "POST an existing type", status, hh, body, http.StatusConflict, "conflict", "name")
	status, hh, body = e.do(t, "POST", "/v1/phone-types", a.admin, obj{"name": ""})
	wantProblem(t, "POST an empty type", status, hh, body, http.StatusUnprocessableEntity, "validation", "name")

	c := e.MustCustomer(t, a.write, obj{"name": "Pager user"})
	p := e.MustPhone(t, a.write, c, obj{"number": "+1 504 555 0123", "type": "PAGER"})
	if got, want := str(p, "type"), "pager"; got != want {
		t.Errorf("phone of a new type: got type %q, want %q", got, want)
	}
	status, hh, body = e.do(t, "DELETE", "/v1/phone-types/pager", a.admin, nil)
	wantProblem(t, "DELETE a type in use", status, hh, body, http.StatusConflict, "type_in_use", "name")
	e.mustDo(t, http.StatusNoContent, "DELETE", phonePath(p), a.write, nil)
	if status, _, body := e.do(t, "DELETE", "/v1/phone-types/pager", a.admin, nil); status != http.StatusNoContent {
		t.Fatalf("DELETE /v1/phone-types/pager: got %d %v, want 204", status, body)
	}
	if got, want := names(), []string{"fax", "home", "mobile", "other", "work"}; !slices.Equal(got, want) {
		t.Errorf("GET /v1/phone-types after DELETE: got %v, want %v", got, want)
	}
	status, hh, body = e.do(t, "DELETE", "/v1/phone-types/pager", a.admin, nil)
	wantProblem(t, "DELETE a missing type", status, hh, body, http.StatusNotFound, "not_found", "")
	status, hh, body = e.do(t, "POST", custPath(c)+"/phones", a.write, obj{"number": "+1 504 555 0123", "type": "pager"})
	wantProblem(t, "phone of a deleted type", status, hh, body, http.StatusUnprocessableEntity, "type_unknown", "type")
}

func TestSystemRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	c := e.MustCustomer(t, a.write, obj{"name": "Metric"})
	e.MustGet(t, a.read, custPath(c))

	for _, tc := range []struct{ path, status string }{{"/healthz", "ok"}, {"/readyz", "ready"}} {
		h, m := e.mustDo(t, http.StatusOK, "GET", tc.path, "", nil, "X-Request-ID", "probe-"+tc.status)
		if got := str(m, "status"); got != tc.status {
			t.Errorf("GET %s: got status %q, want %q", tc.path, got, tc.status)
		}
		if got, want := h.Get("X-Request-ID"), "probe-"+tc.status; got != want {
			t.Errorf("GET %s: got X-Request-ID %q, want %q", tc.path, got, want)
		}
	}
	status, h, b := e.doRaw(t, "GET", "/metrics", "", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: got %d, want 200", status)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("GET /metrics: got Content-Type %q, want text/plain", ct)
	}
	want := map[string]bool{
		`route="/v1/customers/{id}"`: false, // by pattern, never by URL
		`route="/v1/customers"`:      false,
		`route="/healthz"`:           false,
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "phonebook_http_requests_total{") {
			continue
		}
		if strings.Contains(line, idOf(c)) {
			t.Errorf("a metric label holds a customer id: %s", line)
		}
		for label := range want {
			if strings.Contains(line, label) {
				want[label] = true
			}
		}
	}
	for label, found := range want {
		if !found {
			t.Errorf("GET /metrics: no phonebook_http_requests_total series with %s:\n%s", label, grep(string(b), "phonebook_http_requests_total"))
		}
	}
	if !strings.Contains(string(b), "phonebook_http_request_duration_seconds_bucket{") {
		t.Errorf("GET /metrics: no latency histogram")
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	c := e.MustCustomer(t, a.write, obj{"name": "Errors", "external_id": "ext-1"})
	p := e.MustPhone(t, a.write, c, obj{"number": "+1 504-555-0100"})
	cp := custPath(c) + "/phones"

	// A customer at the phone limit.
	full := e.MustCustomer(t, a.write, obj{"name": "Full"})
	for i := range phonebook.DefaultMaxPhonesPerCustomer {
		_, err := e.svc.AddPhone(a.ctx, phonebook.CustomerRef{ID: num(full, "id")}, phonebook.PhoneInput{Number: fmt.Sprintf("+1504555%04d", 1000+i)})
		must(t, err, "AddPhone %d", i)
	}
	// A tenant whose numbers are held by at most two customers.
	small := e.MustTenant(t, phonebook.TenantInput{Slug: "small", MaxCustomersPerNumber: 2})
	for i := range 2 {
		sc := e.MustCustomer(t, small.write, obj{"name": fmt.Sprintf("Holder %d", i)})
		e.MustPhone(t, small.write, sc, obj{"number": "(504) 555-0123"})
	}
	third := e.MustCustomer(t, small.write, obj{"name": "Third"})

	big := `{"name":"` + strings.Repeat("x", overMaxBody) + `"}`
	json := "application/json"
	cases := []struct {
		name         string
		method, path string
		key          string // a.write unless set
		body         any
		headers      []string
		status       int
		code, field  string
	}{
		{"label too long", "POST", cp, "", obj{"number": "+15045550111", "label": strings.Repeat("l", 21)}, nil, 422, "validation", "label"},
		{"notes too long", "POST", cp, "", obj{"number": "+15045550111", "notes": strings.Repeat("n", 256)}, nil, 422, "validation", "notes"},
		{"extension not digits", "POST", cp, "", obj{"number": "+15045550111", "extension": "12a"}, nil, 422, "validation", "extension"},
		{"bad consent", "POST", cp, "", obj{"number": "+15045550111", "consent": obj{"type": "maybe"}}, nil, 422, "validation", "consent.type"},
		{"bad status", "POST", cp, "", obj{"number": "+15045550111", "status": "gone"}, nil, 422, "validation", "status"},
		{"missing number", "POST", cp, "", obj{"label": "x"}, nil, 422, "validation", "number"},
		{"null number", "POST", cp, "", obj{"number": nil}, nil, 422, "validation", "number"},
		{"invalid number", "POST", cp, "", obj{"number": "not a number"}, nil, 422, "invalid_number", "number"},
		{"local number", "POST", cp, "", obj{"number": "555-0123"}, nil, 422, "invalid_number", "number"},
		{"too short", "POST", cp, "", obj{"number": "+1 504"}, nil, 422, "invalid_number", "number"},
		{"unknown country", "POST", cp, "", obj{"number": "5045550111", "country_code": "Narnia"}, nil, 422, "validation", "country_code"},
		{"type unknown", "POST", cp, "", obj{"number": "+15045550111", "type": "spaceship"}, nil, 422, "type_unknown", "type"},
		{"type unknown on PATCH", "PATCH", phonePath(p), "", obj{"type": "spaceship"}, nil, 422, "type_unknown", "type"},
		{"duplicate", "POST", cp, "", obj{"number": "504 555 0100"}, nil, 409, "phone_duplicate", "number"},
		{"duplicate other format", "POST", cp, "", obj{"number": "(504) 555-0100"}, nil, 409, "phone_duplicate", "number"},
		{"phone limit", "POST", custPath(full) + "/phones", "", obj{"number": "+15045550111"}, nil, 409, "phone_limit", "number"},
		{"number limit", "POST", custPath(third) + "/phones", small.write, obj{"number": "+15045550123"}, nil, 409, "number_limit", "number"},
		{"number limit other format", "POST", custPath(third) + "/phones", small.write, obj{"number": "504-555-0123"}, nil, 409, "number_limit", "number"},
		{"customer name too long", "POST", "/v1/customers", "", obj{"name": strings.Repeat("n", 201)}, nil, 422, "validation", "name"},
		{"customer bad status", "POST", "/v1/customers", "", obj{"name": "x", "status": "gone"}, nil, 422, "validation", "status"},
		{"customer null status", "PATCH", custPath(c), "", obj{"status": nil}, nil, 422, "validation", "status"},
		{"external_id taken", "POST", "/v1/customers", "", obj{"name": "x", "external_id": "ext-1"}, nil, 409, "conflict", "external_id"},
		{"customer not found", "GET", "/v1/customers/999999", "", nil, nil, 404, "not_found", ""},
		{"customer not found by uuid", "GET", "/v1/customers/00000000-0000-4000-8000-000000000000", "", nil, nil, 404, "not_found", ""},
		{"customer id garbage", "GET", "/v1/customers/abc", "", nil, nil, 404, "not_found", ""},
		{"customer id zero", "PATCH", "/v1/customers/0", "", obj{"name": "x"}, nil, 404, "not_found", ""},
		{"phones of missing customer", "POST", "/v1/customers/999999/phones", "", obj{"number": "+15045550111"}, nil, 404, "not_found", ""},
		{"phone not found", "GET", cp + "/999999", "", nil, nil, 404, "not_found", ""},
		{"phone id garbage", "DELETE", cp + "/abc", "", nil, nil, 404, "not_found", ""},
		{"phone of another customer", "GET", custPath(full) + "/phones/" + idOf(p), "", nil, nil, 404, "not_found", ""},
		{"stale If-Match customer", "PATCH", custPath(c), "", obj{"name": "x"}, []string{"If-Match", `"99"`}, 412, "precondition_failed", ""},
		{"stale If-Match phone", "PUT", phonePath(p), "", obj{"number": "+15045550111"}, []string{"If-Match", `"99"`}, 412, "precondition_failed", ""},
		{"garbage If-Match", "DELETE", phonePath(p), "", nil, []string{"If-Match", `"abc"`}, 412, "precondition_failed", ""},
		{"body too large", "POST", "/v1/customers", "", rawBody(big), nil, 413, "body_too_large", ""},
		{"body too large, idempotent", "POST", "/v1/customers", "", rawBody(big), []string{"Idempotency-Key", "big"}, 413, "body_too_large", ""},
		{"body too large, PATCH", "PATCH", custPath(c), "", rawBody(big), nil, 413, "body_too_large", ""},
		{"text/plain", "POST", "/v1/customers", "", rawBody(`{"name":"x"}`), []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
		{"no content type", "PATCH", custPath(c), "", rawBody(`{"name":"x"}`), []string{"Content-Type", ""}, 415, "unsupported_media_type", ""},
		{"form", "POST", cp, "", rawBody(`number=5045550111`), []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
		{"json with charset", "POST", "/v1/customers", "", rawBody(`{"name":"charset"}`), []string{"Content-Type", "application/json; charset=utf-8"}, 201, "", ""},
		{"truncated JSON", "POST", "/v1/customers", "", rawBody(`{"name":"x"`), nil, 400, "malformed_json", ""},
		{"truncated JSON 2", "POST", cp, "", rawBody(`{"number":`), nil, 400, "malformed_json", ""},
		{"trailing garbage", "POST", "/v1/customers", "", rawBody(`{"name":"x"} garbage`), nil, 400, "malformed_json", ""},
		{"two values", "PATCH", custPath(c), "", rawBody(`{"name":"x"}{"name":"y"}`), nil, 400, "malformed_json", ""},
		{"empty body", "POST", "/v1/customers", "", rawBody(``), []string{"Content-Type", json}, 400, "malformed_json", ""},
		{"blank body", "PATCH", phonePath(p), "", rawBody("  \n"), nil, 400, "malformed_json", ""},
		{"not JSON", "POST", "/v1/customers", "", rawBody(`name=x`), nil, 400, "malformed_json", ""},
		{"array body", "POST", "/v1/customers", "", rawBody(`["x"]`), nil, 400, "malformed_json", ""},
		{"unknown field", "POST", "/v1/customers", "", obj{"name": "x", "nmae": "y"}, nil, 400, "unknown_field", "nmae"},
		{"unknown field phone", "POST", cp, "", obj{"number": "+15045550111", "labl": "x"}, nil, 400, "unknown_field", "labl"},
		{"unknown field PATCH", "PATCH", phonePath(p), "", obj{"is_primry": true}, nil, 400, "unknown_field", "is_primry"},
		{"unknown field in consent", "POST", cp, "", obj{"number": "+15045550111", "consent": obj{"tpye": "written"}}, nil, 400, "unknown_field", "tpye"},
		{"wrong type name", "POST", "/v1/customers", "", obj{"name": 5}, nil, 422, "validation", "name"},
		{"wrong type is_primary", "POST", cp, "", obj{"number": "+15045550111", "is_primary": "yes"}, nil, 422, "validation", "is_primary"},
		{"wrong type number", "POST", cp, "", obj{"number": []int{5}}, nil, 422, "validation", "number"},
		{"wrong type label", "PATCH", phonePath(p), "", obj{"label": obj{}}, nil, 422, "validation", "label"},
		{"wrong type consent", "POST", cp, "", obj{"number": "+15045550111", "consent": "written"}, nil, 422, "validation", "consent"},
		{"wrong type consent.type", "POST", cp, "", obj{"number": "+15045550111", "consent": obj{"type": 1}}, nil, 422, "validation", "consent.type"},
		{"wrong type extension", "POST", cp, "", obj{"number": "+15045550111", "extension": true}, nil, 422, "validation", "extension"},
		{"method not allowed", "PUT", "/v1/customers", "", obj{"name": "x"}, nil, 405, "method_not_allowed", ""},
		{"method not allowed id", "POST", custPath(c), "", obj{"name": "x"}, nil, 405, "method_not_allowed", ""},
		{"method not allowed batch", "GET", "/v1/phones/batch", "", nil, nil, 405, "method_not_allowed", ""},
		{"method not allowed types", "PATCH", "/v1/phone-types", "", obj{"name": "x"}, nil, 405, "method_not_allowed", ""},
		{"unknown route", "GET", "/v1/nothing", "", nil, nil, 404, "not_found", ""},
		{"unknown route deep", "GET", custPath(c) + "/phones/" + idOf(p) + "/nothing", "", nil, nil, 404, "not_found", ""},
		{"unknown route no key", "GET", "/v2/customers", "-", nil, nil, 404, "not_found", ""},
	}
	for _, tc := range cases {
		key := tc.key
		switch key {
		case "":
			key = a.write
		case "-":
			key = ""
		}
		status, h, body := e.do(t, tc.method, tc.path, key, tc.body, tc.headers...)
		what := fmt.Sprintf("%s (%s %s)", tc.name, tc.method, tc.path)
		if tc.code == "" {
			if status != tc.status {
				t.Errorf("%s: got %d, want %d; body %v", what, status, tc.status, body)
			}
			continue
		}
		wantProblem(t, what, status, h, body, tc.status, tc.code, tc.field)
		if got, want := str(body, "instance"), strings.SplitN(tc.path, "?", 2)[0]; got != want {
			t.Errorf("%s: got instance %q, want %q", what, got, want)
		}
		if tc.status == http.StatusMethodNotAllowed && h.Get("Allow") == "" {
			t.Errorf("%s: 405 without Allow", what)
		}
	}

	t.Run("Allow", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			want         []string
		}{
			{"PUT", "/v1/customers", []string{"GET", "POST"}},
			{"POST", custPath(c), []string{"DELETE", "GET", "PATCH"}},
			{"POST", phonePath(p), []string{"DELETE", "GET", "PATCH", "PUT"}},
			{"GET", "/v1/phones/batch", []string{"POST"}},
			{"DELETE", "/v1/phone-types", []string{"GET", "POST"}},
			{"GET", "/v1/phone-types/home", []string{"DELETE"}},
			{"POST", "/healthz", []string{"GET"}},
		} {
			status, h, _ := e.do(t, tc.method, tc.path, a.write, nil)
			if status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: got %d, want 405", tc.method, tc.path, status)
				continue
			}
			var got []string
			for _, m := range strings.Split(h.Get("Allow"), ",") {
				if m = strings.TrimSpace(m); m != "HEAD" {
					got = append(got, m)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s %s: got Allow %q, want %v", tc.method, tc.path, h.Get("Allow"), tc.want)
			}
		}
	})

	t.Run("NothingStored", func(t *testing.T) {
		m := e.MustGet(t, a.read, custPath(c))
		if got := len(list(m, "phones")); got != 1 {
			t.Errorf("the failed requests stored phones: got %d, want 1", got)
		}
		if str(m, "name") != "Errors" || str(m, "status") != "active" || str(m, "phones.0.e164") != "+15045550100" || str(m, "phones.0.version") != "1" {
			t.Errorf("the failed requests changed the customer: %v", m)
		}
		if got := len(list(e.MustGet(t, a.read, custPath(full)+"/phones"), "data")); got != phonebook.DefaultMaxPhonesPerCustomer {
			t.Errorf("customer at the limit: got %d phones, want %d", got, phonebook.DefaultMaxPhonesPerCustomer)
		}
		if got := len(list(e.MustGet(t, small.read, custPath(third)), "phones")); got != 0 {
			t.Errorf("number limit: the third customer got %d phones, want 0", got)
		}
		// Two customers, plus the one made with a charset Content-Type.
		if got, want := e.countCustomers(t, a.read), 3; got != want {
			t.Errorf("customers: got %d, want %d", got, want)
		}
	})
}

// overMaxBody is one byte over the API's body limit (1 MiB).
const overMaxBody = 1<<20 + 1

func TestAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	c := e.MustCustomer(t, a.write, obj{"name": "Auth"})
	p := e.MustPhone(t, a.write, c, obj{"number": "+1 504 555 0123"})

	revokedKey, revoked, err := e.svc.CreateAPIKey(t.Context(), phonebook.KeyInput{TenantSlug: "acme", Name: "old", Scopes: phonebook.AllScopes})
	must(t, err, "CreateAPIKey")
	e.remember(revoked)
	e.mustDo(t, http.StatusOK, "GET", "/v1/customers", revoked, nil)
	must(t, e.svc.RevokeAPIKey(t.Context(), revokedKey.ID), "RevokeAPIKey")

	t.Run("Unauthorized", func(t *testing.T) {
		cases := []struct {
			name    string
			headers []string
		}{
			{"no key", nil},
			{"basic", []string{"Authorization", "Basic dXNlcjpwYXNz"}},
			{"bearer without token", []string{"Authorization", "Bearer"}},
			{"bearer blank token", []string{"Authorization", "Bearer    "}},
			{"no space", []string{"Authorization", "Bearer" + a.read}},
			{"other scheme", []string{"Authorization", "Token " + a.read}},
			{"unknown key", []string{"Authorization", "Bearer pb_unknownkeyunknownkeyunknownkey"}},
			{"unknown X-API-Key", []string{"X-API-Key", "pb_unknownkeyunknownkeyunknownkey"}},
			{"revoked", []string{"Authorization", "Bearer " + revoked}},
			{"revoked X-API-Key", []string{"X-API-Key", revoked}},
			{"malformed Authorization beats a good X-API-Key", []string{"Authorization", "Basic x", "X-API-Key", a.read}},
		}
		routes := []struct{ method, path string }{
			{"GET", "/v1/customers"},
			{"POST", "/v1/customers"},
			{"GET", custPath(c)},
			{"DELETE", phonePath(p)},
			{"POST", "/v1/phones/batch"},
			{"GET", "/v1/phones?number=5045550123"},
			{"GET", "/v1/phone-types"},
		}
		for _, tc := range cases {
			for _, rt := range routes {
				var body any
				if rt.method == "POST" {
					body = obj{"name": "intruder"}
				}
				status, h, b := e.do(t, rt.method, rt.path, "", body, tc.headers...)
				what := fmt.Sprintf("%s: %s %s", tc.name, rt.method, rt.path)
				wantProblem(t, what, status, h, b, http.StatusUnauthorized, "unauthorized", "")
				if got := h.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("%s: got WWW-Authenticate %q, want a Bearer challenge", what, got)
				}
			}
		}
		if got, want := e.countCustomers(t, a.read), 1; got != want {
			t.Errorf("unauthenticated POSTs stored customers: got %d, want %d", got, want)
		}
	})

	t.Run("Credentials", func(t *testing.T) {
		for _, headers := range [][]string{
			{"Authorization", "Bearer " + a.read},
			{"Authorization", "bearer " + a.read},
			{"Authorization", "BEARER  " + a.read},
			{"X-API-Key", a.read},
		} {
			status, _, body := e.do(t, "GET", custPath(c), "", nil, headers...)
			if status != http.StatusOK || str(body, "id") != idOf(c) {
				t.Errorf("GET with %s: got %d %v, want 200", headers[0], status, body)
			}
		}
		_, body := e.mustDo(t, http.StatusCreated, "POST", "/v1/customers", "", obj{"name": "By X-API-Key"}, "X-API-Key", a.write)
		e.mustDo(t, http.StatusNoContent, "DELETE", custPath(body), "", nil, "X-API-Key", a.write)
	})

	t.Run("Forbidden", func(t *testing.T) {
		before := e.MustGet(t, a.read, custPath(c))
		types := e.MustGet(t, a.read, "/v1/phone-types")
		phoneBody := obj{"number": "+1 504 555 0199"}
		writes := []struct {
			method, path string
			body         any
		}{
			{"POST", "/v1/customers", obj{"name": "x"}},
			{"PATCH", custPath(c), obj{"name": "x"}},
			{"DELETE", custPath(c), nil},
			{"DELETE", "/v1/customers/" + str(c, "uuid"), nil},
			{"POST", custPath(c) + "/phones", phoneBody},
			{"PATCH", phonePath(p), obj{"label": "x"}},
			{"PUT", phonePath(p), phoneBody},
			{"DELETE", phonePath(p), nil},
			{"POST", "/v1/phones/batch", obj{"records": []obj{{"customer_id": idOf(c), "number": "+1 504 555 0199"}}}},
			{"POST", "/v1/phone-types", obj{"name": "pager"}},
			{"DELETE", "/v1/phone-types/fax", nil},
		}
		for _, w := range writes {
			status, h, body := e.do(t, w.method, w.path, a.read, w.body)
			wantProblem(t, "read-only key: "+w.method+" "+w.path, status, h, body, http.StatusForbidden, "forbidden", "")
			status, h, body = e.do(t, w.method, w.path, "", w.body, "X-API-Key", a.read)
			wantProblem(t, "read-only X-API-Key: "+w.method+" "+w.path, status, h, body, http.StatusForbidden, "forbidden", "")
		}
		for _, w := range writes[len(writes)-2:] {
			status, h, body := e.do(t, w.method, w.path, a.write, w.body)
			wantProblem(t, "customers:write key: "+w.method+" "+w.path, status, h, body, http.StatusForbidden, "forbidden", "")
		}
		after := e.MustGet(t, a.read, custPath(c))
		if b, a := jsonString(before), jsonString(after); a != b {
			t.Errorf("forbidden writes changed the customer:\nbefore %s\nafter  %s", b, a)
		}
		if b, a := jsonString(types), jsonString(e.MustGet(t, a.read, "/v1/phone-types")); a != b {
			t.Errorf("forbidden writes changed the phone types:\nbefore %s\nafter  %s", b, a)
		}
		if got, want := e.countCustomers(t, a.read), 1; got != want {
			t.Errorf("forbidden POST stored customers: got %d, want %d", got, want)
		}
		// The read-only key reads everything.
		for _, path := range []string{"/v1/customers", custPath(c), custPath(c) + "/phones", phonePath(p), "/v1/phones?number=" + q("504-555-0123"), "/v1/phone-types"} {
			e.mustDo(t, http.StatusOK, "GET", path, a.read, nil)
		}
	})
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestTenantIsolation calls every route of the router that takes an id with
// tenant B's key on tenant A's ids: each is "not found", and A's data is
// unchanged afterwards.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "tenant-a"})
	b := e.MustTenant(t, phonebook.TenantInput{Slug: "tenant-b"})
	ca := e.MustCustomer(t, a.write, obj{"name": "A's customer", "external_id": "shared-ext"})
	pa := e.MustPhone(t, a.write, ca, obj{"number": "(504) 555-0123", "label": "A"})
	pa2 := e.MustPhone(t, a.write, ca, obj{"number": "(504) 555-0124"})
	cb := e.MustCustomer(t, b.write, obj{"name": "B's customer"})
	pb := e.MustPhone(t, b.write, cb, obj{"number": "(504) 555-0199"})

	snapshot := func() string {
		c := e.MustGet(t, a.read, custPath(ca))
		ps := e.MustGet(t, a.read, custPath(ca)+"/phones")
		return jsonString(c) + jsonString(ps)
	}
	before := snapshot()

	custRefs := []string{idOf(ca), str(ca, "uuid")}
	phoneRefs := []string{idOf(pa), str(pa, "uuid")}
	bodyFor := func(pattern string) any {
		if strings.Contains(pattern, "/phones") {
			return obj{"number": "+1 504 555 0177", "label": "B was here"}
		}
		return obj{"name": "B was here"}
	}
	covered := 0
	for _, rt := range e.api.Routes() {
		if !strings.Contains(rt.Pattern, "{id}") && !strings.Contains(rt.Pattern, "{phoneId}") {
			continue
		}
		covered++
		var body any
		if rt.Method == "POST" || rt.Method == "PATCH" || rt.Method == "PUT" {
			body = bodyFor(rt.Pattern)
		}
		var paths []string
		for _, cr := range append(custRefs, idOf(cb), str(cb, "uuid")) {
			ownCustomer := cr == idOf(cb) || cr == str(cb, "uuid")
			path := strings.Replace(rt.Pattern, "{id}", cr, 1)
			if !strings.Contains(path, "{phoneId}") {
				if !ownCustomer {
					paths = append(paths, path)
				}
				continue
			}
			for _, pr := range phoneRefs { // A's phone, under A's or B's own customer
				paths = append(paths, strings.Replace(path, "{phoneId}", pr, 1))
			}
		}
		for _, path := range paths {
			for _, key := range []string{b.admin, b.read} {
				if key == b.read && rt.Scope != phonebook.ScopeCustomersRead {
					continue
				}
				status, h, res := e.do(t, rt.Method, path, key, body)
				wantProblem(t, "tenant B: "+rt.Method+" "+path, status, h, res, http.StatusNotFound, "not_found", "")
				if s := jsonString(res); strings.Contains(s, "A's customer") || strings.Contains(s, "+15045550123") {
					t.Errorf("tenant B: %s %s leaks A's data: %s", rt.Method, path, s)
				}
			}
		}
	}
	if covered < 9 {
		t.Errorf("only %d routes take an id, want at least 9", covered)
	}

	// Lists, lookups and the batch see nothing of A either.
	if m := e.MustGet(t, b.read, "/v1/customers"); len(list(m, "data")) != 1 || str(m, "data.0.id") != idOf(cb) {
		t.Errorf("tenant B's list: got %v, want only its own customer", list(m, "data"))
	}
	for _, query := range []string{"external_id=shared-ext", "phone=" + q("+15045550123"), "q=" + q("A's")} {
		if m := e.MustGet(t, b.read, "/v1/customers?"+query); len(list(m, "data")) != 0 {
			t.Errorf("tenant B: GET /v1/customers?%s: got %v, want nothing", query, list(m, "data"))
		}
	}
	if m := e.MustGet(t, b.read, "/v1/phones?number="+q("504-555-0123")); len(list(m, "data")) != 0 {
		t.Errorf("tenant B's lookup finds A's phone: %v", m)
	}
	_, res := e.mustDo(t, http.StatusOK, "POST", "/v1/phones/batch", b.write, obj{"records": []obj{
		{"customer_id": idOf(ca), "number": "+1 504 555 0123", "label": "B"},
		{"customer_id": num(ca, "id"), "number": "+1 504 555 0177"},
		{"customer_id": str(ca, "uuid"), "number": "+1 504 555 0177"},
		{"external_id": "shared-ext", "number": "+1 504 555 0177"},
		{"customer_id": idOf(cb), "number": "+1 504 555 0123"}, // B's own customer: fine
	}})
	for i, r := range list(res, "results") {
		want := "not_found"
		if i == 4 {
			want = ""
		}
		if got := str(r, "error.code"); got != want {
			t.Errorf("tenant B batch record %d: got error %q, want %q (%v)", i, got, want, r)
		}
	}
	// The same phone type name lives in each tenant on its own.
	e.mustDo(t, http.StatusCreated, "POST", "/v1/phone-types", b.admin, obj{"name": "pager"})
	status, h, body := e.do(t, "POST", custPath(ca)+"/phones", a.write, obj{"number": "+1 504 555 0155", "type": "pager"})
	wantProblem(t, "tenant A uses B's type", status, h, body, http.StatusUnprocessableEntity, "type_unknown", "type")
	status, h, body = e.do(t, "DELETE", "/v1/phone-types/pager", a.admin, nil)
	wantProblem(t, "tenant A deletes B's type", status, h, body, http.StatusNotFound, "not_found", "")

	if after := snapshot(); after != before {
		t.Errorf("tenant A's data changed:\nbefore %s\nafter  %s", before, after)
	}
	if got := e.MustGet(t, a.read, phonePath(pa2)); str(got, "version") != "1" {
		t.Errorf("tenant A's second phone changed: %v", got)
	}
	if got := e.MustGet(t, b.read, phonePath(pb)); str(got, "version") != "1" {
		t.Errorf("tenant B's phone changed: %v", got)
	}
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	b := e.MustTenant(t, phonebook.TenantInput{Slug: "other"})

	body := obj{"name": "Once", "external_id": "once"}
	s1, h1, b1 := e.doRaw(t, "POST", "/v1/customers", a.write, body, "Idempotency-Key", "key-1")
	if s1 != http.StatusCreated {
		t.Fatalf("first POST: got %d %s", s1, b1)
	}
	if h1.Get("Idempotent-Replayed") != "" {
		t.Errorf("first POST: Idempotent-Replayed %q, want none", h1.Get("Idempotent-Replayed"))
	}
	for i := range 2 {
		s2, h2, b2 := e.doRaw(t, "POST", "/v1/customers", a.write, body, "Idempotency-Key", "key-1")
		if s2 != s1 || string(b2) != string(b1) {
			t.Errorf("replay %d: got %d %s, want %d %s", i, s2, b2, s1, b1)
		}
		if got, want := h2.Get("Idempotent-Replayed"), "true"; got != want {
			t.Errorf("replay %d: got Idempotent-Replayed %q, want %q", i, got, want)
		}
		for _, name := range []string{"ETag", "Location", "Content-Type"} {
			if got, want := h2.Get(name), h1.Get(name); got != want {
				t.Errorf("replay %d: got %s %q, want %q", i, name, got, want)
			}
		}
	}
	if got, want := e.countCustomers(t, a.read), 1; got != want {
		t.Errorf("after replays: got %d customers, want %d", got, want)
	}

	status, h, pb := e.do(t, "POST", "/v1/customers", a.write, obj{"name": "Twice"}, "Idempotency-Key", "key-1")
	wantProblem(t, "key reused with another body", status, h, pb, http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key")
	status, h, pb = e.do(t, "POST", "/v1/phone-types", a.admin, obj{"name": "Once", "external_id": "once"}, "Idempotency-Key", "key-1")
	wantProblem(t, "key reused on another route", status, h, pb, http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key")
	if got, want := e.countCustomers(t, a.read), 1; got != want {
		t.Errorf("after a reused key: got %d customers, want %d", got, want)
	}

	// Keys are per tenant: B's key-1 is its own.
	sb, hb, bb := e.doRaw(t, "POST", "/v1/customers", b.write, body, "Idempotency-Key", "key-1")
	if sb != http.StatusCreated || hb.Get("Idempotent-Replayed") != "" || string(bb) == string(b1) {
		t.Errorf("tenant B with A's key: got %d replayed=%q %s, want a new 201", sb, hb.Get("Idempotent-Replayed"), bb)
	}
	if got, want := e.countCustomers(t, b.read), 1; got != want {
		t.Errorf("tenant B: got %d customers, want %d", got, want)
	}

	// Without a key, the same POST runs again (and here fails on the
	// external_id); an error answer is replayed like any other.
	status, h, pb = e.do(t, "POST", "/v1/customers", a.write, body)
	wantProblem(t, "same POST without a key", status, h, pb, http.StatusConflict, "conflict", "external_id")
	s3, _, b3 := e.doRaw(t, "POST", "/v1/customers", a.write, body, "Idempotency-Key", "key-2")
	s4, h4, b4 := e.doRaw(t, "POST", "/v1/customers", a.write, body, "Idempotency-Key", "key-2")
	if s3 != http.StatusConflict || s4 != s3 || string(b4) != string(b3) || h4.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replayed error: got %d then %d (replayed %q), want 409 twice", s3, s4, h4.Get("Idempotent-Replayed"))
	}

	// Phones, the batch and phone types honour the key too.
	var c obj
	must(t, json.Unmarshal(b1, &c), "decode customer")
	pbody := obj{"number": "(504) 555-0123"}
	ps1, _, pr1 := e.doRaw(t, "POST", custPath(c)+"/phones", a.write, pbody, "Idempotency-Key", "phone-1")
	ps2, ph2, pr2 := e.doRaw(t, "POST", custPath(c)+"/phones", a.write, pbody, "Idempotency-Key", "phone-1")
	if ps1 != http.StatusCreated || ps2 != ps1 || string(pr2) != string(pr1) || ph2.Get("Idempotent-Replayed") != "true" {
		t.Errorf("phone replay: got %d then %d %s", ps1, ps2, pr2)
	}
	bbody := obj{"records": []obj{{"customer_id": str(c, "id"), "number": "+1 504 555 0124"}}}
	bs1, _, br1 := e.doRaw(t, "POST", "/v1/phones/batch", a.write, bbody, "Idempotency-Key", "batch-1")
	bs2, bh2, br2 := e.doRaw(t, "POST", "/v1/phones/batch", a.write, bbody, "Idempotency-Key", "batch-1")
	if bs1 != http.StatusOK || bs2 != bs1 || string(br2) != string(br1) || bh2.Get("Idempotent-Replayed") != "true" {
		t.Errorf("batch replay: got %d then %d %s", bs1, bs2, br2)
	}
	ts1, _, _ := e.doRaw(t, "POST", "/v1/phone-types", a.admin, obj{"name": "pager"}, "Idempotency-Key", "type-1")
	ts2, th2, _ := e.doRaw(t, "POST", "/v1/phone-types", a.admin, obj{"name": "pager"}, "Idempotency-Key", "type-1")
	if ts1 != http.StatusCreated || ts2 != ts1 || th2.Get("Idempotent-Replayed") != "true" {
		t.Errorf("phone type replay: got %d then %d", ts1, ts2)
	}
	m := e.MustGet(t, a.read, custPath(c))
	if got := len(list(m, "phones")); got != 2 {
		t.Errorf("after phone replays: got %d phones, want 2", got)
	}
	if got := str(m, "phones.1.version"); got != "1" {
		t.Errorf("the batch replay updated the phone: version %s", got)
	}

	status, h, pb = e.do(t, "POST", "/v1/customers", a.write, obj{"name": "x"}, "Idempotency-Key", strings.Repeat("k", 256))
	wantProblem(t, "Idempotency-Key too long", status, h, pb, http.StatusUnprocessableEntity, "validation", "Idempotency-Key")
}

func TestETags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})

	h, c := e.mustDo(t, http.StatusCreated, "POST", "/v1/customers", a.write, obj{"name": "Tagged"})
	tag0 := h.Get("ETag")
	if tag0 == "" || !strings.HasPrefix(strings.TrimPrefix(tag0, "W/"), `"`) {
		t.Fatalf("POST customer: got ETag %q, want a quoted tag", tag0)
	}
	h, _ = e.mustDo(t, http.StatusOK, "GET", custPath(c), a.read, nil)
	if got := h.Get("ETag"); got != tag0 {
		t.Errorf("GET customer: got ETag %q, want the POST's %q", got, tag0)
	}

	// If-None-Match: 304 with no body while nothing changed.
	for _, inm := range []string{tag0, `"other", ` + tag0, "*"} {
		status, h, b := e.doRaw(t, "GET", custPath(c), a.read, nil, "If-None-Match", inm)
		if status != http.StatusNotModified || len(b) != 0 {
			t.Errorf("GET customer If-None-Match %s: got %d %q, want 304 and no body", inm, status, b)
		}
		if got := h.Get("ETag"); got != tag0 {
			t.Errorf("304: got ETag %q, want %q", got, tag0)
		}
	}
	if status, _, _ := e.doRaw(t, "GET", custPath(c), a.read, nil, "If-None-Match", `"nope"`); status != http.StatusOK {
		t.Errorf("GET customer with another If-None-Match: got %d, want 200", status)
	}

	// Adding a phone changes the customer's ETag.
	h, p := e.mustDo(t, http.StatusCreated, "POST", custPath(c)+"/phones", a.write, obj{"number": "+1 504 555 0123"})
	ptag := h.Get("ETag")
	if ptag == "" {
		t.Fatalf("POST phone: no ETag")
	}
	h, _ = e.mustDo(t, http.StatusOK, "GET", custPath(c), a.read, nil)
	tag1 := h.Get("ETag")
	if tag1 == "" || tag1 == tag0 {
		t.Errorf("adding a phone: customer ETag %q, want one other than %q", tag1, tag0)
	}
	if status, _, _ := e.doRaw(t, "GET", custPath(c), a.read, nil, "If-None-Match", tag0); status != http.StatusOK {
		t.Errorf("GET customer with its old tag: got %d, want 200", status)
	}

	// Customer: stale If-Match on PATCH and DELETE changes nothing.
	for _, method := range []string{"PATCH", "DELETE"} {
		var body any
		if method == "PATCH" {
			body = obj{"name": "Stale"}
		}
		status, h, b := e.do(t, method, custPath(c), a.write, body, "If-Match", tag0)
		wantProblem(t, method+" customer with a stale If-Match", status, h, b, http.StatusPreconditionFailed, "precondition_failed", "")
	}
	if m := e.MustGet(t, a.read, custPath(c)); str(m, "name") != "Tagged" {
		t.Errorf("a stale PATCH changed the customer: %v", m)
	}
	h, m := e.mustDo(t, http.StatusOK, "PATCH", custPath(c), a.write, obj{"name": "Fresh"}, "If-Match", tag1)
	tag2 := h.Get("ETag")
	if str(m, "name") != "Fresh" || tag2 == "" || tag2 == tag1 {
		t.Errorf("PATCH with the current tag: got %v ETag %q", m, tag2)
	}
	if h, _ := e.mustDo(t, http.StatusOK, "GET", custPath(c), a.read, nil); h.Get("ETag") != tag2 {
		t.Errorf("GET after PATCH: got ETag %q, want %q", h.Get("ETag"), tag2)
	}

	// Phone: GET, If-None-Match, stale If-Match on PATCH, PUT and DELETE.
	h, _ = e.mustDo(t, http.StatusOK, "GET", phonePath(p), a.read, nil)
	if got := h.Get("ETag"); got != ptag {
		t.Errorf("GET phone: got ETag %q, want the POST's %q", got, ptag)
	}
	if status, _, b := e.doRaw(t, "GET", phonePath(p), a.read, nil, "If-None-Match", ptag); status != http.StatusNotModified || len(b) != 0 {
		t.Errorf("GET phone If-None-Match: got %d %q, want 304 and no body", status, b)
	}
	h, m = e.mustDo(t, http.StatusOK, "PATCH", phonePath(p), a.write, obj{"label": "v2"}, "If-Match", ptag)
	ptag2 := h.Get("ETag")
	if ptag2 == "" || ptag2 == ptag || str(m, "label") != "v2" {
		t.Errorf("PATCH phone with the current tag: got %v ETag %q", m, ptag2)
	}
	stale := []struct {
		method string
		body   any
	}{{"PATCH", obj{"label": "stale"}}, {"PUT", obj{"number": "+1 504 555 0199", "label": "stale"}}, {"DELETE", nil}}
	for _, s := range stale {
		status, h, b := e.do(t, s.method, phonePath(p), a.write, s.body, "If-Match", ptag)
		wantProblem(t, s.method+" phone with a stale If-Match", status, h, b, http.StatusPreconditionFailed, "precondition_failed", "")
	}
	if m := e.MustGet(t, a.read, phonePath(p)); str(m, "label") != "v2" || str(m, "e164") != "+15045550123" {
		t.Errorf("stale writes changed the phone: %v", m)
	}
	h, m = e.mustDo(t, http.StatusOK, "PUT", phonePath(p), a.write, obj{"number": "+1 504 555 0199"}, "If-Match", ptag2)
	ptag3 := h.Get("ETag")
	if ptag3 == "" || ptag3 == ptag2 || str(m, "e164") != "+15045550199" {
		t.Errorf("PUT phone with the current tag: got %v ETag %q", m, ptag3)
	}
	if h, _ := e.mustDo(t, http.StatusOK, "GET", phonePath(p), a.read, nil); h.Get("ETag") != ptag3 {
		t.Errorf("GET phone after PUT: got ETag %q, want %q", h.Get("ETag"), ptag3)
	}
	// A second phone made primary changes the first one's tag (demoted).
	e.MustPhone(t, a.write, c, obj{"number": "+1 504 555 0100", "is_primary": true})
	status, h, b := e.do(t, "DELETE", phonePath(p), a.write, nil, "If-Match", ptag3)
	wantProblem(t, "DELETE a demoted phone with its old tag", status, h, b, http.StatusPreconditionFailed, "precondition_failed", "")
	h, _ = e.mustDo(t, http.StatusOK, "GET", phonePath(p), a.read, nil)
	e.mustDo(t, http.StatusNoContent, "DELETE", phonePath(p), a.write, nil, "If-Match", h.Get("ETag"))

	h, _ = e.mustDo(t, http.StatusOK, "GET", custPath(c), a.read, nil)
	e.mustDo(t, http.StatusNoContent, "DELETE", custPath(c), a.write, nil, "If-Match", h.Get("ETag"))
}

// TestLogs runs requests on every route, in success and failure, and reads
// the whole log: one line per request with its method, route pattern,
// status, duration and tenant, and no number, key or body anywhere.
func TestLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	b := e.MustTenant(t, phonebook.TenantInput{Slug: "beta"})

	type call struct {
		route, tenant string
	}
	want := map[string]call{} // by request id
	do := func(route, tenant string, method, path, key string, body any, headers ...string) obj {
		t.Helper()
		var m obj
		if path == "/metrics" {
			e.doRaw(t, method, path, key, body, headers...)
		} else {
			_, _, m = e.do(t, method, path, key, body, headers...)
		}
		want[e.last().id] = call{route, tenant}
		return m
	}
	do("/healthz", "", "GET", "/healthz", "", nil)
	do("/readyz", "", "GET", "/readyz", "", nil)
	c := do("/v1/customers", "acme", "POST", "/v1/customers", a.write, obj{"name": "Logged Customer", "external_id": "cust-secret-ext"}, "Idempotency-Key", "log-key")
	do("/v1/customers", "acme", "POST", "/v1/customers", a.write, obj{"name": "Logged Customer", "external_id": "cust-secret-ext"}, "Idempotency-Key", "log-key")
	cid := idOf(c)
	p := do("/v1/customers/{id}/phones", "acme", "POST", "/v1/customers/"+cid+"/phones", a.write, obj{"number": "(504) 555-0123", "label": "private label"})
	do("/v1/customers/{id}/phones", "acme", "POST", "/v1/customers/"+cid+"/phones", a.write, obj{"number": "+15045550123"})
	do("/v1/customers/{id}/phones", "acme", "POST", "/v1/customers/"+cid+"/phones", a.write, obj{"number": "555-0123"})
	do("/v1/customers/{id}/phones", "acme", "POST", "/v1/customers/"+cid+"/phones", a.write, obj{"number": "5045550124", "extension": "42"})
	do("/v1/customers/{id}/phones", "acme", "GET", "/v1/customers/"+str(c, "uuid")+"/phones", a.read, nil)
	do("/v1/customers", "acme", "GET", "/v1/customers?phone="+q("504-555-0123"), a.read, nil)
	do("/v1/customers", "acme", "GET", "/v1/customers?phone=5045550123&q=Logged", a.read, nil)
	do("/v1/customers/{id}", "acme", "GET", "/v1/customers/"+cid, a.read, nil)
	do("/v1/customers/{id}", "acme", "PATCH", "/v1/customers/"+cid, a.write, obj{"name": "Renamed Customer"})
	do("/v1/customers/{id}/phones/{phoneId}", "acme", "GET", phonePath(p), a.read, nil)
	do("/v1/customers/{id}/phones/{phoneId}", "acme", "PATCH", phonePath(p), a.write, obj{"number": "504-555-0123", "notes": "private notes here"})
	do("/v1/customers/{id}/phones/{phoneId}", "acme", "PUT", phonePath(p), a.write, obj{"number": "+1 504 555 0123", "label": "put label"})
	do("/v1/phones", "acme", "GET", "/v1/phones?number="+q("504-555-0123"), a.read, nil)
	do("/v1/phones", "acme", "GET", "/v1/phones?number=5045550123", a.read, nil)
	do("/v1/phones", "acme", "GET", "/v1/phones?number="+q("555-0123"), a.read, nil)
	do("/v1/phones/batch", "acme", "POST", "/v1/phones/batch", a.write, obj{"records": []obj{
		{"customer_id": cid, "number": "504-555-0123", "label": "batch label"},
		{"customer_id": cid, "number": "555-0123"},
		{"external_id": "cust-secret-ext", "number": "+15045550125"},
	}})
	do("/v1/phone-types", "acme", "GET", "/v1/phone-types", a.read, nil)
	do("/v1/phone-types", "acme", "POST", "/v1/phone-types", a.admin, obj{"name": "pagerlog"})
	do("/v1/phone-types", "acme", "POST", "/v1/phone-types", a.write, obj{"name": "pagerlog2"}) // 403
	do("/v1/phone-types/{name}", "acme", "DELETE", "/v1/phone-types/pagerlog", a.admin, nil)
	do("/v1/customers/{id}", "beta", "GET", "/v1/customers/"+cid, b.read, nil) // 404
	do("/v1/customers", "", "GET", "/v1/customers", "", nil)                   // 401
	do("/v1/customers", "", "GET", "/v1/customers", "pb_not_a_real_key_at_all", nil)
	do("/v1/customers", "", "POST", "/v1/customers", "", obj{"name": "No Key Customer"}, "X-API-Key", a.read+"x")
	do("/v1/customers", "acme", "POST", "/v1/customers", a.write, rawBody(`{"name":"Broken JSON`))
	do("/v1/customers", "", "PUT", "/v1/customers", a.write, obj{"name": "Wrong Method"})
	do("/", "", "GET", "/v1/nope/5045550123", a.read, nil)
	do("/v1/customers/{id}/phones/{phoneId}", "acme", "DELETE", phonePath(p), a.write, nil)
	do("/v1/customers/{id}", "acme", "DELETE", "/v1/customers/"+cid, a.write, nil)
	do("/metrics", "", "GET", "/metrics", "", nil)

	e.srv.Close() // every handler has returned: every line is written
	logs := e.logs.String()

	lines := map[string][]obj{}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m obj
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("a log line is not JSON: %v\n%s", err, line)
		}
		if str(m, "msg") == "request" {
			lines[str(m, "request_id")] = append(lines[str(m, "request_id")], m)
		}
	}
	e.mu.Lock()
	sentReqs := slices.Clone(e.sent)
	e.mu.Unlock()
	if len(sentReqs) != len(want) {
		t.Fatalf("sent %d requests, expected %d", len(sentReqs), len(want))
	}
	for _, s := range sentReqs {
		w := want[s.id]
		got := lines[s.id]
		what := s.method + " " + s.path
		if len(got) != 1 {
			t.Errorf("%s: got %d request log lines, want 1", what, len(got))
			continue
		}
		l := got[0]
		if str(l, "method") != s.method {
			t.Errorf("%s: logged method %q", what, str(l, "method"))
		}
		if got, want := str(l, "route"), w.route; got != want {
			t.Errorf("%s: logged route %q, want %q", what, got, want)
		}
		if got, want := str(l, "status"), fmt.Sprint(s.status); got != want {
			t.Errorf("%s: logged status %q, want %q", what, got, want)
		}
		if d, ok := l["duration_ms"].(float64); !ok || d < 0 {
			t.Errorf("%s: logged duration_ms %v, want a number", what, l["duration_ms"])
		}
		if got, want := str(l, "tenant"), w.tenant; got != want {
			t.Errorf("%s: logged tenant %q, want %q", what, got, want)
		}
		if s.status >= 400 && s.status != http.StatusMethodNotAllowed && str(l, "code") == "" {
			t.Errorf("%s: a %d without a logged code: %v", what, s.status, l)
		}
	}
	forbidden := []string{
		"5045550123", "504-555-0123", "(504) 555-0123", "+15045550123", "+1 504 555 0123", "555-0123",
		"5045550124", "+15045550125", "504 555", "+1 504-555-0123",
		"private label", "private notes", "put label", "batch label", "Logged Customer", "Renamed Customer", "No Key Customer",
		"cust-secret-ext", "Broken JSON", "pb_not_a_real_key_at_all",
	}
	for _, s := range append(forbidden, a.admin, a.write, a.read, b.admin, b.write, b.read) {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds %q", s)
		}
	}
}
