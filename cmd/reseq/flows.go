package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	stages "github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

const flowsUsage = `usage: reseq flows [--format table|json|csv] [options] CAPTURE...

Lists every TCP connection, ordered by its first packet: client, server, VLAN
IDs, connection index on a reused tuple, packets and stream bytes each way, gap
bytes, retransmitted / duplicate / out-of-order packets, conflicts, state, first
packet and duration. The first column is the connection's number, the selector
of 'reseq follow' (use the same --capture-point and filter options there).

Bytes are stream payload bytes captured; gap bytes are the bytes of the
stream's extent no captured packet carried. State: closed (FIN both ways),
half-closed (FIN one way), reset (RST seen), open (neither at the end of the
capture), idle or evicted (closed by the assembler's limits). Handshake: full
(SYN and SYN-ACK seen), syn (client SYN only), none (picked up mid-stream).

--format json (or --json): one object per line, with the field names of
flows.jsonl (README: "Output fields"): index, conn, src (the client), dst (the
server), vlan, vni, capture_points, tunnels, first_frame, state, handshake,
first, last, duration_ns, and c2s / s2c objects with packets, length,
captured, gap_bytes, gap_count, retransmitted, duplicates, out_of_order,
conflicts, late, syn, fin, rst, close, first, last (null when the direction
has no packet). --format csv: the same fields, one column each (c2s_packets,
...), lists joined by ' '.

Options:
`

// flowDir is one direction of a flows row; the fields mean what flows.jsonl's
// fields of the same names mean.
type flowDir struct {
	Packets       int64   `json:"packets"`
	Length        int64   `json:"length"`   // the stream's extent
	Captured      int64   `json:"captured"` // captured stream bytes
	GapBytes      int64   `json:"gap_bytes"`
	GapCount      int64   `json:"gap_count"` // gaps declared (flows.jsonl lists them)
	Retransmitted int64   `json:"retransmitted"`
	Duplicates    int64   `json:"duplicates"`
	OutOfOrder    int64   `json:"out_of_order"`
	Conflicts     int64   `json:"conflicts"`
	Late          int64   `json:"late"`
	SYN           bool    `json:"syn"`
	FIN           bool    `json:"fin"`
	RST           bool    `json:"rst"`
	Close         string  `json:"close"`
	First         *string `json:"first"` // null when the direction has no packet
	Last          *string `json:"last"`

	closed bool
}

// flowRow is one connection of 'reseq flows'.
type flowRow struct {
	Index         int64          `json:"index"`
	Conn          int            `json:"conn"`
	Src           string         `json:"src"` // the client
	Dst           string         `json:"dst"` // the server
	CommunityID   string         `json:"community_id"`
	VLAN          []uint16       `json:"vlan,omitempty"`
	VNI           *uint32        `json:"vni,omitempty"`
	CapturePoints []string       `json:"capture_points,omitempty"`
	Tunnels       []tunnelRecord `json:"tunnels"`
	FirstFrame    int64          `json:"first_frame"`
	State         string         `json:"state"`
	Handshake     string         `json:"handshake"`
	First         string         `json:"first"`
	Last          string         `json:"last"`
	DurationNS    int64          `json:"duration_ns"`
	C2S           flowDir        `json:"c2s"`
	S2C           flowDir        `json:"s2c"`

	first, last int64
	order       connOrder
}

// flowLister implements tcpasm.Handler for 'reseq flows': it keeps only
// counters, of the live connections only; finished rows wait in a temporary
// file to be listed in order, so memory does not grow with the capture.
type flowLister struct {
	tables *stages.Tables
	seed   uint16 // Community ID seed
	intr   *interruption
	live   map[*flowRow]struct{}
	spill  *recordSpill
	err    error
}

func newFlowLister(t *stages.Tables, sg *signals) (*flowLister, error) {
	sp, err := newTempSpill(sg)
	if err != nil {
		return nil, err
	}
	return &flowLister{tables: t, live: map[*flowRow]struct{}{}, spill: sp}, nil
}

func (l *flowLister) row(s *tcpasm.Stream) (*flowRow, *flowDir) {
	r := s.User.(*flowRow)
	if s.Dir == tcpasm.ClientToServer {
		return r, &r.C2S
	}
	return r, &r.S2C
}

// holdNumber keeps the number of a connection the filter left out.
func (l *flowLister) holdNumber(c *tcpasm.Conn) { l.spill.reserve(orderOf(c)) }

func (l *flowLister) Open(c *tcpasm.Conn) {
	r := &flowRow{
		order: orderOf(c), Src: c.Key.SrcAddr().String(), Dst: c.Key.DstAddr().String(),
		VLAN: slices.Clone(c.Key.VLANIDs()), Conn: c.Index, FirstFrame: frameNumber(c.FirstIndex),
		CommunityID: communityID(l.seed, &c.Key),
	}
	if len(r.VLAN) == 0 {
		r.VLAN = nil
	}
	if c.Key.HasVNI {
		v := c.Key.VNI
		r.VNI = &v
	}
	for _, s := range c.Streams {
		if s != nil {
			s.User = r
		}
	}
	l.live[r] = struct{}{}
}

func (l *flowLister) Data(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	_, d := l.row(s)
	d.Captured += int64(len(data))
}

func (l *flowLister) Gap(s *tcpasm.Stream, off, n int64, r tcpasm.Reason, ts int64) {
	_, d := l.row(s)
	d.GapCount++
}

func (l *flowLister) Late(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	_, d := l.row(s)
	d.Captured += int64(len(data))
	d.Late += int64(len(data))
}

func (l *flowLister) Conflict(s *tcpasm.Stream, c tcpasm.Conflict, ts int64) {
	_, d := l.row(s)
	d.Conflicts++
}

func (l *flowLister) Close(s *tcpasm.Stream, reason tcpasm.Reason, ts int64) {
	r, d := l.row(s)
	if d.closed {
		return
	}
	d.closed = true
	d.Close = reasonName(l.intr.reason(reason))
	st := &s.Stats
	d.Packets, d.Retransmitted, d.Duplicates, d.OutOfOrder = st.Packets, st.Retransmitted, st.Duplicates, st.OutOfOrder
	d.Length = max(s.Extent, d.Captured)
	d.GapBytes = d.Length - d.Captured
	d.SYN, d.FIN, d.RST = s.SYN, s.FIN, s.RST
	if st.Packets > 0 {
		d.First, d.Last = timePtr(s.First), timePtr(s.Last)
	}
	c := s.Conn
	r.CapturePoints = pointNames(l.tables, c.CapturePoints)
	if s.Dir == tcpasm.ClientToServer || r.Tunnels == nil {
		r.Tunnels = tunnelRecords(l.tables, s.Encap)
	}
	r.first, r.last = c.First, c.Last
	if r.C2S.closed && r.S2C.closed {
		l.done(r)
	}
}

// done computes the row's state and moves it to the spill file.
func (l *flowLister) done(r *flowRow) {
	delete(l.live, r)
	a, b := &r.C2S, &r.S2C
	switch {
	case a.RST || b.RST:
		r.State = "reset"
	case a.FIN && b.FIN:
		r.State = "closed"
	case a.FIN || b.FIN:
		r.State = "half-closed"
	case a.Close == "idle" || b.Close == "idle":
		r.State = "idle"
	case a.Close == "evicted" || b.Close == "evicted":
		r.State = "evicted"
	default:
		r.State = "open"
	}
	switch {
	case a.SYN && b.SYN:
		r.Handshake = "full"
	case a.SYN:
		r.Handshake = "syn"
	default:
		r.Handshake = "none"
	}
	r.First, r.Last = fmtTime(r.first), fmtTime(r.last)
	r.DurationNS = r.last - r.first
	if err := l.spill.add(r.order, 0, r); err != nil && l.err == nil {
		l.err = err
	}
}

// finish lists the rows the assembler left open (it should leave none) and
// calls fn with every row's JSON line in connection order.
func (l *flowLister) finish(fn func(line []byte) error) error {
	defer l.spill.discard()
	rest := make([]*flowRow, 0, len(l.live))
	for r := range l.live {
		rest = append(rest, r)
	}
	for _, r := range rest {
		l.done(r)
	}
	if l.err != nil {
		return l.err
	}
	return l.spill.each(fn)
}

func runFlows(in *invocation) int {
	fs, stdout, stderr := in.flags, in.stdout, in.stderr
	format := fs.String("format", "table", "output `FORMAT`: table, json (one object per line) or csv")
	asJSON := fs.Bool("json", false, "short for --format json")
	pf := addPipelineFlags(fs)
	inputs, ok := in.parse()
	if !ok {
		return in.code
	}
	if *asJSON {
		*format = "json"
	}
	switch *format {
	case "table", "json", "csv":
	default:
		fmt.Fprintf(stderr, "reseq flows: --format %q: want table, json or csv\n", *format)
		return exitUsage
	}
	p, err := pf.pipeline(in.env, inputs)
	if err != nil {
		fmt.Fprintln(stderr, "reseq flows:", err)
		return exitUsage
	}
	p.Warn = warner(stderr, "reseq flows")
	p.Config.ConnOverhead = flowsConnOverhead
	l, err := newFlowLister(p.Tables, in.signals())
	if err != nil {
		fmt.Fprintln(stderr, "reseq flows:", err)
		return exitInput
	}
	l.seed = p.CommunityIDSeed
	intr := in.signals().catchInterrupts(inputs)
	defer intr.stop()
	p.Interrupt, l.intr = intr, intr
	prog := newProgress(stderr, nil)
	p.Progress = prog.callback()
	p.Abort = func() error { return l.err }
	_, inErr := p.Run(l)
	prog.done()
	switch *format {
	case "json":
		w := bufio.NewWriterSize(stdout, 64<<10)
		err = l.finish(func(line []byte) error {
			_, err := w.Write(line)
			return err
		})
		if err == nil {
			err = w.Flush()
		}
	case "csv":
		err = writeFlowCSV(stdout, l)
	default:
		err = writeFlowTable(stdout, l)
	}
	if err != nil {
		fmt.Fprintln(stderr, "reseq flows:", err)
		return exitInput
	}
	if inErr != nil {
		fmt.Fprintln(stderr, "reseq flows:", inErr)
		if errors.Is(inErr, errInterrupted) {
			return exitInterrupted
		}
		return exitInput
	}
	return exitOK
}

// vlanString writes the VLAN IDs of a flow key and its VNI: "100.200",
// "vni5001", "100.vni5001", "-" when none.
func vlanString(v []uint16, vni *uint32) string {
	s := make([]string, 0, len(v)+1)
	for _, x := range v {
		s = append(s, strconv.Itoa(int(x)))
	}
	if vni != nil {
		s = append(s, "vni"+strconv.FormatUint(uint64(*vni), 10))
	}
	return orDash(strings.Join(s, "."))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeFlowTable writes the rows as an aligned table; columns are aligned
// per block of tableBlock rows so the table streams.
func writeFlowTable(w io.Writer, l *flowLister) error {
	const tableBlock = 4096
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "#\tCLIENT\tSERVER\tVLAN\tTUNNEL\tCONN\tPKTS>\tBYTES>\tPKTS<\tBYTES<\tGAP BYTES\tRETX\tDUP\tOOO\tCONFL\tSTATE\tHS\tFIRST\tDURATION\t")
	n := 0
	err := l.finish(func(line []byte) error {
		var r flowRow
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		a, b := &r.C2S, &r.S2C
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t\n",
			r.Index, r.Src, r.Dst, vlanString(r.VLAN, r.VNI), orDash(tunnelsCompact(r.Tunnels)), r.Conn,
			a.Packets, a.Captured, b.Packets, b.Captured, a.GapBytes+b.GapBytes,
			a.Retransmitted+b.Retransmitted, a.Duplicates+b.Duplicates, a.OutOfOrder+b.OutOfOrder,
			a.Conflicts+b.Conflicts, r.State, r.Handshake,
			fmtTableTime(r.First), fmtDuration(r.DurationNS))
		if n++; n%tableBlock == 0 {
			return tw.Flush()
		}
		return nil
	})
	if ferr := tw.Flush(); err == nil {
		err = ferr
	}
	return err
}

// flowCSVHeader is --format csv's header: the JSON fields, the directions'
// prefixed with c2s_ and s2c_.
func flowCSVHeader() []string {
	h := []string{"index", "conn", "src", "dst", "vlan", "vni", "capture_points", "tunnels", "first_frame", "state", "handshake", "first", "last", "duration_ns"}
	for _, d := range []string{"c2s_", "s2c_"} {
		for _, f := range []string{"packets", "length", "captured", "gap_bytes", "gap_count", "retransmitted", "duplicates", "out_of_order", "conflicts", "late", "syn", "fin", "rst", "close", "first", "last"} {
			h = append(h, d+f)
		}
	}
	return h
}

func writeFlowCSV(w io.Writer, l *flowLister) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(flowCSVHeader()); err != nil {
		return err
	}
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	err := l.finish(func(line []byte) error {
		var r flowRow
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		vlan := make([]string, len(r.VLAN))
		for i, v := range r.VLAN {
			vlan[i] = strconv.Itoa(int(v))
		}
		vni := ""
		if r.VNI != nil {
			vni = strconv.FormatUint(uint64(*r.VNI), 10)
		}
		rec := []string{i64(r.Index), strconv.Itoa(r.Conn), r.Src, r.Dst, strings.Join(vlan, " "), vni,
			strings.Join(r.CapturePoints, " "), tunnelsCompact(r.Tunnels), i64(r.FirstFrame), r.State, r.Handshake,
			r.First, r.Last, i64(r.DurationNS)}
		for _, d := range []*flowDir{&r.C2S, &r.S2C} {
			rec = append(rec, i64(d.Packets), i64(d.Length), i64(d.Captured), i64(d.GapBytes), i64(d.GapCount),
				i64(d.Retransmitted), i64(d.Duplicates), i64(d.OutOfOrder), i64(d.Conflicts), i64(d.Late),
				strconv.FormatBool(d.SYN), strconv.FormatBool(d.FIN), strconv.FormatBool(d.RST), d.Close, str(d.First), str(d.Last))
		}
		return cw.Write(rec)
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return err
}
