package main

import (
	"log/slog"
	"net/http"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/httpapi"
)

// newHandler returns the whole HTTP API: /v1, the dialects, health,
// metrics and docs.
func newHandler(log *slog.Logger, svc *phonebook.Service) http.Handler {
	return httpapi.NewServer(log, svc, httpapi.Options{})
}
