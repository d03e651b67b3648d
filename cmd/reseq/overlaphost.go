package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/reseq/reseq/tcpasm"
)

// hostPolicy is one prefix of --overlap-host.
type hostPolicy struct {
	pfx netip.Prefix
	pol tcpasm.Overlap
}

// hostPolicies is --overlap-host POLICY=CIDR[,CIDR...], repeatable: the
// overlap policy of receiving hosts, like Suricata's host-os-policy.
type hostPolicies struct{ v *[]hostPolicy }

func (h hostPolicies) String() string {
	if h.v == nil {
		return ""
	}
	var b strings.Builder
	for i, e := range *h.v {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%v=%v", e.pol, e.pfx)
	}
	return b.String()
}

func (h hostPolicies) Set(x string) error {
	name, list, ok := strings.Cut(x, "=")
	if !ok || list == "" {
		return fmt.Errorf("want POLICY=CIDR[,CIDR...], e.g. windows=10.0.0.0/8")
	}
	pol, ok := tcpasm.ParseOverlap(name)
	if !ok {
		return fmt.Errorf("policy %q: want one of %s", name, strings.Join(tcpasm.PolicyNames(), ", "))
	}
	for _, c := range strings.Split(list, ",") {
		c = strings.TrimSpace(c)
		var pfx netip.Prefix
		var err error
		if strings.Contains(c, "/") {
			pfx, err = netip.ParsePrefix(c)
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(c)
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		if err != nil {
			return fmt.Errorf("%q: want an address or CIDR prefix", c)
		}
		pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-unmapBits(pfx.Addr())).Masked()
		*h.v = append(*h.v, hostPolicy{pfx, pol})
	}
	return nil
}

// unmapBits: the 96 bits an IPv4-mapped IPv6 prefix loses as IPv4.
func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}

// overlapFor returns Config.OverlapFor for the table: the policy of the
// most specific prefix holding the address (the later entry among equals).
func overlapFor(tab []hostPolicy) func(netip.Addr) (tcpasm.Overlap, bool) {
	if len(tab) == 0 {
		return nil
	}
	tab = append([]hostPolicy(nil), tab...)
	return func(a netip.Addr) (tcpasm.Overlap, bool) {
		a = a.Unmap()
		best, found := -1, false
		var pol tcpasm.Overlap
		for _, e := range tab {
			if e.pfx.Bits() >= best && e.pfx.Contains(a) {
				best, pol, found = e.pfx.Bits(), e.pol, true
			}
		}
		return pol, found
	}
}
