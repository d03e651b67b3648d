// Package tcpasm reassembles the TCP byte streams of a capture passively: every
// captured byte is delivered at its exact int64 stream offset, and every byte
// the capture missed is reported as a gap (offset, length, reason) before the
// data after it. No byte is lost, duplicated or invented.
//
// Feed an Assembler one Segment at a time (FromPacket fills one from a layers
// decode; other decoders fill the plain struct) and call Close at the end of the
// capture. The Handler hears, per stream direction and in stream order, Data
// and Gap calls that tile [0, Extent); Late for bytes that arrive inside a gap
// already reported; Conflict when a retransmission's bytes differ from bytes
// seen before; Close once per direction. Data and Late carry the capture time
// of the packet whose bytes they deliver; Gap, Conflict and Close the capture
// time of the packet (or the end of input) that caused them.
//
// # Connections
//
// Connections are keyed by the direction-normalised layers.FlowKey. The client
// is the sender of a SYN without ACK, else the receiver of a SYN-ACK, else the
// sender of the first packet seen. A SYN on a tuple whose connection ended
// (FINs both ways or a RST), a SYN with another ISN than the one its direction
// already had, or one whose sequence number lies far (16 MiB) from the live
// connection's stream closes the old connection (its streams get their final
// gaps and Close) and opens a new one with the next Conn.Index; so does data
// far from a finished connection's streams. A SYN with the direction's own ISN
// never starts a new connection, and the late packets of a connection that
// ended (FINs or a RST) and left the table — retransmitted FINs, RSTs, ACKs or
// data up to its end, its own SYN — join it: counted (Stats.JoinedClosed),
// they open no phantom connection.
//
// A RST ends a connection only if nothing shows the connection survived
// it. While the connection lingers after the RST (Config.Linger), the
// evidence that it went on — the RST was forged in an endpoint's name (an
// injection, an evasion) or a middlebox's — is: the SYN-ACK that answers
// the connection's own SYN (it acknowledges the client's captured ISN+1;
// its direction had no SYN of another ISN), or a segment without RST from
// a direction that sent one, in its sequence (not 16 MiB or more from
// its stream), carrying something new (bytes at or beyond the RST's
// number, or an acknowledgment beyond its last): a stack that reset a
// connection sends nothing more on it but RSTs. The connection then goes
// on as if the RSTs had not come: same number, roles and streams, its
// directions no longer reset (Stream.RST), their bytes beyond a RST's
// number data again; the RSTs are counted (StreamStats.RSTSurvived). Holes
// the RST declared stay declared (bytes that fill them are Late). Data of
// the RST's receiver alone is no such evidence (it may have crossed the RST
// in flight): it is delivered to the connection while it lingers, and the
// RST still ends it. A FIN numbered below its direction's SYN ends nothing.
// Finished connections linger
// (Config.Linger) to absorb their last packets and are then dropped: the table
// shrinks. A tuple's next Conn.Index is remembered for 10 minutes of capture
// time after its connection left the table. Idle connections
// (Config.IdleTimeout, capture time) have their held bytes flushed as gaps
// (ReasonIdle) and turn dormant: a later segment in their sequence resumes
// them, same connection and roles; they are closed with ReasonIdle 10
// minutes on, or when a new SYN or a far segment takes their tuple. At
// MaxConns, or when the table pushes the memory in use past MaxMemory, the
// dormant ones are closed first (ReasonIdle), then the least recently
// active one is evicted (ReasonEvicted). All are found at the
// front of time-ordered lists: no scan of the table per packet.
//
// Timeouts run on the capture clock (Clock): the latest plausible
// timestamp. A timestamp more than an hour ahead of it or behind it is a
// leap, believed only when the next packet confirms it (a long pause of the
// capture); until then the segment is assembled at the clock (counted,
// Stats.ClockLeaps), so that one far-future stamp neither expires nor splits
// connections.
//
// # Memory
//
// Config.MaxMemory bounds everything that grows with the input: held bytes,
// conflict windows, the connection table (ConnCost a connection, 880 bytes
// until it carries data, plus the handler's Config.ConnOverhead; 896 bytes
// more for the duplicate-detection ring from its second packet, 80 more per
// direction that sees a FIN, RST, SACK, far packet or acked hole), suspect payloads
// and the tuples' next Conn.Index (at most a sixteenth of it). Stats.Memory
// is that sum. Over it the least recently active connections are evicted,
// beyond the first MinConns; the table never grows past it.
//
// # Plausibility
//
// No sender has more bytes in flight than its receiver's window allows. A
// data segment that starts, or an ACK or SACK that points, farther beyond
// everything known of its stream than that is suspect (a segment taken
// before segmentation, GSO or BIG TCP, may be longer than a window): farther
// than twice the largest window the receiver advertised, scaled by the
// window scale its handshake agreed on (RFC 7323; at least 64 KiB, the
// largest window without scaling, and at most 1 GiB, the largest with it);
// when the scale is unknown (the handshake was not captured), farther than
// four times the most the capture saw in flight, at least 64 KiB and at most
// 4 MiB. It is held aside (one data segment and one ACK per direction) until
// a later packet corroborates it — the next contiguous segment, an ACK of
// its start, its bytes or its FIN, data at a far ACK, two later ACKs
// agreeing with a far ACK — as the packets after a capture's blackout do;
// random or corrupt numbers almost never do. Uncorroborated, it is dropped
// and counted (StreamStats.OutOfWindow): a stream's extent never runs past
// what the evidence supports.
//
// # Offsets
//
// Offset 0 is ISN+1 when the direction's SYN was captured before any of its
// data (Stream.SYN; data on a SYN starts at 0), else the sequence number of the
// first data segment (mid-stream pickup, delivered at once). Bytes below offset
// 0 that arrive later are counted in BeforeBase. Sequence numbers are unwrapped
// by serial arithmetic around the direction's latest evidence (its last
// segment, or the peer's last ACK or SACK edge), so a wrap is never a gap and
// offsets stay exact over any number of laps as long as each step between
// consecutive evidence is below 2^31, however sparse the capture.
//
// # Gaps
//
// A hole is declared as soon as evidence allows, always before the data after
// it:
//
//   - acked: the peer's cumulative ACK passed it. The hole first gets an
//     allowance for ACK-before-data reordering: Config.ReorderWindow of capture
//     time, ended early when more than Config.ReorderBytes are held above it or
//     the ACK runs more than ReorderBytes past it. ACKed bytes beyond the last
//     captured byte extend the extent and become an acked gap the same way (the
//     ACK of a FIN counts one less). When the capture missed a direction's FIN,
//     the last unit of an ACK beyond everything captured is ambiguous (a byte
//     or the FIN); it is settled when the direction closes: if the peer's FIN
//     was seen (a graceful close), it is taken to be the FIN, else a byte.
//   - truncated: the snaplen cut a segment (Segment.Length > len(Payload)); the
//     cut bytes become a gap when the stream reaches them, unless another copy
//     filled them first.
//   - limit: the bytes held above the lowest hole exceed MaxHeldPerStream.
//   - evicted: the bytes held by all streams exceed MaxMemory; the oldest
//     holders are flushed (holes declared, held bytes delivered). As a close
//     reason: the connection was evicted from the table (MaxConns, or
//     MaxMemory with the table counted).
//   - closed: a RST ended the connection, or the capture ended (or went idle)
//     with a hole below a FIN. A RST declares the holes of both directions at
//     once, but like a FIN exchange it closes them only when the connection
//     leaves the table after Config.Linger: segments a capture reordered
//     behind the RST still arrive as Late.
//   - idle, eof: the connection went idle, the capture ended.
//
// A hole below a FIN is not declared because of the FIN alone: the sender may
// still retransmit. The peer's ACK of it (acked) or the end of the connection
// (closed) declares it. Once every byte below both FINs is delivered or
// declared (or a RST was seen), the connection is finished; it lingers in the
// table for Config.Linger of capture time, so that copies and retransmissions
// the capture reordered behind the end still count and still fill gaps
// (Late), and then its directions are closed (ReasonFIN, ReasonRST) and it
// leaves the table. Half-closed connections keep the open direction going. At
// any declaration, the part of a hole the peer acknowledged or SACKed past is
// reported as acked.
//
// Bytes that arrive inside a declared gap are delivered by Late and counted in
// LateBytes (GapBytes shrinks by as much). Each direction remembers its last 64
// gap ranges; bytes for older ones are counted (Stats.LateDropped), not
// delivered. So for every direction, at Close:
//
//	Stats.Bytes + Stats.GapBytes + Stats.LateBytes == Extent
//
// and the Data and Gap calls tile [0, Extent) in order.
//
// # Overlaps and copies
//
// First copy wins (Config.Overlap FirstWins): bytes delivered or held are kept.
// Under LastWins a later copy always replaces the earlier one; the
// target-based policies (PolicyBSD, PolicyLinux, PolicyWindows, ... as
// Suricata names them; Config.OverlapFor per receiving host) decide by where
// the later segment starts and ends relative to the earlier one (see
// Overlap.NewWins). A later copy that wins replaces held bytes before they are
// delivered; one that wins over bytes already delivered (still in the
// window) is reported by a Conflict whose Replace holds the new bytes, for
// the handler to rewrite what it was given: Data is never called twice for
// a byte. Either way, differing bytes are reported by a Conflict, compared
// against held bytes and a window of recently delivered bytes
// (Config.ConflictWindow per direction, allocated on first delivery and grown
// as needed; all windows together stay within MaxMemory).
//
// Urgent bytes (URG: the byte before the urgent pointer) are counted
// (StreamStats.UrgentBytes) and stay in the stream, or under Config.Urgent
// UrgentOOB are left out of it: the handler's offsets and Extent then
// count only the other bytes.
//
// An identical copy of a recent packet (same sequence and acknowledgment
// numbers, flags, window, length, IP ID, TCP timestamp and payload) seen at
// another capture point, or again within Config.DupWindow, is counted in
// Duplicates and otherwise ignored. A segment seen at only one capture point
// fills the stream like any other: probes fill each other's loss. Keep-alives
// (zero or one byte just below the acknowledged point) and zero-window probes
// are counted in KeepAlives, never delivered twice or reported as conflicts.
// Data sent by a RST's sender at or beyond the RST's sequence number is
// counted (Stats.AfterClose), not delivered. The payload of a RST itself is
// diagnostic (RFC 9293, 3.5.3), not stream data: counted in
// StreamStats.RSTBytes and passed to a Handler that implements RSTHandler,
// it never extends a stream nor becomes a gap.
//
// Close is called when the connection leaves the table: its Extent and every
// counter are final then.
//
// # Resources
//
// In-order data goes to the handler straight from the segment's payload: no
// allocation; its only copy is the one into the direction's conflict window
// (Config.ConflictWindow, recycled across streams). AssembleBatch, given a
// batch whose payloads stay valid for the whole call, defers that copy to the
// end of the batch and copies only what the window then holds. Out-of-order
// bytes are copied into recycled buffers and kept in a block list ordered by
// offset (O(log n) search, amortised O(1) insertion); bytes that continue a held
// piece join it, yet every segment's bytes are delivered by a Data call of
// their own, with that segment's capture time. A direction that holds many
// pieces (tiny segments far out of order) copies further tiny segments
// straight to their place in 4 KiB pages of its byte range, one record each
// and no buffer, and gives a page back once delivery passed it: random arrival
// of tiny segments costs a small constant factor over in-order arrival
// (BenchmarkRandomOrder). Held bytes are accounted as their length (a page's
// whole size) plus a fixed per-piece (and per joined segment) overhead,
// bounded per direction and globally.
//
// An Assembler is not safe for concurrent use and starts no goroutines; package
// pipeline runs reading and decoding beside it on a second core, and sharding
// by layers.FlowKey.SymmetricHash gives each of several Assemblers its flows.
package tcpasm
