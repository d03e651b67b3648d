package pipeline

import (
	"io"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/tcpasm"
)

// Assembler takes the segments; *tcpasm.Assembler is one. When it also has
// the method AssembleBatch([]tcpasm.Segment), as *tcpasm.Assembler does, Run
// gives it whole batches whose payloads stay valid until the call returns.
type Assembler interface {
	Assemble(seg *tcpasm.Segment)
}

type batchAssembler interface {
	AssembleBatch(segs []tcpasm.Segment)
}

// Options configure Run. The zero value reads everything on as many
// goroutines as GOMAXPROCS allows (at most two).
type Options struct {
	// CapturePoint is tcpasm.FromPacket's capturePoint: the outer tag of a
	// stack of two or more VLAN tags names the probe and is not part of the
	// flow key.
	CapturePoint bool
	// Keep, when set, selects the segments to assemble by their flow key;
	// the others are counted in Stats.Filtered. It runs on the reading
	// goroutine.
	Keep func(k *layers.FlowKey) bool
	// Serial reads and assembles on the calling goroutine only.
	Serial bool
	// Progress, when set, is called about every 250 ms of wall time with the
	// input bytes read, their total (0 when unknown) and the packets read,
	// and once more at the end.
	Progress func(read, total, packets int64)
	// Abort, when set, is polled every few thousand packets; a non-nil error
	// stops the run and is returned.
	Abort func() error
}

// Stats counts what Run saw.
type Stats struct {
	Packets   int64 // frames read
	TCP       int64 // TCP segments given to the assembler
	Filtered  int64 // TCP segments Options.Keep left out
	NotTCP    int64 // frames that decoded to something else, or not at all
	Bytes     int64 // captured TCP payload bytes given to the assembler
	InputErrs int64 // input errors (a broken capture; the other inputs go on)
}

// Run reads r to its end, giving every TCP segment to a in capture order. It
// does not close a (so that the caller can, when it is done with it) nor r.
//
// The error is the first input error (a *reseq.InputError: the reader went on
// with the other inputs, and everything read was assembled) or Abort's. A
// reader that keeps failing without yielding a packet is given up after 64
// errors in a row.
func Run(r *reseq.Reader, a Assembler, opt Options) (Stats, error) {
	src := source{opt: &opt, r: r, nextTick: time.Now().Add(progressEvery)}
	if opt.Serial || runtime.GOMAXPROCS(0) < 2 {
		runSerial(&src, a)
	} else {
		runStaged(&src, a)
	}
	if opt.Progress != nil {
		read, total := r.Progress()
		opt.Progress(read, total, src.st.Packets)
	}
	return src.st, src.first
}

const progressEvery = 250 * time.Millisecond

// source reads, decodes and filters the packets of r into segments.
type source struct {
	opt      *Options
	r        *reseq.Reader
	lp       layers.Packet
	st       Stats
	first    error // the first input error, or Abort's error
	errRun   int
	nextTick time.Time
	poll     bool // set by next every 4096 packets: time to poll Abort and Progress
}

// next fills seg with the next TCP segment to assemble; false at the end of
// the input. seg.Payload aliases the packet's data.
func (s *source) next(seg *tcpasm.Segment) bool {
	for {
		pkt, err := s.r.Next()
		if err == io.EOF {
			return false
		}
		if err != nil {
			s.st.InputErrs++
			if s.first == nil {
				s.first = err
			}
			// Next goes on with the other inputs; a reader that keeps failing
			// without progress is given up.
			if s.errRun++; s.errRun > 64 {
				return false
			}
			continue
		}
		s.errRun = 0
		s.st.Packets++
		if s.st.Packets&4095 == 0 {
			s.poll = true
		}
		if !s.lp.Decode(layers.LinkType(pkt.LinkType), pkt.Data, pkt.Length).OK() ||
			!tcpasm.FromPacket(seg, &s.lp, pkt.Timestamp, pkt.Index, s.opt.CapturePoint) {
			s.st.NotTCP++
			continue
		}
		if s.opt.Keep != nil && !s.opt.Keep(&seg.Key) {
			s.st.Filtered++
			continue
		}
		s.st.TCP++
		s.st.Bytes += int64(len(seg.Payload))
		return true
	}
}

// progressDue reports whether a progress report is due (checked when poll is
// set).
func (s *source) progressDue() bool {
	if s.opt.Progress == nil {
		return false
	}
	now := time.Now()
	if now.Before(s.nextTick) {
		return false
	}
	s.nextTick = now.Add(progressEvery)
	return true
}

// runSerial reads and assembles on one goroutine.
func runSerial(src *source, a Assembler) {
	var seg tcpasm.Segment
	for src.next(&seg) {
		if src.poll {
			src.poll = false
			if src.opt.Abort != nil {
				if err := src.opt.Abort(); err != nil {
					src.first = err
					return
				}
			}
			if src.progressDue() {
				read, total := src.r.Progress()
				src.opt.Progress(read, total, src.st.Packets)
			}
		}
		a.Assemble(&seg)
	}
}

// Between the stages: batches of up to batchSegs segments, numBatches of them
// circulating, and input buffers of chunkSize bytes lent to the readers.
const (
	batchSegs  = 256
	numBatches = 8
	chunkSize  = 256 << 10
	maxChunks  = 24 // 6 MiB lent at most, unless more readers hold one each
)

// batch is a run of segments and the input buffers to give back once they are
// assembled.
type batch struct {
	segs []tcpasm.Segment
	bufs [][]byte // buffers the readers gave back while this batch was filled
	// A progress snapshot taken by the reader, reported by the assembler.
	progress             bool
	read, total, packets int64
}

// stager is the reading goroutine's side: the batch being filled, idle
// batches, and the pool of input buffers it lends to the readers.
type stager struct {
	full     chan<- *batch // to the assembler
	done     <-chan *batch // back from the assembler
	cur      *batch
	idle     []*batch
	inflight int // batches sent and not yet back
	free     [][]byte
	chunks   int // buffers of chunkSize made
}

// Get lends a reader a buffer of n bytes or more. When none is free but
// batches are in flight it waits for one to come back (having sent the batch
// being filled, so the assembler has work); otherwise it allocates, so that
// the number of buffers adapts to how many readers hold one.
func (s *stager) Get(n int) []byte {
	if n > chunkSize {
		return make([]byte, n) // a record larger than a chunk: a buffer of its own
	}
	for len(s.free) == 0 && s.chunks >= maxChunks && s.inflight > 0 {
		if len(s.cur.segs) > 0 {
			s.send()
		} else {
			s.wait()
		}
	}
	if k := len(s.free); k > 0 {
		b := s.free[k-1]
		s.free = s.free[:k-1]
		return b
	}
	s.chunks++
	return make([]byte, chunkSize)
}

// Put takes back a buffer the reader no longer reads into: segments of the
// batch being filled (or of earlier ones) may still point into it.
func (s *stager) Put(b []byte) { s.cur.bufs = append(s.cur.bufs, b) }

// send passes the current batch to the assembler and starts a new one.
func (s *stager) send() {
	s.full <- s.cur
	s.inflight++
	for len(s.idle) == 0 {
		s.wait()
	}
	k := len(s.idle) - 1
	s.cur = s.idle[k]
	s.idle = s.idle[:k]
}

// wait takes back one batch from the assembler and frees its buffers.
func (s *stager) wait() {
	b := <-s.done
	s.inflight--
	for i, buf := range b.bufs {
		if len(buf) == chunkSize {
			s.free = append(s.free, buf)
		}
		b.bufs[i] = nil
	}
	b.segs, b.bufs, b.progress = b.segs[:0], b.bufs[:0], false
	s.idle = append(s.idle, b)
}

// runStaged reads on a new goroutine and assembles on this one.
func runStaged(src *source, a Assembler) {
	full := make(chan *batch, numBatches)
	done := make(chan *batch, numBatches)
	st := &stager{full: full, done: done}
	for range numBatches {
		st.idle = append(st.idle, &batch{segs: make([]tcpasm.Segment, 0, batchSegs)})
	}
	st.cur, st.idle = st.idle[0], st.idle[1:]
	src.r.SetLender(st)
	var stop atomic.Bool
	go func() {
		defer close(full)
		var seg tcpasm.Segment
		for src.next(&seg) {
			if len(st.cur.segs) == batchSegs {
				st.send()
				if stop.Load() {
					return
				}
			}
			b := st.cur
			b.segs = append(b.segs, seg)
			if src.poll {
				src.poll = false
				if src.progressDue() {
					b.progress = true
					b.read, b.total = src.r.Progress()
					b.packets = src.st.Packets
				}
			}
		}
		if len(st.cur.segs) > 0 {
			full <- st.cur
		}
	}()
	ba, _ := a.(batchAssembler)
	var abortErr error
	for b := range full {
		if abortErr == nil {
			if ba != nil {
				ba.AssembleBatch(b.segs)
			} else {
				for i := range b.segs {
					a.Assemble(&b.segs[i])
				}
			}
			if b.progress {
				src.opt.Progress(b.read, b.total, b.packets)
			}
			if src.opt.Abort != nil {
				if abortErr = src.opt.Abort(); abortErr != nil {
					stop.Store(true)
				}
			}
		}
		done <- b
	}
	// full is closed: the reading goroutine is done with src and r.
	src.r.SetLender(nil)
	if abortErr != nil {
		src.first = abortErr
	}
}
