package crossriver

// EncodeError exposes the error table to the tests: the status, and the
// Cross River codes and messages answering err.
func EncodeError(err error) (status int, codes []int, messages []string) {
	status, body, _ := encodeError(err)
	for _, e := range body.Errors {
		codes = append(codes, e.Code)
		messages = append(messages, e.Message)
	}
	return status, codes, messages
}

// WriteError exposes writeError: the whole answer to err, headers included.
var WriteError = writeError
