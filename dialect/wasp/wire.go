package wasp

import (
	"encoding/json"
	"strings"

	"github.com/phonebook/phonebook"
)

// Wasp's field names, as its clients send them and as FieldName reports
// them.
const (
	fieldCustomerNo     = "CustomerNo"
	fieldCustomerNumber = "CustomerNumber"
	fieldPhoneNumber    = "PhoneNumber"
	fieldPhoneExtension = "PhoneExtension"
	fieldPhoneTypeName  = "PhoneTypeName"
)

// saveRecord is one SaveCustomerPhoneRequest. Fields are kept raw so that a
// field of the wrong JSON type fails its record alone, naming the field.
// encoding/json matches the names case-insensitively, as Wasp's own
// (Newtonsoft) reader does; unknown fields are ignored.
type saveRecord struct {
	CustomerNo     json.RawMessage `json:"CustomerNo"`
	CustomerNumber json.RawMessage `json:"CustomerNumber"`
	FormID         json.RawMessage `json:"FormId"` // accepted and ignored
	PhoneNumber    json.RawMessage `json:"PhoneNumber"`
	PhoneExtension json.RawMessage `json:"PhoneExtension"`
	PhoneTypeName  json.RawMessage `json:"PhoneTypeName"`
}

// wtResult is one WtResult: the outcome of one record, or one message.
type wtResult struct {
	ResultCode     int    `json:"ResultCode"`
	Message        string `json:"Message"`
	HttpStatusCode int    `json:"HttpStatusCode"`
	FieldName      string `json:"FieldName"`
}

// results is Wasp's Results: one ResultList entry per record, in input
// order. SuccessfullResults is Wasp's own spelling.
type results struct {
	ResultList         []wtResult `json:"ResultList"`
	SuccessfullResults int        `json:"SuccessfullResults"`
	TotalResults       int        `json:"TotalResults"`
	ErrorCount         int        `json:"ErrorCount"`
}

// resultOfResults is WaspResultOfResults, the envelope of every answer of
// this dialect, successes and failures alike.
type resultOfResults struct {
	Data                            *results   `json:"Data"`
	Messages                        []wtResult `json:"Messages"`
	BatchNumber                     int        `json:"BatchNumber"`
	HasError                        bool       `json:"HasError"`
	HasHttpError                    bool       `json:"HasHttpError"`
	HasMessage                      bool       `json:"HasMessage"`
	HasSuccessWithMoreDataRemaining bool       `json:"HasSuccessWithMoreDataRemaining"`
	TotalRecordsLongCount           int64      `json:"TotalRecordsLongCount"`
}

// fieldErr is one problem with one record, in Wasp's terms: the domain
// error code (it picks ResultCode and HttpStatusCode), Wasp's field name and
// a message that names Wasp's fields.
type fieldErr struct {
	Code    string
	Field   string
	Message string
}

// text reads a string field: a JSON string, or a number (its literal text,
// as Newtonsoft turns 5045550123 into "5045550123"); absent and null are
// empty. Anything else (true, an object, an array) fails the record.
func text(raw json.RawMessage, field string) (string, *fieldErr) {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "" || s == "null":
		return "", nil
	case s[0] == '"':
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", &fieldErr{phonebook.ECodeValidation, field, field + " must be a string"}
		}
		return v, nil
	case s[0] == '-' || (s[0] >= '0' && s[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", &fieldErr{phonebook.ECodeValidation, field, field + " must be a string"}
		}
		return n.String(), nil
	}
	return "", &fieldErr{phonebook.ECodeValidation, field, field + " must be a string"}
}

// item is a record read into the domain's terms. errs holds what the
// dialect itself found wrong (the record's shape, its customer reference,
// a missing PhoneTypeName); custField is the field that named the customer,
// for "not found".
type item struct {
	upsert    phonebook.UpsertItem
	errs      []*fieldErr
	custField string
	skip      bool // not an object: the domain never sees it
}

// readRecord turns one raw record into an item.
func readRecord(raw json.RawMessage) item {
	t := strings.TrimSpace(string(raw))
	if t == "" || t[0] != '{' {
		return item{skip: true, errs: []*fieldErr{{codeBadRecord, "", "each record must be a JSON object"}}}
	}
	var rec saveRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return item{skip: true, errs: []*fieldErr{{codeBadRecord, "", "each record must be a JSON object"}}}
	}
	var it item
	str := func(raw json.RawMessage, field string) string {
		v, fe := text(raw, field)
		if fe != nil {
			it.errs = append(it.errs, fe)
		}
		return v
	}
	number := str(rec.CustomerNumber, fieldCustomerNumber)
	no := str(rec.CustomerNo, fieldCustomerNo)
	it.upsert.Phone = phonebook.PhoneInput{
		Number:    str(rec.PhoneNumber, fieldPhoneNumber),
		Extension: str(rec.PhoneExtension, fieldPhoneExtension),
		Type:      str(rec.PhoneTypeName, fieldPhoneTypeName),
	}
	if strings.TrimSpace(it.upsert.Phone.Type) == "" && !hasField(it.errs, fieldPhoneTypeName) {
		it.errs = append(it.errs, &fieldErr{phonebook.ECodeValidation, fieldPhoneTypeName, "PhoneTypeName is required"})
	}
	number, no = strings.TrimSpace(number), strings.TrimSpace(no)
	switch {
	case hasField(it.errs, fieldCustomerNumber) || hasField(it.errs, fieldCustomerNo):
	case number != "" && no != "" && number != no:
		it.errs = append(it.errs, &fieldErr{phonebook.ECodeValidation, fieldCustomerNumber, "CustomerNumber and CustomerNo name different customers"})
	case number != "":
		it.custField = fieldCustomerNumber
		it.upsert.Customer = phonebook.CustomerRef{ExternalID: number}
	case no != "":
		it.custField = fieldCustomerNo
		it.upsert.Customer = phonebook.CustomerRef{ExternalID: no}
	default:
		it.errs = append(it.errs, &fieldErr{phonebook.ECodeValidation, fieldCustomerNumber, "CustomerNumber (or CustomerNo) is required"})
	}
	if len(it.errs) > 0 {
		// The record still goes to the service, so that its phone fields
		// are checked too and every problem is reported at once, but with
		// the zero customer reference, which names no customer: it can
		// never be stored.
		it.upsert.Customer = phonebook.CustomerRef{}
		if strings.TrimSpace(it.upsert.Phone.Type) == "" {
			it.upsert.Phone.Type = "" // the service's default stands in, for checking only
		}
	}
	return it
}

func hasField(errs []*fieldErr, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

// waspField is the Wasp name of a domain field.
var waspField = map[string]string{
	"number":    fieldPhoneNumber,
	"extension": fieldPhoneExtension,
	"type":      fieldPhoneTypeName,
}

// fieldRank orders the problems of one record: the first is the record's
// FieldName, ResultCode and HttpStatusCode.
var fieldRank = map[string]int{
	fieldPhoneNumber:    0,
	fieldPhoneExtension: 1,
	fieldPhoneTypeName:  2,
	fieldCustomerNumber: 3,
	fieldCustomerNo:     3,
}

func rank(field string) int {
	if r, ok := fieldRank[field]; ok {
		return r
	}
	return len(fieldRank)
}

// fromDomain translates a record's domain error into Wasp's terms. custField
// is the field that named the customer.
func fromDomain(err error, custField string) []*fieldErr {
	var out []*fieldErr
	for _, e := range phonebook.FieldErrors(err) {
		out = append(out, fromDomainField(e, custField))
	}
	if len(out) == 0 {
		out = []*fieldErr{{phonebook.ErrorCode(err), "", phonebook.ErrorMessage(err)}}
	}
	return out
}

func fromDomainField(e *phonebook.Error, custField string) *fieldErr {
	switch e.Code {
	case phonebook.ECodeNotFound:
		// The only row a record looks up is its customer.
		return &fieldErr{e.Code, custField, "no customer has this " + custField}
	case phonebook.ECodeTypeUnknown:
		return &fieldErr{e.Code, fieldPhoneTypeName, "PhoneTypeName is not a phone type of this account; create it first"}
	}
	msg := phonebook.ErrorMessage(e)
	field, ok := waspField[e.Field]
	if ok {
		// Domain messages start with the native field name: say Wasp's.
		if rest, found := strings.CutPrefix(msg, e.Field+" "); found {
			msg = field + " " + rest
		}
	}
	return &fieldErr{e.Code, field, msg}
}
