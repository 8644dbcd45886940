package httpapi

import (
	"net/http"
	"strconv"

	"github.com/phonebook/phonebook"
)

// phoneBody is the JSON a client sends for one phone.
type phoneBody struct {
	Number      opt[string]      `json:"number"`
	CountryCode opt[flexString]  `json:"country_code"`
	Extension   opt[flexString]  `json:"extension"`
	Type        opt[string]      `json:"type"`
	Label       opt[string]      `json:"label"`
	IsPrimary   opt[bool]        `json:"is_primary"`
	Notes       opt[string]      `json:"notes"`
	Status      opt[string]      `json:"status"`
	LineKind    opt[string]      `json:"line_kind"`
	Consent     opt[consentBody] `json:"consent"`
}

type consentBody struct {
	Type   opt[string] `json:"type"`
	Source opt[string] `json:"source"`
}

// notNull refuses null for fields that cannot be cleared.
func (b *phoneBody) notNull() error {
	var errs phonebook.ValidationErrors
	for _, f := range []struct {
		name string
		null bool
	}{{"number", b.Number.Null}, {"type", b.Type.Null}, {"status", b.Status.Null}, {"is_primary", b.IsPrimary.Null}, {"consent.type", b.Consent.V.Type.Null}} {
		if f.null {
			errs = append(errs, phonebook.Errorf(phonebook.ECodeValidation, f.name, "%s must not be null", f.name))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// input is the phone to add.
func (b *phoneBody) input() (phonebook.PhoneInput, error) {
	if err := b.notNull(); err != nil {
		return phonebook.PhoneInput{}, err
	}
	return phonebook.PhoneInput{
		Number: b.Number.V, Country: string(b.CountryCode.V), Extension: string(b.Extension.V),
		Type: b.Type.V, Label: b.Label.V, IsPrimary: b.IsPrimary.V, Notes: b.Notes.V, Status: b.Status.V,
		LineKind: b.LineKind.V, ConsentType: b.Consent.V.Type.V, ConsentSource: b.Consent.V.Source.V,
	}, nil
}

// update is the change a PATCH asks for: only the fields present.
func (b *phoneBody) update() (phonebook.PhoneUpdate, error) {
	if err := b.notNull(); err != nil {
		return phonebook.PhoneUpdate{}, err
	}
	u := phonebook.PhoneUpdate{
		Number: b.Number.ptr(), Type: b.Type.ptr(), Label: b.Label.ptr(), IsPrimary: b.IsPrimary.ptr(),
		Notes: b.Notes.ptr(), Status: b.Status.ptr(), LineKind: b.LineKind.ptr(),
		ConsentType: b.Consent.V.Type.ptr(), ConsentSource: b.Consent.V.Source.ptr(),
	}
	if b.CountryCode.Set {
		s := string(b.CountryCode.V)
		u.Country = &s
	}
	if b.Extension.Set {
		s := string(b.Extension.V)
		u.Extension = &s
	}
	return u, nil
}

// replacement is the change a PUT asks for: the whole phone, absent fields
// back to their defaults (the primary flag and consent stay unless given).
func (b *phoneBody) replacement() (phonebook.PhoneUpdate, error) {
	if !b.Number.Set {
		return phonebook.PhoneUpdate{}, phonebook.Errorf(phonebook.ECodeValidation, "number", "number is required")
	}
	for _, f := range []*opt[string]{&b.Type, &b.Status} {
		if !f.Set {
			f.Set = true
		}
	}
	if b.Type.V == "" {
		b.Type.V = "other"
	}
	if b.Status.V == "" {
		b.Status.V = phonebook.StatusActive
	}
	b.CountryCode.Set, b.Extension.Set, b.Label.Set, b.Notes.Set = true, true, true, true
	return b.update()
}

func phoneLocation(p *phonebook.Phone) string {
	return "/v1/customers/" + strconv.FormatInt(p.CustomerID, 10) + "/phones/" + strconv.FormatInt(p.ID, 10)
}

func phoneRef(r *http.Request) (phonebook.CustomerRef, phonebook.CustomerRef, error) {
	ref, err := customerRef(r)
	if err != nil {
		return ref, ref, err
	}
	pref, err := phonebook.ParseCustomerRef(r.PathValue("phoneId"))
	if err != nil {
		return ref, pref, phonebook.Errorf(phonebook.ECodeNotFound, "phoneId", "phone not found")
	}
	return ref, pref, nil
}

func handlePhoneCreate(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref, err := customerRef(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		var b phoneBody
		if err := decode(w, r, &b); err != nil {
			writeError(w, r, err)
			return
		}
		in, err := b.input()
		if err != nil {
			writeError(w, r, err)
			return
		}
		p, err := svc.AddPhone(r.Context(), ref, in)
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Location", phoneLocation(p))
		w.Header().Set("ETag", etag(p.Version))
		writeJSON(w, http.StatusCreated, p)
	})
}

func handlePhoneList(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref, err := customerRef(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		phones, err := svc.FindPhones(r.Context(), ref)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, listBody[*phonebook.Phone]{Data: phones})
	})
}

func handlePhoneGet(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref, pref, err := phoneRef(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		p, err := svc.FindPhone(r.Context(), ref, pref)
		if err != nil {
			writeError(w, r, err)
			return
		}
		tag := etag(p.Version)
		if notModified(w, r, tag) {
			return
		}
		w.Header().Set("ETag", tag)
		writeJSON(w, http.StatusOK, p)
	})
}

// handlePhoneUpdate serves PATCH (replace=false) and PUT (replace=true).
func handlePhoneUpdate(svc *phonebook.Service, replace bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref, pref, err := phoneRef(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		var b phoneBody
		if err := decode(w, r, &b); err != nil {
			writeError(w, r, err)
			return
		}
		var upd phonebook.PhoneUpdate
		if replace {
			upd, err = b.replacement()
		} else {
			upd, err = b.update()
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		p, err := svc.UpdatePhone(r.Context(), ref, pref, upd, ifMatch(r))
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("ETag", etag(p.Version))
		writeJSON(w, http.StatusOK, p)
	})
}

func handlePhoneDelete(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref, pref, err := phoneRef(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if err := svc.DeletePhone(r.Context(), ref, pref, ifMatch(r)); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// lookupBody answers a reverse lookup.
type lookupBody struct {
	E164 string                  `json:"e164"`
	Data []*phonebook.PhoneMatch `json:"data"`
}

func handlePhoneLookup(svc *phonebook.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		number := q.Get("number")
		if number == "" {
			writeError(w, r, phonebook.Errorf(phonebook.ECodeValidation, "number", "the number query parameter is required"))
			return
		}
		n, err := svc.NormalizeNumber(r.Context(), number, q.Get("country_code"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		matches, err := svc.LookupNumber(r.Context(), n.E164, "")
		if err != nil {
			writeError(w, r, err)
			return
		}
		if matches == nil {
			matches = []*phonebook.PhoneMatch{}
		}
		writeJSON(w, http.StatusOK, lookupBody{E164: n.E164, Data: matches})
	})
}
