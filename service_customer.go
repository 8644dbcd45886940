package phonebook

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CreateCustomer creates a customer in the caller's tenant.
func (s *Service) CreateCustomer(ctx context.Context, in CustomerInput) (*Customer, error) {
	a, err := caller(ctx, ScopeCustomersWrite)
	if err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = StatusActive
	}
	if err := validateCustomerFields(&in.ExternalID, &in.Name, &in.Status); err != nil {
		return nil, err
	}
	now := s.timestamp()
	c := &Customer{
		TenantID: a.Tenant.ID, ExternalID: in.ExternalID, Name: in.Name, Status: in.Status,
		CreatedAt: now, UpdatedAt: now, Version: 1, Phones: []*Phone{},
	}
	err = s.write(ctx, func(tx Tx) error {
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return err
		}
		return tx.AddEvent(ctx, s.event(a, EventCustomerCreated, c.ID, 0, nil, c))
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// FindCustomer returns a customer of the caller's tenant with its phones.
func (s *Service) FindCustomer(ctx context.Context, ref CustomerRef) (*Customer, error) {
	a, err := caller(ctx, ScopeCustomersRead)
	if err != nil {
		return nil, err
	}
	var c *Customer
	err = s.read(ctx, func(tx Tx) error {
		c, err = tx.FindCustomer(ctx, a.Tenant.ID, ref, false)
		if err != nil {
			return err
		}
		c.Phones, err = tx.FindPhones(ctx, a.Tenant.ID, c.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// FindCustomers lists the caller's customers matching f, one page at a time.
func (s *Service) FindCustomers(ctx context.Context, f CustomerFilter) (*CustomerPage, error) {
	a, err := caller(ctx, ScopeCustomersRead)
	if err != nil {
		return nil, err
	}
	if f.Sort == "" {
		f.Sort = SortCreatedAsc
	}
	var errs ValidationErrors
	switch f.Sort {
	case SortCreatedAsc, SortCreatedDesc, SortName:
	default:
		errs = append(errs, Errorf(ECodeValidation, "sort", "sort must be created_at, -created_at or name"))
	}
	if f.Limit == 0 {
		f.Limit = DefaultPageLimit
	}
	if f.Limit < 1 || f.Limit > MaxPageLimit {
		errs = append(errs, Errorf(ECodeValidation, "limit", "limit must be between 1 and %d", MaxPageLimit))
	}
	if f.Status != "" && f.Status != StatusActive && f.Status != StatusInactive {
		errs = append(errs, Errorf(ECodeValidation, "status", "status must be active or inactive"))
	}
	if f.PhoneE164 != "" {
		n, err := s.parse(a.Tenant, f.PhoneE164, "", "phone")
		if err != nil {
			errs = append(errs, FieldErrors(err)...)
		} else {
			f.PhoneE164 = n.E164
		}
	}
	f.Q = strings.TrimSpace(f.Q)
	if utf8.RuneCountInString(f.Q) > MaxNameLen {
		// A longer q matches no name, and SQLite refuses LIKE patterns
		// over 50,000 bytes.
		errs = append(errs, Errorf(ECodeValidation, "q", "q must be at most %d characters", MaxNameLen))
	}
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	want := f.Limit
	f.Limit++ // one more row tells whether there is a next page
	page := &CustomerPage{}
	err = s.read(ctx, func(tx Tx) error {
		cs, err := tx.FindCustomers(ctx, a.Tenant.ID, f)
		if err != nil {
			return err
		}
		if len(cs) > want {
			cs = cs[:want]
			last := cs[want-1]
			cur := &Cursor{Sort: f.Sort, ID: last.ID}
			if f.Sort == SortName {
				cur.Key = last.Name
			} else {
				cur.Key = strconv.FormatInt(last.CreatedAt.UnixMicro(), 10)
			}
			page.NextCursor = cur.Encode()
		}
		ids := make([]int64, len(cs))
		byID := make(map[int64]*Customer, len(cs))
		for i, c := range cs {
			ids[i] = c.ID
			c.Phones = []*Phone{}
			byID[c.ID] = c
		}
		if len(ids) > 0 {
			phones, err := tx.FindPhones(ctx, a.Tenant.ID, ids...)
			if err != nil {
				return err
			}
			for _, p := range phones {
				if c := byID[p.CustomerID]; c != nil {
					c.Phones = append(c.Phones, p)
				}
			}
		}
		page.Customers = cs
		return nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// UpdateCustomer changes a customer. ifVersion, when not 0, must be the
// customer's current version (If-Match).
func (s *Service) UpdateCustomer(ctx context.Context, ref CustomerRef, upd CustomerUpdate, ifVersion int64) (*Customer, error) {
	a, err := caller(ctx, ScopeCustomersWrite)
	if err != nil {
		return nil, err
	}
	if err := validateCustomerFields(upd.ExternalID, upd.Name, upd.Status); err != nil {
		return nil, err
	}
	var c *Customer
	err = s.write(ctx, func(tx Tx) error {
		c, err = tx.FindCustomer(ctx, a.Tenant.ID, ref, true)
		if err != nil {
			return err
		}
		if err := checkVersion(ifVersion, c.Version); err != nil {
			return err
		}
		before := *c
		if upd.ExternalID != nil {
			c.ExternalID = *upd.ExternalID
		}
		if upd.Name != nil {
			c.Name = *upd.Name
		}
		if upd.Status != nil {
			c.Status = *upd.Status
		}
		c.Version++
		c.UpdatedAt = s.timestamp()
		if err := tx.UpdateCustomer(ctx, c); err != nil {
			return err
		}
		if c.Phones, err = tx.FindPhones(ctx, a.Tenant.ID, c.ID); err != nil {
			return err
		}
		return tx.AddEvent(ctx, s.event(a, EventCustomerUpdated, c.ID, 0, &before, c))
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DeleteCustomer deletes a customer and its phones.
func (s *Service) DeleteCustomer(ctx context.Context, ref CustomerRef, ifVersion int64) error {
	a, err := caller(ctx, ScopeCustomersWrite)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx Tx) error {
		c, err := tx.FindCustomer(ctx, a.Tenant.ID, ref, true)
		if err != nil {
			return err
		}
		if err := checkVersion(ifVersion, c.Version); err != nil {
			return err
		}
		if c.Phones, err = tx.FindPhones(ctx, a.Tenant.ID, c.ID); err != nil {
			return err
		}
		if err := tx.DeleteCustomer(ctx, a.Tenant.ID, c.ID); err != nil {
			return err
		}
		return tx.AddEvent(ctx, s.event(a, EventCustomerDeleted, c.ID, 0, c, nil))
	})
}
