package wasp_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/phonebook/phonebook"
)

// TestHelpPageRequests replays the requests Wasp's public help pages tell a
// client to build, and checks each is served exactly like the plain one.
// api.waspinventorycloud.com/Help/Language_Independent_API_Access.htm: a
// POST with "Authorization" = "Bearer", a space, then the token; Content-Type
// chosen as "JSON" in Postman, which the page shows as "application/JSON";
// "Due to increased security measures, the User-Agent record ... is
// mandatory"; "POST APIs only support JSON input". The Postman request
// carries Postman's default headers too.
func TestHelpPageRequests(t *testing.T) {
	tests := []struct {
		name    string
		headers []string // name, value; "" removes the header
		bom     bool
	}{
		{"Postman, as the help page builds it", []string{
			"Content-Type", "application/JSON",
			"User-Agent", "PostmanRuntime/7.39.0",
			"Accept", "*/*",
			"Postman-Token", "5c1c3b2e-8e7d-4a4f-9a43-1f4c8b0e6d21",
			"Cache-Control", "no-cache",
			"Accept-Encoding", "gzip, deflate, br",
			"Connection", "keep-alive",
		}, false},
		// .NET's HttpClient with StringContent(json, Encoding.UTF8,
		// "application/json"), the usual Wasp integration.
		{".NET HttpClient", []string{
			"Content-Type", "application/json; charset=utf-8",
			"User-Agent", "MyWaspSync/1.0",
		}, false},
		// A body saved by a Windows tool starts with a UTF-8 BOM.
		{"body with a byte order mark", []string{
			"Content-Type", "application/json",
			"User-Agent", "WindowsPowerShell/5.1.19041.4648",
		}, true},
		// Wasp refuses a request without User-Agent; phonebook does not
		// (README: what phonebook accepts that Wasp would refuse).
		{"no User-Agent", []string{"User-Agent", ""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, phonebook.TenantInput{})
			c1, c2 := e.customer("C-1001"), e.customer("C-1002")
			b := readFile(t, "realistic_request.json")
			if tt.bom {
				b = append([]byte("\xef\xbb\xbf"), b...)
			}
			status, out, raw := e.save(keyRW, b, tt.headers...)
			if got, want := status, http.StatusOK; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, raw)
			}
			golden(t, "realistic_response.json", raw)
			if out.HasError || out.Data.SuccessfullResults != 2 {
				t.Errorf("got %s, want both records stored", raw)
			}
			if got, want := e.countPhones([]*phonebook.Customer{c1, c2}), 2; got != want {
				t.Errorf("stored %d phones, want %d", got, want)
			}
		})
	}
}

// TestTokenWithoutSpace: the help page warns that "the Response will not
// appear if the token is pasted without space" after "Bearer"; phonebook
// refuses it too, as 401 in Wasp's envelope.
func TestTokenWithoutSpace(t *testing.T) {
	e := newEnv(t, phonebook.TenantInput{})
	e.customer("C-1001")
	status, out, raw := e.save("", readFile(t, "realistic_request.json"), "Authorization", "Bearer"+keyRW)
	if got, want := status, http.StatusUnauthorized; got != want || !out.HasHttpError || out.Data != nil {
		t.Fatalf("got %d %s, want 401 with HasHttpError and no Data", status, raw)
	}
	if bytes.Contains(raw, []byte(keyRW)) {
		t.Errorf("the answer repeats the key: %s", raw)
	}
}
