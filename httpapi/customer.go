package httpapi

import (
	"net/http"
	"strconv"

	"github.com/phonebook/phonebook"
)

// customerBody is the JSON a client sends to create or change a customer.
type customerBody struct {
	ExternalID opt[string] `json:"external_id"`
	Name       opt[string] `json:"name"`
	Status     opt[string] `json:"status"`
}

func (b customerBody) update() (phonebook.CustomerUpdate, error) {
	if b.Status.Set && b.Status.Null {
		return phonebook.CustomerUpdate{}, phonebook.Errorf(phonebook.ECodeValidation, "status", "status must be active or inactive")
	}
	return phonebook.CustomerUpdate{ExternalID: b.ExternalID.ptr(), Name: b.Name.ptr(), Status: b.Status.ptr()}, nil
}

// customerLocation is the URL of customer c.
func customerLocation(c *phonebook.Customer) string {
	return "/v1/customers/" + strconv.FormatInt(c.ID, 10)
}

func handleCustomerCreate(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b customerBody
		if err := decode(w, r, &b); err != nil {
			writeError(w, r, err)
			return
		}
		if b.Status.Null {
			writeError(w, r, phonebook.Errorf(phonebook.ECodeValidation, "status", "status must be active or inactive"))
			return
		}
		c, err := svc.CreateCustomer(r.Context(), phonebook.CustomerInput{ExternalID: b.ExternalID.V, Name: b.Name.V, Status: b.Status.V})
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Location", customerLocation(c))
		w.Header().Set("ETag", etag(c.Version))
		writeJSON(w, http.StatusCreated, c)
	})
}

// listBody is the envelope of every list.
type listBody[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
	HasMore    bool    `json:"has_more"`
}

func handleCustomerList(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := phonebook.CustomerFilter{
			ExternalID: q.Get("external_id"), PhoneE164: q.Get("phone"), Q: q.Get("q"),
			Status: q.Get("status"), Sort: q.Get("sort"),
		}
		if f.Sort == "" {
			f.Sort = phonebook.SortCreatedAsc
		}
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > phonebook.MaxPageLimit {
				writeError(w, r, phonebook.Errorf(phonebook.ECodeValidation, "limit", "limit must be an integer between 1 and %d", phonebook.MaxPageLimit))
				return
			}
			f.Limit = n
		}
		if v := q.Get("cursor"); v != "" {
			c, err := phonebook.DecodeCursor(v, f.Sort)
			if err != nil {
				writeError(w, r, err)
				return
			}
			f.After = c
		}
		page, err := svc.FindCustomers(r.Context(), f)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := listBody[*phonebook.Customer]{Data: page.Customers}
		if page.NextCursor != "" {
			out.NextCursor, out.HasMore = &page.NextCursor, true
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// customerRef reads the {id} path segment: the integer id or the uuid.
func customerRef(r *http.Request) (phonebook.CustomerRef, error) {
	return phonebook.ParseCustomerRef(r.PathValue("id"))
}

func handleCustomerGet(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref, err := customerRef(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		c, err := svc.FindCustomer(r.Context(), ref)
		if err != nil {
			writeError(w, r, err)
			return
		}
		tag := etag(c.Version)
		if notModified(w, r, tag) {
			return
		}
		w.Header().Set("ETag", tag)
		writeJSON(w, http.StatusOK, c)
	})
}

func handleCustomerPatch(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref, err := customerRef(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		var b customerBody
		if err := decode(w, r, &b); err != nil {
			writeError(w, r, err)
			return
		}
		upd, err := b.update()
		if err != nil {
			writeError(w, r, err)
			return
		}
		c, err := svc.UpdateCustomer(r.Context(), ref, upd, ifMatch(r))
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("ETag", etag(c.Version))
		writeJSON(w, http.StatusOK, c)
	})
}

func handleCustomerDelete(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref, err := customerRef(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if err := svc.DeleteCustomer(r.Context(), ref, ifMatch(r)); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
