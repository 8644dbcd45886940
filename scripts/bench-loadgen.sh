#!/usr/bin/env bash
# Checks that phonebook-load is not the bottleneck of the benchmarks: it
# drives the same no-work handler as wrk, alternately, and prints the ratio
# of its requests/s to wrk's. The target is at least 75 %.
#
#   scripts/bench-loadgen.sh            3 rounds x 8 s each, 32 connections
#   ROUNDS=5 DURATION=4s scripts/bench-loadgen.sh
#
# The handler is `phonebook-load --serve-bare` (a fixed 1.2 KB get-customer
# answer, no work), in a process of its own, so that wrk and phonebook-load
# measure the same server. wrk runs with -t2 (two threads, one per core of
# the machine the figures in docs/BENCHMARKS.md come from). Each round is
# one wrk run and one phonebook-load run, seconds apart, and the order
# alternates from round to round; the ratio reported is the median of the
# rounds' ratios, which holds on a machine whose speed drifts (a shared VM).
# Needs wrk (Debian: apt-get install wrk). Exits 1 when the median ratio is
# under 75 %.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${ROUNDS:=3}" "${DURATION:=8s}" "${CONCURRENCY:=32}" "${THREADS:=2}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 2; }

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/phonebook-load" ./cmd/phonebook-load

"$work/phonebook-load" --serve-bare 127.0.0.1:0 > "$work/bare.out" 2>&1 &
for _ in $(seq 1 100); do
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$work/bare.out" 2>/dev/null | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "${url:-}" ] || { echo "the bare server did not start"; cat "$work/bare.out"; exit 1; }
path=/v1/customers/100000

run_wrk() {
  wrk -t"$THREADS" -c"$CONCURRENCY" -d"$DURATION" "$url$path" > "$work/wrk.txt"
  if grep -q 'Non-2xx' "$work/wrk.txt"; then cat "$work/wrk.txt"; exit 1; fi
  awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt"
}
run_load() {
  "$work/phonebook-load" --scenario bare --bare-url "$url" --concurrency "$CONCURRENCY" \
    --duration "$DURATION" --warmup 1s --json > "$work/load.json"
  grep -q '"errors": 0,' "$work/load.json" || { cat "$work/load.json"; exit 1; }
  grep -o '"requests_per_s": [0-9.]*' "$work/load.json" | awk '{print $2}'
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr), $(go version | awk '{print $3}')"
echo "wrk -t$THREADS -c$CONCURRENCY -d$DURATION vs phonebook-load --scenario bare --concurrency $CONCURRENCY --duration $DURATION, against $url$path"
ratios=()
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then
    w=$(run_wrk); l=$(run_load)
  else
    l=$(run_load); w=$(run_wrk)
  fi
  ratio=$(awk -v l="$l" -v w="$w" 'BEGIN {printf "%.1f", 100 * l / w}')
  ratios+=("$ratio")
  printf 'round %d: wrk %8.0f req/s  phonebook-load %8.0f req/s  ratio %5.1f %%\n' "$r" "$w" "$l" "$ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}')
echo "median ratio phonebook-load / wrk: $median %"
awk -v m="$median" 'BEGIN {exit !(m >= 75)}' || { echo "under the 75 % target: the load generator is the bottleneck"; exit 1; }
