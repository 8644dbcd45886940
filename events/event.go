// Package events carries the outbox out of the process: it delivers
// events to webhooks (Deliverer) and publishes them to NATS JetStream
// (Publisher).
//
// The outbox itself lives in the domain and the stores: every change
// writes its event, and a delivery per subscribed webhook and a
// publication per registered publisher, in the change's own transaction
// (DESIGN §2 rule 6). This package only drains those queues, so delivery
// is at least once: a receiver de-duplicates by the event id, which is
// stable across retries, redeliveries and nodes.
package events

import (
	"encoding/json"
	"time"

	"github.com/phonebook/phonebook"
)

// Payload is the JSON body of a webhook request and of a NATS message.
type Payload struct {
	// ID is the event's uuid: the same on every attempt and every
	// channel, the key to de-duplicate on.
	ID         string    `json:"id"`
	Type       string    `json:"type"`   // phone.created, customer.deleted, ...
	Tenant     string    `json:"tenant"` // the tenant's slug
	OccurredAt time.Time `json:"occurred_at"`
	CustomerID int64     `json:"customer_id,omitempty"`
	PhoneID    int64     `json:"phone_id,omitempty"`
	// Data is the resource after the change; for a deletion, the resource
	// as it was.
	Data json.RawMessage `json:"data"`
	// Previous is the resource before the change; null for a creation.
	Previous json.RawMessage `json:"previous"`
}

// NewPayload returns the payload of e.
func NewPayload(e *phonebook.Event) *Payload {
	p := &Payload{
		ID: e.ID, Type: e.Type, Tenant: e.TenantSlug, OccurredAt: e.OccurredAt.UTC(),
		CustomerID: e.CustomerID, PhoneID: e.PhoneID,
		Data: rawOrNull(e.After), Previous: rawOrNull(e.Before),
	}
	if len(e.After) == 0 && len(e.Before) > 0 {
		p.Data = e.Before
	}
	return p
}

// Marshal returns the JSON body sent for e.
func Marshal(e *phonebook.Event) ([]byte, error) {
	return json.Marshal(NewPayload(e))
}

// rawOrNull returns b, or JSON null when b is empty or not JSON (never
// expected: the stores keep what the service marshalled).
func rawOrNull(b []byte) json.RawMessage {
	if len(b) == 0 || !json.Valid(b) {
		return json.RawMessage("null")
	}
	return b
}
