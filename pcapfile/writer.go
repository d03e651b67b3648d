package pcapfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Writer writes a little-endian pcap file. It does not buffer: wrap the
// destination in a bufio.Writer for many small packets.
type Writer struct {
	w       io.Writer
	nano    bool
	snaplen uint32
	hdr     [recordLen]byte
}

// NewWriter writes a file header to w and returns a Writer. linkType may carry
// FCS bits; snaplen 0 means no limit is recorded; nanosecond selects the
// a1b23c4d magic and nanosecond timestamps.
func NewWriter(w io.Writer, linkType uint32, snaplen uint32, nanosecond bool) (*Writer, error) {
	var h [HeaderLen]byte
	magic := MagicMicroseconds
	if nanosecond {
		magic = MagicNanoseconds
	}
	binary.LittleEndian.PutUint32(h[0:], magic)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], linkType)
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &Writer{w: w, nano: nanosecond, snaplen: snaplen}, nil
}

// ErrWrite reports a packet the format cannot represent.
var ErrWrite = errors.New("pcap: packet not representable")

// WritePacket writes one record: ts in nanoseconds since the epoch (0 to
// 2^32 seconds; in a microsecond file it is rounded down to the microsecond),
// the captured bytes, and the original length (at least len(data)).
func (w *Writer) WritePacket(ts int64, data []byte, origLen int) error {
	if ts < 0 || ts/1e9 > 0xffffffff {
		return fmt.Errorf("%w: timestamp %d out of range", ErrWrite, ts)
	}
	if origLen < len(data) || uint64(origLen) > 0xffffffff {
		return fmt.Errorf("%w: original length %d with %d captured bytes", ErrWrite, origLen, len(data))
	}
	if len(data) > maxMaxCaplen || (w.snaplen >= minMaxCaplen && len(data) > int(w.snaplen)) {
		return fmt.Errorf("%w: %d captured bytes exceed what a reader accepts", ErrWrite, len(data))
	}
	frac := ts % 1e9
	if !w.nano {
		frac /= 1e3
	}
	binary.LittleEndian.PutUint32(w.hdr[0:], uint32(ts/1e9))
	binary.LittleEndian.PutUint32(w.hdr[4:], uint32(frac))
	binary.LittleEndian.PutUint32(w.hdr[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(w.hdr[12:], uint32(origLen))
	if _, err := w.w.Write(w.hdr[:]); err != nil {
		return err
	}
	_, err := w.w.Write(data)
	return err
}
