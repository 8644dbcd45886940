package relay

import "net/http"

// WriteError exposes the error table to the tests of package relay_test,
// for codes no real request can provoke on demand (unavailable).
func WriteError(d *Dialect, w http.ResponseWriter, r *http.Request, err error) {
	d.writeError(w, r, &call{}, err)
}
