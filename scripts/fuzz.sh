#!/usr/bin/env bash
# Runs every Go fuzz target of the module (func FuzzXxx(f *testing.F) in a
# _test.go file) for SECONDS each (default 5), one at a time, and stops at
# the first failure. A failing input is written by go test under the
# package's testdata/fuzz/FuzzXxx/: fix the cause, then keep the file as a
# corpus entry.
#
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-5}"
case "$secs" in
  ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

# package directory <TAB> target name, for every fuzz target, in a stable order.
mapfile -t targets < <(
  git ls-files --cached --others --exclude-standard -- '*_test.go' 2>/dev/null \
    || find . -name '*_test.go' -not -path './vendor/*' | sed 's|^\./||'
)
list=()
for file in "${targets[@]}"; do
  [ -f "$file" ] || continue
  case "$file" in vendor/*|*/testdata/*) continue ;; esac
  while read -r name; do
    list+=("$(dirname "$file")"$'\t'"$name")
  done < <(grep -oE '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/')
done
if [ "${#list[@]}" -eq 0 ]; then
  echo "no fuzz targets found" >&2
  exit 1
fi
mapfile -t list < <(printf '%s\n' "${list[@]}" | sort -u)

echo "== ${#list[@]} fuzz targets, ${secs}s each"
for entry in "${list[@]}"; do
  dir="${entry%%$'\t'*}"
  name="${entry#*$'\t'}"
  echo "== fuzz ./$dir $name (${secs}s)"
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" "./$dir"; then
    echo "FAIL: fuzz target $name in ./$dir (the failing input is under ./$dir/testdata/fuzz/$name/)" >&2
    exit 1
  fi
done
echo "== all ${#list[@]} fuzz targets passed"
