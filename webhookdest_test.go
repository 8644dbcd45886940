package phonebook_test

import (
	"net/netip"
	"testing"

	"github.com/phonebook/phonebook"
)

// TestAddrClass: every special-purpose range, and IPv6 forms that carry an
// IPv4 address, are classified by what they reach.
func TestAddrClass(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr, want string
	}{
		// public
		{"8.8.8.8", ""},
		{"93.184.216.34", ""},
		{"1.1.1.1", ""},
		{"2606:4700:4700::1111", ""},
		{"64:ff9b::808:808", ""}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", ""},  // 6to4 of 8.8.8.8
		{"::ffff:8.8.8.8", ""},   // IPv4-mapped 8.8.8.8
		{"100.63.255.255", ""},   // just below carrier-grade NAT
		{"100.128.0.0", ""},      // just above it
		{"172.32.0.1", ""},       // just above 172.16/12
		{"198.20.0.1", ""},       // just above benchmarking
		// unspecified
		{"0.0.0.0", phonebook.AddrUnspecified},
		{"0.1.2.3", phonebook.AddrUnspecified},
		{"::", phonebook.AddrUnspecified},
		// loopback
		{"127.0.0.1", phonebook.AddrLoopback},
		{"127.255.255.254", phonebook.AddrLoopback},
		{"::1", phonebook.AddrLoopback},
		{"::ffff:127.0.0.1", phonebook.AddrLoopback}, // IPv4-mapped
		{"::127.0.0.1", phonebook.AddrLoopback},      // IPv4-compatible
		{"::ffff:0:7f00:1", phonebook.AddrLoopback},  // IPv4-translated
		{"64:ff9b::7f00:1", phonebook.AddrLoopback},  // NAT64
		{"2002:7f00:1::1", phonebook.AddrLoopback},   // 6to4
		{"::ffff:7f00:1", phonebook.AddrLoopback},    // mapped, hex
		// private
		{"10.0.0.5", phonebook.AddrPrivate},
		{"172.16.0.1", phonebook.AddrPrivate},
		{"172.31.255.255", phonebook.AddrPrivate},
		{"192.168.1.1", phonebook.AddrPrivate},
		{"fc00::1", phonebook.AddrPrivate},
		{"fd12:3456:789a::1", phonebook.AddrPrivate},
		{"fec0::1", phonebook.AddrPrivate}, // old site-local
		{"::ffff:10.0.0.5", phonebook.AddrPrivate},
		{"64:ff9b::c0a8:101", phonebook.AddrPrivate}, // NAT64 of 192.168.1.1
		{"2002:a00:5::", phonebook.AddrPrivate},      // 6to4 of 10.0.0.5
		// carrier-grade NAT
		{"100.64.0.1", phonebook.AddrShared},
		{"100.127.255.254", phonebook.AddrShared},
		// link-local, cloud metadata among them
		{"169.254.169.254", phonebook.AddrLinkLocal},
		{"fe80::1", phonebook.AddrLinkLocal},
		{"fe80::1%eth0", phonebook.AddrLinkLocal},
		{"::ffff:169.254.169.254", phonebook.AddrLinkLocal},
		{"64:ff9b::a9fe:a9fe", phonebook.AddrLinkLocal},
		{"2002:a9fe:a9fe::", phonebook.AddrLinkLocal},
		{"fd00:ec2::254", phonebook.AddrPrivate}, // AWS's IPv6 metadata address
		// multicast, broadcast
		{"224.0.0.1", phonebook.AddrMulticast},
		{"239.255.255.250", phonebook.AddrMulticast},
		{"ff02::1", phonebook.AddrMulticast},
		{"ff05::2", phonebook.AddrMulticast},
		{"255.255.255.255", phonebook.AddrBroadcast},
		{"::ffff:255.255.255.255", phonebook.AddrBroadcast},
		// other special-purpose blocks
		{"192.0.0.8", phonebook.AddrReserved},
		{"192.0.2.1", phonebook.AddrReserved},
		{"198.18.0.1", phonebook.AddrReserved},
		{"198.19.255.255", phonebook.AddrReserved},
		{"198.51.100.7", phonebook.AddrReserved},
		{"203.0.113.9", phonebook.AddrReserved},
		{"240.0.0.1", phonebook.AddrReserved},
		{"192.88.99.1", phonebook.AddrReserved},
		{"2001:db8::1", phonebook.AddrReserved},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", phonebook.AddrReserved}, // Teredo
		{"100::1", phonebook.AddrReserved},
		{"64:ff9b:1::1", phonebook.AddrReserved},
		{"::8.8.8.8", phonebook.AddrReserved}, // deprecated IPv4-compatible, even of a public address
		{"4000::1", phonebook.AddrReserved},   // outside 2000::/3
	} {
		a := netip.MustParseAddr(tc.addr)
		if got := phonebook.AddrClass(a); got != tc.want {
			t.Errorf("AddrClass(%s): got %q, want %q", tc.addr, got, tc.want)
		}
	}
	if got, want := phonebook.AddrClass(netip.Addr{}), phonebook.AddrReserved; got != want {
		t.Errorf("AddrClass(zero Addr): got %q, want %q", got, want)
	}
}

// TestWebhookPolicyAddrForbidden: private destinations are refused by
// default and allowed by AllowPrivate; link-local (metadata), multicast,
// broadcast, unspecified and reserved ones stay refused either way.
func TestWebhookPolicyAddrForbidden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr                   string
		strict, allowedPrivate bool // forbidden under the default policy; under AllowPrivate
	}{
		{"8.8.8.8", false, false},
		{"2606:4700:4700::1111", false, false},
		{"127.0.0.1", true, false},
		{"::1", true, false},
		{"::ffff:127.0.0.1", true, false},
		{"10.0.0.5", true, false},
		{"fd00::1", true, false},
		{"100.64.0.1", true, false},
		{"169.254.169.254", true, true},
		{"fe80::1", true, true},
		{"0.0.0.0", true, true},
		{"::", true, true},
		{"224.0.0.1", true, true},
		{"255.255.255.255", true, true},
		{"198.18.0.1", true, true},
	} {
		a := netip.MustParseAddr(tc.addr)
		if _, got := (phonebook.WebhookPolicy{}).AddrForbidden(a); got != tc.strict {
			t.Errorf("default policy, %s: forbidden %v, want %v", tc.addr, got, tc.strict)
		}
		if _, got := (phonebook.WebhookPolicy{AllowPrivate: true}).AddrForbidden(a); got != tc.allowedPrivate {
			t.Errorf("AllowPrivate, %s: forbidden %v, want %v", tc.addr, got, tc.allowedPrivate)
		}
	}
}

// TestCheckWebhookURL: literal hosts in every notation a resolver or a
// browser reads, and names of the host itself or of private networks, are
// refused at create time, with code url_forbidden on field url.
func TestCheckWebhookURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url    string
		policy phonebook.WebhookPolicy
		code   string // "": accepted
	}{
		{"https://example.com/hook", phonebook.WebhookPolicy{}, ""},
		{"http://hooks.example.com:8080/in?x=1", phonebook.WebhookPolicy{}, ""},
		{"http://93.184.216.34/", phonebook.WebhookPolicy{}, ""},
		{"http://[2606:4700:4700::1111]:8443/", phonebook.WebhookPolicy{}, ""},
		{"http://[64:ff9b::808:808]/", phonebook.WebhookPolicy{}, ""},
		{"https://xn--bcher-kva.example/", phonebook.WebhookPolicy{}, ""},
		{"https://1password.com/", phonebook.WebhookPolicy{}, ""}, // a label may start with a digit
		// literal addresses
		{"http://127.0.0.1:8080/x", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://169.254.169.254/latest/meta-data/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://10.0.0.5/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://172.16.0.1/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://192.168.0.1/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://100.64.0.1/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://0.0.0.0:8080/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://224.0.0.1/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://255.255.255.255/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://[::1]/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://[::]/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://[::ffff:127.0.0.1]/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://[::ffff:a9fe:a9fe]/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://[64:ff9b::7f00:1]/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://[2002:7f00:1::]/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://[fe80::1%25eth0]/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://[fd00:ec2::254]/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		// odd IPv4 notations
		{"http://2130706433/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://0x7f000001/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://0X7F.1/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://017700000001/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://127.1/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://0177.0.0.1/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://127.000.000.001/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://0/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://169.254.43518/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden}, // 169.254.169.254
		{"http://127.0.0.1./", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://134744072/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden}, // 8.8.8.8, but not as a dotted quad
		{"http://1.2.3.4.5/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://256.1.1.1/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://08.1.1.1/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://user:pw@127.0.0.1/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://example.com@127.0.0.1/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://１２７.０.０.１/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		// names
		{"http://localhost:8080/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://LOCALHOST/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://localhost./", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://api.localhost/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://metadata.google.internal/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://printer.local/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://router.home.arpa/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://ip6-localhost/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		{"http://intranet/", phonebook.WebhookPolicy{}, phonebook.ECodeURLForbidden},
		// not URLs of a receiver at all
		{"gopher://127.0.0.1:6379/", phonebook.WebhookPolicy{}, phonebook.ECodeValidation},
		{"http:///x", phonebook.WebhookPolicy{}, phonebook.ECodeValidation},
		{"http://:80/x", phonebook.WebhookPolicy{}, phonebook.ECodeValidation},
		// AllowPrivate: on-premise receivers and names, not metadata
		{"http://127.0.0.1:8080/x", phonebook.WebhookPolicy{AllowPrivate: true}, ""},
		{"http://[::1]:8080/x", phonebook.WebhookPolicy{AllowPrivate: true}, ""},
		{"http://10.0.0.5/", phonebook.WebhookPolicy{AllowPrivate: true}, ""},
		{"http://localhost:8080/", phonebook.WebhookPolicy{AllowPrivate: true}, ""},
		{"http://hooks.internal/", phonebook.WebhookPolicy{AllowPrivate: true}, ""},
		{"http://169.254.169.254/", phonebook.WebhookPolicy{AllowPrivate: true}, phonebook.ECodeURLForbidden},
		{"http://0.0.0.0/", phonebook.WebhookPolicy{AllowPrivate: true}, phonebook.ECodeURLForbidden},
		{"http://2130706433/", phonebook.WebhookPolicy{AllowPrivate: true}, phonebook.ECodeURLForbidden}, // write it as 127.0.0.1
		// RequireHTTPS
		{"http://example.com/", phonebook.WebhookPolicy{RequireHTTPS: true}, phonebook.ECodeURLForbidden},
		{"https://example.com/", phonebook.WebhookPolicy{RequireHTTPS: true}, ""},
	} {
		u, err := tc.policy.CheckWebhookURL(tc.url)
		if got := phonebook.ErrorCode(err); got != tc.code {
			t.Errorf("%+v CheckWebhookURL(%q): got code %q (%v), want %q", tc.policy, tc.url, got, err, tc.code)
			continue
		}
		if err != nil {
			if got, want := phonebook.ErrorField(err), "url"; got != want {
				t.Errorf("CheckWebhookURL(%q): got field %q, want %q", tc.url, got, want)
			}
			continue
		}
		if u == nil || u.String() != tc.url {
			t.Errorf("CheckWebhookURL(%q): got URL %v, want it as given", tc.url, u)
		}
	}
}
