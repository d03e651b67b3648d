package framing

import (
	"bytes"
	"testing"
)

// TestBudgetBoundsFramers: many framers whose consumer never consumes share
// a Budget far smaller than their MaxHeld allows together: between calls
// the buffers they keep never take more than the budget plus one segment's
// growth, every byte is held or counted dropped, the refusals are counted,
// and ending the streams releases everything charged.
func TestBudgetBoundsFramers(t *testing.T) {
	const (
		framers = 50
		maxHeld = 64 << 10
		budget  = 256 << 10 // 50 framers at MaxHeld would keep 3.2 MiB
	)
	b := &Budget{Max: budget}
	seg := bytes.Repeat([]byte("z"), 1000)
	fs := make([]*Framer, framers)
	for i := range fs {
		c := &funcs{data: func(c *Chunk) (int, bool) { return 0, false }}
		fs[i] = New(c, Config{MaxHeld: maxHeld, Budget: b}, true)
	}
	fed := 0
	for round := 0; round < 200; round++ {
		for _, f := range fs {
			f.Data(int64(round*len(seg)), seg, int64(round))
			fed += len(seg)
			// A buffer grows by appending before the offer that finds it
			// over the budget gives it up: one segment's growth, doubled by
			// append, at most.
			if b.Used() > budget+4*int64(len(seg)) {
				t.Fatalf("round %d: budget used %d > %d", round, b.Used(), budget)
			}
		}
	}
	var held, dropped int64
	for _, f := range fs {
		held += int64(f.Held())
		dropped += f.Stats().Dropped
	}
	if held+dropped != int64(fed) {
		t.Fatalf("held %d + dropped %d != fed %d", held, dropped, fed)
	}
	if b.Refused() == 0 || b.Peak() < budget/2 {
		t.Fatalf("refused %d, peak %d: the budget never bound", b.Refused(), b.Peak())
	}
	for _, f := range fs {
		f.End(0, 0)
	}
	if b.Used() != 0 {
		t.Fatalf("after End: %d bytes still charged", b.Used())
	}
}

// TestBudgetNil: a nil Budget, or one with Max 0, bounds nothing.
func TestBudgetNil(t *testing.T) {
	var b *Budget
	b.Charge(10)
	if !b.Fits(1<<40) || b.Used() != 0 || b.Refused() != 0 {
		t.Fatal("nil budget bounded something")
	}
	free := &Budget{}
	if !free.Fits(1 << 40) {
		t.Fatal("Max 0 bounded")
	}
}

// BenchmarkFramerBudget: what charging a Budget costs a framer per Data call
// (records of 100 bytes in segments of 1000 that split them, so that a
// remainder is held after every call).
func BenchmarkFramerBudget(b *testing.B) {
	var stream []byte
	for len(stream) < 1<<20 {
		stream = append(stream, rec(string(bytes.Repeat([]byte("x"), 95)))...)
	}
	for _, name := range []string{"none", "budget"} {
		b.Run(name, func(b *testing.B) {
			cfg := Config{}
			if name == "budget" {
				cfg.Budget = &Budget{Max: 1 << 30}
			}
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				f := New(&recs{}, cfg, true)
				for off := 0; off < len(stream); off += 1000 {
					f.Data(int64(off), stream[off:min(off+1000, len(stream))], int64(off))
				}
				f.End(0, 0)
			}
		})
	}
}
