package phonebook

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// EventTypes lists every event type, for webhook subscriptions.
var EventTypes = []string{
	EventCustomerCreated, EventCustomerUpdated, EventCustomerDeleted,
	EventPhoneCreated, EventPhoneUpdated, EventPhoneDeleted,
	EventPrimaryChanged, EventConsentChanged,
}

// Webhook is a tenant's subscription: events of the chosen types are POSTed
// to URL, signed with Secret.
type Webhook struct {
	ID          int64     `json:"id"`
	TenantID    int64     `json:"-"`
	URL         string    `json:"url"`
	EventTypes  []string  `json:"event_types"` // ["*"] for all
	Secret      string    `json:"-"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

// Wants reports whether the webhook subscribes to event type typ.
func (w *Webhook) Wants(typ string) bool {
	return slices.Contains(w.EventTypes, "*") || slices.Contains(w.EventTypes, typ)
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // gave up after DeliveryWindow
)

// DeliveryWindow is how long a delivery is retried before it fails.
const DeliveryWindow = 24 * time.Hour

// Delivery is one event on its way to one webhook.
type Delivery struct {
	ID            int64             `json:"id"`
	WebhookID     int64             `json:"webhook_id"`
	EventID       string            `json:"event_id"`
	EventType     string            `json:"event_type"`
	CustomerID    int64             `json:"customer_id,omitempty"`
	Status        string            `json:"status"`
	Attempts      int               `json:"attempts"`
	NextAttemptAt *time.Time        `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time         `json:"created_at"`
	DeliveredAt   *time.Time        `json:"delivered_at,omitempty"`
	AttemptLog    []DeliveryAttempt `json:"attempt_log"`
}

// DeliveryAttempt is one try to deliver.
type DeliveryAttempt struct {
	N          int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code,omitempty"`
	// Reason classifies a failed attempt: one of the Reason* values.
	Reason string `json:"reason,omitempty"`
	// Error is a short text for people: the receiver's status and the
	// start of its answer, or what failed on the way.
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// Reasons a delivery attempt failed (DeliveryAttempt.Reason).
const (
	ReasonTimeout              = "timeout"               // no answer within the deliverer's timeout
	ReasonConnectionRefused    = "connection_refused"    // nothing listens at the receiver's address
	ReasonDNS                  = "dns"                   // the host name does not resolve
	ReasonTLS                  = "tls"                   // the TLS handshake or the certificate failed
	ReasonHTTPStatus           = "http_status"           // the receiver answered a status other than 2xx (3xx included: redirects are not followed)
	ReasonDestinationForbidden = "destination_forbidden" // the destination policy refused the URL or its address; no connection was made
	ReasonNetwork              = "network"               // any other failure on the way (reset, unreachable, a malformed answer)
	ReasonCanceled             = "canceled"              // the server was shutting down; the attempt is retried
)

// ClaimedDelivery is a delivery a worker holds for one attempt, with what
// it needs to make it.
type ClaimedDelivery struct {
	Delivery *Delivery
	Webhook  *Webhook
	Event    *Event
}

// WebhookInput creates a webhook.
type WebhookInput struct {
	URL         string
	EventTypes  []string
	Secret      string // empty: one is generated and shown once
	Description string
}

// CreateWebhook subscribes url to events of the caller's tenant (admin
// scope). It returns the webhook and its signing secret.
func (s *Service) CreateWebhook(ctx context.Context, in WebhookInput) (*Webhook, string, error) {
	a, err := caller(ctx, ScopeAdmin)
	if err != nil {
		return nil, "", err
	}
	var errs ValidationErrors
	u, uerr := s.webhooks.CheckWebhookURL(in.URL)
	if uerr == nil {
		uerr = s.webhooks.checkResolved(ctx, u)
	}
	if uerr != nil {
		errs = append(errs, FieldErrors(uerr)...)
	}
	types, terrs := webhookEventTypes(in.EventTypes)
	errs = append(errs, terrs...)
	secret := in.Secret
	if secret == "" {
		secret = "whsec_" + newSecret()[3:]
	} else if len(secret) < MinSecretLen || len(secret) > 256 || !printable(secret) {
		errs = append(errs, Errorf(ECodeValidation, "secret", "secret must be %d to 256 printable characters", MinSecretLen))
	}
	if utf8.RuneCountInString(in.Description) > 200 || !printable(in.Description) {
		errs = append(errs, Errorf(ECodeValidation, "description", "description must be printable and at most 200 characters"))
	}
	if err := errs.orNil(); err != nil {
		return nil, "", err
	}
	w := &Webhook{TenantID: a.Tenant.ID, URL: u.String(), EventTypes: types, Description: in.Description, CreatedAt: s.timestamp()}
	// The secret must be read back to sign deliveries, so it cannot be
	// hashed; it is never stored in clear either.
	if s.sealer == nil {
		return nil, "", errSecretKeyRequired("secret", "webhook signing secrets")
	}
	stored := *w
	if stored.Secret, err = s.sealer.Seal(secret); err != nil {
		return nil, "", &Error{Code: ECodeInternal, Message: "internal error", Err: err}
	}
	if err := s.write(ctx, func(tx Tx) error { return tx.CreateWebhook(ctx, &stored, s.webhooks.maxPerTenant()) }); err != nil {
		return nil, "", err
	}
	w.ID = stored.ID
	return w, secret, nil
}

// webhookEventTypes checks a subscription's event types: each must be
// known; one given twice counts once (first-seen order is kept); none, or
// "*" among others, is every type: ["*"].
func webhookEventTypes(in []string) ([]string, ValidationErrors) {
	var errs ValidationErrors
	out := make([]string, 0, len(in))
	for _, t := range in {
		switch {
		case t != "*" && !slices.Contains(EventTypes, t):
			errs = append(errs, Errorf(ECodeValidation, "event_types", "unknown event type %q", t))
		case !slices.Contains(out, t):
			out = append(out, t)
		}
	}
	if len(out) == 0 || slices.Contains(out, "*") {
		out = []string{"*"}
	}
	return out, errs
}

// Webhooks lists the caller's webhooks (admin scope).
func (s *Service) Webhooks(ctx context.Context) ([]*Webhook, error) {
	a, err := caller(ctx, ScopeAdmin)
	if err != nil {
		return nil, err
	}
	var out []*Webhook
	err = s.read(ctx, func(tx Tx) (err error) {
		out, err = tx.FindWebhooks(ctx, a.Tenant.ID)
		return err
	})
	return out, err
}

// Webhook returns one of the caller's webhooks (admin scope).
func (s *Service) Webhook(ctx context.Context, id int64) (*Webhook, error) {
	a, err := caller(ctx, ScopeAdmin)
	if err != nil {
		return nil, err
	}
	var w *Webhook
	err = s.read(ctx, func(tx Tx) (err error) {
		w, err = tx.FindWebhook(ctx, a.Tenant.ID, id)
		return err
	})
	return w, err
}

// DeleteWebhook removes a webhook and its pending deliveries.
func (s *Service) DeleteWebhook(ctx context.Context, id int64) error {
	a, err := caller(ctx, ScopeAdmin)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx Tx) error { return tx.DeleteWebhook(ctx, a.Tenant.ID, id) })
}

// Deliveries lists a webhook's deliveries, newest first, with every attempt.
func (s *Service) Deliveries(ctx context.Context, webhookID int64, limit int) ([]*Delivery, error) {
	a, err := caller(ctx, ScopeAdmin)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxPageLimit {
		limit = DefaultPageLimit
	}
	var out []*Delivery
	err = s.read(ctx, func(tx Tx) error {
		if _, err := tx.FindWebhook(ctx, a.Tenant.ID, webhookID); err != nil {
			return err
		}
		out, err = tx.FindDeliveries(ctx, a.Tenant.ID, webhookID, limit)
		return err
	})
	return out, err
}

// Redeliver queues a delivery again, now, whatever its status.
func (s *Service) Redeliver(ctx context.Context, webhookID, deliveryID int64) (*Delivery, error) {
	a, err := caller(ctx, ScopeAdmin)
	if err != nil {
		return nil, err
	}
	var d *Delivery
	err = s.write(ctx, func(tx Tx) (err error) {
		d, err = tx.RequeueDelivery(ctx, a.Tenant.ID, webhookID, deliveryID, s.timestamp())
		return err
	})
	return d, err
}

// ClaimDeliveries takes up to limit due deliveries of every tenant for one
// attempt each. A claimed delivery is leased until lease from now: no other
// worker (on any node) takes it before the attempt is recorded or the lease
// ends. Deliveries of one customer to one webhook go in event order.
func (s *Service) ClaimDeliveries(ctx context.Context, lease time.Duration, limit int) ([]*ClaimedDelivery, error) {
	var out []*ClaimedDelivery
	now := s.timestamp()
	err := s.write(ctx, func(tx Tx) (err error) {
		out, err = tx.ClaimDeliveries(ctx, now, now.Add(lease), limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, c := range out {
		if s.sealer != nil && strings.HasPrefix(c.Webhook.Secret, "v1:") {
			if c.Webhook.Secret, err = s.sealer.Open(c.Webhook.Secret); err != nil {
				return nil, &Error{Code: ECodeInternal, Message: "internal error", Err: err}
			}
		}
	}
	return out, nil
}

// RecordAttempt stores the outcome of one attempt: delivered, or retried
// with exponential backoff until DeliveryWindow has passed, then failed.
func (s *Service) RecordAttempt(ctx context.Context, d *Delivery, at DeliveryAttempt, ok bool) error {
	now := s.timestamp()
	status, next := DeliveryDelivered, (*time.Time)(nil)
	if !ok {
		status = DeliveryPending
		t := now.Add(Backoff(d.Attempts))
		if t.Sub(d.CreatedAt) > DeliveryWindow {
			status = DeliveryFailed
		} else {
			next = &t
		}
	}
	return s.write(ctx, func(tx Tx) error {
		return tx.RecordAttempt(ctx, d.ID, at, status, next)
	})
}

// Backoff is the wait after the n-th failed attempt (1-based): 1 s, 2 s,
// 4 s, ... capped at one hour.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 13 {
		return time.Hour
	}
	return min(time.Duration(1<<(n-1))*time.Second, time.Hour)
}

// RegisterPublisher makes every later event queue for publisher name.
func (s *Service) RegisterPublisher(ctx context.Context, name string) error {
	return s.write(ctx, func(tx Tx) error { return tx.RegisterPublisher(ctx, name) })
}

// PublishPending hands up to limit queued events, in order, to publish and
// removes those it accepted. owner names this node: while its lease runs
// no other node publishes, so events leave in order. It reports how many
// were published; ok is false when another node holds the lease.
func (s *Service) PublishPending(ctx context.Context, name, owner string, lease time.Duration, limit int, publish func(*Event) error) (n int, ok bool, err error) {
	var evs []*Event
	now := s.timestamp()
	err = s.write(ctx, func(tx Tx) (err error) {
		evs, ok, err = tx.ClaimPublications(ctx, name, owner, now, now.Add(lease), limit)
		return err
	})
	if err != nil || !ok || len(evs) == 0 {
		return 0, ok, err
	}
	var done []int64
	var perr error
	for _, e := range evs {
		if perr = publish(e); perr != nil {
			break
		}
		done = append(done, e.Seq)
	}
	if len(done) > 0 {
		if err := s.write(ctx, func(tx Tx) error { return tx.DeletePublications(ctx, name, done) }); err != nil {
			return 0, true, err
		}
	}
	return len(done), true, perr
}
