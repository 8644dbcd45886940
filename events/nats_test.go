package events_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	_ "modernc.org/sqlite" // driver "sqlite", to read the outbox queues

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/events"
)

// natsURL is PHONEBOOK_TEST_NATS_URL (default nats://127.0.0.1:4222). The
// test is skipped when no JetStream server answers there, except in CI,
// where it fails.
func natsURL(t *testing.T) (string, jetstream.JetStream) {
	t.Helper()
	url := os.Getenv("PHONEBOOK_TEST_NATS_URL")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	js, err := connectJS(t, url)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("NATS JetStream at %s: %v", url, err)
		}
		t.Skipf("NATS JetStream at %s: %v", url, err)
	}
	return url, js
}

// connectJS connects to a JetStream server for the test's duration.
func connectJS(t *testing.T, url string) (jetstream.JetStream, error) {
	t.Helper()
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		return nil, err
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return js, nil
}

// uniqueStream returns a stream name and subject prefix of this test
// alone; the stream is deleted when the test ends.
func uniqueStream(t *testing.T, js jetstream.JetStream) (stream, prefix string) {
	t.Helper()
	id := fmt.Sprintf("%d_%d", os.Getpid(), rand.Uint32())
	stream, prefix = "PBTEST_"+id, "pbtest_"+id
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, stream); err != nil {
			t.Logf("delete stream %s: %v", stream, err)
		}
	})
	return stream, prefix
}

// startPublisher runs p until the test ends.
func startPublisher(t *testing.T, p *events.Publisher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Publisher.Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Publisher.Run did not return within 15s of cancel")
		}
	})
}

// outbox reads the SQLite file behind the store's back.
type outbox struct{ db *sql.DB }

func openOutbox(t *testing.T, path string) outbox {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return outbox{db}
}

// queued is how many publications wait, over every publisher.
func (o outbox) queued(t *testing.T) int {
	t.Helper()
	var n int
	if err := o.db.QueryRow(`SELECT COUNT(*) FROM publications`).Scan(&n); err != nil {
		t.Fatalf("count publications: %v", err)
	}
	return n
}

// outboxEvent is one event row, in seq order.
type outboxEvent struct{ id, slug, typ string }

func (o outbox) events(t *testing.T) []outboxEvent {
	t.Helper()
	rows, err := o.db.Query(`SELECT e.uuid, t.slug, e.type FROM events e JOIN tenants t ON t.id = e.tenant_id ORDER BY e.seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []outboxEvent
	for rows.Next() {
		var e outboxEvent
		if err := rows.Scan(&e.id, &e.slug, &e.typ); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// readStream reads the whole stream with an ordered consumer and returns
// its messages, checking that the stream holds exactly that many.
func readStream(t *testing.T, js jetstream.JetStream, stream string) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := int(info.State.Msgs)
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("ordered consumer: %v", err)
	}
	var msgs []jetstream.Msg
	for len(msgs) < want {
		batch, err := cons.Fetch(100, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		before := len(msgs)
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && len(msgs) < want {
			t.Fatalf("fetch after %d messages: %v", len(msgs), err)
		}
		if len(msgs) == before {
			t.Fatalf("the consumer stopped after %d of the stream's %d messages", len(msgs), want)
		}
	}
	return msgs
}

// checkStream asserts that the stream holds every event exactly once, in
// outbox order, on its subject, with its id as Nats-Msg-Id.
func checkStream(t *testing.T, msgs []jetstream.Msg, prefix string, want []outboxEvent) {
	t.Helper()
	seen := map[string]int{}
	var got []string
	for _, m := range msgs {
		id := m.Headers().Get(jetstream.MsgIDHeader)
		seen[id]++
		got = append(got, id)
		var p events.Payload
		if err := json.Unmarshal(m.Data(), &p); err != nil {
			t.Errorf("message %s: body is not a payload: %v", id, err)
			continue
		}
		if p.ID != id {
			t.Errorf("message %s: payload id %s", id, p.ID)
		}
		if got, want := m.Subject(), prefix+"."+p.Tenant+"."+p.Type; got != want {
			t.Errorf("message %s: subject %q, want %q", id, got, want)
		}
		if got, want := m.Headers().Get(events.EventTypeHeader), p.Type; got != want {
			t.Errorf("message %s: %s header %q, want %q", id, events.EventTypeHeader, got, want)
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s is in the stream %d times", id, n)
		}
	}
	var wantIDs []string
	for _, e := range want {
		wantIDs = append(wantIDs, e.id)
	}
	if !slices.Equal(got, wantIDs) {
		t.Errorf("stream: %d messages, want the %d events exactly once in outbox order\ngot  %v\nwant %v", len(got), len(wantIDs), got, wantIDs)
	}
}

// makeChanges writes n customers with a phone each in the tenant of ctx.
func makeChanges(t *testing.T, ctx context.Context, svc *phonebook.Service, tag string, n int) {
	t.Helper()
	for i := range n {
		c := MustCustomer(t, ctx, svc, fmt.Sprintf("%s %d", tag, i))
		MustPhone(t, ctx, svc, c.ID, fmt.Sprintf("+1 201 555 %04d", i))
	}
}

// TestNATSPublishesEveryEventOnce: two publishers with queues of their own
// publish every event of two tenants to one stream, so every event is
// published twice; the stream's de-duplication by Nats-Msg-Id leaves each
// event exactly once, in order, on phonebook.<tenant>.<type>.
func TestNATSPublishesEveryEventOnce(t *testing.T) {
	t.Parallel()
	url, js := natsURL(t)
	stream, prefix := uniqueStream(t, js)
	svc, path := MustSQLite(t, nil)
	ob := openOutbox(t, path)
	acme, globex := MustTenant(t, svc, "acme"), MustTenant(t, svc, "globex")
	var pubs []*events.Publisher
	for _, name := range []string{"nats-a", "nats-b"} {
		p := events.NewPublisher(testLog(t).With("publisher", name), svc, url, events.PublisherOptions{
			Name: name, Stream: stream, SubjectPrefix: prefix, Poll: 10 * time.Millisecond, Batch: 7,
		})
		if err := p.Register(context.Background()); err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, p)
	}
	if got, want := pubs[0].Subject("acme", phonebook.EventPhoneCreated), prefix+".acme.phone.created"; got != want {
		t.Errorf("Subject: got %q, want %q", got, want)
	}

	makeChanges(t, acme, svc, "before", 15) // queued before any publisher runs
	for _, p := range pubs {
		startPublisher(t, p)
	}
	makeChanges(t, globex, svc, "during", 15)
	makeChanges(t, acme, svc, "during", 10)
	want := ob.events(t)
	if len(want) < 80 {
		t.Fatalf("only %d events written", len(want))
	}
	waitFor(t, 30*time.Second, "both queues to drain", func() bool { return ob.queued(t) == 0 })

	msgs := readStream(t, js, stream)
	checkStream(t, msgs, prefix, want)
	t.Logf("%d events published twice (two publishers), %d messages in the stream", len(want), len(msgs))
}

// natsServer is a nats-server process of the test's own, which it can
// kill and restart.
type natsServer struct {
	t        *testing.T
	bin, dir string
	port     int
	cmd      *exec.Cmd
	done     chan struct{}
}

func newNATSServer(t *testing.T) *natsServer {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		bin = "/usr/sbin/nats-server"
		if _, serr := os.Stat(bin); serr != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("nats-server: %v", err)
			}
			t.Skipf("nats-server: %v", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &natsServer{t: t, bin: bin, dir: t.TempDir(), port: port}
	t.Cleanup(s.kill)
	return s
}

func (s *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

// start runs the server and waits until JetStream answers.
func (s *natsServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "-a", "127.0.0.1", "-p", fmt.Sprint(s.port), "-js", "-sd", filepath.Join(s.dir, "js"))
	var out strings.Builder
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start nats-server: %v", err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := nats.Connect(s.url(), nats.Timeout(time.Second))
		if err == nil {
			nc.Close()
			return
		}
		select {
		case <-s.done:
			s.t.Fatalf("nats-server exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nats-server did not answer within 10s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the server with SIGKILL, as a crash does.
func (s *natsServer) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// TestNATSPublisherRidesOutServerOutages: events written while NATS is not
// there yet stay queued and go out once it starts; a crash and restart of
// NATS mid-stream loses nothing and publishes nothing twice.
func TestNATSPublisherRidesOutServerOutages(t *testing.T) {
	t.Parallel()
	ns := newNATSServer(t)
	svc, path := MustSQLite(t, nil)
	ob := openOutbox(t, path)
	ctx := MustTenant(t, svc, "acme")
	const stream, prefix = "PBOUTAGE", "pboutage"
	p := events.NewPublisher(testLog(t), svc, ns.url(), events.PublisherOptions{Stream: stream, SubjectPrefix: prefix, Poll: 10 * time.Millisecond, Timeout: time.Second})
	if err := p.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	startPublisher(t, p) // NATS is down

	makeChanges(t, ctx, svc, "down", 10)
	time.Sleep(300 * time.Millisecond)
	if got, want := ob.queued(t), 20; got != want {
		t.Fatalf("events queued while NATS is down: got %d, want %d", got, want)
	}

	ns.start()
	waitFor(t, 30*time.Second, "the queue to drain once NATS is up", func() bool { return ob.queued(t) == 0 })

	ns.kill()
	makeChanges(t, ctx, svc, "crashed", 10)
	time.Sleep(200 * time.Millisecond)
	ns.start()
	makeChanges(t, ctx, svc, "restarted", 10)
	waitFor(t, 30*time.Second, "the queue to drain after the restart", func() bool { return ob.queued(t) == 0 })

	js, err := connectJS(t, ns.url())
	if err != nil {
		t.Fatal(err)
	}
	want := ob.events(t)
	checkStream(t, readStream(t, js, stream), prefix, want)
	t.Logf("%d events published across a late start and a crash of NATS", len(want))
}
