package main

import (
	"net/netip"
	"testing"

	"github.com/reseq/reseq/tcpasm"
)

// --overlap-host: the most specific prefix holding the receiver wins; a
// later entry wins among equals; addresses outside every prefix take
// --overlap.
func TestOverlapHost(t *testing.T) {
	var tab []hostPolicy
	f := hostPolicies{&tab}
	for _, x := range []string{"windows=0.0.0.0/0", "linux=10.0.0.0/8, 2001:db8::/32", "bsd=10.1.2.3", "solaris=10.0.0.0/8", "macos=::ffff:192.168.0.0/112"} {
		if err := f.Set(x); err != nil {
			t.Fatalf("%q: %v", x, err)
		}
	}
	for _, bad := range []string{"windows", "windows=", "freebsd=10.0.0.0/8", "linux=10.0.0.0/33", "linux=host"} {
		if err := f.Set(bad); err == nil {
			t.Errorf("%q taken", bad)
		}
	}
	look := overlapFor(tab)
	for _, c := range []struct {
		addr string
		pol  tcpasm.Overlap
		ok   bool
	}{
		{"10.1.2.3", tcpasm.PolicyBSD, true},
		{"10.1.2.4", tcpasm.PolicySolaris, true},
		{"192.0.2.1", tcpasm.PolicyWindows, true},
		{"192.168.3.4", tcpasm.PolicyMacOS, true},
		{"2001:db8::1", tcpasm.PolicyLinux, true},
		{"2001:db9::1", 0, false},
	} {
		pol, ok := look(netip.MustParseAddr(c.addr))
		if pol != c.pol || ok != c.ok {
			t.Errorf("%s: %v %v, want %v %v", c.addr, pol, ok, c.pol, c.ok)
		}
	}
	if overlapFor(nil) != nil {
		t.Error("an empty table gives a lookup")
	}
}
