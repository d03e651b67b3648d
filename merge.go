package reseq

import (
	"io"
	"math"
)

// Several sources are merged with a binary min-heap on (timestamp, input
// order). A source's packet stays in its format reader's buffer until it has
// been returned: the source is read again only at the following call to Next,
// when the caller is done with that packet. So nothing is copied, and a
// source's Data is never overwritten while it waits in the heap.

func (r *Reader) nextConcat() (Packet, error) {
	for r.cur < len(r.sources) {
		s := r.sources[r.cur]
		var ok bool
		var err error
		if s.asleep {
			s.asleep = false
			ok, err = r.wake(s)
		} else {
			ok, err = s.step()
		}
		if s.done {
			r.cur++
		}
		if err != nil {
			return Packet{}, err
		}
		if ok {
			s.head.Index = r.index
			r.index++
			if t := s.head.Timestamp; t == math.MaxInt64 || t == math.MinInt64 {
				return r.outOfRange(s.capture, s.head, s.fr.offset())
			}
			return s.head, nil
		}
	}
	return Packet{}, io.EOF
}

func (r *Reader) nextMerge() (Packet, error) {
	// Read the next packet of every source whose previous packet was returned
	// (or, on the first call, of every source): only now is its data free.
	for len(r.advance) > 0 {
		s := r.advance[len(r.advance)-1]
		r.advance = r.advance[:len(r.advance)-1]
		ok, err := s.step()
		if ok {
			r.push(s)
		} else if err != nil && !s.done {
			r.advance = append(r.advance, s)
		}
		if err != nil {
			return Packet{}, err
		}
	}
	// Wake the dormant sources whose first packet sorts before the best one
	// at hand.
	for len(r.dormant) > 0 {
		d := r.dormant[0]
		if len(r.heap) > 0 && !(d.first < r.heap[0].head.Timestamp || d.first == r.heap[0].head.Timestamp && d.order < r.heap[0].order) {
			break
		}
		r.dormant = r.dormant[1:]
		ok, err := r.wake(d)
		if ok {
			r.push(d)
		}
		if err != nil {
			if !d.done {
				r.advance = append(r.advance, d)
			}
			return Packet{}, err
		}
	}
	if len(r.heap) == 0 {
		return Packet{}, io.EOF
	}
	s := r.pop()
	r.advance = append(r.advance, s)
	s.head.Index = r.index
	r.index++
	if t := s.head.Timestamp; t == math.MaxInt64 || t == math.MinInt64 {
		return r.outOfRange(s.capture, s.head, s.fr.offset())
	}
	return s.head, nil
}

func (a *source) less(b *source) bool {
	return a.head.Timestamp < b.head.Timestamp ||
		a.head.Timestamp == b.head.Timestamp && a.order < b.order
}

func (r *Reader) push(s *source) {
	h := append(r.heap, s)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	r.heap = h
}

func (r *Reader) pop() *source {
	h := r.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = nil
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if l+1 < n && h[l+1].less(h[l]) {
			m = l + 1
		}
		if !h[m].less(h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	r.heap = h
	return top
}
