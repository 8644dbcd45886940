package clientaddr_test

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/phonebook/phonebook/clientaddr"
)

func TestNewRefusesBadEntries(t *testing.T) {
	for _, list := range []string{"10.0.0.0/33", "not-an-ip", "10.0.0.1,,bogus", "192.168.1.1/x"} {
		if _, err := clientaddr.New(list); err == nil {
			t.Errorf("New(%q): got no error, want one", list)
		}
	}
	for _, list := range []string{"", " ", "10.0.0.0/8", "10.0.0.0/8, 192.0.2.7 ,::1,fd00::/8"} {
		if _, err := clientaddr.New(list); err != nil {
			t.Errorf("New(%q): %v", list, err)
		}
	}
}

func TestClientIP(t *testing.T) {
	cases := []struct {
		name    string
		trusted string
		remote  string
		xff     []string
		want    string
	}{
		{"no proxy configured, no header", "", "203.0.113.9:5555", nil, "203.0.113.9"},
		{"spoofed XFF from an untrusted peer is ignored", "", "203.0.113.9:5555", []string{"1.2.3.4"}, "203.0.113.9"},
		{"spoofed XFF from a peer that is not the proxy", "10.0.0.1", "203.0.113.9:5555", []string{"1.2.3.4"}, "203.0.113.9"},
		{"trusted proxy: the hop it appended", "10.0.0.1", "10.0.0.1:443", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client-written entries left of the real one are ignored", "10.0.0.0/8", "10.0.0.1:443", []string{"1.2.3.4, 198.51.100.7"}, "198.51.100.7"},
		{"several trusted hops are skipped", "10.0.0.0/8", "10.0.0.1:443", []string{"1.2.3.4, 198.51.100.7, 10.0.0.5"}, "198.51.100.7"},
		{"several header lines", "10.0.0.0/8", "10.0.0.1:443", []string{"1.2.3.4", "198.51.100.7"}, "198.51.100.7"},
		{"trusted peer without header", "10.0.0.1", "10.0.0.1:443", nil, "10.0.0.1"},
		{"every hop trusted: the leftmost", "10.0.0.0/8", "10.0.0.1:443", []string{"10.0.0.9, 10.0.0.5"}, "10.0.0.9"},
		{"garbage hop stops the walk", "10.0.0.0/8", "10.0.0.1:443", []string{"198.51.100.7, garbage"}, "10.0.0.1"},
		{"IPv6 peer", "", "[2001:db8::1]:443", []string{"1.2.3.4"}, "2001:db8::1"},
		{"IPv6 proxy and client", "2001:db8::/32", "[2001:db8::1]:443", []string{"2001:db9::7"}, "2001:db9::7"},
		{"hop with a port", "10.0.0.1", "10.0.0.1:443", []string{"198.51.100.7:1234"}, "198.51.100.7"},
		{"IPv4-mapped peer", "10.0.0.1", "[::ffff:10.0.0.1]:443", []string{"198.51.100.7"}, "198.51.100.7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := clientaddr.New(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got, want := r.ClientIP(req), netip.MustParseAddr(tc.want); got != want {
				t.Errorf("ClientIP: got %v, want %v", got, want)
			}
		})
	}
}

func TestNilResolverTrustsNobody(t *testing.T) {
	var r *clientaddr.Resolver
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "127.0.0.1:9"
	req.Header.Set("X-Forwarded-For", "1.2.3.4")
	req.Header.Set("X-Forwarded-Proto", "https")
	if got, want := r.ClientIP(req), netip.MustParseAddr("127.0.0.1"); got != want {
		t.Errorf("ClientIP: got %v, want %v", got, want)
	}
	if r.HTTPS(req) {
		t.Error("HTTPS: got true for a forged X-Forwarded-Proto, want false")
	}
}

func TestHTTPS(t *testing.T) {
	cases := []struct {
		name    string
		trusted string
		remote  string
		proto   string
		tls     bool
		want    bool
	}{
		{"plain HTTP", "", "203.0.113.9:1", "", false, false},
		{"TLS", "", "203.0.113.9:1", "", true, true},
		{"forged proto from an untrusted peer", "10.0.0.1", "203.0.113.9:1", "https", false, false},
		{"proto from the trusted proxy", "10.0.0.1", "10.0.0.1:1", "https", false, true},
		{"proto list, client's first", "10.0.0.1", "10.0.0.1:1", "HTTPS, http", false, true},
		{"proxy says http", "10.0.0.1", "10.0.0.1:1", "http", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := clientaddr.New(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tc.remote
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			if got := r.HTTPS(req); got != tc.want {
				t.Errorf("HTTPS: got %v, want %v", got, tc.want)
			}
		})
	}
}
