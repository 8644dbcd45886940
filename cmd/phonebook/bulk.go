package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/phonebook/phonebook"
)

// Bulk commands: seed (a synthetic tenant), import and export (CSV).

// csvColumns are the columns of import and export files, in export order.
var csvColumns = []string{
	"external_id", "name", "number", "country_code", "extension", "type",
	"label", "is_primary", "notes", "consent_type", "consent_source",
}

// --- progress ---

// progress is a progress bar when stdout is a terminal, and nothing
// otherwise (a pipe or a log file gets the final summary only).
type progress struct {
	bar *progressbar.ProgressBar
	w   io.Writer
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress returns a bar counting up to max (-1: unknown) of unit
// ("bytes" shows sizes).
func (c *cli) newProgress(max int64, desc, unit string) *progress {
	if !isTerminal(c.stdout) {
		return &progress{}
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(c.stdout),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(c.stdout) }),
	}
	if unit == "bytes" {
		opts = append(opts, progressbar.OptionShowBytes(true))
	} else {
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit))
	}
	return &progress{bar: progressbar.NewOptions64(max, opts...), w: c.stdout}
}

func (p *progress) set(n int64) {
	if p.bar != nil {
		_ = p.bar.Set64(n)
	}
}

// done ends the bar: filled when the work is complete, left where it
// stopped otherwise.
func (p *progress) done(complete bool) {
	if p.bar == nil {
		return
	}
	if complete {
		_ = p.bar.Finish()
	} else {
		_ = p.bar.Exit()
		fmt.Fprintln(p.w)
	}
}

// --- seed ---

func (c *cli) seed(ctx context.Context, args []string) error {
	fs := c.newFlagSet("seed", "seed --customers N [--phones P] [--tenant SLUG] [--db URL]")
	customers := fs.Int("customers", 0, "how many customers to create (required)")
	phones := fs.Int("phones", 1, "phones per customer (at most the tenant's max_phones_per_customer)")
	tenant := fs.String("tenant", phonebook.DefaultTenantSlug, "`slug` of the tenant to fill; created when missing")
	db := dbFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf(fs, "seed takes no arguments, got %q", pos[0])
	}
	if *customers < 1 {
		return usageErrorf(fs, "--customers must be at least 1")
	}
	return c.withService(ctx, c.orEnv(*db, envDB, defaultDB), func(svc *phonebook.Service) error {
		bar := c.newProgress(int64(*customers), "seeding", "customers")
		start := time.Now()
		res, err := svc.Seed(ctx, phonebook.SeedInput{
			Tenant: *tenant, Customers: *customers, PhonesPerCustomer: *phones,
			Progress: func(done int) { bar.set(int64(done)) },
		})
		bar.done(err == nil)
		if res == nil {
			return err
		}
		took := time.Since(start)
		created := ""
		if res.TenantCreated {
			created = " (created)"
		}
		verb := "Seeded"
		if err != nil {
			verb = "Stopped after seeding"
		}
		fmt.Fprintf(c.stdout, "%s tenant %q%s: %d customers", verb, res.Tenant.Slug, created, res.Customers)
		if res.Customers > 0 {
			fmt.Fprintf(c.stdout, " (%s..%s)", phonebook.SeedExternalID(res.FirstIndex), phonebook.SeedExternalID(res.FirstIndex+res.Customers-1))
		}
		fmt.Fprintf(c.stdout, ", %d phones in %s (%.0f phones/s)\n", res.Phones, took.Round(time.Millisecond), rate(res.Phones, took))
		if err != nil && ctx.Err() != nil {
			fmt.Fprintln(c.stderr, "interrupted: run seed again to add the rest (it continues after the last seeded customer)")
			return reportedError{err}
		}
		return err
	})
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// --- import ---

// importState is the side file that makes an import resumable: written
// after every committed batch, removed when the import completes.
type importState struct {
	Version     int          `json:"version"`
	File        string       `json:"file"`
	Size        int64        `json:"size"`
	HeadSHA256  string       `json:"head_sha256"` // of the first 64 KiB
	Tenant      string       `json:"tenant"`
	Offset      int64        `json:"offset"` // byte offset just after the last committed row
	Line        int          `json:"line"`   // last line of the last committed row
	Rejects     string       `json:"rejects"`
	RejectsSize int64        `json:"rejects_size"` // bytes of the rejects file that belong to committed batches
	Counts      importCounts `json:"counts"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

type importCounts struct {
	Rows             int `json:"rows"`
	CustomersCreated int `json:"customers_created"`
	Created          int `json:"phones_created"`
	Updated          int `json:"phones_updated"`
	Unchanged        int `json:"unchanged"`
	Rejected         int `json:"rejected"`
}

const headHashLen = 64 << 10

// importPaths returns the default rejects file and the state file of an
// input file: data.csv → data.rejects.csv, data.import-state.
func importPaths(file string) (rejects, state string) {
	base := file
	if ext := filepath.Ext(file); strings.EqualFold(ext, ".csv") {
		base = strings.TrimSuffix(file, ext)
	}
	return base + ".rejects.csv", base + ".import-state"
}

func (c *cli) importCSV(ctx context.Context, args []string) error {
	fs := c.newFlagSet("import", "import FILE.csv [--tenant SLUG] [--rejects FILE] [--batch 500] [--restart] [--db URL]")
	tenant := fs.String("tenant", phonebook.DefaultTenantSlug, "`slug` of the tenant to import into")
	rejectsFlag := fs.String("rejects", "", "`file` for rejected rows, with their line and reason (default FILE.rejects.csv)")
	batchSize := fs.Int("batch", 500, "rows per transaction")
	restart := fs.Bool("restart", false, "start from the first row, ignoring the state an interrupted import left")
	db := dbFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf(fs, "import takes one FILE, got %d arguments", len(pos))
	}
	if *batchSize < 1 || *batchSize > 10000 {
		return usageErrorf(fs, "--batch must be between 1 and 10000")
	}
	file := pos[0]
	rejectsPath, statePath := importPaths(file)
	if *rejectsFlag != "" {
		rejectsPath = *rejectsFlag
	}
	im := &importer{cli: c, file: file, tenant: *tenant, rejectsPath: rejectsPath, statePath: statePath, batch: *batchSize}
	defer im.close()
	if err := im.open(*restart); err != nil {
		return err
	}
	return c.withService(ctx, c.orEnv(*db, envDB, defaultDB), func(svc *phonebook.Service) error {
		if _, err := svc.Tenant(ctx, *tenant); err != nil {
			if phonebook.IsCode(err, phonebook.ECodeNotFound) {
				return fmt.Errorf("tenant %q not found (create it with: phonebook tenants create %s)", *tenant, *tenant)
			}
			return err
		}
		return im.run(ctx, svc)
	})
}

// importer is one run of `phonebook import`.
type importer struct {
	cli                                  *cli
	file, tenant, rejectsPath, statePath string
	batch                                int

	f       *os.File
	size    int64
	head    string
	header  []string       // the file's columns, as written
	col     map[string]int // column name → index
	state   importState
	resumed bool

	rejects  *os.File
	rejectsW *csv.Writer
}

// open reads the header and, unless restart, the state of an interrupted
// run of the same file.
func (im *importer) open(restart bool) error {
	f, err := os.Open(im.file)
	if err != nil {
		return err
	}
	im.f = f
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a directory", im.file)
	}
	im.size = st.Size()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, headHashLen)); err != nil {
		return err
	}
	im.head = hex.EncodeToString(h.Sum(nil))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s is empty: it needs a header row (%s)", im.file, strings.Join(csvColumns, ","))
	}
	if err != nil {
		return fmt.Errorf("%s: header: %w", im.file, err)
	}
	if err := im.readHeader(header); err != nil {
		return err
	}
	headerEnd := r.InputOffset()

	im.state = importState{Version: 1, File: im.file, Size: im.size, HeadSHA256: im.head, Tenant: im.tenant,
		Offset: headerEnd, Line: 1, Rejects: im.rejectsPath}
	if !restart {
		if old, ok := im.loadState(); ok {
			if old.Size == im.size && old.HeadSHA256 == im.head && old.Tenant == im.tenant && old.Offset >= headerEnd && old.Offset <= im.size {
				im.state, im.resumed = old, true
			} else {
				fmt.Fprintf(im.cli.stderr, "note: ignoring %s: it belongs to another file or tenant\n", im.statePath)
			}
		}
	}
	return nil
}

func (im *importer) loadState() (importState, bool) {
	var s importState
	b, err := os.ReadFile(im.statePath)
	if err != nil {
		return s, false
	}
	if err := json.Unmarshal(b, &s); err != nil || s.Version != 1 {
		fmt.Fprintf(im.cli.stderr, "note: ignoring %s: not a state file of this version\n", im.statePath)
		return s, false
	}
	return s, true
}

// saveState replaces the state file atomically.
func (im *importer) saveState() error {
	im.state.UpdatedAt = time.Now().UTC()
	b, err := json.MarshalIndent(im.state, "", "  ")
	if err != nil {
		return err
	}
	tmp := im.statePath + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, im.statePath)
}

func (im *importer) readHeader(header []string) error {
	im.header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // a spreadsheet's byte order mark
	}
	im.col = map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(csvColumns, name) {
			return fmt.Errorf("%s: unknown column %q (known: %s)", im.file, h, strings.Join(csvColumns, ", "))
		}
		if _, dup := im.col[name]; dup {
			return fmt.Errorf("%s: column %q appears twice", im.file, name)
		}
		im.col[name] = i
	}
	for _, req := range []string{"external_id", "number"} {
		if _, ok := im.col[req]; !ok {
			return fmt.Errorf("%s: the header has no %s column (columns: %s)", im.file, req, strings.Join(csvColumns, ", "))
		}
	}
	return nil
}

// openRejects opens the rejects file: new (with its header) for a fresh
// run, or cut back to what committed batches wrote for a resumed one, so
// no row is reported twice.
func (im *importer) openRejects() error {
	if im.resumed && im.state.Rejects == im.rejectsPath && im.state.RejectsSize > 0 {
		f, err := os.OpenFile(im.rejectsPath, os.O_RDWR, 0)
		if err == nil {
			if err = f.Truncate(im.state.RejectsSize); err == nil {
				_, err = f.Seek(0, io.SeekEnd)
			}
			if err != nil {
				f.Close()
				return err
			}
			im.rejects, im.rejectsW = f, csv.NewWriter(f)
			return nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	f, err := os.Create(im.rejectsPath)
	if err != nil {
		return err
	}
	im.rejects, im.rejectsW = f, csv.NewWriter(f)
	if err := im.rejectsW.Write(append(slices.Clone(im.header), "line", "reason")); err != nil {
		return err
	}
	return im.flushRejects()
}

// flushRejects writes out the rejected rows and records the file's size.
func (im *importer) flushRejects() error {
	im.rejectsW.Flush()
	if err := im.rejectsW.Error(); err != nil {
		return err
	}
	off, err := im.rejects.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	im.state.Rejects, im.state.RejectsSize = im.rejectsPath, off
	return nil
}

func (im *importer) close() {
	if im.f != nil {
		im.f.Close()
	}
	if im.rejects != nil {
		im.rejects.Close()
	}
}

// pendingRow is a row read from the file, with its fields for the rejects
// file, and its rejection when it cannot even be imported.
type pendingRow struct {
	line   int
	record []string
	err    error
}

// readBatch is one batch of rows read from the file.
type readBatch struct {
	rows    []pendingRow
	imports []phonebook.ImportRow // the rows to import
	index   []int                 // row of each imports entry
	offset  int64                 // file offset after the batch
	endLine int                   // last line of the batch
	eof     bool
}

// reason is how a rejected row's cause reads in the rejects file.
func reason(err error) string {
	fes := phonebook.FieldErrors(err)
	if len(fes) == 0 {
		return phonebook.ECodeInternal + ": " + phonebook.ErrorMessage(err)
	}
	parts := make([]string, len(fes))
	for i, fe := range fes {
		parts[i] = fe.Code + ": " + phonebook.ErrorMessage(fe)
		if fe.Field != "" {
			parts[i] += " (field " + fe.Field + ")"
		}
	}
	return strings.Join(parts, "; ")
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "0", "no", "n", "f":
		return false, true
	case "true", "1", "yes", "y", "t":
		return true, true
	}
	return false, false
}

// rowOf turns a record into an ImportRow.
func (im *importer) rowOf(line int, rec []string) (phonebook.ImportRow, error) {
	if len(rec) != len(im.header) {
		return phonebook.ImportRow{}, phonebook.Errorf(phonebook.ECodeValidation, "", "the row has %d columns, the header %d", len(rec), len(im.header))
	}
	get := func(name string) string {
		if i, ok := im.col[name]; ok {
			return rec[i]
		}
		return ""
	}
	primary, ok := parseBool(get("is_primary"))
	if !ok {
		return phonebook.ImportRow{}, phonebook.Errorf(phonebook.ECodeValidation, "is_primary", "is_primary must be true or false")
	}
	return phonebook.ImportRow{
		Line: line, ExternalID: get("external_id"), Name: get("name"), Number: get("number"),
		Country: get("country_code"), Extension: strings.TrimSpace(get("extension")), Type: get("type"),
		Label: get("label"), IsPrimary: primary, Notes: get("notes"),
		ConsentType: get("consent_type"), ConsentSource: get("consent_source"),
	}, nil
}

// read reads up to im.batch rows from r, whose offsets and lines start
// after base bytes and lines of the file.
func (im *importer) read(r *csv.Reader, offsetBase int64, lineBase int) (*readBatch, error) {
	b := &readBatch{}
	for len(b.rows) < im.batch {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			b.eof = true
			break
		}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			// A malformed row is rejected and the file read on.
			line := lineBase + pe.StartLine
			b.rows = append(b.rows, pendingRow{line: line, record: rec,
				err: phonebook.Errorf(phonebook.ECodeValidation, "", "malformed CSV at line %d, column %d: %v", lineBase+pe.Line, pe.Column, pe.Err)})
			b.endLine = lineBase + pe.Line
			continue
		case err != nil:
			return nil, fmt.Errorf("%s: %w", im.file, err)
		}
		line, _ := r.FieldPos(0)
		last, _ := r.FieldPos(len(rec) - 1)
		b.endLine = lineBase + last + strings.Count(rec[len(rec)-1], "\n")
		p := pendingRow{line: lineBase + line, record: rec}
		row, err := im.rowOf(p.line, rec)
		if err != nil {
			p.err = err
		} else {
			b.imports = append(b.imports, row)
			b.index = append(b.index, len(b.rows))
		}
		b.rows = append(b.rows, p)
	}
	b.offset = offsetBase + r.InputOffset()
	return b, nil
}

// run imports the file from where the state says, a batch per
// transaction. The next batch is read and parsed while one commits. When
// ctx ends (SIGINT), it stops after the batch under way, which stays
// committed and recorded.
func (im *importer) run(ctx context.Context, svc *phonebook.Service) error {
	c := im.cli
	offsetBase := im.state.Offset
	lineBase, err := countLines(im.f, offsetBase)
	if err != nil {
		return err
	}
	if im.resumed {
		fmt.Fprintf(c.stdout, "resuming at line %d (%d rows done)\n", lineBase+1, im.state.Counts.Rows)
	}
	if _, err := im.f.Seek(offsetBase, io.SeekStart); err != nil {
		return err
	}
	r := csv.NewReader(bufio.NewReaderSize(im.f, 256<<10))
	r.FieldsPerRecord = -1
	if err := im.openRejects(); err != nil {
		return err
	}

	bar := c.newProgress(im.size, "importing", "bytes")
	bar.set(offsetBase)
	start := time.Now()
	startCounts := im.state.Counts
	wctx := context.WithoutCancel(ctx) // a batch under way finishes

	type committed struct {
		b       *readBatch
		results []phonebook.ImportResult
		err     error
	}
	var pending chan committed
	// finish records the batch under way, if any.
	finish := func() error {
		if pending == nil {
			return nil
		}
		p := <-pending
		pending = nil
		if p.err != nil {
			return p.err
		}
		if err := im.record(p.b, p.results); err != nil {
			return err
		}
		bar.set(im.state.Offset)
		return nil
	}
	interrupted := false
	for {
		b, err := im.read(r, offsetBase, lineBase)
		var prepared *phonebook.ImportBatch
		if err == nil && len(b.imports) > 0 {
			prepared, err = svc.PrepareImport(wctx, im.tenant, b.imports)
		}
		if ferr := finish(); ferr != nil {
			return ferr
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			interrupted = true
			break
		}
		pending = make(chan committed, 1)
		go func(b *readBatch, prepared *phonebook.ImportBatch, out chan<- committed) {
			var res []phonebook.ImportResult
			var err error
			if prepared != nil {
				res, err = svc.CommitImport(wctx, prepared)
			}
			out <- committed{b, res, err}
		}(b, prepared, pending)
		if b.eof {
			break
		}
	}
	if err := finish(); err != nil {
		return err
	}
	bar.done(!interrupted)
	took := time.Since(start)
	n := im.state.Counts
	if interrupted {
		fmt.Fprintf(c.stdout, "interrupted after line %d: %d rows done (%d this run); progress is in %s\n",
			im.state.Line, n.Rows, n.Rows-startCounts.Rows, im.statePath)
		fmt.Fprintln(c.stderr, "interrupted: run the same command again to resume (--restart starts over)")
		return reportedError{ctx.Err()}
	}
	rejectsNote := "none"
	if n.Rejected > 0 {
		rejectsNote = fmt.Sprintf("%d (see %s)", n.Rejected, im.rejectsPath)
	}
	im.rejects.Close()
	im.rejects = nil
	if n.Rejected == 0 {
		_ = os.Remove(im.rejectsPath)
	}
	if err := os.Remove(im.statePath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	done := n.Rows - startCounts.Rows
	fmt.Fprintf(c.stdout, "Imported %s into tenant %q: %d rows in %s (%.0f rows/s)\n", im.file, im.tenant, done, took.Round(time.Millisecond), rate(done, took))
	fmt.Fprintf(c.stdout, "  customers created: %d\n", n.CustomersCreated)
	fmt.Fprintf(c.stdout, "  phones created: %d, updated: %d; unchanged rows: %d\n", n.Created, n.Updated, n.Unchanged)
	fmt.Fprintf(c.stdout, "  rejected: %s\n", rejectsNote)
	return nil
}

// countLines counts the line breaks in the first n bytes of f.
func countLines(f *os.File, n int64) (int, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	buf := make([]byte, 256<<10)
	lines := 0
	r := io.LimitReader(f, n)
	for {
		k, err := r.Read(buf)
		lines += bytes.Count(buf[:k], []byte{'\n'})
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// record writes a committed batch's rejected rows and counts, then the
// state: after it, a rerun starts after this batch.
func (im *importer) record(b *readBatch, results []phonebook.ImportResult) error {
	errs := make([]error, len(b.rows))
	for i, p := range b.rows {
		errs[i] = p.err
	}
	n := &im.state.Counts
	for k, res := range results {
		i := b.index[k]
		if res.CustomerCreated {
			n.CustomersCreated++
		}
		switch res.Outcome {
		case phonebook.ImportCreated:
			if strings.TrimSpace(b.imports[k].Number) != "" {
				n.Created++
			}
		case phonebook.ImportUpdated:
			n.Updated++
		case phonebook.ImportUnchanged:
			n.Unchanged++
		case phonebook.ImportRejected:
			errs[i] = res.Err
		}
	}
	for i, p := range b.rows {
		n.Rows++
		if errs[i] == nil {
			continue
		}
		n.Rejected++
		rec := make([]string, len(im.header))
		copy(rec, p.record)
		if err := im.rejectsW.Write(append(rec, strconv.Itoa(p.line), reason(errs[i]))); err != nil {
			return err
		}
	}
	if err := im.flushRejects(); err != nil {
		return err
	}
	im.state.Offset = b.offset
	if b.endLine > 0 {
		im.state.Line = b.endLine
	}
	return im.saveState()
}

// --- export ---

func (c *cli) exportCSV(ctx context.Context, args []string) error {
	fs := c.newFlagSet("export", "export [--tenant SLUG] [--out FILE|-] [--db URL]")
	tenant := fs.String("tenant", phonebook.DefaultTenantSlug, "`slug` of the tenant to export")
	out := fs.String("out", "-", "`file` to write, - for standard output")
	db := dbFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf(fs, "export takes no arguments, got %q (use --out FILE)", pos[0])
	}
	return c.withService(ctx, c.orEnv(*db, envDB, defaultDB), func(svc *phonebook.Service) error {
		if _, err := svc.Tenant(ctx, *tenant); err != nil {
			if phonebook.IsCode(err, phonebook.ECodeNotFound) {
				return fmt.Errorf("tenant %q not found", *tenant)
			}
			return err
		}
		var w io.Writer = c.stdout
		var f *os.File
		toFile := *out != "-" && *out != ""
		if toFile {
			if f, err = os.Create(*out); err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		bw := bufio.NewWriterSize(w, 256<<10)
		cw := csv.NewWriter(bw)
		if err := cw.Write(csvColumns); err != nil {
			return err
		}
		bar := &progress{}
		if toFile {
			bar = c.newProgress(-1, "exporting", "customers")
		}
		start := time.Now()
		var customers, phones, noExternalID int
		cursor := ""
		for {
			page, err := svc.ExportPhones(ctx, *tenant, cursor, phonebook.MaxPageLimit)
			if err != nil {
				bar.done(false)
				return err
			}
			for _, cu := range page.Customers {
				customers++
				if cu.ExternalID == "" {
					noExternalID++
				}
				if len(cu.Phones) == 0 {
					if err := cw.Write([]string{cu.ExternalID, cu.Name, "", "", "", "", "", "", "", "", ""}); err != nil {
						return err
					}
				}
				for _, p := range cu.Phones {
					phones++
					consent := p.Consent.Type
					if consent == phonebook.ConsentNone {
						consent = ""
					}
					if err := cw.Write([]string{
						cu.ExternalID, cu.Name, p.Raw, strconv.Itoa(p.CountryCode), p.Extension, p.Type,
						p.Label, strconv.FormatBool(p.IsPrimary), p.Notes, consent, p.Consent.Source,
					}); err != nil {
						return err
					}
				}
			}
			bar.set(int64(customers))
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if f != nil {
			if err := f.Close(); err != nil {
				return err
			}
		}
		bar.done(true)
		took := time.Since(start)
		summary := c.stdout
		if !toFile {
			summary = c.stderr // stdout is the data
		}
		fmt.Fprintf(summary, "Exported tenant %q: %d customers, %d phones in %s (%.0f phones/s)\n",
			*tenant, customers, phones, took.Round(time.Millisecond), rate(phones, took))
		if noExternalID > 0 {
			fmt.Fprintf(c.stderr, "note: %d customers have no external_id; import cannot match their rows\n", noExternalID)
		}
		return nil
	})
}
