package fuzz

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/reseq/reseq/tcpasm"
)

// traceHandler writes every callback, with its bytes, as a line.
type traceHandler struct{ b strings.Builder }

func (h *traceHandler) Open(c *tcpasm.Conn) { fmt.Fprintf(&h.b, "open %v #%d\n", c.Key, c.Index) }
func (h *traceHandler) Data(s *tcpasm.Stream, off int64, d []byte, ts int64) {
	fmt.Fprintf(&h.b, "data %d/%d %d %x @%d\n", s.Conn.Index, s.Dir, off, d, ts)
}
func (h *traceHandler) Gap(s *tcpasm.Stream, off, n int64, r tcpasm.Reason, ts int64) {
	fmt.Fprintf(&h.b, "gap %d/%d %d+%d %v @%d\n", s.Conn.Index, s.Dir, off, n, r, ts)
}
func (h *traceHandler) Late(s *tcpasm.Stream, off int64, d []byte, ts int64) {
	fmt.Fprintf(&h.b, "late %d/%d %d %x @%d\n", s.Conn.Index, s.Dir, off, d, ts)
}
func (h *traceHandler) Conflict(s *tcpasm.Stream, c tcpasm.Conflict, ts int64) {
	fmt.Fprintf(&h.b, "conflict %d/%d %+v @%d\n", s.Conn.Index, s.Dir, c, ts)
}
func (h *traceHandler) Close(s *tcpasm.Stream, r tcpasm.Reason, ts int64) {
	fmt.Fprintf(&h.b, "close %d/%d %v %d %+v @%d\n", s.Conn.Index, s.Dir, r, s.Extent, s.Stats, ts)
}

// AssembleBatch must behave exactly as Assemble one segment at a time —
// every callback, conflicts included, whatever the batch boundaries and
// however small the conflict window — and must not read a payload after the
// batch that carried it: each batch's payloads live in a buffer that is
// overwritten as soon as the batch returns.
func TestAsmPropBatch(t *testing.T) {
	g := baseGen
	g.twoPoints = true
	g.conns = 2
	g.rexmitPct, g.otherPct = 30, 50
	withConflicts := 0
	rapid.Check(t, func(rt *rapid.T) {
		m := g.draw(rt).Model()
		cfg := tcpasm.DefaultConfig()
		cfg.ConflictWindow = rapid.SampledFrom([]int64{16, 256, 4096, 16 << 10}).Draw(rt, "window")
		if rapid.Bool().Draw(rt, "lastWins") {
			cfg.Overlap = tcpasm.LastWins
		}
		trace, err := batchDiff(m, cfg, func() int { return rapid.IntRange(1, 40).Draw(rt, "batch") })
		if err != nil {
			rt.Fatalf("%v\n%s", err, dumpModel(m))
		}
		if strings.Contains(trace, "conflict") {
			withConflicts++
		}
	})
	if withConflicts == 0 {
		t.Error("no script made a conflict: the retained bytes were never compared")
	}
}

// batchDiff runs m's packets through Assemble one by one and through
// AssembleBatch in batches of next() segments, each batch's payloads in a
// buffer overwritten as soon as the batch returns, and reports the first
// callback that differs. It returns the one-by-one trace.
func batchDiff(m *Model, cfg tcpasm.Config, next func() int) (string, error) {
	segs := make([]tcpasm.Segment, len(m.Packets))
	for i := range m.Packets {
		segs[i] = asmSegment(m, &m.Packets[i], int64(i))
	}
	one := &traceHandler{}
	a := tcpasm.New(cfg, one)
	for i := range segs {
		a.Assemble(&segs[i])
	}
	a.Close()

	batched := &traceHandler{}
	b := tcpasm.New(cfg, batched)
	var arena []byte
	for i := 0; i < len(segs); {
		n := max(next(), 1)
		part := segs[i:min(i+n, len(segs))]
		arena = arena[:0]
		for _, s := range part {
			arena = append(arena, s.Payload...)
		}
		batch := make([]tcpasm.Segment, 0, len(part))
		k := 0
		for _, s := range part {
			s.Payload = arena[k : k+len(s.Payload) : k+len(s.Payload)]
			k += len(s.Payload)
			batch = append(batch, s)
		}
		b.AssembleBatch(batch)
		for j := range arena {
			arena[j] = 0xEE // the next batch reuses the buffer
		}
		i += len(part)
	}
	b.Close()

	x, y := one.b.String(), batched.b.String()
	if x != y {
		xl, yl := strings.Split(x, "\n"), strings.Split(y, "\n")
		for j := range min(len(xl), len(yl)) {
			if xl[j] != yl[j] {
				return x, fmt.Errorf("callback %d differs:\nAssemble:      %s\nAssembleBatch: %s", j, xl[j], yl[j])
			}
		}
		return x, fmt.Errorf("Assemble made %d callbacks, AssembleBatch %d", len(xl), len(yl))
	}
	return x, nil
}
