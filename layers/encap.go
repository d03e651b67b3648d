package layers

// MaxTunnels is the deepest stack of encapsulations (tunnels and carriers)
// Decode walks; a frame with more stops with StopTooDeep.
const MaxTunnels = 8

// TunnelType names an encapsulation a decode passed through on its way to the
// innermost network layer.
type TunnelType uint8

// Tunnel types. Link framings that carry one network layer (NFLOG, the PPP
// link types, 802.2 LLC/SNAP) are not tunnels: they are part of the link.
const (
	TunnelNone   TunnelType = iota
	TunnelMPLS              // MPLS label stack (ID: the bottom-of-stack label)
	TunnelPPPoE             // PPPoE session + PPP (ID: the session ID)
	TunnelGRE               // GRE (ID: the key, when present)
	TunnelERSPAN            // ERSPAN type I, II or III inside GRE (ID: the session ID; none for type I)
	TunnelVXLAN             // VXLAN (ID: the VNI)
	TunnelGeneve            // Geneve (ID: the VNI)
	TunnelGTPU              // GTP-U (ID: the TEID)
	TunnelIPIP              // IPv4 or IPv6 carried directly in IPv4 or IPv6 (4in4, 6in4, 4in6, 6in6)
)

var tunnelNames = [...]string{"none", "mpls", "pppoe", "gre", "erspan", "vxlan", "geneve", "gtpu", "ipip"}

// String returns the lower-case name used in outputs ("vxlan", "gre", ...).
func (t TunnelType) String() string {
	if int(t) < len(tunnelNames) {
		return tunnelNames[t]
	}
	return "tunnel?"
}

// Tunnel is one encapsulation of a decode, as values (no views into the
// frame), so that it outlives the frame's bytes.
type Tunnel struct {
	Type TunnelType
	// HasID says whether ID holds the type's identifier (see TunnelType).
	HasID bool
	ID    uint32
	// Network says which IP header carried the tunnel: the innermost one
	// decoded before it (NetworkNone for carriers below any IP: MPLS,
	// PPPoE on the link; an ERSPAN entry has its GRE's). Src and Dst are its
	// addresses, an IPv4 address in the first four bytes.
	Network  Network
	Src, Dst [16]byte
}

// Encap is what lies outside the innermost network layer of a decode: the VLAN
// stack and the tunnels, outermost first. It holds values only, so it can be
// kept after the frame's bytes are gone (IP reassembly keeps the first
// fragment's), and it is comparable.
type Encap struct {
	// LinkVLANs is how many of VLANs were tagged on the outermost link (the
	// rest are tags of Ethernet frames carried in tunnels).
	LinkVLANs  uint8
	NumVLANs   int
	VLANs      [MaxVLANs]VLAN // the VLAN stack, outer first
	NumTunnels int
	Tunnels    [MaxTunnels]Tunnel // outer first
}

// DecodeOptions configure what Decode recognises beyond fixed protocol
// numbers. The zero value (and a nil *DecodeOptions) uses the IANA ports.
type DecodeOptions struct {
	// UDP destination ports of the UDP tunnels; nil means the default port
	// (VXLAN 4789, Geneve 6081, GTP-U 2152). An empty non-nil slice turns the
	// tunnel off.
	VXLANPorts  []uint16
	GenevePorts []uint16
	GTPUPorts   []uint16
}
