package layers

// Header views of the tunnels and carriers, in the style of headers.go: a
// header is a []byte the decode has length-checked, with accessors.

// Header lengths of the tunnels and carriers.
const (
	MPLSLabelLen = 4
	PPPoELen     = 6  // version/type, code, session ID, length
	SNAPLen      = 8  // LLC (DSAP, SSAP, control) and SNAP (OUI, EtherType)
	NFLOGLen     = 4  // family, version, resource ID
	GREMinLen    = 4  // flags/version, protocol type
	ERSPAN2Len   = 8  // ERSPAN type II header
	ERSPAN3Len   = 12 // ERSPAN type III header, without the platform-specific subheader
	VXLANLen     = 8
	GeneveMinLen = 8 // without options
	GTPUMinLen   = 8 // without the optional fields and extension headers
)

// EtherType values of the carriers and tunnel payloads.
const (
	EtherTypeMPLS                = 0x8847
	EtherTypeMPLSMulticast       = 0x8848
	EtherTypePPPoEDiscovery      = 0x8863
	EtherTypePPPoESession        = 0x8864
	EtherTypeTransparentBridging = 0x6558 // an Ethernet frame (GRE, Geneve)
	EtherTypeERSPAN              = 0x88BE // ERSPAN type I and II (GRE protocol type)
	EtherTypeERSPAN3             = 0x22EB // ERSPAN type III (GRE protocol type)
)

// MPLSLabel is one 4-byte MPLS label stack entry, as a value.
type MPLSLabel uint32

// Label returns the 20-bit label.
func (e MPLSLabel) Label() uint32 { return uint32(e) >> 12 }

// TrafficClass returns the 3-bit traffic class.
func (e MPLSLabel) TrafficClass() uint8 { return uint8(e>>9) & 7 }

// BottomOfStack reports the S bit: the last entry of the stack.
func (e MPLSLabel) BottomOfStack() bool { return e&0x100 != 0 }

// TTL returns the time to live.
func (e MPLSLabel) TTL() uint8 { return uint8(e) }

// GRE flag bits, as they stand in the first 16 bits of the header.
const (
	GREFlagChecksum = 0x8000
	GREFlagRouting  = 0x4000
	GREFlagKey      = 0x2000
	GREFlagSeq      = 0x1000
)

// GRE is a GRE header with its optional fields (HeaderLength bytes).
type GRE []byte

// Flags returns the first 16 bits: flags, and the version in the low 3 bits.
func (g GRE) Flags() uint16 { return be.Uint16(g[0:2]) }

// Version returns the version (0 for GRE, 1 for PPTP's enhanced GRE).
func (g GRE) Version() uint8 { return g[1] & 7 }

// Protocol returns the protocol type (an EtherType) of the payload.
func (g GRE) Protocol() uint16 { return be.Uint16(g[2:4]) }

// HeaderLength returns the length of the header with the optional fields the
// C, K and S flags announce.
func (g GRE) HeaderLength() int {
	n := GREMinLen
	f := g.Flags()
	if f&GREFlagChecksum != 0 {
		n += 4
	}
	if f&GREFlagKey != 0 {
		n += 4
	}
	if f&GREFlagSeq != 0 {
		n += 4
	}
	return n
}

// Key returns the key field, when the K flag says there is one.
func (g GRE) Key() (uint32, bool) {
	f := g.Flags()
	if f&GREFlagKey == 0 {
		return 0, false
	}
	off := GREMinLen
	if f&GREFlagChecksum != 0 {
		off += 4
	}
	return be.Uint32(g[off:]), true
}

// ERSPAN is an ERSPAN type II (8 bytes) or type III (12 bytes) header.
type ERSPAN []byte

// Version returns the version: 1 for type II, 2 for type III.
func (e ERSPAN) Version() uint8 { return e[0] >> 4 }

// VLAN returns the VLAN of the mirrored frame.
func (e ERSPAN) VLAN() uint16 { return be.Uint16(e[0:2]) & 0x0fff }

// SessionID returns the 10-bit session ID.
func (e ERSPAN) SessionID() uint16 { return be.Uint16(e[2:4]) & 0x03ff }

// FrameType returns the type III frame type (0: Ethernet).
func (e ERSPAN) FrameType() uint8 { return uint8(be.Uint16(e[10:12])>>10) & 0x1f }

// PlatformSubheader reports the type III O flag: an 8-byte platform-specific
// subheader follows.
func (e ERSPAN) PlatformSubheader() bool { return e[11]&1 != 0 }

// VXLAN is a VXLAN header (8 bytes).
type VXLAN []byte

// Flags returns the flags byte (0x08: the VNI is valid).
func (v VXLAN) Flags() uint8 { return v[0] }

// ValidVNI reports the I flag, which RFC 7348 requires.
func (v VXLAN) ValidVNI() bool { return v[0]&0x08 != 0 }

// VNI returns the 24-bit VXLAN network identifier.
func (v VXLAN) VNI() uint32 { return be.Uint32(v[4:8]) >> 8 }

// Geneve is a Geneve header with its options (HeaderLength bytes).
type Geneve []byte

// Version returns the version (0).
func (g Geneve) Version() uint8 { return g[0] >> 6 }

// HeaderLength returns the length of the header and its options.
func (g Geneve) HeaderLength() int { return GeneveMinLen + int(g[0]&0x3f)*4 }

// OAM reports the O flag: a control packet.
func (g Geneve) OAM() bool { return g[1]&0x80 != 0 }

// Protocol returns the protocol type (an EtherType) of the payload.
func (g Geneve) Protocol() uint16 { return be.Uint16(g[2:4]) }

// VNI returns the 24-bit virtual network identifier.
func (g Geneve) VNI() uint32 { return be.Uint32(g[4:8]) >> 8 }

// Options returns the option bytes.
func (g Geneve) Options() []byte { return g[GeneveMinLen:g.HeaderLength()] }

// GTP-U flag bits (low bits of the first byte) and message types.
const (
	GTPFlagPN  = 0x01 // N-PDU number present
	GTPFlagS   = 0x02 // sequence number present
	GTPFlagE   = 0x04 // extension header present
	GTPMsgGPDU = 255  // G-PDU: a user datagram
)

// GTPU is the mandatory 8-byte GTP-U version 1 header.
type GTPU []byte

// Version returns the version (1).
func (g GTPU) Version() uint8 { return g[0] >> 5 }

// ProtocolGTP reports the PT flag: GTP (not GTP').
func (g GTPU) ProtocolGTP() bool { return g[0]&0x10 != 0 }

// Flags returns the E, S and PN flags (GTPFlagE, GTPFlagS, GTPFlagPN).
func (g GTPU) Flags() uint8 { return g[0] & 7 }

// MessageType returns the message type (GTPMsgGPDU for user data).
func (g GTPU) MessageType() uint8 { return g[1] }

// Length returns the length of what follows the mandatory header.
func (g GTPU) Length() uint16 { return be.Uint16(g[2:4]) }

// TEID returns the tunnel endpoint identifier.
func (g GTPU) TEID() uint32 { return be.Uint32(g[4:8]) }
