package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

func customerPath(id string) string { return "/v1/customers/" + url.PathEscape(id) }

func phonePath(customerID, phoneID string) string {
	return customerPath(customerID) + "/phones/" + url.PathEscape(phoneID)
}

// --- customers ---

// CreateCustomer creates a customer (POST /v1/customers). With
// IdempotencyKey a retry gets the first answer back.
func (c *Client) CreateCustomer(ctx context.Context, in CustomerInput, opts ...RequestOption) (*Customer, error) {
	out := &Customer{}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/customers", body: in, out: out, etag: &out.ETag}, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// GetCustomer returns a customer with its phones; id is its integer id
// (see ID) or its uuid. With IfNoneMatch it returns ErrNotModified while
// the customer is unchanged.
func (c *Client) GetCustomer(ctx context.Context, id string, opts ...RequestOption) (*Customer, error) {
	out := &Customer{}
	if err := c.do(ctx, call{method: http.MethodGet, path: customerPath(id), out: out, etag: &out.ETag}, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// ListCustomers returns one page of customers, each with its phones.
func (c *Client) ListCustomers(ctx context.Context, p ListCustomersParams, opts ...RequestOption) (*CustomerPage, error) {
	q := url.Values{}
	for _, kv := range [...][2]string{
		{"external_id", p.ExternalID}, {"phone", p.Phone}, {"q", p.Q},
		{"status", p.Status}, {"sort", p.Sort}, {"cursor", p.Cursor},
	} {
		if kv[1] != "" {
			q.Set(kv[0], kv[1])
		}
	}
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	out := &CustomerPage{}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/customers", query: q, out: out}, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// IterateCustomers calls fn with every customer matching p, page after
// page from p.Cursor (empty: the first page). An error of fn stops the walk
// and is returned as is; return a sentinel of your own to stop early.
func (c *Client) IterateCustomers(ctx context.Context, p ListCustomersParams, fn func(*Customer) error, opts ...RequestOption) error {
	for {
		page, err := c.ListCustomers(ctx, p, opts...)
		if err != nil {
			return err
		}
		for i := range page.Data {
			if err := fn(&page.Data[i]); err != nil {
				return err
			}
		}
		if !page.HasMore || page.NextCursor == "" {
			return nil
		}
		if page.NextCursor == p.Cursor {
			return errors.New("phonebook: list customers: the server answered the same cursor again")
		}
		p.Cursor = page.NextCursor
	}
}

// UpdateCustomer changes the fields of patch that are set (PATCH). With
// IfMatch a stale version is an *Error with status 412.
func (c *Client) UpdateCustomer(ctx context.Context, id string, patch CustomerPatch, opts ...RequestOption) (*Customer, error) {
	out := &Customer{}
	if err := c.do(ctx, call{method: http.MethodPatch, path: customerPath(id), body: patch, out: out, etag: &out.ETag}, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteCustomer deletes a customer and its phones (IfMatch honoured).
func (c *Client) DeleteCustomer(ctx context.Context, id string, opts ...RequestOption) error {
	return c.do(ctx, call{method: http.MethodDelete, path: customerPath(id)}, opts)
}

// --- phones ---

// AddPhone adds a phone to customer id (POST /v1/customers/{id}/phones).
func (c *Client) AddPhone(ctx context.Context, customerID string, in PhoneInput, opts ...RequestOption) (*Phone, error) {
	out := &Phone{}
	if err := c.do(ctx, call{method: http.MethodPost, path: customerPath(customerID) + "/phones", body: in, out: out, etag: &out.ETag}, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// ListPhones returns the phones of a customer, oldest first.
func (c *Client) ListPhones(ctx context.Context, customerID string, opts ...RequestOption) ([]Phone, error) {
	var out struct {
		Data []Phone `json:"data"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: customerPath(customerID) + "/phones", out: &out}, opts); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// GetPhone returns one phone of a customer (phoneID: integer id or uuid).
// With IfNoneMatch it returns ErrNotModified while the phone is unchanged.
func (c *Client) GetPhone(ctx context.Context, customerID, phoneID string, opts ...RequestOption) (*Phone, error) {
	out := &Phone{}
	if err := c.do(ctx, call{method: http.MethodGet, path: phonePath(customerID, phoneID), out: out, etag: &out.ETag}, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// UpdatePhone changes the fields of patch that are set (PATCH; IfMatch
// honoured).
func (c *Client) UpdatePhone(ctx context.Context, customerID, phoneID string, patch PhonePatch, opts ...RequestOption) (*Phone, error) {
	out := &Phone{}
	if err := c.do(ctx, call{method: http.MethodPatch, path: phonePath(customerID, phoneID), body: patch, out: out, etag: &out.ETag}, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// ReplacePhone replaces a phone whole (PUT; IfMatch honoured).
func (c *Client) ReplacePhone(ctx context.Context, customerID, phoneID string, in PhoneReplace, opts ...RequestOption) (*Phone, error) {
	out := &Phone{}
	if err := c.do(ctx, call{method: http.MethodPut, path: phonePath(customerID, phoneID), body: in, out: out, etag: &out.ETag}, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// DeletePhone deletes a phone (IfMatch honoured).
func (c *Client) DeletePhone(ctx context.Context, customerID, phoneID string, opts ...RequestOption) error {
	return c.do(ctx, call{method: http.MethodDelete, path: phonePath(customerID, phoneID)}, opts)
}

// BatchPhones upserts 1 to 500 phones across customers (POST
// /v1/phones/batch). A failed record fails alone: the call returns an
// error only when the whole batch is refused; look at each result.
func (c *Client) BatchPhones(ctx context.Context, records []BatchRecord, opts ...RequestOption) (*BatchResponse, error) {
	body := struct {
		Records []BatchRecord `json:"records"`
	}{records}
	out := &BatchResponse{}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/phones/batch", body: body, out: out}, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// LookupNumber finds the phones of the tenant holding number, in any
// format (GET /v1/phones?number=...); countryCode, when not empty, tells
// how to read a number without "+" (a region or a calling code).
func (c *Client) LookupNumber(ctx context.Context, number, countryCode string, opts ...RequestOption) (*Lookup, error) {
	q := url.Values{"number": {number}}
	if countryCode != "" {
		q.Set("country_code", countryCode)
	}
	out := &Lookup{}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/phones", query: q, out: out}, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// --- phone types ---

// ListPhoneTypes returns the tenant's phone type registry.
func (c *Client) ListPhoneTypes(ctx context.Context, opts ...RequestOption) ([]PhoneType, error) {
	var out struct {
		Data []PhoneType `json:"data"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/phone-types", out: &out}, opts); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// CreatePhoneType adds a phone type to the registry (admin scope).
func (c *Client) CreatePhoneType(ctx context.Context, name string, opts ...RequestOption) (*PhoneType, error) {
	body := struct {
		Name string `json:"name"`
	}{name}
	out := &PhoneType{}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/phone-types", body: body, out: out}, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// DeletePhoneType removes a phone type no phone uses (admin scope).
func (c *Client) DeletePhoneType(ctx context.Context, name string, opts ...RequestOption) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/phone-types/" + url.PathEscape(name)}, opts)
}

// --- system ---

// Health calls /healthz: nil while the process serves.
func (c *Client) Health(ctx context.Context, opts ...RequestOption) error {
	var h Health
	return c.do(ctx, call{method: http.MethodGet, path: "/healthz", out: &h}, opts)
}

// Ready calls /readyz: nil while the store answers, else an *Error with
// status 503 (RetryAfter set).
func (c *Client) Ready(ctx context.Context, opts ...RequestOption) error {
	var h Health
	return c.do(ctx, call{method: http.MethodGet, path: "/readyz", out: &h}, opts)
}
