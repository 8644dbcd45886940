package rambase

import "net/http"

// WriteError exposes writeError (XML) to the tests of package rambase_test.
func WriteError(d *Dialect, w http.ResponseWriter, r *http.Request, err error) {
	d.writeError(w, r, formatXML, err)
}
