package pipeline

import (
	"math"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/ipfrag"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/tcpasm"
)

// decoder turns captured frames into segments, on the reading goroutine:
// decode (layers, tunnels included), IP reassembly (ipfrag) ahead of the
// assembler, capture points and flow identity, and the Keep filter.
type decoder struct {
	opt  *Options
	dopt *layers.DecodeOptions
	lp   layers.Packet
	st   *Stats
	id   identity

	// frag reassembles IP fragments; made at the first fragment.
	frag     *ipfrag.Reassembler
	deadline int64 // frag's earliest deadline; MaxInt64 when nothing waits

	clock tcpasm.Clock // counts the timestamps' anomalies
}

func newDecoder(opt *Options, st *Stats) *decoder {
	d := &decoder{opt: opt, dopt: opt.Decode, st: st, deadline: math.MaxInt64}
	d.id.sources = opt.CapturePoints
	if opt.CapturePoint {
		d.id.sources |= CaptureOuterVLAN
	}
	d.id.tables = opt.Tables
	if d.id.tables == nil {
		d.id.tables = &Tables{}
	}
	return d
}

// packet decodes pkt and appends the segments it yields to b: none (not
// TCP, filtered, a fragment still waiting for the rest of its datagram), one,
// or several (datagrams that reassembly completed or gave up on). The
// segments' payloads alias pkt.Data or reassembly buffers that b keeps until
// it was assembled.
func (d *decoder) packet(pkt *reseq.Packet, b *batch) {
	if pkt.HasFrame {
		// A shard file of 'reseq split': the frame's number in the
		// capture it was cut from.
		pkt.Index = pkt.Frame
	}
	d.clock.Observe(pkt.Timestamp)
	d.st.TimesBackward, d.st.TimeLeaps = d.clock.Backward, d.clock.Leaps
	if d.st.Packets == 1 && d.opt.Start != nil {
		d.opt.Start(pkt.Timestamp)
	}
	if d.frag != nil && pkt.Timestamp >= d.deadline {
		d.frag.Expire(pkt.Timestamp)
		d.drain(b)
	}
	lt := layers.LinkType(pkt.LinkType)
	st := d.lp.DecodeWith(d.dopt, lt, pkt.Data, pkt.Length)
	if st.Reason == layers.StopFragment {
		d.fragment(pkt)
		d.drain(b)
		return
	}
	if !st.OK() {
		d.notTCP(st)
		return
	}
	cp := d.capturePoint(pkt.Section, pkt.Interface)
	d.segment(b, pkt.Timestamp, pkt.Index, cp, -1, true)
}

// notTCP counts a frame that yields no segment.
func (d *decoder) notTCP(st layers.Stop) {
	d.st.NotTCP++
	if st.Reason == layers.StopUnsupported && d.lp.NumTunnels > 0 {
		d.st.TunnelUnsupported++
	}
}

// capturePoint returns the capture point of the frame in d.lp.
func (d *decoder) capturePoint(section, iface int) int32 {
	if d.id.sources&^CaptureOuterVLAN == 0 && d.lp.NumTunnels == 0 {
		// The common case: the outer VLAN tag or nothing.
		if d.id.sources != 0 {
			if v, ok := d.lp.CapturePoint(); ok {
				return int32(v)
			}
		}
		return tcpasm.NoCapturePoint
	}
	return d.id.capturePoint(&d.lp, section, iface)
}

// segment appends the TCP segment decoded in d.lp to b. A segment of a
// datagram that reassembly gave up on (cut >= 0) claims its captured bytes
// and the cut bytes after them that a fragment claimed (the snaplen cut
// them: a truncated gap), and keeps its FIN only when that reaches the
// datagram's end (fin).
func (d *decoder) segment(b *batch, ts, index int64, cp int32, cut int, fin bool) bool {
	n := len(b.segs)
	b.segs = append(b.segs, tcpasm.Segment{})
	seg := &b.segs[n]
	if !tcpasm.FromPacket(seg, &d.lp, ts, index, d.id.sources&CaptureOuterVLAN != 0) {
		b.segs = b.segs[:n]
		d.st.NotTCP++
		return false
	}
	seg.CapturePoint = cp
	if d.lp.NumTunnels > 0 {
		d.st.Tunnelled++
		seg.Encap = d.id.encap(&d.lp)
		tunnelKey(&seg.Key, &d.lp, d.id.sources)
	}
	if cut >= 0 {
		seg.Length = len(seg.Payload) + cut
		if !fin {
			seg.Flags &^= tcpasm.FIN
		}
	}
	if d.opt.Keep != nil && !d.opt.Keep(&seg.Key) {
		d.st.Filtered++
		b.segs = b.segs[:n]
		return false
	}
	if d.opt.Select != nil && !d.opt.Select(seg, &d.lp) {
		d.st.Filtered++
		if d.opt.MarkFiltered {
			seg.Filtered = true
			return true
		}
		b.segs = b.segs[:n]
		return false
	}
	d.st.TCP++
	d.st.Bytes += int64(len(seg.Payload))
	return true
}

// fragment hands the IP fragment decoded in d.lp to reassembly. Fragments of
// protocols that cannot lead to TCP are not kept. The caller drains next,
// which updates d.deadline.
func (d *decoder) fragment(pkt *reseq.Packet) {
	d.st.Fragments++
	switch d.lp.Protocol {
	case layers.IPProtoTCP, layers.IPProtoUDP, layers.IPProtoGRE, layers.IPProtoIPIP, layers.IPProtoIPv6:
	default:
		d.st.NotTCP++
		return
	}
	d.addFragment(pkt.Data, uint64(uint32(d.capturePoint(pkt.Section, pkt.Interface))), pkt.Timestamp, pkt.Index, false)
}

// addFragment gives reassembly the fragment decoded in d.lp from data, with
// the capture point tag. A fragment found in a partial carrier claims only
// the bytes it holds: the carrier's later runs are not in it.
func (d *decoder) addFragment(data []byte, tag uint64, ts, index int64, partialCarrier bool) {
	if d.frag == nil {
		d.frag = ipfrag.New(d.opt.Frag)
	}
	p := &d.lp
	f := ipfrag.Fragment{
		LinkType:  p.LinkType,
		Encap:     &p.Encap,
		Tag:       tag,
		V6:        p.Network == layers.NetworkIPv6,
		ID:        p.FragmentID,
		Protocol:  p.Protocol,
		Offset:    p.FragmentOffset,
		More:      p.MoreFragments,
		Data:      p.Payload,
		Length:    p.PayloadLength,
		Timestamp: ts,
		Index:     index,
	}
	if f.V6 {
		f.Header = data[p.NetworkOffset:p.PayloadOffset]
	} else {
		f.Header = p.IPv4
	}
	if partialCarrier {
		f.Length = len(f.Data)
	}
	d.frag.Add(&f)
}

// drain appends the segments of every datagram reassembly made ready to b,
// which keeps their buffers until it was assembled.
func (d *decoder) drain(b *batch) {
	if d.frag == nil {
		return
	}
	var dg ipfrag.Datagram
	for d.frag.Next(&dg) {
		b.frags = append(b.frags, dg.Buf)
		if dg.Complete {
			d.st.Reassembled++
		} else {
			d.st.PartialDatagrams++
		}
		if dg.IP == nil {
			// No first fragment: nothing says where its bytes go.
			for _, r := range dg.Runs {
				d.st.FragmentBytesLost += int64(len(r.Data))
			}
			continue
		}
		st := d.lp.DecodeIP(d.dopt, dg.LinkType, dg.Encap, dg.IP)
		if st.Reason == layers.StopFragment {
			// An inner fragment, now that its carrier is whole (or
			// given up): its carrier's capture point stays its tag.
			d.st.Fragments++
			d.addFragment(dg.IP, dg.Tag, dg.Timestamp, dg.Index, !dg.Complete)
			continue
		}
		if !st.OK() {
			d.notTCP(st)
			continue
		}
		cp := int32(uint32(dg.Tag))
		if dg.Complete {
			// A host fragments a segment after it computed its checksum (no
			// NIC offloads a checksum across fragments), so a bad checksum
			// says the datagram was put together from fragments of two
			// datagrams that shared an IP ID (or was damaged): none of its
			// bytes can be trusted, and they stay gaps. Trains (the fragments
			// back to back, in order) are verified too: crafted input can
			// make a train of two datagrams at will.
			if d.lp.NumTunnels == dg.Encap.NumTunnels && d.lp.TransportChecksum() == layers.ChecksumBad {
				d.st.FragChecksumBad++
				d.st.NotTCP++
				continue
			}
			d.segment(b, dg.Timestamp, dg.Index, cp, -1, true)
			continue
		}
		d.partial(b, &dg, cp)
	}
	d.deadline = d.frag.Deadline()
}

// partial appends the segments of a datagram reassembly gave up on: the run
// at offset 0 (decoded in d.lp, headers included) and every other captured
// run, each at its own sequence number, each claiming the bytes after it that
// the snaplen cut. A FIN stays on the segment that reaches the datagram's
// end, when that end is known. Runs that start inside the headers cannot be
// placed and are dropped (counted in Stats.FragmentBytesLost).
func (d *decoder) partial(b *batch, dg *ipfrag.Datagram, cp int32) {
	// Where the TCP payload starts within the datagram's payload.
	start := d.lp.PayloadOffset - dg.HeaderLen
	end := func(off, n, cut int) bool { return dg.Length >= 0 && off+n+cut >= dg.Length }
	hadFIN := len(d.lp.TCP) >= layers.TCPMinLen && d.lp.TCP.Flags()&tcpasm.FIN != 0
	if !d.segment(b, dg.Timestamp, dg.Index, cp, dg.Cut0, end(0, len(dg.IP)-dg.HeaderLen, dg.Cut0)) {
		for _, r := range dg.Runs {
			d.st.FragmentBytesLost += int64(len(r.Data))
		}
		return
	}
	first := b.segs[len(b.segs)-1]
	seq := first.Seq
	if first.Flags&tcpasm.SYN != 0 {
		seq++
	}
	for _, r := range dg.Runs {
		if r.Offset < start {
			d.st.FragmentBytesLost += int64(len(r.Data))
			continue
		}
		seg := first
		seg.Seq = seq + uint32(r.Offset-start)
		seg.Flags &^= tcpasm.SYN | tcpasm.FIN | tcpasm.RST | tcpasm.URG | tcpasm.PSH
		if hadFIN && end(r.Offset, len(r.Data), r.Cut) {
			seg.Flags |= tcpasm.FIN
		}
		seg.NumSACK = 0
		seg.Payload = r.Data
		seg.Length = len(r.Data) + r.Cut
		b.segs = append(b.segs, seg)
		d.st.TCP++
		d.st.Bytes += int64(len(r.Data))
	}
}

// finish hands every datagram still waiting to the assembler (the end of the
// input).
func (d *decoder) finish(b *batch) {
	if d.frag == nil {
		return
	}
	d.frag.Flush()
	d.drain(b)
	d.st.Frag = d.frag.Stats()
}

// release gives reassembly buffers back once their batch was assembled.
func (d *decoder) release(b *batch) {
	for i, buf := range b.frags {
		if buf != nil {
			d.frag.Release(buf)
		}
		b.frags[i] = nil
	}
	b.frags = b.frags[:0]
}
