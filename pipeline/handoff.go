package pipeline

import "sync"

// handoff passes batches from one goroutine to the other, in order. Waking a
// parked goroutine costs a futex call and, on a virtual machine, an interrupt
// to the other vCPU (about 10 µs measured on a 2-vCPU KVM guest: a wake per
// batch of 256 segments was a tenth of a pass), so put wakes a parked taker
// only once wakeAt batches wait; the giver calls kick before it waits for
// anything itself, and close at its end.
type handoff struct {
	mu     sync.Mutex
	q      []*batch // a ring: n batches from head
	head   int
	n      int
	parked bool // the taker waits on wake
	closed bool
	wakeAt int
	wake   chan struct{} // capacity 1: at most one wake is pending
}

func newHandoff(wakeAt int) *handoff { return newHandoffSize(wakeAt, numBatches) }

// newHandoffSize makes a handoff for at most size batches in flight.
func newHandoffSize(wakeAt, size int) *handoff {
	return &handoff{wakeAt: wakeAt, q: make([]*batch, size), wake: make(chan struct{}, 1)}
}

// put queues b (there are only as many batches as the ring holds: it never
// overflows), waking the taker when it is parked and wakeAt batches wait.
func (h *handoff) put(b *batch) {
	h.mu.Lock()
	h.q[(h.head+h.n)%len(h.q)] = b
	h.n++
	h.unlockWaking(h.wakeAt)
}

// kick wakes the taker when it is parked and any batch waits.
func (h *handoff) kick() {
	h.mu.Lock()
	h.unlockWaking(1)
}

// close ends the queue: get returns false once it is empty.
func (h *handoff) close() {
	h.mu.Lock()
	h.closed = true
	h.unlockWaking(0)
}

// unlockWaking unlocks h.mu, which the caller holds, and wakes the taker when
// it is parked and least or more batches wait.
func (h *handoff) unlockWaking(least int) {
	w := h.parked && h.n >= least
	if w {
		h.parked = false
	}
	h.mu.Unlock()
	if w {
		h.wake <- struct{}{}
	}
}

// get takes the oldest batch, parking while none waits; false once the queue
// is closed and empty. Before parking it calls idle (when not nil), which
// must not block.
func (h *handoff) get(idle func()) (*batch, bool) {
	for {
		h.mu.Lock()
		if h.n > 0 {
			b := h.q[h.head]
			h.q[h.head] = nil
			h.head, h.n = (h.head+1)%len(h.q), h.n-1
			h.mu.Unlock()
			return b, true
		}
		if h.closed {
			h.mu.Unlock()
			return nil, false
		}
		h.parked = true
		h.mu.Unlock()
		if idle != nil {
			idle()
		}
		<-h.wake
	}
}
