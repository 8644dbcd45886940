package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/phonebook/phonebook/client"
)

// The measured requests go out through rawConn, not net/http's client:
// with net/http, every request costs a Request, a Header map, a Response,
// two goroutine hand-offs (the connection's read and write loops) and,
// through the typed client, a full JSON decode. On a 2-core machine that
// shared the CPU with the server under test, that was enough to make the
// generator, not the server, the limit (phonebook-load's bare at 45 % of
// wrk's). rawConn writes a request into a reused buffer, reads the answer
// into another, and lets each scenario check only what it needs (status
// and, where it matters, the id in the body). See docs/BENCHMARKS.md.

// rawTimeout bounds one request, as the typed client's http.Client did.
const rawTimeout = 30 * time.Second

// rawTarget is one server the measured requests go to.
type rawTarget struct {
	addr   string // host:port to dial
	header []byte // the fixed headers of every request: Host, User-Agent, Accept, Authorization
}

// newRawTarget is a target for base ("http://host:port"; only plain http)
// sending auth as the Authorization header when not empty.
func newRawTarget(base, auth string) (*rawTarget, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("url %q: the load generator speaks plain http://host:port only", u.Redacted())
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	h := []byte("Host: " + u.Host + "\r\nUser-Agent: phonebook-load/1\r\nAccept: application/json\r\n")
	if auth != "" {
		h = append(h, "Authorization: "+auth+"\r\n"...)
	}
	return &rawTarget{addr: addr, header: h}, nil
}

// rawConn is one worker's kept-alive HTTP/1.1 connection to a target,
// with its buffers. It is not safe for concurrent use: one per worker.
type rawConn struct {
	t    *rawTarget
	conn net.Conn
	br   *bufio.Reader
	req  []byte // the request being written, reused
	body []byte // the last answer's body, reused
	// scratch is the worker's buffer for the bodies it sends.
	scratch []byte

	// The cancel hook: when ctx ends, the connection's deadline is set in
	// the past, which ends a read or write in flight. It is registered
	// again only when the context or the connection changes.
	hookCtx  context.Context
	hookConn net.Conn
	stopHook func() bool
}

func newRawConn(t *rawTarget) *rawConn {
	return &rawConn{t: t, req: make([]byte, 0, 1024), body: make([]byte, 0, 8192)}
}

// Close closes the connection, if open.
func (c *rawConn) Close() {
	if c.stopHook != nil {
		c.stopHook()
		c.stopHook, c.hookCtx, c.hookConn = nil, nil, nil
	}
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
}

// errConnClosed is an answer cut short by the server closing the
// connection.
var errConnClosed = errors.New("connection closed by the server")

// do sends one request (path with its query; body with contentType when
// not nil) and returns the status and body of the answer. The body is
// valid until the next call. A connection the server closes, or that
// failed, is dialled again on the next call.
func (c *rawConn) do(ctx context.Context, method, path, contentType string, body []byte) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if c.stopHook != nil && c.hookCtx != ctx {
		// A new context (the next phase of the run). When the hook of the
		// last one already fired, it may not have set its deadline yet:
		// it would cut a request of this phase short, so the connection
		// goes with it.
		if !c.stopHook() {
			c.Close()
		}
		c.stopHook, c.hookCtx, c.hookConn = nil, nil, nil
	}
	if c.conn == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", c.t.addr)
		if err != nil {
			return 0, nil, err
		}
		c.conn = conn
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, 16<<10)
		} else {
			c.br.Reset(conn)
		}
	}
	if err := c.conn.SetDeadline(time.Now().Add(rawTimeout)); err != nil {
		c.Close()
		return 0, nil, err
	}
	if c.hookCtx != ctx || c.hookConn != c.conn {
		if c.stopHook != nil {
			c.stopHook() // of a closed connection: whether it ran is moot
		}
		conn := c.conn
		c.hookCtx, c.hookConn = ctx, conn
		c.stopHook = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	}
	// After the deadline above: a hook that fired before it is seen here,
	// one that fires after it wins.
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}

	r := append(c.req[:0], method...)
	r = append(r, ' ')
	r = append(r, path...)
	r = append(r, " HTTP/1.1\r\n"...)
	r = append(r, c.t.header...)
	if body != nil {
		r = append(r, "Content-Type: "...)
		r = append(r, contentType...)
		r = append(r, "\r\nContent-Length: "...)
		r = strconv.AppendInt(r, int64(len(body)), 10)
		r = append(r, "\r\n"...)
	}
	r = append(r, "\r\n"...)
	r = append(r, body...)
	c.req = r
	if _, err := c.conn.Write(r); err != nil {
		c.Close()
		return 0, nil, err
	}
	status, keep, err := c.readResponse(method == http.MethodHead)
	if err != nil || !keep {
		c.Close()
	}
	if err != nil {
		return 0, nil, err
	}
	return status, c.body, nil
}

// readResponse reads one answer into c.body: status line, headers, then
// a body of Content-Length bytes, chunked, or up to the connection's end.
// keep says whether the connection can carry another request.
func (c *rawConn) readResponse(head bool) (status int, keep bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errConnClosed
		}
		return 0, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("malformed status line %q", trimCRLF(line))
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("malformed status line %q", trimCRLF(line))
	}
	keep = line[7] == '1' // HTTP/1.0 closes unless told otherwise; not worth parsing "keep-alive"
	length, chunked := int64(-1), false
	for {
		line, err = c.br.ReadSlice('\n')
		if err != nil {
			return 0, false, fmt.Errorf("reading headers: %w", err)
		}
		line = trimCRLF(line)
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return 0, false, fmt.Errorf("malformed header line %q", line)
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case asciiEqualFold(name, "content-length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return 0, false, fmt.Errorf("malformed Content-Length %q", value)
			}
			length = n
		case asciiEqualFold(name, "transfer-encoding"):
			chunked = asciiEqualFold(value, "chunked")
		case asciiEqualFold(name, "connection"):
			if asciiEqualFold(value, "close") {
				keep = false
			}
		}
	}
	c.body = c.body[:0]
	switch {
	case head || status == http.StatusNoContent || status == http.StatusNotModified || status < 200:
	case chunked:
		err = c.readChunked()
	case length >= 0:
		c.body = grow(c.body, int(length))
		_, err = io.ReadFull(c.br, c.body)
	default:
		// no length: the body runs to the end of the connection
		var buf bytes.Buffer
		buf.Grow(cap(c.body))
		_, err = buf.ReadFrom(c.br)
		c.body, keep = buf.Bytes(), false
	}
	if err != nil {
		return 0, false, fmt.Errorf("reading body: %w", err)
	}
	return status, keep, nil
}

// readChunked reads a chunked body (RFC 9112 §7.1) into c.body; trailers
// are read and dropped.
func (c *rawConn) readChunked() error {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = trimCRLF(line)
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || n < 0 || n > 1<<30 {
			return fmt.Errorf("malformed chunk size %q", line)
		}
		if n == 0 {
			for { // trailers, up to the empty line
				line, err := c.br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(trimCRLF(line)) == 0 {
					return nil
				}
			}
		}
		start := len(c.body)
		c.body = grow(c.body, start+int(n))
		if _, err := io.ReadFull(c.br, c.body[start:]); err != nil {
			return err
		}
		if line, err = c.br.ReadSlice('\n'); err != nil {
			return err
		} else if len(trimCRLF(line)) != 0 {
			return errors.New("malformed chunk: no CRLF after the data")
		}
	}
}

// grow returns b resized to n bytes, keeping its contents.
func grow(b []byte, n int) []byte {
	if n <= cap(b) {
		return b[:n]
	}
	nb := make([]byte, n, max(n, 2*cap(b)))
	copy(nb, b)
	return nb
}

func trimCRLF(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// asciiEqualFold reports whether b equals the lower-case ASCII s, ignoring
// case, without allocating.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// answerError is the error of an answer with an unexpected status: the
// server's problem document decoded (only on this path, which a healthy
// run does not take), as the typed client reports it, so that classify
// names it "409 phone_duplicate". PocketBase's {"status", "message"}
// becomes the Detail.
func answerError(method, path string, status int, body []byte) error {
	var p struct {
		client.Error
		Message string `json:"message"`
	}
	if len(body) > 0 && (body[0] == '{') {
		_ = json.Unmarshal(body, &p)
	}
	e := p.Error
	e.Status, e.Method, e.Path = status, method, pathOnly(path)
	if e.Detail == "" {
		e.Detail = p.Message
	}
	if e.Detail == "" && e.Title == "" {
		e.Title = http.StatusText(status)
	}
	return &e
}

// pathOnly is path without its query (the query of a lookup holds a
// phone number, which no error message repeats).
func pathOnly(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return path[:i]
	}
	return path
}

// checkAnswer is nil when the answer has the status wanted and, when
// needle is not empty, contains needle (the id of what was asked for: a
// cheap check that the answer is the right one, without decoding it).
func checkAnswer(method, path string, status, want int, body []byte, needle string) error {
	if status != want {
		return answerError(method, path, status, body)
	}
	if len(needle) > 0 && !bytes.Contains(body, []byte(needle)) {
		return &badAnswerError{method: method, path: pathOnly(path), status: status, needle: needle}
	}
	return nil
}

// badAnswerError is an answer with the right status but not the content
// asked for.
type badAnswerError struct {
	method, path string
	status       int
	needle       string
}

func (e *badAnswerError) Error() string {
	return fmt.Sprintf("%s %s: %d answer without %s", e.method, e.path, e.status, e.needle)
}
