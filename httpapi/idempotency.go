package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/phonebook/phonebook"
)

// idempotentTimeout bounds a request run under an Idempotency-Key: it runs
// to its end even when the client hangs up, so that its answer is stored
// for the retry, but not forever.
const idempotentTimeout = 2 * time.Minute

// idempotent honours Idempotency-Key on a POST: the first request runs and
// its response is stored in the same transaction as the change it answers,
// before any byte of it is sent; the same key with the same request within
// 24 h gets the stored response back and writes nothing; the same key with
// another request is a 422; a repeat while the first still runs is a 409
// idempotency_in_progress with Retry-After.
func (s *Server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeError(w, r, httpError(codeBodyTooLarge, "", fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes)))
				return
			}
			writeError(w, r, httpError(codeMalformedJSON, "", "the request body could not be read"))
			return
		}
		h := sha256.New()
		fmt.Fprintf(h, "%s %s?%s\n%s\n", r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"))
		h.Write(body)
		hash := hex.EncodeToString(h.Sum(nil))
		// The request runs to its end even when the client hangs up: its
		// answer is stored for the retry.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), idempotentTimeout)
		defer cancel()
		var last *bufferedWriter
		rec, replayed, err := s.svc.RunIdempotent(ctx, key, hash, func(ctx context.Context) (*phonebook.IdempotencyRecord, error) {
			// The store may run this more than once (a serialization
			// failure): each run starts from a fresh request and buffer.
			rr := r.Clone(ctx)
			rr.Body = io.NopCloser(bytes.NewReader(body))
			buf := newBufferedWriter()
			last = buf
			serveSafely(next, buf, rr)
			return buf.record(), nil
		})
		if err != nil {
			if phonebook.IsCode(err, phonebook.ECodeIdempotencyInProgress) {
				w.Header().Set("Retry-After", strconv.Itoa(int(phonebook.IdempotencyRetryAfter/time.Second)))
			}
			writeError(w, r, err)
			return
		}
		if !replayed && last != nil {
			// The first answer carries every header its handler set; a
			// replay carries the ones stored with it.
			for k, v := range last.header {
				w.Header()[k] = v
			}
		}
		send(w, rec, replayed)
	})
}

// serveSafely turns a panic of next into a 500 in w: the request runs
// inside a store transaction, which must end by returning, not unwinding.
func serveSafely(next http.Handler, w *bufferedWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				v = "handler aborted"
			}
			loggerFrom(r.Context()).Error("panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			*w = *newBufferedWriter()
			writeError(w, r, phonebook.Errorf(phonebook.ECodeInternal, "", "internal error"))
		}
	}()
	next.ServeHTTP(w, r)
}

// send writes a response held in rec: one just stored, or a replay.
func send(w http.ResponseWriter, rec *phonebook.IdempotencyRecord, replayed bool) {
	h := w.Header()
	if rec.ContentType != "" {
		h.Set("Content-Type", rec.ContentType)
	}
	if rec.ETag != "" {
		h.Set("ETag", rec.ETag)
	}
	if rec.Location != "" {
		h.Set("Location", rec.Location)
	}
	if replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	if rec.Status >= 500 {
		h.Set("Retry-After", "1")
	}
	if code, ok := errorCodeOf(rec); ok {
		setErrorCode(w, code)
	}
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}

// errorCodeOf reads the code of a problem+json answer, for the log line.
func errorCodeOf(rec *phonebook.IdempotencyRecord) (string, bool) {
	if rec.Status < 400 || rec.ContentType != "application/problem+json" {
		return "", false
	}
	var p struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(rec.Body, &p); err != nil || p.Code == "" {
		return "", false
	}
	return p.Code, true
}

// bufferedWriter holds a whole response until it is stored: nothing
// reaches the client before the transaction that stores it commits.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedWriter() *bufferedWriter { return &bufferedWriter{header: http.Header{}} }

func (w *bufferedWriter) Header() http.Header { return w.header }

func (w *bufferedWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *bufferedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// record is the response as the store keeps it.
func (w *bufferedWriter) record() *phonebook.IdempotencyRecord {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	return &phonebook.IdempotencyRecord{
		Status: status, Body: w.body.Bytes(),
		ContentType: w.header.Get("Content-Type"), ETag: w.header.Get("ETag"), Location: w.header.Get("Location"),
	}
}
