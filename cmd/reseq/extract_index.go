package main

// The extract handler: it receives the assembler's callbacks, writes every
// stream direction to its own offset-preserving file and builds the index
// DIR/flows.jsonl (see DESIGN.md "The extraction index") and
// DIR/conflicts.jsonl.

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/reseq/reseq"
	stages "github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// Gap reasons of the index beyond the assembler's.
const (
	// reasonMaxBytes: bytes at or beyond --max-bytes, not written.
	reasonMaxBytes tcpasm.Reason = 200 + iota
	// reasonUnreported: bytes the assembler neither delivered nor declared a gap
	// for (an assembler bug; kept visible rather than hidden).
	reasonUnreported
)

func reasonName(r tcpasm.Reason) string {
	switch r {
	case reasonMaxBytes:
		return "max_bytes"
	case reasonUnreported:
		return "unreported"
	case reasonInterrupted:
		return "interrupted"
	}
	return r.String()
}

// gapRange is one gap of a stream, [off, off+n).
type gapRange struct {
	off, n int64
	reason tcpasm.Reason
}

// streamState is the extractor's state of one stream direction (Stream.User).
type streamState struct {
	out       *outFile // nil until the first byte is written
	cursor    int64    // everything below it was delivered or declared a gap
	gaps      []gapRange
	written   int64 // bytes written (Data and Late, below --max-bytes)
	late      int64 // late bytes that filled declared gaps
	conflicts int64
	closed    bool
	reason    tcpasm.Reason
}

// flowRecord is one line of flows.jsonl.
type flowRecord struct {
	Src           string         `json:"src"`
	Dst           string         `json:"dst"`
	CommunityID   string         `json:"community_id"`
	VLAN          []uint16       `json:"vlan,omitempty"`
	VNI           *uint32        `json:"vni,omitempty"`
	CapturePoints []string       `json:"capture_points,omitempty"`
	Tunnels       []tunnelRecord `json:"tunnels"`
	Conn          int            `json:"conn"`
	Index         int64          `json:"index"`       // connection number, the row of 'reseq flows'
	FirstFrame    int64          `json:"first_frame"` // frame number (1-based) of the connection's first packet: the order of connections
	Dir           string         `json:"dir"`         // c2s or s2c
	File          string         `json:"file,omitempty"`
	BaseSeq       *uint32        `json:"base_seq,omitempty"`
	SYN           bool           `json:"syn"`
	FIN           bool           `json:"fin"`
	RST           bool           `json:"rst"`
	Close         string         `json:"close"`
	Length        int64          `json:"length"`
	Captured      int64          `json:"captured"`
	GapBytes      int64          `json:"gap_bytes"`
	Gaps          []gapRecord    `json:"gaps"`
	Packets       int64          `json:"packets"`
	Retransmitted int64          `json:"retransmitted"`
	Duplicates    int64          `json:"duplicates"`
	OutOfOrder    int64          `json:"out_of_order"`
	Conflicts     int64          `json:"conflicts"`
	Late          int64          `json:"late"`
	BeforeBase    int64          `json:"before_base"`
	OutOfWindow   int64          `json:"out_of_window"`
	RSTBytes      int64          `json:"rst_bytes"`
	RSTSurvived   int64          `json:"rst_survived"`
	UrgentBytes   int64          `json:"urgent_bytes,omitempty"`
	First         *string        `json:"first"` // null when the direction has no packet
	Last          *string        `json:"last"`
}

type gapRecord struct {
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Reason string `json:"reason"`
}

// conflictRecord is one line of conflicts.jsonl.
type conflictRecord struct {
	Src          string   `json:"src"`
	Dst          string   `json:"dst"`
	CommunityID  string   `json:"community_id"`
	VLAN         []uint16 `json:"vlan,omitempty"`
	Conn         int      `json:"conn"`
	Index        int64    `json:"index"`
	Dir          string   `json:"dir"`
	File         string   `json:"file,omitempty"`
	Offset       int64    `json:"offset"`
	Length       int64    `json:"length"`
	KeptFrame    int64    `json:"kept_frame"` // 1-based frame numbers
	DroppedFrame int64    `json:"dropped_frame"`
	KeptTime     string   `json:"kept_time"`
	DroppedTime  string   `json:"dropped_time"`
	// Kept says which copy the overlap policy kept: "first" (the earlier
	// packet's) or "last" (the later packet's); Rewritten, that the later
	// copy replaced bytes already written to File, in place.
	Kept      string `json:"kept"`
	Rewritten bool   `json:"rewritten,omitempty"`
}

// frameNumber turns a packet's 0-based index into the 1-based frame number
// Wireshark shows.
func frameNumber(index int64) int64 { return index + 1 }

func dirName(d tcpasm.Direction) string {
	if d == tcpasm.ClientToServer {
		return "c2s"
	}
	return "s2c"
}

// extractTotals are the numbers of the summary line.
type extractTotals struct {
	Conns, Streams, Files int64
	Bytes                 int64 // bytes written
	Gaps, GapBytes        int64
	Conflicts, Late       int64
	Anomalies             int64 // callbacks that broke the Handler contract
}

// extractor implements tcpasm.Handler for "reseq extract". With several
// assemblers (--workers) each has an extractor of its own (see shard), its
// callbacks on its assembler's goroutine; they share the index and the
// names.
type extractor struct {
	dir      string
	tpl      *nameTemplate
	maxBytes int64 // 0: no limit
	maxOpen  int
	force    bool
	pool     *filePool
	sh       *extractShared
	live     map[*tcpasm.Conn]struct{}
	warn     io.Writer
	tables   *stages.Tables
	cidSeed  uint16        // Community ID seed
	intr     *interruption // closes streams as interrupted once a signal came
	held     string        // extractorConfig.Held
	tot      extractTotals
	liveSt   atomic.Int64
	nconf    int64        // conflicts recorded by this extractor: their order
	sibs     []*extractor // the extractors of the other shards (on the first)
}

// extractShared is what the extractors of several shards share.
type extractShared struct {
	mu        sync.Mutex
	index     *recordSpill
	conflicts *recordSpill
	conflictF *os.File            // conflicts.jsonl, claimed at the start
	names     map[string]struct{} // names used, when collisions are possible
	err       error               // first output error
	failed    atomic.Bool
}

type extractorConfig struct {
	Dir      string
	Template *nameTemplate
	MaxBytes int64
	MaxOpen  int
	Force    bool
	Warn     io.Writer      // anomaly warnings; nil: discarded
	Tables   *stages.Tables // the pipeline's capture points and tunnel stacks; nil: none named
	// CommunityIDSeed seeds the records' community_id.
	CommunityIDSeed uint16
	// Held, when set, names the file (in Dir) that lists the connections
	// the filter left out, with their numbers: a shard run's, so that merge
	// numbers the connections of every shard as one filtered run does.
	Held string
	// Signals registers the temporary files (nil: a signals of its own).
	Signals *signals
}

// writeBufSize is the size of extract's write buffers. Every open file holds
// one, partly filled, so the pages a run touches grow with it: at 64 KiB the
// first fill of the buffers was half of a run's page faults (~8,500 on
// small.pcap, 15-19 us each on a VM); 16 KiB cuts a run's faults by 25-30%
// for 4x the write calls, which cost less than the faults saved.
const writeBufSize = 16 << 10

func newExtractor(cfg extractorConfig) (*extractor, error) {
	tpl := cfg.Template
	if tpl == nil {
		tpl, _ = parseTemplate(defaultTemplate)
	}
	warn := cfg.Warn
	if warn == nil {
		warn = io.Discard
	}
	if cfg.Signals == nil {
		cfg.Signals = &signals{}
	}
	e := &extractor{
		tables:   cfg.Tables,
		cidSeed:  cfg.CommunityIDSeed,
		held:     cfg.Held,
		dir:      cfg.Dir,
		tpl:      tpl,
		maxBytes: cfg.MaxBytes,
		maxOpen:  cfg.MaxOpen,
		force:    cfg.Force,
		live:     map[*tcpasm.Conn]struct{}{},
		warn:     warn,
		sh:       &extractShared{},
	}
	if cfg.Force || tpl.src != defaultTemplate {
		// The index files' names are taken.
		e.sh.names = map[string]struct{}{"flows.jsonl": {}, "conflicts.jsonl": {}, ".flows.jsonl.tmp": {}, ".flows.jsonl.new": {}, ".conflicts.jsonl.new": {}, heldFile: {}, "." + heldFile + ".new": {}}
	}
	var err error
	if e.sh.index, err = newRecordSpill(filepath.Join(cfg.Dir, ".flows.jsonl.tmp"), cfg.Signals); err != nil {
		return nil, err
	}
	if e.sh.conflictF, err = createOutput(filepath.Join(cfg.Dir, "conflicts.jsonl")); err != nil {
		e.sh.index.discard()
		return nil, err
	}
	if e.sh.conflicts, err = newTempSpill(cfg.Signals); err != nil {
		e.sh.index.discard()
		e.sh.conflictF.Close()
		return nil, err
	}
	e.pool = newFilePool(cfg.MaxOpen, writeBufSize, cfg.Force)
	return e, nil
}

// shards returns n extractors sharing e's output, e first, for n
// assemblers: the open files are shared out among them.
func (e *extractor) shards(n int) []*extractor {
	all := []*extractor{e}
	if n <= 1 {
		return all
	}
	per := max(1, e.maxOpen/n)
	e.pool.closeAll() // unused: the shards' pools replace it
	e.pool = newFilePoolShare(per, writeBufSize, e.force, n)
	for range n - 1 {
		x := &extractor{
			dir: e.dir, tpl: e.tpl, maxBytes: e.maxBytes, maxOpen: per, force: e.force,
			pool: newFilePoolShare(per, writeBufSize, e.force, n), sh: e.sh,
			live: map[*tcpasm.Conn]struct{}{}, warn: e.warn, tables: e.tables,
			cidSeed: e.cidSeed, intr: e.intr,
		}
		e.sibs = append(e.sibs, x)
		all = append(all, x)
	}
	return all
}

// live streams of every shard (for the progress line).
func (e *extractor) liveStreams() int64 {
	n := e.liveSt.Load()
	for _, x := range e.sibs {
		n += x.liveSt.Load()
	}
	return n
}

func (e *extractor) fail(err error) {
	if err == nil {
		return
	}
	e.sh.mu.Lock()
	if e.sh.err == nil {
		e.sh.err = err
		e.sh.failed.Store(true)
	}
	e.sh.mu.Unlock()
}

// firstErr returns the first output error.
func (e *extractor) firstErr() error {
	if !e.sh.failed.Load() {
		return nil
	}
	e.sh.mu.Lock()
	defer e.sh.mu.Unlock()
	return e.sh.err
}

func (e *extractor) anomaly(s *tcpasm.Stream, format string, args ...any) {
	e.tot.Anomalies++
	if e.tot.Anomalies <= 10 {
		e.sh.mu.Lock()
		defer e.sh.mu.Unlock()
		fmt.Fprintf(e.warn, "reseq: warning: %s conn %d %s: %s\n", s.Conn.Key, s.Conn.Index, dirName(s.Dir), fmt.Sprintf(format, args...))
	}
}

// Open implements tcpasm.Handler.
// holdNumber keeps the number of a connection the filter left out.
func (e *extractor) holdNumber(c *tcpasm.Conn) {
	e.sh.mu.Lock()
	e.sh.index.reserve(orderOf(c))
	e.sh.mu.Unlock()
}

func (e *extractor) Open(c *tcpasm.Conn) {
	e.live[c] = struct{}{}
	e.tot.Conns++
	for _, s := range c.Streams {
		if s != nil {
			s.User = &streamState{}
			e.liveSt.Add(1)
		}
	}
}

func state(s *tcpasm.Stream) *streamState {
	st, _ := s.User.(*streamState)
	if st == nil {
		st = &streamState{}
		s.User = st
	}
	return st
}

// advance moves the cursor to off, declaring whatever the assembler skipped
// as an unreported gap; it returns how many leading bytes of [off, off+n)
// lie below the cursor already.
func (e *extractor) advance(s *tcpasm.Stream, st *streamState, off, n int64) int64 {
	if off > st.cursor {
		e.anomaly(s, "bytes [%d, %d) neither delivered nor declared a gap", st.cursor, off)
		st.addGap(st.cursor, off-st.cursor, reasonUnreported)
		st.cursor = off
	}
	skip := min(st.cursor-off, n)
	if skip > 0 {
		e.anomaly(s, "bytes [%d, %d) delivered twice", off, off+skip)
	}
	return skip
}

func (st *streamState) addGap(off, n int64, r tcpasm.Reason) {
	if n <= 0 {
		return
	}
	if k := len(st.gaps); k > 0 {
		g := &st.gaps[k-1]
		if g.off+g.n == off && g.reason == r {
			g.n += n
			return
		}
	}
	st.gaps = append(st.gaps, gapRange{off, n, r})
}

// Data implements tcpasm.Handler.
func (e *extractor) Data(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	st := state(s)
	skip := e.advance(s, st, off, int64(len(data)))
	off += skip
	data = data[skip:]
	st.cursor = off + int64(len(data))
	e.write(s, st, off, data)
}

func (e *extractor) write(s *tcpasm.Stream, st *streamState, off int64, data []byte) {
	if e.maxBytes > 0 {
		if off >= e.maxBytes {
			return
		}
		if end := off + int64(len(data)); end > e.maxBytes {
			data = data[:e.maxBytes-off]
		}
	}
	if len(data) == 0 || e.sh.failed.Load() {
		return
	}
	if st.out == nil {
		name := e.tpl.name(s)
		if e.sh.names != nil {
			e.sh.mu.Lock()
			base := name
			for k := 1; ; k++ {
				if _, dup := e.sh.names[name]; !dup {
					break
				}
				name = fmt.Sprintf("%s-%d", base, k)
			}
			e.sh.names[name] = struct{}{}
			e.sh.mu.Unlock()
		}
		st.out = &outFile{path: filepath.Join(e.dir, filepath.FromSlash(name))}
		e.tot.Files++
	}
	if err := e.pool.writeAt(st.out, data, off); err != nil {
		e.fail(err)
		return
	}
	st.written += int64(len(data))
	e.tot.Bytes += int64(len(data))
}

// rewrite writes data over bytes at off written before (an overlap policy
// kept a later copy of them); bytes --max-bytes cut are not written. It
// reports whether anything was written.
func (e *extractor) rewrite(st *streamState, off int64, data []byte) bool {
	if e.maxBytes > 0 {
		if off >= e.maxBytes {
			return false
		}
		if end := off + int64(len(data)); end > e.maxBytes {
			data = data[:e.maxBytes-off]
		}
	}
	if len(data) == 0 || st.out == nil || e.sh.failed.Load() {
		return false
	}
	if err := e.pool.writeAt(st.out, data, off); err != nil {
		e.fail(err)
		return false
	}
	return true
}

// Gap implements tcpasm.Handler.
func (e *extractor) Gap(s *tcpasm.Stream, off, n int64, r tcpasm.Reason, ts int64) {
	r = e.intr.reason(r)
	st := state(s)
	skip := e.advance(s, st, off, n)
	st.addGap(off+skip, n-skip, r)
	if off+n > st.cursor {
		st.cursor = off + n
	}
}

// Late implements tcpasm.Handler: the bytes are written in place and removed
// from the stream's gaps. Only bytes that were inside a declared gap are
// written: a delivered byte is never overwritten.
func (e *extractor) Late(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	st := state(s)
	end := off + int64(len(data))
	// The first gap that ends after off.
	i, _ := slices.BinarySearchFunc(st.gaps, off, func(g gapRange, x int64) int {
		return cmp.Compare(g.off+g.n, x+1)
	})
	filled := int64(0)
	for i < len(st.gaps) && st.gaps[i].off < end {
		g := st.gaps[i]
		a, b := max(g.off, off), min(g.off+g.n, end)
		e.write(s, st, a, data[a-off:b-off])
		filled += b - a
		switch {
		case a == g.off && b == g.off+g.n:
			st.gaps = slices.Delete(st.gaps, i, i+1)
		case a == g.off:
			st.gaps[i] = gapRange{b, g.off + g.n - b, g.reason}
			i++
		case b == g.off+g.n:
			st.gaps[i].n = a - g.off
			i++
		default:
			st.gaps[i].n = a - g.off
			st.gaps = slices.Insert(st.gaps, i+1, gapRange{b, g.off + g.n - b, g.reason})
			i += 2
		}
	}
	st.late += filled
	e.tot.Late += filled
	if filled < int64(len(data)) {
		e.anomaly(s, "%d late bytes at %d outside any declared gap", int64(len(data))-filled, off)
	}
}

// Conflict implements tcpasm.Handler.
func (e *extractor) Conflict(s *tcpasm.Stream, c tcpasm.Conflict, ts int64) {
	st := state(s)
	st.conflicts++
	e.tot.Conflicts++
	key := s.Conn.Key
	if s.Dir == tcpasm.ServerToClient {
		key = key.Reverse()
	}
	r := conflictRecord{
		Src: key.SrcAddr().String(), Dst: key.DstAddr().String(), VLAN: key.VLANIDs(),
		CommunityID: communityID(e.cidSeed, &key),
		Conn:        s.Conn.Index, Dir: dirName(s.Dir),
		Offset: c.Offset, Length: c.Length,
		KeptFrame: frameNumber(c.KeptIndex), DroppedFrame: frameNumber(c.DroppedIndex),
		KeptTime: fmtTime(c.KeptTime), DroppedTime: fmtTime(c.DroppedTime),
		Kept: "first",
	}
	if c.KeptIndex > c.DroppedIndex {
		r.Kept = "last"
	}
	if c.Replace != nil {
		// The policy kept a later copy of bytes already written: rewrite
		// them where they stand (counted as written once, when first
		// written).
		r.Rewritten = e.rewrite(st, c.Offset, c.Replace)
	}
	if st.out != nil {
		r.File = filepath.ToSlash(mustRel(e.dir, st.out.path))
	} else {
		r.File = e.tpl.name(s)
	}
	// In the order of the connections, and of their making within one.
	o := orderOf(s.Conn)
	o.seq = e.nconf
	e.nconf++
	e.sh.mu.Lock()
	err := e.sh.conflicts.add(o, 0, &r)
	e.sh.mu.Unlock()
	e.fail(err)
}

func mustRel(base, p string) string {
	r, err := filepath.Rel(base, p)
	if err != nil {
		return p
	}
	return r
}

// Close implements tcpasm.Handler: the stream's file gets its final size and
// its index record is written.
func (e *extractor) Close(s *tcpasm.Stream, r tcpasm.Reason, ts int64) {
	r = e.intr.reason(r)
	st := state(s)
	if st.closed {
		e.anomaly(s, "closed twice")
		return
	}
	st.closed = true
	st.reason = r
	e.liveSt.Add(-1)
	e.tot.Streams++

	length := max(s.Extent, st.cursor)
	if st.cursor < length {
		gr := r
		switch r {
		case tcpasm.ReasonFIN, tcpasm.ReasonRST:
			gr = tcpasm.ReasonClosed
		case tcpasm.ReasonNone:
			gr = tcpasm.ReasonEOF
		}
		st.addGap(st.cursor, length-st.cursor, gr)
		st.cursor = length
	}
	if e.maxBytes > 0 && length > e.maxBytes {
		k := 0
		for _, g := range st.gaps {
			if g.off >= e.maxBytes {
				break
			}
			if g.off+g.n > e.maxBytes {
				g.n = e.maxBytes - g.off
			}
			st.gaps[k] = g
			k++
		}
		st.gaps = st.gaps[:k]
		st.addGap(e.maxBytes, length-e.maxBytes, reasonMaxBytes)
	}
	var gapBytes int64
	gaps := make([]gapRecord, len(st.gaps))
	for i, g := range st.gaps {
		gapBytes += g.n
		gaps[i] = gapRecord{g.off, g.n, reasonName(g.reason)}
	}
	e.tot.Gaps += int64(len(st.gaps))
	e.tot.GapBytes += gapBytes
	captured := length - gapBytes
	if captured != st.written && !e.sh.failed.Load() {
		e.anomaly(s, "captured %d bytes but wrote %d", captured, st.written)
	}

	c := s.Conn
	key := c.Key
	if s.Dir == tcpasm.ServerToClient {
		key = key.Reverse()
	}
	rec := flowRecord{
		Src: key.SrcAddr().String(), Dst: key.DstAddr().String(), CommunityID: communityID(e.cidSeed, &key),
		VLAN: key.VLANIDs(), CapturePoints: pointNames(e.tables, c.CapturePoints),
		Tunnels: tunnelRecords(e.tables, s.Encap),
		Conn:    c.Index, FirstFrame: frameNumber(c.FirstIndex), Dir: dirName(s.Dir),
		SYN: s.SYN, FIN: s.FIN, RST: s.RST, Close: reasonName(r),
		Length: length, Captured: captured, GapBytes: gapBytes, Gaps: gaps,
		Packets:       s.Stats.Packets,
		Retransmitted: s.Stats.Retransmitted,
		Duplicates:    s.Stats.Duplicates,
		OutOfOrder:    s.Stats.OutOfOrder,
		Conflicts:     st.conflicts,
		Late:          st.late,
		BeforeBase:    s.Stats.BeforeBase,
		OutOfWindow:   s.Stats.OutOfWindow,
		RSTBytes:      s.Stats.RSTBytes,
		RSTSurvived:   s.Stats.RSTSurvived,
		UrgentBytes:   s.Stats.UrgentBytes,
	}
	if len(rec.VLAN) == 0 {
		rec.VLAN = nil
	}
	if key.HasVNI {
		v := key.VNI
		rec.VNI = &v
	}
	if s.HaveBase {
		b := s.BaseSeq
		rec.BaseSeq = &b
	}
	if s.Stats.Packets > 0 {
		rec.First, rec.Last = timePtr(s.First), timePtr(s.Last)
	}
	if st.out != nil {
		rec.File = filepath.ToSlash(mustRel(e.dir, st.out.path))
		e.fail(e.pool.finish(st.out, length))
		st.out = nil
	}
	st.gaps = nil
	e.sh.mu.Lock()
	err := e.sh.index.add(orderOf(c), uint8(s.Dir), &rec)
	e.sh.mu.Unlock()
	e.fail(err)

	other := c.Streams[1-s.Dir]
	if other == nil || state(other).closed {
		delete(e.live, c)
	}
}

// finish closes the streams the assemblers left open (they should leave
// none), closes every file and writes flows.jsonl and conflicts.jsonl in
// order. It returns the first output error. Called on the first extractor,
// it finishes the other shards' too (their totals added to its).
func (e *extractor) finish() error {
	for _, x := range e.sibs {
		x.finishShard()
		t := &e.tot
		t.Conns += x.tot.Conns
		t.Streams += x.tot.Streams
		t.Files += x.tot.Files
		t.Bytes += x.tot.Bytes
		t.Gaps += x.tot.Gaps
		t.GapBytes += x.tot.GapBytes
		t.Conflicts += x.tot.Conflicts
		t.Late += x.tot.Late
		t.Anomalies += x.tot.Anomalies
	}
	e.finishShard()
	e.fail(e.sh.conflicts.writeSorted(filepath.Join(e.dir, "conflicts.jsonl")))
	e.fail(e.sh.conflictF.Close())
	e.fail(e.sh.index.writeSorted(filepath.Join(e.dir, "flows.jsonl")))
	if e.held != "" {
		e.fail(writeHeld(filepath.Join(e.dir, e.held), e.sh.index.held))
	}
	return e.firstErr()
}

// heldFile is the file of a shard run (extract --shard with a filter) that
// lists the connections the filter left out: one line {"index":N,
// "first_frame":F} each, in the order of their numbers, as flows.jsonl
// would have numbered them. merge reads it so that their numbers stay
// taken.
const heldFile = "filtered.jsonl"

// heldConn is a connection the filter left out: its number and the frame
// number of its first packet.
type heldConn struct {
	Index      int64 `json:"index"`
	FirstFrame int64 `json:"first_frame"`
}

// writeHeld writes the held connections to path (through a temporary file
// renamed into place).
func writeHeld(path string, held []heldConn) error {
	var b []byte
	for _, h := range held {
		b = fmt.Appendf(b, "{\"index\":%d,\"first_frame\":%d}\n", h.Index, h.FirstFrame)
	}
	return replaceFile(path, ".new", b)
}

// finishShard closes what one extractor left open and its files.
func (e *extractor) finishShard() {
	if len(e.live) > 0 {
		conns := make([]*tcpasm.Conn, 0, len(e.live))
		for c := range e.live {
			conns = append(conns, c)
		}
		slices.SortFunc(conns, func(a, b *tcpasm.Conn) int { return orderOf(a).compare(orderOf(b)) })
		for _, c := range conns {
			for _, s := range c.Streams {
				if s != nil && !state(s).closed {
					e.anomaly(s, "not closed by the assembler")
					e.Close(s, tcpasm.ReasonEOF, s.Last)
				}
			}
		}
	}
	e.fail(e.pool.closeAll())
}

// recordSpill holds finished index records in a temporary file, in the order
// they finished, with a small in-memory index to write them sorted by
// connection and direction at the end: memory stays small however many
// connections a capture holds.
type recordSpill struct {
	path string
	f    *os.File
	w    *bufio.Writer
	off  int64
	idx  []spillEntry
	buf  []byte
	// held lists the reserved connections (see reserve) with their
	// numbers, once each has run.
	held []heldConn
	// release closes and removes the file (gone already on Unix: see
	// forgetOnExit).
	release func()
}

type spillEntry struct {
	order connOrder
	off   int64
	n     int32
	ipos  int32 // where the record's "index" value (written 0) starts; -1: none
	dir   uint8
}

// connOrder orders connections the same way however a capture's connections
// were shared among assemblers or processes: by the frame number of the
// connection's first packet (tcpasm.Conn.FirstIndex), then (for connections
// opened by one frame) the symmetric hash of its key and its number on the
// tuple. Records of one connection keep the order seq of their making.
type connOrder struct {
	first int64
	hash  uint64
	conn  int64
	seq   int64
}

func orderOf(c *tcpasm.Conn) connOrder {
	return connOrder{first: c.FirstIndex, hash: c.Key.SymmetricHash(), conn: int64(c.Index)}
}

func (a connOrder) sameConn(b connOrder) bool {
	return a.first == b.first && a.hash == b.hash && a.conn == b.conn
}

func (a connOrder) compare(b connOrder) int {
	if c := cmp.Compare(a.first, b.first); c != 0 {
		return c
	}
	if c := cmp.Compare(a.hash, b.hash); c != 0 {
		return c
	}
	return cmp.Compare(a.conn, b.conn)
}

func newRecordSpill(path string, sg *signals) (*recordSpill, error) {
	f, err := openOutput(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return nil, err
	}
	return &recordSpill{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10), release: sg.forgetOnExit(f)}, nil
}

// newTempSpill is newRecordSpill on a new temporary file.
func newTempSpill(sg *signals) (*recordSpill, error) {
	f, release, err := sg.newTempFile("", "reseq-records-*.jsonl")
	if err != nil {
		return nil, err
	}
	return &recordSpill{path: f.Name(), f: f, w: bufio.NewWriterSize(f, 64<<10), release: release}, nil
}

// add spills rec, whose "index" field, 0, each numbers densely in connection
// order.
func (r *recordSpill) add(order connOrder, dir uint8, rec any) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	// A quote inside a JSON string is escaped: the first "index" key
	// is the record's own.
	ipos := bytes.Index(b, []byte(`"index":0`))
	if ipos >= 0 {
		ipos += len(`"index":`)
	}
	b = append(b, '\n')
	if _, err := r.w.Write(b); err != nil {
		return err
	}
	r.idx = append(r.idx, spillEntry{order: order, off: r.off, n: int32(len(b)), ipos: int32(ipos), dir: dir})
	r.off += int64(len(b))
	return nil
}

// reserve numbers the connection of order without a record: a connection
// the filter left out (tcpasm.Conn.Filtered), which keeps its number so that
// the others are numbered as without the filter. It costs an entry in
// memory (about 50 bytes), nothing on disk.
func (r *recordSpill) reserve(order connOrder) {
	r.idx = append(r.idx, spillEntry{order: order, n: -1, ipos: -1})
}

func (r *recordSpill) discard() {
	r.release()
}

// writeSorted writes the records sorted by (seq, dir) to path and removes the
// temporary file.
//
// The sorted copy is written to path+".new" beside it (never through a
// link), synced and renamed over path: a crash or a full disk leaves either
// the previous index, complete, or the new one, complete — never a torn
// line. Space: while it is written the directory holds the spill (the
// records unsorted, one index size; removed right after), the new copy (one
// more) and the previous index if any, until the rename: free space for
// twice the index size is needed, beyond a previous index's.
func (r *recordSpill) writeSorted(path string) error {
	defer r.discard()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".new")
	out, err := openOutput(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 64<<10)
	err = r.each(func(line []byte) error {
		_, err := w.Write(line)
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// each calls fn with every record (a JSON line with its newline) in
// connection order (see connOrder), then direction, then the order they were
// made, with its "index" the connection's number in that order. The slice
// is valid only during the call.
func (r *recordSpill) each(fn func(line []byte) error) error {
	if err := r.w.Flush(); err != nil {
		return err
	}
	slices.SortStableFunc(r.idx, func(a, b spillEntry) int {
		if c := a.order.compare(b.order); c != 0 {
			return c
		}
		if c := cmp.Compare(a.dir, b.dir); c != 0 {
			return c
		}
		return cmp.Compare(a.order.seq, b.order.seq)
	})
	num := int64(-1)
	var line []byte
	r.held = r.held[:0]
	records := false // the current connection has records
	for i, x := range r.idx {
		if i == 0 || !x.order.sameConn(r.idx[i-1].order) {
			num++
			records = false
			for j := i; j < len(r.idx) && r.idx[j].order.sameConn(x.order); j++ {
				records = records || r.idx[j].n >= 0
			}
			if !records {
				// Reserved only: a connection the filter left out
				// throughout (one it revealed later has records too).
				r.held = append(r.held, heldConn{Index: num, FirstFrame: frameNumber(x.order.first)})
			}
		}
		if x.n < 0 {
			continue
		}
		if cap(r.buf) < int(x.n) {
			r.buf = make([]byte, x.n)
		}
		b := r.buf[:x.n]
		if _, err := r.f.ReadAt(b, x.off); err != nil {
			return err
		}
		if x.ipos >= 0 && num != 0 {
			line = append(line[:0], b[:x.ipos]...)
			line = strconv.AppendInt(line, num, 10)
			b = append(line, b[x.ipos+1:]...)
			line = b
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

// heldFileOf names the file in which a run lists the connections the filter
// left out: a shard run's under a filter (--shard, or 'reseq split' shard
// files as inputs), for merge; none for the others. p's inputs are open.
func heldFileOf(p *pipeline) string {
	if !p.filtering() {
		return ""
	}
	if p.Shards > 1 {
		return heldFile
	}
	if p.r != nil {
		for _, cp := range p.r.Captures() {
			if secs := sectionsOf(cp); len(secs) > 0 && strings.HasPrefix(secs[0].UserAppl, reseq.SplitAppl) {
				return heldFile
			}
		}
	}
	return ""
}
