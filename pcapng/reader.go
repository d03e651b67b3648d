package pcapng

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"

	"github.com/reseq/reseq/internal/bufin"
)

// Block types.
const (
	BlockSHB       uint32 = 0x0A0D0D0A // Section Header
	BlockIDB       uint32 = 0x00000001 // Interface Description
	BlockOPB       uint32 = 0x00000002 // Packet (obsolete)
	BlockSPB       uint32 = 0x00000003 // Simple Packet
	BlockNRB       uint32 = 0x00000004 // Name Resolution
	BlockISB       uint32 = 0x00000005 // Interface Statistics
	BlockEPB       uint32 = 0x00000006 // Enhanced Packet
	BlockDSB       uint32 = 0x0000000A // Decryption Secrets
	BlockCB        uint32 = 0x00000BAD // Custom, may be copied
	BlockCBNoCopy  uint32 = 0x40000BAD // Custom, must not be copied
	byteOrderMagic uint32 = 0x1A2B3C4D
)

const (
	// MaxBlockLength is the largest block total length accepted.
	MaxBlockLength = 64 << 20
	initialBuffer  = 64 << 10
	maxBuffer      = 256 << 10 // chunk size of reads: stays in L2 while the packets are parsed
)

// Sentinel errors, wrapped by *FormatError: test with errors.Is.
var (
	ErrNotPcapng   = errors.New("not a pcapng capture")                  // no Section Header Block at the start
	ErrTruncated   = errors.New("truncated")                             // the input ended inside a block
	ErrBlockLength = errors.New("bad block length")                      // < 12, > MaxBlockLength, or not a multiple of 4
	ErrTrailer     = errors.New("block trailer does not match")          // trailing length differs from the header's
	ErrVersion     = errors.New("unsupported version")                   // SHB version other than 1.0 or 1.2
	ErrBlock       = errors.New("malformed block")                       // a body too short for its fields
	ErrOption      = errors.New("malformed option")                      // an option runs past its block
	ErrInterface   = errors.New("packet refers to an unknown interface") // interface ID not described in the section
)

// FormatError reports a problem at a byte offset of the input: a malformed block
// (Err is one of the sentinel errors of this package) or a read error of the
// underlying reader (Err is that error).
type FormatError struct {
	Offset int64  // byte offset of the block at fault (Detail names an option's own offset)
	Block  uint32 // type of the block at fault (0 when unknown)
	Err    error
	Detail string
}

// ByteOffset returns the byte offset of the fault (Offset), which the error's
// text shows: the interface reseq.Open's errors look for.
func (e *FormatError) ByteOffset() int64 { return e.Offset }

func (e *FormatError) Error() string {
	s := fmt.Sprintf("pcapng: offset %d: %v", e.Offset, e.Err)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns Err.
func (e *FormatError) Unwrap() error { return e.Err }

// Packet is one packet of an EPB, SPB or OPB.
type Packet struct {
	Timestamp int64  // nanoseconds since the Unix epoch
	Length    int    // original length on the wire
	Data      []byte // captured bytes; valid until the next call to Next (see NewReaderBytes, SetLender)
	LinkType  uint32 // the interface's link type
	Interface int    // interface index within the section
	Section   int    // 0-based section index
	Block     uint32 // BlockEPB, BlockSPB or BlockOPB
	Offset    int64  // byte offset of the block

	// From the options of an EPB (and the pack_flags, pack_hash and drops
	// count of an OPB); zero when absent. Hash and Comment alias the buffer.
	Flags     uint32 // epb_flags
	DropCount uint64 // epb_dropcount
	Hash      []byte // epb_hash: algorithm byte followed by the hash
	Comment   []byte // the first opt_comment
	// Options is the block's options area as stored (in the section's
	// byte order, Section.ByteOrder; read it with Comments), aliasing the
	// buffer; nil when the block has none.
	Options []byte
	// PacketID is epb_packetid, valid when HasPacketID.
	PacketID    uint64
	HasPacketID bool
}

// Section describes one section (a Section Header Block).
type Section struct {
	Index        int
	Offset       int64 // byte offset of the SHB
	ByteOrder    binary.ByteOrder
	Major, Minor uint16
	Length       int64 // section length from the SHB, -1 when not given
	Hardware     string
	OS           string
	UserAppl     string
	Comments     []string
	Interfaces   int // number of interfaces described in the section so far
}

// Interface describes one interface (an Interface Description Block) and its
// statistics.
type Interface struct {
	Section  int    // section index
	Index    int    // index within the section (the ID packets refer to)
	Offset   int64  // byte offset of the IDB
	LinkType uint32 // link-layer header type
	SnapLen  uint32 // 0: no limit
	Name     string // if_name
	Desc     string // if_description
	Filter   string // if_filter (the bytes after the filter-type byte)
	// FilterType is if_filter's first byte: 0 a libpcap filter string, 1
	// BPF bytecode.
	FilterType uint8
	OS         string // if_os
	Hardware   string // if_hardware
	Comments   []string
	TSResol    uint8 // if_tsresol as stored (6 when absent)
	TSOffset   int64 // if_tsoffset in seconds
	FCSLength  int   // if_fcslen in bytes, -1 when absent

	Packets int64 // packets of this interface read so far
	Stats   Stats // from the last Interface Statistics Block, if any

	// timestamp conversion
	tsKind int8   // tsMul, tsDiv, tsPow2
	tsExp  uint8  // power of 2 for tsPow2
	tsFact uint64 // multiplier or divisor for tsMul / tsDiv (0: result 0)
}

// Stats holds the counters of an Interface Statistics Block. A counter the
// block does not carry is -1.
type Stats struct {
	Blocks       int   // ISBs read for this interface (0: the fields below are unset)
	Timestamp    int64 // ns since the epoch
	StartTime    int64 // isb_starttime, -1 when absent
	EndTime      int64 // isb_endtime, -1 when absent
	IfRecv       int64 // isb_ifrecv
	IfDrop       int64 // isb_ifdrop
	FilterAccept int64 // isb_filteraccept
	OSDrop       int64 // isb_osdrop
	UsrDeliv     int64 // isb_usrdeliv
	Comments     []string
}

const (
	tsMul int8 = iota
	tsDiv
	tsPow2
)

// Block is a block handed to the function set with SetBlockFunc.
type Block struct {
	Type      uint32
	Offset    int64
	Section   int
	ByteOrder binary.ByteOrder
	Body      []byte // the block body (without type, lengths); valid during the call
}

// Reader reads a pcapng file. It is not safe for concurrent use.
type Reader struct {
	in  bufin.Buffer // the unread window in.Buf[in.Start:in.End]
	off int64        // input offset of in.Buf[in.Start]
	err error

	be       bool
	sections []Section
	ifaces   []Interface // of every section
	secIf    int         // index in ifaces of the current section's interface 0
	lastTS   int64       // timestamp of the previous packet of the section
	counts   map[uint32]int64
	nEPB     int64
	onBlock  func(Block)
}

// NewReader reads the first Section Header Block from r. An input that does not
// start with one gives a *FormatError wrapping ErrNotPcapng whose detail shows the
// first bytes in hex.
func NewReader(r io.Reader) (*Reader, error) {
	return newReader(&Reader{in: bufin.Buffer{R: r, Buf: make([]byte, initialBuffer)}, counts: map[uint32]int64{}})
}

// NewReaderBytes returns a Reader of the capture held whole in b (a memory
// mapped file, say): nothing is copied and no reads are made. Each Packet's
// Data (and Hash, Comment) is a sub-slice of b, so it stays valid as long as b
// does; b must not be modified while the Reader is in use. Errors and their
// offsets are those NewReader gives for the same bytes.
func NewReaderBytes(b []byte) (*Reader, error) {
	return newReader(&Reader{in: bufin.Buffer{Buf: b, End: len(b), EOF: true, Fixed: true}, counts: map[uint32]int64{}})
}

func newReader(pr *Reader) (*Reader, error) {
	err := pr.fill(12)
	n := pr.in.End - pr.in.Start
	if n == 0 {
		return nil, &FormatError{Err: ErrNotPcapng, Detail: "empty input"}
	}
	head := pr.in.Buf[:min(n, 16)]
	if n < 4 || string(head[:4]) != "\x0a\x0d\x0d\x0a" {
		if n < 16 && err == nil {
			// Show the same 16 bytes however the input is chunked.
			pr.fill(16)
			head = pr.in.Buf[:min(pr.in.End, 16)]
		}
		return nil, &FormatError{Err: ErrNotPcapng, Detail: "starts with " + hex.EncodeToString(head)}
	}
	if err != nil {
		return nil, pr.setErr(err, 0, BlockSHB, "section header")
	}
	if bom := pr.in.Buf[8:12]; binary.LittleEndian.Uint32(bom) != byteOrderMagic && binary.BigEndian.Uint32(bom) != byteOrderMagic {
		return nil, &FormatError{Err: ErrNotPcapng, Block: BlockSHB, Detail: "bad byte-order magic; starts with " + hex.EncodeToString(pr.in.Buf[:12])}
	}
	if err := pr.next(new(Packet), true); err != nil {
		return nil, err
	}
	return pr, nil
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

// SetBlockFunc sets a function called with every block that is neither a packet
// nor a section, interface or statistics block (NRB, DSB, custom, unknown), just
// before it is skipped.
func (r *Reader) SetBlockFunc(f func(Block)) { r.onBlock = f }

// Sections returns every section read so far. The slice must not be modified.
func (r *Reader) Sections() []Section { return r.sections }

// Interfaces returns every interface of every section read so far, in file
// order. The slice must not be modified.
func (r *Reader) Interfaces() []Interface { return r.ifaces }

// SectionInterfaces returns the interfaces of the current section.
func (r *Reader) SectionInterfaces() []Interface { return r.ifaces[r.secIf:] }

// BlockCounts returns how many blocks of each type were read so far (a fresh map).
func (r *Reader) BlockCounts() map[uint32]int64 {
	m := make(map[uint32]int64, len(r.counts)+1)
	for k, v := range r.counts {
		m[k] = v
	}
	if r.nEPB > 0 {
		m[BlockEPB] += r.nEPB
	}
	return m
}

// Offset returns the input offset of the next block.
func (r *Reader) Offset() int64 { return r.off }

func (r *Reader) order() binary.ByteOrder {
	if r.be {
		return binary.BigEndian
	}
	return binary.LittleEndian
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

func (r *Reader) u64(b []byte) uint64 {
	if r.be {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// setErr turns a fill error into the sticky error, adding context.
func (r *Reader) setErr(err error, off int64, typ uint32, what string) error {
	if err == io.EOF {
		err = &FormatError{Offset: off, Err: ErrTruncated}
	}
	if fe, ok := err.(*FormatError); ok {
		fe.Offset, fe.Block = off, typ
		if fe.Err == ErrTruncated {
			fe.Detail = what + ": " + fe.Detail
		}
	}
	r.err = err
	return err
}

func (r *Reader) fail(off int64, typ uint32, e error, format string, args ...any) error {
	r.err = &FormatError{Offset: off, Block: typ, Err: e, Detail: fmt.Sprintf(format, args...)}
	return r.err
}

// Next returns the next packet. At the clean end of the input it returns io.EOF;
// a malformed or cut block gives a *FormatError naming its offset, after every
// packet before it. Errors are sticky.
func (r *Reader) Next() (p Packet, err error) {
	if r.err != nil {
		return p, r.err
	}
	if r.fastEPB(&p) {
		return p, nil
	}
	err = r.next(&p, false)
	return p, err
}

// fastEPB handles the common case without the general block loop: a whole,
// well-formed Enhanced Packet Block without options, already in the buffer.
// It returns false, consuming nothing, in every other case.
func (r *Reader) fastEPB(p *Packet) bool {
	h := r.in.Buf[r.in.Start:r.in.End]
	if len(h) < 32 {
		return false
	}
	// Every field read with one byte-order test, the block's bytes checked
	// once against the buffer.
	var typ, length, id, hi, lo, caplen, orig uint32
	if r.be {
		typ, length = binary.BigEndian.Uint32(h), binary.BigEndian.Uint32(h[4:])
		id, hi, lo = binary.BigEndian.Uint32(h[8:]), binary.BigEndian.Uint32(h[12:]), binary.BigEndian.Uint32(h[16:])
		caplen, orig = binary.BigEndian.Uint32(h[20:]), binary.BigEndian.Uint32(h[24:])
	} else {
		typ, length = binary.LittleEndian.Uint32(h), binary.LittleEndian.Uint32(h[4:])
		id, hi, lo = binary.LittleEndian.Uint32(h[8:]), binary.LittleEndian.Uint32(h[12:]), binary.LittleEndian.Uint32(h[16:])
		caplen, orig = binary.LittleEndian.Uint32(h[20:]), binary.LittleEndian.Uint32(h[24:])
	}
	if typ != BlockEPB || length < 32 || length&3 != 0 || uint64(length) > uint64(len(h)) {
		return false
	}
	blk := h[:length]
	if r.u32(blk[length-4:]) != length || uint64(id) >= uint64(len(r.ifaces)-r.secIf) ||
		uint64(caplen) > uint64(length-32) || length-32-(caplen+3)&^3 >= 4 {
		// Trailer or interface to report, data past the block, or options.
		return false
	}
	in := &r.ifaces[r.secIf+int(id)]
	t := uint64(hi)<<32 | uint64(lo)
	if ts, ok := fastTimestamp(in, t); ok {
		p.Timestamp = ts
	} else {
		p.Timestamp = timestamp(in, t)
	}
	p.Length = int(orig)
	p.Data = blk[28 : 28+caplen : 28+caplen]
	p.LinkType = in.LinkType
	p.Interface = in.Index
	p.Section = in.Section
	p.Block = BlockEPB
	p.Offset = r.off
	in.Packets++
	r.lastTS = p.Timestamp
	r.nEPB++
	r.in.Start += int(length)
	r.off += int64(length)
	return true
}

// fastTimestamp is timestamp for the common interfaces (a power-of-ten
// resolution of at most nanoseconds, no offset) when no overflow is possible;
// ok is false otherwise.
func fastTimestamp(in *Interface, t uint64) (int64, bool) {
	if in.tsKind != tsMul || in.TSOffset != 0 || t > math.MaxInt64/1_000_000_000 {
		return 0, false
	}
	return int64(t * in.tsFact), true
}

// next reads blocks until a packet (or, with first, until the first SHB has
// been read).
func (r *Reader) next(p *Packet, first bool) error {
	for {
		off := r.off
		if r.in.End-r.in.Start < 12 {
			if err := r.fill(12); err != nil {
				if err == io.EOF {
					r.err = io.EOF
					return io.EOF
				}
				return r.setErr(err, off, 0, "block header")
			}
		}
		h := r.in.Buf[r.in.Start : r.in.Start+12]
		typ := r.u32(h)
		if typ == BlockSHB {
			switch {
			case binary.LittleEndian.Uint32(h[8:]) == byteOrderMagic:
				r.be = false
			case binary.BigEndian.Uint32(h[8:]) == byteOrderMagic:
				r.be = true
			default:
				return r.fail(off, typ, ErrBlock, "section header byte-order magic %x", h[8:12])
			}
		}
		length := r.u32(h[4:])
		padded := (uint64(length) + 3) &^ 3
		if length < 12 || padded > MaxBlockLength {
			return r.fail(off, typ, ErrBlockLength, "block type %#x length %d", typ, length)
		}
		if r.in.End-r.in.Start < int(padded) {
			if err := r.fill(int(padded)); err != nil {
				return r.setErr(err, off, typ, blockDesc(typ, length))
			}
		}
		blk := r.in.Buf[r.in.Start : r.in.Start+int(padded)]
		if trailer := r.u32(blk[padded-4:]); trailer != length {
			return r.fail(off, typ, ErrTrailer, "block type %#x: length %d, trailer %d", typ, length, trailer)
		}
		if length&3 != 0 && typ == BlockSHB {
			return r.fail(off, typ, ErrBlockLength, "section header length %d not a multiple of 4", length)
		}
		body := blk[8 : padded-4]
		r.in.Start += int(padded)
		r.off += int64(padded)
		if first && typ != BlockSHB {
			return r.fail(off, typ, ErrNotPcapng, "first block is not a section header")
		}
		switch typ {
		case BlockEPB:
			r.nEPB++
			return r.epb(p, off, body)
		case BlockSPB, BlockOPB:
			r.counts[typ]++
			if typ == BlockSPB {
				return r.spb(p, off, body)
			}
			return r.opb(p, off, body)
		case BlockSHB:
			r.counts[typ]++
			if err := r.shb(off, body); err != nil {
				return err
			}
			if first {
				return nil
			}
		case BlockIDB:
			r.counts[typ]++
			if err := r.idb(off, body); err != nil {
				return err
			}
		case BlockISB:
			r.counts[typ]++
			if err := r.isb(off, body); err != nil {
				return err
			}
		default:
			r.counts[typ]++
			if r.onBlock != nil {
				r.onBlock(Block{Type: typ, Offset: off, Section: len(r.sections) - 1, ByteOrder: r.order(), Body: body})
			}
		}
	}
}

func blockDesc(typ, length uint32) string {
	return fmt.Sprintf("block type %#x of %d bytes", typ, length)
}

// eachOption calls f with each option of the options area b, which starts
// at input offset off in the block at blockOff, up to opt_endofopt or the end
// of b (a missing opt_endofopt, or trailing padding, ends it too); at is the
// option's own offset. An option running past the block is an ErrOption
// error; an error from f stops the walk and is returned.
func (r *Reader) eachOption(b []byte, blockOff, off int64, typ uint32, f func(code uint16, val []byte, at int64) error) error {
	for len(b) >= 4 {
		code := r.u16(b)
		n := int(r.u16(b[2:]))
		if code == 0 {
			return nil
		}
		if 4+n > len(b) {
			return r.fail(blockOff, typ, ErrOption, "option %d at offset %d: length %d runs past the block (%d bytes left)", code, off, n, len(b)-4)
		}
		if err := f(code, b[4:4+n], off); err != nil {
			return err
		}
		p := min((4+n+3)&^3, len(b))
		b = b[p:]
		off += int64(p)
	}
	return nil
}

func (r *Reader) shb(off int64, body []byte) error {
	if len(body) < 16 {
		return r.fail(off, BlockSHB, ErrBlock, "section header body of %d bytes", len(body))
	}
	major, minor := r.u16(body[4:]), r.u16(body[6:])
	if major != 1 || (minor != 0 && minor != 2) {
		return r.fail(off, BlockSHB, ErrVersion, "section version %d.%d", major, minor)
	}
	s := Section{Index: len(r.sections), Offset: off, ByteOrder: r.order(), Major: major, Minor: minor, Length: int64(r.u64(body[8:]))}
	if s.Length < -1 {
		s.Length = -1
	}
	err := r.eachOption(body[16:], off, off+24, BlockSHB, func(code uint16, val []byte, _ int64) error {
		switch code {
		case 1:
			s.Comments = append(s.Comments, string(val))
		case 2:
			s.Hardware = string(val)
		case 3:
			s.OS = string(val)
		case 4:
			s.UserAppl = string(val)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.sections = append(r.sections, s)
	r.secIf = len(r.ifaces)
	r.lastTS = 0
	return nil
}

func (r *Reader) idb(off int64, body []byte) error {
	if len(body) < 8 {
		return r.fail(off, BlockIDB, ErrBlock, "interface description body of %d bytes", len(body))
	}
	sec := len(r.sections) - 1
	in := Interface{
		Section:   sec,
		Index:     len(r.ifaces) - r.secIf,
		Offset:    off,
		LinkType:  uint32(r.u16(body)),
		SnapLen:   r.u32(body[4:]),
		TSResol:   6,
		FCSLength: -1,
	}
	err := r.eachOption(body[8:], off, off+16, BlockIDB, func(code uint16, val []byte, at int64) error {
		switch code {
		case 1:
			in.Comments = append(in.Comments, string(val))
		case 2:
			in.Name = string(val)
		case 3:
			in.Desc = string(val)
		case 9:
			if len(val) != 1 {
				return r.fail(off, BlockIDB, ErrOption, "if_tsresol at offset %d of length %d", at, len(val))
			}
			in.TSResol = val[0]
		case 11:
			if len(val) > 0 {
				in.FilterType, in.Filter = val[0], string(val[1:])
			}
		case 12:
			in.OS = string(val)
		case 13:
			if len(val) != 1 {
				return r.fail(off, BlockIDB, ErrOption, "if_fcslen at offset %d of length %d", at, len(val))
			}
			in.FCSLength = int(val[0])
		case 14:
			if len(val) != 8 {
				return r.fail(off, BlockIDB, ErrOption, "if_tsoffset at offset %d of length %d", at, len(val))
			}
			in.TSOffset = int64(r.u64(val))
		case 15:
			in.Hardware = string(val)
		}
		return nil
	})
	if err != nil {
		return err
	}
	setResolution(&in)
	r.ifaces = append(r.ifaces, in)
	r.sections[sec].Interfaces++
	return nil
}

// setResolution precomputes the conversion of timestamp units to nanoseconds.
func setResolution(in *Interface) {
	n := in.TSResol & 0x7f
	if in.TSResol&0x80 != 0 {
		in.tsKind, in.tsExp = tsPow2, n
		return
	}
	if n <= 9 {
		in.tsKind, in.tsFact = tsMul, pow10(9-n)
		return
	}
	in.tsKind = tsDiv
	if n-9 <= 19 {
		in.tsFact = pow10(n - 9)
	} // else 0: every timestamp is below one nanosecond
}

func pow10(n uint8) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// timestamp converts a raw timestamp of interface in to ns since the epoch,
// rounding down; values beyond the int64 range are clamped.
func timestamp(in *Interface, t uint64) int64 {
	var ns uint64
	switch in.tsKind {
	case tsMul:
		hi, lo := bits.Mul64(t, in.tsFact)
		if hi != 0 {
			lo = math.MaxUint64
		}
		ns = lo
	case tsDiv:
		if in.tsFact != 0 {
			ns = t / in.tsFact
		}
	case tsPow2:
		hi, lo := bits.Mul64(t, 1e9)
		e := uint(in.tsExp)
		switch {
		case e == 0:
			if hi != 0 {
				lo = math.MaxUint64
			}
			ns = lo
		case e < 64:
			if hi>>e != 0 {
				ns = math.MaxUint64
			} else {
				ns = hi<<(64-e) | lo>>e
			}
		default:
			ns = hi >> (e - 64)
		}
	}
	if ns > math.MaxInt64 {
		ns = math.MaxInt64
	}
	v := int64(ns)
	if in.TSOffset != 0 {
		hi, lo := bits.Mul64(absInt64(in.TSOffset), 1e9)
		var d int64
		switch {
		case hi != 0 || lo > math.MaxInt64:
			if in.TSOffset < 0 {
				return math.MinInt64
			}
			return math.MaxInt64
		case in.TSOffset < 0:
			d = -int64(lo)
		default:
			d = int64(lo)
		}
		if s, overflow := addInt64(v, d); !overflow {
			v = s
		} else if d > 0 {
			v = math.MaxInt64
		} else {
			v = math.MinInt64
		}
	}
	return v
}

func absInt64(x int64) uint64 {
	if x < 0 {
		return uint64(-(x + 1)) + 1
	}
	return uint64(x)
}

func addInt64(a, b int64) (int64, bool) {
	s := a + b
	return s, (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0)
}

func (r *Reader) iface(off int64, typ uint32, id uint32) (*Interface, error) {
	if uint64(id) >= uint64(len(r.ifaces)-r.secIf) {
		return nil, r.fail(off, typ, ErrInterface, "interface %d (section %d has %d)", id, len(r.sections)-1, len(r.ifaces)-r.secIf)
	}
	return &r.ifaces[r.secIf+int(id)], nil
}

func (r *Reader) epb(p *Packet, off int64, body []byte) error {
	if len(body) < 20 {
		return r.fail(off, BlockEPB, ErrBlock, "enhanced packet body of %d bytes", len(body))
	}
	return r.packet(p, off, body, BlockEPB, r.u32(body), 0)
}

// packet fills p from the body of an EPB or OPB (at least 20 bytes): the two
// share their layout after the interface ID (32 bits in an EPB; 16 bits and a
// drops count in an OPB).
func (r *Reader) packet(p *Packet, off int64, body []byte, typ, id uint32, drops uint64) error {
	in, err := r.iface(off, typ, id)
	if err != nil {
		return err
	}
	caplen := r.u32(body[12:])
	if uint64(caplen) > uint64(len(body)-20) {
		return r.fail(off, typ, ErrBlock, "captured length %d exceeds the block (%d bytes)", caplen, len(body)-20)
	}
	t := uint64(r.u32(body[4:]))<<32 | uint64(r.u32(body[8:]))
	*p = Packet{
		Timestamp: timestamp(in, t),
		Length:    int(r.u32(body[16:])),
		Data:      body[20 : 20+caplen : 20+caplen],
		LinkType:  in.LinkType,
		Interface: in.Index,
		Section:   in.Section,
		Block:     typ,
		Offset:    off,
		DropCount: drops,
	}
	if opts := body[min(20+(int(caplen)+3)&^3, len(body)):]; len(opts) >= 4 {
		p.Options = opts
		if err := r.packetOptions(p, opts, off, off+28+int64(len(body)-len(opts)-20), typ); err != nil {
			return err
		}
	}
	in.Packets++
	r.lastTS = p.Timestamp
	return nil
}

func (r *Reader) packetOptions(p *Packet, opts []byte, blockOff, o int64, typ uint32) error {
	return r.eachOption(opts, blockOff, o, typ, func(code uint16, val []byte, _ int64) error {
		switch code {
		case 1:
			if p.Comment == nil {
				p.Comment = val
			}
		case 2:
			if len(val) == 4 {
				p.Flags = r.u32(val)
			}
		case 3:
			p.Hash = val
		case 4:
			if len(val) == 8 && typ == BlockEPB {
				p.DropCount = r.u64(val)
			}
		case 5:
			if len(val) == 8 && typ == BlockEPB {
				p.PacketID, p.HasPacketID = r.u64(val), true
			}
		}
		return nil
	})
}

func (r *Reader) spb(p *Packet, off int64, body []byte) error {
	if len(body) < 4 {
		return r.fail(off, BlockSPB, ErrBlock, "simple packet body of %d bytes", len(body))
	}
	in, err := r.iface(off, BlockSPB, 0)
	if err != nil {
		return err
	}
	orig := r.u32(body)
	caplen := uint64(orig)
	if in.SnapLen != 0 && uint64(in.SnapLen) < caplen {
		caplen = uint64(in.SnapLen)
	}
	if caplen > uint64(len(body)-4) {
		// The block cannot hold what its length says: taking its padding
		// for data would invent bytes.
		return r.fail(off, BlockSPB, ErrBlock, "simple packet of %d bytes holds only %d (original length %d, snaplen %d)", caplen, len(body)-4, orig, in.SnapLen)
	}
	in.Packets++
	*p = Packet{
		Timestamp: r.lastTS,
		Length:    int(orig),
		Data:      body[4 : 4+caplen : 4+caplen],
		LinkType:  in.LinkType,
		Interface: in.Index,
		Section:   in.Section,
		Block:     BlockSPB,
		Offset:    off,
	}
	return nil
}

func (r *Reader) opb(p *Packet, off int64, body []byte) error {
	if len(body) < 20 {
		return r.fail(off, BlockOPB, ErrBlock, "packet block body of %d bytes", len(body))
	}
	drops := uint64(r.u16(body[2:]))
	if drops == 0xffff {
		drops = 0 // "not available"
	}
	return r.packet(p, off, body, BlockOPB, uint32(r.u16(body)), drops)
}

func (r *Reader) isb(off int64, body []byte) error {
	if len(body) < 12 {
		return r.fail(off, BlockISB, ErrBlock, "interface statistics body of %d bytes", len(body))
	}
	in, err := r.iface(off, BlockISB, r.u32(body))
	if err != nil {
		return err
	}
	t := uint64(r.u32(body[4:]))<<32 | uint64(r.u32(body[8:]))
	st := Stats{Blocks: in.Stats.Blocks + 1, Timestamp: timestamp(in, t),
		StartTime: -1, EndTime: -1, IfRecv: -1, IfDrop: -1, FilterAccept: -1, OSDrop: -1, UsrDeliv: -1}
	err = r.eachOption(body[12:], off, off+20, BlockISB, func(code uint16, val []byte, _ int64) error {
		if code == 1 {
			st.Comments = append(st.Comments, string(val))
			return nil
		}
		if len(val) != 8 {
			return nil
		}
		v := r.u64(val)
		c := int64(min(v, math.MaxInt64))
		switch code {
		case 2:
			st.StartTime = timestamp(in, uint64(r.u32(val))<<32|uint64(r.u32(val[4:])))
		case 3:
			st.EndTime = timestamp(in, uint64(r.u32(val))<<32|uint64(r.u32(val[4:])))
		case 4:
			st.IfRecv = c
		case 5:
			st.IfDrop = c
		case 6:
			st.FilterAccept = c
		case 7:
			st.OSDrop = c
		case 8:
			st.UsrDeliv = c
		}
		return nil
	})
	if err != nil {
		return err
	}
	in.Stats = st
	return nil
}

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

// Comments returns every opt_comment of a packet's options area
// (Packet.Options; order is its section's Section.ByteOrder), aliasing it;
// an option that runs past the area ends the walk (the Reader reported it
// already).
func Comments(options []byte, order binary.ByteOrder) [][]byte {
	var out [][]byte
	for len(options) >= 4 {
		code, n := order.Uint16(options), int(order.Uint16(options[2:]))
		if code == 0 || 4+n > len(options) {
			break
		}
		if code == 1 {
			out = append(out, options[4:4+n:4+n])
		}
		options = options[min((4+n+3)&^3, len(options)):]
	}
	return out
}
