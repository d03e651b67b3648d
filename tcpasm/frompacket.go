package tcpasm

import "github.com/reseq/reseq/layers"

// FromPacket fills seg from a layers decode of a TCP packet captured at time ts
// (ns) as packet number index. With capturePoint set, the outer tag of a stack
// of two or more VLAN tags names the capture point and is left out of the flow
// key; otherwise every tag is part of the key and the segment has no capture
// point. It reports false, leaving seg unspecified, when p holds no complete
// TCP header. seg.Payload aliases p's bytes.
func FromPacket(seg *Segment, p *layers.Packet, ts, index int64, capturePoint bool) bool {
	if p.Transport != layers.TransportTCP || len(p.TCP) < layers.TCPMinLen {
		return false
	}
	t := p.TCP
	*seg = Segment{
		Key:          p.FlowKey(capturePoint),
		CapturePoint: NoCapturePoint,
		Timestamp:    ts,
		Index:        index,
		Seq:          t.Seq(),
		Ack:          t.Ack(),
		Flags:        t.Flags(),
		Window:       t.Window(),
		Urgent:       t.Urgent(),
		Payload:      p.Payload,
		Length:       max(p.PayloadLength, len(p.Payload)),
	}
	if capturePoint {
		if id, ok := p.CapturePoint(); ok {
			seg.CapturePoint = int32(id)
		}
	}
	o := &p.TCPOptions
	seg.SACK = o.SACK
	seg.NumSACK = min(o.NumSACK, MaxSACK)
	if len(seg.Payload) > 0 {
		seg.fp, seg.fpOf, seg.fpLen = fingerprint(seg.Payload), &seg.Payload[0], len(seg.Payload)
	}
	seg.WindowScale, seg.HasWindowScale = o.WindowScale, o.HasWindowScale
	if o.HasTimestamps {
		seg.TSVal, seg.HasTS = o.TSVal, true
	}
	if p.Network == layers.NetworkIPv4 && len(p.IPv4) >= layers.IPv4MinLen {
		seg.IPID = p.IPv4.ID()
	}
	return true
}
