package main

import (
	"cmp"
	"slices"
)

// Event kinds of a direction's time-sequence detail.
const (
	evData     uint8 = iota // a captured segment carrying new bytes: [a, b)
	evRetrans               // a captured segment re-carrying bytes seen before
	evLate                  // bytes that filled a gap already reported
	evGap                   // a gap [a, b) declared at t, with its reason
	evConflict              // retransmitted bytes that differ
	evAck                   // the peer's ACK a and its window edge b (a + unscaled window)
	evSACK                  // a SACK block [a, b)
	numKinds
)

// reportEvent is one observation in a direction's detail. After reduction
// one event may stand for many: t is the cell's first time, [a, b) the union
// of their ranges (for evAck: the highest ACK and window edge in the cell).
type reportEvent struct {
	t      int64
	a, b   int64
	n      int64 // evGap: the gap bytes in [a, b) (merged gaps leave bytes between them)
	kind   uint8
	reason uint8
}

const (
	detailEventSize = 48 // bytes per event, with the slice's slack
	// detailCap is how many events a direction holds before its detail is
	// reduced to a coarser grid (halving it at least): a graph is drawn
	// from at most that many events per direction.
	detailCap = 3000
	// The grid the detail is reduced to is about a graph's pixel size.
	gridW = 900
	gridH = 400
)

// reportDetail is a direction's detail, reduced to pixel resolution on the
// fly: events of one kind in the same time cell whose ranges touch within
// one offset cell are merged.
type reportDetail struct {
	ev         []reportEvent
	dt, dOff   int64 // cell size; 0 until the first reduction
	last       [numKinds]int32
	t0, tmax   int64
	omin, omax int64
	any        bool
}

func (d *reportDetail) len() int {
	if d == nil {
		return 0
	}
	return len(d.ev)
}

// add records e; it returns the change in the number of events held.
func (d *reportDetail) add(e reportEvent) int {
	if !d.any {
		d.any = true
		d.t0, d.tmax, d.omin, d.omax = e.t, e.t, e.a, e.b
		for i := range d.last {
			d.last[i] = -1
		}
	}
	d.t0, d.tmax = min(d.t0, e.t), max(d.tmax, e.t)
	if e.kind != evAck {
		d.omin = min(d.omin, e.a)
		d.omax = max(d.omax, e.b)
	} else {
		d.omax = max(d.omax, e.a) // the window edge may pass the top
	}
	if d.dt > 0 && d.merge(e) {
		return 0
	}
	d.last[e.kind] = int32(len(d.ev))
	d.ev = append(d.ev, e)
	if len(d.ev) < detailCap {
		return 1
	}
	before := len(d.ev) - 1
	d.reduce()
	return len(d.ev) - before
}

// merge folds e into the last event of its kind when they share a cell.
func (d *reportDetail) merge(e reportEvent) bool {
	i := d.last[e.kind]
	if i < 0 {
		return false
	}
	l := &d.ev[i]
	if (e.t-d.t0)/d.dt != (l.t-d.t0)/d.dt || l.reason != e.reason {
		return false
	}
	if e.kind == evAck {
		l.a, l.b = max(l.a, e.a), max(l.b, e.b)
		return true
	}
	if e.a > l.b+d.dOff || e.b < l.a-d.dOff {
		return false
	}
	l.a, l.b = min(l.a, e.a), max(l.b, e.b)
	l.n += e.n
	return true
}

// reduce coarsens the grid until at most half the cap is held.
func (d *reportDetail) reduce() {
	for len(d.ev) > detailCap/2 {
		d.dt = max(d.dt*2, (d.tmax-d.t0)/gridW+1)
		d.dOff = max(d.dOff*2, (d.omax-d.omin)/gridH+1)
		old := d.ev
		slices.SortStableFunc(old, func(x, y reportEvent) int { return cmp.Compare(x.t, y.t) })
		d.ev = old[:0:len(old)]
		for i := range d.last {
			d.last[i] = -1
		}
		for _, e := range old {
			if d.merge(e) {
				continue
			}
			d.last[e.kind] = int32(len(d.ev))
			d.ev = append(d.ev, e)
		}
	}
}

// addEvent records e in ds's detail when it is kept, within the budget of
// live detail.
func (r *reportCollector) addEvent(rc *reportConn, ds *reportDir, e reportEvent) {
	if ds.detail == nil {
		return
	}
	r.events += int64(ds.detail.add(e))
	if r.want == nil && r.events > r.maxEvent && rc.closed == 0 {
		r.shrink()
	}
}

// shrink lets go of the detail of the live connections least likely to
// enter the top N until a quarter of the budget is free. Such a connection
// keeps its counters; should it still enter the top N, its graph says that
// its detail was let go.
func (r *reportCollector) shrink() {
	type cand struct {
		rc    *reportConn
		score [2]int64
	}
	var cs []cand
	for _, rc := range r.live {
		if rc.dirs[0].detail == nil && rc.dirs[1].detail == nil {
			continue
		}
		var sc [2]int64
		for d := range rc.dirs {
			for _, v := range rc.dirs[d].gapBy {
				sc[0] += v
			}
			sc[1] += rc.dirs[d].cursor
		}
		cs = append(cs, cand{rc, sc})
	}
	slices.SortFunc(cs, func(a, b cand) int {
		if c := cmp.Compare(a.score[0], b.score[0]); c != 0 {
			return c
		}
		return cmp.Compare(a.score[1], b.score[1])
	})
	for _, c := range cs {
		if r.events <= r.maxEvent*3/4 {
			break
		}
		for d := range c.rc.dirs {
			ds := &c.rc.dirs[d]
			r.events -= int64(ds.detail.len())
			ds.detail = nil
			ds.detailLost = true
		}
	}
}
