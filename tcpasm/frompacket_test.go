package tcpasm

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/reseq/reseq/layers"
)

// frame builds Ethernet + QinQ (outer 201, inner 100) + IPv4 + TCP with
// timestamp and SACK options, whose IP length claims 5 bytes more payload than
// the frame holds.
func frame() []byte {
	be := binary.BigEndian
	var b []byte
	b = append(b, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1) // dst, src MAC
	b = be.AppendUint16(b, 0x88a8)
	b = be.AppendUint16(b, 201)
	b = be.AppendUint16(b, 0x8100)
	b = be.AppendUint16(b, 100)
	b = be.AppendUint16(b, 0x0800)
	payload := []byte("hello")
	opts := []byte{1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9, // TS val 7
		1, 1, 5, 18, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0, 0, 0x30, 0, 0, 0, 0x40, 0} // SACK
	tcpLen := 20 + len(opts)
	ip := make([]byte, 20)
	ip[0] = 0x45
	be.PutUint16(ip[2:], uint16(20+tcpLen+len(payload)+5))
	be.PutUint16(ip[4:], 0xbeef)
	ip[8], ip[9] = 64, 6
	copy(ip[12:], []byte{10, 0, 0, 1})
	copy(ip[16:], []byte{10, 0, 0, 2})
	b = append(b, ip...)
	tcp := make([]byte, 20)
	be.PutUint16(tcp[0:], 40000)
	be.PutUint16(tcp[2:], 80)
	be.PutUint32(tcp[4:], 1000)
	be.PutUint32(tcp[8:], 2000)
	tcp[12] = byte(tcpLen/4) << 4
	tcp[13] = ACK | PSH
	be.PutUint16(tcp[14:], 512)
	b = append(b, tcp...)
	b = append(b, opts...)
	return append(b, payload...)
}

func TestFromPacket(t *testing.T) {
	data := frame()
	var p layers.Packet
	if st := p.Decode(layers.LinkTypeEthernet, data, len(data)+5); !st.OK() {
		t.Fatalf("decode: %v", st)
	}
	var seg Segment
	if !FromPacket(&seg, &p, 123, 9, true) {
		t.Fatal("FromPacket false")
	}
	var want layers.FlowKey
	want.SetAddrs(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80"))
	want.VLANs[0], want.NumVLANs = 100, 1
	if seg.Key != want || seg.CapturePoint != 201 || seg.Timestamp != 123 || seg.Index != 9 {
		t.Errorf("key %v cp %d ts %d index %d", seg.Key, seg.CapturePoint, seg.Timestamp, seg.Index)
	}
	if seg.Seq != 1000 || seg.Ack != 2000 || seg.Flags != ACK|PSH || seg.Window != 512 || seg.IPID != 0xbeef {
		t.Errorf("header fields %+v", seg)
	}
	if string(seg.Payload) != "hello" || seg.Length != 10 {
		t.Errorf("payload %q length %d", seg.Payload, seg.Length)
	}
	if !seg.HasTS || seg.TSVal != 7 || seg.NumSACK != 2 || seg.SACK[0] != (SACKBlock{Left: 0x1000, Right: 0x2000}) || seg.SACK[1] != (SACKBlock{Left: 0x3000, Right: 0x4000}) {
		t.Errorf("options: ts %v %d sack %d %v", seg.HasTS, seg.TSVal, seg.NumSACK, seg.SACK)
	}
	// Without capture points every tag is in the key.
	FromPacket(&seg, &p, 0, 0, false)
	if seg.CapturePoint != NoCapturePoint || seg.Key.NumVLANs != 2 || seg.Key.VLANs[0] != 201 {
		t.Errorf("no capture point: cp %d key %v", seg.CapturePoint, seg.Key)
	}
	// Not TCP.
	p.Decode(layers.LinkTypeEthernet, data[:40], 0)
	if FromPacket(&seg, &p, 0, 0, true) {
		t.Error("FromPacket true without a TCP header")
	}
	// FromPacket allocates nothing.
	p.Decode(layers.LinkTypeEthernet, data, len(data)+5)
	if n := testing.AllocsPerRun(100, func() { FromPacket(&seg, &p, 1, 2, true) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
