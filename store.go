package phonebook

import (
	"context"
	"encoding/json"
	"time"
)

// Store keeps phonebook's data. It is implemented by store/sqlite and
// store/postgres and checked by one conformance suite, store/storetest.
//
// The rules of DESIGN §2 are written once, in Service, as sequences of Tx
// calls; a Store only has to run each sequence atomically and hold the
// constraints (unique primary, unique number+extension, known type).
type Store interface {
	// Write runs fn in one read-write transaction and commits it when fn
	// returns nil. A store may run fn more than once when the database asks
	// for a retry (serialization failure, deadlock), so fn must not keep
	// state across calls. Returns fn's error, or ECodeUnavailable when the
	// database cannot be reached.
	Write(ctx context.Context, fn func(Tx) error) error
	// Read runs fn in a read-only transaction (one consistent snapshot).
	Read(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the database answers (readiness).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// Tx is one transaction of a Store. Every method taking a tenantID reads
// and writes only that tenant's rows: another tenant's row is not_found.
// Methods never return a nil result with a nil error.
type Tx interface {
	// CreateTenant inserts t and sets its ID. Errors: conflict (slug taken).
	CreateTenant(ctx context.Context, t *Tenant) error
	// FindTenantByID errors: not_found.
	FindTenantByID(ctx context.Context, id int64) (*Tenant, error)
	// FindTenantBySlug errors: not_found.
	FindTenantBySlug(ctx context.Context, slug string) (*Tenant, error)
	// FindTenants lists every tenant by id.
	FindTenants(ctx context.Context) ([]*Tenant, error)

	// CreateAPIKey inserts k with the hash of its secret and sets its ID.
	// Errors: conflict (the same secret exists).
	CreateAPIKey(ctx context.Context, k *APIKey, hash []byte) error
	// FindAPIKeyByHash returns the key whose secret hashes to hash, revoked
	// or not. Errors: not_found.
	FindAPIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	// FindAuth returns the key whose secret hashes to hash and its tenant,
	// in one query (every request asks). Errors: not_found.
	FindAuth(ctx context.Context, hash []byte) (*APIKey, *Tenant, error)
	// FindAPIKeys lists every key of every tenant by id, with TenantSlug.
	FindAPIKeys(ctx context.Context) ([]*APIKey, error)
	// RevokeAPIKey marks key id revoked at at. Errors: not_found.
	RevokeAPIKey(ctx context.Context, id int64, at time.Time) error
	// SetAPIKeyRequireSignature sets whether key id must sign every request.
	// Errors: not_found, validation (on for a key without a signing secret).
	SetAPIKeyRequireSignature(ctx context.Context, id int64, on bool) error

	// CreateConsoleSession inserts a console session record. Errors:
	// conflict (a session with this id exists), not_found (no such key in
	// the tenant).
	CreateConsoleSession(ctx context.Context, s *ConsoleSession) error
	// FindConsoleSession returns the session whose id (token hash) is id,
	// with its key (revoked or not) and the key's tenant, in one query; an
	// expired session is returned too (the caller decides). Errors:
	// not_found.
	FindConsoleSession(ctx context.Context, id []byte) (*ConsoleSession, *APIKey, *Tenant, error)
	// DeleteConsoleSession deletes the session (sign-out). Errors: not_found.
	DeleteConsoleSession(ctx context.Context, id []byte) error
	// DeleteExpiredConsoleSessions deletes every session that expired at or
	// before now and returns how many.
	DeleteExpiredConsoleSessions(ctx context.Context, now time.Time) (int64, error)

	// CreatePhoneType adds a type to the tenant's registry. Errors: conflict.
	CreatePhoneType(ctx context.Context, tenantID int64, pt *PhoneType) error
	// FindPhoneTypes lists the tenant's registry by name.
	FindPhoneTypes(ctx context.Context, tenantID int64) ([]*PhoneType, error)
	// DeletePhoneType errors: not_found, type_in_use.
	DeletePhoneType(ctx context.Context, tenantID int64, name string) error

	// CreateCustomer inserts c and sets ID and UUID. Errors: conflict
	// (external_id taken in the tenant).
	CreateCustomer(ctx context.Context, c *Customer) error
	// FindCustomer returns the customer (without phones). forUpdate locks
	// its row until the transaction ends, so writers of one customer
	// serialize. Errors: not_found.
	FindCustomer(ctx context.Context, tenantID int64, ref CustomerRef, forUpdate bool) (*Customer, error)
	// FindCustomers returns up to f.Limit customers matching f, in f.Sort
	// order, after f.After.
	FindCustomers(ctx context.Context, tenantID int64, f CustomerFilter) ([]*Customer, error)
	// UpdateCustomer writes every field of c (found before in this
	// transaction). Errors: not_found, conflict (external_id taken).
	UpdateCustomer(ctx context.Context, c *Customer) error
	// DeleteCustomer deletes the customer and its phones. Errors: not_found.
	DeleteCustomer(ctx context.Context, tenantID, id int64) error

	// FindPhones returns the phones of the given customers, ordered by
	// customer, then creation (oldest first).
	FindPhones(ctx context.Context, tenantID int64, customerIDs ...int64) ([]*Phone, error)
	// FindPhoneKeys returns what the rules need to know of a customer's
	// phones before adding one (ids, numbers, extensions, the primary flag),
	// oldest first: a fraction of FindPhones' columns, read on every add.
	FindPhoneKeys(ctx context.Context, tenantID, customerID int64) ([]PhoneKey, error)
	// FindPhone returns one phone of the customer. Errors: not_found.
	FindPhone(ctx context.Context, tenantID, customerID int64, ref CustomerRef) (*Phone, error)
	// FindPhonesByNumber returns every phone of the tenant with this E.164
	// number, oldest first.
	FindPhonesByNumber(ctx context.Context, tenantID int64, e164 string) ([]*Phone, error)
	// LockNumber serializes writers of one number in a tenant and returns
	// how many customers other than exceptCustomerID hold it.
	LockNumber(ctx context.Context, tenantID int64, e164 string, exceptCustomerID int64) (int, error)
	// CreatePhone inserts p and sets ID and UUID. Errors: phone_duplicate
	// (number+extension already on the customer), type_unknown, conflict
	// (a second primary).
	CreatePhone(ctx context.Context, p *Phone) error
	// UpdatePhone writes every field of p. Errors: not_found,
	// phone_duplicate, type_unknown, conflict.
	UpdatePhone(ctx context.Context, p *Phone) error
	// DeletePhone errors: not_found.
	DeletePhone(ctx context.Context, tenantID, id int64) error

	// Savepoint runs fn inside a savepoint: when fn fails, its writes are
	// undone and the transaction goes on (one record of a batch).
	Savepoint(ctx context.Context, fn func() error) error

	// LockIdempotencyKey takes the lock of the tenant's Idempotency-Key
	// until the transaction ends; ok is false, at once, when another
	// transaction (of this node or another) holds it. A crashed node's
	// transaction ends with its connection, and its lock with it.
	LockIdempotencyKey(ctx context.Context, tenantID int64, key string) (ok bool, err error)
	// FindIdempotencyRecord returns the stored response of the tenant's
	// key, expired or not. Errors: not_found.
	FindIdempotencyRecord(ctx context.Context, tenantID int64, key string) (*IdempotencyRecord, error)
	// SaveIdempotencyRecord stores rec (a finished response), replacing an
	// older record of its tenant and key, and deletes a few records of any
	// tenant created before expiredBefore.
	SaveIdempotencyRecord(ctx context.Context, rec *IdempotencyRecord, expiredBefore time.Time) error

	// AddEvent appends e to the outbox and sets its ID and Seq. In the same
	// transaction it queues a delivery for every webhook of the tenant that
	// subscribes to e's type, and a publication for every registered
	// publisher (NATS).
	AddEvent(ctx context.Context, e *Event) error
	// FindHistory returns the tenant's events of a customer (phoneID 0) or
	// of one phone, after seq, oldest first.
	FindHistory(ctx context.Context, tenantID, customerID, phoneID, afterSeq int64, limit int) ([]*Event, error)

	// CreateWebhook inserts w and sets its ID, unless the tenant already
	// has max webhooks (counted in this transaction, serialized with the
	// tenant's other creates). Errors: webhook_limit.
	CreateWebhook(ctx context.Context, w *Webhook, max int) error
	// FindWebhooks lists the tenant's webhooks by id.
	FindWebhooks(ctx context.Context, tenantID int64) ([]*Webhook, error)
	// FindWebhook errors: not_found.
	FindWebhook(ctx context.Context, tenantID, id int64) (*Webhook, error)
	// DeleteWebhook deletes the webhook and its deliveries. Errors: not_found.
	DeleteWebhook(ctx context.Context, tenantID, id int64) error
	// FindDeliveries lists a webhook's deliveries, newest first, with their
	// attempts.
	FindDeliveries(ctx context.Context, tenantID, webhookID int64, limit int) ([]*Delivery, error)
	// RequeueDelivery makes a delivery pending again, due at now. Errors:
	// not_found.
	RequeueDelivery(ctx context.Context, tenantID, webhookID, deliveryID int64, now time.Time) (*Delivery, error)
	// ClaimDeliveries leases up to limit due deliveries (of any tenant)
	// until leaseUntil and counts the attempt. A delivery waits while an
	// earlier one of the same webhook and customer is pending. Several
	// nodes never claim the same delivery (FOR UPDATE SKIP LOCKED).
	ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*ClaimedDelivery, error)
	// RecordAttempt logs an attempt and sets the delivery's status and, when
	// pending, its next attempt.
	RecordAttempt(ctx context.Context, deliveryID int64, at DeliveryAttempt, status string, next *time.Time) error

	// AddConsent appends rec to the ledger and sets its ID.
	AddConsent(ctx context.Context, rec *ConsentRecord) error
	// FindConsentAt returns the tenant's latest record for e164 captured at
	// or before at (latest recorded on ties). Errors: not_found.
	FindConsentAt(ctx context.Context, tenantID int64, e164 string, at time.Time) (*ConsentRecord, error)
	// FindConsentHistory lists the ledger of e164, oldest capture first.
	FindConsentHistory(ctx context.Context, tenantID int64, e164 string) ([]*ConsentRecord, error)

	// RegisterPublisher makes AddEvent queue every later event for the
	// named publisher.
	RegisterPublisher(ctx context.Context, name string) error
	// ClaimPublications leases the named publisher to owner until
	// leaseUntil (ok is false while another owner's lease runs: one node
	// publishes at a time, which keeps events in order) and returns up to
	// limit queued events in order, with their tenant slug.
	ClaimPublications(ctx context.Context, name, owner string, now, leaseUntil time.Time, limit int) (events []*Event, ok bool, err error)
	// DeletePublications removes published events from the queue.
	DeletePublications(ctx context.Context, name string, seqs []int64) error
	// FindEvents returns the tenant's events after seq, oldest first.
	FindEvents(ctx context.Context, tenantID int64, afterSeq int64, limit int) ([]*Event, error)

	// FindSecrets lists every value the server key seals (SecretSigning,
	// SecretWebhook, SecretIdempotency), of every tenant, for rotation.
	FindSecrets(ctx context.Context) ([]*StoredSecret, error)
	// UpdateSecret writes s.Value back to its row. Errors: not_found.
	UpdateSecret(ctx context.Context, s *StoredSecret) error
}

// Event types written to the outbox.
const (
	EventCustomerCreated = "customer.created"
	EventCustomerUpdated = "customer.updated"
	EventCustomerDeleted = "customer.deleted"
	EventPhoneCreated    = "phone.created"
	EventPhoneUpdated    = "phone.updated"
	EventPhoneDeleted    = "phone.deleted"
	EventPrimaryChanged  = "phone.primary_changed"
	EventConsentChanged  = "phone.consent_changed"
)

// Event is one change, written to the outbox in the transaction that made
// it (rule 6) and delivered later to webhooks and NATS.
type Event struct {
	ID         string          `json:"id"` // uuid, stable for de-duplication
	Seq        int64           `json:"seq"`
	TenantID   int64           `json:"tenant_id"`
	Type       string          `json:"type"`
	CustomerID int64           `json:"customer_id,omitempty"`
	PhoneID    int64           `json:"phone_id,omitempty"`
	KeyID      int64           `json:"key_id,omitempty"`
	KeyName    string          `json:"key_name,omitempty"`
	Source     string          `json:"source,omitempty"`
	OccurredAt time.Time       `json:"occurred_at"`
	TenantSlug string          `json:"tenant,omitempty"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
}
