package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/phonebook/phonebook"
)

// --- sign-in ---

type loginPage struct {
	base
	Next    string
	Message string
	Error   string
}

var loginMessages = map[string]string{
	"ended":      "Your session has ended (it expired, or its API key was revoked). Sign in again.",
	"signed-out": "You are signed out.",
}

func (c *Console) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	c.showLogin(w, r, http.StatusOK, r.URL.Query().Get("next"), loginMessages[r.URL.Query().Get("msg")], "")
}

// showLogin renders the sign-in form with a fresh login CSRF cookie: the
// form's token is an HMAC of the cookie's random value.
func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, next, msg, errMsg string) {
	nonce := randomID()
	http.SetCookie(w, c.cookie(r, loginCookie, nonce, 3600))
	p := &loginPage{base: base{Title: "Sign in", CSRF: c.seal.csrfToken("login", nonce)}, Next: safeNext(next), Message: msg, Error: errMsg}
	c.render(w, r, nil, status, "login", p)
}

func (c *Console) handleLogin(w http.ResponseWriter, r *http.Request) {
	pageHeaders(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	ck, cerr := r.Cookie(loginCookie)
	if c.cop.Check(r) != nil || r.ParseForm() != nil || cerr != nil ||
		!tokenEqual(r.PostFormValue("csrf"), c.seal.csrfToken("login", ck.Value)) {
		c.showLogin(w, r, http.StatusForbidden, r.PostFormValue("next"), "", "The sign-in form has expired. Enter the key again.")
		return
	}
	key := strings.TrimSpace(r.PostFormValue("key"))
	next := r.PostFormValue("next")
	if key == "" {
		c.showLogin(w, r, http.StatusUnprocessableEntity, next, "", "Enter an API key.")
		return
	}
	// Guessing keys here costs what it costs on the API: the same count of
	// failures per address, checked before the key is looked up.
	ip := c.opts.ClientAddr.ClientIP(r)
	if wait, blocked := c.opts.AuthFailures.Blocked(ip); blocked {
		secs := strconv.Itoa(int(wait.Seconds()))
		w.Header().Set("Retry-After", secs)
		c.showLogin(w, r, http.StatusTooManyRequests, next, "", "Too many failed sign-ins from your address. Wait "+secs+" seconds and try again.")
		return
	}
	token, _, err := c.svc.StartSession(r.Context(), key, c.opts.SessionTTL)
	if err != nil {
		if phonebook.IsCode(err, phonebook.ECodeUnauthorized) {
			c.opts.AuthFailures.Fail(ip)
			c.showLogin(w, r, http.StatusUnauthorized, next, "", "That API key is not valid: it is unknown or revoked.")
			return
		}
		c.errorPage(w, r, nil, err)
		return
	}
	http.SetCookie(w, c.cookie(r, sessionCookie, c.seal.seal(token), int(c.opts.SessionTTL.Seconds())))
	http.SetCookie(w, c.cookie(r, loginCookie, "", -1))
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// handleLogout ends the session in the store, so the cookie, and any copy
// of it, is refused by every node from now on.
func (c *Console) handleLogout(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.svc.EndSession(r.Context(), s.token); err != nil {
		// Not signed out: say so rather than drop the cookie of a session
		// that would still work.
		c.errorPage(w, r, s, err)
		return
	}
	http.SetCookie(w, c.cookie(r, sessionCookie, "", -1))
	c.imports.forgetSession(s.token)
	http.Redirect(w, r, "/console/login?msg=signed-out", http.StatusSeeOther)
}

// --- views of domain values ---

// phoneView is a phone as the pages show it.
type phoneView struct {
	*phonebook.Phone
	Formatted string
	Flag      string
	OptedOut  bool
}

func viewPhone(p *phonebook.Phone, region string) *phoneView {
	return &phoneView{Phone: p, Formatted: formatNumber(p, region), Flag: flag(p.Region), OptedOut: p.Consent.Type == phonebook.ConsentStop}
}

func viewPhones(ps []*phonebook.Phone, region string) []*phoneView {
	out := make([]*phoneView, len(ps))
	for i, p := range ps {
		out[i] = viewPhone(p, region)
	}
	return out
}

// --- search ---

type searchPage struct {
	base
	Q        string
	Number   string // the E.164 form, when Q reads as a number
	Results  []*searchResult
	Recent   bool // no query: the latest customers
	Customer customerForm
}

type searchResult struct {
	Customer *phonebook.Customer
	Why      []string     // what matched: number, id, external id, name
	Matched  []*phoneView // the phones holding the number searched for
	Primary  *phoneView
	OptedOut int // phones whose number said STOP
}

type customerForm struct {
	Name, ExternalID string
	Errors           *formErrors
}

// maxQuery bounds the search box.
const maxQuery = 200

func (c *Console) handleSearch(w http.ResponseWriter, r *http.Request, s *session) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > maxQuery {
		q = q[:maxQuery]
	}
	p := &searchPage{base: base{Title: "Search", Nav: "search"}, Q: q}
	if err := c.search(s, p); err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	if q != "" {
		p.Title = "Search: " + q
	}
	// htmx asks for the results alone as the user types; a history restore
	// wants the whole page.
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true" {
		c.renderTemplate(w, r, s, http.StatusOK, "search", "results", p)
		return
	}
	c.render(w, r, s, http.StatusOK, "search", p)
}

// search fills p's results: the customers holding Q read as a phone number
// (any format, the tenant's region), the customer whose id or uuid Q is,
// the one whose external id Q is, and those whose name holds Q.
func (c *Console) search(s *session, p *searchPage) error {
	ctx, region := s.ctx, s.auth.Tenant.DefaultRegion
	byID := map[int64]*searchResult{}
	add := func(cu *phonebook.Customer, why string, matched *phonebook.Phone) {
		res := byID[cu.ID]
		if res == nil {
			res = &searchResult{Customer: cu}
			for _, ph := range cu.Phones {
				if ph.IsPrimary {
					res.Primary = viewPhone(ph, region)
				}
				if ph.Consent.Type == phonebook.ConsentStop {
					res.OptedOut++
				}
			}
			byID[cu.ID] = res
			p.Results = append(p.Results, res)
		}
		if len(res.Why) == 0 || res.Why[len(res.Why)-1] != why {
			res.Why = append(res.Why, why)
		}
		if matched != nil {
			res.Matched = append(res.Matched, viewPhone(matched, region))
		}
	}
	if p.Q == "" {
		p.Recent = true
		page, err := c.svc.FindCustomers(ctx, phonebook.CustomerFilter{Sort: phonebook.SortCreatedDesc, Limit: 20})
		if err != nil {
			return err
		}
		for _, cu := range page.Customers {
			add(cu, "", nil)
		}
		return nil
	}
	if n, err := c.svc.NormalizeNumber(ctx, p.Q, ""); err == nil {
		p.Number = n.E164
		matches, err := c.svc.LookupNumber(ctx, p.Q, "")
		if err != nil {
			return err
		}
		for _, m := range matches {
			add(m.Customer, "number", m.Phone)
		}
	} else if !isInputError(err) {
		return err
	}
	if ref, err := phonebook.ParseCustomerRef(p.Q); err == nil {
		cu, err := c.svc.FindCustomer(ctx, ref)
		switch {
		case err == nil:
			add(cu, "id", nil)
		case !phonebook.IsCode(err, phonebook.ECodeNotFound):
			return err
		}
	}
	page, err := c.svc.FindCustomers(ctx, phonebook.CustomerFilter{ExternalID: p.Q, Limit: 10})
	if err != nil {
		return err
	}
	for _, cu := range page.Customers {
		add(cu, "external id", nil)
	}
	page, err = c.svc.FindCustomers(ctx, phonebook.CustomerFilter{Q: p.Q, Sort: phonebook.SortName, Limit: 50})
	if err != nil {
		return err
	}
	for _, cu := range page.Customers {
		add(cu, "name", nil)
	}
	return nil
}

// isInputError reports whether err is about what the caller wrote (so a
// search just does not read it as a number), not a failure.
func isInputError(err error) bool {
	switch phonebook.ErrorCode(err) {
	case phonebook.ECodeValidation, phonebook.ECodeInvalidNumber:
		return true
	}
	return false
}

func (c *Console) handleCustomerCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := customerForm{Name: r.PostFormValue("name"), ExternalID: r.PostFormValue("external_id")}
	cu, err := c.svc.CreateCustomer(s.ctx, phonebook.CustomerInput{Name: f.Name, ExternalID: f.ExternalID})
	if err != nil {
		fe, ok := formErrorsOf(err, "new-")
		if !ok {
			c.errorPage(w, r, s, err)
			return
		}
		f.Errors = fe
		p := &searchPage{base: base{Title: "New customer", Nav: "search"}, Customer: f, Recent: true}
		if err := c.search(s, p); err != nil {
			c.errorPage(w, r, s, err)
			return
		}
		c.render(w, r, s, http.StatusUnprocessableEntity, "search", p)
		return
	}
	http.Redirect(w, r, customerURL(cu.ID)+"?done=customer-created", http.StatusSeeOther)
}

func customerURL(id int64) string { return "/console/customers/" + strconv.FormatInt(id, 10) }

func phoneURL(cid, pid int64) string {
	return customerURL(cid) + "/phones/" + strconv.FormatInt(pid, 10)
}

// --- customer ---

type customerPage struct {
	base
	Customer *phonebook.Customer
	Phones   []*phoneView
	OptedOut []*phoneView
	Types    []*phonebook.PhoneType
	Add      phoneForm
	Region   string
}

// phoneForm is the add and edit form of a phone.
type phoneForm struct {
	Number, Country, Extension, Type, Label, Notes string
	ConsentType, ConsentSource, LineKind, Status   string
	Primary                                        bool
	Version                                        int64
	Errors                                         *formErrors
}

func (c *Console) loadCustomer(s *session, r *http.Request) (*phonebook.Customer, error) {
	ref, err := phonebook.ParseCustomerRef(r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return c.svc.FindCustomer(s.ctx, ref)
}

func (c *Console) customerPage(s *session, cu *phonebook.Customer) (*customerPage, error) {
	types, err := c.svc.PhoneTypes(s.ctx)
	if err != nil {
		return nil, err
	}
	region := s.auth.Tenant.DefaultRegion
	p := &customerPage{
		base:     base{Title: customerTitle(cu), Nav: "search"},
		Customer: cu, Phones: viewPhones(cu.Phones, region), Types: types, Region: region,
		Add: phoneForm{Type: "mobile", ConsentType: phonebook.ConsentNone},
	}
	for _, ph := range p.Phones {
		if ph.OptedOut {
			p.OptedOut = append(p.OptedOut, ph)
		}
	}
	return p, nil
}

func customerTitle(cu *phonebook.Customer) string {
	if cu.Name != "" {
		return cu.Name
	}
	if cu.ExternalID != "" {
		return "Customer " + cu.ExternalID
	}
	return "Customer " + strconv.FormatInt(cu.ID, 10)
}

func (c *Console) handleCustomer(w http.ResponseWriter, r *http.Request, s *session) {
	cu, err := c.loadCustomer(s, r)
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	p, err := c.customerPage(s, cu)
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "customer", p)
}

// readPhoneForm reads the add/edit form of a phone.
func readPhoneForm(r *http.Request) phoneForm {
	v, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	return phoneForm{
		Number: r.PostFormValue("number"), Country: strings.TrimSpace(r.PostFormValue("country")),
		Extension: strings.TrimSpace(r.PostFormValue("extension")), Type: r.PostFormValue("type"),
		Label: r.PostFormValue("label"), Notes: r.PostFormValue("notes"),
		ConsentType: r.PostFormValue("consent_type"), ConsentSource: r.PostFormValue("consent_source"),
		LineKind: r.PostFormValue("line_kind"), Status: r.PostFormValue("status"),
		Primary: r.PostFormValue("primary") != "", Version: v,
	}
}

func (c *Console) handlePhoneAdd(w http.ResponseWriter, r *http.Request, s *session) {
	ref, err := phonebook.ParseCustomerRef(r.PathValue("id"))
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	f := readPhoneForm(r)
	ph, err := c.svc.AddPhone(s.ctx, ref, phonebook.PhoneInput{
		Number: f.Number, Country: f.Country, Extension: f.Extension, Type: f.Type, Label: f.Label,
		IsPrimary: f.Primary, Notes: f.Notes, LineKind: f.LineKind,
		ConsentType: f.ConsentType, ConsentSource: f.ConsentSource,
	})
	if err != nil {
		fe, ok := formErrorsOf(err, "")
		if !ok {
			c.errorPage(w, r, s, err)
			return
		}
		cu, err := c.svc.FindCustomer(s.ctx, ref)
		if err != nil {
			c.errorPage(w, r, s, err)
			return
		}
		p, err := c.customerPage(s, cu)
		if err != nil {
			c.errorPage(w, r, s, err)
			return
		}
		f.Errors = fe
		p.Add = f
		p.Title = "Error: " + p.Title
		c.render(w, r, s, http.StatusUnprocessableEntity, "customer", p)
		return
	}
	http.Redirect(w, r, customerURL(ph.CustomerID)+"?done=phone-added#phone-"+strconv.FormatInt(ph.ID, 10), http.StatusSeeOther)
}

// --- one phone ---

type phonePage struct {
	base
	Customer *phonebook.Customer
	Phone    *phoneView
	Types    []*phonebook.PhoneType
	Edit     phoneForm
	Consent  []*phonebook.ConsentRecord
}

// loadPhone returns the customer of the path and its phone {phoneId}.
func (c *Console) loadPhone(s *session, r *http.Request) (*phonebook.Customer, *phonebook.Phone, error) {
	cu, err := c.loadCustomer(s, r)
	if err != nil {
		return nil, nil, err
	}
	pref, err := phonebook.ParseCustomerRef(r.PathValue("phoneId"))
	if err != nil {
		return nil, nil, phonebook.Errorf(phonebook.ECodeNotFound, "phoneId", "phone not found")
	}
	for _, ph := range cu.Phones {
		if (pref.ID != 0 && ph.ID == pref.ID) || (pref.UUID != "" && ph.UUID == pref.UUID) {
			return cu, ph, nil
		}
	}
	return nil, nil, phonebook.Errorf(phonebook.ECodeNotFound, "phoneId", "phone not found")
}

func formOf(ph *phonebook.Phone) phoneForm {
	return phoneForm{
		Number: ph.Raw, Extension: ph.Extension, Type: ph.Type, Label: ph.Label, Notes: ph.Notes,
		ConsentType: ph.Consent.Type, ConsentSource: ph.Consent.Source, Status: ph.Status,
		Primary: ph.IsPrimary, Version: ph.Version,
	}
}

func (c *Console) phonePage(s *session, cu *phonebook.Customer, ph *phonebook.Phone) (*phonePage, error) {
	types, err := c.svc.PhoneTypes(s.ctx)
	if err != nil {
		return nil, err
	}
	consent, err := c.svc.ConsentHistory(s.ctx, ph.E164, "")
	if err != nil {
		return nil, err
	}
	v := viewPhone(ph, s.auth.Tenant.DefaultRegion)
	return &phonePage{
		base:     base{Title: v.Formatted + " · " + customerTitle(cu), Nav: "search"},
		Customer: cu, Phone: v, Types: types, Edit: formOf(ph), Consent: consent,
	}, nil
}

func (c *Console) handlePhone(w http.ResponseWriter, r *http.Request, s *session) {
	cu, ph, err := c.loadPhone(s, r)
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	p, err := c.phonePage(s, cu, ph)
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "phone", p)
}

// phoneUpdate returns the changes the edit form f makes to ph: only the
// fields that differ, so saving an unchanged form writes nothing.
func phoneUpdate(ph *phonebook.Phone, f phoneForm) phonebook.PhoneUpdate {
	var u phonebook.PhoneUpdate
	str := func(dst **string, form, have string) {
		if form != have {
			v := form
			*dst = &v
		}
	}
	if strings.TrimSpace(f.Number) != ph.Raw || f.Country != "" {
		n := f.Number
		u.Number = &n
		if f.Country != "" {
			c := f.Country
			u.Country = &c
		}
		ext := f.Extension
		u.Extension = &ext
	} else {
		str(&u.Extension, f.Extension, ph.Extension)
	}
	str(&u.Type, f.Type, ph.Type)
	str(&u.Label, strings.TrimSpace(f.Label), ph.Label)
	str(&u.Notes, f.Notes, ph.Notes)
	str(&u.Status, f.Status, ph.Status)
	str(&u.ConsentType, f.ConsentType, ph.Consent.Type)
	str(&u.ConsentSource, f.ConsentSource, ph.Consent.Source)
	if f.LineKind != "" {
		lk := f.LineKind
		u.LineKind = &lk
	}
	return u
}

func (c *Console) handlePhoneEdit(w http.ResponseWriter, r *http.Request, s *session) {
	cu, ph, err := c.loadPhone(s, r)
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	f := readPhoneForm(r)
	upd := phoneUpdate(ph, f)
	if upd == (phonebook.PhoneUpdate{}) {
		http.Redirect(w, r, phoneURL(cu.ID, ph.ID)+"?done=unchanged", http.StatusSeeOther)
		return
	}
	_, err = c.svc.UpdatePhone(s.ctx, phonebook.CustomerRef{ID: cu.ID}, phonebook.CustomerRef{ID: ph.ID}, upd, f.Version)
	if err != nil {
		fe, ok := formErrorsOf(err, "")
		if !ok {
			c.errorPage(w, r, s, err)
			return
		}
		if phonebook.IsCode(err, phonebook.ECodePrecondition) {
			fe = &formErrors{}
			fe.add("", "Someone changed this phone while you were editing it. The form below shows your changes; the phone above shows what is stored now. Save again to overwrite.")
		}
		// Show the phone as stored now, with the form as the user wrote it.
		cu, ph, err := c.loadPhone(s, r)
		if err != nil {
			c.errorPage(w, r, s, err)
			return
		}
		p, err := c.phonePage(s, cu, ph)
		if err != nil {
			c.errorPage(w, r, s, err)
			return
		}
		f.Errors, f.Version = fe, ph.Version
		p.Edit = f
		p.Title = "Error: " + p.Title
		c.render(w, r, s, http.StatusUnprocessableEntity, "phone", p)
		return
	}
	http.Redirect(w, r, customerURL(cu.ID)+"?done=phone-saved#phone-"+strconv.FormatInt(ph.ID, 10), http.StatusSeeOther)
}

// phoneAction runs a one-button action on the phone of the path and goes
// back to the customer page.
func (c *Console) phoneAction(w http.ResponseWriter, r *http.Request, s *session, done string, act func(cref, pref phonebook.CustomerRef, version int64) error) {
	cref, err := phonebook.ParseCustomerRef(r.PathValue("id"))
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	pref, err := phonebook.ParseCustomerRef(r.PathValue("phoneId"))
	if err != nil {
		c.errorPage(w, r, s, phonebook.Errorf(phonebook.ECodeNotFound, "phoneId", "phone not found"))
		return
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err := act(cref, pref, version); err != nil {
		if phonebook.IsCode(err, phonebook.ECodePrecondition) {
			err = phonebook.Errorf(phonebook.ECodePrecondition, "", "someone changed this phone in the meantime: go back, reload the customer and try again")
		}
		c.errorPage(w, r, s, err)
		return
	}
	target := "/console/customers/" + url.PathEscape(r.PathValue("id")) + "?done=" + done
	if done != "phone-deleted" {
		target += "#phone-" + url.PathEscape(r.PathValue("phoneId"))
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (c *Console) handlePhoneDelete(w http.ResponseWriter, r *http.Request, s *session) {
	c.phoneAction(w, r, s, "phone-deleted", func(cref, pref phonebook.CustomerRef, version int64) error {
		return c.svc.DeletePhone(s.ctx, cref, pref, version)
	})
}

func (c *Console) handlePhonePrimary(w http.ResponseWriter, r *http.Request, s *session) {
	c.phoneAction(w, r, s, "primary", func(cref, pref phonebook.CustomerRef, version int64) error {
		yes := true
		_, err := c.svc.UpdatePhone(s.ctx, cref, pref, phonebook.PhoneUpdate{IsPrimary: &yes}, version)
		return err
	})
}

// --- history ---

type historyPage struct {
	base
	Customer *phonebook.Customer
	Phone    *phoneView // nil: the customer's history
	PhoneID  string     // of a phone that no longer exists
	Events   []*eventView
	Next     string // URL of the next page
}

type eventView struct {
	*phonebook.Event
	Label    string
	Subject  string
	Changes  []change
	PhoneURL string
}

// historyPageSize is how many changes a history page shows.
const historyPageSize = 200

func (c *Console) handleHistory(w http.ResponseWriter, r *http.Request, s *session) {
	cu, err := c.loadCustomer(s, r)
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	p := &historyPage{base: base{Title: "History · " + customerTitle(cu), Nav: "search"}, Customer: cu}
	var pref *phonebook.CustomerRef
	if id := r.PathValue("phoneId"); id != "" {
		ref, err := phonebook.ParseCustomerRef(id)
		if err != nil {
			c.errorPage(w, r, s, phonebook.Errorf(phonebook.ECodeNotFound, "phoneId", "phone not found"))
			return
		}
		pref = &ref
		p.PhoneID = id
		for _, ph := range cu.Phones {
			if ph.ID == ref.ID || (ref.UUID != "" && ph.UUID == ref.UUID) {
				p.Phone = viewPhone(ph, s.auth.Tenant.DefaultRegion)
			}
		}
		if p.Phone != nil {
			p.Title = "History · " + p.Phone.Formatted + " · " + customerTitle(cu)
		}
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	events, err := c.svc.History(s.ctx, phonebook.CustomerRef{ID: cu.ID}, pref, max(after, 0), historyPageSize)
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	// Phones by id, to name them where an event has only ids (the primary
	// moved from one phone to another).
	numbers := map[int64]string{}
	for _, ph := range cu.Phones {
		numbers[ph.ID] = ph.E164
	}
	for _, e := range events {
		if e.PhoneID != 0 && numbers[e.PhoneID] == "" {
			numbers[e.PhoneID] = summary(e)
		}
	}
	for _, e := range events {
		v := &eventView{Event: e, Label: eventLabel(e.Type), Subject: summary(e), Changes: diff(e.Before, e.After)}
		if e.Type == phonebook.EventPrimaryChanged {
			v.Changes = primaryChange(e, numbers)
		}
		if e.PhoneID != 0 && pref == nil {
			v.PhoneURL = phoneURL(cu.ID, e.PhoneID) + "/history"
		}
		p.Events = append(p.Events, v)
	}
	if len(events) == historyPageSize {
		p.Next = r.URL.Path + "?after=" + strconv.FormatInt(events[len(events)-1].Seq, 10)
	}
	c.render(w, r, s, http.StatusOK, "history", p)
}

// primaryChange describes a primary_changed event with the phones'
// numbers rather than their ids.
func primaryChange(e *phonebook.Event, numbers map[int64]string) []change {
	name := func(raw []byte) string {
		id, _ := strconv.ParseInt(flatten(raw)["primary_phone_id"], 10, 64)
		if id == 0 {
			return ""
		}
		if n := numbers[id]; n != "" {
			return n
		}
		return "phone " + strconv.FormatInt(id, 10)
	}
	return []change{{Field: "primary phone", Before: name(e.Before), After: name(e.After)}}
}

// --- phone types ---

type typesPage struct {
	base
	Types  []*phonebook.PhoneType
	Name   string
	Errors *formErrors
}

func (c *Console) typesPage(w http.ResponseWriter, r *http.Request, s *session, status int, p *typesPage) {
	types, err := c.svc.PhoneTypes(s.ctx)
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	p.base.Title, p.base.Nav, p.Types = "Phone types", "types", types
	c.render(w, r, s, status, "phonetypes", p)
}

func (c *Console) handlePhoneTypes(w http.ResponseWriter, r *http.Request, s *session) {
	c.typesPage(w, r, s, http.StatusOK, &typesPage{})
}

func (c *Console) handlePhoneTypeCreate(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PostFormValue("name")
	if _, err := c.svc.CreatePhoneType(s.ctx, name); err != nil {
		fe, ok := formErrorsOf(err, "type-")
		if !ok {
			c.errorPage(w, r, s, err)
			return
		}
		c.typesPage(w, r, s, http.StatusUnprocessableEntity, &typesPage{Name: name, Errors: fe})
		return
	}
	http.Redirect(w, r, "/console/phone-types?done=type-added", http.StatusSeeOther)
}

func (c *Console) handlePhoneTypeDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.svc.DeletePhoneType(s.ctx, r.PathValue("name")); err != nil {
		fe, ok := actionErrorsOf(err)
		if !ok {
			c.errorPage(w, r, s, err)
			return
		}
		c.typesPage(w, r, s, http.StatusConflict, &typesPage{Errors: fe})
		return
	}
	http.Redirect(w, r, "/console/phone-types?done=type-deleted", http.StatusSeeOther)
}

// --- webhooks ---

type webhooksPage struct {
	base
	Webhooks []*phonebook.Webhook
}

type webhookPage struct {
	base
	Webhook    *phonebook.Webhook
	Deliveries []*phonebook.Delivery
}

func (c *Console) handleWebhooks(w http.ResponseWriter, r *http.Request, s *session) {
	hooks, err := c.svc.Webhooks(s.ctx)
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "webhooks", &webhooksPage{base: base{Title: "Webhooks", Nav: "webhooks"}, Webhooks: hooks})
}

func pathInt(r *http.Request, name, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, phonebook.Errorf(phonebook.ECodeNotFound, name, "%s not found", what)
	}
	return id, nil
}

func (c *Console) handleWebhook(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := pathInt(r, "id", "webhook")
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	hook, err := c.svc.Webhook(s.ctx, id)
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	ds, err := c.svc.Deliveries(s.ctx, id, 100)
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "webhook", &webhookPage{base: base{Title: "Webhook " + hook.URL, Nav: "webhooks"}, Webhook: hook, Deliveries: ds})
}

func (c *Console) handleRedeliver(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := pathInt(r, "id", "webhook")
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	did, err := pathInt(r, "deliveryId", "delivery")
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	if _, err := c.svc.Redeliver(s.ctx, id, did); err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/console/webhooks/"+strconv.FormatInt(id, 10)+"?done=redelivered#delivery-"+strconv.FormatInt(did, 10), http.StatusSeeOther)
}

// --- API keys ---

// keyFormats are the formats the Keys page offers: phonebook's own and
// Ticket Evolution's v9 (a 32-character token and a 40-character signing
// secret, the shape its official clients check before sending anything).
var keyFormats = []string{"standard", phonebook.KeyFormatV9}

// keysPage lists the tenant's keys and holds the create form; NewKey and
// the secrets are set only on the answer to a successful create, the one
// time the secrets are shown.
type keysPage struct {
	base
	Keys          []*phonebook.APIKey
	SessionKeyID  int64
	Name          string
	Scopes        map[string]bool
	Format        string
	Formats       []string
	AllScopes     []string
	Errors        *formErrors
	NewKey        *phonebook.APIKey
	Secret        string
	SigningSecret string
}

func (c *Console) keysPage(w http.ResponseWriter, r *http.Request, s *session, status int, p *keysPage) {
	keys, err := c.svc.TenantKeys(s.ctx)
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	p.base.Title, p.base.Nav, p.Keys = "API keys", "keys", keys
	p.SessionKeyID, p.Formats, p.AllScopes = s.auth.Key.ID, keyFormats, phonebook.AllScopes
	if p.Format == "" {
		p.Format = "standard"
	}
	c.render(w, r, s, status, "keys", p)
}

func (c *Console) handleKeys(w http.ResponseWriter, r *http.Request, s *session) {
	c.keysPage(w, r, s, http.StatusOK, &keysPage{})
}

// handleKeyCreate creates a key in the session's tenant and answers with
// the page showing its secrets, not a redirect: they must never be in a
// URL, and the page is sent no-store, so this answer is the only place
// they appear.
func (c *Console) handleKeyCreate(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PostFormValue("name")
	format := r.PostFormValue("format")
	scopes := r.PostForm["scopes"]
	in := phonebook.KeyInput{Name: name, Scopes: scopes}
	switch format {
	case "", "standard":
	default:
		// Anything else goes to the service, which names the formats it knows.
		in.Format = format
	}
	k, secret, err := c.svc.CreateTenantKey(s.ctx, in)
	if err != nil {
		fe, ok := formErrorsOf(err, "key-")
		if !ok {
			c.errorPage(w, r, s, err)
			return
		}
		checked := map[string]bool{}
		for _, sc := range scopes {
			checked[sc] = true
		}
		c.keysPage(w, r, s, http.StatusUnprocessableEntity, &keysPage{Name: name, Scopes: checked, Format: format, Errors: fe})
		return
	}
	c.keysPage(w, r, s, http.StatusCreated, &keysPage{
		base:   base{Flash: "Key created."},
		NewKey: k, Secret: secret, SigningSecret: k.SigningSecret,
	})
}

func (c *Console) handleKeyRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := pathInt(r, "id", "key")
	if err != nil {
		c.errorPage(w, r, s, err)
		return
	}
	if err := c.svc.RevokeTenantKey(s.ctx, id); err != nil {
		fe, ok := actionErrorsOf(err)
		if !ok {
			c.errorPage(w, r, s, err)
			return
		}
		c.keysPage(w, r, s, http.StatusConflict, &keysPage{Errors: fe})
		return
	}
	http.Redirect(w, r, "/console/keys?done=key-revoked", http.StatusSeeOther)
}
