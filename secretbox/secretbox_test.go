package secretbox_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/phonebook/phonebook/secretbox"
)

func TestSealOpen(t *testing.T) {
	b, err := secretbox.New("server-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"", "s", "signing-secret-0123456789", strings.Repeat("x", 300)} {
		sealed, err := b.Seal(plain)
		if err != nil {
			t.Fatal(err)
		}
		if len(plain) >= 4 && strings.Contains(sealed, plain) {
			t.Errorf("sealed value %q holds the secret", sealed)
		}
		got, err := b.Open(sealed)
		if err != nil || got != plain {
			t.Errorf("Open(Seal(%q)) = %q, %v", plain, got, err)
		}
		again, _ := b.Seal(plain)
		if again == sealed {
			t.Errorf("two seals of %q are equal: the nonce is not random", plain)
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	b, _ := secretbox.New("server-key-0123456789")
	other, _ := secretbox.New("another-key-0123456789")
	sealed, _ := b.Seal("secret-value")
	cases := map[string]string{
		"other key": sealed,
		"no prefix": strings.TrimPrefix(sealed, "v1:"),
		"truncated": sealed[:10],
		"flipped":   sealed[:len(sealed)-2] + "AA",
		"not b64":   "v1:!!!",
		"empty":     "",
	}
	for name, v := range cases {
		box := b
		if name == "other key" {
			box = other
		}
		if _, err := box.Open(v); !errors.Is(err, secretbox.ErrOpen) {
			t.Errorf("%s: got %v, want ErrOpen", name, err)
		}
	}
	if _, err := secretbox.New("short"); err == nil {
		t.Error("New accepted a short key")
	}
}
