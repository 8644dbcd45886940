#!/usr/bin/env bash
# update-apidocs.sh VERSION
#
# Vendors an exact, pinned version of the npm package swagger-ui-dist into
# web/apidocs/dist/, which web/apidocs embeds with //go:embed. Only npm (and
# its node) are needed to run this script; building the Go module needs
# neither, because the result is committed to the tree.
#
# Steps:
#   1. npm pack swagger-ui-dist@VERSION into a temporary directory;
#   2. check the tarball against the sha512 integrity the registry reports
#      (npm view swagger-ui-dist@VERSION dist.integrity);
#   3. check that the package.json inside the tarball has exactly VERSION;
#   4. copy only the files the documentation page needs, plus the licence
#      files, into web/apidocs/dist/ (replacing what was there);
#   5. write dist/VERSION (version and integrity) and dist/SHA256SUMS.
#
# Example: scripts/update-apidocs.sh 5.35.0
set -euo pipefail

pkg=swagger-ui-dist

# Files taken from the package. swagger-ui-bundle.js and swagger-ui.css are
# served to browsers; LICENSE, NOTICE (Apache-2.0 §4) and the bundle's
# third-party licence notes are kept so the redistribution stays compliant.
files=(
	swagger-ui-bundle.js
	swagger-ui.css
	LICENSE
	NOTICE
	swagger-ui-bundle.js.LICENSE.txt
)

usage() {
	echo "usage: $0 VERSION   (an exact version such as 5.35.0, no ranges or tags)" >&2
	exit 2
}

[[ $# -eq 1 ]] || usage
version=$1
# Exact versions only: a range or dist-tag would make the pin meaningless.
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || usage

for tool in npm node tar; do
	command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$root/web/apidocs/dist

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Run npm from the temp dir so no project npm configuration is picked up.
cd "$tmp"

if ! expected=$(npm view "$pkg@$version" dist.integrity 2>"$tmp/npm-view.log"); then
	echo "$0: npm view $pkg@$version failed:" >&2
	grep -v '^npm warn' "$tmp/npm-view.log" >&2 || true
	exit 1
fi
if [[ $expected != sha512-* ]]; then
	echo "$0: npm reports no sha512 integrity for $pkg@$version (got '$expected')" >&2
	exit 1
fi

npm pack "$pkg@$version" --pack-destination "$tmp" --silent >/dev/null 2>"$tmp/npm-pack.log" || {
	cat "$tmp/npm-pack.log" >&2
	exit 1
}
tarball=$tmp/$pkg-$version.tgz
[[ -f $tarball ]] || { echo "$0: npm pack did not produce $tarball" >&2; exit 1; }

actual=$(node -e '
	const crypto = require("crypto"), fs = require("fs");
	const h = crypto.createHash("sha512").update(fs.readFileSync(process.argv[1]));
	process.stdout.write("sha512-" + h.digest("base64"));
' "$tarball")
if [[ $actual != "$expected" ]]; then
	echo "$0: integrity mismatch for $tarball" >&2
	echo "  registry: $expected" >&2
	echo "  tarball:  $actual" >&2
	exit 1
fi

members=(package/package.json)
for f in "${files[@]}"; do members+=("package/$f"); done
tar -xzf "$tarball" -C "$tmp" "${members[@]}"

pkgversion=$(node -p 'require(process.argv[1]).version' "$tmp/package/package.json")
if [[ $pkgversion != "$version" ]]; then
	echo "$0: package.json says $pkgversion, wanted $version" >&2
	exit 1
fi

# Stage next to the destination, then swap, so a failure never leaves a
# half-written dist/ behind.
stage=$(mktemp -d "$root/web/apidocs/.dist.XXXXXX")
trap 'rm -rf "$tmp" "$stage"' EXIT
for f in "${files[@]}"; do
	install -m 0644 "$tmp/package/$f" "$stage/$f"
done
printf '%s\n%s\n' "$pkgversion" "$expected" >"$stage/VERSION"
(cd "$stage" && LC_ALL=C sha256sum -- "${files[@]}" >SHA256SUMS)
chmod 0644 "$stage/VERSION" "$stage/SHA256SUMS"
chmod 0755 "$stage"

rm -rf "$dest"
mv "$stage" "$dest"

echo "$pkg $pkgversion ($expected) -> ${dest#"$root"/}"
du -cb "$dest"/* | tail -n 1 | awk '{print "total " $1 " bytes"}'
