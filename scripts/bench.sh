#!/usr/bin/env bash
# Measures phonebook on this machine and writes docs/BENCHMARKS.md.
#
#   scripts/bench.sh                 full run: 1 M phones, 5 runs x 8 s per scenario
#   QUICK=1 scripts/bench.sh         smoke run: 20 k phones, 3 runs x 3 s
#   PG=1 scripts/bench.sh            also PostgreSQL ($PHONEBOOK_TEST_POSTGRES_URL)
#   POCKETBASE=0 scripts/bench.sh    without the PocketBase peer
#
# Knobs: CUSTOMERS, PHONES (per customer), RUNS, DURATION, CONCURRENCY, OUT.
# Each scenario runs RUNS times against one server, each run beside a run
# of `bare` (the machine's HTTP ceiling); the report quotes the median of
# the runs and the median of their ratios to the bare run beside them.
# get-customer, lookup and batch-500 also run with one client.
#
# On SQLite, get-customer and create-phone also run against PocketBase
# (scripts/bench/pocketbase: the version its go.mod pins, built from the
# module proxy, default settings, seeded with the same customers and
# phones): each run of phonebook sits between a bare run and a PocketBase
# run, the order turning round from run to run, so each ratio pairs runs
# made seconds apart.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${QUICK:-}" = 1 ]; then
  : "${CUSTOMERS:=4000}" "${PHONES:=5}" "${RUNS:=3}" "${DURATION:=3s}"
else
  : "${CUSTOMERS:=200000}" "${PHONES:=5}" "${RUNS:=5}" "${DURATION:=8s}"
fi
: "${CONCURRENCY:=32}" "${OUT:=docs/BENCHMARKS.md}"
SCENARIOS="get-customer lookup list-phones create-phone batch-500 mixed"
SINGLE="get-customer lookup batch-500"
PEERED="get-customer create-phone" # also run against PocketBase
: "${POCKETBASE:=1}"

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
echo "== building into $work"
go build -o "$work/phonebook" ./cmd/phonebook
go build -o "$work/phonebook-load" ./cmd/phonebook-load
go build -o "$work/benchreport" ./scripts/benchreport
if [ "$POCKETBASE" = 1 ]; then
  echo "== building PocketBase ($(awk '$1 == "github.com/pocketbase/pocketbase" {print $2}' scripts/bench/pocketbase/go.mod))"
  (cd scripts/bench/pocketbase && go build -o "$work/pocketbase-bench" .)
fi
results="$work/results.jsonl"
runs_made=0
: > "$results"

# note KIND KEY VALUE: a fact for the report.
note() { printf '{"kind":"%s","key":"%s","value":%s}\n' "$1" "$2" "$3" >> "$results"; }

# serve STORE DB: starts the server on DB and waits until it answers.
serve() {
  local store=$1 db=$2
  PHONEBOOK_RATE_LIMIT=0 PHONEBOOK_LOG_FORMAT=json \
    "$work/phonebook" serve --addr 127.0.0.1:0 --db "$db" >"$work/serve-$store.out" 2>"$work/serve-$store.log" &
  server_pid=$!
  for _ in $(seq 1 100); do
    addr=$(grep -o '"addr":"[^"]*"' "$work/serve-$store.log" 2>/dev/null | head -1 | cut -d'"' -f4 || true)
    [ -n "$addr" ] && curl -fs "http://$addr/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server did not start"; cat "$work/serve-$store.log"; exit 1
}

# rss PID: peak resident set of the process in MiB.
rss() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# free_port: a TCP port of 127.0.0.1 nothing listens on.
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  echo "no free port"; exit 1
}

# serve_pocketbase: seeds PocketBase with the data phonebook's seed wrote
# (CUSTOMERS x PHONES) and serves it on pb_addr; PB_KEY is a superuser's
# token.
serve_pocketbase() {
  local dir="$work/pb_data"
  echo "== pocketbase: seeding $CUSTOMERS customers x $PHONES phones"
  local t0=$(date +%s.%N)
  "$work/pocketbase-bench" seed --dir "$dir" --customers "$CUSTOMERS" --phones "$PHONES" > "$work/seed-pocketbase.txt"
  local t1=$(date +%s.%N)
  note pocketbase seed_seconds "$(awk "BEGIN {print $t1 - $t0}")"
  PB_KEY=$("$work/pocketbase-bench" token --dir "$dir")
  pb_addr=127.0.0.1:$(free_port)
  "$work/pocketbase-bench" serve --dir "$dir" --http "$pb_addr" >"$work/serve-pocketbase.log" 2>&1 &
  pb_pid=$!
  for _ in $(seq 1 100); do
    curl -fs "http://$pb_addr/api/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "PocketBase did not start"; cat "$work/serve-pocketbase.log"; exit 1
}

# load STORE SCENARIO CONCURRENCY RUN PAIR: one measured run, as a JSON line.
# pocketbase-* scenarios go to PocketBase.
load() {
  local store=$1 sc=$2 conc=$3 r=$4 pair=$5 label=$2 url="http://$addr" key=$KEY
  [ "$conc" = "$CONCURRENCY" ] || label="$sc@$conc"
  case "$sc" in pocketbase-*) url="http://$pb_addr" key=$PB_KEY;; esac
  # a seed of its own for every run: runs with one seed add the same
  # numbers to the same customers (409 phone_duplicate in mixed)
  runs_made=$((runs_made + 1))
  echo "== $store $label run $r"
  PHONEBOOK_KEY=$key "$work/phonebook-load" --url "$url" --scenario "$sc" --concurrency "$conc" \
    --duration "$DURATION" --warmup 1s --customers 1000 --reuse --seed "$runs_made" --json \
    | sed -e "s/^{/{\"kind\":\"run\",\"store\":\"$store\",\"pair\":$pair,/" \
          -e "s/\"scenario\": *\"$sc\"/\"scenario\":\"$label\"/" >> "$results"
}

run_store() {
  local store=$1 db=$2
  echo "== $store: seeding $CUSTOMERS customers x $PHONES phones"
  local t0=$(date +%s.%N)
  "$work/phonebook" seed --customers "$CUSTOMERS" --phones "$PHONES" --db "$db" > "$work/seed-$store.txt"
  local t1=$(date +%s.%N)
  note "$store" seed_seconds "$(awk "BEGIN {print $t1 - $t0}")"
  note "$store" phones_loaded "$((CUSTOMERS * PHONES))"
  # The seed made the tenant, so serve will not bootstrap: make the key.
  KEY=$("$work/phonebook" keys create --tenant default --scopes customers:read,customers:write,admin --name bench --db "$db" | tail -1)
  serve "$store" "$db"
  local peer=0
  if [ "$store" = sqlite ] && [ "$POCKETBASE" = 1 ]; then
    serve_pocketbase
    peer=1
  fi
  # Each run of a scenario comes beside a bare run (its pair), and for
  # PEERED a PocketBase run: the ratios are taken pair by pair, which
  # holds on a machine whose speed drifts from minute to minute (a shared
  # VM) where a ratio of medians taken minutes apart does not. The order
  # turns round from run to run (bare, phonebook, PocketBase; then
  # PocketBase, phonebook, bare), so neither side always goes first.
  local pair=0
  for sc in $SCENARIOS; do
    local systems="bare $sc"
    if [ "$peer" = 1 ] && [[ " $PEERED " == *" $sc "* ]]; then
      systems="bare $sc pocketbase-$sc"
    fi
    for r in $(seq 1 "$RUNS"); do
      pair=$((pair + 1))
      local order=$systems
      [ $((r % 2)) = 0 ] && order=$(echo "$systems" | tr ' ' '\n' | tac | tr '\n' ' ')
      for s in $order; do
        load "$store" "$s" "$CONCURRENCY" "$r" "$pair"
      done
    done
  done
  if [ "$peer" = 1 ]; then
    note pocketbase server_peak_rss_mib "$(rss "$pb_pid")"
    kill -TERM "$pb_pid"; wait "$pb_pid" || true
  fi
  # One client: the time of one request, without the queue 32 clients
  # make on two cores (Little's law: 32 in flight / N per s).
  for sc in $SINGLE; do
    for r in $(seq 1 "$RUNS"); do
      load "$store" "$sc" 1 "$r" 0
    done
  done
  note "$store" server_peak_rss_mib "$(rss "$server_pid")"
  kill -TERM "$server_pid"; wait "$server_pid" || true

  if [ "$store" = sqlite ]; then
    echo "== $store: export + import of the seeded data"
    t0=$(date +%s.%N)
    "$work/phonebook" export --db "$db" --out "$work/export.csv"
    t1=$(date +%s.%N)
    "$work/phonebook" tenants create imported --db "$db" >/dev/null
    "$work/phonebook" import "$work/export.csv" --tenant imported --db "$db" > "$work/import.txt"
    t2=$(date +%s.%N)
    note "$store" export_seconds "$(awk "BEGIN {print $t1 - $t0}")"
    note "$store" import_seconds "$(awk "BEGIN {print $t2 - $t1}")"
    note "$store" import_rows "$(($(wc -l < "$work/export.csv") - 1))"
  fi
}

run_store sqlite "sqlite:$work/bench.db"

echo "== go test -bench (store operations and the raw insert ceiling)"
go test -run '^$' -bench . -benchtime 2s -count 3 ./store/sqlite/ | tee "$work/gobench-sqlite.txt"
"$work/benchreport" -gobench sqlite < "$work/gobench-sqlite.txt" >> "$results"

if [ "${PG:-}" = 1 ] && [ -n "${PHONEBOOK_TEST_POSTGRES_URL:-}" ]; then
  schema="pbbench_$$"
  psql "$PHONEBOOK_TEST_POSTGRES_URL" -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema"
  sep='?'; case "$PHONEBOOK_TEST_POSTGRES_URL" in *\?*) sep='&';; esac
  run_store postgres "${PHONEBOOK_TEST_POSTGRES_URL}${sep}search_path=$schema"
  go test -run '^$' -bench . -benchtime 2s -count 3 ./store/postgres/ | tee "$work/gobench-pg.txt"
  "$work/benchreport" -gobench postgres < "$work/gobench-pg.txt" >> "$results"
  psql "$PHONEBOOK_TEST_POSTGRES_URL" -qc "DROP SCHEMA IF EXISTS $schema CASCADE"
fi

pb_settings=""
if [ "$POCKETBASE" = 1 ]; then
  pb_settings="; PocketBase $(awk '$1 == "github.com/pocketbase/pocketbase" {print $2}' scripts/bench/pocketbase/go.mod) (default settings, superuser-only rules, a superuser token per request)"
fi
cp "$results" "${OUT%.md}.jsonl"
machine="$(nproc) cores, $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -sr), $(go version | awk '{print $3}')"
"$work/benchreport" -machine "$machine" -commit "$(git rev-parse --short HEAD)$(git diff --quiet || echo -dirty)" \
  -settings "concurrency $CONCURRENCY, $RUNS runs x $DURATION per scenario (+1 s warmup), $CUSTOMERS customers x $PHONES phones loaded$pb_settings" \
  < "$results" > "$OUT"
echo "== wrote $OUT"
