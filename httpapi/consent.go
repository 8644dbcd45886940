package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/phonebook/phonebook"
)

// parseTime reads an RFC 3339 time named field. An unescaped "+" of a
// query string arrives as a space: it is read as the "+" it was.
func parseTime(field, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil && strings.Contains(v, " ") {
		t, err = time.Parse(time.RFC3339Nano, strings.ReplaceAll(v, " ", "+"))
	}
	if err != nil {
		return time.Time{}, phonebook.Errorf(phonebook.ECodeValidation, field, "%s must be an RFC 3339 time such as 2026-03-02T10:15:00Z", field)
	}
	return t, nil
}

// consentResult answers a consent write: the ledger record written and
// the number's state now (which stays as it was when the record is
// back-dated behind a later one).
type consentResult struct {
	Record *phonebook.ConsentRecord `json:"record"`
	State  *phonebook.ConsentState  `json:"state,omitempty"`
}

func handleConsentPut(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		number := r.PathValue("number")
		country := r.URL.Query().Get("country_code")
		var b struct {
			Type       string `json:"type"`
			Source     string `json:"source"`
			Evidence   string `json:"evidence"`
			CapturedAt string `json:"captured_at"`
		}
		if err := decode(w, r, &b); err != nil {
			writeError(w, r, err)
			return
		}
		in := phonebook.ConsentInput{Type: b.Type, Source: b.Source, Evidence: b.Evidence}
		if b.CapturedAt != "" {
			t, err := parseTime("captured_at", b.CapturedAt)
			if err != nil {
				writeError(w, r, err)
				return
			}
			in.CapturedAt = t
		}
		rec, err := svc.RecordConsent(r.Context(), number, country, in)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := consentResult{Record: rec}
		st, err := svc.ConsentAt(r.Context(), rec.E164, "", time.Time{})
		switch {
		case err == nil:
			out.State = st
		case phonebook.ErrorCode(err) == phonebook.ECodeForbidden:
			// A key with customers:write but not customers:read wrote the
			// record; it may not read the ledger back.
		default:
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// consentAnswer is a number's consent at one moment, with its whole ledger
// when asked for (?history=true).
type consentAnswer struct {
	*phonebook.ConsentState
	History any `json:"history,omitempty"`
}

func handleConsentGet(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		number := r.PathValue("number")
		q := r.URL.Query()
		country := q.Get("country_code")
		var at time.Time
		if v := q.Get("at"); v != "" {
			t, err := parseTime("at", v)
			if err != nil {
				writeError(w, r, err)
				return
			}
			at = t
		}
		withHistory := false
		if v := q.Get("history"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				writeError(w, r, phonebook.Errorf(phonebook.ECodeValidation, "history", "history must be true or false"))
				return
			}
			withHistory = b
		}
		st, err := svc.ConsentAt(r.Context(), number, country, at)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := consentAnswer{ConsentState: st}
		if withHistory {
			recs, err := svc.ConsentHistory(r.Context(), number, country)
			if err != nil {
				writeError(w, r, err)
				return
			}
			if recs == nil {
				recs = []*phonebook.ConsentRecord{}
			}
			out.History = recs
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func handleInboundSMS(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			From string `json:"from"`
			Body string `json:"body"`
		}
		if err := decode(w, r, &b); err != nil {
			writeError(w, r, err)
			return
		}
		res, err := svc.InboundSMS(r.Context(), b.From, b.Body)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
}
