package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/phonebook/phonebook"
)

// PublisherOptions tune a Publisher. Zero values take the defaults.
type PublisherOptions struct {
	// Name is the publisher's queue in the store (default "nats"): every
	// event written after it is registered is queued for it. Publishers
	// of one name share one queue, drained by one node at a time.
	Name string
	// Stream is the JetStream stream, created when missing with
	// subjects "<SubjectPrefix>.>", file storage and a Duplicates window
	// (default "PHONEBOOK"). An existing stream is used as it is.
	Stream string
	// SubjectPrefix starts every subject (default "phonebook"): an event
	// goes to "<prefix>.<tenant slug>.<event type>", for example
	// phonebook.acme.phone.created.
	SubjectPrefix string
	// Duplicates is the stream's de-duplication window for a stream this
	// Publisher creates (default 2 minutes): a message whose Nats-Msg-Id
	// was seen within it is acknowledged and dropped.
	Duplicates time.Duration
	// Owner names this node while it holds the queue's lease (default
	// hostname-pid-random).
	Owner string
	// Lease is how long this node holds the queue between two batches
	// (default 30 s); another node takes over when it lapses.
	Lease time.Duration
	// Batch is how many events are published per round (default 100).
	Batch int
	// Poll is the wait when the queue was empty (default 500 ms).
	Poll time.Duration
	// Timeout bounds one publish and its acknowledgement (default 5 s).
	Timeout time.Duration
}

// Publisher publishes the outbox to a NATS JetStream stream, each event
// once per Nats-Msg-Id (the event's uuid): the stream drops a message
// published again within its Duplicates window (after a lost ack, or by a
// node that took over), and subscribers de-duplicate by the same id past it.
type Publisher struct {
	log  *slog.Logger
	svc  *phonebook.Service
	url  string
	opts PublisherOptions
}

// NewPublisher returns a Publisher of svc's events to the NATS server(s)
// at url (nats://host:4222, comma-separated for a cluster); Run starts it.
func NewPublisher(log *slog.Logger, svc *phonebook.Service, url string, opts PublisherOptions) *Publisher {
	if opts.Name == "" {
		opts.Name = "nats"
	}
	if opts.Stream == "" {
		opts.Stream = "PHONEBOOK"
	}
	if opts.SubjectPrefix == "" {
		opts.SubjectPrefix = "phonebook"
	}
	if opts.Duplicates <= 0 {
		opts.Duplicates = 2 * time.Minute
	}
	if opts.Owner == "" {
		opts.Owner = defaultOwner()
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Batch <= 0 {
		opts.Batch = 100
	}
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	return &Publisher{log: log, svc: svc, url: url, opts: opts}
}

// defaultOwner is hostname-pid-random: unique per process.
func defaultOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
}

// Subject returns the subject of an event of type typ of tenant slug:
// "<prefix>.<slug>.<type>".
func (p *Publisher) Subject(slug, typ string) string {
	return p.opts.SubjectPrefix + "." + slug + "." + typ
}

// Register makes the store queue every later event for this publisher.
// Run calls it too; calling it before the server takes requests makes
// sure no change made after start is missed, even while NATS is down.
func (p *Publisher) Register(ctx context.Context) error {
	return p.svc.RegisterPublisher(ctx, p.opts.Name)
}

// Run connects to NATS (and keeps reconnecting), makes sure the stream
// exists, then publishes queued events in order until ctx is cancelled;
// then it returns nil. While NATS or the store fails, events stay queued
// and Run retries with backoff. It returns an error only when the URL or
// options cannot work at all.
func (p *Publisher) Run(ctx context.Context) error {
	nc, err := nats.Connect(p.url,
		nats.Name("phonebook "+p.opts.Owner),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				p.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ConnectHandler(func(nc *nats.Conn) { p.log.Info("nats connected", "server", nc.ConnectedUrlRedacted()) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { p.log.Info("nats reconnected", "server", nc.ConnectedUrlRedacted()) }),
	)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}

	// Setup: registered in the store, and the stream exists.
	for failures := 0; ; failures++ {
		err := p.Register(ctx)
		if err == nil {
			err = p.ensureStream(ctx, js)
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		p.log.Warn("nats publisher setup", "err", err, "failures", failures+1)
		if !sleep(ctx, backoff(failures)) {
			return nil
		}
	}
	p.log.Info("publishing events to nats", "stream", p.opts.Stream, "subjects", p.opts.SubjectPrefix+".>", "owner", p.opts.Owner)

	failures := 0
	for {
		n, ok, err := p.publishPending(ctx, js)
		if ctx.Err() != nil {
			return nil
		}
		var wait time.Duration
		switch {
		case err != nil:
			failures++
			p.log.Warn("publishing events to nats", "err", err, "published", n, "failures", failures)
			wait = backoff(failures - 1)
		case !ok: // another node holds the queue
			failures = 0
			wait = max(p.opts.Poll, p.opts.Lease/4)
		case n == p.opts.Batch: // more are waiting
			failures = 0
			continue
		default:
			failures = 0
			wait = p.opts.Poll
		}
		if !sleep(ctx, wait) {
			return nil
		}
	}
}

// publishPending publishes one batch. The store round trips run on a
// context that outlives ctx, so what NATS acknowledged is removed from the
// queue even at shutdown; publishing stops at the first event after ctx
// is cancelled.
func (p *Publisher) publishPending(ctx context.Context, js jetstream.JetStream) (int, bool, error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.Lease)
	defer cancel()
	return p.svc.PublishPending(sctx, p.opts.Name, p.opts.Owner, p.opts.Lease, p.opts.Batch, func(e *phonebook.Event) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return p.publish(ctx, js, e)
	})
}

// publish sends one event and waits for the stream's acknowledgement.
func (p *Publisher) publish(ctx context.Context, js jetstream.JetStream, e *phonebook.Event) error {
	body, err := Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding event %s: %w", e.ID, err)
	}
	msg := nats.NewMsg(p.Subject(e.TenantSlug, e.Type))
	msg.Data = body
	msg.Header.Set(jetstream.MsgIDHeader, e.ID)
	msg.Header.Set(EventTypeHeader, e.Type)
	pctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	if _, err := js.PublishMsg(pctx, msg, jetstream.WithExpectStream(p.opts.Stream)); err != nil {
		return fmt.Errorf("publish event %s to %s: %w", e.ID, msg.Subject, err)
	}
	return nil
}

// ensureStream creates the stream when it does not exist. An existing
// stream is left as the operator configured it.
func (p *Publisher) ensureStream(ctx context.Context, js jetstream.JetStream) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	_, err := js.Stream(ctx, p.opts.Stream)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("look up stream %s: %w", p.opts.Stream, err)
	}
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:        p.opts.Stream,
		Description: "phonebook events",
		Subjects:    []string{p.opts.SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Duplicates:  p.opts.Duplicates,
	})
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("create stream %s: %w", p.opts.Stream, err)
	}
	return nil
}

// backoff is the wait after failure n (0-based): 250 ms doubling to 15 s.
func backoff(n int) time.Duration {
	return min(250*time.Millisecond<<min(n, 6), 15*time.Second)
}

// sleep waits d or until ctx is done; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
