package httpapi

import (
	"net/http"
	"net/url"

	"github.com/phonebook/phonebook"
)

func handlePhoneTypeList(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		types, err := svc.PhoneTypes(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, listBody[*phonebook.PhoneType]{Data: types})
	})
}

func handlePhoneTypeCreate(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Name opt[string] `json:"name"`
		}
		if err := decode(w, r, &b); err != nil {
			writeError(w, r, err)
			return
		}
		pt, err := svc.CreatePhoneType(r.Context(), b.Name.V)
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Location", "/v1/phone-types/"+url.PathEscape(pt.Name))
		writeJSON(w, http.StatusCreated, pt)
	})
}

func handlePhoneTypeDelete(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := svc.DeletePhoneType(r.Context(), r.PathValue("name")); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
