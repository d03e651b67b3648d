package framing

import "github.com/reseq/reseq/tcpasm"

// Pairer matches the messages one direction of a connection sends (requests)
// with the messages the other direction answers them with (responses), in
// order, using capture times: an answer pairs with the oldest pending request
// of the other direction sent at or before it. After loss in the answering
// direction (answers may have been lost with it) an answer pairs with the latest
// such request instead, and the requests before it are given up as unanswered.
// The zero value is ready to use.
type Pairer[T any] struct {
	q [2]queue[T]
	// Unanswered, when set, receives the requests given up.
	Unanswered func(v T)
}

type queue[T any] struct {
	items []item[T]
	head  int
}

type item[T any] struct {
	v  T
	ts int64
}

// Push queues a request sent by direction dir at capture time ts.
func (p *Pairer[T]) Push(dir tcpasm.Direction, v T, ts int64) {
	q := &p.q[dir&1]
	if q.head > 0 && q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	q.items = append(q.items, item[T]{v, ts})
}

// Len returns how many requests direction dir sent that await an answer.
func (p *Pairer[T]) Len(dir tcpasm.Direction) int {
	q := &p.q[dir&1]
	return len(q.items) - q.head
}

// Pop returns the request an answer sent by direction dir at capture time ts
// answers. afterLoss says the answering direction lost bytes since its last
// answer. ok is false when no pending request was sent at or before ts.
func (p *Pairer[T]) Pop(dir tcpasm.Direction, ts int64, afterLoss bool) (v T, ok bool) {
	q := &p.q[(dir^1)&1]
	if q.head == len(q.items) || q.items[q.head].ts > ts {
		return v, false
	}
	if afterLoss {
		for q.head+1 < len(q.items) && q.items[q.head+1].ts <= ts {
			p.give(q.items[q.head].v)
			q.items[q.head] = item[T]{}
			q.head++
		}
	}
	v = q.items[q.head].v
	q.items[q.head] = item[T]{}
	q.head++
	return v, true
}

// PopBetween is Pop after loss for an answer whose capture time is only known
// to lie in (lo, hi]: its first byte came after bytes captured at lo (the rest
// of an earlier answer) in one late delivery. Without pipelining a request is
// sent after the answer before it ended, so the answer pairs with the oldest
// request sent after lo (and at or before hi); the requests before it are
// given up. When no request was sent after lo it pairs as Pop after loss at hi.
func (p *Pairer[T]) PopBetween(dir tcpasm.Direction, lo, hi int64) (v T, ok bool) {
	q := &p.q[(dir^1)&1]
	i := q.head
	for i < len(q.items) && q.items[i].ts <= lo {
		i++
	}
	if i == len(q.items) || q.items[i].ts > hi {
		return p.Pop(dir, hi, true)
	}
	for q.head < i {
		p.give(q.items[q.head].v)
		q.items[q.head] = item[T]{}
		q.head++
	}
	v = q.items[q.head].v
	q.items[q.head] = item[T]{}
	q.head++
	return v, true
}

// Peek returns what Pop would, without removing anything.
func (p *Pairer[T]) Peek(dir tcpasm.Direction, ts int64, afterLoss bool) (v T, ok bool) {
	q := &p.q[(dir^1)&1]
	if q.head == len(q.items) || q.items[q.head].ts > ts {
		return v, false
	}
	i := q.head
	if afterLoss {
		for i+1 < len(q.items) && q.items[i+1].ts <= ts {
			i++
		}
	}
	return q.items[i].v, true
}

func (p *Pairer[T]) give(v T) {
	if p.Unanswered != nil {
		p.Unanswered(v)
	}
}

// GiveUpOldest gives up the oldest pending request direction dir sent, to
// Unanswered, and reports whether there was one (to bound what is pending).
func (p *Pairer[T]) GiveUpOldest(dir tcpasm.Direction) bool {
	q := &p.q[dir&1]
	if q.head == len(q.items) {
		return false
	}
	v := q.items[q.head].v
	q.items[q.head] = item[T]{}
	q.head++
	p.give(v)
	return true
}

// Drain gives up every pending request of both directions, oldest first per
// direction, to Unanswered.
func (p *Pairer[T]) Drain() {
	for d := range p.q {
		q := &p.q[d]
		for ; q.head < len(q.items); q.head++ {
			p.give(q.items[q.head].v)
			q.items[q.head] = item[T]{}
		}
		q.items, q.head = q.items[:0], 0
	}
}
