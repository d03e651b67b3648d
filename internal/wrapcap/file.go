package wrapcap

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/reseq/reseq/pcapfile"
	"github.com/reseq/reseq/pcapng"
)

// OutSnaplen is the snaplen in the header of the files written.
const OutSnaplen = 262144

type source interface {
	next() (Packet, uint32, error)
}

type pcapSource struct{ r *pcapfile.Reader }

func (s pcapSource) next() (Packet, uint32, error) {
	p, err := s.r.Next()
	return Packet{Timestamp: p.Timestamp, Data: p.Data, Length: p.Length}, p.LinkType, err
}

type ngSource struct{ r *pcapng.Reader }

func (s ngSource) next() (Packet, uint32, error) {
	p, err := s.r.Next()
	return Packet{Timestamp: p.Timestamp, Data: p.Data, Length: p.Length}, p.LinkType, err
}

// open reads a pcap or pcapng file from r; nano says whether timestamps
// need nanoseconds.
func open(r io.Reader) (src source, nano bool, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head, _ := br.Peek(4)
	if len(head) == 4 && binary.BigEndian.Uint32(head) == 0x0A0D0D0A {
		nr, err := pcapng.NewReader(br)
		if err != nil {
			return nil, false, err
		}
		return ngSource{nr}, true, nil
	}
	pr, err := pcapfile.NewReader(br)
	if err != nil {
		return nil, false, err
	}
	return pcapSource{pr}, pr.Nanosecond(), nil
}

// WrapFile reads a pcap or pcapng capture from src, wraps every packet as
// spec says, and writes a little-endian pcap to dst. Mirror specs are
// sorted by timestamp (stable: the original order among equal times);
// otherwise packets are written in the order made.
func WrapFile(dst io.Writer, src io.Reader, spec string) (Stats, error) {
	w, err := New(spec)
	if err != nil {
		return Stats{}, err
	}
	in, nano, err := open(src)
	if err != nil {
		return Stats{}, err
	}
	bw := bufio.NewWriterSize(dst, 1<<20)
	pw, err := pcapfile.NewWriter(bw, w.LinkType(), OutSnaplen, nano)
	if err != nil {
		return Stats{}, err
	}
	var held []Packet
	for {
		p, lt, err := in.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return w.Stats(), err
		}
		out, err := w.Wrap(lt, p)
		if err != nil {
			return w.Stats(), fmt.Errorf("packet %d: %w", w.stats.In, err)
		}
		if w.Mirror() {
			held = append(held, out...)
			continue
		}
		for _, o := range out {
			if err := pw.WritePacket(o.Timestamp, o.Data, o.Length); err != nil {
				return w.Stats(), err
			}
		}
	}
	slices.SortStableFunc(held, func(a, b Packet) int { return cmpInt(a.Timestamp, b.Timestamp) })
	for _, o := range held {
		if err := pw.WritePacket(o.Timestamp, o.Data, o.Length); err != nil {
			return w.Stats(), err
		}
	}
	return w.Stats(), bw.Flush()
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// WrapBytes is WrapFile on an in-memory capture; it returns the new capture.
func WrapBytes(capture []byte, spec string) ([]byte, Stats, error) {
	var b bytes.Buffer
	st, err := WrapFile(&b, bytes.NewReader(capture), spec)
	return b.Bytes(), st, err
}
