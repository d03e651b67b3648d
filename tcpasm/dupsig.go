package tcpasm

import "encoding/binary"

// This file holds duplicate-packet detection: each connection's memory of
// the signatures of its latest packets.

// sig identifies a packet's headers and payload for duplicate detection.
type sig struct {
	seq, ack, tsval uint32
	length          int32
	win, ipid       uint16
	flags           uint8
	hasTS           bool
	dir             uint8
	fp              uint64 // payload fingerprint: first and last 8 bytes
}

type sigRec struct {
	sig
	cp int32
	ts int64
}

// sigMemory is a connection's memory of its latest nSig packets. The first
// packet's record lives inline; the ring is taken with the second packet, so
// a connection of a single packet (a SYN scan) costs one record, not nSig.
// Records are written in turn: packet i (0-based) is at ring slot i%nSig.
type sigMemory struct {
	first    sigRec
	firstKey uint64
	ring     *sigRing
	n        int // packets recorded
}

// sigRing holds the records of the latest nSig packets and their keys (the
// keys apart: two cache lines to scan instead of twelve).
type sigRing struct {
	recs [nSig]sigRec
	keys [nSig]uint64
}

// next returns the slot of packet *n (and counts it).
func (r *sigRing) next(n *int) (*sigRec, *uint64) {
	i := *n & (nSig - 1)
	*n++
	return &r.recs[i], &r.keys[i]
}

// nextFew returns the record and key slot of the next packet while there is
// no ring (the first two packets): inline, then the ring, taken now. With a
// ring, ring.next does (inlined on the hot path).
func (m *sigMemory) nextFew(fl *freeLists) (*sigRec, *uint64) {
	m.n++
	if m.n == 1 {
		return &m.first, &m.firstKey
	}
	m.ring = fl.getSigRing()
	m.ring.recs[0], m.ring.keys[0] = m.first, m.firstKey
	return &m.ring.recs[1], &m.ring.keys[1]
}

// release gives the ring back once the connection left the table.
func (m *sigMemory) release(fl *freeLists) {
	if m.ring != nil {
		fl.putSigRing(m.ring)
		m.ring = nil
	}
}

// key hashes every field of s: equal sigs have equal keys, and differing
// ones almost never do.
func (s *sig) key() uint64 {
	var ts uint64
	if s.hasTS {
		ts = 1
	}
	x := uint64(s.seq)<<32 | uint64(s.ack)
	y := uint64(s.tsval)<<32 | uint64(uint32(s.length))
	z := uint64(s.win)<<48 | uint64(s.ipid)<<32 | uint64(s.flags)<<16 | uint64(s.dir)<<8 | ts
	// Four independent multiplies (they run in parallel), one fold: a
	// collision costs only a full compare.
	k := x*0x9E3779B97F4A7C15 ^ y*0xC2B2AE3D27D4EB4F ^ z*0x165667B19E3779F9 ^ s.fp*0xD6E8FEB86659FD93
	return k ^ k>>29
}

// makeSig returns the signature of seg's headers; its payload fingerprint is
// set by fingerprint.
func makeSig(seg *Segment, n int) sig {
	return sig{seq: seg.Seq, ack: seg.Ack, tsval: seg.TSVal, length: int32(n), win: seg.Window,
		ipid: seg.IPID, flags: seg.Flags, hasTS: seg.HasTS}
}

// fingerprint is the payload part of a sig: its first and last 8 bytes.
// fingerprint returns the payload's fingerprint, the one FromPacket noted when
// the payload is still the slice it was taken of.
func (s *Segment) fingerprint() uint64 {
	if len(s.Payload) > 0 && s.fpOf == &s.Payload[0] && s.fpLen == len(s.Payload) {
		return s.fp
	}
	return fingerprint(s.Payload)
}

func fingerprint(p []byte) uint64 {
	if len(p) >= 8 {
		return binary.LittleEndian.Uint64(p) ^ (binary.LittleEndian.Uint64(p[len(p)-8:]) * 0x9E3779B97F4A7C15)
	}
	var fp uint64
	for _, b := range p {
		fp = fp<<8 | uint64(b)
	}
	return fp
}

// dup reports whether seg is an identical copy of a recent packet.
func (a *Assembler) dup(h *half, s *sig, key uint64, seg *Segment) bool {
	m := &h.c.sigs
	if m.ring == nil {
		return m.n > 0 && m.firstKey == key && a.sameCopy(&m.first, s, seg)
	}
	k := min(m.n, nSig)
	for i, sk := range m.ring.keys[:k] {
		if sk == key && a.sameCopy(&m.ring.recs[i], s, seg) {
			return true
		}
	}
	return false
}

// sameCopy reports whether seg, of signature s, is a copy of the packet r
// recorded: another capture point, or the same within the DupWindow.
func (a *Assembler) sameCopy(r *sigRec, s *sig, seg *Segment) bool {
	return r.sig == *s && (r.cp != seg.CapturePoint || seg.Timestamp-r.ts <= a.cfg.DupWindow)
}
