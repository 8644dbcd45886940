package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"
)

// assetFS holds the console's own CSS and script and the vendored htmx
// (assets/htmx: a pinned npm build, see update-htmx.sh). Everything the
// pages load comes from here: no CDN.
//
//go:embed assets templates
var assetFS embed.FS

// HTMXVersion and HTMXIntegrity come from assets/htmx/VERSION: the pinned
// htmx.org version and the npm sha512 integrity of its tarball.
var HTMXVersion, HTMXIntegrity = mustReadHTMXVersion()

func mustReadHTMXVersion() (string, string) {
	b, err := assetFS.ReadFile("assets/htmx/VERSION")
	if err != nil {
		panic("console: " + err.Error())
	}
	f := strings.Fields(string(b))
	if len(f) != 2 || !strings.HasPrefix(f[1], "sha512-") {
		panic(fmt.Sprintf("console: malformed assets/htmx/VERSION %q; rerun web/console/update-htmx.sh", b))
	}
	return f[0], f[1]
}

// served lists the assets by the name they are served under, with the
// file they come from and their type.
var served = map[string]struct{ file, ctype string }{
	"console.css":       {"assets/console.css", "text/css; charset=utf-8"},
	"console.js":        {"assets/console.js", "application/javascript; charset=utf-8"},
	"htmx.min.js":       {"assets/htmx/htmx.min.js", "application/javascript; charset=utf-8"},
	"htmx-LICENSE.txt":  {"assets/htmx/LICENSE", "text/plain; charset=utf-8"},
	"htmx-SHA256SUMS":   {"assets/htmx/SHA256SUMS", "text/plain; charset=utf-8"},
	"htmx-VERSION.txt":  {"assets/htmx/VERSION", "text/plain; charset=utf-8"},
	"import-sample.csv": {"assets/import-sample.csv", "text/csv; charset=utf-8"},
}

// asset is one prepared response.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

// assetSet is every asset under one version: the first 12 hex digits of a
// hash over all of them, so any change makes new URLs and the old ones can
// be cached forever.
type assetSet struct {
	version string
	byName  map[string]*asset
}

func loadAssets() *assetSet {
	s := &assetSet{byName: map[string]*asset{}}
	all := sha256.New()
	names := make([]string, 0, len(served))
	for name := range served {
		names = append(names, name)
	}
	slices.Sort(names) // a fixed order keeps the version stable
	for _, name := range names {
		f := served[name]
		b, err := fs.ReadFile(assetFS, f.file)
		if err != nil {
			panic("console: " + err.Error())
		}
		sum := sha256.Sum256(b)
		all.Write([]byte(name))
		all.Write(sum[:])
		s.byName[name] = &asset{body: b, ctype: f.ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}
	s.version = hex.EncodeToString(all.Sum(nil))[:12]
	return s
}

// url is where asset name is served.
func (s *assetSet) url(name string) string {
	if _, ok := s.byName[name]; !ok {
		panic("console: unknown asset " + name)
	}
	return "/console/assets/" + s.version + "/" + name
}

// serve answers GET /console/assets/{version}/{name}: versioned assets are
// immutable; a stale version is not found (the page that asked for it is
// older than this binary).
func (s *assetSet) serve(w http.ResponseWriter, r *http.Request) {
	a := s.byName[r.PathValue("name")]
	if a == nil || r.PathValue("version") != s.version {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
