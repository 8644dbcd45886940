package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRawConnAnswers: the raw client reads every framing a server may
// answer with, keeps the connection alive where it may, and hands the
// scenario the status and body.
func TestRawConnAnswers(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789", 3000) // past net/http's buffer: chunked
	var seen []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Authorization")+" "+r.Header.Get("Content-Type")+" "+string(body))
		mu.Unlock()
		switch r.URL.Path {
		case "/length":
			w.Header().Set("Content-Length", "5")
			_, _ = io.WriteString(w, "hello")
		case "/chunked":
			_, _ = io.WriteString(w, big[:10])
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, big[10:])
		case "/close":
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, "bye")
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/created":
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"id":1}`)
		}
	}))
	defer srv.Close()
	rt, err := newRawTarget(srv.URL, "Bearer pb_k")
	if err != nil {
		t.Fatal(err)
	}
	c := newRawConn(rt)
	defer c.Close()
	ctx := context.Background()
	for i, tc := range []struct {
		method, path, body string
		status             int
		want               string
		open               bool // the connection stays open
	}{
		{"GET", "/length", "", 200, "hello", true},
		{"GET", "/chunked?x=1", "", 200, big, true},
		{"POST", "/created", `{"n":1}`, 201, `{"id":1}`, true},
		{"GET", "/empty", "", 204, "", true},
		{"GET", "/close", "", 200, "bye", false},
		{"PATCH", "/length", `{"l":2}`, 200, "hello", true}, // dialled again
		{"GET", "/length", "", 200, "hello", true},
	} {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		status, got, err := c.do(ctx, tc.method, tc.path, "application/json", body)
		if err != nil {
			t.Fatalf("%d %s %s: %v", i, tc.method, tc.path, err)
		}
		if status != tc.status || string(got) != tc.want {
			t.Errorf("%d %s %s: got %d %.40q, want %d %.40q", i, tc.method, tc.path, status, got, tc.status, tc.want)
		}
		if open := c.conn != nil; open != tc.open {
			t.Errorf("%d %s %s: connection open %v, want %v", i, tc.method, tc.path, open, tc.open)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, want := range map[int]string{
		0: "GET /length Bearer pb_k  ",
		1: "GET /chunked?x=1 Bearer pb_k  ",
		2: `POST /created Bearer pb_k application/json {"n":1}`,
		5: `PATCH /length Bearer pb_k application/json {"l":2}`,
	} {
		if seen[i] != want {
			t.Errorf("request %d: server saw %q, want %q", i, seen[i], want)
		}
	}
}

// rawServer answers each request on a connection with the next of
// answers, as written, then closes it.
func rawServer(t *testing.T, answers ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for _, a := range answers {
					for { // the request's head; the tests send no body
						line, err := br.ReadString('\n')
						if err != nil {
							return
						}
						if line == "\r\n" {
							break
						}
					}
					if _, err := io.WriteString(conn, a); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestRawConnFraming: answers net/http does not send, and broken ones.
func TestRawConnFraming(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, answer string
		status       int
		body         string
		err          string // substring; "" for none
	}{
		{"HTTP/1.0 to the end", "HTTP/1.0 200 OK\r\n\r\nall of it", 200, "all of it", ""},
		{"chunked with extension and trailer", "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n", 200, "abcde", ""},
		{"header case", "HTTP/1.1 404 Not Found\r\nCONTENT-LENGTH: 2\r\n\r\nno", 404, "no", ""},
		{"bad status line", "SMTP ready\r\n\r\n", 0, "", "malformed status line"},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 0, "", "malformed Content-Length"},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, "", "malformed chunk size"},
		{"cut short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, "", "reading body"},
		{"nothing", "", 0, "", "connection closed by the server"},
	} {
		rt, err := newRawTarget(rawServer(t, tc.answer), "")
		if err != nil {
			t.Fatal(err)
		}
		c := newRawConn(rt)
		status, body, err := c.do(context.Background(), "GET", "/", "", nil)
		c.Close()
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: got error %v, want one with %q", tc.name, err, tc.err)
		case tc.err == "" && (status != tc.status || string(body) != tc.body):
			t.Errorf("%s: got %d %q, want %d %q", tc.name, status, body, tc.status, tc.body)
		}
	}
}

// TestRawConnCancel: a request in flight when the context ends returns at
// once, and the next context gets a fresh connection.
func TestRawConnCancel(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	defer close(release)
	rt, _ := newRawTarget(srv.URL, "")
	c := newRawConn(rt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.do(ctx, "GET", "/hang", "", nil)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %v, want a timeout at about 100ms", err, time.Since(start))
	}
	if _, _, err := c.do(ctx, "GET", "/", "", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("with the ended context: got %v, want its error", err)
	}
	status, body, err := c.do(context.Background(), "GET", "/", "", nil)
	if err != nil || status != 200 || string(body) != "ok" {
		t.Errorf("after: got %d %q %v, want 200 ok", status, body, err)
	}
}

// TestCheckAnswer: what a scenario counts as a failure, and how it is
// classified.
func TestCheckAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		status     int
		body       string
		needle     string
		wantKind   string // "" for success
		wantSample string
	}{
		{"ok", 200, `{"id":5,"x":1}`, `"id":5,`, "", ""},
		{"ok without needle", 200, `{}`, "", "", ""},
		{"wrong customer", 200, `{"id":6,"x":1}`, `"id":5,`, "200 bad answer", `GET /v1/customers/5: 200 answer without "id":5,`},
		{"problem", 409, `{"status":409,"code":"phone_duplicate","detail":"the customer already has this phone number","errors":[{"field":"number","code":"phone_duplicate"}]}`, "", "409 phone_duplicate",
			"phonebook: GET /v1/customers/5: 409 phone_duplicate: the customer already has this phone number (number)"},
		{"pocketbase", 400, `{"status":400,"message":"Failed to create record.","data":{}}`, "", "400", "phonebook: GET /v1/customers/5: 400: Failed to create record."},
		{"no document", 502, `<html>bad gateway</html>`, "", "502", "phonebook: GET /v1/customers/5: 502: Bad Gateway"},
	} {
		err := checkAnswer("GET", "/v1/customers/5?number=%2B15045550123", tc.status, 200, []byte(tc.body), tc.needle)
		switch {
		case tc.wantKind == "" && err != nil:
			t.Errorf("%s: got %v", tc.name, err)
		case tc.wantKind != "" && err == nil:
			t.Errorf("%s: got no error", tc.name)
		case tc.wantKind != "":
			if got := classify(err); got != tc.wantKind {
				t.Errorf("%s: classify = %q, want %q", tc.name, got, tc.wantKind)
			}
			if got := err.Error(); got != tc.wantSample {
				t.Errorf("%s: message %q, want %q (no query: it holds a number)", tc.name, got, tc.wantSample)
			}
		}
	}
}

// TestAppendRandomNumber: the allocation-free number is the format
// randomNumber always had.
func TestAppendRandomNumber(t *testing.T) {
	// not parallel: AllocsPerRun
	re := regexp.MustCompile(`^\+1 (202|212|312|415|504|617|713|206) [2-9]\d\d \d{4}$`)
	r := rand.New(rand.NewPCG(3, 0))
	var b []byte
	for range 2000 {
		b = appendRandomNumber(b[:0], r)
		if !re.Match(b) {
			t.Fatalf("got %q", b)
		}
	}
	if a := testing.AllocsPerRun(100, func() { b = appendRandomNumber(b[:0], r) }); a != 0 {
		t.Errorf("got %v allocations, want none", a)
	}
}

// syncBuffer is a bytes.Buffer safe to read while another goroutine
// writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeBareAndBareURL: --serve-bare serves the fixed answer until
// interrupted, and --scenario bare --bare-url measures it without a
// phonebook server or a key.
func TestServeBareAndBareURL(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--serve-bare", "127.0.0.1:0"}, func(string) string { return "" }, &out, io.Discard)
	}()
	re := regexp.MustCompile(`^bare server listening on (http://127\.0\.0\.1:\d+): a fixed (\d+)-byte get-customer answer\n$`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		m = re.FindStringSubmatch(out.String())
	}
	if m == nil {
		cancel()
		t.Fatalf("no address line: %q (%v)", out.String(), <-done)
	}
	resp, err := http.Get(m[1] + "/v1/customers/42")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != sampleCustomer || m[2] != "1250" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("got %d %s %q, want the %s-byte sample", resp.StatusCode, resp.Header.Get("Content-Type"), body, m[2])
	}

	r, _ := runJSON(t, "--scenario", "bare", "--bare-url", m[1]+"/", "--concurrency", "4", "--duration", "300ms",
		"--warmup", "50ms", "--customers", "7", "--seed", "2")
	if !r.BareExternal || r.URL != m[1] || r.BareBodyBytes != len(sampleCustomer) || r.Customers != 7 || r.Requests == 0 || r.Errors != 0 {
		t.Errorf("got %+v, want requests of the --serve-bare server, no error", r)
	}
	checkLatency(t, "bare-url", r)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve-bare: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve-bare did not stop")
	}
	if _, err := http.Get(m[1] + "/"); err == nil {
		t.Errorf("the bare server still answers after the interrupt")
	}

	// A server that is no --serve-bare is refused at setup.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "{}") }))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"--scenario", "bare", "--bare-url", srv.URL, "--duration", "1s"}, func(string) string { return "" }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "is it phonebook-load --serve-bare?") {
		t.Errorf("against another server: got %v", err)
	}
}

// TestHotLoopAllocations: a measured request of get-customer (and bare),
// create-phone and a PATCH of a phone allocates nothing in the load
// generator once its connection is open: the generator's share of the CPU
// stays small.
func TestHotLoopAllocations(t *testing.T) {
	// not parallel: AllocsPerRun counts the whole process's allocations,
	// so the server is one that allocates nothing per request either.
	ok := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(sampleCustomer)) + "\r\n\r\n" + sampleCustomer)
	created := []byte("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go quietServe(conn, ok, created)
		}
	}()
	rt, err := newRawTarget("http://"+ln.Addr().String(), "Bearer pb_k")
	if err != nil {
		t.Fatal(err)
	}
	tg := newTarget("100000")
	f := &fixture{targets: []*target{tg}, phones: []phoneRef{{"100000", "1", tg.path + "/phones/1"}}}
	s := newScenarios(nil, f, rt, &options{concurrency: 1, batchSize: 1})
	defer s.Close()
	w := &Worker{Rand: rand.New(rand.NewPCG(1, 1))}
	ctx := context.Background()
	for name, op := range map[string]Op{"get-customer": s.getCustomer, "create-phone": s.createPhone, "update": s.updatePhone} {
		if err := op(ctx, w); err != nil { // opens the connection
			t.Fatalf("%s: %v", name, err)
		}
		var opErr error
		allocs := testing.AllocsPerRun(200, func() {
			if err := op(ctx, w); err != nil {
				opErr = err
			}
			tg.phones.Store(0) // create-phone: never a spare customer
		})
		if opErr != nil {
			t.Fatalf("%s: %v", name, opErr)
		}
		if allocs > 0 {
			t.Errorf("%s: %v allocations per request, want none", name, allocs)
		}
	}
}

// quietServe answers each request on conn with ok, or created for a
// POST, without allocating per request: it reads the head and the
// Content-Length bytes of body into a fixed buffer.
func quietServe(conn net.Conn, ok, created []byte) {
	defer conn.Close()
	var buf [8192]byte
	n := 0
	for {
		m, err := conn.Read(buf[n:])
		if err != nil {
			return
		}
		n += m
		for {
			end := bytes.Index(buf[:n], []byte("\r\n\r\n"))
			if end < 0 {
				break
			}
			head := buf[:end]
			size := end + 4
			if i := bytes.Index(head, []byte("Content-Length: ")); i >= 0 {
				l := 0
				for _, c := range head[i+16:] {
					if c < '0' || c > '9' {
						break
					}
					l = l*10 + int(c-'0')
				}
				size += l
			}
			if size > n {
				break
			}
			answer := ok
			if bytes.HasPrefix(head, []byte("POST ")) {
				answer = created
			}
			if _, err := conn.Write(answer); err != nil {
				return
			}
			n = copy(buf[:], buf[size:n])
		}
	}
}

// TestRawConnNextPhase: the cancel hook of a phase that has ended never
// cuts a request of the next phase short (it used to, when it fired late:
// a "timeout" in the report of a healthy run).
func TestRawConnNextPhase(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Microsecond)
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	rt, _ := newRawTarget(srv.URL, "")
	c := newRawConn(rt)
	defer c.Close()
	for i := range 300 {
		phase, end := context.WithCancel(context.Background())
		if _, _, err := c.do(phase, "GET", "/", "", nil); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		end()
		next, endNext := context.WithCancel(context.Background())
		_, _, err := c.do(next, "GET", "/", "", nil)
		endNext()
		if err != nil {
			t.Fatalf("%d: the request after a phase: %v", i, err)
		}
	}
}
