package tcpasm

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The block list against a plain sorted slice: random inserts at the place
// find names, removals anywhere, pops from the front.
func TestHeldListMatchesSortedSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var fl freeLists
	for iter := 0; iter < 50; iter++ {
		var l heldList
		var ref []int64 // offsets of unit pieces [o, o+1)
		for step := 0; step < 3000; step++ {
			switch op := rng.IntN(10); {
			case op < 6:
				o := int64(rng.IntN(5000))
				if _, ok := slices.BinarySearch(ref, o); ok {
					continue
				}
				p := l.find(o)
				if pc := l.at(p); pc != nil && pc.off <= o {
					t.Fatalf("find(%d) returned a piece at %d covering it, but ref says free", o, pc.off)
				}
				l.insert(p, piece{off: o, n: 1}, &fl)
				i, _ := slices.BinarySearch(ref, o)
				ref = slices.Insert(ref, i, o)
			case op < 8 && len(ref) > 0:
				i := rng.IntN(len(ref))
				p := l.find(ref[i])
				if pc := l.at(p); pc == nil || pc.off != ref[i] {
					t.Fatalf("find(%d) did not find the piece", ref[i])
				}
				l.remove(p, &fl)
				ref = slices.Delete(ref, i, i+1)
			case len(ref) > 0:
				if f := l.first(); f.off != ref[0] {
					t.Fatalf("first %d, want %d", f.off, ref[0])
				}
				l.popFirst(&fl)
				ref = ref[1:]
			}
			if l.n != len(ref) {
				t.Fatalf("n %d, want %d", l.n, len(ref))
			}
		}
		// Walk in order.
		i := 0
		for bi := range l.blocks {
			b := l.blocks[bi]
			if b.len() == 0 {
				t.Fatalf("empty block kept")
			}
			for _, pc := range b.p[b.lo:b.hi] {
				if i >= len(ref) || pc.off != ref[i] {
					t.Fatalf("piece %d at %d, want %v", i, pc.off, ref[i:min(i+1, len(ref))])
				}
				i++
			}
		}
		if i != len(ref) {
			t.Fatalf("walked %d of %d", i, len(ref))
		}
	}
}

func TestFreeListsSizeClasses(t *testing.T) {
	var f freeLists
	for _, n := range []int{1, 64, 65, 1000, 1500, 65536} {
		ref := f.hold(make([]byte, n))
		if len(f.bytes(ref)) != n {
			t.Errorf("hold(%d): %d bytes", n, len(f.bytes(ref)))
		}
		f.release(ref)
		b := f.get(n)
		if len(b) != n || cap(b) < n || cap(b)&(cap(b)-1) != 0 {
			t.Errorf("get(%d): len %d cap %d", n, len(b), cap(b))
		}
		f.put(b)
		if c := f.get(n); cap(c) != cap(b) || &c[:1][0] != &b[:1][0] {
			t.Errorf("get(%d) after put did not reuse the buffer", n)
		}
	}
	if b := f.get(maxPooled + 1); len(b) != maxPooled+1 {
		t.Errorf("big get: %d", len(b))
	}
}
