package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/phonebook/phonebook"
)

// batchWant is what one record of a batch should come to.
type batchWant struct {
	status  string // created, updated, error
	code    string // error code
	field   string // error field, without the records[i]. prefix
	e164    string
	label   string
	phoneOf int // for updates: the record (or -1-k for customer k's seed phone) whose phone it updates
}

// TestBatch sends exactly 500 mixed records: new phones, updates of stored
// numbers, repeats within the batch, bad numbers, unknown customers and bad
// types. Each record gets its own result in order; the good ones are stored
// and the bad ones not.
func TestBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})

	const nc = 25
	var customers []obj
	var seed []obj // customer k's phone before the batch
	for k := range nc {
		c := e.MustCustomer(t, a.write, obj{"name": fmt.Sprintf("Batch %d", k), "external_id": fmt.Sprintf("ext-%d", k)})
		customers = append(customers, c)
		seed = append(seed, e.MustPhone(t, a.write, c, obj{"number": fmt.Sprintf("+1 504 556 %04d", k), "label": "seed"}))
	}
	// ref names customer k in one of three ways.
	ref := func(rec obj, k, how int) {
		switch how % 3 {
		case 0:
			rec["customer_id"] = num(customers[k], "id") // a JSON number
		case 1:
			rec["customer_id"] = str(customers[k], "uuid")
		default:
			rec["external_id"] = fmt.Sprintf("ext-%d", k)
		}
	}

	const n = 500
	records := make([]obj, n)
	want := make([]batchWant, n)
	for i := range n {
		k := (i / 10) % nc
		rec := obj{}
		switch i % 10 {
		case 0, 1, 2, 3: // a new phone
			ref(rec, k, i)
			rec["number"] = fmt.Sprintf("(504) 557-%04d", i)
			rec["type"] = []string{"mobile", "work", "home", "other"}[i%4]
			want[i] = batchWant{status: "created", e164: fmt.Sprintf("+1504557%04d", i), label: ""}
		case 4: // record i-4's number again, another way: an update of it
			ref(rec, k, i+1)
			rec["number"] = fmt.Sprintf("504.557.%04d", i-4)
			rec["label"] = fmt.Sprintf("dup %d", i)
			want[i] = batchWant{status: "updated", e164: fmt.Sprintf("+1504557%04d", i-4), label: fmt.Sprintf("dup %d", i), phoneOf: i - 4}
		case 5: // the customer's stored number, in another format
			ref(rec, k, i)
			rec["number"] = fmt.Sprintf("504556%04d", k)
			rec["label"] = fmt.Sprintf("upd %d", i)
			want[i] = batchWant{status: "updated", e164: fmt.Sprintf("+1504556%04d", k), label: fmt.Sprintf("upd %d", i), phoneOf: -1 - k}
		case 6: // a bad number
			ref(rec, k, i)
			rec["number"] = []string{"not a number", "555-0123", "+1 504"}[i%3]
			want[i] = batchWant{status: "error", code: "invalid_number", field: "number"}
		case 7: // an unknown customer by customer_id
			if i%20 == 7 {
				rec["customer_id"] = 999999
			} else {
				rec["customer_id"] = "00000000-0000-4000-8000-000000000000"
			}
			rec["number"] = fmt.Sprintf("+1 504 558 %04d", i)
			want[i] = batchWant{status: "error", code: "not_found"}
		case 8: // an unknown customer by external_id
			rec["external_id"] = fmt.Sprintf("nobody-%d", i)
			rec["number"] = fmt.Sprintf("+1 504 558 %04d", i)
			want[i] = batchWant{status: "error", code: "not_found"}
		case 9: // an unknown type
			ref(rec, k, i)
			rec["number"] = fmt.Sprintf("+1 504 558 %04d", i)
			rec["type"] = "spaceship"
			want[i] = batchWant{status: "error", code: "type_unknown", field: "type"}
		}
		records[i] = rec
	}

	_, res := e.mustDo(t, http.StatusOK, "POST", "/v1/phones/batch", a.write, obj{"records": records})
	results := list(res, "results")
	if got, want := len(results), n; got != want {
		t.Fatalf("got %d results, want %d", got, want)
	}
	phoneIDs := map[int]string{}
	var counts [3]int
	for i, r := range results {
		w := want[i]
		if got := num(r, "index"); got != int64(i) {
			t.Errorf("result %d: got index %d", i, got)
		}
		if got := str(r, "status"); got != w.status {
			t.Errorf("result %d (%v): got status %q, want %q; %v", i, records[i], got, w.status, r)
			continue
		}
		switch w.status {
		case "error":
			counts[2]++
			if get(r, "phone") != nil {
				t.Errorf("result %d: an error with a phone: %v", i, r)
			}
			if got := str(r, "error.code"); got != w.code {
				t.Errorf("result %d (%v): got error code %q, want %q", i, records[i], got, w.code)
			}
			if w.field != "" && !hasField(get(r, "error").(obj), fmt.Sprintf("records[%d].%s", i, w.field)) {
				t.Errorf("result %d: got error fields %v, want records[%d].%s", i, get(r, "error.errors"), i, w.field)
			}
		default:
			if w.status == "created" {
				counts[0]++
			} else {
				counts[1]++
			}
			if get(r, "error") != nil {
				t.Errorf("result %d: a success with an error: %v", i, r)
			}
			if got := str(r, "phone.e164"); got != w.e164 {
				t.Errorf("result %d: got phone.e164 %q, want %q", i, got, w.e164)
			}
			if got := str(r, "phone.label"); got != w.label {
				t.Errorf("result %d: got phone.label %q, want %q", i, got, w.label)
			}
			if got, want := str(r, "phone.customer_id"), idOf(customers[(i/10)%nc]); got != want {
				t.Errorf("result %d: got phone.customer_id %s, want %s", i, got, want)
			}
			phoneIDs[i] = str(r, "phone.id")
			if w.status == "updated" {
				target := ""
				if w.phoneOf >= 0 {
					target = phoneIDs[w.phoneOf]
				} else {
					target = idOf(seed[-1-w.phoneOf])
				}
				if got := phoneIDs[i]; got != target {
					t.Errorf("result %d: updated phone %s, want %s", i, got, target)
				}
			}
		}
	}
	wantCounts := map[string]int64{"total": n, "created": int64(counts[0]), "updated": int64(counts[1]), "failed": int64(counts[2])}
	for name, w := range wantCounts {
		if got := num(res, "counts."+name); got != w {
			t.Errorf("counts.%s: got %d, want %d", name, got, w)
		}
	}
	if counts != [3]int{200, 100, 200} {
		t.Errorf("results: got created/updated/failed %v, want [200 100 200]", counts)
	}

	// What is stored: each customer's seed phone with its last label, its 20
	// new phones (those repeated in the batch with their "dup" label), and
	// nothing of the bad records.
	for k, c := range customers {
		lastUpdate := 10*(k+nc*((n/10-1-k)/nc)) + 5 // the last record of kind 5 for customer k
		wantPhones := map[string]string{fmt.Sprintf("+1504556%04d", k): fmt.Sprintf("upd %d", lastUpdate)}
		for i := range n {
			if (i/10)%nc != k {
				continue
			}
			switch want[i].status {
			case "created":
				wantPhones[want[i].e164] = ""
			case "updated":
				wantPhones[want[i].e164] = want[i].label
			}
		}
		m := e.MustGet(t, a.read, custPath(c)+"/phones")
		got := map[string]string{}
		primaries := 0
		for _, p := range list(m, "data") {
			got[str(p, "e164")] = str(p, "label")
			if str(p, "is_primary") == "true" {
				primaries++
			}
		}
		if len(got) != len(wantPhones) || len(got) != 1+4*n/10/nc {
			t.Errorf("customer %d: got %d phones, want %d (%d)", k, len(got), len(wantPhones), 1+4*n/10/nc)
		}
		for e164, label := range wantPhones {
			if l, ok := got[e164]; !ok || l != label {
				t.Errorf("customer %d: phone %s got label %q (stored %v), want %q", k, e164, l, ok, label)
			}
		}
		if primaries != 1 || str(m, "data.0.id") != idOf(seed[k]) || str(m, "data.0.is_primary") != "true" {
			t.Errorf("customer %d: got %d primaries, want only the seed phone", k, primaries)
		}
	}
	for _, i := range []int{7, 8, 9, 17, 499} {
		if m := e.MustGet(t, a.read, "/v1/phones?number="+q(fmt.Sprintf("+1504558%04d", i))); len(list(m, "data")) != 0 {
			t.Errorf("the bad record %d was stored: %v", i, list(m, "data"))
		}
	}
	if got, want := e.countCustomers(t, a.read), nc; got != want {
		t.Errorf("the batch made customers: got %d, want %d", got, want)
	}
}

func TestBatchLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	c := e.MustCustomer(t, a.write, obj{"name": "Batch"})
	cid := num(c, "id")

	records := func(n int) []obj {
		out := make([]obj, n)
		for i := range out {
			out[i] = obj{"customer_id": cid, "number": fmt.Sprintf("+1 504 557 %04d", i)}
		}
		return out
	}
	phones := func() int { return len(list(e.MustGet(t, a.read, custPath(c)+"/phones"), "data")) }

	for _, body := range []any{obj{"records": records(501)}, records(501)} {
		status, h, res := e.do(t, "POST", "/v1/phones/batch", a.write, body)
		wantProblem(t, "501 records", status, h, res, http.StatusUnprocessableEntity, "validation", "records")
	}
	for _, tc := range []struct {
		name        string
		body        any
		status      int
		code, field string
	}{
		{"no records", obj{"records": []obj{}}, 422, "validation", "records"},
		{"empty array", rawBody(`[]`), 422, "validation", "records"},
		{"records missing", rawBody(`{}`), 422, "validation", "records"},
		{"records not an array", obj{"records": "many"}, 422, "validation", "records"},
		{"unknown envelope field", obj{"records": records(1), "mode": "fast"}, 400, "unknown_field", "mode"},
		{"truncated", rawBody(`{"records":[{"customer_id":1`), 400, "malformed_json", ""},
		{"a string", rawBody(`"records"`), 400, "malformed_json", ""},
	} {
		status, h, res := e.do(t, "POST", "/v1/phones/batch", a.write, tc.body)
		wantProblem(t, tc.name, status, h, res, tc.status, tc.code, tc.field)
	}
	if got := phones(); got != 0 {
		t.Fatalf("refused batches stored %d phones", got)
	}

	// Both shapes are accepted; a record that is not a record fails alone.
	_, res := e.mustDo(t, http.StatusOK, "POST", "/v1/phones/batch", a.write, obj{"records": records(2)})
	if got, want := []int64{num(res, "counts.total"), num(res, "counts.created")}, []int64{2, 2}; !slices.Equal(got, want) {
		t.Errorf("envelope: got total, created %v, want %v", got, want)
	}
	bare := []any{
		obj{"customer_id": cid, "number": "+1 504 557 0000", "label": "again"},
		obj{"customer_id": fmt.Sprint(cid), "number": "+1 504 557 0002"},
		5,
		obj{"customer_id": cid, "external_id": "x", "number": "+1 504 557 0003"},
		obj{"number": "+1 504 557 0003"},
		obj{"customer_id": cid, "number": "+1 504 557 0003", "colour": "red"},
		obj{"customer_id": "abc", "number": "+1 504 557 0003"},
	}
	_, res = e.mustDo(t, http.StatusOK, "POST", "/v1/phones/batch", a.write, bare)
	wantResults := []struct{ status, code, field string }{
		{"updated", "", ""},
		{"created", "", ""},
		{"error", "malformed_json", ""},
		{"error", "validation", "records[3].customer_id"},
		{"error", "validation", "records[4].customer_id"},
		{"error", "unknown_field", "records[5].colour"},
		{"error", "not_found", "records[6].customer_id"},
	}
	results := list(res, "results")
	if len(results) != len(wantResults) {
		t.Fatalf("bare array: got %d results, want %d: %v", len(results), len(wantResults), res)
	}
	for i, w := range wantResults {
		r := results[i]
		if str(r, "status") != w.status || str(r, "error.code") != w.code || num(r, "index") != int64(i) {
			t.Errorf("bare array record %d: got %v, want %s %s", i, r, w.status, w.code)
		}
		if w.field != "" && !hasField(get(r, "error").(obj), w.field) {
			t.Errorf("bare array record %d: got fields %v, want %s", i, get(r, "error.errors"), w.field)
		}
	}
	if got, want := []int64{num(res, "counts.total"), num(res, "counts.created"), num(res, "counts.updated"), num(res, "counts.failed")}, []int64{7, 1, 1, 5}; !slices.Equal(got, want) {
		t.Errorf("bare array counts: got %v, want %v", got, want)
	}
	if got := phones(); got != 3 {
		t.Errorf("got %d phones, want 3", got)
	}
}
