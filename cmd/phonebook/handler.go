package main

import (
	"log/slog"
	"net/http"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/dialect/crossriver"
	"github.com/phonebook/phonebook/dialect/rambase"
	"github.com/phonebook/phonebook/dialect/relay"
	"github.com/phonebook/phonebook/dialect/ticketevolution"
	"github.com/phonebook/phonebook/dialect/wasp"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/web/console"
)

// newHandler returns the whole HTTP API: /v1, the five vendor dialects,
// health, metrics and docs.
func newHandler(log *slog.Logger, svc *phonebook.Service) http.Handler {
	return httpapi.NewServer(log, svc, httpapi.Options{Dialects: dialects(log, svc)})
}

// dialects are the vendor wire formats served next to /v1, and the web
// console, mounted the same way.
func dialects(log *slog.Logger, svc *phonebook.Service) []httpapi.Dialect {
	return dialectsWith(log, svc, console.Options{})
}

// dialectsWith is dialects with the console's options.
func dialectsWith(log *slog.Logger, svc *phonebook.Service, copts console.Options) []httpapi.Dialect {
	return []httpapi.Dialect{
		crossriver.New(log, svc),
		ticketevolution.New(log, svc),
		rambase.New(log, svc),
		relay.New(log, svc),
		wasp.New(log, svc),
		console.New(log, svc, copts),
	}
}
