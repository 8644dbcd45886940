package wasp

import (
	"net/http"

	"github.com/phonebook/phonebook"
)

// Codes of problems the dialect finds itself, before the domain.
const (
	codeBadRecord  = "wasp_bad_record" // a record is not a JSON object
	codeMalformed  = "wasp_malformed"  // the body is not JSON, or not an array
	codeEmptyBatch = "wasp_empty"      // the array holds no record
	codeTooMany    = "wasp_too_many"   // more than MaxRecords records
	codeTooLarge   = "wasp_too_large"  // the body is over 1 MiB
	codeMediaType  = "wasp_media_type" // a Content-Type that is not JSON
)

// What a stored record reports.
const (
	resultSuccess  = 0
	statusSuccess  = http.StatusOK
	messageCreated = "Phone created" // the record added a phone
	messageUpdated = "Phone updated" // the record matched a phone the customer had
)

// wtCode is how one error code is told to a Wasp client: ResultCode and
// HttpStatusCode (per record inside ResultList; for a whole-request failure
// also the HTTP status of the answer).
type wtCode struct {
	Result int
	Status int
}

// codes is the one table from error codes (the domain's and the dialect's)
// to Wasp's ResultCode and HTTP status.
var codes = map[string]wtCode{
	// a record's own failure (inside a 200 answer)
	phonebook.ECodeValidation:     {-1001, http.StatusBadRequest},
	phonebook.ECodeInvalidNumber:  {-1002, http.StatusBadRequest},
	phonebook.ECodeTypeUnknown:    {-1003, http.StatusBadRequest},
	phonebook.ECodeNotFound:       {-1004, http.StatusNotFound},
	phonebook.ECodePhoneDuplicate: {-1005, http.StatusConflict},
	phonebook.ECodePhoneLimit:     {-1006, http.StatusConflict},
	phonebook.ECodeNumberLimit:    {-1007, http.StatusConflict},
	phonebook.ECodeConflict:       {-1008, http.StatusConflict},
	codeBadRecord:                 {-1009, http.StatusBadRequest},
	// the whole request's failure (nothing stored)
	codeMalformed:               {-2001, http.StatusBadRequest},
	codeEmptyBatch:              {-2002, http.StatusBadRequest},
	codeTooMany:                 {-2003, http.StatusBadRequest},
	codeTooLarge:                {-2004, http.StatusRequestEntityTooLarge},
	codeMediaType:               {-2005, http.StatusUnsupportedMediaType},
	phonebook.ECodeUnauthorized: {-3001, http.StatusUnauthorized},
	phonebook.ECodeForbidden:    {-3002, http.StatusForbidden},
	phonebook.ECodeRateLimited:  {-3003, http.StatusTooManyRequests},
	phonebook.ECodeUnavailable:  {-9001, http.StatusServiceUnavailable},
	phonebook.ECodeInternal:     {-9999, http.StatusInternalServerError},
}

// codeOf returns the table entry of code; unknown codes are internal.
func codeOf(code string) wtCode {
	if c, ok := codes[code]; ok {
		return c
	}
	return codes[phonebook.ECodeInternal]
}
