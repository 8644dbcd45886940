package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
)

// slowDialect has one idempotent route that creates a customer, writes its
// answer, and then waits for release before returning.
type slowDialect struct {
	svc     *phonebook.Service
	entered chan struct{}
	release chan struct{}
	runs    atomic.Int32
}

func (d *slowDialect) Routes() []httpapi.Route {
	return []httpapi.Route{{Method: http.MethodPost, Pattern: "/slow", Idempotent: true, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.runs.Add(1)
		c, err := d.svc.CreateCustomer(r.Context(), phonebook.CustomerInput{Name: "Slow"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Extra", "first")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d}`, c.ID)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		d.entered <- struct{}{}
		<-d.release
	})}}
}

// TestIdempotencyInProgress: a repeat while the first request runs is a
// 409 idempotency_in_progress with Retry-After; the first request's answer
// reaches its client only after it is stored; later repeats replay it.
func TestIdempotencyInProgress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pb.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := phonebook.NewService(st, nil)
	if _, err := svc.CreateTenant(ctx, phonebook.TenantInput{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	_, key, err := svc.CreateAPIKey(ctx, phonebook.KeyInput{TenantSlug: "acme", Name: "w", Scopes: phonebook.AllScopes})
	if err != nil {
		t.Fatal(err)
	}
	d := &slowDialect{svc: svc, entered: make(chan struct{}, 1), release: make(chan struct{})}
	srv := httptest.NewServer(httpapi.NewServer(slog.New(slog.DiscardHandler), svc, httpapi.Options{Dialects: []httpapi.Dialect{d}}))
	defer srv.Close()

	post := func(ctx context.Context) (*http.Response, []byte, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/slow", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "slow-1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res, b, err
	}
	var firstByte atomic.Bool
	type answer struct {
		res  *http.Response
		body []byte
		err  error
	}
	first := make(chan answer, 1)
	go func() {
		trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { firstByte.Store(true) }}
		res, b, err := post(httptrace.WithClientTrace(ctx, trace))
		first <- answer{res, b, err}
	}()
	<-d.entered
	time.Sleep(50 * time.Millisecond) // time for a byte to travel, were one sent
	if firstByte.Load() {
		t.Errorf("the first request's answer reached the client before it was stored")
	}

	res, b, err := post(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Code   string `json:"code"`
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(b, &p)
	if res.StatusCode != http.StatusConflict || p.Code != "idempotency_in_progress" || len(p.Errors) != 1 || p.Errors[0].Field != "Idempotency-Key" {
		t.Errorf("repeat while running: got %d %s, want 409 idempotency_in_progress on Idempotency-Key", res.StatusCode, b)
	}
	if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("repeat while running: Retry-After %q, want seconds", res.Header.Get("Retry-After"))
	}

	close(d.release)
	a := <-first
	if a.err != nil || a.res.StatusCode != http.StatusCreated || a.res.Header.Get("X-Extra") != "first" || a.res.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first request: %v %v %s", a.err, a.res, a.body)
	}
	res, b, err = post(ctx)
	if err != nil || res.StatusCode != http.StatusCreated || string(b) != string(a.body) || res.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("repeat after: got %v %s (replayed %q), want the first answer %s", err, b, res.Header.Get("Idempotent-Replayed"), a.body)
	}
	if got := d.runs.Load(); got != 1 {
		t.Errorf("the handler ran %d times, want once", got)
	}
}

// TestIdempotencyClientHangsUp: a client that hangs up once its 500-record
// batch is sent, then retries with the same key, gets the one execution's
// answer: every record created once, none updated.
func TestIdempotencyClientHangsUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.MustTenant(t, phonebook.TenantInput{Slug: "acme"})
	var records []obj
	for c := 0; c < 50; c++ {
		_, cust := e.mustDo(t, http.StatusCreated, "POST", "/v1/customers", a.write, obj{"name": fmt.Sprint("Batch ", c)})
		for n := 0; n < 10; n++ {
			records = append(records, obj{"customer_id": str(cust, "id"), "number": fmt.Sprintf("+1 504 555 %02d%02d", c, n)})
		}
	}
	body, _ := json.Marshal(obj{"records": records})
	send := func(ctx context.Context) (*http.Response, []byte, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/v1/phones/batch", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+a.write)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "batch-hangup")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res, b, err
	}
	// Hang up the moment the whole request is on the wire.
	hang, cancel := context.WithCancel(context.Background())
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { cancel() }}
	if res, _, err := send(httptrace.WithClientTrace(hang, trace)); err == nil {
		t.Logf("the server answered before the hang-up: %d", res.StatusCode)
	}
	var res *http.Response
	var b []byte
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, b, err = send(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusConflict || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var out struct {
		Results []struct {
			Status string `json:"status"`
		} `json:"results"`
		Counts struct{ Created, Updated, Failed int } `json:"counts"`
	}
	if err := json.Unmarshal(b, &out); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("retry: %d %.200s", res.StatusCode, b)
	}
	if out.Counts.Created != 500 || out.Counts.Updated != 0 || out.Counts.Failed != 0 || len(out.Results) != 500 {
		t.Errorf("retry after a hang-up: counts %+v, want 500 created (one execution, answered once)", out.Counts)
	}
	t.Logf("retry answer replayed: %q", res.Header.Get("Idempotent-Replayed"))
	// Every phone written once: the batch ran once.
	page, err := e.svc.FindCustomers(a.ctx, phonebook.CustomerFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	phones := 0
	for _, c := range page.Customers {
		ps, err := e.svc.FindPhones(a.ctx, phonebook.CustomerRef{ID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Version != 1 {
				t.Errorf("phone %d has version %d: written twice", p.ID, p.Version)
			}
		}
		phones += len(ps)
	}
	if phones != 500 {
		t.Errorf("phones stored: %d, want 500", phones)
	}
}
