package tcpasm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// countHandler counts what it hears, cheaply.
type countHandler struct {
	data, gaps, late int64
}

func (h *countHandler) Open(*Conn)                                         {}
func (h *countHandler) Data(_ *Stream, _ int64, d []byte, _ int64)         { h.data += int64(len(d)) }
func (h *countHandler) Gap(_ *Stream, _ int64, n int64, _ Reason, _ int64) { h.gaps += n }
func (h *countHandler) Late(_ *Stream, _ int64, d []byte, _ int64)         { h.late += int64(len(d)) }
func (h *countHandler) Conflict(*Stream, Conflict, int64)                  {}
func (h *countHandler) Close(*Stream, Reason, int64)                       {}

// benchSegments returns n segments of size bytes of one stream, in order.
func benchSegments(n, size int) []Segment {
	f := newFeeder(nil, 1<<32-1000, 5)
	payload := make([]byte, size)
	segs := make([]Segment, n)
	for i := range segs {
		s := f.seg(0, int64(i*size), ACK|PSH, "", 0)
		s.Seq = benchISN + 1 + uint32(i*size)
		s.Payload, s.Length = payload, size
		s.Timestamp += int64(i) * 1000
		s.Index = int64(i)
		segs[i] = s
	}
	return segs
}

const benchISN = 1<<32 - 1000

func bigLimits() Config {
	return Config{MaxHeldPerStream: 1 << 40, MaxMemory: 1 << 40}
}

func runSegments(b *testing.B, segs []Segment) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := &countHandler{}
		a := New(bigLimits(), h)
		syn := segs[0]
		syn.Seq, syn.Flags, syn.Payload, syn.Length = benchISN, SYN, nil, 0
		a.Assemble(&syn)
		for j := range segs {
			a.Assemble(&segs[j])
		}
		a.Close()
		if h.data != int64(len(segs)*len(segs[0].Payload)) {
			b.Fatalf("delivered %d", h.data)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(segs)), "ns/segment")
}

// BenchmarkInOrder: the hot path, one stream of MTU-sized segments in order
// (delivered straight from the payload), and of tiny segments for comparison
// with BenchmarkRandomOrder: size=10 against n=100k, size=10/n=10k against
// n=10k (same segments, same count, only the order differs).
func BenchmarkInOrder(b *testing.B) {
	for _, size := range []int{1400, 10} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			runSegments(b, benchSegments(100_000, size))
		})
	}
	b.Run("size=10/n=10k", func(b *testing.B) {
		runSegments(b, benchSegments(10_000, 10))
	})
}

// BenchmarkRandomOrder: one stream of tiny segments arriving in random order
// (all but the last held). The time per segment must not grow with n
// (n=100k within 1.5x of n=10k) and stay within 4x of in-order.
func BenchmarkRandomOrder(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("n=%dk", n/1000), func(b *testing.B) {
			segs := benchSegments(n, 10)
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			rng.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
			runSegments(b, segs)
		})
	}
}

// BenchmarkPureACK: the other hot path.
func BenchmarkPureACK(b *testing.B) {
	a := New(Config{}, &countHandler{})
	f := newFeeder(a, 1, 2)
	f.handshake()
	s := f.seg(1, 0, ACK, "", 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Ack = f.isn[0] + 1
		s.IPID++
		s.Timestamp++
		a.Assemble(&s)
	}
}

// BenchmarkManyConns: in-order segments spread over 10k connections
// (flow-table lookups without the last-connection cache).
func BenchmarkManyConns(b *testing.B) {
	const conns = 10_000
	a := New(Config{}, &countHandler{})
	segs := make([]Segment, conns)
	offs := make([]int64, conns)
	payload := make([]byte, 100)
	for i := range segs {
		f := newFeeder(a, uint32(i), 7)
		f.key.SrcPort = uint16(i)
		f.key.SrcIP[2] = byte(i >> 8)
		segs[i] = f.seg(0, 0, ACK|PSH, "", 0)
		segs[i].Payload, segs[i].Length = payload, len(payload)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % conns
		s := &segs[k]
		s.Seq = uint32(k) + 1 + uint32(offs[k])
		s.Timestamp = int64(i)
		offs[k] += 100
		a.Assemble(s)
	}
}
