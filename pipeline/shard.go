package pipeline

import (
	"sync"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/ipfrag"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/tcpasm"
)

// ShardOf returns the shard, among n, of the connection a segment with flow
// key k belongs to: the key's symmetric hash modulo n, so that both
// directions of a connection fall in one shard. RunShards and the commands'
// --shard use it.
func ShardOf(k *layers.FlowKey, n int) int {
	if n <= 1 {
		return 0
	}
	return int(k.SymmetricHash() % uint64(n))
}

// FlowKeyOf returns the flow key Run gives the TCP segment decoded in p when
// the capture points are s (Options.CapturePoints; CaptureOuterVLAN for
// Options.CapturePoint): with ShardOf, the shard a frame's connection goes
// to, for a tool that routes frames without running the pipeline ('reseq
// split').
func FlowKeyOf(p *layers.Packet, s CaptureSource) layers.FlowKey {
	k := p.FlowKey(s&CaptureOuterVLAN != 0)
	tunnelKey(&k, p, s)
	return k
}

// tunnelKey leaves the VNI out of the key of a tunnelled segment when the
// tunnel names a capture point (CaptureTunnel): the VNI then names the
// mirror session, not the flow.
func tunnelKey(k *layers.FlowKey, p *layers.Packet, s CaptureSource) {
	if p.NumTunnels > 0 && s&CaptureTunnel != 0 {
		k.VNI, k.HasVNI = 0, false
	}
}

// shardAssembler is an assembler that takes one flow-hash shard of a
// capture; *tcpasm.Assembler is one.
type shardAssembler interface {
	AssembleShard(segs []tcpasm.Segment, clock []int64)
	Advance(ts int64)
}

// RunShards is Run with len(as) assemblers: the segments of a connection
// (both directions: see ShardOf) go to one of them, each running on a
// goroutine of its own, so that the Handlers of different assemblers are
// called concurrently (each from its assembler's goroutine only). Reading,
// decoding, IP reassembly (ahead of the split: the segments of a reassembled
// datagram route like any other) and the Keep filter run on the calling
// goroutine, which also calls Progress and Abort.
//
// Each assembler gets its segments in capture order. An assembler with the
// methods AssembleShard and Advance (*tcpasm.Assembler) also sees time pass
// as one assembler taking every segment would: before each of its segments
// its clock is advanced to the latest capture time of the segments before it
// (of every shard), and at the end to the capture's last, so that idle
// timeouts and reorder allowances end alike for any number of shards. What
// still depends on the sharing is what each assembler's own limits decide
// (MaxMemory, MaxConns): a caller that keeps a global budget divides it.
//
// Serial, or one assembler, is Run.
func RunShards(r *reseq.Reader, as []Assembler, opt Options) (Stats, error) {
	if len(as) == 1 {
		return Run(r, as[0], opt)
	}
	if opt.Serial {
		ss := &serialShards{as: as}
		st, err := Run(r, ss, opt)
		ss.end()
		return st, err
	}
	src := source{opt: &opt, r: r}
	src.dec = newDecoder(&opt, &src.st)
	runShards(&src, as)
	if opt.Progress != nil {
		read, total := r.Progress()
		opt.Progress(read, total, src.st.Packets)
	}
	return src.st, src.first
}

// serialShards routes the segments of a serial run among several assemblers
// on the calling goroutine.
type serialShards struct {
	as    []Assembler
	ck    tcpasm.Clock
	clock int64
	set   bool
}

func (s *serialShards) Assemble(seg *tcpasm.Segment) {
	a := s.as[ShardOf(&seg.Key, len(s.as))]
	if sa, ok := a.(shardAssembler); ok && s.set {
		sa.Advance(s.clock)
	}
	a.Assemble(seg)
	s.ck.Observe(seg.Timestamp) // leaps filtered as in one assembler
	s.clock, s.set = s.ck.Now(), true
}

// end advances every assembler to the capture's last time.
func (s *serialShards) end() {
	for _, a := range s.as {
		if sa, ok := a.(shardAssembler); ok && s.set {
			sa.Advance(s.clock)
		}
	}
}

// pendingBuf is a buffer (an input buffer or a reassembly buffer) that
// segments of batches sent, or being filled, may point into: it is free once
// every shard has given back need[shard] batches.
type pendingBuf struct {
	buf  []byte
	frag *ipfrag.Buffer
	need []int64
}

// sharder is the reading goroutine's side of RunShards.
type sharder struct {
	dec     *decoder
	n       int
	stage   *batch     // the decoder's output for one packet
	cur     []*batch   // per shard: the batch being filled
	idle    [][]*batch // per shard: batches back from their assembler
	full    []*handoff // per shard: to its assembler
	done    *handoff   // back from every assembler
	sent    []int64    // per shard: batches sent
	back    []int64    // per shard: batches given back
	pending []pendingBuf
	needs   [][]int64 // free need vectors
	free    [][]byte
	chunks  int
	big     int
	ck      tcpasm.Clock
	clock   int64 // the capture clock after the segments routed so far
	clockOK bool
}

// Get lends a reader a buffer (see stager.Get).
func (s *sharder) Get(n int) []byte {
	if n > chunkSize {
		for s.big > 0 && s.big+n > maxBig && len(s.pending) > 0 {
			s.flushWait()
		}
		s.big += n
		return make([]byte, n)
	}
	for len(s.free) == 0 && s.chunks >= maxChunks && len(s.pending) > 0 {
		s.flushWait()
	}
	if k := len(s.free); k > 0 {
		b := s.free[k-1]
		s.free = s.free[:k-1]
		return b
	}
	s.chunks++
	return make([]byte, chunkSize)
}

// Put takes back a buffer the reader no longer reads into: the segments of
// batches sent or being filled may still point into it.
func (s *sharder) Put(b []byte) {
	s.hold(pendingBuf{buf: b})
	s.reclaim()
}

// hold queues p until every batch that may point into it was assembled.
func (s *sharder) hold(p pendingBuf) {
	if k := len(s.needs); k > 0 {
		p.need = s.needs[k-1]
		s.needs = s.needs[:k-1]
	} else {
		p.need = make([]int64, s.n)
	}
	for i := range s.n {
		p.need[i] = s.sent[i]
		if len(s.cur[i].segs) > 0 {
			p.need[i]++
		}
	}
	s.pending = append(s.pending, p)
}

// reclaim frees the held buffers no batch in flight points into any more.
// Needs only grow along the queue, so it looks at its front.
func (s *sharder) reclaim() {
	k := 0
	for ; k < len(s.pending); k++ {
		p := &s.pending[k]
		ok := true
		for i, n := range p.need {
			if s.back[i] < n {
				ok = false
				break
			}
		}
		if !ok {
			break
		}
		switch {
		case p.frag != nil:
			s.dec.frag.Release(p.frag)
		case len(p.buf) == chunkSize:
			s.free = append(s.free, p.buf)
		case len(p.buf) > chunkSize:
			s.big -= len(p.buf)
		}
		s.needs = append(s.needs, p.need)
		*p = pendingBuf{}
	}
	if k > 0 {
		s.pending = s.pending[:copy(s.pending, s.pending[k:])]
	}
}

// route moves the segments of the staging batch to their shards' batches,
// each with the clock before it, and holds the reassembly buffers they point
// into.
func (s *sharder) route() {
	st := s.stage
	for i := range st.segs {
		seg := &st.segs[i]
		if !s.clockOK {
			s.ck.Observe(seg.Timestamp)
			s.clock, s.clockOK = s.ck.Now(), true
		}
		k := ShardOf(&seg.Key, s.n)
		b := s.cur[k]
		b.segs = append(b.segs, *seg)
		b.clock = append(b.clock, s.clock)
		s.ck.Observe(seg.Timestamp) // leaps filtered as in one assembler
		s.clock = s.ck.Now()
		*seg = tcpasm.Segment{}
	}
	st.segs = st.segs[:0]
	for i, f := range st.frags {
		if f != nil {
			s.hold(pendingBuf{frag: f})
		}
		st.frags[i] = nil
	}
	st.frags = st.frags[:0]
	for k, b := range s.cur {
		if len(b.segs) >= batchSegs {
			s.send(k)
		}
	}
}

// send passes shard k's batch to its assembler and starts a new one.
func (s *sharder) send(k int) {
	s.full[k].put(s.cur[k])
	s.sent[k]++
	for len(s.idle[k]) == 0 {
		s.wait()
	}
	j := len(s.idle[k]) - 1
	s.cur[k] = s.idle[k][j]
	s.idle[k] = s.idle[k][:j]
}

// flushWait sends every batch holding segments and waits for one to come
// back.
func (s *sharder) flushWait() {
	for k, b := range s.cur {
		if len(b.segs) > 0 {
			s.send(k)
		}
	}
	s.wait()
}

// kick wakes every parked assembler that has a batch waiting.
func (s *sharder) kick() {
	for _, h := range s.full {
		h.kick()
	}
}

// wait takes back one batch from any assembler.
func (s *sharder) wait() {
	b, _ := s.done.get(s.kick)
	s.back[b.shard]++
	b.segs, b.clock, b.end = b.segs[:0], b.clock[:0], false
	s.idle[b.shard] = append(s.idle[b.shard], b)
	s.reclaim()
}

// runShards reads on the calling goroutine and assembles each shard on a
// goroutine of its own.
func runShards(src *source, as []Assembler) {
	n := len(as)
	s := &sharder{
		dec: src.dec, n: n, stage: &batch{},
		cur: make([]*batch, n), idle: make([][]*batch, n), full: make([]*handoff, n),
		done: newHandoffSize(wakeAt, n*numBatches),
		sent: make([]int64, n), back: make([]int64, n),
	}
	for k := range n {
		s.full[k] = newHandoff(wakeAt)
		for range numBatches {
			s.idle[k] = append(s.idle[k], &batch{shard: k, segs: make([]tcpasm.Segment, 0, batchSegs), clock: make([]int64, 0, batchSegs)})
		}
		j := len(s.idle[k]) - 1
		s.cur[k], s.idle[k] = s.idle[k][j], s.idle[k][:j]
	}
	var wg sync.WaitGroup
	for k, a := range as {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sa, _ := a.(shardAssembler)
			var last int64
			var lastOK bool
			for {
				b, ok := s.full[k].get(s.done.kick)
				if !ok {
					break
				}
				if sa != nil && len(b.segs) > 0 {
					sa.AssembleShard(b.segs, b.clock)
				} else {
					for i := range b.segs {
						a.Assemble(&b.segs[i])
					}
				}
				if b.end {
					last, lastOK = b.endClock, true
				}
				s.done.put(b)
			}
			if sa != nil && lastOK {
				sa.Advance(last)
			}
		}()
	}
	src.r.SetLender(s)
	for {
		pkt, ok := src.read()
		if !ok {
			break
		}
		src.dec.packet(&pkt, s.stage)
		s.route()
		if src.poll {
			src.poll = false
			if !src.pollAbort() {
				break
			}
		}
	}
	src.dec.finish(s.stage)
	s.route()
	for k, b := range s.cur {
		b.end, b.endClock = s.clockOK, s.clock
		s.full[k].put(b)
		s.sent[k]++
		s.cur[k] = nil
		s.full[k].close()
	}
	for _, h := range s.full {
		h.kick()
	}
	wg.Wait()
	src.r.SetLender(nil)
	// Every batch is back: the reassembly buffers can go.
	for i := range s.pending {
		if f := s.pending[i].frag; f != nil {
			s.dec.frag.Release(f)
		}
	}
}
