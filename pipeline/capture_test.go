package pipeline

import (
	"testing"

	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/tcpasm"
)

// Each source names the capture point it should, numbers are stable, and
// an ERSPAN session names one whatever the sources.
func TestCapturePointSources(t *testing.T) {
	vxlan := layers.Tunnel{Type: layers.TunnelVXLAN, HasID: true, ID: 101, Network: layers.NetworkIPv4, Src: [16]byte{198, 51, 100, 1}, Dst: [16]byte{203, 0, 113, 10}}
	gre := layers.Tunnel{Type: layers.TunnelGRE, Network: layers.NetworkIPv4, Src: [16]byte{10, 0, 0, 1}, Dst: [16]byte{10, 0, 0, 2}}
	erspan := gre
	erspan.Type, erspan.HasID, erspan.ID = layers.TunnelERSPAN, true, 12
	probe := []layers.VLAN{{ID: 201}, {ID: 7}}
	for _, tc := range []struct {
		name    string
		sources CaptureSource
		vlans   []layers.VLAN
		tunnels []layers.Tunnel
		section int
		iface   int
		want    string // "" : no capture point
	}{
		{"outer, two tags", CaptureOuterVLAN, probe, nil, 0, 0, "vlan:201"},
		{"outer, one tag", CaptureOuterVLAN, probe[:1], nil, 0, 0, ""},
		{"none", 0, probe, nil, 0, 3, ""},
		{"tunnel", CaptureTunnel, nil, []layers.Tunnel{vxlan}, 0, 0, "vxlan:101@198.51.100.1"},
		{"tunnel without one", CaptureTunnel, nil, nil, 0, 0, ""},
		{"erspan always", 0, nil, []layers.Tunnel{gre, erspan}, 0, 0, "erspan:12@10.0.0.1"},
		{"erspan before the outermost tunnel", CaptureTunnel, nil, []layers.Tunnel{gre, erspan}, 0, 0, "erspan:12@10.0.0.1"},
		{"interface", CaptureInterface, nil, nil, 0, 2, "if:2"},
		{"interface in section 1", CaptureInterface, nil, nil, 1, 2, "if:2@1"},
		{"all three", CaptureOuterVLAN | CaptureTunnel | CaptureInterface, probe, []layers.Tunnel{vxlan}, 0, 1, "vlan:201+vxlan:101@198.51.100.1+if:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p layers.Packet
			p.NumVLANs = copy(p.VLANs[:], tc.vlans)
			p.LinkVLANs = uint8(p.NumVLANs)
			p.NumTunnels = copy(p.Tunnels[:], tc.tunnels)
			tables := &Tables{}
			id := identity{sources: tc.sources, tables: tables}
			n := id.capturePoint(&p, tc.section, tc.iface)
			if tc.want == "" {
				if n != tcpasm.NoCapturePoint {
					t.Fatalf("capture point %d, want none", n)
				}
				return
			}
			c, ok := tables.CapturePoint(n)
			if !ok || c.String() != tc.want {
				t.Fatalf("capture point %d = %v %q, want %q", n, ok, c.String(), tc.want)
			}
			// The same frame again gets the same number, from the cache
			// and from the table.
			if m := id.capturePoint(&p, tc.section, tc.iface); m != n {
				t.Fatalf("second number %d, first %d", m, n)
			}
			id2 := identity{sources: tc.sources, tables: tables}
			if m := id2.capturePoint(&p, tc.section, tc.iface); m != n {
				t.Fatalf("another reader's number %d, first %d", m, n)
			}
		})
	}
}
