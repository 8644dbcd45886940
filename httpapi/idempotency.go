package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/phonebook/phonebook"
)

// idempotent honours Idempotency-Key on a POST: the first request runs and
// its response is stored; the same key with the same request within 24 h
// gets the stored response back and writes nothing; the same key with
// another request is a 422.
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
		ctx := r.Context()
		rec, err := s.svc.BeginIdempotent(ctx, key, hash)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if rec != nil {
			replay(w, rec)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rw := &recorder{ResponseWriter: w}
		defer func() {
			// Runs even when the handler panics, so the key is never left
			// reserved by a request that will not finish.
			if rw.status >= 500 || rw.status == 0 {
				if err := s.svc.AbandonIdempotent(ctx, key); err != nil {
					loggerFrom(ctx).Error("idempotency key not released", "err", err.Error())
				}
				return
			}
			done := &phonebook.IdempotencyRecord{
				Key: key, RequestHash: hash, Status: rw.status, Body: rw.body.Bytes(),
				ContentType: rw.Header().Get("Content-Type"), ETag: rw.Header().Get("ETag"), Location: rw.Header().Get("Location"),
			}
			if err := s.svc.FinishIdempotent(ctx, done); err != nil {
				loggerFrom(ctx).Error("idempotent response not stored", "err", err.Error())
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

func replay(w http.ResponseWriter, rec *phonebook.IdempotencyRecord) {
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
	h.Set("Idempotent-Replayed", "true")
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}

// recorder keeps a copy of the response while passing it on.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets setErrorCode and http.ResponseController reach the writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
