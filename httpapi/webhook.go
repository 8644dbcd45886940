package httpapi

import (
	"net/http"
	"strconv"

	"github.com/phonebook/phonebook"
)

// webhookCreated is the answer to a create: the webhook and its signing
// secret, shown this once (GET never shows it).
type webhookCreated struct {
	*phonebook.Webhook
	Secret string `json:"secret"`
}

// webhookLocation is the URL of webhook wh.
func webhookLocation(wh *phonebook.Webhook) string {
	return "/v1/webhooks/" + strconv.FormatInt(wh.ID, 10)
}

// pathInt64 reads an integer path segment; anything else is "not found"
// (an id that cannot exist names no row).
func pathInt64(r *http.Request, name, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id < 1 {
		return 0, phonebook.Errorf(phonebook.ECodeNotFound, name, "%s not found", what)
	}
	return id, nil
}

// queryLimit reads ?limit= (1..MaxPageLimit); 0 when absent.
func queryLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > phonebook.MaxPageLimit {
		return 0, phonebook.Errorf(phonebook.ECodeValidation, "limit", "limit must be an integer between 1 and %d", phonebook.MaxPageLimit)
	}
	return n, nil
}

func handleWebhookCreate(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			URL         string   `json:"url"`
			EventTypes  []string `json:"event_types"`
			Secret      string   `json:"secret"`
			Description string   `json:"description"`
		}
		if err := decode(w, r, &b); err != nil {
			writeError(w, r, err)
			return
		}
		wh, secret, err := svc.CreateWebhook(r.Context(), phonebook.WebhookInput{
			URL: b.URL, EventTypes: b.EventTypes, Secret: b.Secret, Description: b.Description,
		})
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Location", webhookLocation(wh))
		writeJSON(w, http.StatusCreated, webhookCreated{Webhook: wh, Secret: secret})
	})
}

func handleWebhookList(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hooks, err := svc.Webhooks(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		if hooks == nil {
			hooks = []*phonebook.Webhook{}
		}
		writeJSON(w, http.StatusOK, listBody[*phonebook.Webhook]{Data: hooks})
	})
}

func handleWebhookGet(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt64(r, "id", "webhook")
		if err != nil {
			writeError(w, r, err)
			return
		}
		wh, err := svc.Webhook(r.Context(), id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, wh)
	})
}

func handleWebhookDelete(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt64(r, "id", "webhook")
		if err != nil {
			writeError(w, r, err)
			return
		}
		if err := svc.DeleteWebhook(r.Context(), id); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// withAttemptLog gives a delivery that was never tried an empty attempt
// log rather than null.
func withAttemptLog(d *phonebook.Delivery) *phonebook.Delivery {
	if d.AttemptLog == nil {
		d.AttemptLog = []phonebook.DeliveryAttempt{}
	}
	return d
}

func handleDeliveryList(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt64(r, "id", "webhook")
		if err != nil {
			writeError(w, r, err)
			return
		}
		limit, err := queryLimit(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		ds, err := svc.Deliveries(r.Context(), id, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := make([]*phonebook.Delivery, 0, len(ds))
		for _, d := range ds {
			out = append(out, withAttemptLog(d))
		}
		writeJSON(w, http.StatusOK, listBody[*phonebook.Delivery]{Data: out})
	})
}

// redelivered answers a redeliver: the delivery queued again. The stores'
// RequeueDelivery does not load the attempts, so attempt_log is shown only
// when it was loaded (GET .../deliveries always lists it) rather than as an
// empty log that would say the delivery was never tried.
type redelivered struct {
	*phonebook.Delivery
	AttemptLog []phonebook.DeliveryAttempt `json:"attempt_log,omitempty"`
}

func handleDeliveryRedeliver(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt64(r, "id", "webhook")
		if err != nil {
			writeError(w, r, err)
			return
		}
		did, err := pathInt64(r, "deliveryId", "delivery")
		if err != nil {
			writeError(w, r, err)
			return
		}
		d, err := svc.Redeliver(r.Context(), id, did)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, redelivered{Delivery: d, AttemptLog: d.AttemptLog})
	})
}
