package tcpasm_test

import (
	"fmt"
	"net/netip"

	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/tcpasm"
)

// printer prints what the assembler reports.
type printer struct{}

func (printer) Open(c *tcpasm.Conn) { fmt.Printf("open %v #%d\n", c.Key, c.Index) }
func (printer) Data(s *tcpasm.Stream, off int64, d []byte, _ int64) {
	fmt.Printf("dir %d data %d %q\n", s.Dir, off, d)
}
func (printer) Gap(s *tcpasm.Stream, off, n int64, r tcpasm.Reason, _ int64) {
	fmt.Printf("dir %d gap %d+%d %v\n", s.Dir, off, n, r)
}
func (printer) Late(s *tcpasm.Stream, off int64, d []byte, _ int64) {
	fmt.Printf("dir %d late %d %q\n", s.Dir, off, d)
}
func (printer) Conflict(s *tcpasm.Stream, c tcpasm.Conflict, _ int64) {
	fmt.Printf("dir %d conflict %d+%d\n", s.Dir, c.Offset, c.Length)
}
func (printer) Close(s *tcpasm.Stream, r tcpasm.Reason, _ int64) {
	fmt.Printf("dir %d close %v: extent %d, %d bytes, %d in gaps\n", s.Dir, r, s.Extent, s.Stats.Bytes, s.Stats.GapBytes)
}

// A capture that missed one segment of a request: the server's ACK proves the
// bytes existed, so the hole becomes a gap (reason acked) before the data
// after it, and the byte accounting stays exact.
func Example() {
	a := tcpasm.New(tcpasm.Config{ReorderWindow: -1}, printer{})
	var key layers.FlowKey
	key.SetAddrs(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80"))
	var isn uint32 = 1<<32 - 2 // the stream crosses the sequence wrap
	seg := func(seq uint32, flags uint8, payload string) *tcpasm.Segment {
		return &tcpasm.Segment{Key: key, CapturePoint: tcpasm.NoCapturePoint, Seq: seq, Flags: flags,
			Payload: []byte(payload), Length: len(payload)}
	}
	a.Assemble(seg(isn, tcpasm.SYN, ""))
	a.Assemble(seg(isn+1, tcpasm.ACK|tcpasm.PSH, "GET /"))
	// [5,11) was lost by the capture.
	a.Assemble(seg(isn+12, tcpasm.ACK|tcpasm.PSH, "\r\n\r\n"))
	ack := seg(7, tcpasm.ACK, "")
	ack.Key = key.Reverse()
	ack.Ack = isn + 1 + 15
	a.Assemble(ack)
	a.Close()
	// Output:
	// open 10.0.0.1:40000 > 10.0.0.2:80 #0
	// dir 0 data 0 "GET /"
	// dir 0 gap 5+6 acked
	// dir 0 data 11 "\r\n\r\n"
	// dir 0 close eof: extent 15, 9 bytes, 6 in gaps
	// dir 1 close eof: extent 0, 0 bytes, 0 in gaps
}
