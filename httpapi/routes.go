package httpapi

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/web/apidocs"
)

// allRoutes is the whole API: system routes, /v1, and the dialects.
func (s *Server) allRoutes(dialects []Dialect) []Route {
	svc := s.svc
	const (
		read  = phonebook.ScopeCustomersRead
		write = phonebook.ScopeCustomersWrite
		admin = phonebook.ScopeAdmin
	)
	docs := apidocs.Handler("/docs", "/openapi.json")
	routes := []Route{
		{Method: http.MethodGet, Pattern: "/healthz", Public: true, Handler: handleHealthz()},
		{Method: http.MethodGet, Pattern: "/readyz", Public: true, Handler: s.handleReadyz()},
		{Method: http.MethodGet, Pattern: "/metrics", Public: true, Handler: promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})},
		{Method: http.MethodGet, Pattern: "/openapi.json", Public: true, Handler: handleOpenAPI()},
		{Method: http.MethodGet, Pattern: "/docs", Public: true, Handler: docs},
		{Method: http.MethodGet, Pattern: "/docs/", Public: true, Handler: docs},

		{Method: http.MethodPost, Pattern: "/v1/customers", Scope: write, Idempotent: true, Handler: handleCustomerCreate(svc)},
		{Method: http.MethodGet, Pattern: "/v1/customers", Scope: read, Handler: handleCustomerList(svc)},
		{Method: http.MethodGet, Pattern: "/v1/customers/{id}", Scope: read, Handler: handleCustomerGet(svc)},
		{Method: http.MethodPatch, Pattern: "/v1/customers/{id}", Scope: write, Handler: handleCustomerPatch(svc)},
		{Method: http.MethodDelete, Pattern: "/v1/customers/{id}", Scope: write, Handler: handleCustomerDelete(svc)},
		{Method: http.MethodPost, Pattern: "/v1/customers/{id}/phones", Scope: write, Idempotent: true, Handler: handlePhoneCreate(svc)},
		{Method: http.MethodGet, Pattern: "/v1/customers/{id}/phones", Scope: read, Handler: handlePhoneList(svc)},
		{Method: http.MethodGet, Pattern: "/v1/customers/{id}/phones/{phoneId}", Scope: read, Handler: handlePhoneGet(svc)},
		{Method: http.MethodPatch, Pattern: "/v1/customers/{id}/phones/{phoneId}", Scope: write, Handler: handlePhoneUpdate(svc, false)},
		{Method: http.MethodPut, Pattern: "/v1/customers/{id}/phones/{phoneId}", Scope: write, Handler: handlePhoneUpdate(svc, true)},
		{Method: http.MethodDelete, Pattern: "/v1/customers/{id}/phones/{phoneId}", Scope: write, Handler: handlePhoneDelete(svc)},
		{Method: http.MethodPost, Pattern: "/v1/phones/batch", Scope: write, Idempotent: true, Handler: handlePhoneBatch(svc)},
		{Method: http.MethodGet, Pattern: "/v1/phones", Scope: read, Handler: handlePhoneLookup(svc)},
		{Method: http.MethodGet, Pattern: "/v1/phone-types", Scope: read, Handler: handlePhoneTypeList(svc)},
		{Method: http.MethodPost, Pattern: "/v1/phone-types", Scope: admin, Idempotent: true, Handler: handlePhoneTypeCreate(svc)},
		{Method: http.MethodDelete, Pattern: "/v1/phone-types/{name}", Scope: admin, Handler: handlePhoneTypeDelete(svc)},
		{Method: http.MethodGet, Pattern: "/v1/customers/{id}/history", Scope: read, Handler: handleHistory(svc, false)},
		{Method: http.MethodGet, Pattern: "/v1/customers/{id}/phones/{phoneId}/history", Scope: read, Handler: handleHistory(svc, true)},
		{Method: http.MethodPut, Pattern: "/v1/numbers/{number}/consent", Scope: write, Handler: handleConsentPut(svc)},
		{Method: http.MethodGet, Pattern: "/v1/numbers/{number}/consent", Scope: read, Handler: handleConsentGet(svc)},
		{Method: http.MethodPost, Pattern: "/v1/inbound/sms", Scope: write, Idempotent: true, Handler: handleInboundSMS(svc)},
		{Method: http.MethodPost, Pattern: "/v1/webhooks", Scope: admin, Idempotent: true, Handler: handleWebhookCreate(svc)},
		{Method: http.MethodGet, Pattern: "/v1/webhooks", Scope: admin, Handler: handleWebhookList(svc)},
		{Method: http.MethodGet, Pattern: "/v1/webhooks/{id}", Scope: admin, Handler: handleWebhookGet(svc)},
		{Method: http.MethodDelete, Pattern: "/v1/webhooks/{id}", Scope: admin, Handler: handleWebhookDelete(svc)},
		{Method: http.MethodGet, Pattern: "/v1/webhooks/{id}/deliveries", Scope: admin, Handler: handleDeliveryList(svc)},
		{Method: http.MethodPost, Pattern: "/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver", Scope: admin, Idempotent: true, Handler: handleDeliveryRedeliver(svc)},
	}
	for _, d := range dialects {
		routes = append(routes, d.Routes()...)
	}
	return routes
}
