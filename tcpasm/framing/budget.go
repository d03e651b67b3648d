package framing

// Budget is one bound on the memory that the consumers of many connections
// keep between callbacks: the framers' held bytes and whatever parser state a
// consumer charges to it (pending messages, small bodies). It is not a
// reservation: each holder charges what it took and releases it, and asks Fits
// before it grows; a holder that cannot fit gives up instead of growing (a
// framer offers its bytes as a Full chunk, see Config.Budget). A nil *Budget
// bounds nothing.
//
// Invariant: Used is the sum of what its holders charged and have not
// released; it is never negative. Not safe for concurrent use (the
// assembler's goroutine calls every handler).
type Budget struct {
	// Max is the bound in bytes; 0 or less: no bound.
	Max int64

	used, peak int64
	refused    int64
}

// Charge adds n bytes (n < 0 releases -n).
func (b *Budget) Charge(n int64) {
	if b == nil {
		return
	}
	b.used += n
	if b.used < 0 {
		panic("framing: Budget released more than was charged")
	}
	b.peak = max(b.peak, b.used)
}

// Fits reports whether n more bytes stay within the bound; when they do not,
// the refusal is counted (see Refused).
func (b *Budget) Fits(n int64) bool {
	if b == nil || b.Max <= 0 || b.used+n <= b.Max {
		return true
	}
	b.refused++
	return false
}

// within is Fits(n) without counting a refusal.
func (b *Budget) within(n int64) bool { return b == nil || b.Max <= 0 || b.used+n <= b.Max }

// Used returns the bytes charged now.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used
}

// Peak returns the most bytes charged at once.
func (b *Budget) Peak() int64 {
	if b == nil {
		return 0
	}
	return b.peak
}

// Refused returns how many times Fits said no: each is a holder that gave
// something up (a framer's held bytes, a pending message) to stay within Max.
func (b *Budget) Refused() int64 {
	if b == nil {
		return 0
	}
	return b.refused
}
