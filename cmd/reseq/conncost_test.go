package main

import (
	"encoding/binary"
	"io"
	"runtime"
	"testing"

	"github.com/reseq/reseq/tcpasm"
	"github.com/reseq/reseq/tcpasm/framing"
)

func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// openConns gives h n connections of one SYN each and returns the heap they
// took beyond the assembler's own ConnCost, per connection.
func openConns(t *testing.T, h tcpasm.Handler, n int) float64 {
	before := heapNow()
	a := tcpasm.New(tcpasm.Config{MaxMemory: 1 << 40}, h)
	for i := range n {
		var s tcpasm.Segment
		s.Key.SrcIP[10], s.Key.SrcIP[11], s.Key.DstIP[10], s.Key.DstIP[11] = 0xff, 0xff, 0xff, 0xff
		binary.BigEndian.PutUint32(s.Key.SrcIP[12:], 0x0a000000+uint32(i))
		binary.BigEndian.PutUint32(s.Key.DstIP[12:], 0xc0a80001)
		s.Key.SrcPort, s.Key.DstPort = 40000, 80
		s.CapturePoint = tcpasm.NoCapturePoint
		s.Timestamp, s.Index, s.Seq, s.Flags = int64(i)*1000, int64(i), uint32(i)*7919, tcpasm.SYN
		a.Assemble(&s)
	}
	grew := float64(heapNow()-before) / float64(n)
	runtime.KeepAlive(a)
	runtime.KeepAlive(h)
	return grew - float64(tcpasm.ConnCost)
}

// The handlers' state per live connection, measured, stays within what they
// declare to the assembler (Config.ConnOverhead) so that --max-memory covers
// it.
func TestHandlerConnOverhead(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const n = 50_000
	dir := t.TempDir()
	ex, err := newExtractor(extractorConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.finish()
	fl, err := newFlowLister(nil, &signals{})
	if err != nil {
		t.Fatal(err)
	}
	defer fl.spill.discard()
	hx, err := newHTTPExtractor(t.TempDir(), false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer hx.finish()
	for _, c := range []struct {
		name     string
		h        tcpasm.Handler
		declared int64
	}{
		{"extract", ex, extractConnOverhead},
		{"flows", fl, flowsConnOverhead},
		{"http", framing.NewHandler(framing.Config{}, hx.open), httpConnOverhead},
	} {
		got := openConns(t, c.h, n)
		t.Logf("%s: %.0f bytes a connection beyond the assembler's %d (declared %d)", c.name, got, tcpasm.ConnCost, c.declared)
		if got > float64(c.declared) {
			t.Errorf("%s: %.0f bytes a connection, declared %d", c.name, got, c.declared)
		}
	}
}
