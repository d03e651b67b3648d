package tcpasm

// retain is the window of recently delivered bytes of one stream direction,
// kept to compare retransmissions against (Config.ConflictWindow). It starts
// small and doubles up to the configured size as the stream grows, so short
// streams cost little. Alongside the bytes it keeps which packet delivered which
// range, for the Conflict records.
type retain struct {
	buf  []byte // len is a power of two
	from int64  // lowest offset whose bytes are valid (where retention started or a forgotten gap ended)
	top  int64  // one past the highest offset written

	recs [recCount]segRec // the packets that delivered the latest ranges, by offset
	nrec int
}

const recCount = 64

// segRec: the packet that delivered the bytes [off, end).
type segRec struct {
	off, end, index, ts int64
}

const minRetain = 4096

// write stores data delivered at off.
func (r *retain) write(off int64, data []byte, index, ts int64) {
	n := int64(len(data))
	if n == 0 {
		return
	}
	size := int64(len(r.buf))
	if lo := max(r.top, off+n) - size; off < lo {
		if off+n <= lo {
			return
		}
		data = data[lo-off:]
		off = lo
		n = int64(len(data))
	}
	p := off & (size - 1)
	k := copy(r.buf[p:], data)
	copy(r.buf, data[k:])
	if off+n > r.top {
		r.top = off + n
	}
	r.recs[r.nrec%recCount] = segRec{off, off + n, index, ts}
	r.nrec++
}

// lo returns the lowest offset whose retained bytes are valid.
func (r *retain) lo() int64 {
	return max(r.from, r.top-int64(len(r.buf)))
}

// at returns the retained byte at off (lo() <= off < top).
func (r *retain) at(off int64) byte {
	return r.buf[off&int64(len(r.buf)-1)]
}

// who returns the packet index and time that delivered the byte at off, or -1
// when no record is left.
func (r *retain) who(off int64) (int64, int64) {
	n := min(r.nrec, recCount)
	for k := 1; k <= n; k++ {
		rec := &r.recs[(r.nrec-k)%recCount]
		if rec.off <= off && off < rec.end {
			return rec.index, rec.ts
		}
	}
	return -1, 0
}

// grow doubles the buffer (up to limit) when the retained span fills it,
// taking the new buffer from fl and giving the old one back. It returns the
// bytes added.
func (r *retain) grow(limit int64, fl *freeLists) int64 {
	size := int64(len(r.buf))
	if size >= limit || r.top-r.from < size {
		return 0
	}
	nb := fl.getRing(int(size * 2))
	for o := r.lo(); o < r.top; {
		sp, dp := o&(size-1), o&(2*size-1)
		n := min(r.top-o, size-sp, 2*size-dp)
		copy(nb[dp:dp+n], r.buf[sp:sp+n])
		o += n
	}
	fl.putRing(r.buf)
	r.buf = nb
	return size
}
