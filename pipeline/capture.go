package pipeline

import (
	"net/netip"
	"strconv"
	"sync"

	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/tcpasm"
)

// CaptureSource names what in a frame identifies the capture point that saw it
// (a probe, an interface, a mirror session). Copies of one packet seen at
// several capture points are duplicates to the assembler, and each fills the
// other's capture loss. Sources combine: a frame's capture point is the
// combination of every selected source it has.
type CaptureSource uint8

const (
	// CaptureOuterVLAN: the outer tag of a stack of two or more VLAN tags on
	// the outermost link names the probe (it is left out of the flow key).
	CaptureOuterVLAN CaptureSource = 1 << iota
	// CaptureTunnel: the outermost tunnel's identity (its outer source
	// address and its VNI, key or session) names a mirror session, the way
	// cloud traffic mirroring sends every packet once per session. The VNI
	// then leaves the flow key.
	CaptureTunnel
	// CaptureInterface: the pcapng interface (within its section), or the
	// interface index of a LINUX_SLL2 frame.
	CaptureInterface
)

// CapturePoint is one capture point, as values. A field that does not take
// part is -1 (VLAN, Interface) or has Tunnel.Type TunnelNone.
type CapturePoint struct {
	VLAN      int32         // the probe's outer VLAN ID
	Tunnel    layers.Tunnel // the mirror session's tunnel (outer addresses and ID)
	Section   int32         // pcapng section of Interface
	Interface int32         // pcapng interface index or SLL2 interface index
	SLL2      bool          // Interface is a LINUX_SLL2 interface index
}

// String names the capture point the way flows.jsonl lists it:
// "vlan:201", "vxlan:101@198.51.100.1", "erspan:12@10.0.0.1", "if:2"
// (with the section when it is not the first: "if:2@1"), joined with "+" when
// several sources take part.
func (c CapturePoint) String() string {
	var b []byte
	sep := func() {
		if len(b) > 0 {
			b = append(b, '+')
		}
	}
	if c.VLAN >= 0 {
		b = append(b, "vlan:"...)
		b = strconv.AppendInt(b, int64(c.VLAN), 10)
	}
	if t := &c.Tunnel; t.Type != layers.TunnelNone {
		sep()
		b = append(b, t.Type.String()...)
		if t.HasID {
			b = append(b, ':')
			b = strconv.AppendUint(b, uint64(t.ID), 10)
		}
		if a, ok := tunnelSrc(t); ok {
			b = append(b, '@')
			b = a.AppendTo(b)
		}
	}
	if c.Interface >= 0 {
		sep()
		if c.SLL2 {
			b = append(b, "ifindex:"...)
		} else {
			b = append(b, "if:"...)
		}
		b = strconv.AppendInt(b, int64(c.Interface), 10)
		if c.Section > 0 {
			b = append(b, '@')
			b = strconv.AppendInt(b, int64(c.Section), 10)
		}
	}
	if len(b) == 0 {
		return "none"
	}
	return string(b)
}

// tunnelSrc returns the outer source address of a tunnel carried by IP.
func tunnelSrc(t *layers.Tunnel) (netip.Addr, bool) {
	switch t.Network {
	case layers.NetworkIPv4:
		return netip.AddrFrom4([4]byte(t.Src[:4])), true
	case layers.NetworkIPv6:
		return netip.AddrFrom16(t.Src), true
	}
	return netip.Addr{}, false
}

// tunnelDst returns the outer destination address of a tunnel carried by IP.
func tunnelDst(t *layers.Tunnel) (netip.Addr, bool) {
	switch t.Network {
	case layers.NetworkIPv4:
		return netip.AddrFrom4([4]byte(t.Dst[:4])), true
	case layers.NetworkIPv6:
		return netip.AddrFrom16(t.Dst), true
	}
	return netip.Addr{}, false
}

// vlanPoints is how many capture-point numbers are VLAN IDs: a capture point
// that is only an outer VLAN tag is numbered by its VLAN ID (no lookup on the
// common path); every other one gets vlanPoints + its index in the table.
const vlanPoints = 4096

// maxTableEntries bounds each table: a hostile capture naming millions of
// capture points or tunnel stacks shares the last entry's number instead of
// growing the table.
const maxTableEntries = 1 << 16

// Tables names what segments refer to by number: capture points
// (tcpasm.Segment.CapturePoint, tcpasm.Conn.CapturePoints) and tunnel stacks
// (tcpasm.Segment.Encap, tcpasm.Stream.Encap). Run adds entries on its reading
// goroutine; a Handler looks them up on the assembling goroutine. The zero
// value is ready to use; it is safe for concurrent use.
type Tables struct {
	mu       sync.RWMutex
	points   []CapturePoint
	pointIDs map[CapturePoint]int32
	encaps   []encapEntry
	encapIDs map[encapEntry]uint32
}

// encapEntry is one tunnel stack, outermost first.
type encapEntry struct {
	n int
	t [layers.MaxTunnels]layers.Tunnel
}

// CapturePoint returns the capture point numbered id (a
// tcpasm.Segment.CapturePoint value).
func (t *Tables) CapturePoint(id int32) (CapturePoint, bool) {
	if id < 0 {
		return CapturePoint{}, false
	}
	if id < vlanPoints {
		return CapturePoint{VLAN: id, Section: -1, Interface: -1}, true
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	i := int(id - vlanPoints)
	if i >= len(t.points) {
		return CapturePoint{}, false
	}
	return t.points[i], true
}

// Tunnels returns the tunnel stack numbered h (a tcpasm.Stream.Encap value),
// outermost first; nil for 0 (no tunnel) or an unknown number.
func (t *Tables) Tunnels(h uint32) []layers.Tunnel {
	if h == 0 {
		return nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if int(h) > len(t.encaps) {
		return nil
	}
	e := &t.encaps[h-1]
	return append([]layers.Tunnel(nil), e.t[:e.n]...)
}

// pointID numbers a capture point that is not a lone VLAN tag.
func (t *Tables) pointID(c *CapturePoint) int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.pointIDs[*c]; ok {
		return id
	}
	if t.pointIDs == nil {
		t.pointIDs = make(map[CapturePoint]int32)
	}
	if len(t.points) >= maxTableEntries {
		return int32(vlanPoints + len(t.points) - 1)
	}
	id := int32(vlanPoints + len(t.points))
	t.points = append(t.points, *c)
	t.pointIDs[*c] = id
	return id
}

// encapID numbers a tunnel stack (1, 2, ...).
func (t *Tables) encapID(e *encapEntry) uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.encapIDs[*e]; ok {
		return id
	}
	if t.encapIDs == nil {
		t.encapIDs = make(map[encapEntry]uint32)
	}
	if len(t.encaps) >= maxTableEntries {
		return uint32(len(t.encaps))
	}
	t.encaps = append(t.encaps, *e)
	id := uint32(len(t.encaps))
	t.encapIDs[*e] = id
	return id
}

// identity works out, on the reading goroutine, the capture point and the
// tunnel stack of each decoded frame, remembering the last ones it numbered
// so that a run of frames from one session costs a comparison, not a map
// lookup.
type identity struct {
	sources CaptureSource
	tables  *Tables

	lastPoint   CapturePoint
	lastPointID int32
	havePoint   bool
	lastEncap   encapEntry
	lastEncapID uint32
	haveEncap   bool
}

// capturePoint returns the capture point of a frame decoded into p, read
// from pkt's interface and section: tcpasm.NoCapturePoint when it names none.
// An ERSPAN session always names one: ERSPAN exists only to mirror.
func (id *identity) capturePoint(p *layers.Packet, section, iface int) int32 {
	c := CapturePoint{VLAN: -1, Section: -1, Interface: -1}
	if id.sources&CaptureOuterVLAN != 0 {
		if v, ok := p.CapturePoint(); ok {
			c.VLAN = int32(v)
		}
	}
	if p.NumTunnels > 0 {
		// The outermost ERSPAN session names the capture point (its GRE
		// carrier adds nothing); else, with CaptureTunnel, the outermost
		// tunnel.
		for i := 0; i < p.NumTunnels; i++ {
			if p.Tunnels[i].Type == layers.TunnelERSPAN {
				c.Tunnel = p.Tunnels[i]
				break
			}
		}
		if c.Tunnel.Type == layers.TunnelNone && id.sources&CaptureTunnel != 0 {
			c.Tunnel = p.Tunnels[0]
		}
		// A session is named by its source and identifier; the
		// destination (the collector) is the same for every session.
		c.Tunnel.Dst = [16]byte{}
	}
	if id.sources&CaptureInterface != 0 {
		if len(p.SLL2) > 0 {
			c.Interface, c.SLL2 = int32(p.SLL2.InterfaceIndex()), true
		} else {
			c.Section, c.Interface = int32(section), int32(iface)
		}
	}
	if c.Tunnel.Type == layers.TunnelNone && c.Interface < 0 {
		if c.VLAN < 0 {
			return tcpasm.NoCapturePoint
		}
		return c.VLAN
	}
	if id.havePoint && c == id.lastPoint {
		return id.lastPointID
	}
	n := id.tables.pointID(&c)
	id.lastPoint, id.lastPointID, id.havePoint = c, n, true
	return n
}

// encap returns the number of p's tunnel stack; 0 when it has none.
func (id *identity) encap(p *layers.Packet) uint32 {
	if p.NumTunnels == 0 {
		return 0
	}
	var e encapEntry
	e.n = min(p.NumTunnels, layers.MaxTunnels)
	copy(e.t[:], p.Tunnels[:e.n])
	if id.haveEncap && e == id.lastEncap {
		return id.lastEncapID
	}
	n := id.tables.encapID(&e)
	id.lastEncap, id.lastEncapID, id.haveEncap = e, n, true
	return n
}
