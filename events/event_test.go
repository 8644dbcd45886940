package events_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/events"
)

func TestEventPayload(t *testing.T) {
	at := time.Date(2025, 1, 31, 12, 0, 0, 123456000, time.UTC)
	base := phonebook.Event{ID: "0194b5c2-0000-7000-8000-000000000001", Seq: 9, TenantID: 3, TenantSlug: "acme",
		CustomerID: 100001, PhoneID: 7, KeyID: 2, KeyName: "crm", Source: "v1", OccurredAt: at}
	tests := []struct {
		name          string
		typ           string
		before, after string
		want          string
	}{
		{"created", phonebook.EventPhoneCreated, "", `{"id":7}`,
			`{"id":"0194b5c2-0000-7000-8000-000000000001","type":"phone.created","tenant":"acme","occurred_at":"2025-01-31T12:00:00.123456Z","customer_id":100001,"phone_id":7,"data":{"id":7},"previous":null}`},
		{"updated", phonebook.EventPhoneUpdated, `{"label":"a"}`, `{"label":"b"}`,
			`{"id":"0194b5c2-0000-7000-8000-000000000001","type":"phone.updated","tenant":"acme","occurred_at":"2025-01-31T12:00:00.123456Z","customer_id":100001,"phone_id":7,"data":{"label":"b"},"previous":{"label":"a"}}`},
		{"deleted: data is the resource as it was", phonebook.EventPhoneDeleted, `{"id":7}`, "",
			`{"id":"0194b5c2-0000-7000-8000-000000000001","type":"phone.deleted","tenant":"acme","occurred_at":"2025-01-31T12:00:00.123456Z","customer_id":100001,"phone_id":7,"data":{"id":7},"previous":{"id":7}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base
			e.Type = tt.typ
			if tt.before != "" {
				e.Before = json.RawMessage(tt.before)
			}
			if tt.after != "" {
				e.After = json.RawMessage(tt.after)
			}
			got, err := events.Marshal(&e)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Marshal:\ngot  %s\nwant %s", got, tt.want)
			}
		})
	}
	// A customer event has no phone_id; the key and source stay inside.
	e := base
	e.Type, e.PhoneID, e.After = phonebook.EventCustomerCreated, 0, json.RawMessage(`{"id":100001}`)
	got, _ := events.Marshal(&e)
	var m map[string]any
	_ = json.Unmarshal(got, &m)
	for _, k := range []string{"phone_id", "seq", "key_id", "key_name", "source", "tenant_id"} {
		if _, ok := m[k]; ok {
			t.Errorf("customer event payload has %q: %s", k, got)
		}
	}
}
