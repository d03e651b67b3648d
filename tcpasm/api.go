package tcpasm

import (
	"strconv"

	"github.com/reseq/reseq/layers"
)

// TCP flag bits as they stand in the TCP header's flags byte: layers' own.
const (
	FIN = layers.TCPFlagFIN
	SYN = layers.TCPFlagSYN
	RST = layers.TCPFlagRST
	PSH = layers.TCPFlagPSH
	ACK = layers.TCPFlagACK
	URG = layers.TCPFlagURG
	ECE = layers.TCPFlagECE
	CWR = layers.TCPFlagCWR
)

// SACKBlock is one SACK option block: [Left, Right) in sequence space.
type SACKBlock = layers.SACKBlock

// MaxSACK is the most SACK blocks a Segment carries (a TCP option field holds at
// most four).
const MaxSACK = layers.MaxSACKBlocks

// NoCapturePoint is Segment.CapturePoint when the frame named none.
const NoCapturePoint = -1

// Segment is one captured TCP segment, in the form the Assembler takes. It is a
// plain value so that callers with their own decoders (gopacket, for one) can fill
// it; FromPacket fills it from a layers decode.
//
// Payload aliases the caller's buffer and is only read during Assemble. A
// caller that rewrites the bytes of a payload in place after FromPacket filled
// the Segment must fill it again (or point Payload at a new slice).
type Segment struct {
	Key          layers.FlowKey // the direction the segment travelled: Src -> Dst
	CapturePoint int32          // the capture point (probe, interface, mirror session) that saw the packet, or NoCapturePoint
	// Encap is the caller's handle for the packet's encapsulation (package
	// pipeline: an index into its table of tunnel stacks; 0: none). The
	// Assembler only keeps the first packet's per direction (Stream.Encap).
	Encap     uint32
	Timestamp int64 // capture time, ns since the epoch
	Index     int64 // the packet's index in the capture (0-based), for Conflict records

	Seq, Ack uint32
	Flags    uint8 // FIN, SYN, ... as in the TCP header
	Window   uint16
	Urgent   uint16 // the urgent pointer (meaningful with URG)
	// WindowScale is the shift of the window scale option (RFC 7323), read
	// on a SYN only: HasWindowScale when the SYN carried the option.
	WindowScale    uint8
	HasWindowScale bool

	Payload []byte // the captured payload
	Length  int    // the payload length the IP header claims (>= len(Payload)); the rest was cut by the snaplen

	SACK    [MaxSACK]SACKBlock
	NumSACK int

	// Identity of the packet's headers for duplicate detection: the IPv4
	// identification (0 for IPv6) and the TCP timestamp value (HasTS false when
	// the option is absent).
	IPID  uint16
	TSVal uint32
	HasTS bool

	// Filtered marks a segment the caller's filter refused but gives the
	// Assembler anyway, so that connections are numbered (Conn.Seq,
	// Conn.Index) as over the whole capture: a connection whose first
	// packet is Filtered is opened with Conn.Filtered and assembled as any
	// other (the caller leaves its events out) until a segment of it that
	// is not Filtered comes, which reveals it (see RevealHandler); a
	// Filtered segment of a connection that is not is left out, as if the
	// caller had not given it.
	Filtered bool

	// FromPacket notes the payload's fingerprint (for duplicate detection)
	// while the payload is in the cache of the goroutine that decoded it; it
	// is used as long as Payload is the same slice (same start, same length).
	fp    uint64
	fpOf  *byte
	fpLen int
}

// Reason says why a gap was declared or a stream closed.
type Reason uint8

// Gap and close reasons. The text forms are the ones written in flows.jsonl.
const (
	ReasonNone      Reason = iota
	ReasonAcked            // gap: the peer ACKed or SACKed past bytes the capture missed
	ReasonTruncated        // gap: the snaplen cut the packet
	ReasonLimit            // gap: bytes held above the hole reached the per-stream limit
	ReasonEvicted          // gap or close: evicted under global memory or connection pressure
	ReasonIdle             // gap or close: capture-time idle timeout
	ReasonClosed           // gap: FIN or RST passed it
	ReasonEOF              // gap or close: end of the capture
	ReasonFIN              // close: FIN seen (and everything before it accounted)
	ReasonRST              // close: RST seen
	// ReasonFiltered: gap: bytes of a connection opened by a
	// Segment.Filtered packet, below where it was revealed (see
	// RevealHandler): captured, but the caller's filter left them out.
	ReasonFiltered
)

var reasonNames = [...]string{"none", "acked", "truncated", "limit", "evicted", "idle", "closed", "eof", "fin", "rst", "filtered"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// Direction of a stream within its connection.
type Direction uint8

const (
	ClientToServer Direction = iota
	ServerToClient
)

// Conflict describes bytes of a retransmission that differ from bytes of the same
// offsets seen before (held or delivered within the retained window) from one
// packet: a retransmission that differs from the bytes of several packets
// gives one Conflict per packet, each naming its own. Which copy was kept is
// the overlap policy's choice (Config.Overlap, Config.OverlapFor).
type Conflict struct {
	Offset, Length int64 // the differing range (first to last differing byte), in stream offsets
	// The packet whose bytes were kept and the one whose bytes were dropped (under
	// first-wins the first is the earlier packet; under last-wins the later).
	KeptIndex, DroppedIndex int64
	KeptTime, DroppedTime   int64
	// Replace, when set, holds the new bytes of [Offset, Offset+Length):
	// the overlap policy preferred a later copy of bytes already delivered
	// (by Data or Late), and a handler that keeps the stream should
	// rewrite them in place. Valid only during the call. Under a policy
	// that prefers the later copy of held bytes, Replace is nil: the new
	// bytes are the ones Data delivers.
	Replace []byte
}

// StreamStats are the counters of one stream direction (see DESIGN.md).
type StreamStats struct {
	Packets       int64 // every TCP packet of the direction, pure ACKs and copies included
	Bytes         int64 // payload bytes delivered by Data
	Retransmitted int64 // packets re-carrying bytes already seen (not copies)
	Duplicates    int64 // identical copies: another capture point, or again within the dup window
	OutOfOrder    int64 // packets that arrived above a hole
	Conflicts     int64 // Conflict records emitted
	Gaps          int64 // gaps declared
	GapBytes      int64 // bytes in declared gaps, minus late bytes that filled them
	LateBytes     int64 // bytes delivered by Late
	BeforeBase    int64 // bytes that arrived below offset 0 (mid-stream pickup)
	KeepAlives    int64 // keep-alive and zero-window probes recognised
	// OutOfWindow counts the packets of this direction's data, or the
	// peer's ACKs or SACKs of it, that claimed bytes beyond everything
	// known of the stream by more than the receiver's window allows (see
	// Plausibility in the package documentation) and that no later packet
	// near them corroborated: dropped, they never stretch the stream.
	OutOfWindow int64
	// RSTBytes counts the payload bytes RSTs of this direction carried:
	// diagnostic text (RFC 9293, 3.5.3), not stream data, never in Extent
	// or a gap (see RSTHandler).
	RSTBytes int64
	// RSTSurvived counts this direction's RSTs that the connection
	// evidently survived (see the package doc, Connections): the same
	// connection went on after them, so they did not end it.
	RSTSurvived int64
	// UrgentBytes counts the urgent bytes (the byte before a URG segment's
	// urgent pointer, RFC 9293 3.8.5, when the segment carries it), each
	// once: inline (UrgentInline) they stay in the stream, out of band
	// (UrgentOOB) they are left out of it.
	UrgentBytes int64
}

// Stream is one direction of a connection. Handlers read it; only User is theirs
// to set.
type Stream struct {
	Conn *Conn
	Dir  Direction

	HaveBase bool
	SYN      bool // a SYN of this direction was seen
	FIN      bool
	RST      bool
	BaseSeq  uint32 // sequence number of stream offset 0, valid when HaveBase
	// Encap is Segment.Encap of the direction's first packet.
	Encap uint32

	// Extent is one past the highest offset known to carry data (see DESIGN.md).
	// Final once the stream is closed.
	Extent int64
	First  int64 // capture time of the first and last packet of this direction
	Last   int64
	Stats  StreamStats

	User any // for the handler
}

// Conn is a connection: both directions of one TCP tuple between SYN (or first
// sight) and close.
type Conn struct {
	Key           layers.FlowKey // client -> server
	Index         int            // 0, 1, ... for successive connections on one tuple
	Streams       [2]*Stream     // indexed by Direction
	CapturePoints []int32        // Segment.CapturePoint values seen, in order of first sight
	First, Last   int64          // capture time of the first and last packet
	Seq           int64          // order of first sight among all connections (0-based)
	// FirstIndex is Segment.Index of the packet that opened the connection:
	// unlike Seq it does not depend on which other connections the
	// Assembler saw, so it numbers connections alike however a capture's
	// connections are shared among assemblers (flow-hash shards).
	FirstIndex int64
	// Filtered: the packet that opened the connection was
	// Segment.Filtered, and no segment that is not has come yet.
	Filtered bool
}

// Handler receives what the Assembler learns, for every stream direction, in
// stream order: for one stream, Gap(off, n) always comes before any Data at or
// beyond off+n. Callbacks run synchronously inside Assemble, Flush or Close;
// the data slices are valid only for the duration of the call.
type Handler interface {
	// Open is called once per connection, when it is first seen, before any other
	// call for its streams.
	Open(c *Conn)
	// Data delivers captured bytes at their stream offset, in order.
	Data(s *Stream, offset int64, data []byte, ts int64)
	// Gap reports bytes of [offset, offset+length) that no captured packet carried.
	Gap(s *Stream, offset, length int64, reason Reason, ts int64)
	// Late delivers bytes that arrived inside a gap already reported.
	Late(s *Stream, offset int64, data []byte, ts int64)
	// Conflict reports retransmitted bytes that differ from those seen before.
	Conflict(s *Stream, c Conflict, ts int64)
	// Close ends a stream direction; its Extent and Stats are final.
	Close(s *Stream, reason Reason, ts int64)
}

// RevealHandler is an optional interface of a Handler that leaves out the
// events of Filtered connections. Reveal is called when the first segment
// that is not Segment.Filtered comes for a connection opened Filtered:
// Conn.Filtered is false from then on, and the Handler is to treat c as
// opened now. Then, for each direction, the Assembler reports what it had
// assembled of it as one gap [0, n) of reason ReasonFiltered (when n > 0);
// the direction's Stats start again from zero (that gap counted), as do its and the
// connection's First times (Conn.First is the revealing segment's time;
// Conn.FirstIndex and Seq, the numbering, stay). Bytes held above a hole
// when the connection was revealed are delivered as captured.
type RevealHandler interface {
	Reveal(c *Conn)
}

// RSTHandler is an optional interface of a Handler: the payload a RST
// carried, which is not stream data (it never extends the stream nor
// becomes a gap). seq is the RST's sequence number (its stream offset is
// seq - BaseSeq, unwrapped, when HaveBase); data holds the captured bytes,
// valid only for the call. Copies the Assembler recognised as duplicates
// are not passed.
type RSTHandler interface {
	RSTPayload(s *Stream, seq uint32, data []byte, ts int64)
}
