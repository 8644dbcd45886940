package console

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

// TestVendoredChecksums guards against hand edits of the vendored htmx:
// its files must match assets/htmx/SHA256SUMS, written by update-htmx.sh.
func TestVendoredChecksums(t *testing.T) {
	sums, err := assetFS.ReadFile("assets/htmx/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("malformed SHA256SUMS line %q", sc.Text())
		}
		listed[name] = true
		b, err := assetFS.ReadFile("assets/htmx/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, SHA256SUMS says %s", name, got, want)
		}
	}
	for _, name := range []string{"htmx.min.js", "LICENSE"} {
		if !listed[name] {
			t.Errorf("%s is not in SHA256SUMS", name)
		}
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(HTMXVersion) || !strings.HasPrefix(HTMXIntegrity, "sha512-") {
		t.Errorf("HTMXVersion %q, HTMXIntegrity %q", HTMXVersion, HTMXIntegrity)
	}
}

func TestFlag(t *testing.T) {
	for region, want := range map[string]string{"US": "🇺🇸", "gb": "🇬🇧", "001": "🌐", "": "", "U": "", "U1": "", "USA": ""} {
		if got := flag(region); got != want {
			t.Errorf("flag(%q) = %q, want %q", region, got, want)
		}
	}
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"+1 504 555 0123": "+1 504 555 0123", "-": "-", "(504) 555-0123": "(504) 555-0123",
		"=1+1": "'=1+1", "@SUM(A1)": "'@SUM(A1)", "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0", "-2+3+cmd|x": "'-2+3+cmd|x",
		"\tx": "'\tx", "Ada": "Ada",
	} {
		if got := safeCell(in); got != want {
			t.Errorf("safeCell(%q) = %q, want %q", in, got, want)
		}
	}
}
