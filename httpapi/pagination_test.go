package httpapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
)

// TestPagination walks 1,234 customers in pages of 100 in each sort order:
// no gap, no repeat, 13 pages, and a last page that says so.
func TestPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	const n = 1234
	want := map[string]bool{}
	for i := range n {
		// A permutation of 0..n-1, in groups of three sharing a name, so
		// name order differs from creation order and ties need the id.
		name := fmt.Sprintf("Customer %04d", (i*7919)%n/3)
		c, err := e.svc.CreateCustomer(a.ctx, phonebook.CustomerInput{Name: name})
		must(t, err, "CreateCustomer %d", i)
		want[strconv.FormatInt(c.ID, 10)] = true
	}

	type row struct {
		id, name string
		created  time.Time
	}
	walk := func(t *testing.T, sort string) []row {
		t.Helper()
		var rows []row
		seen := map[string]bool{}
		cursor := ""
		pages := 0
		for {
			path := "/v1/customers?limit=100"
			if sort != "" {
				path += "&sort=" + q(sort)
			}
			if cursor != "" {
				path += "&cursor=" + q(cursor)
			}
			m := e.MustGet(t, a.read, path)
			pages++
			data := list(m, "data")
			for _, c := range data {
				id := str(c, "id")
				if seen[id] {
					t.Fatalf("sort %q page %d: customer %s seen twice", sort, pages, id)
				}
				seen[id] = true
				at, err := time.Parse(time.RFC3339Nano, str(c, "created_at"))
				must(t, err, "customer %s created_at", id)
				rows = append(rows, row{id, str(c, "name"), at})
			}
			last := pages == 13
			if got, want := len(data), 100; !last && got != want {
				t.Fatalf("sort %q page %d: got %d rows, want %d", sort, pages, got, want)
			}
			if get(m, "next_cursor") == nil {
				if _, ok := m["next_cursor"]; !ok {
					t.Errorf("sort %q page %d: next_cursor is missing, want null", sort, pages)
				}
				if got, want := str(m, "has_more"), "false"; got != want {
					t.Errorf("sort %q page %d: has_more %s, want %s", sort, pages, got, want)
				}
				if got, want := len(data), n-1200; got != want {
					t.Errorf("sort %q last page: got %d rows, want %d", sort, got, want)
				}
				break
			}
			if got, want := str(m, "has_more"), "true"; got != want {
				t.Errorf("sort %q page %d: has_more %s, want %s", sort, pages, got, want)
			}
			cursor = str(m, "next_cursor")
			if cursor == "" || pages > 20 {
				t.Fatalf("sort %q page %d: bad next_cursor %v", sort, pages, get(m, "next_cursor"))
			}
		}
		if got, want := pages, 13; got != want {
			t.Errorf("sort %q: got %d pages, want %d", sort, got, want)
		}
		if got, want := len(rows), n; got != want {
			t.Errorf("sort %q: got %d customers, want %d", sort, got, want)
		}
		for id := range want {
			if !seen[id] {
				t.Errorf("sort %q: customer %s never listed", sort, id)
			}
		}
		return rows
	}
	less := map[string]func(a, b row) bool{
		"": func(a, b row) bool {
			return a.created.Before(b.created) || a.created.Equal(b.created) && atoi(a.id) < atoi(b.id)
		},
		"created_at": func(a, b row) bool {
			return a.created.Before(b.created) || a.created.Equal(b.created) && atoi(a.id) < atoi(b.id)
		},
		"-created_at": func(a, b row) bool {
			return a.created.After(b.created) || a.created.Equal(b.created) && atoi(a.id) > atoi(b.id)
		},
		"name": func(a, b row) bool {
			return a.name < b.name || a.name == b.name && atoi(a.id) < atoi(b.id)
		},
	}
	for _, sort := range []string{"", "created_at", "-created_at", "name"} {
		t.Run("sort="+sort, func(t *testing.T) {
			rows := walk(t, sort)
			for i := 1; i < len(rows); i++ {
				if !less[sort](rows[i-1], rows[i]) {
					t.Fatalf("sort %q: row %d %v is not after row %d %v", sort, i, rows[i], i-1, rows[i-1])
				}
			}
		})
	}

	t.Run("BadParameters", func(t *testing.T) {
		_, first := e.mustDo(t, http.StatusOK, "GET", "/v1/customers?limit=2&sort=name", a.read, nil)
		nameCursor := str(first, "next_cursor")
		cases := []struct {
			query, field string
		}{
			{"limit=0", "limit"},
			{"limit=501", "limit"},
			{"limit=abc", "limit"},
			{"limit=-1", "limit"},
			{"cursor=garbage!!", "cursor"},
			{"cursor=" + q("eyJzIjoiY3JlYXRlZF9hdCJ9"), "cursor"}, // {"s":"created_at"}: no id
			{"cursor=" + q(nameCursor), "cursor"},                 // a name cursor for the created_at order
			{"sort=size", "sort"},
			{"status=gone", "status"},
		}
		for _, tc := range cases {
			status, h, body := e.do(t, "GET", "/v1/customers?"+tc.query, a.read, nil)
			wantProblem(t, "GET /v1/customers?"+tc.query, status, h, body, http.StatusUnprocessableEntity, "validation", tc.field)
		}
	})
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
