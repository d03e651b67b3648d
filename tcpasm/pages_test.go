package tcpasm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// traceHandler writes what a stream is told, coalescing Data (and Late) calls
// that continue the one before with the same capture time: the held store
// keeps a segment's bytes as one piece in pages, or joins several segments'
// bytes in one buffer, and both must tell the same story.
//
// Conflicts are kept apart: their granularity is the held runs' (a run of one
// packet's bytes in a piece), which differs. So does, under LastWins, which
// packet identical bytes between two replaced ones are credited to: with
// anyTime the Data times are not compared.
type traceHandler struct {
	anyTime   bool
	lines     []string
	last      string // the pending Data/Late call, "" when none
	kind      string
	dir       Direction
	conn      int
	off, n    int64
	ts        int64
	bytes     []byte
	conflicts map[[3]int64][2]int64 // by conn, dir, causing packet: the first and end offsets
	stats     []string
}

func newTraceHandler() *traceHandler {
	return &traceHandler{conflicts: map[[3]int64][2]int64{}}
}

func (t *traceHandler) flush() {
	if t.kind != "" {
		t.lines = append(t.lines, fmt.Sprintf("%s c%d d%d @%d +%d t%d %q", t.kind, t.conn, t.dir, t.off, t.n, t.ts, t.bytes))
		t.kind, t.bytes = "", nil
	}
}

func (t *traceHandler) bytesCall(kind string, s *Stream, off int64, d []byte, ts int64) {
	if t.anyTime {
		ts = 0
	}
	if t.kind == kind && t.conn == s.Conn.Index && t.dir == s.Dir && t.off+t.n == off && t.ts == ts {
		t.n += int64(len(d))
		t.bytes = append(t.bytes, d...)
		return
	}
	t.flush()
	t.kind, t.conn, t.dir, t.off, t.n, t.ts = kind, s.Conn.Index, s.Dir, off, int64(len(d)), ts
	t.bytes = append([]byte(nil), d...)
}

func (t *traceHandler) Open(c *Conn) {
	t.flush()
	t.lines = append(t.lines, fmt.Sprintf("open c%d", c.Index))
}
func (t *traceHandler) Data(s *Stream, off int64, d []byte, ts int64) {
	t.bytesCall("data", s, off, d, ts)
}
func (t *traceHandler) Late(s *Stream, off int64, d []byte, ts int64) {
	t.bytesCall("late", s, off, d, ts)
}
func (t *traceHandler) Gap(s *Stream, off, n int64, r Reason, ts int64) {
	t.flush()
	t.lines = append(t.lines, fmt.Sprintf("gap c%d d%d @%d +%d %v t%d", s.Conn.Index, s.Dir, off, n, r, ts))
}
func (t *traceHandler) Conflict(s *Stream, c Conflict, ts int64) {
	k := [3]int64{int64(s.Conn.Index), int64(s.Dir), max(c.KeptIndex, c.DroppedIndex)}
	r, ok := t.conflicts[k]
	if !ok {
		r = [2]int64{c.Offset, c.Offset + c.Length}
	}
	t.conflicts[k] = [2]int64{min(r[0], c.Offset), max(r[1], c.Offset+c.Length)}
}
func (t *traceHandler) Close(s *Stream, r Reason, ts int64) {
	t.flush()
	st := s.Stats
	st.Conflicts = 0 // one per held piece a segment differs from
	t.lines = append(t.lines, fmt.Sprintf("close c%d d%d %v t%d extent %d", s.Conn.Index, s.Dir, r, ts, s.Extent))
	t.stats = append(t.stats, fmt.Sprintf("c%d d%d %+v", s.Conn.Index, s.Dir, st))
}

// tinyScript builds a stream of tiny segments (with retransmissions, some of
// other data, snaplen cuts, losses and the peer's ACKs) in an order displaced
// by up to jitter positions (all of them shuffled when jitter < 0).
func tinyScript(rng *rand.Rand, n int, jitter int) []Segment {
	f := newFeeder(nil, rng.Uint32(), rng.Uint32())
	stream := make([]byte, n)
	for i := range stream {
		stream[i] = byte('a' + rng.IntN(26))
	}
	type item struct {
		key float64
		s   Segment
	}
	var items []item
	add := func(pos int, s Segment) {
		k := float64(pos)
		if jitter < 0 {
			k = rng.Float64()
		} else {
			k += rng.Float64() * float64(jitter)
		}
		items = append(items, item{k, s})
	}
	if rng.IntN(2) == 0 {
		add(-1, f.seg(0, -1, SYN, "", 0))
	}
	pos := 0
	for off := 0; off < n; pos++ {
		sz := min(1+rng.IntN(12), n-off)
		if rng.IntN(10) > 0 { // 10% lost
			s := f.seg(0, int64(off), ACK|PSH, string(stream[off:off+sz]), 0)
			if rng.IntN(25) == 0 { // snaplen cut
				s.Payload = s.Payload[:rng.IntN(sz)]
			}
			add(pos, s)
		}
		if rng.IntN(6) == 0 { // a retransmission, maybe of other data, maybe overlapping
			a := max(0, off-rng.IntN(40))
			b := min(n, off+sz+rng.IntN(20))
			p := []byte(string(stream[a:b]))
			if rng.IntN(3) == 0 {
				p[rng.IntN(len(p))] ^= 0x20
			}
			add(pos+rng.IntN(30), f.seg(0, int64(a), ACK|PSH, string(p), 0))
		}
		if rng.IntN(20) == 0 { // the peer ACKs what was sent so far
			add(pos+rng.IntN(10), f.seg(1, 0, ACK, "", int64(off)))
		}
		off += sz
	}
	slices.SortStableFunc(items, func(x, y item) int {
		switch {
		case x.key < y.key:
			return -1
		case x.key > y.key:
			return 1
		}
		return 0
	})
	segs := make([]Segment, len(items))
	for i, it := range items {
		segs[i] = it.s
		segs[i].Index = int64(i)
		segs[i].Timestamp = 1_700_000_000_000_000_000 + int64(i)*1000
	}
	return segs
}

// runTrace feeds segs to an Assembler whose streams use pages from
// pagesFrom held pieces on (-1: never) and returns its trace and whether any
// stream used pages.
func runTrace(t *testing.T, cfg Config, pagesFrom int, segs []Segment) (*traceHandler, bool) {
	h := newTraceHandler()
	h.anyTime = cfg.Overlap == LastWins
	a := New(cfg, h)
	if a.pagesFrom >= 0 {
		a.pagesFrom = pagesFrom
	}
	used := false
	for i := range segs {
		s := segs[i]
		s.Payload = append([]byte(nil), s.Payload...)
		a.Assemble(&s)
		clear(s.Payload) // the Assembler must have copied what it keeps
		a.flows.each(func(c *conn) {
			used = used || pagesInUse(&c.h[0]) > 0 || pagesInUse(&c.h[1]) > 0
		})
	}
	a.Close()
	h.flush()
	if m := a.MemoryHeld(); m != 0 {
		t.Errorf("pagesFrom %d: MemoryHeld %d after Close", pagesFrom, m)
	}
	return h, used
}

// TestPagesMatchBuffers: whether tiny held segments go to pages or to buffers
// of their own changes nothing a handler can see but the Conflicts'
// granularity: same bytes at the same offsets with the same times (first-wins;
// see traceHandler for last-wins), same gaps, Late bytes, closes and counters,
// conflicts over the same bytes.
func TestPagesMatchBuffers(t *testing.T) {
	usedAny := 0
	cases := 0
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 7))
		jitter := []int{-1, 5, 40, 200}[seed%4]
		segs := tinyScript(rng, 500+rng.IntN(12000), jitter)
		for _, cfg := range []Config{
			{MaxHeldPerStream: 1 << 40, MaxMemory: 1 << 40},
			{MaxHeldPerStream: 1 << 40, MaxMemory: 1 << 40, Overlap: LastWins},
			{}, // defaults
		} {
			cases++
			want, _ := runTrace(t, cfg, -1, segs)
			for _, from := range []int{0, pagesMinPieces} {
				got, used := runTrace(t, cfg, from, segs)
				if used {
					usedAny++
				}
				name := fmt.Sprintf("seed %d jitter %d overlap %v pagesFrom %d", seed, jitter, cfg.Overlap, from)
				if d := firstDiff(want.lines, got.lines); d != "" {
					t.Fatalf("%s: trace differs: %s", name, d)
				}
				if d := firstDiff(want.stats, got.stats); d != "" {
					t.Fatalf("%s: counters differ: %s", name, d)
				}
				for k, r := range want.conflicts {
					if got.conflicts[k] != r {
						t.Fatalf("%s: conflicts caused by packet %d: %v with pages, %v without", name, k[2], got.conflicts[k], r)
					}
				}
				if len(got.conflicts) != len(want.conflicts) {
					t.Fatalf("%s: %d conflicting packets with pages, %d without", name, len(got.conflicts), len(want.conflicts))
				}
			}
		}
	}
	if usedAny < cases {
		t.Errorf("pages used in %d of %d runs", usedAny, 2*cases)
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			var sb strings.Builder
			for j := max(0, i-3); j < min(i+4, len(a), len(b)); j++ {
				fmt.Fprintf(&sb, "\n  line %d without pages: %s\n  line %d with pages:    %s", j, trunc(a[j]), j, trunc(b[j]))
			}
			return sb.String()
		}
	}
	if len(a) != len(b) {
		return fmt.Sprintf("%d lines without pages, %d with", len(a), len(b))
	}
	return ""
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return strings.TrimSpace(s)
}

// TestPagesGiveBack: pages are counted whole while in use and all given back
// once the stream delivered past them; a single tiny held segment costs its
// bytes, not a page.
func TestPagesGiveBack(t *testing.T) {
	a := New(Config{}, &countHandler{})
	f := newFeeder(a, 1, 2)
	f.handshake()
	f.data(0, 100, "x")
	if h := a.MemoryHeld(); h != 1+pieceOverhead {
		t.Fatalf("one tiny segment held costs %d", h)
	}
	// Tiny segments from offset 10 on, in reverse order: every one is held.
	const n = 20000
	for off := int64(n - 10); off >= 10; off -= 10 {
		f.data(0, off, "0123456789")
	}
	c := a.flows.get(f.key.SymmetricHash(), &f.key)
	h := &c.h[0]
	if pagesInUse(h) == 0 {
		t.Fatal("no pages used")
	}
	pages := int64(pagesInUse(h))
	if pages > n/pageSize+2 {
		t.Errorf("%d pages for %d bytes", pages, n)
	}
	if got, want := a.MemoryHeld(), h.heldCost(); got != want || want < pages*pageSize {
		t.Errorf("held %d, stream %d, pages %d", got, want, pages)
	}
	f.data(0, 0, "0123456789")
	if pagesInUse(h) != 0 || a.MemoryHeld() != 0 || h.holding() {
		t.Errorf("after delivery: %d pages, %d held, holding %v", pagesInUse(h), a.MemoryHeld(), h.holding())
	}
	if h.next != n {
		t.Errorf("next %d", h.next)
	}
}

// pagesInUse is the number of pages h's held store uses.
func pagesInUse(h *half) int {
	if h.held == nil {
		return 0
	}
	return h.held.pages.n
}
