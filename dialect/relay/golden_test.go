package relay_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// message is a raw HTTP message of testdata: a start line, headers, a
// blank line and the body.
type message struct {
	start  string
	header http.Header
	body   string
}

func readMessage(t *testing.T, file string) message {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	head, body, _ := strings.Cut(string(b), "\n\n")
	sc := bufio.NewScanner(strings.NewReader(head))
	m := message{header: http.Header{}, body: strings.TrimSpace(body)}
	for i := 0; sc.Scan(); i++ {
		if i == 0 {
			m.start = sc.Text()
			continue
		}
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			t.Fatalf("%s: bad header line %q", file, sc.Text())
		}
		m.header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return m
}

// TestGolden sends each testdata/*.request exactly as written (path shape,
// header, body), in order on one server, and compares the answer with its
// .response: status, Content-Type and the JSON body. Nothing in Relay's
// answers varies from run to run, so nothing is normalized.
func TestGolden(t *testing.T) {
	e := newEnv(t)
	c := e.customer(writeKey, "CC-1001")
	e.never = append(e.never, "5045550123")
	files, err := filepath.Glob("testdata/*.request")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	// What the native API must show after a step.
	after := map[string]func(t *testing.T){
		"01_add_phone": func(t *testing.T) {
			ps := e.phones(writeKey, c)
			if len(ps) != 1 {
				t.Fatalf("got %d phones through /v1, want 1", len(ps))
			}
			p := ps[0]
			got := []any{p.E164, p.Raw, p.Type, p.LineType, p.Consent.Type, p.Consent.Source, p.IsPrimary, p.Consent.UpdatedAt != nil}
			want := []any{"+15045550123", "5045550123", "mobile", "mobile", "express", "patient-portal", true, true}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got /v1 phone %v, want %v", got, want)
			}
		},
		"02_add_phone_duplicate": func(t *testing.T) {
			if got := e164s(e.phones(writeKey, c)); len(got) != 1 {
				t.Errorf("got phones %v after the duplicate, want one", got)
			}
		},
		"08_set_consent": func(t *testing.T) {
			if st := e.consent(writeKey, "5045550123"); st.Type != "stop" || st.Record == nil || st.Record.Source != "sms-gateway" {
				t.Errorf("got /v1 consent %+v, want stop from sms-gateway", st)
			}
		},
		"06_remove_phone": func(t *testing.T) {
			if got := e164s(e.phones(writeKey, c)); len(got) != 0 {
				t.Errorf("got phones %v after remove_phone, want none", got)
			}
		},
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".request")
		t.Run(name, func(t *testing.T) {
			in := readMessage(t, file)
			method, target, ok := strings.Cut(in.start, " ")
			if !ok {
				t.Fatalf("%s: bad request line %q", file, in.start)
			}
			req, err := http.NewRequest(method, e.ts.URL+target, strings.NewReader(in.body))
			if err != nil {
				t.Fatalf("NewRequest: %v", err)
			}
			req.Header = in.header
			got := e.send(req)

			want := readMessage(t, strings.TrimSuffix(file, ".request")+".response")
			fields := strings.Fields(want.start)
			if len(fields) < 2 {
				t.Fatalf("bad status line %q", want.start)
			}
			status, err := strconv.Atoi(fields[1])
			if err != nil {
				t.Fatalf("bad status line %q", want.start)
			}
			if got.status != status {
				t.Errorf("got status %d, want %d (body %s)", got.status, status, got.raw)
			}
			if g, w := got.header.Get("Content-Type"), want.header.Get("Content-Type"); g != w {
				t.Errorf("got Content-Type %q, want %q", g, w)
			}
			var gotBody, wantBody any
			if err := json.Unmarshal([]byte(got.raw), &gotBody); err != nil {
				t.Fatalf("response is not JSON: %q", got.raw)
			}
			if err := json.Unmarshal([]byte(want.body), &wantBody); err != nil {
				t.Fatalf("golden body is not JSON: %v", err)
			}
			if !reflect.DeepEqual(gotBody, wantBody) {
				t.Errorf("got body %s, want %s", got.raw, want.body)
			}
			if f := after[name]; f != nil {
				f(t)
			}
		})
	}
}
