// Package wasp is the Wasp public API dialect: POST
// /public-api/phones/customer/save creates or updates up to 500 customer
// phones at once and answers a WaspResultOfResults with one result per
// record, in input order. See README.md for the protocol as implemented.
package wasp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect"
)

// Source names this dialect in the history of changes.
const Source = "wasp"

// SavePath is the one route of the dialect.
const SavePath = "/public-api/phones/customer/save"

// MaxRecords is the most records one save may hold (Wasp's limit); one more
// refuses the whole request.
const MaxRecords = 500

// Dialect serves the Wasp routes over a phonebook.Service.
type Dialect struct {
	log *slog.Logger
	svc *phonebook.Service
}

// New returns the Wasp dialect over svc.
func New(log *slog.Logger, svc *phonebook.Service) *Dialect {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dialect{log: log, svc: svc}
}

// Routes lists the dialect's routes.
func (d *Dialect) Routes() []dialect.Route {
	return []dialect.Route{{
		Method:       http.MethodPost,
		Pattern:      SavePath,
		Scope:        phonebook.ScopeCustomersWrite,
		Source:       Source,
		Auth:         bearer,
		Unauthorized: writeDenied,
		Handler:      handleSave(d.log, d.svc),
	}}
}

// bearer reads Wasp's credential: Authorization: Bearer <key>.
func bearer(r *http.Request) string {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(rest)
}

// writeDenied answers a missing or bad key (401) or a key without
// customers:write (403) as a WaspResultOfResults.
func writeDenied(w http.ResponseWriter, _ *http.Request, err error) {
	code := phonebook.ErrorCode(err)
	switch code {
	case phonebook.ECodeForbidden, phonebook.ECodeUnavailable, phonebook.ECodeInternal, phonebook.ECodeRateLimited:
		// A store that fails while the key is checked is a server problem,
		// not a bad key: the client must retry, not replace its key.
	default:
		code = phonebook.ECodeUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="wasp"`)
	}
	writeFailure(w, code, phonebook.ErrorMessage(err))
}

// handleSave serves POST /public-api/phones/customer/save.
func handleSave(log *slog.Logger, svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raws, code, msg := readBody(r)
		if code != "" {
			writeFailure(w, code, msg)
			return
		}
		items := make([]item, len(raws))
		var batch []phonebook.UpsertItem
		var where []int // index in items of each batch entry
		for i, raw := range raws {
			items[i] = readRecord(raw)
			if !items[i].skip {
				batch = append(batch, items[i].upsert)
				where = append(where, i)
			}
		}
		var res []phonebook.UpsertResult
		if len(batch) > 0 {
			var err error
			if res, err = svc.UpsertPhones(r.Context(), batch); err != nil {
				code := phonebook.ErrorCode(err)
				if code == phonebook.ECodeInternal || code == phonebook.ECodeUnavailable {
					log.ErrorContext(r.Context(), "wasp save failed", "code", code, "err", err)
				}
				writeFailure(w, code, phonebook.ErrorMessage(err))
				return
			}
		}
		list := make([]wtResult, len(items))
		for i := range items {
			list[i] = recordResult(items[i], nil)
		}
		for j, rs := range res {
			list[where[j]] = recordResult(items[where[j]], &rs)
		}
		out := &results{ResultList: list, TotalResults: len(list)}
		for _, e := range list {
			if e.ResultCode == resultSuccess {
				out.SuccessfullResults++
			} else {
				out.ErrorCount++
			}
		}
		writeJSON(w, http.StatusOK, &resultOfResults{
			Data:                  out,
			Messages:              list,
			BatchNumber:           1,
			HasError:              out.ErrorCount > 0,
			HasMessage:            len(list) > 0,
			TotalRecordsLongCount: int64(len(list)),
		})
	})
}

const messageMalformed = "the request body must be a JSON array of SaveCustomerPhoneRequest records"

// readBody reads the array of records, or says why the whole request is
// refused (an error code of the table and its message).
func readBody(r *http.Request) ([]json.RawMessage, string, string) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")) {
			return nil, codeMediaType, "the request body must be application/json"
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, codeTooLarge, fmt.Sprintf("the request body is larger than %d bytes", mbe.Limit)
		}
		return nil, codeMalformed, "the request body could not be read"
	}
	// A UTF-8 byte order mark before the array is skipped: Wasp's
	// ASP.NET Web API reader skips it, and Windows tools (PowerShell's
	// UTF8 encoding, Notepad-saved request files) write one.
	body = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(body), []byte("\xef\xbb\xbf")))
	if len(body) == 0 {
		return nil, codeMalformed, "the request body is empty; " + messageMalformed
	}
	if body[0] != '[' {
		return nil, codeMalformed, messageMalformed
	}
	if field, bad := dialect.InvalidUTF8JSON(body); bad {
		// encoding/json would store U+FFFD for each bad byte: refuse instead.
		return nil, phonebook.ECodeValidation, field + " is not valid UTF-8"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var raws []json.RawMessage
	if err := dec.Decode(&raws); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, codeMalformed, "malformed JSON at byte " + strconv.FormatInt(syn.Offset, 10)
		}
		return nil, codeMalformed, "malformed JSON"
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, codeMalformed, "the request body holds data after the JSON array"
	}
	switch {
	case len(raws) == 0:
		return nil, codeEmptyBatch, "the request holds no record"
	case len(raws) > MaxRecords:
		return nil, codeTooMany, fmt.Sprintf("a request holds at most %d records, this one holds %d; nothing was saved", MaxRecords, len(raws))
	}
	return raws, "", ""
}

// recordResult is the ResultList entry of one record: its dialect problems
// and the service's outcome (nil for a record the service never saw).
func recordResult(it item, rs *phonebook.UpsertResult) wtResult {
	errs := slices.Clone(it.errs)
	if rs != nil && rs.Err != nil {
		for _, fe := range fromDomain(rs.Err, customerField(it)) {
			if len(it.errs) > 0 && fe.Code == phonebook.ECodeNotFound {
				continue // the stand-in reference of a record already refused
			}
			if fe.Field != "" && hasField(it.errs, fe.Field) {
				continue // already told, in Wasp's words
			}
			errs = append(errs, fe)
		}
	}
	if len(errs) == 0 {
		if rs == nil || rs.Phone == nil {
			// Cannot happen: a record is either refused or stored.
			return wtResult{ResultCode: codeOf(phonebook.ECodeInternal).Result, Message: "internal error", HttpStatusCode: http.StatusInternalServerError}
		}
		msg := messageUpdated
		if rs.Created {
			msg = messageCreated
		}
		return wtResult{ResultCode: resultSuccess, Message: msg, HttpStatusCode: statusSuccess}
	}
	slices.SortStableFunc(errs, func(a, b *fieldErr) int { return rank(a.Field) - rank(b.Field) })
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Message
	}
	c := codeOf(errs[0].Code)
	return wtResult{ResultCode: c.Result, Message: strings.Join(msgs, "; "), HttpStatusCode: c.Status, FieldName: errs[0].Field}
}

func customerField(it item) string {
	if it.custField != "" {
		return it.custField
	}
	return fieldCustomerNumber
}

// writeFailure answers a refused request: the envelope with no Data and
// one message, under the code's HTTP status.
func writeFailure(w http.ResponseWriter, code, msg string) {
	c := codeOf(code)
	if c.Status >= 500 && code != phonebook.ECodeUnavailable {
		msg = "internal error"
	}
	writeJSON(w, c.Status, &resultOfResults{
		Messages:     []wtResult{{ResultCode: c.Result, Message: msg, HttpStatusCode: c.Status}},
		BatchNumber:  1,
		HasError:     true,
		HasHttpError: true,
		HasMessage:   true,
	})
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // only plain structs of strings, numbers and bools
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
