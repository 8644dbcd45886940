package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadGenerator builds this command and phonebook-load, seeds a real
// PocketBase with phonebook's data, serves it, and runs the pocketbase-*
// scenarios against it: no request may fail, and create-phone must have
// written its phones. (Not in phonebook's CI: this module is outside the
// main one and builds PocketBase.)
func TestLoadGenerator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds PocketBase and phonebook-load")
	}
	dir := t.TempDir()
	bin, load, data := filepath.Join(dir, "pocketbase-bench"), filepath.Join(dir, "phonebook-load"), filepath.Join(dir, "pb_data")
	for _, args := range [][]string{{"build", "-o", bin, "."}, {"build", "-C", "../../..", "-o", load, "./cmd/phonebook-load"}} {
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	out, err := exec.Command(bin, "seed", "--dir", data, "--customers", "30", "--phones", "2").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Seeded 30 customers, 60 phones") {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "seed", "--dir", data, "--customers", "0").CombinedOutput(); err == nil {
		t.Errorf("seed --customers 0: got no error\n%s", out)
	}
	tok, err := exec.Command(bin, "token", "--dir", data).Output()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	token := strings.TrimSpace(string(tok))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.Command(bin, "serve", "--dir", data, "--http", addr)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/api/health"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("PocketBase did not start")
		}
	}

	// The default rules: without the token, nothing.
	resp, err := http.Get(base + "/api/collections/customers/records")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("list without a token: got %d, want 403 (superusers only)", resp.StatusCode)
	}

	for _, sc := range []string{"pocketbase-get-customer", "pocketbase-create-phone"} {
		cmd := exec.Command(load, "--url", base, "--key", token, "--scenario", sc, "--concurrency", "4",
			"--requests", "100", "--warmup", "0s", "--customers", "20", "--json")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", sc, err, stderr.String())
		}
		var r struct {
			Requests, Errors int64
			Customers        int
			ErrorSamples     map[string]string `json:"error_samples"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%s: %v\n%s", sc, err, out)
		}
		if r.Requests != 100 || r.Errors != 0 || r.Customers != 20 {
			t.Errorf("%s: got %d requests %d errors %v on %d customers, want 100, none, 20", sc, r.Requests, r.Errors, r.ErrorSamples, r.Customers)
		}
		if want := "setup: found 20 customers with 40 phones"; sc == "pocketbase-get-customer" && !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: stderr %q, want %q", sc, stderr.String(), want)
		}
	}
	if got := count(t, base, token, "phones", ""); got != 160 {
		t.Errorf("got %d phones, want the seed's 60 and create-phone's 100", got)
	}
	// the seed's data is phonebook's: customer 1's numbers are the
	// sequence's first, the first primary (the filter leaves out what
	// create-phone added)
	var first struct {
		Items []struct {
			Number    string `json:"number"`
			Type      string `json:"type"`
			IsPrimary bool   `json:"is_primary"`
		} `json:"items"`
	}
	get(t, base, token, "/api/collections/phones/records?sort=number&perPage=2&filter="+url.QueryEscape(`customer.external_id="seed-000001" && number~"+120120000"`), &first)
	if got := fmt.Sprint(first.Items); got != "[{+12012000000 mobile true} {+12012000001 home false}]" {
		t.Errorf("customer 1's phones: got %s", got)
	}
	// the unique index on (customer, number)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/collections/phones/records",
		strings.NewReader(fmt.Sprintf(`{"customer":%q,"number":"+12012000000","type":"home"}`, customerID(t, base, token, "seed-000001"))))
	req.Header.Set("Authorization", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a duplicate number: got %d, want 400", resp.StatusCode)
	}
}

func get(t *testing.T, base, token, path string, out any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		sc := bufio.NewScanner(resp.Body)
		sc.Scan()
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, sc.Text())
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, base, token, collection, filter string) int {
	var page struct {
		TotalItems int `json:"totalItems"`
	}
	get(t, base, token, "/api/collections/"+collection+"/records?perPage=1"+filter, &page)
	return page.TotalItems
}

func customerID(t *testing.T, base, token, externalID string) string {
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	get(t, base, token, "/api/collections/customers/records?filter="+url.QueryEscape(`external_id="`+externalID+`"`), &page)
	if len(page.Items) != 1 {
		t.Fatalf("customer %s: got %d", externalID, len(page.Items))
	}
	return page.Items[0].ID
}
