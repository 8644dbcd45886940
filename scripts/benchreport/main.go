// Command benchreport turns the JSON lines scripts/bench.sh collects into
// docs/BENCHMARKS.md: medians of the runs, ratios to the HTTP ceiling, and
// each target of the performance issue, met or missed by how much.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

type latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

type record struct {
	Kind     string          `json:"kind"`
	Store    string          `json:"store"`
	Scenario string          `json:"scenario"`
	RPS      float64         `json:"requests_per_s"`
	Latency  latency         `json:"latency_ms"`
	Errors   int             `json:"errors"`
	Requests int             `json:"requests"`
	Pair     int             `json:"pair"` // a bare run made just before this one, with the same pair
	Key      string          `json:"key"`
	Value    json.RawMessage `json:"value"`
	Name     string          `json:"name"`
	NsOp     float64         `json:"ns_op"`
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

func run(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	gobench := fs.String("gobench", "", "convert `go test -bench` output for this store into JSON lines")
	machine := fs.String("machine", "", "the machine, for the report")
	commit := fs.String("commit", "", "the commit measured")
	settings := fs.String("settings", "", "the run settings, for the report")
	notes := fs.String("notes", "docs/BENCHMARKS.notes.md", "hand-written analysis appended to the report, if the file exists")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *gobench != "" {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		enc := json.NewEncoder(out)
		for sc.Scan() {
			if m := benchLine.FindStringSubmatch(sc.Text()); m != nil {
				ns, _ := strconv.ParseFloat(m[2], 64)
				if err := enc.Encode(record{Kind: "gobench", Store: *gobench, Name: m[1], NsOp: ns}); err != nil {
					return err
				}
			}
		}
		return sc.Err()
	}
	// The records are JSON values one after another, one line each or
	// pretty-printed over several.
	var recs []record
	dec := json.NewDecoder(in)
	for {
		var r record
		err := dec.Decode(&r)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("bad record %d: %w", len(recs)+1, err)
		}
		recs = append(recs, r)
	}
	var extra string
	if b, err := os.ReadFile(*notes); err == nil {
		extra = string(b)
	}
	_, err := io.WriteString(out, report(recs, *machine, *commit, *settings, extra))
	return err
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type summary struct {
	runs                    int
	rps, p50, p90, p99, max float64
	rpsMin, rpsMax          float64
	errors, requests        int
}

func summarize(rs []record) summary {
	var rps, p50, p90, p99, mx []float64
	s := summary{runs: len(rs)}
	if len(rs) == 0 {
		return s
	}
	for _, r := range rs {
		rps = append(rps, r.RPS)
		p50, p90, p99, mx = append(p50, r.Latency.P50), append(p90, r.Latency.P90), append(p99, r.Latency.P99), append(mx, r.Latency.Max)
		s.errors += r.Errors
		s.requests += r.Requests
	}
	s.rps, s.p50, s.p90, s.p99, s.max = median(rps), median(p50), median(p90), median(p99), median(mx)
	s.rpsMin, s.rpsMax = slices.Min(rps), slices.Max(rps)
	return s
}

func report(recs []record, machine, commit, settings, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# phonebook benchmarks\n\n")
	fmt.Fprintf(&b, "Written by `scripts/bench.sh` (re-run it to refresh this page; `QUICK=1` for a smoke run,\n`PG=1` to add PostgreSQL). Figures are medians of the runs. The ratio is to `bare`, a handler\nthat does no work but answers the same JSON (the HTTP ceiling of this machine with this client):\nthe median of each run's ratio to the bare run made just before it. `@1`: one client.\n÷ PocketBase: the median of each run's requests/s over those of the PocketBase run beside it\n(`pocketbase-*`: the same requests against PocketBase, scripts/bench/pocketbase, on the same data).\n\n")
	fmt.Fprintf(&b, "- machine: %s\n- date: %s\n- commit: %s\n- settings: %s\n\n", machine, time.Now().UTC().Format("2006-01-02 15:04 MST"), commit, settings)
	stores := []string{}
	runs := map[string]map[string][]record{}
	notes := map[string]map[string]float64{}
	gob := map[string]map[string][]float64{}
	for _, r := range recs {
		switch r.Kind {
		case "run":
			if runs[r.Store] == nil {
				runs[r.Store] = map[string][]record{}
				stores = append(stores, r.Store)
			}
			runs[r.Store][r.Scenario] = append(runs[r.Store][r.Scenario], r)
		case "gobench":
			if gob[r.Store] == nil {
				gob[r.Store] = map[string][]float64{}
			}
			gob[r.Store][r.Name] = append(gob[r.Store][r.Name], r.NsOp)
		default:
			if notes[r.Kind] == nil {
				notes[r.Kind] = map[string]float64{}
			}
			v, _ := strconv.ParseFloat(strings.Trim(string(r.Value), `"`), 64)
			notes[r.Kind][r.Key] = v
		}
	}
	order := []string{"bare", "get-customer", pbPrefix + "get-customer", "lookup", "list-phones", "create-phone", pbPrefix + "create-phone", "batch-500", "mixed", "get-customer@1", "lookup@1", "batch-500@1"}
	for _, st := range stores {
		fmt.Fprintf(&b, "## %s\n\n", st)
		fmt.Fprintf(&b, "| scenario | runs | requests/s (median, min–max) | ratio to bare | ÷ PocketBase | p50 ms | p90 ms | p99 ms | max ms | errors |\n|---|---|---|---|---|---|---|---|---|---|\n")
		bare := summarize(runs[st]["bare"])
		ratios := pairedRatios(runs[st])
		peer := peerRatios(runs[st])
		for _, sc := range order {
			rs := runs[st][sc]
			if len(rs) == 0 {
				continue
			}
			s := summarize(rs)
			ratio := "—"
			if r, ok := ratios[sc]; ok {
				ratio = fmt.Sprintf("%.0f %%", r.ratio)
			} else if bare.rps > 0 && !strings.Contains(sc, "@") {
				ratio = fmt.Sprintf("%.0f %%", 100*s.rps/bare.rps)
			}
			vsPeer := "—"
			if r, ok := peer[sc]; ok {
				vsPeer = fmt.Sprintf("%.2f×", r.ratio)
			}
			fmt.Fprintf(&b, "| %s | %d | %.0f (%.0f–%.0f) | %s | %s | %.2f | %.2f | %.2f | %.2f | %d of %d |\n",
				sc, s.runs, s.rps, s.rpsMin, s.rpsMax, ratio, vsPeer, s.p50, s.p90, s.p99, s.max, s.errors, s.requests)
		}
		n := notes[st]
		fmt.Fprintf(&b, "\n")
		if n["phones_loaded"] > 0 {
			fmt.Fprintf(&b, "- `seed` of %.0f phones: %.1f s (%.0f phones/s)\n", n["phones_loaded"], n["seed_seconds"], n["phones_loaded"]/n["seed_seconds"])
		}
		if n["import_rows"] > 0 {
			fmt.Fprintf(&b, "- `export`: %.1f s; `import` of the %.0f-row CSV: %.1f s (%.0f rows/s)\n", n["export_seconds"], n["import_rows"], n["import_seconds"], n["import_rows"]/n["import_seconds"])
		}
		if n["server_peak_rss_mib"] > 0 {
			fmt.Fprintf(&b, "- server peak RSS over all scenarios: %.0f MiB\n", n["server_peak_rss_mib"])
		}
		if pb := notes["pocketbase"]; len(runs[st][pbPrefix+"get-customer"])+len(runs[st][pbPrefix+"create-phone"]) > 0 && pb != nil {
			fmt.Fprintf(&b, "- PocketBase: seed of the same data (`app.Save` in transactions of ~10,000 records) %.1f s; peak RSS %.0f MiB\n", pb["seed_seconds"], pb["server_peak_rss_mib"])
		}
		if g := gob[st]; len(g) > 0 {
			fmt.Fprintf(&b, "\n`go test -bench` (median of %d):\n\n| benchmark | ns/op | ops/s |\n|---|---|---|\n", len(g[firstKey(g)]))
			keys := make([]string, 0, len(g))
			for k := range g {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				m := median(g[k])
				fmt.Fprintf(&b, "| %s | %.0f | %.0f |\n", k, m, 1e9/m)
			}
		}
		fmt.Fprintf(&b, "\n### Targets (%s)\n\n| target | measured | |\n|---|---|---|\n", st)
		target := func(name string, ok bool, measured string) {
			mark := "met"
			if !ok {
				mark = "**missed**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", name, measured, mark)
		}
		for _, sc := range []string{"get-customer", "lookup"} {
			if s := summarize(runs[st][sc]); s.runs > 0 && bare.rps > 0 {
				if pr, ok := ratios[sc]; ok {
					target(sc+" ≥ 40 % of bare", pr.ratio >= 40, fmt.Sprintf("%.0f %% (median of %d runs each beside a bare run; %.0f of %.0f req/s)", pr.ratio, pr.pairs, s.rps, pr.bareRPS))
				} else {
					r := 100 * s.rps / bare.rps
					target(sc+" ≥ 40 % of bare", r >= 40, fmt.Sprintf("%.0f %% (%.0f of %.0f req/s)", r, s.rps, bare.rps))
				}
				target(sc+" p99 ≤ 5 ms", s.p99 <= 5, fmt.Sprintf("%.2f ms", s.p99))
				if one := summarize(runs[st][sc+"@1"]); one.runs > 0 {
					target(sc+" p99 ≤ 5 ms with 1 client (not a target: the latency of one request)", one.p99 <= 5, fmt.Sprintf("%.2f ms", one.p99))
				}
			}
		}
		for _, pt := range []struct {
			sc    string
			times float64
		}{{"get-customer", 5}, {"create-phone", 2.5}} {
			if pr, ok := peer[pt.sc]; ok {
				target(fmt.Sprintf("%s ≥ %g× PocketBase", pt.sc, pt.times), pr.ratio >= pt.times,
					fmt.Sprintf("%.2f× (median of %d runs each beside a PocketBase run; PocketBase %.0f req/s)", pr.ratio, pr.pairs, pr.bareRPS))
			}
		}
		if s := summarize(runs[st]["create-phone"]); s.runs > 0 {
			target("create-phone ≥ 5,000 durable writes/s", s.rps >= 5000, fmt.Sprintf("%.0f/s (%.0f %% short)", s.rps, max(0, 100*(1-s.rps/5000))))
			if raw := median(gob[st]["BenchmarkRawInsert"]); raw > 0 {
				ceiling := 1e9 / raw
				target("create-phone ≥ 50 % of the raw insert ceiling", s.rps >= ceiling/2, fmt.Sprintf("%.0f %% of %.0f inserts/s", 100*s.rps/ceiling, ceiling))
			}
		}
		if s := summarize(runs[st]["batch-500"]); s.runs > 0 {
			target("batch-500 p50 ≤ 50 ms", s.p50 <= 50, fmt.Sprintf("%.1f ms", s.p50))
		}
		if s := summarize(runs[st]["batch-500@1"]); s.runs > 0 {
			target("batch-500 p50 ≤ 50 ms with 1 client (the time of one batch)", s.p50 <= 50, fmt.Sprintf("%.1f ms", s.p50))
		}
		if n["seed_seconds"] > 0 {
			target(fmt.Sprintf("seed of %.0f phones ≤ 30 s (for 1 M)", n["phones_loaded"]), n["seed_seconds"]*1e6/n["phones_loaded"] <= 30, fmt.Sprintf("%.1f s (%.1f s per million)", n["seed_seconds"], n["seed_seconds"]*1e6/n["phones_loaded"]))
		}
		if n["import_seconds"] > 0 {
			target(fmt.Sprintf("import of %.0f rows ≤ 60 s (for 1 M)", n["import_rows"]), n["import_seconds"]*1e6/n["import_rows"] <= 60, fmt.Sprintf("%.1f s (%.1f s per million)", n["import_seconds"], n["import_seconds"]*1e6/n["import_rows"]))
		}
		if n["server_peak_rss_mib"] > 0 {
			target("server RSS ≤ 150 MB", n["server_peak_rss_mib"] <= 143, fmt.Sprintf("%.0f MiB", n["server_peak_rss_mib"]))
		}
		fmt.Fprintf(&b, "\n")
	}
	if extra != "" {
		b.WriteString(extra)
	}
	return b.String()
}

type pairedRatio struct {
	ratio   float64 // median of the runs' rps over their paired bare run's, in % (a factor for PocketBase)
	pairs   int
	bareRPS float64 // median of the paired bare (or PocketBase) runs
}

// pairedRatios compares each run with the bare run made just before it:
// on a machine whose speed drifts (a shared VM) that ratio holds better
// than one against the median of bare runs made minutes apart.
func pairedRatios(byScenario map[string][]record) map[string]pairedRatio {
	bareOf := map[int]float64{}
	for _, r := range byScenario["bare"] {
		if r.Pair > 0 && r.RPS > 0 {
			bareOf[r.Pair] = r.RPS
		}
	}
	out := map[string]pairedRatio{}
	for sc, rs := range byScenario {
		var ratios, bares []float64
		for _, r := range rs {
			if b, ok := bareOf[r.Pair]; ok && r.Pair > 0 && sc != "bare" {
				ratios = append(ratios, 100*r.RPS/b)
				bares = append(bares, b)
			}
		}
		if len(ratios) > 0 {
			out[sc] = pairedRatio{ratio: median(ratios), pairs: len(ratios), bareRPS: median(bares)}
		}
	}
	return out
}

// pbPrefix names the PocketBase run of a scenario: pocketbase-get-customer.
const pbPrefix = "pocketbase-"

// peerRatios compares each run of a scenario with the PocketBase run of
// the same scenario made beside it (same pair): requests/s over
// PocketBase's, as a factor (bareRPS is PocketBase's median).
func peerRatios(byScenario map[string][]record) map[string]pairedRatio {
	out := map[string]pairedRatio{}
	for sc, rs := range byScenario {
		pbOf := map[int]float64{}
		for _, r := range byScenario[pbPrefix+sc] {
			if r.Pair > 0 && r.RPS > 0 {
				pbOf[r.Pair] = r.RPS
			}
		}
		var ratios, pbs []float64
		for _, r := range rs {
			if p, ok := pbOf[r.Pair]; ok && r.Pair > 0 {
				ratios = append(ratios, r.RPS/p)
				pbs = append(pbs, p)
			}
		}
		if len(ratios) > 0 {
			out[sc] = pairedRatio{ratio: median(ratios), pairs: len(ratios), bareRPS: median(pbs)}
		}
	}
	return out
}

func firstKey(m map[string][]float64) string {
	for k := range m {
		return k
	}
	return ""
}
