package main

import (
	"bufio"
	"io"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/pcapng"
	"github.com/reseq/reseq/tcpasm"
)

// writeConnPackets writes to path, as pcapng, every packet of the inputs
// that belongs to connection c: a TCP segment between its two endpoints
// (either way, after the decoding options' tunnels) captured between its
// first and last packet, so that a tuple's other connections stay out.
// Each input interface (capture, section, interface, link type) becomes an
// interface of the file described as in the input (see copyInterface), and
// each packet keeps its comment, so the conversation reads alone as it did
// in the whole capture. The file's section keeps the comments, hardware
// and OS of the section of the first packet written (shb_userappl says
// "reseq follow"). IP fragments other than a datagram's first carry no
// ports and are not written.
func writeConnPackets(path string, inputs []string, dopt *layers.DecodeOptions, c *tcpasm.Conn) (frames int64, err error) {
	r, err := reseq.Open(inputs...)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	f, err := createOutput(path)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	var w *pcapng.Writer // created with the first packet, after its section
	a, b := c.Key.SrcAddr(), c.Key.DstAddr()
	ifaces := map[ifaceKey]int{}
	var lp layers.Packet
	var inErr error
	for {
		pkt, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if inErr == nil {
				inErr = err
			}
			continue
		}
		if pkt.Timestamp < c.First || pkt.Timestamp > c.Last {
			continue
		}
		lp.DecodeWith(dopt, layers.LinkType(pkt.LinkType), pkt.Data, pkt.Length)
		if lp.Transport != layers.TransportTCP || len(lp.TCP) < layers.TCPMinLen {
			continue
		}
		var seg tcpasm.Segment
		if !tcpasm.FromPacket(&seg, &lp, pkt.Timestamp, pkt.Index, false) {
			continue
		}
		src, dst := unmapAP(seg.Key.SrcAddr()), unmapAP(seg.Key.DstAddr())
		if !((src == a && dst == b) || (src == b && dst == a)) {
			continue
		}
		cp := r.Captures()[pkt.Source]
		if w == nil {
			if w, err = pcapng.NewWriterSection(bw, sectionOf(cp, &pkt)); err != nil {
				return frames, err
			}
		}
		k := ifaceKey{pkt.Source, pkt.Section, pkt.Interface, pkt.LinkType}
		id, ok := ifaces[k]
		if !ok {
			if id, err = w.CopyInterface(copyInterface(cp, &pkt)); err != nil {
				return frames, err
			}
			ifaces[k] = id
		}
		var comments [][]byte
		if secs := sectionsOf(cp); pkt.Options != nil && pkt.Section < len(secs) {
			comments = pcapng.Comments(pkt.Options, secs[pkt.Section].ByteOrder)
		}
		if err := w.WritePacketComments(id, pkt.Timestamp, pkt.Data, max(pkt.Length, len(pkt.Data)), comments); err != nil {
			return frames, err
		}
		frames++
	}
	if w == nil {
		if _, err := pcapng.NewWriterAppl(bw, followAppl); err != nil {
			return frames, err
		}
	}
	if err := bw.Flush(); err != nil {
		return frames, err
	}
	return frames, inErr
}

// followAppl is the shb_userappl of the files follow --write makes.
const followAppl = "reseq follow"

// sectionOf returns the section options of the file follow --write makes:
// those of the section of pkt in capture cp (a pcapng capture's comments,
// hardware and OS), and reseq as the application.
func sectionOf(cp *reseq.Capture, pkt *reseq.Packet) pcapng.Section {
	s := pcapng.Section{UserAppl: followAppl}
	if secs := sectionsOf(cp); pkt.Section < len(secs) {
		in := &secs[pkt.Section]
		s.Comments, s.Hardware, s.OS = in.Comments, in.Hardware, in.OS
	}
	return s
}

// sectionsOf returns the sections of pcapng capture cp read so far.
func sectionsOf(cp *reseq.Capture) []pcapng.Section {
	if cp.Pcapng != nil {
		return cp.Pcapng.Sections()
	}
	return cp.Sections
}

// copyInterface describes the interface pkt was captured on as the input
// did: a pcapng interface with its options (name, description, filter, OS,
// hardware, comments, FCS length), snap length and timestamp resolution; a
// pcap file's snap length and resolution. A resolution finer than the
// nanoseconds reseq keeps becomes nanoseconds (times since 1970 overflow
// 64 bits of picoseconds), and if_tsoffset is not kept: times are written
// absolute.
func copyInterface(cp *reseq.Capture, pkt *reseq.Packet) pcapng.Interface {
	in := pcapng.Interface{LinkType: pkt.LinkType, TSResol: 9}
	if cp.Format == reseq.Pcap {
		in.SnapLen = cp.Snaplen
		if !cp.Nanosecond {
			in.TSResol = 6
		}
		return in
	}
	ifaces := cp.Interfaces
	if cp.Pcapng != nil {
		ifaces = cp.Pcapng.Interfaces()
	}
	for i := range ifaces {
		if x := &ifaces[i]; x.Section == pkt.Section && x.Index == pkt.Interface {
			in = *x
			in.LinkType = pkt.LinkType
			in.TSOffset = 0
			if n := in.TSResol & 0x7f; in.TSResol&0x80 == 0 && n > 9 || in.TSResol&0x80 != 0 && n >= 30 {
				in.TSResol = 9
			}
			break
		}
	}
	return in
}
