package tcpasm

import (
	"math/rand/v2"
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
				if tc.sameTime && h.calls >= n {
					t.Errorf("iter %d: %d Data calls for %d segments of one time: pieces not merged", iter, h.calls, n)
				}
			}
		})
	}
}
