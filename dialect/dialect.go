// Package dialect holds what the vendor dialects (one subpackage each)
// share with the router that mounts them: the Route type. Dialects import
// it and the domain, never package httpapi.
package dialect

import "net/http"

// Route is one route of the router: a Go 1.22 method pattern and its
// handler. The router wraps every route with logging, metrics, the 1 MiB
// body cap and, unless Public, authentication: the handler then runs with
// the caller in its context (phonebook.AuthFromContext).
type Route struct {
	Method  string
	Pattern string
	// Scope is what the caller's key must hold ("" for any valid key).
	Scope   string
	Handler http.Handler
	// Public routes need no key.
	Public bool
	// Source names the API in the history of changes ("v1", a vendor).
	Source string
	// Auth reads the caller's key from the request; nil means the native
	// Authorization: Bearer / X-API-Key headers.
	Auth func(r *http.Request) string
	// Unauthorized answers a missing or bad key (401) or a missing scope
	// (403) in the route's own error shape; nil means problem+json.
	Unauthorized func(w http.ResponseWriter, r *http.Request, err error)
	// Idempotent routes honour Idempotency-Key.
	Idempotent bool
}

// Dialect is a vendor wire format served on the same store and keys.
type Dialect interface {
	// Routes lists the dialect's routes.
	Routes() []Route
}
