package tcpasm

// This file holds sequence-number arithmetic.

// seqNum is a TCP sequence number. Sequence numbers wrap at 2^32, so they
// are compared by serial number arithmetic (RFC 1982; RFC 9293, 3.4): s is
// after t when s-t, taken as a signed 32-bit number, is positive. That is
// meaningful while the two lie within 2^31 of each other: offsets are
// unwrapped around the latest evidence (half.ref), each step below 2^31.
type seqNum uint32

// add returns s advanced by n bytes (modulo 2^32).
func (s seqNum) add(n int64) seqNum { return s + seqNum(uint32(n)) }

// sub is the signed distance from t to s, in [-2^31, 2^31).
func (s seqNum) sub(t seqNum) int64 { return int64(int32(s - t)) }

// after reports whether s comes after t.
func (s seqNum) after(t seqNum) bool { return int32(s-t) > 0 }

// ahead is the distance from t forward to s, in [0, 2^32).
func (s seqNum) ahead(t seqNum) int64 { return int64(uint32(s - t)) }
