package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestGoBenchLines(t *testing.T) {
	in := "goos: linux\nBenchmarkRawInsert-2   \t    9885\t    254843 ns/op\nBenchmarkStore/FindCustomer-2 27880 85097 ns/op\nPASS\n"
	var out bytes.Buffer
	if err := run([]string{"-gobench", "sqlite"}, strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{`"name":"BenchmarkRawInsert","ns_op":254843`, `"name":"BenchmarkStore/FindCustomer","ns_op":85097`} {
		if !strings.Contains(got, want) {
			t.Errorf("output %s lacks %s", got, want)
		}
	}
}

func TestReport(t *testing.T) {
	lines := []string{
		`{"kind":"run","store":"sqlite","scenario":"bare","requests_per_s":10000,"latency_ms":{"p50":1,"p90":2,"p99":3,"max":4},"requests":100}`,
		`{"kind":"run","store":"sqlite","scenario":"bare","requests_per_s":12000,"latency_ms":{"p50":1,"p90":2,"p99":3,"max":4},"requests":100}`,
		`{"kind":"run","store":"sqlite","scenario":"bare","requests_per_s":30000,"latency_ms":{"p50":1,"p90":2,"p99":3,"max":4},"requests":100}`,
		`{"kind":"run","store":"sqlite","scenario":"get-customer","requests_per_s":5000,"latency_ms":{"p50":2,"p90":3,"p99":4,"max":9},"requests":100}`,
		`{"kind":"run","store":"sqlite","scenario":"create-phone","requests_per_s":4000,"latency_ms":{"p50":5,"p90":6,"p99":7,"max":9},"requests":100,"errors":2}`,
		`{"kind":"sqlite","key":"seed_seconds","value":20}`,
		`{"kind":"sqlite","key":"phones_loaded","value":1000000}`,
		`{"kind":"gobench","store":"sqlite","name":"BenchmarkRawInsert","ns_op":250000}`,
	}
	var out bytes.Buffer
	if err := run([]string{"-machine", "m", "-commit", "c", "-notes", "/nonexistent"}, strings.NewReader(strings.Join(lines, "\n")), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"| bare | 3 | 12000 (10000–30000) | 100 % |",     // the median, not the mean
		"| get-customer | 1 | 5000 (5000–5000) | 42 % |", // ratio to bare's median
		"| get-customer ≥ 40 % of bare | 42 % (5000 of 12000 req/s) | met |",
		"| create-phone ≥ 5,000 durable writes/s | 4000/s (20 % short) | **missed** |",
		"| create-phone ≥ 50 % of the raw insert ceiling | 100 % of 4000 inserts/s | met |",
		"`seed` of 1000000 phones: 20.0 s",
		"| 2 of 100 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}

// A run is compared with the bare run beside it (same pair), not with the
// median bare run, when the runs say which.
func TestPairedRatio(t *testing.T) {
	lines := []string{
		`{"kind":"run","store":"sqlite","scenario":"bare","requests_per_s":10000,"pair":1}`,
		`{"kind":"run","store":"sqlite","scenario":"lookup","requests_per_s":5000,"pair":1,"latency_ms":{"p99":9}}`,
		`{"kind":"run","store":"sqlite","scenario":"bare","requests_per_s":4000,"pair":2}`,
		`{"kind":"run","store":"sqlite","scenario":"lookup","requests_per_s":1000,"pair":2,"latency_ms":{"p99":9}}`,
		`{"kind":"run","store":"sqlite","scenario":"bare","requests_per_s":5000,"pair":3}`,
		`{"kind":"run","store":"sqlite","scenario":"lookup","requests_per_s":3000,"pair":3,"latency_ms":{"p99":9}}`,
		`{"kind":"run","store":"sqlite","scenario":"lookup@1","requests_per_s":900,"latency_ms":{"p99":1.5}}`,
	}
	var out bytes.Buffer
	if err := run([]string{"-notes", "/nonexistent"}, strings.NewReader(strings.Join(lines, "\n")), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"| lookup | 3 | 3000 (1000–5000) | 50 % |", // ratios 50, 25, 60: median 50
		"| lookup ≥ 40 % of bare | 50 % (median of 3 runs each beside a bare run; 3000 of 5000 req/s) | met |",
		"| lookup@1 | 1 | 900 (900–900) | — |",
		"| lookup p99 ≤ 5 ms with 1 client (not a target: the latency of one request) | 1.50 ms | met |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}

// Each run of get-customer and create-phone is compared with the
// PocketBase run of the same pair.
func TestPeerRatio(t *testing.T) {
	lines := []string{
		`{"kind":"run","store":"sqlite","scenario":"bare","requests_per_s":20000,"pair":1}`,
		`{"kind":"run","store":"sqlite","scenario":"get-customer","requests_per_s":9000,"pair":1}`,
		`{"kind":"run","store":"sqlite","scenario":"pocketbase-get-customer","requests_per_s":2000,"pair":1}`,
		`{"kind":"run","store":"sqlite","scenario":"pocketbase-get-customer","requests_per_s":1000,"pair":2}`,
		`{"kind":"run","store":"sqlite","scenario":"get-customer","requests_per_s":6000,"pair":2}`,
		`{"kind":"run","store":"sqlite","scenario":"bare","requests_per_s":10000,"pair":2}`,
		`{"kind":"run","store":"sqlite","scenario":"pocketbase-get-customer","requests_per_s":3000,"pair":3}`,
		`{"kind":"run","store":"sqlite","scenario":"get-customer","requests_per_s":9000,"pair":3}`,
		`{"kind":"run","store":"sqlite","scenario":"bare","requests_per_s":20000,"pair":4}`,
		`{"kind":"run","store":"sqlite","scenario":"create-phone","requests_per_s":2800,"pair":4}`,
		`{"kind":"run","store":"sqlite","scenario":"pocketbase-create-phone","requests_per_s":2000,"pair":4}`,
		`{"kind":"run","store":"sqlite","scenario":"lookup","requests_per_s":3000,"pair":5}`,
		`{"kind":"pocketbase","key":"seed_seconds","value":12.5}`,
		`{"kind":"pocketbase","key":"server_peak_rss_mib","value":80}`,
	}
	var out bytes.Buffer
	if err := run([]string{"-notes", "/nonexistent"}, strings.NewReader(strings.Join(lines, "\n")), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"| get-customer | 3 | 9000 (6000–9000) | 52 % | 4.50× |", // ÷ PocketBase 4.5, 6, 3: median 4.5
		"| pocketbase-get-customer | 3 | 2000 (1000–3000) | 10 % | — |",
		"| create-phone | 1 | 2800 (2800–2800) | 14 % | 1.40× |",
		"| lookup | 1 | 3000 (3000–3000) | 15 % | — |",
		"| get-customer ≥ 5× PocketBase | 4.50× (median of 3 runs each beside a PocketBase run; PocketBase 2000 req/s) | **missed** |",
		"- PocketBase: seed of the same data (`app.Save` in transactions of ~10,000 records) 12.5 s; peak RSS 80 MiB",
		"| create-phone ≥ 2.5× PocketBase | 1.40× (median of 1 runs each beside a PocketBase run; PocketBase 2000 req/s) | **missed** |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}
