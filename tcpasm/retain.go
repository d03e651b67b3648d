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

	// Deferred writes (Assembler.AssembleBatch): the latest npend records
	// hold bytes recorded (top and recs are up to date) but not yet copied
	// into buf; their slices stay valid until the batch ends. flush copies
	// them, keeping only what the window holds then, so a stream that
	// delivers more than the window within a batch copies only its tail. A
	// deferred write touches its record only.
	npend int
}

const recCount = 64

// segRec: the packet that delivered the bytes [off, end), and those bytes
// while their copy into buf is deferred.
type segRec struct {
	off, end, index, ts int64
	data                []byte
}

const minRetain = 4096

// write stores data delivered at off.
func (r *retain) write(off int64, data []byte, index, ts int64) {
	if len(data) == 0 {
		return
	}
	r.copyIn(off, data)
	r.record(off, int64(len(data)), index, ts, nil)
}

// deferWrite is write with the copy deferred until flush: data must stay valid
// until then. It reports whether the retain had nothing deferred before (and
// so must be flushed at the end of the batch).
func (r *retain) deferWrite(off int64, data []byte, index, ts int64) bool {
	if len(data) == 0 {
		return false
	}
	first := r.npend == 0
	if r.npend == recCount {
		r.flush() // the record about to be reused holds deferred bytes
	}
	r.record(off, int64(len(data)), index, ts, data)
	r.npend++
	return first
}

// flush copies the deferred writes into buf, oldest first; those the window
// has passed by now are skipped.
func (r *retain) flush() {
	for k := r.npend; k >= 1; k-- {
		rec := &r.recs[(r.nrec-k)%recCount]
		if rec.data != nil {
			r.copyIn(rec.off, rec.data)
			rec.data = nil
		}
	}
	r.npend = 0
}

// drop forgets the deferred writes without copying them.
func (r *retain) drop() {
	for k := r.npend; k >= 1; k-- {
		r.recs[(r.nrec-k)%recCount].data = nil
	}
	r.npend = 0
}

// record notes that the packet index (time ts) delivered [off, off+n).
func (r *retain) record(off, n, index, ts int64, data []byte) {
	if off+n > r.top {
		r.top = off + n
	}
	r.recs[r.nrec%recCount] = segRec{off, off + n, index, ts, data}
	r.nrec++
}

// copyIn copies data delivered at off into buf, or the part of it the window
// holds.
func (r *retain) copyIn(off int64, data []byte) {
	n := int64(len(data))
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
}

// lo returns the lowest offset whose retained bytes are valid.
func (r *retain) lo() int64 {
	return max(r.from, r.top-int64(len(r.buf)))
}

// at returns the retained byte at off (lo() <= off < top).
func (r *retain) at(off int64) byte {
	return r.buf[off&int64(len(r.buf)-1)]
}

// runAt returns the range of one packet's retained bytes that holds off: its
// start and end (the packet's bytes: they may reach below the window) and
// that packet's index and time (-1 where no record is left; the run then
// starts at off and ends where the next record starts). The latest record
// of a byte counts: a rewrite (rewrite) records the packet that replaced it.
func (r *retain) runAt(off int64) (start, end, index, ts int64) {
	end, index = r.top, -1
	n := min(r.nrec, recCount)
	for k := 1; k <= n; k++ {
		rec := &r.recs[(r.nrec-k)%recCount]
		if rec.off <= off && off < rec.end {
			return rec.off, min(rec.end, end), rec.index, rec.ts
		}
		if rec.off > off && rec.off < end {
			end = rec.off
		}
	}
	return off, end, -1, 0
}

// runEnd returns the end of the bytes of the packet whose retained bytes
// hold off (beyond the run runAt gives when a rewrite split them), or off.
func (r *retain) runEnd(off int64) int64 {
	n := min(r.nrec, recCount)
	for k := 1; k <= n; k++ {
		if rec := &r.recs[(r.nrec-k)%recCount]; rec.off <= off && off < rec.end {
			return rec.end
		}
	}
	return off
}

// rewrite replaces retained bytes at off (within [lo(), top)) by data of the
// packet index (time ts), which an overlap policy preferred. Deferred writes
// must have been flushed.
func (r *retain) rewrite(off int64, data []byte, index, ts int64) {
	r.copyIn(off, data)
	r.record(off, int64(len(data)), index, ts, nil)
}

// grow doubles the buffer (up to limit) when the retained span fills it,
// taking the new buffer from fl and giving the old one back. It returns the
// bytes added.
func (r *retain) grow(limit int64, fl *freeLists) int64 {
	size := int64(len(r.buf))
	if size >= limit || r.top-r.from < size {
		return 0
	}
	r.flush()
	nb := fl.getRing(int(size * 2))
	lo := r.lo()
	for o := lo; o < r.top; {
		sp, dp := o&(size-1), o&(2*size-1)
		n := min(r.top-o, size-sp, 2*size-dp)
		copy(nb[dp:dp+n], r.buf[sp:sp+n])
		o += n
	}
	fl.putRing(r.buf)
	r.buf = nb
	// Bytes below the old window were overwritten before the growth: the
	// larger window holds only what the old one did, until it fills.
	r.from = lo
	return size
}
