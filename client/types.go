package client

import "time"

// Customer statuses.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
)

// Consent types.
const (
	ConsentNone    = "none"
	ConsentWritten = "written"
	ConsentExpress = "express"
	ConsentStop    = "stop"
)

// Sort orders of ListCustomers.
const (
	SortCreatedAsc  = "created_at"
	SortCreatedDesc = "-created_at"
	SortName        = "name"
)

// Customer is a tenant's customer, with its phones (oldest first).
type Customer struct {
	ID         int64     `json:"id"`
	UUID       string    `json:"uuid"`
	ExternalID string    `json:"external_id,omitempty"`
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Version grows by one with every change of the customer or its
	// phones; the ETag is this number in quotes.
	Version int64 `json:"version"`
	// Phones is nil for the customer of a PhoneMatch when the server gives
	// it without its phones.
	Phones []Phone `json:"phones"`

	// ETag is the ETag header of the answer that carried the customer
	// (empty for customers of lists: use ETag(c.Version)).
	ETag string `json:"-"`
}

// Consent is whether the customer agreed to be contacted at a phone.
type Consent struct {
	Type      string     `json:"type"`
	Source    string     `json:"source,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// Phone is one number of one customer, as given (Raw) and as
// libphonenumber reads it.
type Phone struct {
	ID             int64     `json:"id"`
	UUID           string    `json:"uuid"`
	CustomerID     int64     `json:"customer_id"`
	Raw            string    `json:"raw"`
	E164           string    `json:"e164"`
	CountryCode    int       `json:"country_code"`
	NationalNumber string    `json:"national_number"`
	National       string    `json:"national"`
	International  string    `json:"international"`
	Region         string    `json:"region"`
	LineType       string    `json:"line_type"`
	Valid          bool      `json:"valid"`
	Extension      string    `json:"extension"`
	Type           string    `json:"type"`
	Label          string    `json:"label"`
	IsPrimary      bool      `json:"is_primary"`
	Notes          string    `json:"notes"`
	Status         string    `json:"status"`
	Consent        Consent   `json:"consent"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	Version        int64     `json:"version"`

	// ETag is the ETag header of the answer that carried the phone (empty
	// for phones of lists and batches: use ETag(p.Version)).
	ETag string `json:"-"`
}

// PhoneType is an entry of the tenant's phone type registry.
type PhoneType struct {
	Name      string    `json:"name"`
	BuiltIn   bool      `json:"built_in"`
	CreatedAt time.Time `json:"created_at"`
}

// PhoneMatch is a phone found by number, with its customer.
type PhoneMatch struct {
	Phone    Phone    `json:"phone"`
	Customer Customer `json:"customer"`
}

// Lookup answers LookupNumber: the number as E.164 and the phones holding
// it, oldest first.
type Lookup struct {
	E164 string       `json:"e164"`
	Data []PhoneMatch `json:"data"`
}

// CustomerInput is a new customer. Empty fields are not sent (status
// defaults to active).
type CustomerInput struct {
	ExternalID string `json:"external_id,omitempty"`
	Name       string `json:"name,omitempty"`
	Status     string `json:"status,omitempty"`
}

// CustomerPatch changes the fields that are not nil; a pointer to ""
// clears external_id or name.
type CustomerPatch struct {
	ExternalID *string `json:"external_id,omitempty"`
	Name       *string `json:"name,omitempty"`
	Status     *string `json:"status,omitempty"`
}

// ConsentInput is the consent of a new or replaced phone.
type ConsentInput struct {
	Type   string `json:"type,omitempty"`
	Source string `json:"source,omitempty"`
}

// ConsentPatch changes the consent fields that are not nil.
type ConsentPatch struct {
	Type   *string `json:"type,omitempty"`
	Source *string `json:"source,omitempty"`
}

// PhoneInput is a phone to add. Number is required, in any format; it is
// read with CountryCode (a region such as "US" or a calling code such as
// "+1") or the tenant's default region when it has no "+". Empty fields
// are not sent: the server's defaults apply (type other, status active,
// consent none).
type PhoneInput struct {
	Number      string        `json:"number"`
	CountryCode string        `json:"country_code,omitempty"`
	Extension   string        `json:"extension,omitempty"`
	Type        string        `json:"type,omitempty"`
	Label       string        `json:"label,omitempty"`
	IsPrimary   bool          `json:"is_primary,omitempty"`
	Notes       string        `json:"notes,omitempty"`
	Status      string        `json:"status,omitempty"`
	LineKind    string        `json:"line_kind,omitempty"`
	Consent     *ConsentInput `json:"consent,omitempty"`
}

// PhonePatch changes the fields that are not nil (PATCH); a pointer to ""
// clears country_code, extension, label, notes or consent.source.
type PhonePatch struct {
	Number      *string       `json:"number,omitempty"`
	CountryCode *string       `json:"country_code,omitempty"`
	Extension   *string       `json:"extension,omitempty"`
	Type        *string       `json:"type,omitempty"`
	Label       *string       `json:"label,omitempty"`
	IsPrimary   *bool         `json:"is_primary,omitempty"`
	Notes       *string       `json:"notes,omitempty"`
	Status      *string       `json:"status,omitempty"`
	LineKind    *string       `json:"line_kind,omitempty"`
	Consent     *ConsentPatch `json:"consent,omitempty"`
}

// PhoneReplace is the whole phone (PUT): Number is required; an empty
// Type becomes other, Status active, and CountryCode, Extension, Label and
// Notes empty. IsPrimary, LineKind and Consent stay as they are when nil
// or empty.
type PhoneReplace struct {
	Number      string        `json:"number"`
	CountryCode string        `json:"country_code,omitempty"`
	Extension   string        `json:"extension,omitempty"`
	Type        string        `json:"type,omitempty"`
	Label       string        `json:"label,omitempty"`
	IsPrimary   *bool         `json:"is_primary,omitempty"`
	Notes       string        `json:"notes,omitempty"`
	Status      string        `json:"status,omitempty"`
	LineKind    string        `json:"line_kind,omitempty"`
	Consent     *ConsentInput `json:"consent,omitempty"`
}

// BatchRecord is one record of BatchPhones: a customer, by CustomerID (the
// integer id or the uuid) or ExternalID, exactly one, and its phone,
// matched on number + extension (created when the customer does not have
// it, else updated with the fields given).
type BatchRecord struct {
	CustomerID string `json:"customer_id,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	PhoneInput
}

// Batch record statuses.
const (
	BatchCreated = "created"
	BatchUpdated = "updated"
	BatchError   = "error"
)

// BatchResult is the outcome of one record, in input order.
type BatchResult struct {
	Index  int    `json:"index"`
	Status string `json:"status"` // BatchCreated, BatchUpdated or BatchError
	Phone  *Phone `json:"phone,omitempty"`
	// Error is the record's problem: Instance is records/N and the fields
	// are prefixed records[N].
	Error *Error `json:"error,omitempty"`
}

// BatchCounts sums the results of a batch.
type BatchCounts struct {
	Total   int `json:"total"`
	Created int `json:"created"`
	Updated int `json:"updated"`
	Failed  int `json:"failed"`
}

// BatchResponse answers BatchPhones.
type BatchResponse struct {
	Results []BatchResult `json:"results"`
	Counts  BatchCounts   `json:"counts"`
}

// ListCustomersParams filter and page ListCustomers; zero fields are not
// sent.
type ListCustomersParams struct {
	ExternalID string // exactly this external_id
	Phone      string // customers holding this number, in any format
	Q          string // name contains this text, case-insensitive
	Status     string // StatusActive or StatusInactive
	Sort       string // SortCreatedAsc (server default), SortCreatedDesc, SortName
	Limit      int    // page size, 1 to 500 (server default 50)
	Cursor     string // NextCursor of the previous page, with the same Sort
}

// CustomerPage is one page of customers.
type CustomerPage struct {
	Data       []Customer `json:"data"`
	NextCursor string     `json:"next_cursor"` // "" on the last page
	HasMore    bool       `json:"has_more"`
}

// Health is the answer of /healthz and /readyz.
type Health struct {
	Status string `json:"status"` // ok, ready (or unavailable, in an *Error)
}
