package tcpasm

// This file holds the intrusive lists of stream directions (holders of
// bytes, acked holes waiting for their allowance).

// halfLink is a stream direction's place in one of the half lists.
type halfLink struct {
	prev, next *half
	in         bool
}

// The half lists; each uses its own link of the half.
const (
	holdersList = iota // directions holding bytes
	pendingList        // directions with an acked hole waiting for its allowance
	numHalfLists
)

// halfList is an intrusive list of stream directions through their link k.
type halfList struct {
	front, back *half
	k           int
}

func (l *halfList) pushBack(h *half) {
	lk := &h.links[l.k]
	lk.in = true
	lk.prev, lk.next = l.back, nil
	if l.back != nil {
		l.back.links[l.k].next = h
	} else {
		l.front = h
	}
	l.back = h
}

// remove takes h out of the list; it does nothing when h is not in it.
func (l *halfList) remove(h *half) {
	lk := &h.links[l.k]
	if !lk.in {
		return
	}
	if lk.prev != nil {
		lk.prev.links[l.k].next = lk.next
	} else {
		l.front = lk.next
	}
	if lk.next != nil {
		lk.next.links[l.k].prev = lk.prev
	} else {
		l.back = lk.prev
	}
	*lk = halfLink{}
}
