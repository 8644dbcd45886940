package console

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/phonebook/phonebook"
)

// CSV import. A file has a header row naming its columns (any order, case
// and spaces ignored), then one row per phone. The columns are those of
// phonebook.ImportRow, the CLI's import:
//
//	external_id     the customer (required); created when missing
//	name            the customer's name, used when it is created
//	number          the phone number, in any format (empty: the row only
//	                makes sure the customer exists)
//	country         region (US) or calling code (+44) to read number with
//	extension, type, label, notes, consent_type, consent_source
//	primary         true/yes/1 makes the phone the customer's primary
//
// Each upload runs in a goroutine of its own, one at a time per session and
// importMaxRunning in the process, in chunks of importChunk rows: each
// chunk authenticates the session's key again (a revoked key stops the
// import), creates the missing customers, then upserts the chunk's phones
// with svc.UpsertPhones under the caller's own Auth, so scopes, tenant and
// history ("console", the key's name) are those of the API. Rows the
// service refuses are kept, with the reason, for the rejects report.
const (
	importChunk      = 200
	importMaxRows    = 200_000
	importMaxRunning = 4
	importKeep       = time.Hour // a finished import stays viewable this long
	importWorkers    = 8         // parallel customer look-ups and creations
	importTimeout    = 30 * time.Minute
)

// importColumns maps the accepted header names to the canonical column.
var importColumns = map[string]string{
	"external_id": "external_id", "customer_external_id": "external_id", "externalid": "external_id",
	"name": "name", "customer_name": "name",
	"number": "number", "phone": "number", "phone_number": "number",
	"country": "country", "country_code": "country", "region": "country",
	"extension": "extension", "ext": "extension",
	"type": "type", "phone_type": "type",
	"label":   "label",
	"primary": "primary", "is_primary": "primary",
	"notes":        "notes",
	"consent_type": "consent_type", "consent": "consent_type",
	"consent_source": "consent_source",
}

// importJob is one upload being imported, or imported.
type importJob struct {
	ID        string
	sessionID string // the session token: the import runs while the session does
	tenantID  int64
	keyID     int64
	FileName  string
	Started   time.Time
	header    []string
	cancel    context.CancelFunc

	mu        sync.Mutex
	total     int
	done      int
	created   int
	updated   int
	unchanged int
	customers int // customers created
	rejects   []rejectRow
	warnings  []string
	finished  time.Time
	failure   string
}

// rejectRow is a row the import refused, with why.
type rejectRow struct {
	Line    int
	Record  []string
	Field   string
	Code    string
	Message string
}

// importStatus is a consistent copy of a job's progress, for templates.
type importStatus struct {
	ID, FileName      string
	Started, Finished time.Time
	Running           bool
	Total, Done       int
	Created, Updated  int
	Unchanged         int
	Customers         int
	Rejected          int
	Failure           string
	Warnings          []string
	Rejects           []rejectRow // the first few, for the page
}

func (j *importJob) status() importStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := importStatus{
		ID: j.ID, FileName: j.FileName, Started: j.Started, Finished: j.finished, Running: j.finished.IsZero(),
		Total: j.total, Done: j.done, Created: j.created, Updated: j.updated, Unchanged: j.unchanged,
		Customers: j.customers, Rejected: len(j.rejects), Failure: j.failure, Warnings: slices.Clone(j.warnings),
	}
	st.Rejects = slices.Clone(j.rejects[:min(len(j.rejects), 20)])
	return st
}

// importer holds the imports of this process.
type importer struct {
	c      *Console
	ctx    context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	jobs   map[string]*importJob
	closed bool
}

func newImporter(c *Console) *importer {
	ctx, stop := context.WithCancel(context.Background())
	return &importer{c: c, ctx: ctx, stop: stop, jobs: map[string]*importJob{}}
}

func (im *importer) close() {
	im.mu.Lock()
	im.closed = true
	im.mu.Unlock()
	im.stop()
	im.wg.Wait()
}

// sweep forgets imports finished more than importKeep ago. im.mu is held.
func (im *importer) sweep(now time.Time) {
	for id, j := range im.jobs {
		j.mu.Lock()
		old := !j.finished.IsZero() && now.Sub(j.finished) > importKeep
		j.mu.Unlock()
		if old {
			delete(im.jobs, id)
		}
	}
}

// forgetSession cancels the running import of a session that signs out.
func (im *importer) forgetSession(sessionID string) {
	im.mu.Lock()
	defer im.mu.Unlock()
	for _, j := range im.jobs {
		if j.sessionID == sessionID {
			j.cancel()
		}
	}
}

var (
	errImportRunning = errors.New("an import of this session is still running: wait for it to finish")
	errImportBusy    = errors.New("the server is running as many imports as it allows: try again in a minute")
)

// start registers job and runs the import of rows in the background.
func (im *importer) start(s *session, j *importJob, rows []phonebook.ImportRow, records [][]string) error {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.closed {
		return errImportBusy
	}
	im.sweep(im.c.now())
	running := 0
	for _, o := range im.jobs {
		o.mu.Lock()
		active := o.finished.IsZero()
		o.mu.Unlock()
		if !active {
			continue
		}
		if o.sessionID == j.sessionID {
			return errImportRunning
		}
		running++
	}
	if running >= importMaxRunning {
		return errImportBusy
	}
	ctx, cancel := context.WithTimeout(im.ctx, importTimeout)
	j.cancel = cancel
	im.jobs[j.ID] = j
	im.wg.Add(1)
	go func() {
		defer im.wg.Done()
		defer cancel()
		im.run(ctx, j, rows, records)
	}()
	return nil
}

// get returns job id if the caller's key started it.
func (im *importer) get(s *session, id string) *importJob {
	im.mu.Lock()
	defer im.mu.Unlock()
	j := im.jobs[id]
	if j == nil || j.tenantID != s.auth.Tenant.ID || j.keyID != s.auth.Key.ID {
		return nil
	}
	return j
}

// list returns the imports of the caller's key, newest first.
func (im *importer) list(s *session) []importStatus {
	im.mu.Lock()
	var js []*importJob
	for _, j := range im.jobs {
		if j.tenantID == s.auth.Tenant.ID && j.keyID == s.auth.Key.ID {
			js = append(js, j)
		}
	}
	im.mu.Unlock()
	out := make([]importStatus, len(js))
	for i, j := range js {
		out[i] = j.status()
	}
	slices.SortFunc(out, func(a, b importStatus) int { return b.Started.Compare(a.Started) })
	return out
}

// customerState is what an import knows of one external_id.
type customerState struct {
	id      int64
	err     error
	created bool // by this import, not yet reported on a row
}

func (im *importer) run(ctx context.Context, j *importJob, rows []phonebook.ImportRow, records [][]string) {
	svc := im.c.svc
	customers := map[string]*customerState{}
	names := map[string]string{}
	for _, r := range rows {
		if names[r.ExternalID] == "" {
			names[r.ExternalID] = strings.TrimSpace(r.Name)
		}
	}
	fail := func(msg string) {
		j.mu.Lock()
		j.failure = msg
		j.mu.Unlock()
	}
	defer func() {
		j.mu.Lock()
		j.finished = im.c.now()
		j.mu.Unlock()
	}()
	for start := 0; start < len(rows); start += importChunk {
		end := min(start+importChunk, len(rows))
		if ctx.Err() != nil {
			fail("The import was stopped (signed out, timed out, or the server is shutting down) after " + strconv.Itoa(start) + " rows.")
			return
		}
		// Look the session up again: signing out (on any node), its expiry
		// or the key's revocation meanwhile stops the import.
		a, err := svc.SessionAuth(ctx, j.sessionID)
		if err != nil {
			fail("The import stopped after " + strconv.Itoa(start) + " rows: " + phonebook.ErrorMessage(err) + ".")
			return
		}
		if !a.Key.HasScope(scopeWrite) {
			fail("The import stopped: the key lacks the customers:write scope.")
			return
		}
		a.Source = "console"
		actx := phonebook.NewContextWithAuth(ctx, a)
		if err := im.chunk(actx, j, rows[start:end], records[start:end], customers, names); err != nil {
			if ctx.Err() != nil {
				fail("The import was stopped after " + strconv.Itoa(start) + " rows.")
				return
			}
			im.c.log.Error("console: import", "import", j.ID, "err", err)
			fail("The import stopped after " + strconv.Itoa(start) + " rows: " + phonebook.ErrorMessage(err) + ". Rows before it are stored; import the rest again.")
			return
		}
	}
}

// chunk imports one chunk of rows. It returns an error only when the chunk
// could not be written at all (store unavailable, internal error).
func (im *importer) chunk(ctx context.Context, j *importJob, rows []phonebook.ImportRow, records [][]string, customers map[string]*customerState, names map[string]string) error {
	svc := im.c.svc
	// The chunk's customers: found, or created, in parallel.
	var missing []string
	for _, r := range rows {
		if _, ok := customers[r.ExternalID]; !ok && !slices.Contains(missing, r.ExternalID) {
			missing = append(missing, r.ExternalID)
		}
	}
	states := make([]*customerState, len(missing))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(importWorkers, len(missing)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				states[i] = ensureCustomer(ctx, svc, missing[i], names[missing[i]])
			}
		}()
	}
	for i := range missing {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, ext := range missing {
		st := states[i]
		if code := phonebook.ErrorCode(st.err); code == phonebook.ECodeInternal || code == phonebook.ECodeUnavailable {
			return st.err
		}
		customers[ext] = st
	}

	var items []phonebook.UpsertItem
	var itemRow []int
	outcome := make([]string, len(rows))
	rowErr := make([]error, len(rows))
	custCreated := make([]bool, len(rows))
	for i, r := range rows {
		st := customers[r.ExternalID]
		if st.err != nil {
			rowErr[i] = st.err
			continue
		}
		if st.created {
			custCreated[i], st.created = true, false
		}
		if strings.TrimSpace(r.Number) == "" {
			if r.Extension != "" || r.Type != "" || r.Label != "" || r.IsPrimary || r.Notes != "" || r.ConsentType != "" || r.ConsentSource != "" {
				rowErr[i] = phonebook.Errorf(phonebook.ECodeValidation, "number", "number is required when a phone field is given")
			} else if !custCreated[i] {
				outcome[i] = phonebook.ImportUnchanged
			} // else: the row made its customer, counted as such

			continue
		}
		items = append(items, phonebook.UpsertItem{Customer: phonebook.CustomerRef{ID: st.id}, Phone: phonebook.PhoneInput{
			Number: r.Number, Country: strings.TrimSpace(r.Country), Extension: strings.TrimSpace(r.Extension),
			Type: r.Type, Label: r.Label, IsPrimary: r.IsPrimary, Notes: r.Notes,
			ConsentType: strings.ToLower(strings.TrimSpace(r.ConsentType)), ConsentSource: r.ConsentSource,
		}})
		itemRow = append(itemRow, i)
	}
	if len(items) > 0 {
		results, err := svc.UpsertPhones(ctx, items)
		if err != nil {
			if code := phonebook.ErrorCode(err); code == phonebook.ECodeInternal || code == phonebook.ECodeUnavailable {
				return err
			}
			for _, i := range itemRow { // refused whole (the key lost its scope)
				rowErr[i] = err
			}
		} else {
			for k, res := range results {
				i := itemRow[k]
				switch {
				case res.Err != nil:
					rowErr[i] = res.Err
				case res.Created:
					outcome[i] = phonebook.ImportCreated
				default:
					outcome[i] = phonebook.ImportUpdated
				}
			}
		}
	}

	j.mu.Lock()
	defer j.mu.Unlock()
	for i := range rows {
		if custCreated[i] {
			j.customers++
		}
		if rowErr[i] != nil {
			j.reject(rows[i].Line, records[i], rowErr[i])
			continue
		}
		switch outcome[i] {
		case phonebook.ImportCreated:
			j.created++
		case phonebook.ImportUpdated:
			j.updated++
		case phonebook.ImportUnchanged:
			j.unchanged++
		}
	}
	j.done += len(rows)
	return nil
}

// reject records a refused row; j.mu is held.
func (j *importJob) reject(line int, record []string, err error) {
	r := rejectRow{Line: line, Record: record, Code: phonebook.ErrorCode(err)}
	var msgs []string
	for _, e := range phonebook.FieldErrors(err) {
		if r.Field == "" {
			r.Field = e.Field
		}
		m := phonebook.ErrorMessage(e)
		if e.Field != "" && !strings.Contains(m, e.Field) {
			m = e.Field + ": " + m
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		msgs = append(msgs, phonebook.ErrorMessage(err))
	}
	r.Message = strings.Join(msgs, "; ")
	j.rejects = append(j.rejects, r)
}

// ensureCustomer returns the customer of external id ext, creating it
// (named name) when missing.
func ensureCustomer(ctx context.Context, svc *phonebook.Service, ext, name string) *customerState {
	ref := phonebook.CustomerRef{ExternalID: ext}
	cu, err := svc.FindCustomer(ctx, ref)
	if err == nil {
		return &customerState{id: cu.ID}
	}
	if !phonebook.IsCode(err, phonebook.ECodeNotFound) {
		return &customerState{err: err}
	}
	cu, err = svc.CreateCustomer(ctx, phonebook.CustomerInput{ExternalID: ext, Name: name})
	if phonebook.IsCode(err, phonebook.ECodeConflict) { // created meanwhile by someone else
		if cu, err = svc.FindCustomer(ctx, ref); err == nil {
			return &customerState{id: cu.ID}
		}
	}
	if err != nil {
		return &customerState{err: err}
	}
	return &customerState{id: cu.ID, created: true}
}

// --- reading the file ---

// parseImport reads a CSV upload into rows (with the records they came
// from, for the rejects report). Rows that cannot be read are returned as
// rejects; a file that cannot be read at all is an error.
func parseImport(b []byte) (header []string, rows []phonebook.ImportRow, records [][]string, rejects []rejectRow, warnings []string, err error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a BOM, as spreadsheets write
	if !utf8.Valid(b) {
		return nil, nil, nil, nil, nil, errors.New("the file is not UTF-8 text: save it as \"CSV UTF-8\"")
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err = r.Read()
	if err == io.EOF {
		return nil, nil, nil, nil, nil, errors.New("the file is empty")
	}
	if err != nil {
		return nil, nil, nil, nil, nil, fmt.Errorf("the header row cannot be read: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.Join(strings.Fields(strings.TrimSpace(h)), "_"))
		canon, ok := importColumns[name]
		if !ok {
			warnings = append(warnings, fmt.Sprintf("column %q is not known and was ignored", h))
			continue
		}
		if _, dup := col[canon]; dup {
			return nil, nil, nil, nil, nil, fmt.Errorf("the column %s appears twice in the header", canon)
		}
		col[canon] = i
	}
	if _, ok := col["external_id"]; !ok {
		return nil, nil, nil, nil, nil, errors.New("the header row has no external_id column: the first row must name the columns (external_id, name, number, ...)")
	}
	if _, ok := col["number"]; !ok {
		warnings = append(warnings, "there is no number column: the rows only make sure the customers exist")
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			rejects = append(rejects, rejectRow{Line: pe.StartLine, Code: phonebook.ECodeValidation, Message: "the row cannot be read as CSV: " + pe.Err.Error()})
			continue
		}
		if err != nil {
			return nil, nil, nil, nil, nil, err
		}
		if len(rows)+len(rejects) >= importMaxRows {
			return nil, nil, nil, nil, nil, fmt.Errorf("the file has more than %d rows: split it", importMaxRows)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) > len(header) {
			rejects = append(rejects, rejectRow{Line: line, Record: rec, Code: phonebook.ECodeValidation,
				Message: fmt.Sprintf("the row has %d fields, the header %d", len(rec), len(header))})
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		row := phonebook.ImportRow{
			Line: line, ExternalID: strings.TrimSpace(get("external_id")), Name: get("name"), Number: get("number"),
			Country: get("country"), Extension: get("extension"), Type: get("type"), Label: get("label"),
			Notes: get("notes"), ConsentType: get("consent_type"), ConsentSource: get("consent_source"),
		}
		primary, ok := parseBool(get("primary"))
		if !ok {
			rejects = append(rejects, rejectRow{Line: line, Record: rec, Field: "primary", Code: phonebook.ECodeValidation,
				Message: "primary must be true or false (yes/no, 1/0)"})
			continue
		}
		row.IsPrimary = primary
		if row.ExternalID == "" {
			rejects = append(rejects, rejectRow{Line: line, Record: rec, Field: "external_id", Code: phonebook.ECodeValidation,
				Message: "external_id is required"})
			continue
		}
		if n := utf8.RuneCountInString(row.ExternalID); n > phonebook.MaxExternalIDLen {
			rejects = append(rejects, rejectRow{Line: line, Record: rec, Field: "external_id", Code: phonebook.ECodeValidation,
				Message: fmt.Sprintf("external_id is longer than %d characters", phonebook.MaxExternalIDLen)})
			continue
		}
		rows = append(rows, row)
		records = append(records, rec)
	}
	return header, rows, records, rejects, warnings, nil
}

func parseBool(s string) (v, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "no", "n", "0", "f":
		return false, true
	case "true", "yes", "y", "1", "t", "x", "primary":
		return true, true
	}
	return false, false
}

// --- pages ---

type importPage struct {
	base
	Imports []importStatus
	MaxSize string
	Error   string
	Sample  string
}

type importJobPage struct {
	base
	Job importStatus
}

func (c *Console) importPage(s *session) *importPage {
	return &importPage{
		base:    base{Title: "Import phones", Nav: "import"},
		Imports: c.imports.list(s), MaxSize: humanBytes(c.opts.MaxImportBytes),
		Sample: c.assets.url("import-sample.csv"),
	}
}

func (c *Console) handleImportForm(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, s, http.StatusOK, "import", c.importPage(s))
}

func (c *Console) handleImportStart(w http.ResponseWriter, r *http.Request, s *session) {
	fail := func(status int, msg string) {
		p := c.importPage(s)
		p.Error = msg
		p.Title = "Error: " + p.Title
		c.render(w, r, s, status, "import", p)
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		fail(http.StatusUnprocessableEntity, "Choose a CSV file to import.")
		return
	}
	defer f.Close()
	if fh.Size > c.opts.MaxImportBytes {
		fail(http.StatusRequestEntityTooLarge, "The file is larger than "+humanBytes(c.opts.MaxImportBytes)+": split it.")
		return
	}
	b, err := io.ReadAll(io.LimitReader(f, c.opts.MaxImportBytes+1))
	if err != nil || int64(len(b)) > c.opts.MaxImportBytes {
		fail(http.StatusRequestEntityTooLarge, "The file is larger than "+humanBytes(c.opts.MaxImportBytes)+": split it.")
		return
	}
	header, rows, records, rejects, warnings, err := parseImport(b)
	if err != nil {
		fail(http.StatusUnprocessableEntity, "The file cannot be imported: "+err.Error()+".")
		return
	}
	name := fh.Filename
	if utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		name = "upload.csv"
	}
	j := &importJob{
		ID: randomID(), sessionID: s.token, tenantID: s.auth.Tenant.ID, keyID: s.auth.Key.ID,
		FileName: name, Started: c.now(), header: header,
		total: len(rows) + len(rejects), done: len(rejects), rejects: rejects, warnings: warnings,
	}
	if err := c.imports.start(s, j, rows, records); err != nil {
		fail(http.StatusConflict, err.Error())
		return
	}
	http.Redirect(w, r, "/console/import/"+j.ID, http.StatusSeeOther)
}

func (c *Console) job(w http.ResponseWriter, r *http.Request, s *session) *importJob {
	j := c.imports.get(s, r.PathValue("id"))
	if j == nil {
		c.errorPage(w, r, s, phonebook.Errorf(phonebook.ECodeNotFound, "id", "no such import (imports are kept for an hour after they finish)"))
	}
	return j
}

func (c *Console) handleImportStatus(w http.ResponseWriter, r *http.Request, s *session) {
	j := c.job(w, r, s)
	if j == nil {
		return
	}
	c.render(w, r, s, http.StatusOK, "importjob", &importJobPage{base: base{Title: "Import " + j.FileName, Nav: "import"}, Job: j.status()})
}

// handleImportProgress answers htmx's poll with the progress fragment;
// once the import is done it answers 286, which stops the polling.
func (c *Console) handleImportProgress(w http.ResponseWriter, r *http.Request, s *session) {
	j := c.job(w, r, s)
	if j == nil {
		return
	}
	st := j.status()
	status := http.StatusOK
	if !st.Running {
		status = 286
	}
	c.renderTemplate(w, r, s, status, "importjob", "progress", &importJobPage{base: base{Nav: "import"}, Job: st})
}

// handleImportRejects downloads the rows an import refused: line, error,
// then the row as it was in the file, under the file's own header.
func (c *Console) handleImportRejects(w http.ResponseWriter, r *http.Request, s *session) {
	j := c.job(w, r, s)
	if j == nil {
		return
	}
	j.mu.Lock()
	rejects := slices.Clone(j.rejects)
	header := j.header
	j.mu.Unlock()
	slices.SortStableFunc(rejects, func(a, b rejectRow) int { return a.Line - b.Line })
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(append([]string{"line", "error_code", "error_field", "error"}, header...))
	for _, rj := range rejects {
		rec := []string{strconv.Itoa(rj.Line), rj.Code, rj.Field, safeCell(rj.Message)}
		for _, v := range rj.Record {
			rec = append(rec, safeCell(v))
		}
		for range len(header) - len(rj.Record) { // short rows: as long as the header
			rec = append(rec, "")
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	name := strings.TrimSuffix(j.FileName, ".csv")
	name = strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, name)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`-rejects.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(buf.Bytes())
}

// safeCell keeps a spreadsheet from running a rejected cell as a formula
// (CSV injection): a cell starting with = @ tab or CR, or with + or -
// unless it reads as a phone number, gets a leading apostrophe.
func safeCell(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '@', '\t', '\r':
		return "'" + v
	case '+', '-':
		if strings.ContainsFunc(v, func(r rune) bool { return !strings.ContainsRune("+-0123456789 ().extEXT#/", r) }) {
			return "'" + v
		}
	}
	return v
}
