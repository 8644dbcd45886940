package phonebook

import (
	"context"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Address classes: why an address is no public destination. AddrClass
// answers one of them, or "" for a public unicast address.
const (
	AddrUnspecified = "unspecified" // 0.0.0.0/8, ::
	AddrLoopback    = "loopback"    // 127.0.0.0/8, ::1
	AddrPrivate     = "private"     // RFC 1918, fc00::/7 (unique local), fec0::/10 (old site-local)
	AddrShared      = "shared"      // 100.64.0.0/10, carrier-grade NAT (RFC 6598)
	AddrLinkLocal   = "link-local"  // 169.254.0.0/16 (cloud metadata lives there), fe80::/10
	AddrMulticast   = "multicast"   // 224.0.0.0/4, ff00::/8
	AddrBroadcast   = "broadcast"   // 255.255.255.255
	AddrReserved    = "reserved"    // other special-purpose blocks (IANA registries), see reservedPrefixes
)

// reservedPrefixes are special-purpose blocks that are no public unicast
// destination and that netip has no predicate for: protocol assignments,
// documentation, benchmarking, future use, and IPv6 blocks whose
// embedded IPv4 address cannot be checked (Teredo obfuscates it).
var reservedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (RFC 6890)
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1 (RFC 5737)
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast, deprecated (RFC 7526)
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking (RFC 2544)
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // future use (RFC 1112), 255.255.255.255 aside
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64 (RFC 8215)
	netip.MustParsePrefix("100::/64"),        // discard-only (RFC 6666)
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments, Teredo 2001::/32 among them
	netip.MustParsePrefix("2001:db8::/32"),   // documentation (RFC 3849)
}

var (
	sharedPrefix = netip.MustParsePrefix("100.64.0.0/10")
	siteLocal    = netip.MustParsePrefix("fec0::/10")
	nat64        = netip.MustParsePrefix("64:ff9b::/96")    // well-known NAT64 (RFC 6052): the last 32 bits are IPv4
	sixToFour    = netip.MustParsePrefix("2002::/16")       // 6to4 (RFC 3056): bits 16-48 are IPv4
	translated   = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT IPv4-translated (RFC 2765)
	compatible   = netip.MustParsePrefix("::/96")           // IPv4-compatible, deprecated (RFC 4291)
	globalV6     = netip.MustParsePrefix("2000::/3")        // everything else of IPv6 is not routed publicly
)

// AddrClass reports what kind of special-purpose address a is: one of the
// Addr* classes, or "" for a public unicast address. IPv6 forms that carry
// an IPv4 address (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d,
// IPv4-translated, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the
// IPv4 address they carry, so ::ffff:127.0.0.1 is loopback. It is the one
// classification used both when a webhook is created and when its
// deliverer dials.
func AddrClass(a netip.Addr) string {
	if !a.IsValid() {
		return AddrReserved
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return addrClass4(a)
	}
	b := a.As16()
	switch {
	case a.IsUnspecified():
		return AddrUnspecified
	case a.IsLoopback():
		return AddrLoopback
	case compatible.Contains(a), translated.Contains(a), nat64.Contains(a):
		if c := addrClass4(netip.AddrFrom4([4]byte(b[12:16]))); c != "" {
			return c
		}
		if !nat64.Contains(a) {
			return AddrReserved // deprecated forms nobody routes, even to a public IPv4
		}
		return ""
	case sixToFour.Contains(a):
		return addrClass4(netip.AddrFrom4([4]byte(b[2:6])))
	case a.IsMulticast():
		return AddrMulticast
	case a.IsLinkLocalUnicast():
		return AddrLinkLocal
	case a.IsPrivate(), siteLocal.Contains(a):
		return AddrPrivate
	}
	for _, p := range reservedPrefixes {
		if p.Contains(a) {
			return AddrReserved
		}
	}
	if !globalV6.Contains(a) {
		return AddrReserved
	}
	return ""
}

// addrClass4 classifies an IPv4 address.
func addrClass4(a netip.Addr) string {
	b := a.As4()
	switch {
	case b[0] == 0: // 0.0.0.0/8: "this network"; Linux connects 0.0.0.0 to the host itself
		return AddrUnspecified
	case a.IsLoopback():
		return AddrLoopback
	case a.IsPrivate():
		return AddrPrivate
	case sharedPrefix.Contains(a):
		return AddrShared
	case a.IsLinkLocalUnicast():
		return AddrLinkLocal
	case a.IsMulticast():
		return AddrMulticast
	case b == [4]byte{255, 255, 255, 255}:
		return AddrBroadcast
	}
	for _, p := range reservedPrefixes {
		if p.Contains(a) {
			return AddrReserved
		}
	}
	return ""
}

// DefaultMaxWebhooksPerTenant is how many webhooks a tenant may have when
// the operator sets no other limit.
const DefaultMaxWebhooksPerTenant = 20

// WebhookPolicy is the operator's rule for webhook destinations. The zero
// value is the default: only public addresses, http or https, at most
// DefaultMaxWebhooksPerTenant webhooks per tenant.
type WebhookPolicy struct {
	// AllowPrivate lets webhooks reach loopback, private (RFC 1918,
	// fc00::/7) and carrier-grade NAT addresses, and host names such as
	// localhost or *.internal: for an on-premise receiver, or tests whose
	// receivers listen on 127.0.0.1. Link-local (cloud metadata),
	// multicast, broadcast, unspecified and reserved addresses stay
	// refused: no receiver lives there.
	AllowPrivate bool
	// RequireHTTPS refuses http:// webhooks.
	RequireHTTPS bool
	// MaxPerTenant is the most webhooks one tenant may have; 0 means
	// DefaultMaxWebhooksPerTenant.
	MaxPerTenant int
	// Resolve, when set, looks a webhook's host name up when the webhook
	// is created (within WebhookLookupTimeout): a name that resolves to a
	// forbidden address is refused then already. A failed lookup is
	// accepted (the name may resolve later); the deliverer checks the
	// addresses at every connection either way, so this is a courtesy to
	// the tenant, not the defence. Nil: no lookup (tests stay offline).
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// WebhookLookupTimeout bounds the create-time lookup of a webhook's host.
const WebhookLookupTimeout = time.Second

// checkResolved refuses a webhook URL whose host name resolves, now, to
// an address the policy forbids. Literal addresses were checked by
// CheckWebhookURL.
func (p WebhookPolicy) checkResolved(ctx context.Context, u *url.URL) error {
	host := strings.TrimRight(strings.ToLower(u.Hostname()), ".")
	if _, err := netip.ParseAddr(host); err == nil || p.Resolve == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, WebhookLookupTimeout)
	defer cancel()
	addrs, err := p.Resolve(ctx, host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if class, forbidden := p.AddrForbidden(a); forbidden {
			return Errorf(ECodeURLForbidden, "url", "the host name resolves to a %s address; webhooks go to public receivers", class)
		}
	}
	return nil
}

// SetWebhookPolicy sets the destination policy that webhook creation and
// the deliverers apply. Call it before the service is used.
func (s *Service) SetWebhookPolicy(p WebhookPolicy) { s.webhooks = p }

// WebhookPolicy returns the destination policy in force.
func (s *Service) WebhookPolicy() WebhookPolicy { return s.webhooks }

// maxPerTenant is the effective limit.
func (p WebhookPolicy) maxPerTenant() int {
	if p.MaxPerTenant <= 0 {
		return DefaultMaxWebhooksPerTenant
	}
	return p.MaxPerTenant
}

// AddrForbidden reports whether the policy refuses a as a destination, and
// the class of address that makes it so.
func (p WebhookPolicy) AddrForbidden(a netip.Addr) (class string, forbidden bool) {
	class = AddrClass(a)
	switch class {
	case "":
		return "", false
	case AddrLoopback, AddrPrivate, AddrShared:
		return class, !p.AllowPrivate
	}
	return class, true
}

// internalNames are host names (and, with a leading dot, suffixes) that
// name the host itself or a private network, never a public receiver.
var internalNames = []string{
	"localhost", ".localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback",
	".local", ".internal", ".home.arpa", ".localdomain",
}

// CheckWebhookURL parses raw as a webhook destination and applies the
// policy to it without any DNS lookup: the scheme, literal addresses in
// every form a resolver or browser reads (127.1, 2130706433, 0x7f.1,
// 017700000001, [::ffff:127.0.0.1]), and names of the host itself or of
// private networks (localhost, *.localhost, *.local, *.internal). A
// name's addresses are checked when the deliverer dials, every attempt.
// Errors, on field url: validation (not an absolute http(s) URL),
// url_forbidden (refused by the policy).
func (p WebhookPolicy) CheckWebhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" || len(raw) > 2000 {
		return nil, Errorf(ECodeValidation, "url", "url must be an absolute http or https URL")
	}
	if p.RequireHTTPS && u.Scheme != "https" {
		return nil, Errorf(ECodeURLForbidden, "url", "url must be https: this server delivers webhooks over https only")
	}
	host := strings.TrimRight(strings.ToLower(u.Hostname()), ".")
	if a, err := netip.ParseAddr(host); err == nil {
		return u, p.checkLiteral(a)
	}
	for _, r := range host {
		if r > 0x7e || r < 0x21 {
			// IDNA would map some characters to ASCII (full-width digits
			// and dots among them) before the name is resolved; the ASCII
			// form is what can be checked.
			return nil, Errorf(ECodeURLForbidden, "url", "the host name must be ASCII: write an internationalized name in its xn-- form")
		}
	}
	if endsInNumber(host) {
		a, ok := parseIPv4Loose(host)
		if !ok {
			return nil, Errorf(ECodeURLForbidden, "url", "the host looks like an IPv4 address but is not one")
		}
		if err := p.checkLiteral(a); err != nil {
			return nil, err
		}
		return nil, Errorf(ECodeURLForbidden, "url", "write an IPv4 host as four decimal numbers (%s)", a)
	}
	if !p.AllowPrivate {
		if !strings.Contains(host, ".") {
			// A name without a dot is completed with the server's own
			// search domains: it names a host of the server's network.
			return nil, Errorf(ECodeURLForbidden, "url", "the host name has no dot: it would be looked up in this server's own network")
		}
		for _, n := range internalNames {
			if host == n || (n[0] == '.' && strings.HasSuffix(host, n)) {
				return nil, Errorf(ECodeURLForbidden, "url", "the host names this server or a private network; webhooks go to public receivers")
			}
		}
	}
	return u, nil
}

// checkLiteral applies the policy to a host written as an address.
func (p WebhookPolicy) checkLiteral(a netip.Addr) error {
	if class, forbidden := p.AddrForbidden(a); forbidden {
		return Errorf(ECodeURLForbidden, "url", "the host is a %s address; webhooks go to public receivers", class)
	}
	return nil
}

// endsInNumber reports whether host's last label is a number (decimal, or
// hex with 0x), which makes browsers (WHATWG URL) and inet_aton read the
// whole host as an IPv4 address.
func endsInNumber(host string) bool {
	labels := strings.Split(host, ".")
	last := labels[len(labels)-1]
	if last == "" {
		return false
	}
	if strings.Trim(last, "0123456789") == "" {
		return true
	}
	if h, ok := strings.CutPrefix(last, "0x"); ok && strings.Trim(h, "0123456789abcdef") == "" {
		return true
	}
	return false
}

// parseIPv4Loose reads host as the WHATWG URL standard (and inet_aton)
// read IPv4: one to four parts, each decimal, octal (leading 0) or hex
// (0x); the last part fills the remaining bytes (127.1 is 127.0.0.1,
// 2130706433 is 127.0.0.1).
func parseIPv4Loose(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, s := range parts {
		base := 10
		switch {
		case strings.HasPrefix(s, "0x"):
			s, base = s[2:], 16
			if s == "" {
				s = "0"
			}
		case len(s) > 1 && s[0] == '0':
			s, base = s[1:], 8
		}
		n, err := strconv.ParseUint(s, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	var v uint64
	for i, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, false
		}
		v |= n << (8 * (3 - i))
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v |= last
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}
