package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/phonebook/phonebook"
)

// MaxBatchRecords is the most records one batch may hold.
const MaxBatchRecords = 500

// batchRecord is one record of POST /v1/phones/batch: a phone and the
// customer it belongs to, by customer_id (integer id or uuid) or
// external_id.
type batchRecord struct {
	CustomerID flexString  `json:"customer_id"`
	ExternalID opt[string] `json:"external_id"`
	phoneBody
}

// batchResult is the outcome of one record, in input order.
type batchResult struct {
	Index  int              `json:"index"`
	Status string           `json:"status"` // created, updated or error
	Phone  *phonebook.Phone `json:"phone,omitempty"`
	Error  *Problem         `json:"error,omitempty"`
}

type batchCounts struct {
	Total   int `json:"total"`
	Created int `json:"created"`
	Updated int `json:"updated"`
	Failed  int `json:"failed"`
}

type batchBody struct {
	Results []batchResult `json:"results"`
	Counts  batchCounts   `json:"counts"`
}

// readBatch accepts {"records": [...]} or a bare array of records.
func readBatch(w http.ResponseWriter, r *http.Request) ([]json.RawMessage, error) {
	var raw json.RawMessage
	if err := decode(w, r, &raw); err != nil {
		return nil, err
	}
	var records []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(t, &records); err != nil {
			return nil, jsonError(err)
		}
	} else {
		var env struct {
			Records []json.RawMessage `json:"records"`
		}
		if err := decodeBytes(raw, &env); err != nil {
			if phonebook.ErrorCode(err) == phonebook.ECodeValidation {
				return nil, phonebook.Errorf(phonebook.ECodeValidation, "records", "records must be an array of objects")
			}
			return nil, err
		}
		records = env.Records
	}
	if len(records) == 0 {
		return nil, phonebook.Errorf(phonebook.ECodeValidation, "records", "records must hold at least one record")
	}
	if len(records) > MaxBatchRecords {
		return nil, phonebook.Errorf(phonebook.ECodeValidation, "records", "a batch holds at most %d records, this one has %d", MaxBatchRecords, len(records))
	}
	return records, nil
}

// recordItem reads one record into the service's terms.
func recordItem(raw json.RawMessage) (phonebook.UpsertItem, error) {
	var rec batchRecord
	if err := decodeBytes(raw, &rec); err != nil {
		return phonebook.UpsertItem{}, err
	}
	var item phonebook.UpsertItem
	id := strings.TrimSpace(string(rec.CustomerID))
	ext := strings.TrimSpace(rec.ExternalID.V)
	switch {
	case id != "" && ext != "":
		return item, phonebook.Errorf(phonebook.ECodeValidation, "customer_id", "give customer_id or external_id, not both")
	case id != "":
		ref, err := phonebook.ParseCustomerRef(id)
		if err != nil {
			return item, phonebook.Errorf(phonebook.ECodeNotFound, "customer_id", "customer not found")
		}
		item.Customer = ref
	case ext != "":
		item.Customer = phonebook.CustomerRef{ExternalID: ext}
	default:
		return item, phonebook.Errorf(phonebook.ECodeValidation, "customer_id", "each record names its customer by customer_id or external_id")
	}
	in, err := rec.input()
	if err != nil {
		return item, err
	}
	item.Phone = in
	return item, nil
}

func handlePhoneBatch(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		records, err := readBatch(w, r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := batchBody{Results: make([]batchResult, len(records)), Counts: batchCounts{Total: len(records)}}
		var items []phonebook.UpsertItem
		var where []int // index in records of each item
		for i, raw := range records {
			out.Results[i].Index = i
			item, err := recordItem(raw)
			if err != nil {
				out.Results[i].Status, out.Results[i].Error = "error", recordProblem(i, err)
				continue
			}
			items = append(items, item)
			where = append(where, i)
		}
		if len(items) > 0 {
			res, err := svc.UpsertPhones(r.Context(), items)
			if err != nil {
				writeError(w, r, err)
				return
			}
			for j, rs := range res {
				i := where[j]
				switch {
				case rs.Err != nil:
					out.Results[i].Status, out.Results[i].Error = "error", recordProblem(i, rs.Err)
				case rs.Created:
					out.Results[i].Status, out.Results[i].Phone = "created", rs.Phone
				default:
					out.Results[i].Status, out.Results[i].Phone = "updated", rs.Phone
				}
			}
		}
		for _, rs := range out.Results {
			switch rs.Status {
			case "created":
				out.Counts.Created++
			case "updated":
				out.Counts.Updated++
			default:
				out.Counts.Failed++
			}
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// recordProblem is the error of record i, with its fields prefixed by the
// record's place so a client can find them.
func recordProblem(i int, err error) *Problem {
	p := problemFor(err)
	p.Instance = "records/" + strconv.Itoa(i)
	for k := range p.Errors {
		p.Errors[k].Field = fmt.Sprintf("records[%d].%s", i, p.Errors[k].Field)
	}
	return &p
}
