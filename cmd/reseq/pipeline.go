package main

// The shared pipeline of the stream commands (extract, flows, follow, http):
// open the captures (reseq.Open: compression, format, merge by time) → decode
// each frame (layers) → filter → feed the TCP assembler, whose Handler the
// command supplies.
//
// Use:
//
//	pf := addPipelineFlags(in.flags)    // --capture-point, --overlap, limits, filters
//	args, ok := in.parse()              // flags may follow the captures
//	p, err := pf.pipeline(in.env, args) // validated
//	st, err := p.Run(handler)           // err: the first input error; everything
//	                                    // read before it was assembled and closed

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/ipfrag"
	"github.com/reseq/reseq/layers"
	stages "github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// assembler is the part of *tcpasm.Assembler the pipeline uses.
type assembler interface {
	Assemble(seg *tcpasm.Segment)
	Close()
}

// pipeline reads captures and feeds a Handler. The zero value of every field
// but Inputs is a valid default.
type pipeline struct {
	Inputs        []string
	Config        tcpasm.Config
	CapturePoints stages.CaptureSource  // what names a frame's capture point
	Decode        *layers.DecodeOptions // tunnel ports; nil: the IANA ports
	Frag          ipfrag.Config         // IP reassembly
	Filter        filter                // packets neither of whose endpoints match are skipped
	// CommunityIDSeed is the seed of the records' Community IDs.
	CommunityIDSeed uint16
	// Select is --filter, --since and --until; nil: everything.
	Select *packetSelector
	// Tables names the capture points and tunnel stacks that streams refer
	// to by number; Run fills it.
	Tables *stages.Tables

	// Progress, when set, is called about every 250 ms of wall time with the
	// input bytes read, their total (0 when unknown) and the packets read.
	Progress func(read, total, packets int64)
	// Warn, when set, is given a line for each thing the inputs held that
	// the outputs cannot show as it was (timestamps beyond 2262), once the
	// run ended.
	Warn func(msg string)
	// Abort, when set, is polled every few thousand packets; a non-nil error
	// stops the run (it is returned after the assembler was closed).
	Abort func() error
	// Serial runs reading and assembling on one goroutine (see Run).
	Serial bool
	// Workers is how many assemblers RunShards runs (0 or 1: one).
	Workers int
	// Shard, Shards: keep only the connections whose flow hash modulo
	// Shards is Shard (--shard; Shards 0: all).
	Shard, Shards int
	// fileKeep, set by Open when every input is a shard file of 'reseq
	// split', keeps the connections of the inputs' shards (shardRule):
	// split copied the IP fragments of every shard into each.
	fileKeep func(k *layers.FlowKey) bool
	// Interrupt, when set, stops the run on SIGINT/SIGTERM: Run returns
	// errInterrupted after closing every stream (see interrupt.go).
	Interrupt *interruption
	// Env, when set, supplies the assembler constructor (env.newAssembler).
	Env *env

	r *reseq.Reader // opened by Open
}

// Open opens the inputs ahead of Run, so that a command can report a missing
// or unreadable capture before it creates any output. Run opens them itself
// when Open was not called.
func (p *pipeline) Open() error {
	r, err := reseq.Open(p.Inputs...)
	if err != nil {
		return err
	}
	p.r = r
	p.fileKeep = shardFilesKeep(r)
	return nil
}

// Close releases inputs opened by Open when Run is not going to be called.
func (p *pipeline) Close() {
	if p.r != nil {
		p.r.Close()
		p.r = nil
	}
}

// pipelineStats counts what the pipeline saw.
type pipelineStats = stages.Stats

// Run reads every input to its end and closes the assembler, so every stream
// is flushed to h before it returns. The error is the first input error
// (*reseq.InputError; the run went on with the other inputs), an error from
// opening the inputs (nothing was read), or Abort's error.
//
// The work runs in the library's pipeline (package pipeline): with two or more
// CPUs a goroutine reads, decodes and filters the packets into batches of
// segments, and the calling goroutine assembles them; h, Progress and Abort
// are called on the calling goroutine only. The segments reach the assembler
// in the same order either way, so the output is the same.
func (p *pipeline) Run(h tcpasm.Handler) (pipelineStats, error) {
	r, err := p.take()
	if err != nil {
		return pipelineStats{}, err
	}
	defer r.Close()
	defer p.warnCaptures(r)
	opt := p.options()
	if p.filtering() {
		p.markFiltered(&opt)
		h = keptOnly(h)
	}
	asm := p.Env.assembler(p.Config, h)
	st, err := stages.Run(r, asm, opt)
	if p.Interrupt.latch() {
		// Whatever else went wrong (a read cut short by the signal).
		err = errInterrupted
	}
	asm.Close()
	return st, err
}

// options are the library pipeline's options for p: decoding, capture
// points, filters (Keep on the flow key, Select on the segment), progress,
// and Abort, which an interruption (SIGINT/SIGTERM) answers first.
func (p *pipeline) options() stages.Options {
	opt := stages.Options{
		CapturePoints: p.CapturePoints,
		Tables:        p.Tables,
		Decode:        p.Decode,
		Frag:          p.Frag,
		Serial:        p.Serial,
		Progress:      p.Progress,
		Abort:         p.Abort,
		Keep:          p.keep(),
	}
	if p.Select != nil {
		opt.Select, opt.Start = p.Select.keep, p.Select.start
	}
	if p.Interrupt != nil {
		abort := p.Abort
		opt.Abort = func() error {
			if err := p.Interrupt.abort(); err != nil {
				return err
			}
			if abort != nil {
				return abort()
			}
			return nil
		}
	}
	return opt
}

// take returns the inputs Open opened (opening them now if it was not
// called), for one run.
func (p *pipeline) take() (*reseq.Reader, error) {
	if p.r == nil {
		if err := p.Open(); err != nil {
			return nil, err
		}
	}
	r := p.r
	p.r = nil
	return r, nil
}

// keep returns the pipeline's Keep filter: the packet filter, --shard and
// the shard files' rule.
func (p *pipeline) keep() func(k *layers.FlowKey) bool {
	shard := p.shardKeep()
	filtered := len(p.Filter.Ports) > 0 || len(p.Filter.Hosts) > 0
	switch {
	case shard == nil && filtered:
		return p.Filter.match
	case !filtered:
		return shard
	}
	return func(k *layers.FlowKey) bool { return shard(k) && p.Filter.match(k) }
}

// shardKeep returns the Keep filter of --shard and of the shard files' rule;
// nil when neither leaves anything out.
func (p *pipeline) shardKeep() func(k *layers.FlowKey) bool {
	file := p.fileKeep
	if p.Shards <= 1 {
		return file
	}
	if file == nil {
		return func(k *layers.FlowKey) bool { return stages.ShardOf(k, p.Shards) == p.Shard }
	}
	return func(k *layers.FlowKey) bool { return stages.ShardOf(k, p.Shards) == p.Shard && file(k) }
}

// sharded reports whether the run keeps one shard's connections: --shard,
// or shard files of 'reseq split' as inputs (known once Open was called).
func (p *pipeline) sharded() bool { return p.Shards > 1 || p.fileKeep != nil }

// RunShards is Run with one assembler per handler (len(hs) of them, see
// stages.RunShards): the connections are shared out by flow hash, each
// handler called on its assembler's goroutine. The memory and connection
// limits stay global: each assembler gets its share of them. Progress and
// Abort are called on the calling goroutine.
func (p *pipeline) RunShards(hs []tcpasm.Handler) (pipelineStats, error) {
	if len(hs) == 1 {
		return p.Run(hs[0])
	}
	r, err := p.take()
	if err != nil {
		return pipelineStats{}, err
	}
	defer r.Close()
	defer p.warnCaptures(r)
	n := len(hs)
	cfg := p.Config
	if cfg.MaxMemory == 0 {
		cfg.MaxMemory = tcpasm.DefaultMaxMemory
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = tcpasm.DefaultMaxConns
	}
	cfg.MaxMemory = max(1, cfg.MaxMemory/int64(n))
	cfg.MaxConns = max(1, cfg.MaxConns/n)
	opt := p.options()
	marked := p.filtering()
	if marked {
		p.markFiltered(&opt)
	}
	asms := make([]assembler, n)
	as := make([]stages.Assembler, n)
	for i, h := range hs {
		if marked {
			h = keptOnly(h)
		}
		asms[i] = p.Env.assembler(cfg, h)
		as[i] = asms[i]
	}
	st, err := stages.RunShards(r, as, opt)
	if p.Interrupt.latch() {
		err = errInterrupted
	}
	var wg sync.WaitGroup
	for _, a := range asms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.Close()
		}()
	}
	wg.Wait()
	return st, err
}

// filtering reports whether --port, --host, --filter, --since or --until
// are given.
func (p *pipeline) filtering() bool {
	return len(p.Filter.Ports) > 0 || len(p.Filter.Hosts) > 0 || p.Select != nil
}

// markFiltered makes opt give the assembler the segments the filters refuse,
// marked (tcpasm.Segment.Filtered), instead of leaving them out: the
// connections are then numbered (Conn.Seq, Conn.FirstIndex order, so
// flows.jsonl's and http.jsonl's index and follow's selector) as over the
// whole capture, whatever the filter, like tshark's tcp.stream. The
// assembler assembles every connection, so a filter no longer saves
// assembling the others; the handler, wrapped by keptOnly, sees only the
// connections whose first packet passed, and of those only the packets
// that pass. --shard and the shard files' rule still leave the other shards'
// segments out.
func (p *pipeline) markFiltered(opt *stages.Options) {
	sel := opt.Select
	f := p.Filter
	byKey := len(f.Ports) > 0 || len(f.Hosts) > 0
	opt.Select = func(seg *tcpasm.Segment, pk *layers.Packet) bool {
		return (!byKey || f.match(&seg.Key)) && (sel == nil || sel(seg, pk))
	}
	opt.Keep = p.shardKeep()
	opt.MarkFiltered = true
}

// numberHolder is a Handler that numbers connections itself (densely, in
// the order of their first packet) and keeps the number of a connection
// the filter left out.
type numberHolder interface {
	holdNumber(c *tcpasm.Conn)
}

// keptOnly wraps h so that it sees only the connections with a packet the
// filter passed: from their first such packet (tcpasm.Conn.Filtered false;
// a connection whose first packet the filter refused is opened for h when
// it is revealed, with the bytes before as a gap of reason filtered, see
// tcpasm.RevealHandler). The connections the filter refused throughout are
// announced to a numberHolder only.
func keptOnly(h tcpasm.Handler) tcpasm.Handler {
	k := keptHandler{h: h}
	if rh, ok := h.(tcpasm.RSTHandler); ok {
		return &keptRSTHandler{k, rh}
	}
	return &k
}

type keptHandler struct{ h tcpasm.Handler }

func (k *keptHandler) Open(c *tcpasm.Conn) {
	if !c.Filtered {
		k.h.Open(c)
	} else if nh, ok := k.h.(numberHolder); ok {
		nh.holdNumber(c)
	}
}

// Reveal opens for h a connection opened by a packet the filter refused,
// at its first packet the filter passed.
func (k *keptHandler) Reveal(c *tcpasm.Conn) { k.h.Open(c) }

func (k *keptHandler) Data(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	if !s.Conn.Filtered {
		k.h.Data(s, off, data, ts)
	}
}

func (k *keptHandler) Gap(s *tcpasm.Stream, off, n int64, r tcpasm.Reason, ts int64) {
	if !s.Conn.Filtered {
		k.h.Gap(s, off, n, r, ts)
	}
}

func (k *keptHandler) Late(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	if !s.Conn.Filtered {
		k.h.Late(s, off, data, ts)
	}
}

func (k *keptHandler) Conflict(s *tcpasm.Stream, c tcpasm.Conflict, ts int64) {
	if !s.Conn.Filtered {
		k.h.Conflict(s, c, ts)
	}
}

func (k *keptHandler) Close(s *tcpasm.Stream, r tcpasm.Reason, ts int64) {
	if !s.Conn.Filtered {
		k.h.Close(s, r, ts)
	}
}

type keptRSTHandler struct {
	keptHandler
	rh tcpasm.RSTHandler
}

func (k *keptRSTHandler) RSTPayload(s *tcpasm.Stream, seq uint32, data []byte, ts int64) {
	if !s.Conn.Filtered {
		k.rh.RSTPayload(s, seq, data, ts)
	}
}

// filter keeps packets by port and host. Several ports (hosts) are
// alternatives; ports and hosts must both match when both are given. Either
// endpoint may match.
type filter struct {
	Ports []uint16
	Hosts []netip.Prefix
}

func (f *filter) match(k *layers.FlowKey) bool {
	if len(f.Ports) > 0 {
		ok := false
		for _, p := range f.Ports {
			if k.SrcPort == p || k.DstPort == p {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(f.Hosts) > 0 {
		src, dst := k.SrcAddr().Addr(), k.DstAddr().Addr()
		for _, h := range f.Hosts {
			if h.Contains(src) || h.Contains(dst) {
				return true
			}
		}
		return false
	}
	return true
}

// portList is a repeatable --port flag (also "80,443").
type portList struct{ f *filter }

func (p portList) String() string { return "" }
func (p portList) Set(s string) error {
	for _, x := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(x), 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("bad port %q", x)
		}
		p.f.Ports = append(p.f.Ports, uint16(n))
	}
	return nil
}

// hostList is a repeatable --host flag: an address or a CIDR prefix.
type hostList struct{ f *filter }

func (h hostList) String() string { return "" }
func (h hostList) Set(s string) error {
	for _, x := range strings.Split(s, ",") {
		x = strings.TrimSpace(x)
		x = strings.TrimSuffix(strings.TrimPrefix(x, "["), "]")
		if pf, err := netip.ParsePrefix(x); err == nil {
			h.f.Hosts = append(h.f.Hosts, pf.Masked())
			continue
		}
		a, err := netip.ParseAddr(x)
		if err != nil {
			return fmt.Errorf("bad host %q (want an address or a prefix)", x)
		}
		a = a.Unmap()
		h.f.Hosts = append(h.f.Hosts, netip.PrefixFrom(a, a.BitLen()))
	}
	return nil
}

// sizeHelp documents SIZE once, for every command's help.
const sizeHelp = `SIZE: a byte count, or a number with K, M, G or T (x1024), with or without
"iB": 4096, 64K, 4M, 4MiB, 1GiB. For every SIZE limit, 0 means no limit.`

// noLimit is what a SIZE limit of 0 stands for.
const noLimit = int64(1) << 60

// sizeFlag is a SIZE (see sizeHelp).
type sizeFlag struct{ v *int64 }

func (s sizeFlag) String() string {
	if s.v == nil || *s.v <= 0 {
		return "" // unset: no limit, or the help text names the default
	}
	return formatSize(*s.v)
}

func (s sizeFlag) Set(x string) error {
	n, err := parseSize(x)
	if err != nil {
		return err
	}
	*s.v = n
	return nil
}

// formatSize writes n the way SIZE reads it: 64MiB, 1GiB, 1500.
func formatSize(n int64) string {
	for _, u := range []struct {
		s string
		m int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.m && n%u.m == 0 {
			return strconv.FormatInt(n/u.m, 10) + u.s
		}
	}
	return strconv.FormatInt(n, 10)
}

// limit returns a SIZE limit's value with 0 meaning no limit.
func limit(n int64) int64 {
	if n == 0 {
		return noLimit
	}
	return n
}

func parseSize(x string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(x))
	if u, ok := strings.CutSuffix(t, "IB"); ok && u != "" && strings.ContainsAny(u[len(u)-1:], "KMGT") {
		t = u
	} else if u, ok := strings.CutSuffix(t, "B"); ok && u != "" && strings.ContainsAny(u[len(u)-1:], "KMGT0123456789") {
		t = u
	}
	mul := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mul = 1 << 10
		case 'M':
			mul = 1 << 20
		case 'G':
			mul = 1 << 30
		case 'T':
			mul = 1 << 40
		}
		if mul > 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mul {
		return 0, fmt.Errorf("bad size %q (want e.g. 4096, 64K, 4MiB, 1G)", x)
	}
	return n * mul, nil
}

// pipelineFlags are the command-line options every stream command shares.
type pipelineFlags struct {
	decodeFlags
	overlap      string
	overlapHosts []hostPolicy
	urgent       string
	maxMemory    int64
	maxHeld      int64
	idle         string
	filter       filter
	fragTimeout  string
	fragMemory   int64
	workers      int
	shard        string
	cidSeed      uint16
	sel          selectFlags
}

func addPipelineFlags(fs *flag.FlagSet) *pipelineFlags {
	// --frag-memory unset (-1): an eighth of --max-memory.
	pf := &pipelineFlags{fragMemory: -1, maxMemory: defaultMaxMemory, maxHeld: tcpasm.DefaultMaxHeldPerStream}
	pf.decodeFlags.add(fs)
	fs.StringVar(&pf.fragTimeout, "frag-timeout", "30s", "IP reassembly: how long in capture time a datagram waits for its fragments (`DURATION`); then its captured bytes are assembled as they are")
	fs.Var(sizeFlag{&pf.fragMemory}, "frag-memory", "IP reassembly: bytes held by incomplete datagrams (`SIZE`; default an eighth of --max-memory); above it the oldest is given up")
	fs.StringVar(&pf.overlap, "overlap", "first", "overlapping retransmissions that differ: which copy wins (`POLICY`): first, last, or a receiver's as Suricata names them (bsd, bsd-right, linux, old-linux, windows, solaris, old-solaris, hpux10, hpux11, irix, macos, vista, windows2k3); applies to bytes already written too (rewritten in place)")
	fs.Var(hostPolicies{&pf.overlapHosts}, "overlap-host", "the overlap policy of receiving hosts (`POLICY=CIDR[,CIDR...]`, repeatable; like Suricata's host-os-policy): a stream direction whose destination address lies in a prefix takes its policy, the most specific prefix winning; --overlap elsewhere")
	fs.StringVar(&pf.urgent, "urgent", "inline", "urgent bytes (URG, the byte before the urgent pointer): `inline` keeps them in the stream (RFC 9293, a receiver with SO_OOBINLINE), oob leaves them out (a receiver without it; Suricata's urgent policy oob); counted either way (urgent_bytes)")
	fs.Var(sizeFlag{&pf.maxMemory}, "max-memory", "memory for what grows with the input (`SIZE`): IP reassembly (--frag-memory of it), bytes held above holes, conflict windows, the connection table and each command's state per connection (about 1 KB a connection without data, plus 0.3 KB for extract, 0.8 KB for flows, 1.5 KB for http); over it the connections active least recently are evicted. Fixed on top: read buffers (at most 38 MiB) and the program")
	fs.Var(sizeFlag{&pf.maxHeld}, "max-held", "bytes held above a hole in one stream direction (`SIZE`)")
	fs.StringVar(&pf.idle, "idle", "", "after that long without a packet in capture time (`DURATION`, e.g. 2m; default 5m; 0 disables), a connection's held bytes are flushed as idle gaps; a packet in its sequence later resumes it (same number and roles), otherwise it is closed idle 10 minutes later or at the end")
	fs.Var(portList{&pf.filter}, "port", "keep connections with this `PORT` on either side (repeatable; shorthand for --filter 'port PORT')")
	fs.IntVar(&pf.workers, "workers", defaultWorkers(), "assemble on `N` goroutines, the connections shared out by flow hash (the output is the same for every N; default: the CPUs available less one for the reader)")
	fs.StringVar(&pf.shard, "shard", "", "keep only the connections whose flow hash modulo N is i (`i/N`): N processes, one per shard, each reading every input; 'reseq merge' combines their outputs")
	fs.Var(hostList{&pf.filter}, "host", "keep connections with this `ADDR` or prefix on either side (repeatable; shorthand for --filter 'net ADDR')")
	addSelectFlags(fs, &pf.sel)
	fs.Var(seedFlag{&pf.cidSeed}, "community-id-seed", "the `SEED` (0-65535) of the records' Community IDs (community_id)")
	return pf
}

// pipeline validates the flags and returns the pipeline for inputs, which
// takes its hooks from e (nil: the defaults).
func (pf *pipelineFlags) pipeline(e *env, inputs []string) (*pipeline, error) {
	p := &pipeline{Inputs: inputs, Filter: pf.filter, CommunityIDSeed: pf.cidSeed, Env: e}
	if e != nil {
		p.Serial = e.serial
	}
	p.Tables = &stages.Tables{}
	sel, err := pf.sel.compile()
	if err != nil {
		return nil, err
	}
	p.Select = sel
	p.CapturePoints, p.Decode, err = pf.decodeFlags.compile()
	if err != nil {
		return nil, err
	}
	if d, err := time.ParseDuration(pf.fragTimeout); err != nil || d < 0 {
		return nil, fmt.Errorf("--frag-timeout %q: want a duration such as 30s", pf.fragTimeout)
	} else {
		p.Frag.Timeout = int64(d)
		if d == 0 {
			p.Frag.Timeout = -1
		}
	}
	p.Frag.MaxBytes, p.Config.MaxMemory = pf.memoryBudget()
	if ov, ok := tcpasm.ParseOverlap(pf.overlap); ok {
		p.Config.Overlap = ov
	} else {
		return nil, fmt.Errorf("--overlap %q: want one of %s", pf.overlap, strings.Join(tcpasm.PolicyNames(), ", "))
	}
	p.Config.OverlapFor = overlapFor(pf.overlapHosts)
	switch pf.urgent {
	case "inline":
		p.Config.Urgent = tcpasm.UrgentInline
	case "oob":
		p.Config.Urgent = tcpasm.UrgentOOB
	default:
		return nil, fmt.Errorf("--urgent %q: want inline or oob", pf.urgent)
	}
	p.Config.MaxHeldPerStream = limit(pf.maxHeld)
	if pf.idle != "" {
		d, err := time.ParseDuration(pf.idle)
		if err != nil {
			if n, err2 := strconv.ParseFloat(pf.idle, 64); err2 == nil {
				d, err = time.Duration(n*float64(time.Second)), nil
			}
		}
		if err != nil || d < 0 {
			return nil, fmt.Errorf("--idle %q: want a duration such as 90s or 2m", pf.idle)
		}
		p.Config.IdleTimeout = int64(d)
		if d == 0 {
			p.Config.IdleTimeout = -1
		}
	}
	if pf.workers < 1 {
		return nil, fmt.Errorf("--workers %d: want 1 or more", pf.workers)
	}
	p.Workers = pf.workers
	if pf.shard != "" {
		i, n, ok := parseShard(pf.shard)
		if !ok {
			return nil, fmt.Errorf("--shard %q: want i/N with 0 <= i < N", pf.shard)
		}
		p.Shard, p.Shards = i, n
	}
	return p, nil
}

// defaultWorkers is --workers' default: the CPUs available less one for the
// reading goroutine, at least one.
func defaultWorkers() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// parseShard parses "i/N".
func parseShard(s string) (i, n int, ok bool) {
	a, b, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, false
	}
	return i, n, true
}

// parseArgs parses fs from args and returns the positional arguments; flags
// may come before, between or after them ("--" ends the flags).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at "--" too, having consumed it: detect that case.
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// What the commands' handlers keep per live connection, beyond the
// assembler's own tcpasm.ConnCost (measured by TestHandlerConnOverhead, with
// a margin): declared as tcpasm.Config.ConnOverhead, so that --max-memory
// covers it.
const (
	extractConnOverhead = 256
	flowsConnOverhead   = 768
	httpConnOverhead    = 1536
)

// defaultMaxMemory is --max-memory's default.
const defaultMaxMemory = 256 << 20

// memoryBudget splits --max-memory between IP reassembly (an eighth, unless
// --frag-memory sets its share) and the assembler (the rest, at least 1 MiB).
// 0 is no limit, for either.
func (pf *pipelineFlags) memoryBudget() (frag, asm int64) {
	frag = pf.fragMemory
	switch {
	case frag == 0:
		frag = noLimit
	case frag < 0 && pf.maxMemory == 0:
		frag = noLimit
	case frag < 0:
		frag = pf.maxMemory / 8
	}
	if pf.maxMemory == 0 {
		return frag, noLimit
	}
	return frag, max(pf.maxMemory-min(frag, pf.maxMemory), 1<<20)
}

// takeShare takes a command's own share of --max-memory, for state that
// grows with the input outside the assembler (HTTP parser state): an eighth
// of it, at least 1 MiB, out of the assembler's part (which keeps at least
// 1 MiB). 0: no limit.
func (pf *pipelineFlags) takeShare(p *pipeline) int64 {
	if pf.maxMemory == 0 {
		return 0
	}
	share := max(pf.maxMemory/8, 1<<20)
	p.Config.MaxMemory = max(p.Config.MaxMemory-share, 1<<20)
	return share
}

// warnCaptures tells Warn about packets whose timestamps lay outside what
// the outputs hold (before 1677 or after 2262): they were read at that bound.
func (p *pipeline) warnCaptures(r *reseq.Reader) {
	if p.Warn == nil {
		return
	}
	for _, c := range r.Captures() {
		if n := c.TimestampsOutOfRange; n > 0 {
			p.Warn(fmt.Sprintf("%s: %d packet timestamps before 1677 or after 2262 (the first at offset %d) were read as that bound: they cannot be written as times since 1970 in nanoseconds", c.Name, n, c.TimestampRangeOffset))
		}
	}
}

// warner returns a Warn that writes "CMD: warning: msg" lines to w.
func warner(w io.Writer, cmd string) func(string) {
	return func(msg string) { fmt.Fprintf(w, "%s: warning: %s\n", cmd, msg) }
}

// decodeFlags are the options that decide how a frame decodes and which flow
// key its TCP segment gets: the capture points (--capture-point outer drops
// the outer VLAN tag from the key, tunnel the VNI) and the tunnel ports. The
// stream commands and split share them, so that split routes a segment by
// the key an extract of its shard file gives it.
type decodeFlags struct {
	capturePoint string
	vxlanPorts   string
	genevePorts  string
	gtpuPorts    string
}

// add registers the flags on fs.
func (d *decodeFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&d.capturePoint, "capture-point", "outer", "what names the capture point of a packet, a comma `LIST` of: outer (the outer tag of a stack of two or more VLAN tags names the probe and leaves the flow key), tunnel (the outermost tunnel's source address and VNI, key or session names a mirror session), interface (the pcapng interface, or the LINUX_SLL2 interface index); or none. Copies of one packet from several capture points are duplicates, and each fills the other's loss. An ERSPAN session is always a capture point")
	fs.StringVar(&d.vxlanPorts, "vxlan-port", "4789", "UDP `PORTS` (comma list) decoded as VXLAN; e.g. 4789,8472 for Linux's legacy port; empty: none")
	fs.StringVar(&d.genevePorts, "geneve-port", "6081", "UDP `PORTS` (comma list) decoded as Geneve; empty: none")
	fs.StringVar(&d.gtpuPorts, "gtpu-port", "2152", "UDP `PORTS` (comma list) decoded as GTP-U; empty: none")
}

// compile validates the flags.
func (d *decodeFlags) compile() (stages.CaptureSource, *layers.DecodeOptions, error) {
	var cp stages.CaptureSource
	for _, x := range strings.Split(d.capturePoint, ",") {
		switch strings.TrimSpace(x) {
		case "outer":
			cp |= stages.CaptureOuterVLAN
		case "tunnel":
			cp |= stages.CaptureTunnel
		case "interface":
			cp |= stages.CaptureInterface
		case "none":
		default:
			return 0, nil, fmt.Errorf("--capture-point %q: want a comma list of outer, tunnel, interface, or none", d.capturePoint)
		}
	}
	dopt := &layers.DecodeOptions{}
	for _, f := range []struct {
		name, v string
		dst     *[]uint16
	}{{"--vxlan-port", d.vxlanPorts, &dopt.VXLANPorts}, {"--geneve-port", d.genevePorts, &dopt.GenevePorts}, {"--gtpu-port", d.gtpuPorts, &dopt.GTPUPorts}} {
		ports := []uint16{}
		for _, x := range strings.Split(f.v, ",") {
			if x = strings.TrimSpace(x); x == "" {
				continue
			}
			n, err := strconv.ParseUint(x, 10, 16)
			if err != nil || n == 0 {
				return 0, nil, fmt.Errorf("%s %q: want a comma list of UDP ports", f.name, f.v)
			}
			ports = append(ports, uint16(n))
		}
		*f.dst = ports
	}
	return cp, dopt, nil
}
