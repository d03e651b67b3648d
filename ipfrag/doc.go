// Package ipfrag reassembles IPv4 and IPv6 fragments passively, ahead of the
// TCP assembler: it never loses, duplicates or invents a byte, and it reports
// what the capture missed.
//
// A decoder that stops at an IP fragment hands it to a Reassembler with Add.
// Next returns the datagrams that became ready, in the order they did; each is
// either complete (Complete: its header rewritten as a whole datagram followed
// by the whole payload, ready to decode) or partial (the bytes the capture
// held, as runs, when the datagram timed out, was evicted or the input ended).
// Release gives a datagram's buffer back once its bytes are no longer read.
//
//	r := ipfrag.New(ipfrag.Config{})
//	for each packet {
//		if p.Timestamp >= r.Deadline() {
//			r.Expire(p.Timestamp)
//		}
//		if fragment {
//			r.Add(&f)
//		}
//		for r.Next(&d) {
//			use(d)
//			r.Release(d.Buf)
//		}
//	}
//	r.Flush() // and drain Next once more
//
// # Identity
//
// Fragments belong to one datagram when they share Tag, LinkType, Encap, the
// IP version, the source and destination addresses (read from Header), the
// identification and, for IPv4, the protocol (Encaps compare by the VLANs
// and tunnels they hold). A fragment that arrives after its datagram was
// delivered starts a new datagram (identifications wrap quickly on fast
// links; Linux does the same). The Encap is copied once per datagram, into
// its buffer; Datagram.Encap points there until Release.
//
// # Bytes
//
// Each fragment's captured bytes are copied once, into the datagram's buffer
// at a fixed header room plus the fragment's offset; the first fragment's
// header is copied just before the payload, so a complete datagram is one
// contiguous slice with no second copy. Buffers are pooled: in steady state Add
// and Next do not allocate. Every buffer has MaxHeader bytes of header room
// and room for the largest datagram (65,535 bytes of payload) from the start:
// a buffer that grew would copy what it held a second time. Config.MaxBytes
// counts that capacity (BufferBytes) for every pending datagram; the pool
// keeps at most 512 free buffers.
//
// # Overlaps and malformed fragments
//
// A fragment that repeats an earlier one exactly (same offset, length, more
// flag and the same bytes where both were captured) is a duplicate: counted,
// and it only fills bytes the snaplen had cut from the first copy.
//
// IPv4: the first copy of a byte wins and is never replaced; a later
// overlapping fragment with the same bytes where both were captured only fills
// holes (counted, Overlaps). A fragment whose captured bytes differ from held
// ones (a "duplicate" with other bytes too), or whose end contradicts the end
// the datagram's fragments fixed (a second last fragment with another end, a
// fragment past the end), is evidence that the identification was reused: the
// pending datagram is given up at once, ready as partial exactly as on
// timeout and holding only its own bytes, and the fragment starts a new
// pending datagram (Reused). This refines "first copy wins": the later copy
// goes to a datagram of its own, and the TCP assembler's overlap policy then
// decides between the two at the stream level. IPv4 identifications are 16
// bits and often per connection, so reuse between the same hosts within the
// timeout is common on real traffic, and a datagram waiting for a lost
// fragment would otherwise absorb a later datagram's fragments.
//
// One exception: a fragment whose captured bytes differ from held ones (its
// end agreeing with the datagram's) but whose other bytes, written only
// where no fragment's byte is held (first copy wins), complete the datagram
// (its first and last fragments present, every byte captured), when the
// completed datagram's TCP checksum, or UDP checksum if not zero, is good:
// then it is an overlap (counted in Overlaps and OverlapConflicts) and the
// datagram is complete at once. A host computes the checksum before it
// fragments, so a good one says the first copies are the datagram's bytes
// (Zeek's fragment_inconsistency trace: one fragment fills the last hole
// and rewrites another's bytes; Wireshark keeps the last copy, whose TCP
// checksum is bad); a mix of two datagrams passes it by a 1 in 65,535
// chance. When the checksum is bad or cannot be verified, the reuse rule
// applies as above, and the bytes the test wrote into holes are held by no
// fragment: a partial datagram never shows them.
//
// The rules cannot tell a later datagram whose fragments only fill the
// pending one's holes, without overlapping its captured bytes and within
// MaxDist (see Time and memory): those bytes are mixed into it. Cut as the
// pending one (the same path MTU), a fragment fills a lost fragment's hole
// exactly and the datagram completes, so the TCP checksum can catch it.
//
// IPv6: a fragment overlapping an earlier one discards the whole datagram (RFC
// 5722). Its identity is remembered (a tombstone) until the datagram's
// deadline, and later fragments of it are dropped (AfterDiscard). Overlapping
// fragments are counted (Overlaps), and those whose overlapping bytes differ
// from the held ones too (OverlapConflicts, which also counts the IPv4
// overlaps above).
//
// A fragment is malformed (counted, dropped; its datagram is kept) when its
// header is unusable, its offset is not a multiple of 8, it is not the last
// and its length is zero or not a multiple of 8, its payload would pass 65,535
// bytes (IPv4: header and payload; IPv6: the payload length field), or the
// datagram already tracks MaxFragments fragments. A second last fragment with
// another end, or a fragment reaching past the end a last fragment fixed, is
// also malformed: IPv4 drops the fragment and keeps the datagram, IPv6
// discards the datagram (with a tombstone, as for an overlap); IPv4 takes it
// for identification reuse (above).
//
// # Trains
//
// A host sends a datagram's fragments back to back, in order, and a capture
// usually holds them so: a complete datagram whose fragments were given to
// Add one right after the other (no other fragment in between), in offset
// order from 0, each where the one before ended, one copy each and none cut
// by the snaplen, is a train (Datagram.Train). The rules above cannot tell
// a complete datagram made of two datagrams that shared an identification;
// a consumer verifies such datagrams by their transport checksum (the
// pipeline verifies every one). Datagram.Train tells how the fragments
// came: a train is such a mix only when the capture lost the tail of one
// datagram and the head of the next and the sender gave both the same
// identification — or when the input was crafted to look so.
//
// # Partial datagrams
//
// A datagram completes when its first fragment (offset 0, which carries the
// header), its last fragment and every payload byte were captured; it is ready
// at once. A fragment cut by the snaplen contributes only its captured bytes,
// so its datagram can only end partial: when every payload byte is claimed
// by some fragment (the last one fixed the end) but the snaplen cut some, it
// can never complete and is ready at once (Truncated). Partial datagrams
// hold the maximal contiguous captured ranges: the one at offset 0 follows
// the header in IP (when the first fragment was captured, even with no
// payload byte), the others are in Runs. Holes are never filled with zeros.
// Datagram.Length is the end the last fragment fixed (-1 without it); each
// run's Cut (Cut0 for the run at offset 0) counts the bytes right after it
// that fragments claimed but the snaplen cut: sent, at those offsets, so a
// consumer can report them as truncated rather than lost.
//
// A partial datagram whose pieces arrived further apart than a fragment
// train allows, more than MaxDist foreign fragments from its first piece's
// arrival to its last one's, is suspect: it may hold pieces of another
// datagram with its identification that only filled its holes. Only the
// train around the header's piece (else the first to arrive) is delivered:
// from that piece, the neighbour in arrival with the smaller gap joins while
// the train's gaps total at most MaxDist; the other pieces are dropped
// (Dropped).
//
// # Time and memory
//
// Time is capture time. A datagram's deadline is its first fragment's arrival
// plus Config.Timeout; Expire(now) makes ready (partial) every datagram whose
// deadline is at or before now, in deadline order. Timestamps that go backwards
// only give earlier deadlines: the pending set is kept in (deadline,
// arrival) order, as a FIFO while deadlines come in order (no heap work) and
// a min-heap for those that do not. When a new datagram's buffer would take
// the bytes held past
// Config.MaxBytes, the oldest pending datagrams (earliest deadline) are made
// ready early (Evicted) first. A tombstone counts TombstoneBytes.
//
// Staleness (Linux's ipfrag_max_dist): every fragment of a (Tag, source,
// destination) while that pair has pending datagrams advances the pair's
// counter; a pending datagram remembers the counter at its identity's last
// fragment. When more than Config.MaxDist (default 64) fragments of the pair
// passed it by, the datagram is given up (partial, Stale) as the fragment
// that passes the limit arrives, and the next fragment of its identity
// starts a new datagram: a datagram waiting long for a lost fragment does not
// absorb a much later datagram's fragments, and is delivered promptly, not
// at its timeout. The pair keeps its pending datagrams in the order of their
// marks, so only the oldest is checked per fragment. The counter is one map
// entry per pair, created with the pair's first pending datagram; after its
// last it stays idle, for the pair's next datagram, until more than 1,024
// pairs are idle (the longest idle are forgotten first), so it costs one
// lookup per fragment and at most one entry per pending datagram plus the
// idle ones (a fixed table would bound it too, but collisions would age
// unrelated pairs). The maps are keyed by 64-bit hashes of the pair and of the
// datagram's identity (chained on collision); the Encap is compared only
// when the rest of the identity matches.
package ipfrag
