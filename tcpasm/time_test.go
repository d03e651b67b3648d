package tcpasm

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// timeHandler records, for every delivered byte, the capture time Data or
// Late reported for it.
type timeHandler struct {
	nopHandler
	at    map[int64]int64
	calls int
}

func (h *timeHandler) Data(s *Stream, off int64, d []byte, ts int64) {
	if s.Dir != ClientToServer {
		return
	}
	h.calls++
	for i := range d {
		h.at[off+int64(i)] = ts
	}
}

func (h *timeHandler) Late(s *Stream, off int64, d []byte, ts int64) { h.Data(s, off, d, ts) }

// Held bytes are delivered with the capture time of the segment that carried
// them, also when several segments' bytes are held side by side (first copy
// wins: a byte's time is that of its first arrival). Segments of one capture
// time may share a delivery.
func TestDataTimeIsItsSegments(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sameTime bool // every segment carries the same capture time
	}{{"distinct times", false}, {"one time", true}} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			for iter := 0; iter < 50; iter++ {
				h := &timeHandler{at: map[int64]int64{}}
				a := New(Config{}, h)
				f := newFeeder(a, 77, 88)
				if tc.sameTime {
					f.step = 0
				}
				f.handshake()
				const n = 40
				order := rng.Perm(n)
				want := map[int64]int64{}
				for _, i := range order {
					// Segments of 3..9 bytes at offsets 5*i: neighbours
					// overlap or touch, so pieces sit side by side.
					size := 3 + rng.IntN(7)
					off := int64(5 * i)
					p := make([]byte, size)
					for k := range p {
						p[k] = byte(off + int64(k))
					}
					for k := range size {
						if _, ok := want[off+int64(k)]; !ok {
							want[off+int64(k)] = f.ts
						}
					}
					f.data(0, off, string(p))
				}
				a.Close()
				if len(h.at) != len(want) {
					t.Fatalf("iter %d: %d bytes delivered, %d sent", iter, len(h.at), len(want))
				}
				for o, ts := range want {
					if h.at[o] != ts {
						t.Fatalf("iter %d: byte %d delivered with time %d, its segment's is %d", iter, o, h.at[o], ts)
					}
				}
			}
		})
	}
}

// Touching segments of different packets share one held piece (one buffer,
// one piece overhead, a seam each), and are still delivered one Data call per
// segment with its own time.
func TestMergedPiecesKeepSegments(t *testing.T) {
	h := &timeHandler{at: map[int64]int64{}}
	a := New(Config{}, h)
	f := newFeeder(a, 5, 6)
	f.handshake()
	var times []int64
	for i := 1; i <= 4; i++ {
		times = append(times, f.ts)
		f.data(0, int64(10*i), "0123456789")
	}
	if got, want := a.MemoryHeld(), int64(40+pieceOverhead+3*seamOverhead); got != want {
		t.Errorf("held %d, want %d (one piece, three seams)", got, want)
	}
	calls := h.calls
	t0 := f.ts
	f.data(0, 0, "abcdefghij")
	if a.MemoryHeld() != 0 || h.calls-calls != 5 {
		t.Fatalf("held %d, %d Data calls after the hole filled (want 5)", a.MemoryHeld(), h.calls-calls)
	}
	for o := int64(0); o < 50; o++ {
		want := t0
		if o >= 10 {
			want = times[o/10-1]
		}
		if h.at[o] != want {
			t.Errorf("byte %d: time %d, want %d", o, h.at[o], want)
		}
	}
}

// A conflict inside a merged piece names the packet that carried the kept
// byte, not the piece's first.
func TestMergedPieceConflictNamesItsPacket(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 5, 6)
	f.handshake()
	f.data(0, 10, "0123456789")
	second, secondTime := f.idx, f.ts
	f.data(0, 20, "abcdefghij")
	f.data(0, 20, "abcdeXghij") // differs at 25
	c := r.stream(0, ClientToServer).confl
	if len(c) != 1 || c[0].Offset != 25 || c[0].Length != 1 || c[0].KeptIndex != second || c[0].KeptTime != secondTime {
		t.Errorf("conflicts %+v, want one at 25 kept from packet %d", c, second)
	}
	a.Close()
	r.allClosed()
}

// A retransmission that differs from the held bytes of two packets (joined in
// one piece) gives a Conflict for each, naming each packet.
func TestConflictPerKeptPacket(t *testing.T) {
	for _, ow := range []Overlap{FirstWins, LastWins} {
		r := newRecorder(t)
		a := New(Config{Overlap: ow}, r)
		f := newFeeder(a, 5, 6)
		f.handshake()
		first := f.idx
		f.data(0, 10, "0123456789")
		second := f.idx
		f.data(0, 20, "abcdefghij")
		third := f.idx
		f.data(0, 12, "23X56789abcdefYh") // differs at 14 and 26
		c := r.stream(0, ClientToServer).confl
		want := []Conflict{
			{Offset: 14, Length: 1, KeptIndex: first, DroppedIndex: third},
			{Offset: 26, Length: 1, KeptIndex: second, DroppedIndex: third},
		}
		if ow == LastWins {
			for i := range want {
				want[i].KeptIndex, want[i].DroppedIndex = want[i].DroppedIndex, want[i].KeptIndex
			}
		}
		for i := range c {
			c[i].KeptTime, c[i].DroppedTime = 0, 0
		}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("%v: conflicts %+v, want %+v", ow, c, want)
		}
		a.Close()
		r.allClosed()
	}
}

// Under last-wins, held bytes a later packet replaced are delivered with that
// packet's time; the bytes around them keep theirs.
func TestLastWinsReplacedBytesTime(t *testing.T) {
	h := &timeHandler{at: map[int64]int64{}}
	a := New(Config{Overlap: LastWins}, h)
	f := newFeeder(a, 5, 6)
	f.handshake()
	tA := f.ts
	f.data(0, 10, "0123456789")
	tB := f.ts
	f.data(0, 20, "abcdefghij")
	tC := f.ts
	f.data(0, 22, "XYZ")
	if got, want := a.MemoryHeld(), int64(20+pieceOverhead+3*seamOverhead); got != want {
		t.Errorf("held %d, want %d (one piece, seams at 20, 22, 25)", got, want)
	}
	tD := f.ts
	f.data(0, 0, "ABCDEFGHIJ")
	want := func(o int64) int64 {
		switch {
		case o < 10:
			return tD
		case o < 20:
			return tA
		case o >= 22 && o < 25:
			return tC
		}
		return tB
	}
	for o := int64(0); o < 30; o++ {
		if h.at[o] != want(o) {
			t.Errorf("byte %d: time %d, want %d", o, h.at[o], want(o))
		}
	}
	if a.MemoryHeld() != 0 {
		t.Errorf("held %d after delivery", a.MemoryHeld())
	}
}

// byteTimeHandler records each delivered byte's value and reported time.
type byteTimeHandler struct {
	nopHandler
	val map[int64]byte
	at  map[int64]int64
}

func (h *byteTimeHandler) Data(s *Stream, off int64, d []byte, ts int64) {
	if s.Dir != ClientToServer {
		return
	}
	for i, b := range d {
		h.val[off+int64(i)] = b
		h.at[off+int64(i)] = ts
	}
}

func (h *byteTimeHandler) Late(s *Stream, off int64, d []byte, ts int64) { h.Data(s, off, d, ts) }

// Whatever the overlap policy, every delivered byte is the byte that the
// segment of its reported time carried at that offset: random overlapping
// segments with differing contents, in random order.
func TestDeliveredByteMatchesItsSegment(t *testing.T) {
	for _, pol := range []Overlap{FirstWins, LastWins} {
		rng := rand.New(rand.NewPCG(9, uint64(pol)))
		for iter := 0; iter < 100; iter++ {
			h := &byteTimeHandler{val: map[int64]byte{}, at: map[int64]int64{}}
			a := New(Config{Overlap: pol}, h)
			f := newFeeder(a, 11, 12)
			f.handshake()
			type sent struct {
				off int64
				p   []byte
			}
			byTime := map[int64]sent{}
			for k := 0; k < 30; k++ {
				off := int64(rng.IntN(60))
				if k == 29 {
					off = 0
				}
				p := make([]byte, 1+rng.IntN(12))
				for i := range p {
					p[i] = "ab"[rng.IntN(2)]
				}
				byTime[f.ts] = sent{off, p}
				f.data(0, off, string(p))
			}
			a.Close()
			for o, v := range h.val {
				s, ok := byTime[h.at[o]]
				if !ok || o < s.off || o >= s.off+int64(len(s.p)) || s.p[o-s.off] != v {
					t.Fatalf("policy %d iter %d: byte %d (%q) reported with time %d, whose segment %+v did not carry it", pol, iter, o, v, h.at[o], s)
				}
			}
		}
	}
}
