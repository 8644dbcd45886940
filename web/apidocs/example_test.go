package apidocs_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/phonebook/phonebook/web/apidocs"
)

func ExampleHandler() {
	mux := http.NewServeMux()
	// The OpenAPI document itself is served elsewhere, on the same origin.
	docs := apidocs.Handler("/docs", "/openapi.json")
	mux.Handle("GET /docs", docs)
	mux.Handle("GET /docs/", docs)
	// http.ListenAndServe(":8080", mux)

	for _, path := range []string{"/docs", "/docs/assets/init.js", "/docs/assets/" + apidocs.Version() + "/swagger-ui.css"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// 200 text/html; charset=utf-8
	// 200 application/javascript; charset=utf-8
	// 200 text/css; charset=utf-8
}
