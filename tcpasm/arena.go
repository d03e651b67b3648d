package tcpasm

import (
	"math/bits"
	"unsafe"
)

// This file holds the Assembler's arena (freeLists): the byte buffers held
// copies live in, named by handles, with the seams where a later segment's
// bytes continue a buffer; retention rings; slabs of connections and retain
// records; free held-list blocks, held lists and duplicate-detection rings.

// Buffer size classes: 64 B << k, k < numClasses (64 B .. 64 KiB). Larger
// copies are allocated to size and left to the collector.
const (
	minClassShift = 6
	numClasses    = 11
	maxPooled     = 1 << (minClassShift + numClasses - 1)
	// maxFreeBytes bounds the bytes kept in the free lists.
	maxFreeBytes = 8 << 20
	maxFreeBlock = 256
	// slabSize: buffers up to slabSize/16 bytes are carved from slabs.
	slabSize = 64 << 10
)

// freeLists recycles copy buffers and held-list blocks. They are owned by one
// Assembler; no locking, no sync.Pool. Held pieces name their buffers by a
// handle into store.
type freeLists struct {
	bufs        [numClasses][][]byte
	free        int64
	blocks      []*block
	slab        []byte     // the unused rest of the current slab
	store       [][]byte   // buffers in use, by handle-1
	seams       []seamList // by handle-1: where the bytes of later segments start in a buffer
	seamPool    []seamNode // the nodes of every seam list; [0] unused
	seamFree    uint32     // the first free node, 0 when none
	scratch     []seam
	slots       []uint32              // free handles
	rings       [ringClasses][][]byte // free retention buffers by log2 of their size
	connSlab    []conn                // conns not handed out yet
	connSlabs   int                   // the length of the next conn slab
	retainSlab  []retain              // retain records not handed out yet
	retainSlabs int                   // the length of the next retain slab
	extraSlab   []extra               // extra records not handed out yet
	extraSlabs  int                   // the length of the next extra slab
	ringSlab    []byte                // the unused rest of the current ring slab
	ringsMade   int                   // retention buffers allocated
	retains     []*retain
	pageRings   [][][]byte // free rings of page stores
	sigRings    []*sigRing // free duplicate-detection rings
	lists       []*heldList
	pasts       []*past
	extras      []*extra
	sigRingsOut int // rings, lists, pasts and extras in use (counted in MaxMemory)
	listsOut    int
	pastsOut    int
	extrasOut   int
}

// getExtra returns a cleared extra.
func (f *freeLists) getExtra() *extra {
	f.extrasOut++
	if x, ok := pop(&f.extras); ok {
		return x
	}
	return fromSlab(&f.extraSlab, &f.extraSlabs, maxExtraSlab)
}

// putExtra takes back an extra (its suspects dropped, out of the pending list).
func (f *freeLists) putExtra(x *extra) {
	f.extrasOut--
	*x = extra{}
	f.extras = append(f.extras, x)
}

// getPast returns a cleared past.
func (f *freeLists) getPast() *past {
	f.pastsOut++
	if p, ok := pop(&f.pasts); ok {
		return p
	}
	return new(past)
}

// putPast takes back a past (its window given back already).
func (f *freeLists) putPast(p *past) {
	f.pastsOut--
	*p = past{}
	f.pasts = append(f.pasts, p)
}

// getList returns an empty held list.
func (f *freeLists) getList() *heldList {
	f.listsOut++
	if l, ok := pop(&f.lists); ok {
		return l
	}
	return new(heldList)
}

// pop takes the last element of a free list, clearing its slot.
func pop[T any](l *[]T) (T, bool) {
	var zero T
	n := len(*l)
	if n == 0 {
		return zero, false
	}
	e := (*l)[n-1]
	(*l)[n-1] = zero
	*l = (*l)[:n-1]
	return e, true
}

// putList takes back an empty held list whose pages are given back.
func (f *freeLists) putList(l *heldList) {
	l.blocks, l.ends = nil, nil
	l.pages = pageStore{}
	l.holder = halfLink{}
	l.cost, l.data = 0, 0
	f.listsOut--
	f.lists = append(f.lists, l)
}

// getSigRing returns a ring of packet records (contents unspecified: a
// sigMemory reads only the slots it wrote).
func (f *freeLists) getSigRing() *sigRing {
	f.sigRingsOut++
	if r, ok := pop(&f.sigRings); ok {
		return r
	}
	return new(sigRing)
}

func (f *freeLists) putSigRing(r *sigRing) {
	f.sigRingsOut--
	f.sigRings = append(f.sigRings, r)
}

// Retention buffers (see retain) are powers of two from minRetain up. Those up
// to ringSlab/16 bytes are carved from slabs (one allocation per many
// streams) once ringsDirect were allocated to size; freed ones are kept for the next stream, without bound: together
// they never exceed the most bytes retained at once, which MaxMemory bounds.
const (
	ringSlab    = 256 << 10
	ringsDirect = 16
	ringClasses = 48
)

// getRing returns a retention buffer of n bytes, a power of two >= minRetain
// (contents unspecified).
func (f *freeLists) getRing(n int) []byte {
	k := bits.Len(uint(n)) - 1
	if l := f.rings[k]; len(l) > 0 {
		b := l[len(l)-1]
		l[len(l)-1] = nil
		f.rings[k] = l[:len(l)-1]
		return b
	}
	// The first few are allocated to size: an Assembler of a few streams
	// allocates little.
	f.ringsMade++
	if n > ringSlab/16 || f.ringsMade <= ringsDirect {
		return make([]byte, n)
	}
	if len(f.ringSlab) < n {
		f.ringSlab = make([]byte, ringSlab)
	}
	b := f.ringSlab[:n:n]
	f.ringSlab = f.ringSlab[n:]
	return b
}

// putRing keeps a retention buffer for reuse.
func (f *freeLists) putRing(b []byte) {
	k := bits.Len(uint(len(b))) - 1
	f.rings[k] = append(f.rings[k], b)
}

// getRetain returns a cleared retain record (its buffer unset).
func (f *freeLists) getRetain() *retain {
	if r, ok := pop(&f.retains); ok {
		return r
	}
	return fromSlab(&f.retainSlab, &f.retainSlabs, maxRetainSlab)
}

// newConn returns a zeroed conn. Conns are never reused (the handler may keep
// pointers to their Conn and Streams), but they are allocated in slabs, so
// that a capture of many connections costs a few allocations, not one per
// connection.
func (f *freeLists) newConn() *conn {
	return fromSlab(&f.connSlab, &f.connSlabs, maxConnSlab)
}

// Slabs of conns, retain records and extra records grow from minSlab
// elements, doubling, to these (at most about 60 KiB each), so that a capture
// of one connection allocates little.
const (
	minSlab       = 4
	maxConnSlab   = 60
	maxRetainSlab = 16
	maxExtraSlab  = 64
)

// fromSlab takes the next zero element of *slab, allocating a new slab, twice
// as long as the last (*made elements) up to limit, when it is used up. A
// slab larger than 32 KiB takes whole 8 KiB pages: its length is stretched to
// fill the last one, not to waste it.
func fromSlab[T any](slab *[]T, made *int, limit int) *T {
	if len(*slab) == 0 {
		n := min(max(*made, minSlab), limit)
		if size := int(unsafe.Sizeof(*new(T))); n*size > 32<<10 {
			n = (n*size + 8<<10 - 1) &^ (8<<10 - 1) / size
		}
		*slab = make([]T, n)
		*made = 2 * n
	}
	e := &(*slab)[0]
	*slab = (*slab)[1:]
	return e
}

// putRetain gives back a retain record and its buffer.
func (f *freeLists) putRetain(r *retain) {
	f.putRing(r.buf)
	r.buf = nil
	r.drop()
	r.from, r.top, r.nrec = 0, 0, 0
	f.retains = append(f.retains, r)
}

func sizeClass(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minClassShift
}

// get returns a buffer of length n.
func (f *freeLists) get(n int) []byte {
	if n > maxPooled {
		return make([]byte, n)
	}
	c := sizeClass(n)
	if l := f.bufs[c]; len(l) > 0 {
		b := l[len(l)-1]
		l[len(l)-1] = nil
		f.bufs[c] = l[:len(l)-1]
		f.free -= int64(cap(b))
		return b[:n]
	}
	size := 1 << (c + minClassShift)
	if size > slabSize/16 {
		return make([]byte, n, size)
	}
	// Small buffers are carved from slabs: one allocation per many pieces.
	if len(f.slab) < size {
		f.slab = make([]byte, slabSize)
	}
	b := f.slab[:n:size]
	f.slab = f.slab[size:]
	return b
}

// put returns a buffer from get.
func (f *freeLists) put(b []byte) {
	c := cap(b)
	if c > maxPooled || c < 1<<minClassShift || c&(c-1) != 0 || f.free+int64(c) > maxFreeBytes {
		return
	}
	k := sizeClass(c)
	f.bufs[k] = append(roomFor(f.bufs[k]), b[:0])
	f.free += int64(c)
}

// hold copies b into a buffer and returns its handle.
func (f *freeLists) hold(b []byte) uint32 {
	buf := f.get(len(b))
	copy(buf, b)
	var ref uint32
	if n := len(f.slots); n > 0 {
		ref = f.slots[n-1]
		f.slots = f.slots[:n-1]
		f.store[ref-1] = buf
	} else {
		f.store = append(roomFor(f.store), buf)
		f.seams = append(roomFor(f.seams), seamList{})
		ref = uint32(len(f.store))
	}
	return ref
}

// seam: the bytes of a piece from off on (up to the next seam) came from the
// packet index, captured at ts.
type seam struct{ off, index, ts int64 }

// A buffer's seams are a list of nodes in freeLists.seamPool (by index, so no
// allocation per seam and nothing for the collector to scan).
type seamNode struct {
	seam
	next uint32
}

type seamList struct{ head, tail, n uint32 }

// seamOverhead is what a seam costs in the held-bytes accounting.
const seamOverhead = 32

// seamAt notes that the bytes of pc from off on (appended to its buffer) came
// from packet index at ts. It reports whether a seam was added (the packet
// differs from the one of the bytes before).
func (f *freeLists) seamAt(pc *piece, off, index, ts int64) bool {
	l := &f.seams[pc.ref-1]
	li, lt := pc.index, pc.ts
	if l.tail != 0 {
		t := &f.seamPool[l.tail]
		li, lt = t.index, t.ts
	}
	if li == index && lt == ts {
		return false
	}
	if len(f.seamPool) == 0 {
		f.seamPool = append(f.seamPool, seamNode{})
	}
	k := f.seamFree
	if k != 0 {
		f.seamFree = f.seamPool[k].next
	} else {
		f.seamPool = append(roomFor(f.seamPool), seamNode{})
		k = uint32(len(f.seamPool) - 1)
	}
	f.seamPool[k] = seamNode{seam{off, index, ts}, 0}
	if l.tail != 0 {
		f.seamPool[l.tail].next = k
	} else {
		l.head = k
	}
	l.tail = k
	l.n++
	return true
}

// seamsOf returns the first seam node of the buffer of ref (0: none); follow
// seamPool[k].next.
func (f *freeLists) seamsOf(ref uint32) uint32 { return f.seams[ref-1].head }

// runAt returns the run of pc that holds the byte at off: where it ends
// (the next seam, or the piece's end) and its packet's index and time.
func (f *freeLists) runAt(pc *piece, off int64) (end, index, ts int64) {
	end, index, ts = pc.end(), pc.index, pc.ts
	if !pc.inBuf() {
		return end, index, ts
	}
	for k := f.seams[pc.ref-1].head; k != 0; k = f.seamPool[k].next {
		sm := &f.seamPool[k]
		if sm.off > off {
			return sm.off, index, ts
		}
		index, ts = sm.index, sm.ts
	}
	return end, index, ts
}

// runStart returns where the run of pc that holds the byte at off starts.
func (f *freeLists) runStart(pc *piece, off int64) int64 {
	start := pc.off
	if !pc.inBuf() {
		return start
	}
	for k := f.seams[pc.ref-1].head; k != 0 && f.seamPool[k].off <= off; k = f.seamPool[k].next {
		start = f.seamPool[k].off
	}
	return start
}

// setRun records that the bytes [from, to) of pc (from >= pc.off, to <=
// pc.end()) now come from packet index at ts (last-wins replaced them). It
// returns the change of pc's cost (seams added or removed).
func (f *freeLists) setRun(pc *piece, from, to, index, ts int64) int64 {
	// The runs of pc, rewritten in f.scratch: those before from, the new
	// one, the owner of to again from to, those after to.
	runs := f.scratch[:0]
	l := &f.seams[pc.ref-1]
	old := int64(l.n)
	add := func(r seam) {
		if n := len(runs); n > 0 && runs[n-1].off == r.off {
			runs = runs[:n-1] // replaced by r
		}
		if n := len(runs); n > 0 && runs[n-1].index == r.index && runs[n-1].ts == r.ts {
			return // continues the run before
		}
		runs = append(runs, r)
	}
	_, toIndex, toTS := f.runAt(pc, to)
	cur := seam{pc.off, pc.index, pc.ts}
	placed := false
	emit := func(r seam) {
		switch {
		case r.off < from:
			add(r)
		case !placed:
			add(seam{from, index, ts})
			if to < pc.end() {
				add(seam{to, toIndex, toTS})
			}
			placed = true
			fallthrough
		default:
			if r.off > to {
				add(r)
			}
		}
	}
	emit(cur)
	for k := l.head; k != 0; k = f.seamPool[k].next {
		emit(f.seamPool[k].seam)
	}
	if !placed {
		add(seam{from, index, ts})
		if to < pc.end() {
			add(seam{to, toIndex, toTS})
		}
	}
	f.scratch = runs
	// Write back: the first run is the piece's own, the rest seams.
	pc.index, pc.ts = runs[0].index, runs[0].ts
	if l.head != 0 {
		f.seamPool[l.tail].next = f.seamFree
		f.seamFree = l.head
		*l = seamList{}
	}
	for _, r := range runs[1:] {
		f.seamAt(pc, r.off, r.index, r.ts)
	}
	return seamOverhead * (int64(l.n) - old)
}

// cost is what pc counts in the held-bytes accounting.
func (f *freeLists) cost(pc *piece) int64 {
	c := pc.cost()
	if pc.inBuf() {
		c += seamOverhead * int64(f.seams[pc.ref-1].n)
	}
	return c
}

// bytes returns the buffer of handle ref.
func (f *freeLists) bytes(ref uint32) []byte { return f.store[ref-1] }

// maxGrowPiece: a buffer that holds small pieces' bytes is moved to a bigger
// one (doubling) to take more, up to this size; beyond, touching pieces stay
// apart (a copy per MTU-sized segment would cost more than the piece).
const maxGrowPiece = 1024

// extend appends b to the buffer of ref if its capacity allows, or if the
// result is small enough to move it to a bigger buffer.
func (f *freeLists) extend(ref uint32, b []byte) bool {
	buf := f.store[ref-1]
	if cap(buf)-len(buf) < len(b) {
		n := len(buf) + len(b)
		if n > maxGrowPiece {
			return false
		}
		nb := f.get(max(n, 2*cap(buf)))[:len(buf)]
		copy(nb, buf)
		f.put(buf)
		buf = nb
	}
	f.store[ref-1] = append(buf, b...)
	return true
}

// release frees the buffer of handle ref.
func (f *freeLists) release(ref uint32) {
	f.put(f.store[ref-1])
	f.store[ref-1] = nil
	if l := f.seams[ref-1]; l.head != 0 {
		f.seamPool[l.tail].next = f.seamFree
		f.seamFree = l.head
		f.seams[ref-1] = seamList{}
	}
	f.slots = append(roomFor(f.slots), ref)
}

func (f *freeLists) getBlock() *block {
	if n := len(f.blocks); n > 0 {
		b := f.blocks[n-1]
		f.blocks[n-1] = nil
		f.blocks = f.blocks[:n-1]
		return b
	}
	return new(block)
}

func (f *freeLists) putBlock(b *block) {
	b.lo, b.hi = 0, 0
	if len(f.blocks) < maxFreeBlock {
		f.blocks = append(f.blocks, b)
	}
}

// roomFor returns s with room for one more element, doubling its capacity when
// full (append grows big slices by a quarter: each of these grows to the most
// pieces held at once, and the copies of a quarter growth cost four times
// that).
func roomFor[T any](s []T) []T {
	if len(s) < cap(s) {
		return s
	}
	n := make([]T, len(s), max(2*cap(s), 16))
	copy(n, s)
	return n
}
