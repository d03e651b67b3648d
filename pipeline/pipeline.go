package pipeline

import (
	"io"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/ipfrag"
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
	// flow key. It is CapturePoints' CaptureOuterVLAN.
	CapturePoint bool
	// CapturePoints selects what names the capture point of a frame (see
	// CaptureSource); an ERSPAN session always does.
	CapturePoints CaptureSource
	// Tables, when set, is filled with the capture points and tunnel stacks
	// that segments refer to by number, for the Handler to look up.
	Tables *Tables
	// Decode configures the decoder (tunnel ports); nil: the IANA ports.
	Decode *layers.DecodeOptions
	// Frag configures IP reassembly (timeout, memory bound).
	Frag ipfrag.Config
	// Keep, when set, selects the segments to assemble by their flow key;
	// the others are counted in Stats.Filtered. It runs on the reading
	// goroutine.
	Keep func(k *layers.FlowKey) bool
	// Select, when set, is asked after Keep about each segment with its
	// decoded packet (the innermost headers, every VLAN tag) and its time;
	// the segments it refuses are counted in Stats.Filtered too. It runs on
	// the reading goroutine. Start, when set, is called there with the
	// timestamp of the first packet read before Select is first asked (for
	// times relative to the start of the capture).
	Select func(seg *tcpasm.Segment, p *layers.Packet) bool
	Start  func(ts int64)
	// MarkFiltered gives the assembler the segments Select refuses too,
	// with tcpasm.Segment.Filtered set (still counted in Stats.Filtered,
	// not in TCP nor Bytes): connections are then numbered as over the
	// whole capture, whatever the filter, and the Handler is to leave out
	// those with tcpasm.Conn.Filtered. The segments Keep refuses are left
	// out still (a shard's Keep: the other shards' connections are not
	// this assembler's to number).
	MarkFiltered bool
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
	Filtered  int64 // TCP segments Options.Keep or Select left out
	NotTCP    int64 // frames that decoded to something else, or not at all
	Bytes     int64 // captured TCP payload bytes given to the assembler
	InputErrs int64 // input errors (a broken capture; the other inputs go on)

	Tunnelled         int64 // TCP segments that came through at least one tunnel
	TunnelUnsupported int64 // frames whose tunnel carried something Decode does not know
	Fragments         int64 // IP fragments taken (inner ones included)
	Reassembled       int64 // datagrams reassembled whole
	PartialDatagrams  int64 // datagrams given up on (timeout, memory bound, end of input): their captured runs were assembled
	FragmentBytesLost int64 // captured bytes of given-up datagrams that could not be placed (no TCP header captured before them)
	FragChecksumBad   int64 // reassembled datagrams dropped for a bad transport checksum (fragments of two datagrams that shared an IP ID), trains included
	Frag              ipfrag.Stats
	// TimesBackward counts frames whose timestamp is earlier than the one
	// before; TimeLeaps frames whose timestamp leapt more than an hour from
	// the capture clock (tcpasm.Clock), which reassembly does not follow.
	TimesBackward, TimeLeaps int64
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
	src.dec = newDecoder(&opt, &src.st)
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
	dec      *decoder
	st       Stats
	first    error // the first input error, or Abort's error
	errRun   int
	nextTick time.Time
	poll     bool // set by next every 4096 packets: time to poll Abort and Progress
}

// read returns the next packet; false at the end of the input. Input errors
// are counted and the first is kept; reading goes on with the other inputs.
func (s *source) read() (reseq.Packet, bool) {
	for {
		pkt, err := s.r.Next()
		if err == io.EOF {
			return reseq.Packet{}, false
		}
		if err != nil {
			s.st.InputErrs++
			if s.first == nil {
				s.first = err
			}
			// Next goes on with the other inputs; a reader that keeps failing
			// without progress is given up.
			if s.errRun++; s.errRun > 64 {
				return reseq.Packet{}, false
			}
			continue
		}
		s.errRun = 0
		s.st.Packets++
		if s.st.Packets&4095 == 0 {
			s.poll = true
		}
		return pkt, true
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

// runSerial reads and assembles on one goroutine. An assembler that takes
// batches gets them here too: the readers read into buffers lent by a
// serialLender, so a batch's payloads stay valid until it is assembled.
func runSerial(src *source, a Assembler) {
	ba, ok := a.(batchAssembler)
	if !ok {
		// Segments are assembled as soon as their packet is decoded: the
		// packet's data is valid until the next read.
		b := &batch{}
		for {
			pkt, ok := src.read()
			if !ok {
				break
			}
			src.dec.packet(&pkt, b)
			assembleEach(a, b)
			src.dec.release(b)
			if src.poll {
				src.poll = false
				if !src.pollAbort() {
					return
				}
			}
		}
		src.dec.finish(b)
		assembleEach(a, b)
		src.dec.release(b)
		return
	}
	l := &serialLender{cur: &batch{segs: make([]tcpasm.Segment, 0, batchSegs)}, dec: src.dec}
	src.r.SetLender(l)
	defer src.r.SetLender(nil)
	b := l.cur
	for {
		pkt, ok := src.read()
		if !ok {
			break
		}
		src.dec.packet(&pkt, b)
		// Assemble when the batch is full, or once the readers have moved
		// past two buffers (large packets), so that few buffers are lent.
		if len(b.segs) >= batchSegs || len(b.bufs) >= 2 || len(b.frags) >= sendFrags {
			l.assemble(ba)
			if src.poll {
				src.poll = false
				if !src.pollAbort() {
					return
				}
			}
		}
	}
	src.dec.finish(b)
	l.assemble(ba)
}

// assembleEach gives b's segments to a one at a time and empties b.
func assembleEach(a Assembler, b *batch) {
	for i := range b.segs {
		a.Assemble(&b.segs[i])
	}
	b.segs = b.segs[:0]
}

// pollAbort polls Abort and reports progress when due; false when Abort
// stopped the run (its error is kept).
func (s *source) pollAbort() bool {
	if s.opt.Abort != nil {
		if err := s.opt.Abort(); err != nil {
			s.first = err
			return false
		}
	}
	if s.progressDue() {
		read, total := s.r.Progress()
		s.opt.Progress(read, total, s.st.Packets)
	}
	return true
}

// serialLender lends the readers buffers for runSerial and takes back those
// given back while the current batch was filled once it is assembled.
type serialLender struct {
	cur  *batch
	free [][]byte
	dec  *decoder
}

func (l *serialLender) Get(n int) []byte {
	if n > chunkSize {
		return make([]byte, n)
	}
	if k := len(l.free); k > 0 {
		b := l.free[k-1]
		l.free = l.free[:k-1]
		return b
	}
	return make([]byte, chunkSize)
}

func (l *serialLender) Put(b []byte) { l.cur.bufs = append(l.cur.bufs, b) }

// assemble hands the current batch to ba and frees its buffers.
func (l *serialLender) assemble(ba batchAssembler) {
	b := l.cur
	if len(b.segs) > 0 {
		ba.AssembleBatch(b.segs)
	}
	for i, buf := range b.bufs {
		if len(buf) == chunkSize && len(l.free) < 8 {
			l.free = append(l.free, buf)
		}
		b.bufs[i] = nil
	}
	b.segs, b.bufs = b.segs[:0], b.bufs[:0]
	l.dec.release(b)
}

// Between the stages: batches of up to batchSegs segments, numBatches of them
// circulating, and input buffers of chunkSize bytes lent to the readers.
const (
	batchSegs  = 256
	numBatches = 8
	chunkSize  = 256 << 10
	maxChunks  = 24 // 6 MiB lent at most, unless more readers hold one each
	wakeAt     = numBatches / 2
	// maxBig bounds the bytes of buffers larger than a chunk (records larger
	// than a chunk) lent and not yet back, unless one record needs more.
	maxBig = 32 << 20
	// sendBufs: a batch is handed over once this many buffers were given back
	// while it was filled, however few segments it holds, so that frames that
	// are not TCP segments cannot make the reader lend buffers without end.
	sendBufs = 2
	// sendFrags: a batch is handed over once it holds this many reassembly
	// buffers (each up to 64 KiB), so that fragmented traffic keeps few lent
	// and the datagrams' buffers stay in cache: perf.pcap fragmented to 576
	// bytes took 2.23x the bare time with 16 (CPU 2.08x), 2.05x with 4 (CPU
	// 1.91x) and 2.04x with 2 (1.82x), quiet machine, medians of 5 rounds.
	sendFrags = 4
)

// batch is a run of segments and the input buffers to give back once they are
// assembled.
type batch struct {
	segs []tcpasm.Segment
	bufs [][]byte // buffers the readers gave back while this batch was filled
	// frags are the reassembly buffers its segments point into.
	frags []*ipfrag.Buffer
	// A progress snapshot taken by the reader, reported by the assembler.
	progress             bool
	read, total, packets int64

	// RunShards: the shard the batch belongs to, the clock before each
	// segment, and on the last batch the capture's last time.
	shard    int
	clock    []int64
	end      bool
	endClock int64
}

// stager is the reading goroutine's side: the batch being filled, idle
// batches, and the pool of input buffers it lends to the readers.
type stager struct {
	dec      *decoder
	full     *handoff // to the assembler
	done     *handoff // back from the assembler
	cur      *batch
	idle     []*batch
	inflight int // batches sent and not yet back
	free     [][]byte
	chunks   int      // buffers of chunkSize made
	big      int      // bytes of larger buffers lent and not yet back
	bigFree  [][]byte // larger buffers back, kept for records alike
}

// Get lends a reader a buffer of n bytes or more. When none is free but
// batches are in flight it waits for one to come back (having sent the batch
// being filled, so the assembler has work); otherwise it allocates, so that
// the number of buffers adapts to how many readers hold one.
func (s *stager) Get(n int) []byte {
	if n > chunkSize {
		// A record larger than a chunk: a buffer of its own, once those lent
		// before it came back (but for the one the reader still reads).
		for s.big > 0 && s.big+n > maxBig && (s.inflight > 0 || len(s.cur.bufs) > 0) {
			s.sendOrWait()
		}
		for i, b := range s.bigFree {
			if len(b) >= n {
				s.bigFree = append(s.bigFree[:i], s.bigFree[i+1:]...)
				s.big += len(b)
				return b
			}
		}
		s.big += n
		return make([]byte, n)
	}
	for len(s.free) == 0 && s.chunks >= maxChunks && (s.inflight > 0 || len(s.cur.bufs) > 0) {
		s.sendOrWait()
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

// sendOrWait passes the current batch to the assembler when it holds
// segments or buffers, else waits for one to come back.
func (s *stager) sendOrWait() {
	if len(s.cur.segs) > 0 || len(s.cur.bufs) > 0 {
		s.send()
	} else {
		s.wait()
	}
}

// send passes the current batch to the assembler and starts a new one.
func (s *stager) send() {
	s.full.put(s.cur)
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
	b, _ := s.done.get(s.full.kick) // the assembler has all batches it is to get
	s.inflight--
	for i, buf := range b.bufs {
		if len(buf) == chunkSize {
			s.free = append(s.free, buf)
		} else if len(buf) > chunkSize {
			s.big -= len(buf)
			if len(s.bigFree) < 2 {
				s.bigFree = append(s.bigFree, buf)
			} else {
				s.bigFree[0] = buf // the newest
			}
		}
		b.bufs[i] = nil
	}
	b.segs, b.bufs, b.progress = b.segs[:0], b.bufs[:0], false
	s.dec.release(b)
	s.idle = append(s.idle, b)
}

// runStaged reads on a new goroutine and assembles on this one.
func runStaged(src *source, a Assembler) {
	full, done := newHandoff(wakeAt), newHandoff(wakeAt)
	st := &stager{full: full, done: done, dec: src.dec}
	for range numBatches {
		st.idle = append(st.idle, &batch{segs: make([]tcpasm.Segment, 0, batchSegs)})
	}
	st.cur, st.idle = st.idle[0], st.idle[1:]
	src.r.SetLender(st)
	var stop atomic.Bool
	go func() {
		defer full.close()
		for {
			pkt, ok := src.read()
			if !ok {
				break
			}
			if b := st.cur; len(b.segs) >= batchSegs || len(b.bufs) >= sendBufs || len(b.frags) >= sendFrags {
				st.send()
				if stop.Load() {
					return
				}
			}
			b := st.cur
			src.dec.packet(&pkt, b)
			if src.poll {
				src.poll = false
				if src.progressDue() {
					b.progress = true
					b.read, b.total = src.r.Progress()
					b.packets = src.st.Packets
				}
			}
		}
		src.dec.finish(st.cur)
		if len(st.cur.segs) > 0 || len(st.cur.bufs) > 0 || len(st.cur.frags) > 0 {
			full.put(st.cur)
		}
	}()
	ba, _ := a.(batchAssembler)
	var abortErr error
	for {
		b, ok := full.get(done.kick)
		if !ok {
			break
		}
		if abortErr == nil {
			// A batch may hold no segment, only buffers to give back.
			if ba != nil && len(b.segs) > 0 {
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
		done.put(b)
	}
	// full is closed: the reading goroutine is done with src and r.
	src.r.SetLender(nil)
	if abortErr != nil {
		src.first = abortErr
	}
}
