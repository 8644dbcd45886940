// Package clientaddr tells who a request really comes from when phonebook
// runs behind reverse proxies: the client's address and whether it used
// HTTPS. X-Forwarded-For and X-Forwarded-Proto are believed only from the
// proxies the operator lists (PHONEBOOK_TRUSTED_PROXIES): anyone else can
// write those headers, so from anyone else they are ignored.
package clientaddr

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver reads a request's client address and scheme. The zero value
// and a nil *Resolver trust no proxy: the peer of the connection is the
// client.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver trusting the proxies in list: comma-separated
// CIDRs (10.0.0.0/8, fd00::/8) or single addresses (192.0.2.7). An empty
// list trusts no proxy. An entry that is neither is an error, so a typo
// never silently turns the setting off.
func New(list string) (*Resolver, error) {
	r := &Resolver{}
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.Contains(part, "/") {
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: want an IP address or a CIDR such as 10.0.0.0/8", part)
			}
			r.trusted = append(r.trusted, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want an IP address or a CIDR such as 10.0.0.0/8", part)
		}
		a = a.Unmap()
		r.trusted = append(r.trusted, netip.PrefixFrom(a, a.BitLen()))
	}
	return r, nil
}

// Trusted reports whether a is one of the trusted proxies.
func (r *Resolver) Trusted(a netip.Addr) bool {
	if r == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peer is the address of the connection's other end.
func peer(req *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(req.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// ClientIP returns the client's address: the connection's peer, unless the
// peer is a trusted proxy; then X-Forwarded-For is read from the right
// (each proxy appends the address it received from), skipping trusted
// hops, and the first untrusted address is the client. Entries left of it
// were written by the client itself and are never believed. When every
// hop is trusted, the leftmost is the client; an unparsable hop ends the
// walk at the last address that was believable.
func (r *Resolver) ClientIP(req *http.Request) netip.Addr {
	p := peer(req)
	if !r.Trusted(p) {
		return p
	}
	client := p
	hops := forwardedFor(req.Header.Values("X-Forwarded-For"))
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.Trim(hops[i], "[]"))
		if err != nil {
			if host, _, serr := net.SplitHostPort(hops[i]); serr == nil {
				a, err = netip.ParseAddr(strings.Trim(host, "[]"))
			}
		}
		if err != nil {
			return client
		}
		client = a.Unmap()
		if !r.Trusted(client) {
			return client
		}
	}
	return client
}

// forwardedFor splits the X-Forwarded-For headers (one or several lines)
// into hops, left to right.
func forwardedFor(lines []string) []string {
	var hops []string
	for _, l := range lines {
		for _, h := range strings.Split(l, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	return hops
}

// HTTPS reports whether the client used HTTPS: the connection is TLS, or
// a trusted proxy says so with X-Forwarded-Proto: https.
func (r *Resolver) HTTPS(req *http.Request) bool {
	if req.TLS != nil {
		return true
	}
	if !r.Trusted(peer(req)) {
		return false
	}
	// A chain of proxies may list one scheme per hop; the first is the
	// client's.
	proto, _, _ := strings.Cut(req.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}
