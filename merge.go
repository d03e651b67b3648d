package reseq

// The merge stage: the sources in one sequence, by timestamp or one after
// another (Options.Concat), with the sources that can be reopened kept closed
// until their turn.

import (
	"cmp"
	"io"
	"slices"

	"github.com/reseq/reseq/internal/bufin"
)

// merger sequences the sources. Several sources are merged with a binary
// min-heap on (timestamp, input order). A source's packet stays in its format
// reader's buffer until it has been returned: the source is read again only at
// the following call to next, when the caller is done with that packet. So
// nothing is copied, and a source's Data is never overwritten while it waits
// in the heap.
//
// Invariant (merge, after finish): every source that is not done is in
// exactly one of heap (its head is the next packet it gives), advance (its
// next packet must be read before the next pick) and dormant (asleep, sorted
// by (first, order)). Concat: sources[cur:] are those not read to the end
// yet, asleep until their turn when they can be reopened. While opening, at
// most one source that can be reopened is open and not settled: pending.
type merger struct {
	opt     *Options
	lender  bufin.Lender // see Reader.SetLender
	sources []*source    // in input order
	cur     int          // Concat: index of the current source
	heap    []*source
	advance []*source
	dormant []*source
	pending *source // the source added last, to be settled (see add)
}

// add appends s. A source that can be reopened is settled (see settle) once
// the next one is added, or left to finish when it is the last: so opening an
// archive of many members (or many files) holds at most two of them open at a
// time, whatever their number, and a lone capture is not opened twice.
func (m *merger) add(s *source) {
	m.sources = append(m.sources, s)
	if s.open == nil || s.fr == nil {
		return
	}
	if p := m.pending; p != nil {
		m.settle(p)
	}
	m.pending = s
}

// only returns the source to read without merging, when there is one: a
// single capture that is open.
func (m *merger) only() *source {
	if len(m.sources) == 1 && m.sources[0].fr != nil {
		return m.sources[0]
	}
	return nil
}

// finish prepares the sequence once every source was added.
func (m *merger) finish() {
	m.pending = nil
	if !m.opt.Concat {
		for i, s := range m.sources {
			s.order = i
			if s.settled {
				continue
			}
			if s.open != nil && s.fr != nil {
				m.settle(s)
			} else {
				m.advance = append(m.advance, s)
			}
		}
		m.heap = make([]*source, 0, len(m.sources))
		slices.SortFunc(m.dormant, func(a, b *source) int {
			return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.order, b.order))
		})
		return
	}
	// Concat: only the capture being read is open.
	for _, s := range m.sources {
		if s.open != nil && s.fr != nil && !s.settled {
			m.settle(s)
		}
	}
}

// settle closes a source that can be reopened until its turn: in a merge
// after reading its first packet's timestamp (putToSleep), in Concat at once.
func (m *merger) settle(s *source) {
	s.settled = true
	if m.opt.Concat {
		s.sleep()
		s.asleep = true
		return
	}
	m.putToSleep(s)
}

// putToSleep reads the first packet of a source that can be reopened, notes
// its timestamp and closes it: a merge of many files (a rotated set) then
// holds open only the files whose time has come. The source is woken when the
// merge reaches that timestamp. A source that is empty or broken at its first
// packet is settled at once.
func (m *merger) putToSleep(s *source) {
	ok, err := s.step()
	if !ok {
		if err != nil {
			s.err, s.done = err, false // reported at the first call to next
			m.advance = append(m.advance, s)
		}
		return
	}
	s.first = s.head.Timestamp
	s.sleep()
	m.dormant = append(m.dormant, s)
}

// setLender gives l to the sources open now; those opened later get it in
// wake.
func (m *merger) setLender(l bufin.Lender) {
	m.lender = l
	for _, s := range m.sources {
		if s.fr != nil {
			s.fr.setLender(l)
		}
	}
}

// next returns the source whose head is the next packet, or an error: an
// *InputError of a broken source (calling next again continues with the
// others), io.EOF at the end.
func (m *merger) next() (*source, error) {
	if m.opt.Concat {
		return m.nextConcat()
	}
	return m.nextMerge()
}

func (m *merger) nextConcat() (*source, error) {
	for m.cur < len(m.sources) {
		s := m.sources[m.cur]
		var ok bool
		var err error
		if s.asleep {
			s.asleep = false
			ok, err = s.wake(m.opt, m.lender)
		} else {
			ok, err = s.step()
		}
		if s.done {
			m.cur++
		}
		if err != nil {
			return nil, err
		}
		if ok {
			return s, nil
		}
	}
	return nil, io.EOF
}

func (m *merger) nextMerge() (*source, error) {
	// Read the next packet of every source whose previous packet was returned
	// (or, on the first call, of every source): only now is its data free.
	for len(m.advance) > 0 {
		s := m.advance[len(m.advance)-1]
		m.advance = m.advance[:len(m.advance)-1]
		ok, err := s.step()
		if ok {
			m.push(s)
		} else if err != nil && !s.done {
			m.advance = append(m.advance, s)
		}
		if err != nil {
			return nil, err
		}
	}
	// Wake the dormant sources whose first packet sorts before the best one
	// at hand.
	for len(m.dormant) > 0 {
		d := m.dormant[0]
		if len(m.heap) > 0 && !(d.first < m.heap[0].head.Timestamp || d.first == m.heap[0].head.Timestamp && d.order < m.heap[0].order) {
			break
		}
		m.dormant = m.dormant[1:]
		ok, err := d.wake(m.opt, m.lender)
		if ok {
			m.push(d)
		}
		if err != nil {
			if !d.done {
				m.advance = append(m.advance, d)
			}
			return nil, err
		}
	}
	if len(m.heap) == 0 {
		return nil, io.EOF
	}
	s := m.pop()
	m.advance = append(m.advance, s)
	return s, nil
}

func (a *source) less(b *source) bool {
	return a.head.Timestamp < b.head.Timestamp ||
		a.head.Timestamp == b.head.Timestamp && a.order < b.order
}

func (m *merger) push(s *source) {
	h := append(m.heap, s)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	m.heap = h
}

func (m *merger) pop() *source {
	h := m.heap
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
		c := l
		if l+1 < n && h[l+1].less(h[l]) {
			c = l + 1
		}
		if !h[c].less(h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	m.heap = h
	return top
}
