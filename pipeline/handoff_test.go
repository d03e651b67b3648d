package pipeline

import (
	"math/rand"
	"runtime"
	"testing"
)

// parkedNow reports whether the taker of h waits on its wake channel.
func parkedNow(h *handoff) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.parked
}

func TestHandoffDefersWake(t *testing.T) {
	h := newHandoff(3)
	got := make(chan *batch)
	go func() {
		for {
			b, ok := h.get(nil)
			if !ok {
				close(got)
				return
			}
			got <- b
		}
	}()
	for !parkedNow(h) {
		runtime.Gosched()
	}
	bs := []*batch{{packets: 1}, {packets: 2}, {packets: 3}, {packets: 4}}
	h.put(bs[0])
	h.put(bs[1])
	if !parkedNow(h) || len(h.wake) != 0 {
		t.Fatal("the taker was woken before wakeAt batches waited")
	}
	h.put(bs[2])
	for _, want := range bs[:3] {
		if b := <-got; b != want {
			t.Fatalf("got batch %d, want %d", b.packets, want.packets)
		}
	}
	for !parkedNow(h) {
		runtime.Gosched()
	}
	h.put(bs[3])
	if !parkedNow(h) {
		t.Fatal("one batch woke the taker")
	}
	h.kick()
	if b := <-got; b != bs[3] {
		t.Fatalf("after kick got batch %d, want 4", b.packets)
	}
	for !parkedNow(h) {
		runtime.Gosched()
	}
	h.close()
	if _, ok := <-got; ok {
		t.Fatal("got a batch after close")
	}
}

// TestHandoffCirculate runs the stager's protocol: numBatches batches go to
// the taker and back, each side kicking the other's queue before it parks,
// with random pauses on both sides; every batch arrives once and in order,
// and neither side is left parked.
func TestHandoffCirculate(t *testing.T) {
	for seed := int64(0); seed < 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		wake := 1 + rng.Intn(numBatches)
		full, done := newHandoff(wake), newHandoff(wake)
		const total = 5000
		idle := make([]*batch, numBatches)
		for i := range idle {
			idle[i] = &batch{}
		}
		prodSeed := rng.Int63()
		go func() {
			r := rand.New(rand.NewSource(prodSeed))
			for i := int64(1); i <= total; i++ {
				for len(idle) == 0 {
					b, ok := done.get(full.kick)
					if !ok {
						panic("done closed")
					}
					idle = append(idle, b)
				}
				b := idle[len(idle)-1]
				idle = idle[:len(idle)-1]
				b.packets = i
				full.put(b)
				if r.Intn(8) == 0 {
					runtime.Gosched()
				}
			}
			full.close()
		}()
		want := int64(1)
		for {
			b, ok := full.get(done.kick)
			if !ok {
				break
			}
			if b.packets != want {
				t.Fatalf("seed %d: got batch %d, want %d", seed, b.packets, want)
			}
			want++
			if rng.Intn(8) == 0 {
				runtime.Gosched()
			}
			done.put(b)
		}
		if want != total+1 {
			t.Fatalf("seed %d: %d batches arrived, want %d", seed, want-1, total)
		}
	}
}
