// Package client is a typed Go client of phonebook's native REST API (/v1).
//
//	c := client.New("http://127.0.0.1:8080", os.Getenv("PHONEBOOK_KEY"))
//	cust, err := c.CreateCustomer(ctx, client.CustomerInput{Name: "Ada Lovelace"})
//	p, err := c.AddPhone(ctx, client.ID(cust.ID), client.PhoneInput{Number: "(504) 555-0123", Type: "mobile"})
//	cust, err = c.GetCustomer(ctx, cust.UUID) // the integer id or the uuid
//
// Every method takes a context and per-call RequestOptions (IdempotencyKey,
// IfMatch, IfNoneMatch, RequestID, Capture). Errors the server answers
// are *Error (an RFC 9457 problem document); a 304 answer to IfNoneMatch
// is ErrNotModified. A Client is safe for concurrent use and should be
// reused: it keeps its connections alive.
//
// The API key travels only in the Authorization header; it never appears
// in an error or a log line of this package.
package client

import (
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
)

// DefaultUserAgent is the User-Agent sent unless WithUserAgent says
// otherwise.
const DefaultUserAgent = "phonebook-go-client/1"

// maxErrorBody caps how much of an error answer is read.
const maxErrorBody = 1 << 20

// drainLimit caps how much of an unread body is drained so that the
// connection can be reused; longer bodies close the connection instead.
const drainLimit = 64 << 10

// Client calls one phonebook server with one API key. It is safe for
// concurrent use.
type Client struct {
	base string // scheme://host[:port][/prefix], without trailing slash
	auth string // "Bearer <key>"
	ua   string
	hc   *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests with hc (its
// Transport, Timeout, ...). The default is an http.Client of its own with
// a 30 s timeout and a transport keeping up to 100 idle connections per
// host.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.ua = ua }
}

// New returns a client of the server at baseURL (for example
// "http://127.0.0.1:8080"; a path prefix is kept) authenticating with
// apiKey.
func New(baseURL, apiKey string, opts ...Option) *Client {
	c := &Client{
		base: strings.TrimRight(baseURL, "/"),
		auth: "Bearer " + apiKey,
		ua:   DefaultUserAgent,
	}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second, Transport: NewTransport(100)}
	}
	return c
}

// NewTransport returns an HTTP transport like http.DefaultTransport that
// keeps up to idlePerHost idle connections per host (the default keeps
// two, which makes a busy client open and close connections all the
// time).
func NewTransport(idlePerHost int) *http.Transport {
	if idlePerHost < 2 {
		idlePerHost = 2
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = idlePerHost * 2
	t.MaxIdleConnsPerHost = idlePerHost
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return t
}

// HTTPClient returns the http.Client the client sends with.
func (c *Client) HTTPClient() *http.Client { return c.hc }

// ID writes an integer id as the path segment the methods take: every
// customer and phone method accepts the integer id or the uuid.
func ID(id int64) string { return strconv.FormatInt(id, 10) }

// ETag is the entity tag of a resource at version (the server's ETag is
// the version in quotes): for IfMatch and IfNoneMatch when only the
// version is at hand, as in list answers.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// String returns a pointer to s, for the optional fields of patches.
func String(s string) *string { return &s }

// Bool returns a pointer to b, for the optional fields of patches.
func Bool(b bool) *bool { return &b }

// ErrNotModified is returned by GetCustomer and GetPhone when the server
// answers 304 Not Modified to IfNoneMatch: the caller's copy is current.
var ErrNotModified = errors.New("phonebook: not modified")

// ResponseInfo is what a response said besides its body (see Capture).
type ResponseInfo struct {
	Status    int    // HTTP status
	ETag      string // ETag header, if any
	Location  string // Location header of a 201, if any
	RequestID string // X-Request-ID echoed by the server
	Replayed  bool   // Idempotent-Replayed: true (a stored answer to a repeated Idempotency-Key)
}

// RequestOption sets something on one request.
type RequestOption func(*callOptions)

type callOptions struct {
	idempotencyKey string
	ifMatch        string
	ifNoneMatch    string
	requestID      string
	info           *ResponseInfo
}

// IdempotencyKey sends Idempotency-Key: the server runs the first request
// with this key and answers the same one again with the stored response
// (honoured on every POST).
func IdempotencyKey(key string) RequestOption {
	return func(o *callOptions) { o.idempotencyKey = key }
}

// IfMatch makes an update or delete conditional on the resource's ETag
// (as returned in an ETag field, or ETag(version)); a bare version number
// is quoted. A stale tag is an *Error with status 412.
func IfMatch(etag string) RequestOption {
	return func(o *callOptions) { o.ifMatch = quoteTag(etag) }
}

// IfNoneMatch makes a GET answer ErrNotModified while the resource still
// has this ETag.
func IfNoneMatch(etag string) RequestOption {
	return func(o *callOptions) { o.ifNoneMatch = quoteTag(etag) }
}

// RequestID sends X-Request-ID, the correlation id of the server's logs.
func RequestID(id string) RequestOption {
	return func(o *callOptions) { o.requestID = id }
}

// Capture fills *info with the status and headers of the response (also
// when the call returns an error the server answered).
func Capture(info *ResponseInfo) RequestOption {
	return func(o *callOptions) { o.info = info }
}

// quoteTag quotes a bare version ("3" -> `"3"`); tags already quoted,
// weak tags, lists and * pass as they are.
func quoteTag(t string) string {
	t = strings.TrimSpace(t)
	if t == "" || t == "*" || strings.ContainsAny(t, `",`) {
		return t
	}
	return `"` + t + `"`
}

// call is one request: method and path (with query) under base, an
// optional JSON body, and where the 2xx answer decodes (nil: discarded).
type call struct {
	method string
	path   string
	query  url.Values
	body   any
	out    any
	etag   *string // receives the ETag header of a 2xx answer
}

// do sends k and decodes its answer.
func (c *Client) do(ctx context.Context, k call, opts []RequestOption) error {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	u := c.base + k.path
	if len(k.query) > 0 {
		u += "?" + k.query.Encode()
	}
	var rd io.Reader
	if k.body != nil {
		b, err := json.Marshal(k.body)
		if err != nil {
			return fmt.Errorf("phonebook: encode %s %s: %w", k.method, k.path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, u, rd)
	if err != nil {
		return fmt.Errorf("phonebook: %s %s: %w", k.method, k.path, err)
	}
	h := req.Header
	h["Authorization"] = []string{c.auth}
	h["Accept"] = []string{"application/json, application/problem+json"}
	if c.ua != "" {
		h["User-Agent"] = []string{c.ua}
	}
	if k.body != nil {
		h["Content-Type"] = []string{"application/json"}
	}
	if o.idempotencyKey != "" {
		h["Idempotency-Key"] = []string{o.idempotencyKey}
	}
	if o.ifMatch != "" {
		h["If-Match"] = []string{o.ifMatch}
	}
	if o.ifNoneMatch != "" {
		h["If-None-Match"] = []string{o.ifNoneMatch}
	}
	if o.requestID != "" {
		h["X-Request-Id"] = []string{o.requestID}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err // *url.Error: method, URL (never the key) and cause
	}
	defer closeBody(resp.Body)
	if o.info != nil {
		*o.info = ResponseInfo{
			Status:    resp.StatusCode,
			ETag:      resp.Header.Get("ETag"),
			Location:  resp.Header.Get("Location"),
			RequestID: resp.Header.Get("X-Request-ID"),
			Replayed:  resp.Header.Get("Idempotent-Replayed") == "true",
		}
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return ErrNotModified
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return readError(resp, k.method, k.path)
	}
	if k.etag != nil {
		*k.etag = resp.Header.Get("ETag")
	}
	if k.out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(k.out); err != nil {
		return fmt.Errorf("phonebook: %s %s: decode %d answer: %w", k.method, k.path, resp.StatusCode, err)
	}
	return nil
}

// closeBody drains what is left of a body (up to drainLimit), so that the
// connection goes back to the pool, and closes it.
func closeBody(b io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(b, drainLimit))
	_ = b.Close()
}

// readError builds the *Error of a non-2xx answer: its problem document
// when it has one, else a problem made of the status.
func readError(resp *http.Response, method, path string) error {
	e := &Error{}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if len(body) > 0 && json.Unmarshal(body, e) == nil && e.Code != "" {
		// a problem document
	} else {
		*e = Error{Title: http.StatusText(resp.StatusCode)}
		var health struct {
			Status string `json:"status"`
		}
		if json.Unmarshal(body, &health) == nil && health.Status != "" {
			e.Detail = health.Status // /readyz answers {"status":"unavailable"}
		}
	}
	e.Status = resp.StatusCode // the HTTP status wins over the body's
	e.Method, e.Path = method, path
	e.RequestID = resp.Header.Get("X-Request-ID")
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s >= 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
	}
	return e
}
