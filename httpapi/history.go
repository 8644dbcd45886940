package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/phonebook/phonebook"
)

// historySort names history cursors: a cursor of another list is refused.
const historySort = "history"

// historyKey is the API key that made a change.
type historyKey struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// historyEntry is one change as the history lists it.
type historyEntry struct {
	ID         string          `json:"id"` // the event's uuid
	Seq        int64           `json:"seq"`
	Type       string          `json:"type"`
	At         time.Time       `json:"at"`
	CustomerID int64           `json:"customer_id"`
	PhoneID    *int64          `json:"phone_id"`
	Key        *historyKey     `json:"key"`    // null for operator commands (CLI)
	Source     string          `json:"source"` // the API or dialect: v1, relay, crossriver, ...
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
}

func newHistoryEntry(e *phonebook.Event) historyEntry {
	h := historyEntry{
		ID: e.ID, Seq: e.Seq, Type: e.Type, At: e.OccurredAt, CustomerID: e.CustomerID,
		Source: e.Source, Before: e.Before, After: e.After,
	}
	if e.PhoneID != 0 {
		id := e.PhoneID
		h.PhoneID = &id
	}
	if e.KeyID != 0 {
		h.Key = &historyKey{ID: e.KeyID, Name: e.KeyName}
	}
	if len(h.Before) == 0 {
		h.Before = json.RawMessage("null")
	}
	if len(h.After) == 0 {
		h.After = json.RawMessage("null")
	}
	return h
}

// handleHistory serves the history of a customer (phone=false) or of one
// of its phones, oldest change first, paged by ?limit= and ?cursor=.
func handleHistory(svc *phonebook.Service, phone bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ref phonebook.CustomerRef
		var pref *phonebook.CustomerRef
		var err error
		if phone {
			var p phonebook.CustomerRef
			ref, p, err = phoneRef(r)
			pref = &p
		} else {
			ref, err = customerRef(r)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		limit, err := queryLimit(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if limit == 0 {
			limit = phonebook.DefaultPageLimit
		}
		var after int64
		if v := r.URL.Query().Get("cursor"); v != "" {
			c, err := phonebook.DecodeCursor(v, historySort)
			if err != nil {
				writeError(w, r, err)
				return
			}
			after = c.ID
		}
		events, err := svc.History(r.Context(), ref, pref, after, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := listBody[historyEntry]{Data: make([]historyEntry, 0, len(events))}
		for _, e := range events {
			out.Data = append(out.Data, newHistoryEntry(e))
		}
		if len(events) == limit {
			// A full page: look one change further to tell the last page.
			last := events[len(events)-1].Seq
			more, err := svc.History(r.Context(), ref, pref, last, 1)
			if err != nil {
				writeError(w, r, err)
				return
			}
			if len(more) > 0 {
				next := (&phonebook.Cursor{Sort: historySort, ID: last}).Encode()
				out.NextCursor, out.HasMore = &next, true
			}
		}
		writeJSON(w, http.StatusOK, out)
	})
}
