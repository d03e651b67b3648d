package tcpasm

// This file holds the intrusive lists of stream directions (holders of
// bytes, acked holes waiting for their allowance).

// halfLink is a stream direction's place in one of the half lists.
type halfLink struct {
	prev, next *half
	in         bool
}

// The half lists; each uses its own link of the half (see link).
const (
	holdersList = iota // directions holding bytes
	pendingList        // directions with an acked hole waiting for its allowance
)

// halfList is an intrusive list of stream directions through their link k.
type halfList struct {
	front, back *half
	k           int
}

// link returns h's link for the list: its held store's for the holders (a
// direction holds bytes only in its store; nil when it has none, so it is in
// no holders list), its extra state's for the pending (nil when it has
// none, so it is in no pending list).
func (l *halfList) link(h *half) *halfLink {
	if l.k == holdersList {
		if h.held == nil {
			return nil
		}
		return &h.held.holder
	}
	if h.x == nil {
		return nil // not pending: its link is in its extra state
	}
	return &h.x.pendingLink
}

func (l *halfList) pushBack(h *half) {
	lk := l.link(h)
	lk.in = true
	lk.prev, lk.next = l.back, nil
	if l.back != nil {
		l.link(l.back).next = h
	} else {
		l.front = h
	}
	l.back = h
}

// remove takes h out of the list; it does nothing when h is not in it.
func (l *halfList) remove(h *half) {
	lk := l.link(h)
	if lk == nil || !lk.in {
		return
	}
	if lk.prev != nil {
		l.link(lk.prev).next = lk.next
	} else {
		l.front = lk.next
	}
	if lk.next != nil {
		l.link(lk.next).prev = lk.prev
	} else {
		l.back = lk.prev
	}
	*lk = halfLink{}
}
