package pipeline_test

import (
	"encoding/binary"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// genPcap is a pcap file made up on the fly: a header and then records made
// by rec(i) until size bytes were produced (the last record may be cut).
type genPcap struct {
	buf  []byte
	back []byte // buf's array, reused
	n    int
	size int64
	done int64
	rec  func(i int, b []byte) []byte
}

func (g *genPcap) Read(p []byte) (int, error) {
	if g.done >= g.size {
		return 0, io.EOF
	}
	for len(g.buf) == 0 {
		g.back = g.rec(g.n, g.back[:0])
		g.buf = g.back
		g.n++
	}
	n := copy(p, g.buf)
	if rest := g.size - g.done; int64(n) > rest {
		n = int(rest)
	}
	g.buf = g.buf[n:]
	g.done += int64(n)
	return n, nil
}

func pcapHeader(b []byte) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, 0xa1b2c3d4)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint64(b, 0)
	b = le.AppendUint32(b, 1<<30)
	return le.AppendUint32(b, 1) // Ethernet
}

// ethFrame is Ethernet + IPv4 + (TCP or UDP) with payload bytes of payload.
func ethFrame(tcp bool, payload, seq int) []byte {
	be := binary.BigEndian
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0}
	l4 := 8
	proto := byte(17)
	if tcp {
		l4, proto = 20, 6
	}
	ip := make([]byte, 20)
	ip[0] = 0x45
	be.PutUint16(ip[2:], uint16(20+l4+payload))
	ip[8], ip[9] = 64, proto
	copy(ip[12:], []byte{10, 0, 0, 1})
	copy(ip[16:], []byte{10, 0, 0, 2})
	b = append(b, ip...)
	h := make([]byte, l4)
	be.PutUint16(h[0:], 40000)
	be.PutUint16(h[2:], 80)
	if tcp {
		be.PutUint32(h[4:], uint32(seq))
		h[12] = 5 << 4
		h[13] = 0x18 // PSH ACK
		be.PutUint16(h[14:], 65535)
	} else {
		be.PutUint16(h[4:], uint16(8+payload))
	}
	b = append(b, h...)
	return append(b, make([]byte, payload)...)
}

func record(b, frame []byte, i int) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, uint32(i))
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, uint32(len(frame)))
	b = le.AppendUint32(b, uint32(len(frame)))
	return append(b, frame...)
}

// peakHeap runs fn while sampling the heap in use, and returns its peak growth.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak.Load() {
				peak.Store(ms.HeapInuse - base)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}

type nopBatch struct{ segs int }

func (n *nopBatch) Assemble(*tcpasm.Segment)         { n.segs++ }
func (n *nopBatch) AssembleBatch(s []tcpasm.Segment) { n.segs += len(s) }

// Whatever the traffic, the staged pipeline lends a bounded amount of buffers:
// frames that are not TCP, few TCP segments among many other frames, records
// of zeros and records larger than a chunk used to pile up until the end.
func TestBoundedBuffers(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 1.1 GiB of generated captures")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	udp := ethFrame(false, 1400, 0)
	tcp := ethFrame(true, 100, 1)
	big := ethFrame(false, 16<<20-64, 0)
	head := func(rec func(i int, b []byte) []byte) func(i int, b []byte) []byte {
		return func(i int, b []byte) []byte {
			if i == 0 {
				return pcapHeader(b)
			}
			return rec(i, b)
		}
	}
	cases := []struct {
		name string
		size int64
		rec  func(i int, b []byte) []byte
		tcp  bool
	}{
		{"udp", 384 << 20, head(func(i int, b []byte) []byte { return record(b, udp, i) }), false},
		{"tcp-per-1000-udp", 384 << 20, head(func(i int, b []byte) []byte {
			if i%1000 == 0 {
				return record(b, tcp, i)
			}
			return record(b, udp, i)
		}), true},
		{"zeros", 128 << 20, head(func(i int, b []byte) []byte { return append(b, make([]byte, 64<<10)...) }), false},
		{"16MiB-records", 384 << 20, head(func(i int, b []byte) []byte { return record(b, big, i) }), false},
	}
	const limit = 100 << 20
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, batch := range []bool{true, false} {
				var st pipeline.Stats
				peak := peakHeap(func() {
					r, err := reseq.NewReader(&genPcap{size: c.size, rec: c.rec}, c.name)
					if err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					var a pipeline.Assembler = &nopBatch{}
					if !batch {
						a = &recorder{}
					}
					st, _ = pipeline.Run(r, a, pipeline.Options{})
				})
				t.Logf("batch %v: %d packets, %d TCP, peak heap growth %d MiB", batch, st.Packets, st.TCP, peak>>20)
				if st.Packets == 0 || (st.TCP > 0) != c.tcp {
					t.Fatalf("stats %+v", st)
				}
				if peak > limit {
					t.Errorf("batch %v: peak heap growth %d MiB, want at most %d MiB", batch, peak>>20, limit>>20)
				}
			}
		})
	}
}
