#!/usr/bin/env bash
# Vendors a pinned htmx build from the npm registry into
# web/console/assets/htmx/, where it is embedded into the binary and served
# by the console under a versioned path. Nothing is loaded from a CDN.
#
#   web/console/update-htmx.sh 2.0.11
#
# Writes htmx.min.js and LICENSE from the npm tarball, VERSION (version and
# the tarball's sha512 integrity, checked against the registry's) and
# SHA256SUMS of the vendored files (checked by TestVendoredChecksums, so a
# hand edit of a vendored file fails the tests).
set -euo pipefail
cd "$(dirname "$0")"

version="${1:?usage: $0 HTMX_VERSION (e.g. 2.0.11)}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

want_integrity="$(npm view "htmx.org@$version" dist.integrity)"
(cd "$tmp" && npm pack --silent "htmx.org@$version" >/dev/null)
tarball="$tmp/htmx.org-$version.tgz"
got_integrity="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$got_integrity" != "$want_integrity" ]; then
  echo "integrity mismatch: registry says $want_integrity, tarball is $got_integrity" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$tmp"

dest=assets/htmx
rm -rf "$dest"
mkdir -p "$dest"
cp "$tmp/package/dist/htmx.min.js" "$dest/htmx.min.js"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
printf '%s\n%s\n' "$version" "$got_integrity" >"$dest/VERSION"

(cd "$dest" && sha256sum htmx.min.js LICENSE >SHA256SUMS)
echo "htmx $version vendored into $dest"
