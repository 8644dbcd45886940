package phonebook

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// FirstCustomerID is the first integer customer id: ids of six digits or
// more can serve as RamBase contactId (minimum 100000) and v9 client_id.
const FirstCustomerID = 100000

// Customer statuses.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
)

// Customer is a tenant's customer; it owns phones.
type Customer struct {
	ID         int64     `json:"id"`
	UUID       string    `json:"uuid"` // Cross River customerId
	TenantID   int64     `json:"-"`
	ExternalID string    `json:"external_id,omitempty"` // the tenant's own key: Relay ccid, Wasp CustomerNumber
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Version    int64     `json:"version"`
	Phones     []*Phone  `json:"phones"`
}

// CustomerInput is what a client gives to create a customer.
type CustomerInput struct {
	ExternalID string
	Name       string
	Status     string // empty means active
}

// CustomerUpdate changes the fields that are not nil.
type CustomerUpdate struct {
	ExternalID *string
	Name       *string
	Status     *string
}

// Limits of customer fields.
const (
	MaxNameLen       = 200
	MaxExternalIDLen = 100
)

func validateCustomerFields(ext, name, status *string) error {
	var errs ValidationErrors
	if ext != nil {
		*ext = strings.TrimSpace(*ext)
		if utf8.RuneCountInString(*ext) > MaxExternalIDLen {
			errs = append(errs, Errorf(ECodeValidation, "external_id", "external_id is longer than %d characters", MaxExternalIDLen))
		} else if !printable(*ext) {
			errs = append(errs, Errorf(ECodeValidation, "external_id", "external_id holds control characters"))
		}
	}
	if name != nil {
		*name = strings.TrimSpace(*name)
		if utf8.RuneCountInString(*name) > MaxNameLen {
			errs = append(errs, Errorf(ECodeValidation, "name", "name is longer than %d characters", MaxNameLen))
		} else if !printable(*name) {
			errs = append(errs, Errorf(ECodeValidation, "name", "name holds control characters"))
		}
	}
	if status != nil && *status != StatusActive && *status != StatusInactive {
		errs = append(errs, Errorf(ECodeValidation, "status", "status must be active or inactive"))
	}
	return errs.orNil()
}

// printable reports whether s is valid UTF-8 without control characters
// (nor U+FFFD, see validText).
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// validText reports whether s is valid UTF-8 that no decoder has patched:
// U+FFFD is what encoding/json puts where a client sent a byte that is not
// UTF-8 (or a lone surrogate), so text holding it was not the client's
// text. Free text (notes, evidence) may hold newlines, but not this.
func validText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, utf8.RuneError)
}

// CustomerRef names a customer by exactly one of its keys.
type CustomerRef struct {
	ID         int64
	UUID       string
	ExternalID string
}

// ParseCustomerRef reads a path segment that is either the integer id or
// the uuid of a customer.
func ParseCustomerRef(s string) (CustomerRef, error) {
	if s == "" {
		return CustomerRef{}, Errorf(ECodeNotFound, "id", "customer not found")
	}
	if s[0] >= '0' && s[0] <= '9' && len(s) <= 19 {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			if id <= 0 {
				return CustomerRef{}, Errorf(ECodeNotFound, "id", "customer not found")
			}
			return CustomerRef{ID: id}, nil
		}
	}
	if !looksLikeUUID(s) {
		return CustomerRef{}, Errorf(ECodeNotFound, "id", "customer not found")
	}
	return CustomerRef{UUID: strings.ToLower(s)}, nil
}

func looksLikeUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// Sort orders of customer lists.
const (
	SortCreatedAsc  = "created_at"
	SortCreatedDesc = "-created_at"
	SortName        = "name"
)

// Page limits of lists.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// CustomerFilter selects customers of one tenant. Every set field must match.
type CustomerFilter struct {
	ExternalID string
	PhoneE164  string // customers holding this number (E.164)
	Q          string // substring of the name, case-insensitive
	Status     string
	Sort       string // SortCreatedAsc (default), SortCreatedDesc, SortName
	Limit      int
	After      *Cursor // continue after this row
}

// Cursor is the position of the last row of a page in its sort order.
// Clients see it only as an opaque string.
type Cursor struct {
	Sort string `json:"s"`
	Key  string `json:"k"` // the sort value of the last row
	ID   int64  `json:"i"`
}

// Encode returns the opaque form of c.
func (c *Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads an opaque cursor made by Encode for sort.
func DecodeCursor(s, sort string) (*Cursor, error) {
	bad := Errorf(ECodeValidation, "cursor", "cursor is not valid for this list")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != sort || c.ID <= 0 {
		return nil, bad
	}
	return &c, nil
}

// CustomerPage is one page of a customer list.
type CustomerPage struct {
	Customers  []*Customer
	NextCursor string // "" on the last page
}
