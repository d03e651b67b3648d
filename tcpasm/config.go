package tcpasm

import "net/netip"

// This file holds the Assembler's configuration: the defaults of Config and
// the fixed limits of its rules.

// Urgent is the policy for urgent bytes (see Config.Urgent).
type Urgent uint8

const (
	UrgentInline Urgent = iota // urgent bytes stay in the stream
	UrgentOOB                  // urgent bytes are left out of the stream
)

// Config sets the Assembler's policies and limits. The zero value of a field
// means its default (see DefaultConfig).
type Config struct {
	// Overlap is the overlap policy (default FirstWins).
	Overlap Overlap
	// OverlapFor, when set, gives the policy of a receiving host (the
	// destination address of a stream direction), like Suricata's
	// host-os-policy; where it answers false, Overlap applies. It is
	// called only when a retransmission's bytes differ from those seen
	// before.
	OverlapFor func(dst netip.Addr) (Overlap, bool)

	// MaxHeldPerStream bounds the bytes held above a hole in one direction; at the
	// limit the lowest hole is declared a gap (ReasonLimit). Default 4 MiB. Held
	// bytes are counted as each held piece's length plus a fixed overhead (64;
	// 32 for a segment whose bytes joined the piece before them). A direction
	// holding many pieces puts further tiny segments in 4 KiB pages of its
	// byte range (when this limit and MaxMemory are at least 16 KiB); a page
	// counts whole, each such segment 64 on top.
	MaxHeldPerStream int64
	// MaxMemory bounds what grows with the input: the bytes held across all
	// streams, the windows kept for ConflictWindow and the connection table.
	// Default 64 MiB.
	//
	// Held bytes alone never exceed it: above it the streams that have held
	// bytes the longest are flushed (ReasonEvicted) until they are within it
	// again. The windows have a budget of the same size of their own (a
	// stream that cannot have one compares nothing). Then, while held bytes,
	// windows and the table together exceed it, the connection active least
	// recently is closed (ReasonEvicted; lingering finished ones go first),
	// as long as more than MinConns are left. A connection counts ConnCost,
	// plus ConnOverhead, plus what it took once it carried more than one
	// packet or held bytes (see Stats.Memory).
	MaxMemory int64
	// ConnOverhead is the Handler's own state per live connection, in bytes:
	// counted in MaxMemory with each connection, so that a handler that
	// keeps state per connection stays within the same budget.
	ConnOverhead int64
	// MaxConns bounds the live connections; above it the oldest idle one is
	// evicted. Default 1<<20.
	MaxConns int
	// IdleTimeout, in capture-time nanoseconds: a connection with no packet
	// for that long has its holes declared and its held bytes delivered
	// (gaps with ReasonIdle) and turns dormant. A segment in its sequence
	// resumes it, same number, roles and streams (Stats.Resumed); a SYN with
	// another ISN or a segment far out of its sequence closes it (ReasonIdle)
	// and opens a new connection; it is closed (ReasonIdle) when still
	// dormant 10 minutes later, at the end of the capture, or when evicted
	// first (dormant before live) under MaxConns or MaxMemory, in which it
	// counts as a connection without data. Default 5 minutes (Zeek's TCP
	// inactivity timeout); negative disables.
	IdleTimeout int64
	// ReorderWindow, in capture-time nanoseconds, is how long a hole the peer has
	// ACKed may wait for late data before it is declared (ACK-before-data
	// reordering at SPAN ports). Default 5 ms; the allowance also ends as soon as
	// more bytes than ReorderBytes are held above the hole. Negative: no wait.
	ReorderWindow int64
	// ReorderBytes: see ReorderWindow. Default 256 KiB.
	ReorderBytes int64
	// DupWindow, in capture-time nanoseconds: an identical copy of a packet seen
	// again within it, at the same capture point, is a duplicate (SPAN doubles);
	// copies from another capture point always are. Default 10 ms.
	DupWindow int64
	// ConflictWindow is how many delivered bytes per stream are retained to
	// compare retransmissions against (rounded up to a power of two, at least
	// 4 KiB). Default 16 KiB; negative disables.
	ConflictWindow int64
	// Urgent says what becomes of urgent bytes (URG): kept in the stream
	// (UrgentInline, the default: a receiver with SO_OOBINLINE, RFC 9293)
	// or left out of it (UrgentOOB: a receiver that takes them out of band,
	// like Suricata's urgent policy oob). An urgent byte is left out only
	// when its URG segment arrives before the byte was delivered; then
	// every offset the handler is given above it is one lower, and Extent
	// at Close too. Either way they are counted (StreamStats.UrgentBytes).
	Urgent Urgent
	// NoMidstream, when set, ignores connections whose SYN was not captured.
	NoMidstream bool
	// Linger, in capture-time nanoseconds, is how long a connection whose two
	// directions are closed stays in the table to absorb its last packets
	// (final ACKs, retransmitted FINs) before it is dropped. Default 2 s.
	Linger int64
}

// Defaults of Config (see its fields).
const (
	DefaultMaxHeldPerStream = 4 << 20
	DefaultMaxMemory        = 64 << 20
	DefaultMaxConns         = 1 << 20
	DefaultIdleTimeout      = 300e9
	DefaultReorderWindow    = 5e6
	DefaultReorderBytes     = 256 << 10
	DefaultDupWindow        = 10e6
	DefaultConflictWindow   = 16 << 10
	DefaultLinger           = 2e9
)

const (
	// maxJump: without the receiver's window scale (see half.reach), a
	// segment starting more than this above a stream's frontier, or
	// an ACK or SACK that far ahead, is suspect (see suspect) however much
	// the capture saw in flight. minReach: the least such distance, the
	// largest window a receiver advertises without scaling. maxReach: the
	// most, the largest window with scaling (RFC 7323, 2.3).
	maxJump  = 4 << 20
	minReach = 64 << 10
	maxReach = 1 << 30
	// maxShift is the largest window scale shift (RFC 7323, 2.3).
	maxShift = 14
	// corroborateSlack: how far beyond a suspect ACK a corroborating one may
	// lie (see believeAck).
	corroborateSlack = 64 << 10
	// reuseWindow: a SYN whose sequence number lies this far from a live
	// connection's stream (and whose direction's SYN was not captured) starts
	// a new connection on the tuple.
	reuseWindow = 1 << 24
	// maxGapRanges is how many declared gap ranges a stream remembers for Late.
	maxGapRanges = 64
	// keepAliveIdle: a one-byte segment below the acknowledged point is a
	// keep-alive only after the direction was quiet this long (capture time).
	keepAliveIdle = 500e6
	// nSig is how many recent packets per connection duplicate detection keeps.
	nSig = 16 // a power of two
)

// DefaultConfig returns the default policies and limits.
func DefaultConfig() Config {
	return Config{
		Overlap:          FirstWins,
		MaxHeldPerStream: DefaultMaxHeldPerStream,
		MaxMemory:        DefaultMaxMemory,
		MaxConns:         DefaultMaxConns,
		IdleTimeout:      DefaultIdleTimeout,
		ReorderWindow:    DefaultReorderWindow,
		ReorderBytes:     DefaultReorderBytes,
		DupWindow:        DefaultDupWindow,
		ConflictWindow:   DefaultConflictWindow,
		Linger:           DefaultLinger,
	}
}

func (c *Config) withDefaults() Config {
	d := DefaultConfig()
	r := *c
	if r.MaxHeldPerStream <= 0 {
		r.MaxHeldPerStream = d.MaxHeldPerStream
	}
	if r.MaxMemory <= 0 {
		r.MaxMemory = d.MaxMemory
	}
	if r.MaxConns <= 0 {
		r.MaxConns = d.MaxConns
	}
	if r.IdleTimeout == 0 {
		r.IdleTimeout = d.IdleTimeout
	}
	if r.ReorderWindow == 0 {
		r.ReorderWindow = d.ReorderWindow
	}
	if r.ReorderBytes <= 0 {
		r.ReorderBytes = d.ReorderBytes
	}
	if r.DupWindow == 0 {
		r.DupWindow = d.DupWindow
	}
	if r.ConflictWindow == 0 {
		r.ConflictWindow = d.ConflictWindow
	}
	if r.ConflictWindow > 0 {
		// A power of two, at least minRetain.
		w := int64(minRetain)
		for w < r.ConflictWindow && w < 1<<40 {
			w <<= 1
		}
		r.ConflictWindow = w
	}
	if r.Linger == 0 {
		r.Linger = d.Linger
	}
	return r
}
