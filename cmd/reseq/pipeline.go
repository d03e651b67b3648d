package main

// The shared pipeline of the stream commands (extract, flows, follow, http):
// open the captures (reseq.Open: compression, format, merge by time) → decode
// each frame (layers) → filter → feed the TCP assembler, whose Handler the
// command supplies.
//
// Use:
//
//	fs := flag.NewFlagSet("cmd", flag.ContinueOnError)
//	pf := addPipelineFlags(fs)          // --capture-point, --overlap, limits, filters
//	args, err := parseArgs(fs, argv)    // flags may follow the captures
//	p, err := pf.pipeline(args)         // validated
//	st, err := p.Run(handler)           // err: the first input error; everything
//	                                    // read before it was assembled and closed

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
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

// newAssembler builds the pipeline's assembler; a test may replace it.
var newAssembler = func(cfg tcpasm.Config, h tcpasm.Handler) assembler { return tcpasm.New(cfg, h) }

// pipeline reads captures and feeds a Handler. The zero value of every field
// but Inputs is a valid default.
type pipeline struct {
	Inputs        []string
	Config        tcpasm.Config
	CapturePoints stages.CaptureSource  // what names a frame's capture point
	Decode        *layers.DecodeOptions // tunnel ports; nil: the IANA ports
	Frag          ipfrag.Config         // IP reassembly
	Filter        filter                // packets neither of whose endpoints match are skipped
	// Tables names the capture points and tunnel stacks that streams refer
	// to by number; Run fills it.
	Tables *stages.Tables

	// Progress, when set, is called about every 250 ms of wall time with the
	// input bytes read, their total (0 when unknown) and the packets read.
	Progress func(read, total, packets int64)
	// Abort, when set, is polled every few thousand packets; a non-nil error
	// stops the run (it is returned after the assembler was closed).
	Abort func() error
	// Serial runs reading and assembling on one goroutine (see Run).
	Serial bool

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
	if p.r == nil {
		if err := p.Open(); err != nil {
			return pipelineStats{}, err
		}
	}
	r := p.r
	p.r = nil
	defer r.Close()
	asm := newAssembler(p.Config, h)
	opt := stages.Options{
		CapturePoints: p.CapturePoints,
		Tables:        p.Tables,
		Decode:        p.Decode,
		Frag:          p.Frag,
		Serial:        p.Serial,
		Progress:      p.Progress,
		Abort:         p.Abort,
	}
	if len(p.Filter.Ports) > 0 || len(p.Filter.Hosts) > 0 {
		opt.Keep = p.Filter.match
	}
	st, err := stages.Run(r, asm, opt)
	asm.Close()
	return st, err
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

// sizeFlag is a byte count with an optional K/M/G (x1024) suffix.
type sizeFlag struct{ v *int64 }

func (s sizeFlag) String() string {
	if s.v == nil || *s.v == 0 {
		return "" // unset: the help text names the default
	}
	return strconv.FormatInt(*s.v, 10)
}

func (s sizeFlag) Set(x string) error {
	n, err := parseSize(x)
	if err != nil {
		return err
	}
	*s.v = n
	return nil
}

func parseSize(x string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(x)), "B"), "I")
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
		return 0, fmt.Errorf("bad size %q (want e.g. 4096, 64M, 1G)", x)
	}
	return n * mul, nil
}

// pipelineFlags are the command-line options every stream command shares.
type pipelineFlags struct {
	capturePoint string
	overlap      string
	maxMemory    int64
	maxHeld      int64
	idle         string
	filter       filter
	vxlanPorts   string
	genevePorts  string
	gtpuPorts    string
	fragTimeout  string
	fragMemory   int64
}

func addPipelineFlags(fs *flag.FlagSet) *pipelineFlags {
	pf := &pipelineFlags{}
	fs.StringVar(&pf.capturePoint, "capture-point", "outer", "what names the capture point of a packet, a comma `LIST` of: outer (the outer tag of a stack of two or more VLAN tags names the probe and leaves the flow key), tunnel (the outermost tunnel's source address and VNI, key or session names a mirror session), interface (the pcapng interface, or the LINUX_SLL2 interface index); or none. Copies of one packet from several capture points are duplicates, and each fills the other's loss. An ERSPAN session is always a capture point")
	fs.StringVar(&pf.vxlanPorts, "vxlan-port", "4789", "UDP `PORTS` (comma list) decoded as VXLAN; e.g. 4789,8472 for Linux's legacy port; empty: none")
	fs.StringVar(&pf.genevePorts, "geneve-port", "6081", "UDP `PORTS` (comma list) decoded as Geneve; empty: none")
	fs.StringVar(&pf.gtpuPorts, "gtpu-port", "2152", "UDP `PORTS` (comma list) decoded as GTP-U; empty: none")
	fs.StringVar(&pf.fragTimeout, "frag-timeout", "30s", "IP reassembly: how long in capture time a datagram waits for its fragments (`DURATION`); then its captured bytes are assembled as they are")
	fs.Var(sizeFlag{&pf.fragMemory}, "frag-memory", "IP reassembly: bytes held by incomplete datagrams (`SIZE`; default an eighth of --max-memory); above it the oldest is given up")
	fs.StringVar(&pf.overlap, "overlap", "first", "overlapping retransmissions: `first` copy wins, or last")
	fs.Var(sizeFlag{&pf.maxMemory}, "max-memory", "memory for what grows with the input (`SIZE`, e.g. 64M; default 256M): IP reassembly (--frag-memory of it), bytes held above holes, conflict windows, the connection table and each command's state per connection (about 1 KB a connection without data, plus 0.3 KB for extract, 0.6 KB for flows, 1.5 KB for http); over it the connections active least recently are evicted. Fixed on top: read buffers (at most 38 MiB) and the program")
	fs.Var(sizeFlag{&pf.maxHeld}, "max-held", "bytes held above a hole in one stream direction (`SIZE`; default 4M)")
	fs.StringVar(&pf.idle, "idle", "", "close connections idle that long in capture time (`DURATION`, e.g. 2m; default 120s; 0 disables)")
	fs.Var(portList{&pf.filter}, "port", "keep connections with this `PORT` on either side (repeatable)")
	fs.Var(hostList{&pf.filter}, "host", "keep connections with this `ADDR` or prefix on either side (repeatable)")
	return pf
}

// serialPipeline makes the commands' pipelines serial (tests compare both).
var serialPipeline = false

// pipeline validates the flags and returns the pipeline for inputs.
func (pf *pipelineFlags) pipeline(inputs []string) (*pipeline, error) {
	p := &pipeline{Inputs: inputs, Filter: pf.filter, Serial: serialPipeline}
	p.Tables = &stages.Tables{}
	for _, x := range strings.Split(pf.capturePoint, ",") {
		switch strings.TrimSpace(x) {
		case "outer":
			p.CapturePoints |= stages.CaptureOuterVLAN
		case "tunnel":
			p.CapturePoints |= stages.CaptureTunnel
		case "interface":
			p.CapturePoints |= stages.CaptureInterface
		case "none":
		default:
			return nil, fmt.Errorf("--capture-point %q: want a comma list of outer, tunnel, interface, or none", pf.capturePoint)
		}
	}
	dopt := &layers.DecodeOptions{}
	for _, f := range []struct {
		name, v string
		dst     *[]uint16
	}{{"--vxlan-port", pf.vxlanPorts, &dopt.VXLANPorts}, {"--geneve-port", pf.genevePorts, &dopt.GenevePorts}, {"--gtpu-port", pf.gtpuPorts, &dopt.GTPUPorts}} {
		ports := []uint16{}
		for _, x := range strings.Split(f.v, ",") {
			if x = strings.TrimSpace(x); x == "" {
				continue
			}
			n, err := strconv.ParseUint(x, 10, 16)
			if err != nil || n == 0 {
				return nil, fmt.Errorf("%s %q: want a comma list of UDP ports", f.name, f.v)
			}
			ports = append(ports, uint16(n))
		}
		*f.dst = ports
	}
	p.Decode = dopt
	if d, err := time.ParseDuration(pf.fragTimeout); err != nil || d < 0 {
		return nil, fmt.Errorf("--frag-timeout %q: want a duration such as 30s", pf.fragTimeout)
	} else {
		p.Frag.Timeout = int64(d)
		if d == 0 {
			p.Frag.Timeout = -1
		}
	}
	p.Frag.MaxBytes, p.Config.MaxMemory = pf.memoryBudget()
	switch pf.overlap {
	case "first":
		p.Config.Overlap = tcpasm.FirstWins
	case "last":
		p.Config.Overlap = tcpasm.LastWins
	default:
		return nil, fmt.Errorf("--overlap %q: want first or last", pf.overlap)
	}
	p.Config.MaxHeldPerStream = pf.maxHeld
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
	if len(inputs) == 0 {
		return nil, errors.New("no capture given")
	}
	return p, nil
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
	flowsConnOverhead   = 640
	httpConnOverhead    = 1536
)

// defaultMaxMemory is --max-memory's default.
const defaultMaxMemory = 256 << 20

// memoryBudget splits --max-memory between IP reassembly (an eighth, unless
// --frag-memory sets its share) and the assembler (the rest, at least 1 MiB).
func (pf *pipelineFlags) memoryBudget() (frag, asm int64) {
	budget := pf.maxMemory
	if budget <= 0 {
		budget = defaultMaxMemory
	}
	frag = pf.fragMemory
	if frag <= 0 {
		frag = budget / 8
	}
	return frag, max(budget-frag, 1<<20)
}
