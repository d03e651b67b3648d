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
	a := New(Config{MaxMemory: 1 << 40}, nopHandler{})
	for i := range n {
		s := synSeg(i)
		a.Assemble(&s)
	}
	after := heapInUse()
	per := float64(after-before) / n
	t.Logf("conn struct %d bytes; %d connections: %.0f bytes each", unsafe.Sizeof(conn{}), a.Stats().Conns, per)
	runtime.KeepAlive(a)
}

// 200k SYNs under a 16 MiB budget: the table stays within it (the oldest
// connections are evicted), and so does the heap it takes.
func TestSYNFloodWithinBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const n, budget = 200_000, 16 << 20
	before := heapInUse()
	a := New(Config{MaxMemory: budget, ConnOverhead: 200}, nopHandler{})
	peakConns := 0
	for i := range n {
		s := synSeg(i)
		a.Assemble(&s)
		peakConns = max(peakConns, a.Stats().Conns)
	}
	st := a.Stats()
	grew := int64(heapInUse()) - int64(before)
	t.Logf("conns %d (peak %d), evicted %d, memory %d (peak %d), heap grew %d", st.Conns, peakConns, st.ConnEvictions, st.Memory, st.PeakMemory, grew)
	if st.PeakMemory > budget {
		t.Errorf("peak memory %d above the budget %d", st.PeakMemory, budget)
	}
	if want := int64(budget / (ConnCost + 200)); int64(peakConns) > want {
		t.Errorf("%d connections at once, the budget has room for %d", peakConns, want)
	}
	if st.ConnEvictions < n/2 {
		t.Errorf("%d connections evicted", st.ConnEvictions)
	}
	// The heap holds the table and the tuples' next connection numbers
	// (Assembler.reuse), and the slabs of conns evicted but not collected.
	if grew > 2*budget {
		t.Errorf("heap grew %d for a budget of %d", grew, budget)
	}
	runtime.KeepAlive(a)
}
