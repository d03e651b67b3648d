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
// interface of the file with the same link type; timestamps are written in
// nanoseconds. IP fragments other than a datagram's first carry no ports
// and are not written.
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
	w, err := pcapng.NewWriterAppl(bw, "reseq follow")
	if err != nil {
		return 0, err
	}
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
		k := ifaceKey{pkt.Source, pkt.Section, pkt.Interface, pkt.LinkType}
		id, ok := ifaces[k]
		if !ok {
			if id, err = w.AddInterface(uint16(pkt.LinkType), 0, 9); err != nil {
				return frames, err
			}
			ifaces[k] = id
		}
		if err := w.WritePacket(id, pkt.Timestamp, pkt.Data, max(pkt.Length, len(pkt.Data))); err != nil {
			return frames, err
		}
		frames++
	}
	if err := bw.Flush(); err != nil {
		return frames, err
	}
	return frames, inErr
}
