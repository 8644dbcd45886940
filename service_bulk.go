package phonebook

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Bulk operations: seeding a synthetic tenant, importing and exporting
// real data. They are operator actions (the CLI's seed, import and
// export), run without an API key like CreateTenant, but every write goes
// through the same Tx methods, constraints and outbox as the API's.

// Sources recorded on the events of bulk operations.
const (
	SourceSeed   = "seed"
	SourceImport = "import"
)

// SeedInput describes a synthetic load.
type SeedInput struct {
	// Tenant is the slug of the tenant to fill; it is created (with the
	// defaults) when missing.
	Tenant string
	// Customers is how many customers to create.
	Customers int
	// PhonesPerCustomer is how many phones each gets (at most the tenant's
	// max_phones_per_customer).
	PhonesPerCustomer int
	// Progress, when set, is called after each committed transaction with
	// the number of customers created so far.
	Progress func(done int)
}

// SeedResult is what Seed made.
type SeedResult struct {
	Tenant        *Tenant
	TenantCreated bool
	// FirstIndex is the seed index of the first customer made: customer
	// "Customer 000042" has external_id "seed-000042" and index 42.
	FirstIndex int
	Customers  int
	Phones     int
}

// MaxSeedCustomers bounds one Seed call.
const MaxSeedCustomers = 50_000_000

// seedAreaCodes are US area codes in service: with exchanges 200-999 and
// lines 0000-9999 every number built from them is one libphonenumber calls
// valid (checked by the seed tests, since the metadata can change).
var seedAreaCodes = []int{
	201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224, 225, 228,
	229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270, 276, 281, 301, 302,
	303, 304, 305, 307, 308, 309, 310, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 323, 325, 330,
	334, 336, 337, 339, 347, 351, 352, 360, 361, 386, 401, 402, 404, 405, 406, 407, 408, 409, 410, 412,
	413, 414, 415, 417, 419, 423, 425, 432, 434, 435, 440, 443, 469, 478, 479, 480, 484, 501, 502, 503,
	504, 505, 507, 508, 509, 510, 512, 513, 515, 516, 517, 518, 520, 530, 540, 541, 551, 559, 561, 562,
	563, 567, 570, 571, 573, 574, 575, 580, 585, 586, 601, 602, 603, 605, 606, 607, 608, 609, 610, 612,
	614, 615, 616, 617, 618, 619, 620, 623, 626, 630, 631, 636, 641, 646, 650, 651, 660, 661, 662, 678,
	682, 701, 702, 703, 704, 706, 707, 708, 712, 713, 714, 715, 716, 717, 718, 719, 720, 724, 727, 731,
	732, 734, 740, 754, 757, 760, 763, 765, 770, 772, 773, 774, 775, 781, 785, 786, 801, 802, 803, 804,
	805, 806, 808, 810, 812, 813, 814, 815, 816, 817, 818, 828, 830, 831, 832, 843, 845, 847, 848, 850,
	856, 857, 858, 859, 860, 862, 863, 864, 865, 870, 872, 878, 901, 903, 904, 906, 907, 908, 909, 910,
	912, 913, 914, 915, 916, 917, 918, 919, 920, 925, 928, 931, 936, 937, 940, 941, 947, 949, 951, 952,
	954, 956, 970, 971, 972, 973, 978, 979, 980, 985, 989,
}

// seedNumberSpace is how many distinct numbers seedNumber can make.
var seedNumberSpace = int64(len(seedAreaCodes)) * 800 * 10000

// seedNumber returns the g-th synthetic number (0 <= g < seedNumberSpace),
// in E.164 form. Consecutive g are consecutive numbers, so a seed appends
// to the number indexes instead of writing all over them.
func seedNumber(g int64) string {
	ac := seedAreaCodes[g/(800*10000)]
	rest := g % (800 * 10000)
	return fmt.Sprintf("+1%03d%03d%04d", ac, 200+rest/10000, rest%10000)
}

// SeedExternalID is the external_id of the customer of seed index i.
func SeedExternalID(i int) string { return fmt.Sprintf("seed-%06d", i) }

var seedTypes = []string{"mobile", "home", "work"}

// seedCustomer is one customer of a chunk, built (numbers parsed) before
// its transaction.
type seedCustomer struct {
	c      Customer
	phones []Phone
}

// Seed fills a tenant with synthetic customers, each with distinct valid US
// numbers, in large transactions. The customers are numbered after the
// last one an earlier Seed made in the tenant, and their numbers derive
// from that index, so a second run adds new customers with new numbers.
//
// Every row goes through the Tx methods, so the database constraints of
// the rules hold (one primary: the first phone; no duplicate; the type
// exists), the number limit is checked with LockNumber (skipped when the
// tenant was created by this call: no one else can have written to it, and
// the seed's numbers are distinct), and a new phone inherits its number's
// consent as AddPhone's would. When ctx ends, Seed returns after the
// transaction under way, with what was committed. For a bulk load the outbox receives one
// customer.created event per customer, whose "after" includes its phones,
// instead of a phone.created event per phone.
func (s *Service) Seed(ctx context.Context, in SeedInput) (*SeedResult, error) {
	var errs ValidationErrors
	if in.Customers < 1 || in.Customers > MaxSeedCustomers {
		errs = append(errs, Errorf(ECodeValidation, "customers", "customers must be between 1 and %d", MaxSeedCustomers))
	}
	if in.PhonesPerCustomer < 0 {
		errs = append(errs, Errorf(ECodeValidation, "phones", "phones per customer must not be negative"))
	}
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	t, created, err := s.seedTenant(ctx, in.Tenant)
	if err != nil {
		return nil, err
	}
	if in.PhonesPerCustomer > t.MaxPhonesPerCustomer {
		return nil, Errorf(ECodeValidation, "phones", "tenant %q allows at most %d phones per customer", t.Slug, t.MaxPhonesPerCustomer)
	}
	res := &SeedResult{Tenant: t, TenantCreated: created, FirstIndex: 1}
	if !created {
		last, err := s.lastSeedIndex(ctx, t)
		if err != nil {
			return nil, err
		}
		res.FirstIndex = last + 1
	}
	// Customer i's phones are numbers (i-1)*M .. (i-1)*M+P-1: distinct
	// across customers and runs whatever P each run uses (P <= M).
	stride := int64(t.MaxPhonesPerCustomer)
	if end := int64(res.FirstIndex-1+in.Customers) * stride; end > seedNumberSpace {
		return nil, Errorf(ECodeValidation, "customers", "the seed's number space holds %d more customers in this tenant", max(0, seedNumberSpace/stride-int64(res.FirstIndex-1)))
	}

	// About 10,000 phones per transaction: one fsync per chunk, and little
	// memory held.
	per := 10000 / max(in.PhonesPerCustomer, 1)
	per = min(max(per, 1), 5000)
	chunks := (in.Customers + per - 1) / per

	a := &Auth{Tenant: t, Source: SourceSeed}
	prepare := func(i int) ([]seedCustomer, error) {
		first := res.FirstIndex + i*per
		n := min(per, res.FirstIndex+in.Customers-first)
		out := make([]seedCustomer, n)
		for k := range out {
			idx := first + k
			now := s.timestamp()
			sc := &out[k]
			sc.c = Customer{TenantID: t.ID, ExternalID: SeedExternalID(idx), Name: fmt.Sprintf("Customer %06d", idx),
				Status: StatusActive, CreatedAt: now, UpdatedAt: now, Version: 1}
			sc.phones = make([]Phone, in.PhonesPerCustomer)
			for j := range sc.phones {
				p, err := s.newPhone(t, PhoneInput{
					Number: seedNumber(int64(idx-1)*stride + int64(j)), Type: seedTypes[j%len(seedTypes)], IsPrimary: j == 0,
				})
				if err != nil {
					return nil, fmt.Errorf("seed number %d of customer %d: %w", j, idx, err)
				}
				sc.phones[j] = *p
			}
		}
		return out, nil
	}
	// A transaction handed to the store finishes even when ctx ends: the
	// pipeline checks ctx between transactions, so an interrupted seed
	// stops cleanly after the one under way.
	wctx := context.WithoutCancel(ctx)
	write := func(chunk []seedCustomer) error {
		return s.write(wctx, func(tx Tx) error {
			return s.seedChunk(wctx, tx, a, chunk, !created)
		})
	}
	err = pipeline(ctx, chunks, prepare, func(i int, chunk []seedCustomer) error {
		if err := write(chunk); err != nil {
			return err
		}
		res.Customers += len(chunk)
		res.Phones += len(chunk) * in.PhonesPerCustomer
		if in.Progress != nil {
			in.Progress(res.Customers)
		}
		return nil
	})
	return res, err
}

// seedTenant returns the tenant of slug, creating it when missing.
func (s *Service) seedTenant(ctx context.Context, slug string) (*Tenant, bool, error) {
	t, err := s.Tenant(ctx, slug)
	if err == nil {
		return t, false, nil
	}
	if !IsCode(err, ECodeNotFound) {
		return nil, false, err
	}
	t, err = s.CreateTenant(ctx, TenantInput{Slug: slug})
	if IsCode(err, ECodeConflict) { // created meanwhile by someone else
		t, err = s.Tenant(ctx, slug)
		return t, false, err
	}
	return t, err == nil, err
}

// lastSeedIndex returns the highest i such that the tenant has customer
// seed-i and not seed-(i+1), searching exponentially then by halves.
func (s *Service) lastSeedIndex(ctx context.Context, t *Tenant) (int, error) {
	last := 0
	err := s.read(ctx, func(tx Tx) error {
		exists := func(i int) (bool, error) {
			_, err := tx.FindCustomer(ctx, t.ID, CustomerRef{ExternalID: SeedExternalID(i)}, false)
			if IsCode(err, ECodeNotFound) {
				return false, nil
			}
			return err == nil, err
		}
		lo, hi := 0, 1 // seed-lo exists (or lo is 0), seed-hi does not
		for {
			ok, err := exists(hi)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			lo, hi = hi, hi*2
		}
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			ok, err := exists(mid)
			if err != nil {
				return err
			}
			if ok {
				lo = mid
			} else {
				hi = mid
			}
		}
		last = lo
		return nil
	})
	return last, err
}

// seedChunk writes one chunk of seeded customers in tx. check says whether
// other writers may hold the numbers (an existing tenant).
func (s *Service) seedChunk(ctx context.Context, tx Tx, a *Auth, chunk []seedCustomer, check bool) error {
	t := a.Tenant
	if check {
		// Numbers in E.164 order, like lockBatch, so a seed never deadlocks
		// against batches of other writers; the seed's own customers are
		// new, so every holder counted is someone else.
		var numbers []string
		for i := range chunk {
			for j := range chunk[i].phones {
				numbers = append(numbers, chunk[i].phones[j].E164)
			}
		}
		slices.Sort(numbers)
		for _, n := range numbers {
			held, err := tx.LockNumber(ctx, t.ID, n, 0)
			if err != nil {
				return err
			}
			if held >= t.MaxCustomersPerNumber {
				return Errorf(ECodeNumberLimit, "number", "seed number %s is already held by %d customers, the most allowed", n, held)
			}
		}
	}
	for i := range chunk {
		c := chunk[i].c // fn may run again: start from the prepared rows each time
		if err := tx.CreateCustomer(ctx, &c); err != nil {
			if IsCode(err, ECodeConflict) {
				return Errorf(ECodeConflict, "external_id", "customer %s already exists (were seeded customers deleted? seed another tenant)", c.ExternalID)
			}
			return err
		}
		c.Phones = make([]*Phone, len(chunk[i].phones))
		for j := range chunk[i].phones {
			p := chunk[i].phones[j]
			p.CustomerID = c.ID
			if check {
				if err := s.inheritConsent(ctx, tx, a, &p); err != nil {
					return err
				}
			}
			if err := tx.CreatePhone(ctx, &p); err != nil {
				return err
			}
			c.Phones[j] = &p
		}
		if err := tx.AddEvent(ctx, s.event(a, EventCustomerCreated, c.ID, 0, nil, &c)); err != nil {
			return err
		}
	}
	return nil
}

// pipeline prepares n items on every CPU, ahead of and in parallel with
// commit, which receives them in order (0, 1, ...). It stops at the first
// error of either, or when ctx ends, and returns that error.
func pipeline[T any](ctx context.Context, n int, prepare func(i int) (T, error), commit func(i int, v T) error) error {
	type result struct {
		v   T
		err error
	}
	type job struct {
		i   int
		out chan result
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan job)
	ordered := make(chan chan result, workers+1) // how far preparing runs ahead
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				v, err := prepare(j.i)
				j.out <- result{v, err}
			}
		}()
	}
	go func() {
		defer close(ordered)
		defer close(jobs)
		for i := range n {
			out := make(chan result, 1)
			select {
			case ordered <- out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{i, out}:
			case <-ctx.Done():
				out <- result{err: ctx.Err()}
				return
			}
		}
	}()
	defer wg.Wait()
	i := 0
	for out := range ordered {
		r := <-out
		if r.err == nil {
			r.err = ctx.Err()
		}
		if r.err == nil {
			r.err = commit(i, r.v)
		}
		if r.err != nil {
			cancel()
			for out := range ordered { // let the dispatcher and workers finish
				<-out
			}
			return r.err
		}
		i++
	}
	return ctx.Err()
}

// --- import ---

// ImportRow is one row of an import file: a customer, by its external_id,
// and one of its phones. A row without a number only makes sure the
// customer exists (export writes customers without phones so).
type ImportRow struct {
	Line          int // where the row is in its file, for reports
	ExternalID    string
	Name          string // used when the customer is created
	Number        string
	Country       string // a region (US) or calling code (1, +44); empty: the tenant's region
	Extension     string
	Type          string
	Label         string
	IsPrimary     bool
	Notes         string
	ConsentType   string
	ConsentSource string
}

// Outcomes of an imported row.
const (
	ImportCreated   = "created"   // the phone was added (or, for a row without a number, the customer)
	ImportUpdated   = "updated"   // the customer had the number+extension: the row's non-empty fields were written
	ImportUnchanged = "unchanged" // the customer had the phone as the row describes it
	ImportRejected  = "rejected"  // Err says why; the other rows are not affected
)

// ImportResult is the outcome of one ImportRow.
type ImportResult struct {
	Line            int
	Outcome         string
	CustomerCreated bool  // the row's customer was created by this row's batch
	Err             error // a domain error (code, message, field) when rejected
}

// ImportBatch is a batch of rows read and checked by PrepareImport, ready
// for CommitImport.
type ImportBatch struct {
	auth     *Auth
	rows     []ImportRow
	results  []ImportResult // outcomes known before writing (rejections)
	items    []UpsertItem   // the rows with a phone, in order
	itemRow  []int          // row index of each item
	parsed   []*Phone       // the phone of each item
	names    map[string]string
	exts     []string // distinct external_ids of the valid rows, in file order
	valid    []bool   // the row names a valid customer
	hasPhone []bool   // the row has a number
	// unknownType: a row names a phone type the tenant's registry lacks,
	// which the store will refuse.
	unknownType bool
}

// ImportRows imports rows into the tenant of slug tenant: it creates the
// customers missing by external_id (named by their first row that has a
// name), then creates or updates each row's phone under the same rules as
// UpsertPhones, each row on its own. Results are in row order. It is an
// operator action: changes are recorded with source "import" and no key.
func (s *Service) ImportRows(ctx context.Context, tenant string, rows []ImportRow) ([]ImportResult, error) {
	b, err := s.PrepareImport(ctx, tenant, rows)
	if err != nil {
		return nil, err
	}
	return s.CommitImport(ctx, b)
}

// PrepareImport is the first half of ImportRows: it reads the tenant and
// checks and parses every row (the CPU-heavy half, spread over every CPU)
// without writing. A caller may prepare the next batch while the previous
// one commits.
func (s *Service) PrepareImport(ctx context.Context, tenant string, rows []ImportRow) (*ImportBatch, error) {
	t, err := s.Tenant(ctx, tenant)
	if IsCode(err, ECodeNotFound) {
		return nil, Errorf(ECodeNotFound, "tenant", "tenant %q not found", tenant)
	}
	if err != nil {
		return nil, err
	}
	rows = slices.Clone(rows)
	b := &ImportBatch{
		auth: &Auth{Tenant: t, Source: SourceImport}, rows: rows,
		results: make([]ImportResult, len(rows)), names: map[string]string{},
		valid: make([]bool, len(rows)), hasPhone: make([]bool, len(rows)),
	}
	inputs := make([]PhoneInput, len(rows))
	ok := b.hasPhone
	for i := range rows {
		r := &rows[i]
		b.results[i].Line = r.Line
		ext, name := r.ExternalID, r.Name
		if err := validateCustomerFields(&ext, &name, nil); err != nil {
			b.reject(i, err)
			continue
		}
		if ext == "" {
			b.reject(i, Errorf(ECodeValidation, "external_id", "external_id is required"))
			continue
		}
		r.ExternalID, r.Name = ext, name
		b.valid[i] = true
		if n, seen := b.names[ext]; !seen {
			b.names[ext] = name
			b.exts = append(b.exts, ext)
		} else if n == "" {
			b.names[ext] = name
		}
		if strings.TrimSpace(r.Number) == "" {
			if r.Extension != "" || r.Type != "" || r.Label != "" || r.IsPrimary || r.Notes != "" || r.ConsentType != "" || r.ConsentSource != "" {
				b.reject(i, Errorf(ECodeValidation, "number", "number is required when a phone field is given"))
			}
			continue
		}
		ok[i] = true
		inputs[i] = PhoneInput{
			Number: r.Number, Country: strings.TrimSpace(r.Country), Extension: r.Extension,
			Type: r.Type, Label: r.Label, IsPrimary: r.IsPrimary, Notes: r.Notes,
			ConsentType: strings.ToLower(strings.TrimSpace(r.ConsentType)), ConsentSource: r.ConsentSource,
		}
	}
	// Parse on every CPU: libphonenumber is most of an import's CPU.
	parsed := make([]*Phone, len(rows))
	perr := make([]error, len(rows))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(rows)/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(rows); i += workers {
				if ok[i] {
					parsed[i], perr[i] = s.newPhone(t, inputs[i])
				}
			}
		}()
	}
	wg.Wait()
	var types []*PhoneType
	if slices.Contains(ok, true) { // the registry, to foresee the store refusing a type
		err := s.read(ctx, func(tx Tx) (err error) {
			types, err = tx.FindPhoneTypes(ctx, t.ID)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range rows {
		if !ok[i] {
			continue
		}
		if perr[i] != nil {
			b.reject(i, perr[i])
			continue
		}
		b.items = append(b.items, UpsertItem{Customer: CustomerRef{ExternalID: rows[i].ExternalID}, Phone: inputs[i]})
		b.itemRow = append(b.itemRow, i)
		b.parsed = append(b.parsed, parsed[i])
		if !slices.ContainsFunc(types, func(pt *PhoneType) bool { return pt.Name == parsed[i].Type }) {
			b.unknownType = true
		}
	}
	return b, nil
}

func (b *ImportBatch) reject(i int, err error) {
	b.results[i].Outcome, b.results[i].Err = ImportRejected, err
}

// CommitImport is the second half of ImportRows: one transaction that
// creates the missing customers and upserts the batch's phones, with a
// savepoint per row so that a bad row fails alone.
//
// A savepoint per row costs a sub-journal write of every page the row
// touches, which is most of an import's time, so a batch is first tried
// without them, in the hope that no row fails in the store; if one does,
// the whole attempt is rolled back and the batch runs again with
// savepoints. A batch naming a type the tenant lacks goes the slow way at
// once.
func (s *Service) CommitImport(ctx context.Context, b *ImportBatch) ([]ImportResult, error) {
	if !b.unknownType {
		res, err := s.commitImport(ctx, b, false)
		if !errors.Is(err, errRowFailed) {
			return res, err
		}
	}
	return s.commitImport(ctx, b, true)
}

// errRowFailed abandons an attempt at a batch without row savepoints.
var errRowFailed = errors.New("a row failed: run the batch again with a savepoint per row")

// commitImport runs b in one transaction, each row in a savepoint of its own
// when perRow, else failing with errRowFailed at the first row that fails.
func (s *Service) commitImport(ctx context.Context, b *ImportBatch, perRow bool) ([]ImportResult, error) {
	a := b.auth
	var results []ImportResult
	err := s.write(ctx, func(tx Tx) error {
		results = slices.Clone(b.results) // fn may run again
		created := map[string]bool{}
		for _, ext := range b.exts {
			_, err := tx.FindCustomer(ctx, a.Tenant.ID, CustomerRef{ExternalID: ext}, false)
			if err == nil {
				continue
			}
			if !IsCode(err, ECodeNotFound) {
				return err
			}
			now := s.timestamp()
			c := &Customer{TenantID: a.Tenant.ID, ExternalID: ext, Name: b.names[ext], Status: StatusActive,
				CreatedAt: now, UpdatedAt: now, Version: 1, Phones: []*Phone{}}
			if err := tx.CreateCustomer(ctx, c); err != nil {
				return err
			}
			if err := tx.AddEvent(ctx, s.event(a, EventCustomerCreated, c.ID, 0, nil, c)); err != nil {
				return err
			}
			created[ext] = true
		}
		for i := range b.rows {
			if ext := b.rows[i].ExternalID; created[ext] && b.valid[i] {
				results[i].CustomerCreated = true // the customer's first row reports it
				delete(created, ext)
			}
			if results[i].Outcome == "" && b.valid[i] && !b.hasPhone[i] {
				results[i].Outcome = ImportUnchanged // a row without a number: the customer exists
				if results[i].CustomerCreated {
					results[i].Outcome = ImportCreated
				}
			}
		}
		if len(b.items) == 0 {
			return nil
		}
		batch, err := s.lockBatch(ctx, tx, a, b.items, b.parsed)
		if err != nil {
			return err
		}
		// As UpsertPhones, with "unchanged" told apart from "updated".
		for k, it := range b.items {
			r := &results[b.itemRow[k]]
			if e := batch.refErr[it.Customer]; e != nil {
				r.Outcome, r.Err = ImportRejected, e
				continue
			}
			st := batch.byRef[it.Customer]
			if importUnchanged(st.phones, b.parsed[k], it.Phone) {
				r.Outcome = ImportUnchanged
				continue
			}
			var created bool
			if !perRow {
				var err error
				if _, created, err = s.upsertOne(ctx, tx, a, st, b.parsed[k], it.Phone); err != nil {
					if ErrorCode(err) == ECodeInternal || ErrorCode(err) == ECodeUnavailable {
						return err
					}
					return errRowFailed
				}
			} else {
				restore := st.snapshot(b.parsed[k].E164)
				err := tx.Savepoint(ctx, func() error {
					var err error
					_, created, err = s.upsertOne(ctx, tx, a, st, b.parsed[k], it.Phone)
					return err
				})
				if err != nil {
					restore()
					if ErrorCode(err) == ECodeInternal || ErrorCode(err) == ECodeUnavailable {
						return err
					}
					r.Outcome, r.Err = ImportRejected, err
					continue
				}
			}
			r.Outcome = ImportUpdated
			if created {
				r.Outcome = ImportCreated
			}
		}
		for _, st := range batch.locked {
			if st.changed {
				if err := s.touch(ctx, tx, st.c); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// importUnchanged reports whether phones already hold parsed as in
// describes it: upsertOne would find nothing to write. (It writes every
// given field, equal or not, as a client's upsert asks; an import run
// twice, or resumed over a committed batch, must not make new versions.)
func importUnchanged(phones []*Phone, parsed *Phone, in PhoneInput) bool {
	for _, o := range phones {
		if o.E164 != parsed.E164 || o.Extension != parsed.Extension {
			continue
		}
		return strings.TrimSpace(in.Number) == o.Raw &&
			(in.Type == "" || parsed.Type == o.Type) &&
			(in.Label == "" || parsed.Label == o.Label) &&
			(in.Notes == "" || parsed.Notes == o.Notes) &&
			(in.Status == "" || parsed.Status == o.Status) &&
			(!in.IsPrimary || o.IsPrimary) &&
			in.LineKind == "" &&
			(in.ConsentType == "" || parsed.Consent.Type == o.Consent.Type) &&
			(in.ConsentSource == "" || parsed.Consent.Source == o.Consent.Source)
	}
	return false
}

// --- export ---

// ExportPhones returns one page of the tenant's customers with their
// phones, oldest first, after the page whose NextCursor is cursor ("" for
// the first page); limit is at most MaxPageLimit. It is an operator action,
// for streaming a whole tenant out page by page.
func (s *Service) ExportPhones(ctx context.Context, tenant, cursor string, limit int) (*CustomerPage, error) {
	t, err := s.Tenant(ctx, tenant)
	if IsCode(err, ECodeNotFound) {
		return nil, Errorf(ECodeNotFound, "tenant", "tenant %q not found", tenant)
	}
	if err != nil {
		return nil, err
	}
	f := CustomerFilter{Sort: SortCreatedAsc, Limit: limit}
	if cursor != "" {
		if f.After, err = DecodeCursor(cursor, SortCreatedAsc); err != nil {
			return nil, err
		}
	}
	return s.FindCustomers(NewContextWithAuth(ctx, &Auth{Tenant: t, Source: SourceImport}), f)
}
