package tcpasm

import "slices"

// This file holds urgent bytes (URG): counted, and under UrgentOOB left out
// of the stream the handler is given.

// noteUrgent notes the urgent byte of seg (n bytes claimed at off), if the
// segment carries it and it was not delivered or declared yet: the byte
// before the urgent pointer (RFC 9293, 3.8.5).
func (a *Assembler) noteUrgent(h *half, seg *Segment, off int64, n int) {
	if seg.Urgent == 0 {
		return
	}
	u := off + int64(seg.Urgent) - 1
	if u >= off+int64(min(n, len(seg.Payload))) || u < h.next {
		return
	}
	if h.past == nil {
		a.newPast(h)
	}
	i, found := slices.BinarySearch(h.past.urgent, u)
	if found {
		return
	}
	h.past.urgent = slices.Insert(h.past.urgent, i, u)
	h.Stats.UrgentBytes++
}

// oob returns h's urgent bytes left out of the stream (nil: none).
func (a *Assembler) oob(h *half) []int64 {
	if a.cfg.Urgent != UrgentOOB || h.past == nil {
		return nil
	}
	return h.past.urgent
}

// below returns how many of the offsets u (ascending) lie below o.
func below(u []int64, o int64) int64 {
	i, _ := slices.BinarySearch(u, o)
	return int64(i)
}

// dataOOB hands data at off to the handler without the urgent bytes u among
// them, at the offsets that leave them out. It returns the bytes given.
func (a *Assembler) dataOOB(h *half, u []int64, off int64, data []byte, ts int64) int64 {
	end := off + int64(len(data))
	i, _ := slices.BinarySearch(u, off)
	shift := int64(i)
	given := int64(0)
	for cur := off; cur < end; {
		stop := end
		if i < len(u) && u[i] < end {
			stop = u[i]
		}
		if stop > cur {
			a.h.Data(&h.Stream, cur-shift, data[cur-off:stop-off], ts)
			given += stop - cur
		}
		if stop == end {
			break
		}
		cur = stop + 1 // the urgent byte
		i++
		shift++
	}
	return given
}

// mapRange returns [off, off+n) with the urgent bytes u left out: its new
// offset and length.
func mapRange(u []int64, off, n int64) (int64, int64) {
	lo, hi := below(u, off), below(u, off+n)
	return off - lo, n - (hi - lo)
}

// conflictOOB maps c onto the stream without the urgent bytes u; it reports
// false when nothing but urgent bytes differed.
func conflictOOB(u []int64, c *Conflict) bool {
	i, _ := slices.BinarySearch(u, c.Offset)
	if c.Replace != nil {
		var kept []byte
		for k, b := range c.Replace {
			if o := c.Offset + int64(k); i < len(u) && u[i] == o {
				i++
				continue
			}
			kept = append(kept, b)
		}
		c.Replace = kept
	}
	c.Offset, c.Length = mapRange(u, c.Offset, c.Length)
	return c.Length > 0
}
