package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
)

// bulkDB returns a fresh SQLite database URL and its file path.
func bulkDB(t *testing.T) (url, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "phonebook.db")
	return "sqlite:" + path, path
}

// bulkSQL opens the database file behind the store's back, read-only.
func bulkSQL(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func bulkInt(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// bulkService runs fn with a service over the store at url, acting as an
// operator of tenant slug.
func bulkService(t *testing.T, url, slug string, fn func(ctx context.Context, svc *phonebook.Service)) {
	t.Helper()
	ctx := t.Context()
	store, err := openStore(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc := phonebook.NewService(store, nil)
	tn, err := svc.Tenant(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	fn(phonebook.NewContextWithAuth(ctx, &phonebook.Auth{Tenant: tn, Source: "test"}), svc)
}

// bulkPhones lists a tenant's phones as comparable lines, in customer and
// creation order.
func bulkPhones(t *testing.T, db *sql.DB, slug string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT c.external_id, c.name, p.e164, p.extension, p.type, p.label, p.is_primary, p.notes, p.consent_type, p.valid
		FROM phones p JOIN customers c ON c.id = p.customer_id JOIN tenants t ON t.id = p.tenant_id
		WHERE t.slug = ? ORDER BY c.id, p.id`, slug)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ext, name, e164, extension, typ, label, notes, consent string
		var primary, valid bool
		if err := rows.Scan(&ext, &name, &e164, &extension, &typ, &label, &primary, &notes, &consent, &valid); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s|%s|%s|%s|%s|%s|%t|%s|%s|%t", ext, name, e164, extension, typ, label, primary, notes, consent, valid))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func bulkWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func bulkRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkRules asserts rules 1 and 2 (and a valid, known type) over every
// phone of the database.
func checkRules(t *testing.T, db *sql.DB) {
	t.Helper()
	if n := bulkInt(t, db, `SELECT COUNT(*) FROM (SELECT customer_id FROM phones GROUP BY customer_id HAVING SUM(is_primary) <> 1)`); n != 0 {
		t.Errorf("customers without exactly one primary: got %d, want 0", n)
	}
	if n := bulkInt(t, db, `SELECT COUNT(*) FROM (SELECT 1 FROM phones GROUP BY customer_id, e164, extension HAVING COUNT(*) > 1)`); n != 0 {
		t.Errorf("duplicate numbers on a customer: got %d, want 0", n)
	}
	if n := bulkInt(t, db, `SELECT COUNT(*) FROM phones p LEFT JOIN phone_types pt ON pt.tenant_id = p.tenant_id AND pt.name = p.type WHERE pt.name IS NULL`); n != 0 {
		t.Errorf("phones of an unknown type: got %d, want 0", n)
	}
}

func TestSeedSmall(t *testing.T) {
	t.Parallel()
	url, path := bulkDB(t)
	out := MustRunCLI(t, mapEnv(), "seed", "--customers", "200", "--phones", "3", "--db", url)
	if !regexp.MustCompile(`^Seeded tenant "default" \(created\): 200 customers \(seed-000001\.\.seed-000200\), 600 phones in \S+ \(\d+ phones/s\)\n$`).MatchString(out) {
		t.Errorf("seed output: got %q", out)
	}
	db := bulkSQL(t, path)
	if got, want := bulkInt(t, db, `SELECT COUNT(*) FROM customers`), 200; got != want {
		t.Errorf("customers: got %d, want %d", got, want)
	}
	if got, want := bulkInt(t, db, `SELECT COUNT(*) FROM phones`), 600; got != want {
		t.Errorf("phones: got %d, want %d", got, want)
	}
	checkRules(t, db)
	if n := bulkInt(t, db, `SELECT COUNT(*) FROM (SELECT e164 FROM phones GROUP BY tenant_id, e164 HAVING COUNT(*) > 1)`); n != 0 {
		t.Errorf("numbers held twice in the tenant: got %d, want 0", n)
	}
	if n := bulkInt(t, db, `SELECT COUNT(*) FROM phones WHERE NOT valid OR e164 NOT LIKE '+1%' OR length(e164) <> 12`); n != 0 {
		t.Errorf("invalid seeded numbers: got %d, want 0", n)
	}
	// The first phone is the primary, types cycle mobile, home, work.
	if n := bulkInt(t, db, `SELECT COUNT(*) FROM phones p WHERE p.is_primary AND p.id <> (SELECT MIN(id) FROM phones q WHERE q.customer_id = p.customer_id)`); n != 0 {
		t.Errorf("primaries that are not the first phone: got %d, want 0", n)
	}
	var types string
	if err := db.QueryRow(`SELECT group_concat(type, ',') FROM (SELECT type FROM phones WHERE customer_id = (SELECT id FROM customers WHERE external_id = 'seed-000007') ORDER BY id)`).Scan(&types); err != nil {
		t.Fatal(err)
	}
	if got, want := types, "mobile,home,work"; got != want {
		t.Errorf("types of a customer: got %s, want %s", got, want)
	}
	var name string
	if err := db.QueryRow(`SELECT name FROM customers WHERE external_id = 'seed-000042'`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if got, want := name, "Customer 000042"; got != want {
		t.Errorf("name: got %q, want %q", got, want)
	}
	// Rule 6: one customer.created event per customer, with its phones.
	if got, want := bulkInt(t, db, `SELECT COUNT(*) FROM events WHERE type = 'customer.created' AND source = 'seed'`), 200; got != want {
		t.Errorf("customer.created events: got %d, want %d", got, want)
	}
	var after string
	if err := db.QueryRow(`SELECT after FROM events WHERE customer_id = (SELECT id FROM customers WHERE external_id = 'seed-000001')`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	var c phonebook.Customer
	if err := json.Unmarshal([]byte(after), &c); err != nil {
		t.Fatal(err)
	}
	if got, want := len(c.Phones), 3; got != want || c.ExternalID != "seed-000001" || !c.Phones[0].IsPrimary {
		t.Errorf("event after: got %d phones of %q (first primary %t), want %d of seed-000001, first primary", got, c.ExternalID, len(c.Phones) > 0 && c.Phones[0].IsPrimary, want)
	}

	// A second run adds customers after the first run's, with new numbers,
	// and a number's recorded consent is inherited (an existing tenant:
	// numbers are locked and counted).
	bulkService(t, url, "default", func(ctx context.Context, svc *phonebook.Service) {
		// The first phone of seed-000201: number index 200 × 50.
		if _, err := svc.RecordConsent(ctx, "+12012010000", "", phonebook.ConsentInput{Type: phonebook.ConsentStop, Source: "sms"}); err != nil {
			t.Fatal(err)
		}
	})
	out = MustRunCLI(t, mapEnv(), "seed", "--customers", "50", "--phones", "2", "--db", url)
	if !strings.Contains(out, `Seeded tenant "default": 50 customers (seed-000201..seed-000250), 100 phones`) {
		t.Errorf("second seed output: got %q", out)
	}
	if got, want := bulkInt(t, db, `SELECT COUNT(*) FROM phones`), 700; got != want {
		t.Errorf("phones after the second run: got %d, want %d", got, want)
	}
	checkRules(t, db)
	if n := bulkInt(t, db, `SELECT COUNT(*) FROM (SELECT e164 FROM phones GROUP BY tenant_id, e164 HAVING COUNT(*) > 1)`); n != 0 {
		t.Errorf("numbers held twice after the second run: got %d, want 0", n)
	}
	var consent string
	if err := db.QueryRow(`SELECT consent_type FROM phones WHERE e164 = '+12012010000'`).Scan(&consent); err != nil {
		t.Fatal(err)
	}
	if got, want := consent, "stop"; got != want {
		t.Errorf("inherited consent: got %q, want %q", got, want)
	}
}

func TestSeedErrors(t *testing.T) {
	t.Parallel()
	url, _ := bulkDB(t)
	MustRunCLI(t, mapEnv(), "tenants", "create", "small", "--max-phones", "2", "--db", url)
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"seed", "--phones", "2"}, "--customers must be at least 1"},
		{[]string{"seed", "--customers", "5", "--phones", "3", "--tenant", "small"}, `tenant "small" allows at most 2 phones per customer (field phones)`},
		{[]string{"seed", "--customers", "5", "--tenant", "Bad Slug"}, "(field slug)"},
		{[]string{"seed", "extra", "--customers", "5"}, `seed takes no arguments`},
	}
	for _, tt := range tests {
		_, stderr, err := runCLI(t, mapEnv(), append(tt.args, "--db", url)...)
		if err == nil || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("phonebook %s: got err %v, stderr %q; want an error with %q", strings.Join(tt.args, " "), err, stderr, tt.stderr)
		}
	}
}

const importSample = "External_ID,Name,Number,Type,Label,Is_Primary,Notes,Extension\n" +
	"c1,\"Doe, Jane\",(504) 555-0123,mobile,cell,true,\"call after 5, weekdays\",\n" + // 2 created
	"c1,\"Doe, Jane\",+1 504 555 0124,home,,,,\n" + // 3 created
	"c1,,5045550123,work,,,,\n" + // 4 same number as line 2: updated
	"c2,Bob,12,mobile,,,,\n" + // 5 invalid number
	"c2,Bob,5045550199,fancy,,,,\n" + // 6 unknown type
	",Nobody,5045550100,mobile,,,,\n" + // 7 no external_id
	"c3,Carl,5045550111,mobile,,maybe,,\n" + // 8 bad is_primary
	"c4,\"Two\nlines\",5045550112,mobile,,,,\n" + // 9-10 a name with a line break
	"c5,Eve,5045550113,mobile,,,,\n" + // 11 created
	"c5,Eve,5045550113,work,desk,,,12\n" + // 12 another extension: created
	"c6,Short\n" + // 13 too few columns
	"c7,Gina,,,,,,\n" // 14 a customer without phones

func TestImportCSV(t *testing.T) {
	t.Parallel()
	url, path := bulkDB(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "people.csv")
	bulkWrite(t, file, importSample)
	MustRunCLI(t, mapEnv(), "tenants", "create", "acme", "--db", url)

	out := MustRunCLI(t, mapEnv(), "import", file, "--tenant", "acme", "--batch", "4", "--db", url)
	for _, want := range []string{
		`Imported ` + file + ` into tenant "acme": 12 rows in `,
		// c1, c2 (whose phones are rejected), c5, c7; c3, c4 and c6 have no
		// valid row.
		"  customers created: 4\n",
		"  phones created: 4, updated: 1; unchanged rows: 0\n",
		"  rejected: 6 (see " + filepath.Join(dir, "people.rejects.csv") + ")\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output: missing %q in\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "people.import-state")); !os.IsNotExist(err) {
		t.Errorf("state file after a complete import: got %v, want none", err)
	}

	rejects, err := csv.NewReader(strings.NewReader(bulkRead(t, filepath.Join(dir, "people.rejects.csv")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rejects[0], []string{"External_ID", "Name", "Number", "Type", "Label", "Is_Primary", "Notes", "Extension", "line", "reason"}; !slices.Equal(got, want) {
		t.Errorf("rejects header: got %q, want %q", got, want)
	}
	wantRejects := []struct{ line, ext, reason string }{
		{"5", "c2", "invalid_number: number has the wrong length for a number of +1 (field number)"},
		{"6", "c2", "type_unknown: unknown phone type; see /v1/phone-types (field type)"},
		{"7", "", "validation: external_id is required (field external_id)"},
		{"8", "c3", "validation: is_primary must be true or false (field is_primary)"},
		{"9", "c4", "validation: name holds control characters (field name)"},
		{"13", "c6", "validation: the row has 2 columns, the header 8"},
	}
	if got, want := len(rejects)-1, len(wantRejects); got != want {
		t.Fatalf("rejected rows: got %d, want %d:\n%q", got, want, rejects)
	}
	for i, w := range wantRejects {
		r := rejects[i+1]
		if r[8] != w.line || r[0] != w.ext || r[9] != w.reason {
			t.Errorf("reject %d: got line %s, external_id %q, reason %q; want %s, %q, %q", i, r[8], r[0], r[9], w.line, w.ext, w.reason)
		}
	}
	if got, want := rejects[5][1], "Two\nlines"; got != want {
		t.Errorf("a rejected row keeps its fields: got %q, want %q", got, want)
	}

	db := bulkSQL(t, path)
	checkRules(t, db)
	got := bulkPhones(t, db, "acme")
	want := []string{
		"c1|Doe, Jane|+15045550123||work|cell|true|call after 5, weekdays|none|true",
		"c1|Doe, Jane|+15045550124||home||false||none|true",
		"c5|Eve|+15045550113||mobile||true||none|true",
		"c5|Eve|+15045550113|12|work|desk|false||none|true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("phones:\ngot  %q\nwant %q", got, want)
	}
	var customers []string
	rows, err := db.Query(`SELECT external_id, name FROM customers ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ext, name string
		rows.Scan(&ext, &name)
		customers = append(customers, ext+"="+name)
	}
	rows.Close()
	if want := []string{"c1=Doe, Jane", "c2=Bob", "c5=Eve", "c7=Gina"}; !slices.Equal(customers, want) {
		t.Errorf("customers: got %q, want %q", customers, want)
	}
	if got, want := bulkInt(t, db, `SELECT COUNT(*) FROM events WHERE source = 'import' AND type = 'phone.created'`), 4; got != want {
		t.Errorf("phone.created events: got %d, want %d", got, want)
	}

	// The same file again: line 2 and then line 4 change the type of
	// (504) 555-0123 again; the other rows are as stored.
	out = MustRunCLI(t, mapEnv(), "import", file, "--tenant", "acme", "--db", url)
	if !strings.Contains(out, "  customers created: 0\n  phones created: 0, updated: 2; unchanged rows: 4\n") {
		t.Errorf("second import output:\n%s", out)
	}
}

func TestImportBadFiles(t *testing.T) {
	t.Parallel()
	url, path := bulkDB(t)
	dir := t.TempDir()
	MustRunCLI(t, mapEnv(), "tenants", "create", "acme", "--db", url)
	tests := []struct {
		name, content string
		args          []string
		stderr        string
	}{
		{"no number column", "external_id,name\nc1,Ann\n", nil, "the header has no number column"},
		{"no external_id column", "number\n5045550123\n", nil, "the header has no external_id column"},
		{"unknown column", "external_id,number,colour\nc1,5045550123,red\n", nil, `unknown column "colour"`},
		{"column twice", "external_id,number,Number\nc1,5045550123,5045550124\n", nil, `column "number" appears twice`},
		{"empty file", "", nil, "it needs a header row"},
		{"unknown tenant", "external_id,number\nc1,5045550123\n", []string{"--tenant", "nope"}, `tenant "nope" not found`},
	}
	for i, tt := range tests {
		file := filepath.Join(dir, fmt.Sprintf("f%d.csv", i))
		bulkWrite(t, file, tt.content)
		_, stderr, err := runCLI(t, mapEnv(), append([]string{"import", file, "--tenant", "acme", "--db", url}, tt.args...)...)
		if err == nil || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%s: got err %v, stderr %q; want an error with %q", tt.name, err, stderr, tt.stderr)
		}
	}
	if _, _, err := runCLI(t, mapEnv(), "import", filepath.Join(dir, "missing.csv"), "--db", url); err == nil {
		t.Errorf("a missing file: got no error")
	}
	if n := bulkInt(t, bulkSQL(t, path), `SELECT COUNT(*) FROM customers`); n != 0 {
		t.Errorf("customers after refused files: got %d, want 0", n)
	}
}

// bulkBigCSV writes n customers with per phones each, every 37th row a
// bad number, and returns the file.
func bulkBigCSV(t *testing.T, dir string, n, per int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("external_id,name,number,type,label,is_primary\n")
	row := 0
	for i := 1; i <= n; i++ {
		for j := 0; j < per; j++ {
			row++
			number := fmt.Sprintf("(%d) %03d-%04d", 201+j, 200+i/10000, i%10000)
			if row%37 == 0 {
				number = "555-12"
			}
			fmt.Fprintf(&b, "cust-%05d,\"Customer %d, Esq.\",%s,%s,l%d,%t\n", i, i, number, []string{"mobile", "home", "work"}[j%3], j, j == per-1)
		}
	}
	file := filepath.Join(dir, "big.csv")
	bulkWrite(t, file, b.String())
	return file
}

func TestImportResumes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := bulkBigCSV(t, dir, 150, 4)
	statePath := filepath.Join(dir, "big.import-state")
	rejectsPath := filepath.Join(dir, "big.rejects.csv")

	// A clean single run, for reference.
	cleanURL, cleanPath := bulkDB(t)
	MustRunCLI(t, mapEnv(), "tenants", "create", "acme", "--db", cleanURL)
	cleanRejects := filepath.Join(dir, "clean.rejects.csv")
	MustRunCLI(t, mapEnv(), "import", file, "--tenant", "acme", "--batch", "7", "--rejects", cleanRejects, "--db", cleanURL)

	// An interrupted run: cancelled (as SIGINT does) once a batch is done.
	url, path := bulkDB(t)
	MustRunCLI(t, mapEnv(), "tenants", "create", "acme", "--db", url)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(statePath); err == nil {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var stdout, stderr syncBuffer
	err := run(ctx, []string{"phonebook", "import", file, "--tenant", "acme", "--batch", "7", "--db", url}, mapEnv(), strings.NewReader(""), &stdout, &stderr)
	if err == nil {
		t.Fatalf("the import finished before it could be interrupted:\n%s", stdout.String())
	}
	if !strings.Contains(stdout.String(), "interrupted after line ") || !strings.Contains(stderr.String(), "run the same command again to resume") {
		t.Errorf("interrupted import output:\nstdout %s\nstderr %s", stdout.String(), stderr.String())
	}
	var st importState
	if err := json.Unmarshal([]byte(bulkRead(t, statePath)), &st); err != nil {
		t.Fatal(err)
	}
	db := bulkSQL(t, path)
	done := bulkInt(t, db, `SELECT COUNT(*) FROM phones`)
	if st.Counts.Rows == 0 || st.Counts.Rows >= 600 || st.Counts.Rows%7 != 0 {
		t.Errorf("rows done when interrupted: got %d, want whole batches of 7, fewer than 600", st.Counts.Rows)
	}
	if got, want := done, st.Counts.Created; got != want {
		t.Errorf("phones in the store when interrupted: got %d, state says %d", got, want)
	}

	out := MustRunCLI(t, mapEnv(), "import", file, "--tenant", "acme", "--batch", "7", "--db", url)
	if want := fmt.Sprintf("resuming at line %d (%d rows done)\n", st.Line+1, st.Counts.Rows); !strings.HasPrefix(out, want) {
		t.Errorf("resumed import output: got\n%s\nwant it to start with %q", out, want)
	}
	if _, err := os.Stat(statePath); !os.IsNotExist(err) {
		t.Errorf("state file after the resumed import: got %v, want none", err)
	}
	if got, want := bulkPhones(t, db, "acme"), bulkPhones(t, bulkSQL(t, cleanPath), "acme"); !slices.Equal(got, want) {
		t.Errorf("interrupted and resumed import differs from a clean one: got %d phones, want %d", len(got), len(want))
	}
	checkRules(t, db)
	if got, want := bulkRead(t, rejectsPath), bulkRead(t, cleanRejects); got != want {
		t.Errorf("rejects of the resumed import:\n%s\nwant (clean run):\n%s", got, want)
	}
	if got, want := strings.Count(bulkRead(t, rejectsPath), "\n"), 1+600/37; got != want {
		t.Errorf("rejects lines: got %d, want %d", got, want)
	}
	if !strings.Contains(out, "  rejected: 16 (see "+rejectsPath+")") {
		t.Errorf("resumed import summary:\n%s", out)
	}

	// A changed file does not resume from another file's state.
	bulkWrite(t, statePath, `{"version":1,"file":"x","size":1,"head_sha256":"00","tenant":"acme","offset":5,"line":9}`)
	_, stderr2, err := runCLI(t, mapEnv(), "import", file, "--tenant", "acme", "--db", url)
	if err != nil || !strings.Contains(stderr2, "ignoring "+statePath) {
		t.Errorf("stale state file: got err %v, stderr %q", err, stderr2)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	url, path := bulkDB(t)
	dir := t.TempDir()
	MustRunCLI(t, mapEnv(), "seed", "--customers", "30", "--phones", "3", "--tenant", "src", "--db", url)
	bulkService(t, url, "src", func(ctx context.Context, svc *phonebook.Service) {
		c, err := svc.CreateCustomer(ctx, phonebook.CustomerInput{ExternalID: "crm-1", Name: "Ann \"Quote\", Jr."})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []phonebook.PhoneInput{
			{Number: "(504) 555-0123", Type: "work", Label: "desk", Extension: "42", Notes: "line 1\nline 2"},
			{Number: "+44 20 7946 0018", Type: "home", IsPrimary: true, ConsentType: "express", ConsentSource: "web form"},
			{Number: "504.555.0123", Type: "fax"},
		} {
			if _, err := svc.AddPhone(ctx, phonebook.CustomerRef{ID: c.ID}, in); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.CreateCustomer(ctx, phonebook.CustomerInput{ExternalID: "a-no-phones", Name: "No Phones"}); err != nil {
			t.Fatal(err)
		}
	})
	file := filepath.Join(dir, "src.csv")
	out := MustRunCLI(t, mapEnv(), "export", "--tenant", "src", "--out", file, "--db", url)
	if !strings.Contains(out, `Exported tenant "src": 32 customers, 93 phones in `) {
		t.Errorf("export output: %q", out)
	}
	exported := bulkRead(t, file)
	if !strings.HasPrefix(exported, strings.Join(csvColumns, ",")+"\n") {
		t.Errorf("export header: got %q", strings.SplitN(exported, "\n", 2)[0])
	}
	if !strings.Contains(exported, "crm-1,\"Ann \"\"Quote\"\", Jr.\",(504) 555-0123,1,42,work,desk,false,\"line 1\nline 2\",,\n") ||
		!strings.Contains(exported, "crm-1,\"Ann \"\"Quote\"\", Jr.\",+44 20 7946 0018,44,,home,,true,,express,web form\n") ||
		!strings.HasSuffix(exported, "a-no-phones,No Phones,,,,,,,,,\n") {
		t.Errorf("exported rows of crm-1 and a-no-phones:\n%s", exported[strings.Index(exported, "crm-1"):])
	}
	// Standard output carries the same data.
	if stdout := MustRunCLI(t, mapEnv(), "export", "--tenant", "src", "--db", url); stdout != exported {
		t.Errorf("export to stdout differs from export to a file")
	}

	MustRunCLI(t, mapEnv(), "tenants", "create", "dst", "--db", url)
	out = MustRunCLI(t, mapEnv(), "import", file, "--tenant", "dst", "--batch", "10", "--db", url)
	if !strings.Contains(out, "  customers created: 32\n  phones created: 93, updated: 0; unchanged rows: 0\n  rejected: none\n") {
		t.Errorf("import of the export:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "src.rejects.csv")); !os.IsNotExist(err) {
		t.Errorf("rejects file of an import without rejects: got %v, want none", err)
	}
	db := bulkSQL(t, path)
	if got, want := bulkPhones(t, db, "dst"), bulkPhones(t, db, "src"); !slices.Equal(got, want) {
		t.Errorf("phones of the imported tenant:\ngot  %q\nwant %q", got, want)
	}
	checkRules(t, db)
	// Importing it again changes nothing: no new version, no event.
	events := bulkInt(t, db, `SELECT COUNT(*) FROM events`)
	out = MustRunCLI(t, mapEnv(), "import", file, "--tenant", "dst", "--db", url)
	if !strings.Contains(out, "  customers created: 0\n  phones created: 0, updated: 0; unchanged rows: 94\n") {
		t.Errorf("second import of the export:\n%s", out)
	}
	if got := bulkInt(t, db, `SELECT COUNT(*) FROM events`); got != events {
		t.Errorf("events after importing the same file again: got %d, want %d", got, events)
	}
	// And the imported tenant exports to the same file.
	again := filepath.Join(dir, "dst.csv")
	MustRunCLI(t, mapEnv(), "export", "--tenant", "dst", "--out", again, "--db", url)
	if got := bulkRead(t, again); got != exported {
		t.Errorf("export of the imported tenant differs:\n%s\nwant\n%s", got, exported)
	}
}

// A row the store refuses (limits) makes its batch run again with a
// savepoint per row: the other rows are kept.
func TestImportLimits(t *testing.T) {
	t.Parallel()
	url, path := bulkDB(t)
	dir := t.TempDir()
	MustRunCLI(t, mapEnv(), "tenants", "create", "tight", "--max-phones", "2", "--max-customers-per-number", "1", "--db", url)
	file := filepath.Join(dir, "limits.csv")
	bulkWrite(t, file, "external_id,number\na,5045550101\na,5045550102\na,5045550103\nb,5045550101\nb,5045550104\n")
	out := MustRunCLI(t, mapEnv(), "import", file, "--tenant", "tight", "--db", url)
	if !strings.Contains(out, "  customers created: 2\n  phones created: 3, updated: 0; unchanged rows: 0\n  rejected: 2 (see ") {
		t.Errorf("import output:\n%s", out)
	}
	got := bulkRead(t, filepath.Join(dir, "limits.rejects.csv"))
	want := "external_id,number,line,reason\n" +
		"a,5045550103,4,\"phone_limit: the customer already has 2 phones, the most allowed (field number)\"\n" +
		"b,5045550101,5,\"number_limit: this number is already held by 1 customers, the most allowed (field number)\"\n"
	if got != want {
		t.Errorf("rejects:\ngot  %q\nwant %q", got, want)
	}
	db := bulkSQL(t, path)
	checkRules(t, db)
	if got, want := bulkPhones(t, db, "tight"), []string{
		"a||+15045550101||other||true||none|true",
		"a||+15045550102||other||false||none|true",
		"b||+15045550104||other||true||none|true",
	}; !slices.Equal(got, want) {
		t.Errorf("phones:\ngot  %q\nwant %q", got, want)
	}
}
