package filter

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/reseq/reseq/layers"
)

func key(src, dst string, vlans ...uint16) *layers.FlowKey {
	var k layers.FlowKey
	k.SetAddrs(netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst))
	for _, v := range vlans {
		k.VLANs[k.NumVLANs] = v
		k.NumVLANs++
	}
	return &k
}

func TestMatch(t *testing.T) {
	a := key("10.0.0.1:40000", "10.0.0.2:80")
	b := key("10.0.0.2:80", "10.0.0.1:40000")
	v6 := key("[2001:db8::1]:5000", "[2001:db8:1::2]:443")
	tagged := key("192.168.1.5:1234", "192.168.2.9:22", 100, 200)
	udp := &layers.Packet{Protocol: layers.IPProtoUDP}
	tests := []struct {
		expr string
		k    *layers.FlowKey
		p    *layers.Packet
		want bool
	}{
		{"", a, nil, true},
		{"host 10.0.0.1", a, nil, true},
		{"host 10.0.0.1", b, nil, true},
		{"src host 10.0.0.1", a, nil, true},
		{"src host 10.0.0.1", b, nil, false},
		{"dst host 10.0.0.1", b, nil, true},
		{"src and dst host 10.0.0.1", a, nil, false},
		{"src or dst host 10.0.0.2", a, nil, true},
		{"src 10.0.0.1", a, nil, true},
		{"10.0.0.1", a, nil, true},
		{"10.0.0.3", a, nil, false},
		{"host 10.0.0.1 and port 80", a, nil, true},
		{"port 80", a, nil, true},
		{"port http", a, nil, true},
		{"src port 80", a, nil, false},
		{"dst port 80", a, nil, true},
		{"tcp port 80", a, nil, true},
		{"udp port 80", a, nil, false},
		{"udp port 80", a, udp, true},
		{"tcp", a, nil, true},
		{"udp", a, nil, false},
		{"ip", a, nil, true},
		{"ip6", a, nil, false},
		{"ip6", v6, nil, true},
		{"not ip", v6, nil, true},
		{"!ip6", a, nil, true},
		{"portrange 70-90", a, nil, true},
		{"portrange 90-70", a, nil, true},
		{"src portrange 70-90", a, nil, false},
		{"net 10.0.0.0/8", a, nil, true},
		{"net 10", a, nil, true},
		{"net 10.1", a, nil, false},
		{"net 10.0.0.0 mask 255.0.0.0", a, nil, true},
		{"src net 10.0.0.2/32", b, nil, true},
		{"dst net 10.0.0.2/32", b, nil, false},
		{"net 2001:db8::/32", v6, nil, true},
		{"net 2001:db8:1::/48", v6, nil, true},
		{"src net 2001:db8:1::/48", v6, nil, false},
		{"net 10.0.0.0/8", v6, nil, false},
		{"host 2001:db8::1", v6, nil, true},
		{"ip6 host 2001:db8::1", v6, nil, true},
		{"ip host 10.0.0.1", a, nil, true},
		{"host ::ffff:10.0.0.1", a, nil, true},
		{"vlan", tagged, nil, true},
		{"vlan", a, nil, false},
		{"vlan 200", tagged, nil, true},
		{"vlan 300", tagged, nil, false},
		{"vlan 100 and host 192.168.1.5", tagged, nil, true},
		{"port 80 or 443", a, nil, true},
		{"port 22 or 443", a, nil, false},
		{"host 10.0.0.9 or 10.0.0.2", a, nil, true},
		{"dst port 22 or 80", a, nil, true},
		{"dst port 22 or 40000", a, nil, false}, // the bare 40000 is a dst port too
		// and/or: equal precedence, left to right (pcap-filter).
		{"port 1 or port 80 and host 10.9.9.9", a, nil, false},
		{"port 1 or (port 80 and host 10.0.0.1)", a, nil, true},
		{"host 10.9.9.9 and port 80 or port 40000", a, nil, true},
		{"not port 80 and host 10.0.0.1", a, nil, false},
		{"not (port 22 or port 23)", a, nil, true},
		{"tcp && (port 80 || port 8080) && ! host 10.0.0.3", a, nil, true},
		{"icmp", a, nil, false},
	}
	for _, tc := range tests {
		f, err := Parse(tc.expr)
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		if got := f.Match(tc.k, tc.p); got != tc.want {
			t.Errorf("%q on %v: %v, want %v", tc.expr, tc.k, got, tc.want)
		}
	}
}

func TestPacketVLANs(t *testing.T) {
	// With the packet, every tag of the frame counts, the capture point's
	// too (the key leaves it out).
	k := key("10.0.0.1:1", "10.0.0.2:2", 20)
	var p layers.Packet
	p.Protocol = layers.IPProtoTCP
	p.NumVLANs = 2
	p.VLANs[0].ID, p.VLANs[1].ID = 10, 20
	for expr, want := range map[string]bool{"vlan 10": true, "vlan 20": true, "vlan 30": false, "vlan": true} {
		if got := MustParse(expr).Match(k, &p); got != want {
			t.Errorf("%q: %v", expr, got)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		expr string
		col  int
		msg  string
	}{
		{"port", 5, "expected a port number"},
		{"host 10.0.0.1 and port x80", 24, "expected a port number"},
		{"port 70000", 6, "expected a port number"},
		{"host example.com", 6, "host names are not looked up"},
		{"host 10.0.0.1 and", 18, "expected an expression"},
		{"(port 80", 9, "expected ')'"},
		{"port 80)", 8, "unbalanced ')'"},
		{"port 80 port 81", 9, "expected 'and' or 'or'"},
		{"tcp[13] & 2 != 0", 4, "byte offsets"},
		{"ether host 00:11:22:33:44:55", 1, "not supported"},
		{"net 10.0.0.0/33", 5, "expected a network"},
		{"net 10.0.0.1 mask 255.0.0.0", 5, "outside its mask"},
		{"net 10.0.0.0 mask 255.0.255.0", 19, "not contiguous"},
		{"portrange 10", 11, "port range"},
		{"vlan 5000", 6, "VLAN ID"},
		{"ip host ::1", 9, "'ip' with an IPv6"},
		{"tcp host 10.0.0.1", 1, "takes ip or ip6"},
		{"icmp port 1", 1, "takes tcp, udp or sctp"},
		{"port 80 && & host", 12, "bit operations"},
		{"host 10.0.0.1 $", 15, "unexpected character"},
		{"not", 4, "expected an expression"},
		{"()", 2, "expected an expression"},
		{"src port 80 or dst", 19, "expected an address"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.expr)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("%q: %v, want a syntax error", tc.expr, err)
			continue
		}
		if se.Column != tc.col || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("%q: %v, want column %d: ...%s...", tc.expr, err, tc.col, tc.msg)
		}
		lines := strings.Split(se.Caret(), "\n")
		if len(lines) != 2 || lines[0] != tc.expr || len(lines[1]) != tc.col || !strings.HasSuffix(lines[1], "^") {
			t.Errorf("%q: caret %q", tc.expr, se.Caret())
		}
	}
}

func TestMatchAllocs(t *testing.T) {
	f := MustParse("tcp and (host 10.0.0.1 or net 192.168.0.0/16) and not portrange 1-1023 or vlan 7")
	k := key("10.0.0.1:40000", "10.0.0.2:8080")
	if n := testing.AllocsPerRun(100, func() { f.Match(k, nil) }); n != 0 {
		t.Errorf("Match allocates %v times", n)
	}
}

func BenchmarkMatch(b *testing.B) {
	f := MustParse("tcp and (host 10.0.0.1 or net 192.168.0.0/16) and not portrange 1-1023")
	k := key("10.0.0.1:40000", "10.0.0.2:8080")
	var p layers.Packet
	p.Protocol = layers.IPProtoTCP
	for b.Loop() {
		f.Match(k, &p)
	}
}
