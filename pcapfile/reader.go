package pcapfile

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/reseq/reseq/internal/bufin"
)

// Magic numbers, as read in the file's own byte order.
const (
	MagicMicroseconds uint32 = 0xa1b2c3d4 // standard format, microsecond timestamps
	MagicNanoseconds  uint32 = 0xa1b23c4d // standard format, nanosecond timestamps
	MagicModified     uint32 = 0xa1b2cd34 // Kuznetzov's modified format, 24-byte records
)

// HeaderLen is the length of the file header.
const HeaderLen = 24

const (
	recordLen         = 16 // standard record header
	modifiedRecordLen = 24 // modified format record header
	minMaxCaplen      = 256 << 10
	maxMaxCaplen      = 16 << 20
	initialBuffer     = 64 << 10
	maxBuffer         = 256 << 10 // reads are done in chunks of up to this size (L2-sized)
	fcsPresentBit     = 0x04000000
	linkTypeMask      = 0x03ffffff
	reservedMask      = 0x03ff0000
)

// Sentinel errors, wrapped by *FormatError: test with errors.Is.
var (
	// ErrNotPcap: the input does not start with a pcap magic number.
	ErrNotPcap = errors.New("not a pcap capture")
	// ErrTruncated: the input ended inside the file header or a record.
	ErrTruncated = errors.New("truncated")
	// ErrCaplen: a record's captured length exceeds the sane bound.
	ErrCaplen = errors.New("captured length too large")
	// ErrHeader: the file header has a version other than 2.0 to 2.4, or
	// reserved bits set in its link-type field (libpcap rejects both).
	ErrHeader = errors.New("unsupported file header")
)

// FormatError reports a problem at a byte offset of the input: a malformed
// header or record (Err is one of the sentinel errors of this package) or a read
// error of the underlying reader (Err is that error).
type FormatError struct {
	Offset int64  // byte offset of the header or record at fault
	Err    error  // ErrNotPcap, ErrTruncated, ErrCaplen, or the underlying read error
	Detail string // human-readable detail, may be empty
}

// ByteOffset returns the byte offset of the fault (Offset), which the error's
// text shows: the interface reseq.Open's errors look for.
func (e *FormatError) ByteOffset() int64 { return e.Offset }

func (e *FormatError) Error() string {
	s := fmt.Sprintf("pcap: offset %d: %v", e.Offset, e.Err)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns Err.
func (e *FormatError) Unwrap() error { return e.Err }

// Packet is one record of the capture.
type Packet struct {
	Timestamp int64  // nanoseconds since the Unix epoch
	Length    int    // original length of the packet on the wire
	Data      []byte // captured bytes; valid until the next call to Next (see NewReaderBytes, SetLender)
	LinkType  uint32 // link-layer header type of the file, FCS bits masked
}

// Reader reads a pcap file. It is not safe for concurrent use.
type Reader struct {
	in  bufin.Buffer // the unread window in.Buf[in.Start:in.End]
	off int64        // input offset of in.Buf[in.Start]
	err error        // sticky error returned by Next

	be        bool
	nano      bool
	modified  bool
	recLen    int
	major     uint16
	minor     uint16
	thiszone  int32
	snaplen   uint32
	rawLink   uint32
	linkType  uint32
	maxCaplen int
}

// NewReader reads the file header from r and returns a Reader positioned at the
// first record. An input that is not a pcap file gives a *FormatError wrapping
// ErrNotPcap whose detail shows the first bytes in hex.
func NewReader(r io.Reader) (*Reader, error) {
	return newReader(&Reader{in: bufin.Buffer{R: r, Buf: make([]byte, initialBuffer)}})
}

// NewReaderBytes returns a Reader of the capture held whole in b (a memory
// mapped file, say): nothing is copied and no reads are made. Each Packet's
// Data is a sub-slice of b, so it stays valid as long as b does; b must not be
// modified while the Reader is in use. Errors and their offsets are those
// NewReader gives for the same bytes.
func NewReaderBytes(b []byte) (*Reader, error) {
	return newReader(&Reader{in: bufin.Buffer{Buf: b, End: len(b), EOF: true, Fixed: true}})
}

func newReader(pr *Reader) (*Reader, error) {
	if err := pr.fill(HeaderLen); err != nil {
		n := pr.in.End - pr.in.Start
		if err == io.EOF {
			return nil, &FormatError{Offset: 0, Err: ErrNotPcap, Detail: "empty input"}
		}
		if n > 0 && n < HeaderLen && (n < 4 || !isMagic(pr.in.Buf[:n])) {
			return nil, &FormatError{Offset: 0, Err: ErrNotPcap, Detail: "starts with " + hexPrefix(pr.in.Buf[:n])}
		}
		if ferr, ok := err.(*FormatError); ok && ferr.Err == ErrTruncated {
			ferr.Detail = fmt.Sprintf("file header: %d of %d bytes", n, HeaderLen)
		}
		return nil, err
	}
	h := pr.in.Buf[:HeaderLen]
	switch {
	case binary.LittleEndian.Uint32(h) == MagicMicroseconds:
	case binary.LittleEndian.Uint32(h) == MagicNanoseconds:
		pr.nano = true
	case binary.LittleEndian.Uint32(h) == MagicModified:
		pr.modified = true
	case binary.BigEndian.Uint32(h) == MagicMicroseconds:
		pr.be = true
	case binary.BigEndian.Uint32(h) == MagicNanoseconds:
		pr.be, pr.nano = true, true
	case binary.BigEndian.Uint32(h) == MagicModified:
		pr.be, pr.modified = true, true
	default:
		return nil, &FormatError{Offset: 0, Err: ErrNotPcap, Detail: "starts with " + hexPrefix(h[:16])}
	}
	pr.recLen = recordLen
	if pr.modified {
		pr.recLen = modifiedRecordLen
	}
	pr.major = pr.u16(h[4:])
	pr.minor = pr.u16(h[6:])
	pr.thiszone = int32(pr.u32(h[8:]))
	pr.snaplen = pr.u32(h[16:])
	pr.rawLink = pr.u32(h[20:])
	pr.linkType = pr.rawLink & linkTypeMask
	if pr.major != 2 || pr.minor > 4 {
		return nil, &FormatError{Offset: 4, Err: ErrHeader, Detail: fmt.Sprintf("version %d.%d", pr.major, pr.minor)}
	}
	if pr.rawLink&reservedMask != 0 {
		return nil, &FormatError{Offset: 20, Err: ErrHeader, Detail: fmt.Sprintf("reserved bits set in link-type field %#08x", pr.rawLink)}
	}
	pr.maxCaplen = minMaxCaplen
	if pr.snaplen > minMaxCaplen {
		pr.maxCaplen = maxMaxCaplen
		if pr.snaplen < maxMaxCaplen {
			pr.maxCaplen = int(pr.snaplen)
		}
	}
	pr.in.Start += HeaderLen
	pr.off = HeaderLen
	return pr, nil
}

func isMagic(b []byte) bool {
	// A prefix of a magic in either byte order: the input may be a truncated pcap.
	for _, m := range []uint32{MagicMicroseconds, MagicNanoseconds, MagicModified} {
		var le, be [4]byte
		binary.LittleEndian.PutUint32(le[:], m)
		binary.BigEndian.PutUint32(be[:], m)
		n := min(len(b), 4)
		if string(b[:n]) == string(le[:n]) || string(b[:n]) == string(be[:n]) {
			return true
		}
	}
	return false
}

func hexPrefix(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return hex.EncodeToString(b)
}

func (r *Reader) u16(b []byte) uint16 {
	if r.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *Reader) u32(b []byte) uint32 {
	if r.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// Next returns the next packet. At the clean end of the input it returns io.EOF;
// a malformed or cut record gives a *FormatError naming the record's offset,
// after every complete packet before it. Errors are sticky.
//
// A captured length above the header's snaplen, or above the record's original
// length, is accepted as long as it stays within max(snaplen, 256 KiB) (at most
// 16 MiB): the bytes are in the file, and libpcap (for caplen > snaplen) and
// Wireshark deliver such records too. Length is then what the record claims.
func (r *Reader) Next() (Packet, error) {
	if r.err != nil {
		return Packet{}, r.err
	}
	if r.in.End-r.in.Start < r.recLen {
		if err := r.fill(r.recLen); err != nil {
			return Packet{}, r.headerErr(err)
		}
	}
	h := r.in.Buf[r.in.Start : r.in.Start+r.recLen]
	var sec, frac, caplen, origlen uint32
	if r.be {
		sec = binary.BigEndian.Uint32(h[0:])
		frac = binary.BigEndian.Uint32(h[4:])
		caplen = binary.BigEndian.Uint32(h[8:])
		origlen = binary.BigEndian.Uint32(h[12:])
	} else {
		sec = binary.LittleEndian.Uint32(h[0:])
		frac = binary.LittleEndian.Uint32(h[4:])
		caplen = binary.LittleEndian.Uint32(h[8:])
		origlen = binary.LittleEndian.Uint32(h[12:])
	}
	if uint64(caplen) > uint64(r.maxCaplen) {
		r.err = &FormatError{Offset: r.off, Err: ErrCaplen,
			Detail: fmt.Sprintf("caplen %d exceeds the bound %d (snaplen %d)", caplen, r.maxCaplen, r.snaplen)}
		return Packet{}, r.err
	}
	need := r.recLen + int(caplen)
	if r.in.End-r.in.Start < need {
		if err := r.fill(need); err != nil {
			return Packet{}, r.recordErr(err, need, caplen)
		}
	}
	ts := int64(sec) * 1e9
	if r.nano {
		ts += int64(frac)
	} else {
		ts += int64(frac) * 1e3
	}
	p := Packet{
		Timestamp: ts,
		Length:    int(origlen),
		Data:      r.in.Buf[r.in.Start+r.recLen : r.in.Start+need : r.in.Start+need],
		LinkType:  r.linkType,
	}
	r.in.Start += need
	r.off += int64(need)
	return p, nil
}

// headerErr records the error of a failed record-header fill.
func (r *Reader) headerErr(err error) error {
	if ferr, ok := err.(*FormatError); ok && ferr.Err == ErrTruncated {
		ferr.Detail = "record header: " + ferr.Detail
	}
	r.err = err
	return err
}

// recordErr records the error of a failed record fill.
func (r *Reader) recordErr(err error, need int, caplen uint32) error {
	if err == io.EOF {
		err = &FormatError{Offset: r.off, Err: ErrTruncated}
	}
	if ferr, ok := err.(*FormatError); ok && ferr.Err == ErrTruncated {
		ferr.Detail = fmt.Sprintf("record of %d bytes (caplen %d): %d bytes left", need, caplen, r.in.End-r.in.Start)
	}
	r.err = err
	return err
}

// SetLender makes the Reader take its input buffers from l and never write
// into a buffer again once it has handed out packets from it: when it needs
// more input it copies the unread bytes into a new buffer from l.Get (of
// length n or more) and gives the old one to l.Put. A packet's Data then stays
// valid until l reuses the buffer that holds it, so a batch of packets can go
// to another goroutine without being copied. Put may also receive the buffer
// the Reader started with. A Reader over bytes in memory never reads and
// ignores l; a nil l restores the default (one buffer, reused).
func (r *Reader) SetLender(l interface {
	Get(n int) []byte
	Put(b []byte)
}) {
	r.in.Lender = l
}

// Offset returns the input offset of the next record (after Next returned a
// packet: one past its end).
func (r *Reader) Offset() int64 { return r.off }

// LinkType returns the link-layer header type with the FCS bits masked.
func (r *Reader) LinkType() uint32 { return r.linkType }

// RawLinkType returns the header's link-type field as stored, FCS bits included.
func (r *Reader) RawLinkType() uint32 { return r.rawLink }

// FCSLength returns the length in bytes of the frame check sequence at the end
// of every packet, when the header says so, or 0 when it does not say.
func (r *Reader) FCSLength() int {
	if r.rawLink&fcsPresentBit == 0 {
		return 0
	}
	return int(r.rawLink>>28) * 2
}

// Snaplen returns the header's snapshot length (0 in some files: no limit).
func (r *Reader) Snaplen() uint32 { return r.snaplen }

// Nanosecond reports whether the file's timestamps have nanosecond resolution.
func (r *Reader) Nanosecond() bool { return r.nano }

// Modified reports whether the file uses the modified format (magic a1b2cd34).
func (r *Reader) Modified() bool { return r.modified }

// Version returns the header's format version (normally 2.4).
func (r *Reader) Version() (major, minor uint16) { return r.major, r.minor }

// ByteOrder returns the byte order of the file.
func (r *Reader) ByteOrder() binary.ByteOrder {
	if r.be {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// ThisZone returns the header's GMT-to-local correction in seconds (almost
// always 0; timestamps are not adjusted by it).
func (r *Reader) ThisZone() int32 { return r.thiszone }

// fill makes at least n bytes available in in.Buf[in.Start:in.End]; n must
// already be checked against the sane bound. At the end of the input it
// returns io.EOF (no byte left) or a *FormatError wrapping ErrTruncated (some
// but fewer than n left).
func (r *Reader) fill(n int) error {
	if r.in.End-r.in.Start >= n {
		return nil
	}
	err := r.in.Fill(n, maxBuffer)
	if err == nil || err == io.EOF {
		return err
	}
	if short, ok := err.(*bufin.ShortError); ok {
		return &FormatError{Offset: r.off, Err: ErrTruncated, Detail: fmt.Sprintf("%d of %d bytes", short.Have, short.Want)}
	}
	return &FormatError{Offset: r.off, Err: err}
}
