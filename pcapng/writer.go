package pcapng

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// ErrWrite reports something the Writer cannot represent.
var ErrWrite = errors.New("pcapng: not representable")

// Writer writes a little-endian pcapng file with one section. It does not
// buffer: wrap the destination in a bufio.Writer for many small packets.
type Writer struct {
	w      io.Writer
	ifaces []Interface
	buf    []byte
}

// NewWriter writes a Section Header Block to w and returns a Writer.
func NewWriter(w io.Writer) (*Writer, error) { return NewWriterAppl(w, "") }

// NewWriterAppl is NewWriter with the option shb_userappl: appl (none when
// empty).
func NewWriterAppl(w io.Writer, appl string) (*Writer, error) {
	wr := &Writer{w: w}
	b := wr.begin(BlockSHB)
	b = binary.LittleEndian.AppendUint32(b, byteOrderMagic)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint64(b, ^uint64(0))
	if appl != "" {
		b = binary.LittleEndian.AppendUint16(b, 4)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(appl)))
		b = append(b, appl...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		b = binary.LittleEndian.AppendUint32(b, 0)
	}
	return wr, wr.finish(b)
}

func (w *Writer) begin(typ uint32) []byte {
	b := w.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, typ)
	return binary.LittleEndian.AppendUint32(b, 0) // length, set by finish
}

func (w *Writer) finish(b []byte) error {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	n := uint32(len(b) + 4)
	binary.LittleEndian.PutUint32(b[4:], n)
	b = binary.LittleEndian.AppendUint32(b, n)
	w.buf = b
	_, err := w.w.Write(b)
	return err
}

// AddInterface writes an Interface Description Block and returns the
// interface's index. tsresol is the if_tsresol value (6: microseconds, written
// without the option; 9: nanoseconds; 0x80|n: 2^-n seconds).
func (w *Writer) AddInterface(linkType uint16, snaplen uint32, tsresol uint8) (int, error) {
	in := Interface{LinkType: uint32(linkType), SnapLen: snaplen, TSResol: tsresol, Index: len(w.ifaces)}
	setResolution(&in)
	b := w.begin(BlockIDB)
	b = binary.LittleEndian.AppendUint16(b, linkType)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, snaplen)
	if tsresol != 6 {
		b = binary.LittleEndian.AppendUint16(b, 9)
		b = binary.LittleEndian.AppendUint16(b, 1)
		b = append(b, tsresol, 0, 0, 0)
		b = binary.LittleEndian.AppendUint32(b, 0) // opt_endofopt
	}
	if err := w.finish(b); err != nil {
		return 0, err
	}
	w.ifaces = append(w.ifaces, in)
	return in.Index, nil
}

// units converts ns since the epoch to the interface's timestamp units,
// rounding down.
func units(in *Interface, ns int64) (uint64, error) {
	if ns < 0 {
		return 0, fmt.Errorf("%w: negative timestamp %d", ErrWrite, ns)
	}
	t := uint64(ns)
	switch in.tsKind {
	case tsMul:
		return t / in.tsFact, nil
	case tsDiv:
		hi, lo := bits.Mul64(t, in.tsFact)
		if hi != 0 || in.tsFact == 0 {
			return 0, fmt.Errorf("%w: timestamp %d at resolution %#x", ErrWrite, ns, in.TSResol)
		}
		return lo, nil
	default:
		// t * 2^e / 1e9
		e := uint(in.tsExp)
		var hi, lo uint64
		if e >= 64 {
			hi, lo = t<<(e-64), 0
			if e-64 >= 64 || t>>(128-e) != 0 {
				return 0, fmt.Errorf("%w: timestamp %d at resolution %#x", ErrWrite, ns, in.TSResol)
			}
		} else if e > 0 {
			hi, lo = t>>(64-e), t<<e
		} else {
			lo = t
		}
		if hi >= 1e9 {
			return 0, fmt.Errorf("%w: timestamp %d at resolution %#x", ErrWrite, ns, in.TSResol)
		}
		q, _ := bits.Div64(hi, lo, 1e9)
		// Rounding down may land one unit below a value that converts back
		// to ns exactly; prefer the smallest unit count converting to >= ns.
		if in2 := timestamp(in, q); in2 < ns {
			if timestamp(in, q+1) <= ns {
				q++
			}
		}
		return q, nil
	}
}

// WritePacket writes an Enhanced Packet Block for interface iface: ts in
// nanoseconds since the epoch (rounded down to the interface's resolution), the
// captured bytes and the original length (at least len(data)).
func (w *Writer) WritePacket(iface int, ts int64, data []byte, origLen int) error {
	b, err := w.epb(iface, ts, data, origLen, 64)
	if err != nil {
		return err
	}
	return w.finish(b)
}

// WritePacketID is WritePacket with the option epb_packetid: id.
func (w *Writer) WritePacketID(iface int, ts int64, data []byte, origLen int, id uint64) error {
	b, err := w.epb(iface, ts, data, origLen, 80)
	if err != nil {
		return err
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = binary.LittleEndian.AppendUint16(b, 5)
	b = binary.LittleEndian.AppendUint16(b, 8)
	b = binary.LittleEndian.AppendUint64(b, id)
	b = binary.LittleEndian.AppendUint32(b, 0) // opt_endofopt
	return w.finish(b)
}

// epb begins an Enhanced Packet Block up to its packet data, checking the
// interface and the lengths (room: the block's bytes besides the data).
func (w *Writer) epb(iface int, ts int64, data []byte, origLen, room int) ([]byte, error) {
	if iface < 0 || iface >= len(w.ifaces) {
		return nil, fmt.Errorf("%w: interface %d not added", ErrWrite, iface)
	}
	if origLen < len(data) || uint64(origLen) > 0xffffffff || len(data) > MaxBlockLength-room {
		return nil, fmt.Errorf("%w: original length %d with %d captured bytes", ErrWrite, origLen, len(data))
	}
	t, err := units(&w.ifaces[iface], ts)
	if err != nil {
		return nil, err
	}
	b := w.begin(BlockEPB)
	b = binary.LittleEndian.AppendUint32(b, uint32(iface))
	b = binary.LittleEndian.AppendUint32(b, uint32(t>>32))
	b = binary.LittleEndian.AppendUint32(b, uint32(t))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = binary.LittleEndian.AppendUint32(b, uint32(origLen))
	return append(b, data...), nil
}
