package tcpasm

// This file holds the out-of-order store: the copies of segments that arrived
// above a hole, in an ordered structure with O(log n) search and amortised O(1)
// insertion near a point (a list of fixed-size blocks, each a sorted run). The
// buffers the copies live in are in arena.go.

// pieceOverhead is what a held piece costs on top of its bytes in the held-bytes
// accounting: the piece record and the rounding of its buffer, roughly. It keeps
// a flood of tiny segments from holding far more memory than the limits say.
const pieceOverhead = 64

// piece is one held range [off, off+n). data is its copy, or nil for a
// truncation marker: bytes a snaplen cut, to become a ReasonTruncated gap when
// the stream reaches them unless real data fills them first.
//
// A piece holds no pointers (its copy is named by ref, a handle into the
// Assembler's freeLists), so moving pieces costs no write barriers and the
// collector does not scan the held store.
type piece struct {
	off   int64
	n     int64
	index int64 // packet index and capture time of the copy
	ts    int64
	ref   uint32 // the copy's buffer in freeLists.store, plus one; 0 for a marker
}

func (p *piece) end() int64 { return p.off + p.n }

func (p *piece) isData() bool { return p.ref != 0 }

func (p *piece) cost() int64 {
	if !p.inBuf() {
		return pieceOverhead // a marker, or bytes in pages counted whole
	}
	return p.n + pieceOverhead
}

const blockCap = 128

// block is a sorted run of pieces, p[lo:hi].
type block struct {
	lo, hi int
	p      [blockCap]piece
}

func (b *block) len() int { return b.hi - b.lo }

// heldList is the ordered set of held pieces of one stream direction. Pieces
// never overlap. A direction has one only while it holds bytes (or has held
// some): its reading methods take a nil list as empty.
type heldList struct {
	blocks   []*block
	ends     []int64 // ends[i]: the end of the last piece of blocks[i], for a cache-friendly search
	n        int
	blockBuf [1]*block // the first backing arrays of blocks and ends
	endBuf   [1]int64
	pages    pageStore // the pages of tiny segments (see pages.go)
	holder   halfLink  // the direction's place in Assembler.holders
	cost     int64     // what the held pieces (and pages) count in the limits
	data     int64     // the held bytes of data (truncation markers excluded)
}

// fix refreshes ends[bi] after block bi changed.
func (l *heldList) fix(bi int) {
	b := l.blocks[bi]
	l.ends[bi] = b.p[b.hi-1].end()
}

// pos names a piece: block bi, index i within the block's run.
type pos struct{ bi, i int }

func (l *heldList) empty() bool { return l == nil || l.n == 0 }

// size is the number of held pieces.
func (l *heldList) size() int {
	if l == nil {
		return 0
	}
	return l.n
}

func (l *heldList) first() *piece {
	if l.empty() {
		return nil
	}
	b := l.blocks[0]
	return &b.p[b.lo]
}

func (l *heldList) last() *piece {
	if l.empty() {
		return nil
	}
	b := l.blocks[len(l.blocks)-1]
	return &b.p[b.hi-1]
}

// at returns the piece at p, or nil past the end.
func (l *heldList) at(p pos) *piece {
	if l == nil || p.bi >= len(l.blocks) {
		return nil
	}
	b := l.blocks[p.bi]
	return &b.p[b.lo+p.i]
}

// before returns the piece just before position p, or nil.
func (l *heldList) before(p pos) (*piece, int) {
	if l == nil {
		return nil, 0
	}
	if p.bi < len(l.blocks) && p.i > 0 {
		b := l.blocks[p.bi]
		return &b.p[b.lo+p.i-1], p.bi
	}
	if p.bi == 0 || len(l.blocks) == 0 {
		return nil, 0
	}
	b := l.blocks[p.bi-1]
	return &b.p[b.hi-1], p.bi - 1
}

// find returns the position of the first piece whose end is above off.
func (l *heldList) find(off int64) pos {
	if l == nil {
		return pos{}
	}
	// Blocks: the first whose last piece ends above off.
	lo, hi := 0, len(l.ends)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l.ends[m] > off {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == len(l.blocks) {
		return pos{lo, 0}
	}
	b := l.blocks[lo]
	i, j := b.lo, b.hi
	for i < j {
		m := int(uint(i+j) >> 1)
		if b.p[m].end() > off {
			j = m
		} else {
			i = m + 1
		}
	}
	return pos{lo, i - b.lo}
}

// insert puts pc at position p (before the piece now there).
func (l *heldList) insert(p pos, pc piece, fl *freeLists) {
	l.n++
	if len(l.blocks) == 0 {
		b := fl.getBlock()
		b.p[0] = pc
		b.hi = 1
		if l.blocks == nil {
			l.blocks, l.ends = l.blockBuf[:0], l.endBuf[:0] // one block needs no allocation
		}
		l.blocks = append(l.blocks, b)
		l.ends = append(l.ends, pc.end())
		return
	}
	if p.bi == len(l.blocks) {
		p.bi--
		p.i = l.blocks[p.bi].len()
	}
	b := l.blocks[p.bi]
	if b.hi == blockCap {
		if b.lo > 0 {
			copy(b.p[:], b.p[b.lo:b.hi])
			clearPieces(b.p[b.hi-b.lo : b.hi])
			b.hi -= b.lo
			b.lo = 0
		} else {
			// Split: the upper half moves to a new block.
			nb := fl.getBlock()
			half := blockCap / 2
			copy(nb.p[:], b.p[half:])
			clearPieces(b.p[half:])
			nb.hi = blockCap - half
			b.hi = half
			l.blocks = append(l.blocks, nil)
			copy(l.blocks[p.bi+2:], l.blocks[p.bi+1:])
			l.blocks[p.bi+1] = nb
			l.ends = append(l.ends, 0)
			copy(l.ends[p.bi+2:], l.ends[p.bi+1:])
			l.fix(p.bi)
			l.fix(p.bi + 1)
			if p.i > half {
				p.bi++
				p.i -= half
				b = nb
			}
		}
	}
	at := b.lo + p.i
	copy(b.p[at+1:b.hi+1], b.p[at:b.hi])
	b.p[at] = pc
	b.hi++
	if at == b.hi-1 {
		l.fix(p.bi)
	}
}

// remove deletes the piece at p.
func (l *heldList) remove(p pos, fl *freeLists) {
	l.n--
	b := l.blocks[p.bi]
	at := b.lo + p.i
	if p.i == 0 {
		b.p[at] = piece{}
		b.lo++
	} else {
		copy(b.p[at:], b.p[at+1:b.hi])
		b.p[b.hi-1] = piece{}
		b.hi--
	}
	if b.lo == b.hi {
		copy(l.blocks[p.bi:], l.blocks[p.bi+1:])
		l.blocks[len(l.blocks)-1] = nil
		l.blocks = l.blocks[:len(l.blocks)-1]
		copy(l.ends[p.bi:], l.ends[p.bi+1:])
		l.ends = l.ends[:len(l.ends)-1]
		fl.putBlock(b)
		return
	}
	l.fix(p.bi)
}

// popFirst removes the first piece.
func (l *heldList) popFirst(fl *freeLists) { l.remove(pos{}, fl) }

func clearPieces(ps []piece) {
	for i := range ps {
		ps[i] = piece{}
	}
}
