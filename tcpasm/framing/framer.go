package framing

import (
	"github.com/reseq/reseq/tcpasm"
)

// DefaultMaxHeld is Config.MaxHeld when it is zero.
const DefaultMaxHeld = 1 << 20

// Config sets a Framer's limits. The zero value means the defaults.
type Config struct {
	// MaxHeld bounds the bytes a Framer holds for its consumer (unconsumed bytes,
	// or bytes kept while resynchronising). Default DefaultMaxHeld.
	MaxHeld int
	// Budget, when set, is shared by the framers (and whatever else the
	// caller charges to it): each framer charges the capacity of its buffers
	// (released when it ends; a buffer is let go when it empties and is
	// larger than releaseAbove, or when the budget is over its bound). Bytes
	// that would take a framer's buffer past what the budget has left are
	// offered as a Full chunk, as at MaxHeld: a consumer that cannot use them
	// makes the framer drop them and resynchronise, so the framers never grow
	// past the budget (Budget.Refused counts those times).
	Budget *Budget
}

// Chunk is what a Framer offers its consumer: Data are in-order stream bytes
// without a hole, Data[0] at stream offset Off. Data aliases a buffer that is
// only valid during the call.
type Chunk struct {
	Off  int64
	Data []byte
	// Full is set when len(Data) reached Config.MaxHeld: the framer cannot hold
	// more. If the consumer consumes nothing of a full chunk, the framer drops
	// all its bytes and resynchronises with the next bytes to arrive.
	Full bool
	// AfterGap is set on chunks offered after a gap, a resync or at a mid-stream
	// start until the consumer consumes a byte (the bytes before Data[0] are
	// unknown or were dropped).
	AfterGap bool

	f  *Framer
	ts int64
}

// Time returns the capture time of the segment that carried the byte at stream
// offset off (which should lie within the chunk), as the assembler reported
// it. Bytes the assembler held above a hole may come with the time of an
// earlier segment they were stored with: Time is then a lower bound, and Now
// an upper one.
func (c *Chunk) Time(off int64) int64 {
	if c.f == nil {
		return c.ts
	}
	return c.f.timeAt(off, c.ts)
}

// Now returns an upper bound of the capture time of every byte of the chunk:
// the latest capture time the framer (or the Handler feeding it, across all
// streams) has seen.
func (c *Chunk) Now() int64 {
	if c.f == nil {
		return c.ts
	}
	return max(c.ts, c.f.now, c.f.clockNow())
}

// Consumer parses the messages of one stream direction. Its methods are called in
// stream order: for any offset, Gap before Data or Resync at or beyond the gap.
type Consumer interface {
	// Data offers in-order bytes while the consumer is in sync. It returns how
	// many leading bytes it consumed (0..len(c.Data)); the framer offers the rest
	// again at once when n > 0, else holds them until more bytes arrive. resync
	// says the bytes at c.Data[n] do not start a message the consumer can parse:
	// the framer drops that byte and resynchronises from the next one.
	Data(c *Chunk) (n int, resync bool)
	// Resync is called while out of sync, with the bytes held and newly arrived.
	// When found, a message may start at c.Data[start]: the bytes before it are
	// dropped and the rest offered to Data. Otherwise the bytes before start
	// cannot begin a message and are dropped; the rest is held and offered again,
	// followed by newer bytes, when more arrive.
	Resync(c *Chunk) (start int, found bool)
	// Gap reports bytes [off, off+length) the capture missed. Bytes offered but
	// not consumed before it are dropped. The consumer returns whether it lost its
	// framing (must resync); if not, the next Data is at off+length.
	Gap(off, length int64, reason tcpasm.Reason, ts int64) (resync bool)
	// End is called once when the stream direction ends; bytes offered but not
	// consumed are dropped.
	End(reason tcpasm.Reason, ts int64)
}

// LateConsumer is implemented by a Consumer that takes bytes the assembler
// delivered late: bytes inside a gap already reported (tcpasm.Handler.Late).
// They come in no particular order; the consumer may fill a hole with them.
type LateConsumer interface {
	Late(off int64, data []byte, ts int64)
}

// Stats counts a Framer's work.
type Stats struct {
	Offered  int64 // bytes passed to Data, summed over calls (held bytes count again)
	Consumed int64 // bytes Data consumed
	Dropped  int64 // bytes dropped: declined by Resync, given up when full, held at a gap or at the end
	Copied   int64 // bytes copied into the held buffer
	Resyncs  int64 // calls to Resync
	Scanned  int64 // bytes passed to Resync, summed over calls
	Gaps     int64 // gaps reported
	GapBytes int64
}

// Framer frames one stream direction for its Consumer. The zero value is not
// usable; call New.
type Framer struct {
	c       Consumer
	maxHeld int
	budget  *Budget
	charged int64 // bytes charged to budget: footprint() when last settled

	started bool
	synced  bool
	ended   bool
	after   bool  // the next chunk follows a gap or a mid-stream start
	next    int64 // stream offset of the next byte expected

	buf   []byte // held bytes are buf[hs:]
	hs    int
	hoff  int64  // stream offset of buf[hs]
	marks []mark // capture times of held bytes, by offset
	ms    int

	chunk  Chunk
	stats  Stats
	now    int64  // latest capture time seen by this framer
	dstart int64  // offset of the current Data call's first byte
	clock  *int64 // latest capture time seen by the Handler, when set
}

func (f *Framer) clockNow() int64 {
	if f.clock == nil {
		return 0
	}
	return *f.clock
}

type mark struct {
	off, ts int64
}

// New returns a Framer feeding c. synced says whether the stream starts at a
// message boundary (the stream's SYN was seen); otherwise the first bytes go to
// Resync.
func New(c Consumer, cfg Config, synced bool) *Framer {
	m := cfg.MaxHeld
	if m <= 0 {
		m = DefaultMaxHeld
	}
	return &Framer{c: c, maxHeld: m, budget: cfg.Budget, synced: synced, after: !synced}
}

// releaseAbove is the buffer capacity that a framer lets go of when its
// buffer empties; smaller buffers are kept for the next bytes, unless the
// budget is over its bound.
const releaseAbove = 64 << 10

// markSize is the bytes of one mark.
const markSize = 16

// footprint is what the framer's buffers take.
func (f *Framer) footprint() int64 { return int64(cap(f.buf)) + markSize*int64(cap(f.marks)) }

// settle lets go of empty buffers that are large (or all of them under
// pressure) and charges the change of footprint to the budget.
func (f *Framer) settle() {
	if f.budget == nil {
		return
	}
	if f.Held() == 0 && (f.ended || cap(f.buf) > releaseAbove || !f.budget.within(f.footprint()-f.charged)) {
		f.buf, f.hs, f.marks, f.ms = nil, 0, nil, 0
	}
	fp := f.footprint()
	f.budget.Charge(fp - f.charged)
	f.charged = fp
}

// overBudget reports whether holding n bytes would take the framer past what
// the budget has left, counting what it charged already as its own and the
// growth of its buffers since (they grow before the bytes are offered).
func (f *Framer) overBudget(n int) bool {
	if f.budget == nil {
		return false
	}
	need := max(int64(n), f.footprint()) - f.charged
	return need > 0 && !f.budget.Fits(need)
}

// Stats returns the counters so far.
func (f *Framer) Stats() Stats { return f.stats }

// Held returns how many bytes the framer holds.
func (f *Framer) Held() int { return len(f.buf) - f.hs }

// Synced reports whether the consumer is in sync.
func (f *Framer) Synced() bool { return f.synced }

func (f *Framer) timeAt(off, def int64) int64 {
	t := def
	for i := f.ms; i < len(f.marks); i++ {
		if f.marks[i].off > off {
			break
		}
		t = f.marks[i].ts
	}
	return t
}

// startsDelivery reports whether stream offset off is the first byte of one of
// the Data calls whose bytes are in the current chunk.
func (f *Framer) startsDelivery(off int64) bool {
	if off == f.dstart {
		return true
	}
	for i := f.ms; i < len(f.marks); i++ {
		if f.marks[i].off == off {
			return true
		}
		if f.marks[i].off > off {
			break
		}
	}
	return false
}

// Exact reports whether Time(off) is the capture time of the segment that
// carried the byte at off: the byte came in real time (Time equals Now), or
// it is the first byte of what the assembler delivered in one call (whose time
// is that of its first segment; bytes after it may have come later).
func (c *Chunk) Exact(off int64) bool {
	if c.f == nil {
		return true
	}
	return c.Time(off) == c.Now() || c.f.startsDelivery(off)
}

// Data feeds bytes at stream offset off (in order: off is where the previous
// Data or Gap ended; bytes below that are ignored, a jump forward is treated as a
// gap). data is only read during the call.
func (f *Framer) Data(off int64, data []byte, ts int64) {
	if f.ended || len(data) == 0 {
		return
	}
	if f.budget != nil {
		defer f.settle()
	}
	f.now = max(f.now, ts)
	if !f.started {
		f.started = true
		f.next = off
		f.hoff = off
	}
	if off < f.next {
		skip := f.next - off
		if skip >= int64(len(data)) {
			return
		}
		data = data[skip:]
		off = f.next
	} else if off > f.next {
		f.Gap(f.next, off-f.next, tcpasm.ReasonNone, ts)
	}
	f.next = off + int64(len(data))
	f.dstart = off

	if f.Held() == 0 {
		// Zero-copy path: offer the caller's bytes; copy only what is left.
		f.hoff = off
		f.marks, f.ms = f.marks[:0], 0
		rest, roff := f.run(data, off, ts, f)
		if len(rest) > 0 {
			f.hold(rest, roff, ts)
		}
		return
	}
	f.hold(data, off, ts)
	held := f.buf[f.hs:]
	rest, roff := f.run(held, f.hoff, ts, f)
	// rest is a suffix of held: advance the start.
	f.hs = len(f.buf) - len(rest)
	f.hoff = roff
	if len(rest) == 0 {
		f.buf, f.hs = f.buf[:0], 0
		f.marks, f.ms = f.marks[:0], 0
	} else {
		f.trimMarks()
	}
}

// hold appends bytes to the held buffer, compacting it first when that avoids
// growing it.
func (f *Framer) hold(p []byte, off, ts int64) {
	if f.Held() == 0 {
		f.buf, f.hs = f.buf[:0], 0
		f.hoff = off
		f.marks, f.ms = f.marks[:0], 0
	} else if f.hs > 0 && len(f.buf)+len(p) > cap(f.buf) {
		n := copy(f.buf, f.buf[f.hs:])
		f.buf, f.hs = f.buf[:n], 0
	}
	if f.ms > 0 && len(f.marks) == cap(f.marks) {
		n := copy(f.marks, f.marks[f.ms:])
		f.marks, f.ms = f.marks[:n], 0
	}
	f.marks = append(f.marks, mark{off, ts})
	f.buf = append(f.buf, p...)
	f.stats.Copied += int64(len(p))
}

func (f *Framer) trimMarks() {
	for f.ms+1 < len(f.marks) && f.marks[f.ms+1].off <= f.hoff {
		f.ms++
	}
}

// run offers buf (at stream offset off) to the consumer until it stops taking
// bytes, and returns the bytes to hold.
func (f *Framer) run(buf []byte, off, ts int64, fr *Framer) ([]byte, int64) {
	c := &f.chunk
	resynced := false
	for len(buf) > 0 {
		if !f.synced {
			if resynced {
				// Resync runs once per arrival: hold the rest for new bytes.
				break
			}
			*c = Chunk{Off: off, Data: buf, AfterGap: f.after, f: fr, ts: ts}
			f.stats.Resyncs++
			f.stats.Scanned += int64(len(buf))
			start, found := f.c.Resync(c)
			start = clamp(start, len(buf))
			f.stats.Dropped += int64(start)
			buf, off = buf[start:], off+int64(start)
			resynced = true
			if !found {
				if len(buf) >= f.maxHeld || f.overBudget(len(buf)) {
					f.stats.Dropped += int64(len(buf))
					off += int64(len(buf))
					buf = buf[len(buf):]
				}
				break
			}
			f.synced = true
			f.after = true
			continue
		}
		full := len(buf) >= f.maxHeld || f.overBudget(len(buf))
		*c = Chunk{Off: off, Data: buf, Full: full, AfterGap: f.after, f: fr, ts: ts}
		f.stats.Offered += int64(len(buf))
		n, resync := f.c.Data(c)
		n = clamp(n, len(buf))
		if n > 0 {
			f.after = false
		}
		f.stats.Consumed += int64(n)
		buf, off = buf[n:], off+int64(n)
		if full && n == 0 && !resync {
			// The consumer could not use a full chunk: give it all up.
			f.stats.Dropped += int64(len(buf))
			off += int64(len(buf))
			buf = buf[len(buf):]
			f.synced = false
			f.after = true
			break
		}
		if resync {
			f.synced = false
			f.after = true
			resynced = false
			if len(buf) > 0 {
				f.stats.Dropped++
				buf, off = buf[1:], off+1
			}
			continue
		}
		if n == 0 {
			break
		}
	}
	return buf, off
}

func clamp(n, max int) int {
	if n < 0 {
		return 0
	}
	if n > max {
		return max
	}
	return n
}

// Gap reports stream bytes [off, off+length) that the capture missed.
func (f *Framer) Gap(off, length int64, reason tcpasm.Reason, ts int64) {
	if f.ended || length <= 0 {
		return
	}
	f.now = max(f.now, ts)
	if !f.started {
		f.started = true
		f.next = off
	}
	if off+length <= f.next {
		return
	}
	if off < f.next {
		length -= f.next - off
		off = f.next
	}
	f.dropHeld()
	f.settle()
	f.stats.Gaps++
	f.stats.GapBytes += length
	if f.c.Gap(off, length, reason, ts) {
		f.synced = false
	}
	f.after = true
	f.next = off + length
	f.hoff = f.next
}

func (f *Framer) dropHeld() {
	f.stats.Dropped += int64(f.Held())
	f.buf, f.hs = f.buf[:0], 0
	f.marks, f.ms = f.marks[:0], 0
}

// Late passes bytes that arrived inside a gap already reported to the
// consumer, when it is a LateConsumer.
func (f *Framer) Late(off int64, data []byte, ts int64) {
	f.now = max(f.now, ts)
	if lc, ok := f.c.(LateConsumer); ok && !f.ended && len(data) > 0 {
		lc.Late(off, data, ts)
	}
}

// End ends the stream: held bytes are dropped and the consumer's End called.
// Later calls do nothing.
func (f *Framer) End(reason tcpasm.Reason, ts int64) {
	if f.ended {
		return
	}
	f.dropHeld()
	f.ended = true
	f.settle()
	f.c.End(reason, ts)
}
