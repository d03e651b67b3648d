package tcpasm

import (
	"encoding/binary"
	"runtime"
	"testing"
	"unsafe"
)

// synSeg returns the SYN of connection i (distinct client addresses).
func synSeg(i int) Segment {
	var s Segment
	s.Key.SrcIP[10], s.Key.SrcIP[11] = 0xff, 0xff
	binary.BigEndian.PutUint32(s.Key.SrcIP[12:], 0x0a000000+uint32(i))
	s.Key.DstIP[10], s.Key.DstIP[11] = 0xff, 0xff
	binary.BigEndian.PutUint32(s.Key.DstIP[12:], 0xc0a80001)
	s.Key.SrcPort, s.Key.DstPort = uint16(1024+i%60000), 80
	s.CapturePoint = NoCapturePoint
	s.Timestamp = int64(i) * 1000
	s.Index = int64(i)
	s.Seq = uint32(i) * 7919
	s.Flags = SYN
	s.Window = 65535
	return s
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestConnCost measures what a connection costs while it carries no data:
// 100k connections of one SYN each.
func TestConnCost(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const n = 100_000
	before := heapInUse()
	a := New(Config{}, nopHandler{})
	for i := range n {
		s := synSeg(i)
		a.Assemble(&s)
	}
	after := heapInUse()
	per := float64(after-before) / n
	t.Logf("conn struct %d bytes; %d connections: %.0f bytes each", unsafe.Sizeof(conn{}), a.Stats().Conns, per)
	runtime.KeepAlive(a)
}
