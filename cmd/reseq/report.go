package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/reseq/reseq"
	stages "github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

const reportUsage = `usage: reseq report -o REPORT.html [options] CAPTURE...

Writes one self-contained HTML page (inline SVG and CSS, a little inline
JavaScript to sort the table; nothing fetched from the network) that answers
whether the capture can be trusted, and beside it REPORT.json with its
figures (-o report.html writes report.json):

  1. summary: inputs, formats, compression, time span, packets, connections,
     bytes delivered, gap bytes by reason, late bytes, conflicts, pcapng
     interface drop counters, and two capture-loss estimates:
       reseq: acked-gap bytes / (delivered + acked-gap bytes), over the
              stream directions whose peer acknowledged data (ACK evidence);
       Zeek:  ACKs that acknowledged data the capture never saw / ACKs that
              acknowledged new data (capture_loss.log's percent_lost);
  2. capture loss per time bucket (128 to 256 buckets) above the packet and
     byte rates;
  3. capture points (probe, interface, mirror session): packets, packets no
     other point saw, packets of its connections another point saw and it
     did not, acked-gap bytes in its connections;
  4. the top N connections by gap bytes (then captured bytes), sortable,
     with the fields of extract's flows.jsonl, each linked to
  5. its time-sequence graph: x capture time, y 64-bit stream offset; data
     strokes, retransmissions, late fills, gap bands by reason, conflicts,
     the peer's ACK line, SACK blocks and window edge (window scale
     inferred), reduced to pixel resolution.

One pass, flat memory: every live connection keeps counters and, within
--graph-memory, its graph's events reduced on the fly; a finished connection
keeps them only while it is in the top N.

Options:
`

const plotUsage = `usage: reseq plot [options] CAPTURE... SELECTOR -o CONN.svg

Draws the time-sequence graph of 'reseq report' for one connection.
SELECTOR is a connection number as listed by 'reseq flows' (and in the
report), or ADDR:PORT-ADDR:PORT (with --conn N for the N-th connection on
the tuple). -o - writes to standard output.

Options:
`

func runReport(in *invocation) int {
	fs, stderr := in.flags, in.stderr
	var (
		out, jsonOut string
		topN         int
		graphMem     int64 = 64 << 20
		quiet        bool
	)
	fs.StringVar(&out, "o", "", "the HTML `FILE` to write")
	fs.StringVar(&jsonOut, "json", "", "the JSON `FILE` (default: -o with .json for .html)")
	fs.IntVar(&topN, "top", 100, "list and draw the top `N` connections by gap bytes")
	fs.Var(sizeFlag{&graphMem}, "graph-memory", "memory for the graph detail of live connections (`SIZE`); beyond it the detail of those with the fewest gap bytes is let go")
	fs.BoolVar(&quiet, "quiet", false, "no summary line")
	fs.BoolVar(&quiet, "q", false, "short for --quiet")
	pf := addPipelineFlags(fs)
	inputs, ok := in.parse()
	if !ok {
		return in.code
	}
	if out == "" {
		fmt.Fprintln(stderr, "reseq report: -o FILE is required")
		return exitUsage
	}
	if topN < 0 {
		fmt.Fprintln(stderr, "reseq report: --top must be at least 0")
		return exitUsage
	}
	if jsonOut == "" {
		jsonOut = strings.TrimSuffix(out, filepath.Ext(out)) + ".json"
		if jsonOut == out {
			jsonOut = out + ".json"
		}
	}
	p, err := pf.pipeline(in.env, inputs)
	if err != nil {
		fmt.Fprintln(stderr, "reseq report:", err)
		return exitUsage
	}
	p.Warn = warner(stderr, "reseq report")
	rc := newReportCollector(p.Tables, topN, limit(graphMem))
	res, inErr := runCollector(p, rc, stderr)
	if res == nil {
		fmt.Fprintln(stderr, "reseq report:", inErr)
		return exitInput
	}
	rep := buildReport(res)
	if err := writeReportFiles(out, jsonOut, rep, res); err != nil {
		fmt.Fprintln(stderr, "reseq report:", err)
		return exitInput
	}
	if !quiet {
		fmt.Fprintf(stderr, "reseq report: %s, %s, %d bytes delivered, %d gap bytes (%d acked), loss %.3f%% of bytes (reseq), %.3f%% of ACKs (Zeek); %d graphs; %s, %s\n",
			plural(rep.Packets, "packet"), plural(rep.Connections, "connection"), rep.DeliveredBytes, rep.GapBytes["total"], rep.GapBytes["acked"], rep.LossBytesPct, rep.LossAcksPct, len(rep.Top), out, jsonOut)
	}
	if inErr != nil {
		fmt.Fprintln(stderr, "reseq report:", inErr)
		return exitInput
	}
	return exitOK
}

// collected is what one run of the collector yields.
type collected struct {
	rc       *reportCollector
	st       stages.Stats
	top      []*reportConn
	captures []*reseq.Capture
	skipped  []reseq.Skipped
}

// runCollector runs the pipeline with rc around the assembler. It returns
// nil and the error when the inputs could not be opened.
func runCollector(p *pipeline, rc *reportCollector, stderr io.Writer) (*collected, error) {
	r, err := p.take() // and the shard files' rule (pipeline.Open)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	defer p.warnCaptures(r)
	opt := p.options()
	var h tcpasm.Handler = rc
	if p.filtering() {
		// Number the connections as over the whole input (as flows and
		// extract do): the assembler sees the refused segments marked, the
		// collector neither their connections nor their figures.
		p.markFiltered(&opt)
		h = keptOnly(rc)
	}
	rc.asm = tcpasm.New(p.Config, h)
	prog := newProgress(stderr, func() int64 { return int64(len(rc.live)) })
	opt.Progress = prog.callback()
	st, inErr := stages.Run(r, rc, opt)
	prog.done()
	rc.asm.Close()
	res := &collected{rc: rc, st: st, captures: r.Captures(), skipped: r.Skipped()}
	res.top = rc.finish()
	return res, inErr
}

// writeReportFiles writes the page and its JSON, each to a temporary file
// renamed into place.
func writeReportFiles(htmlPath, jsonPath string, rep *reportJSON, res *collected) error {
	var page strings.Builder
	writeReportHTML(&page, rep, res, filepath.Base(jsonPath))
	if err := writeFileAtomic(htmlPath, []byte(page.String())); err != nil {
		return err
	}
	b, err := marshalReport(rep)
	if err != nil {
		return err
	}
	return writeFileAtomic(jsonPath, b)
}

func writeFileAtomic(path string, data []byte) error {
	if path == "-" {
		_, err := os.Stdout.Write(data)
		return err
	}
	return replaceFile(path, ".tmp", data)
}

// replaceFile writes data to path through a temporary file beside it (named
// ".NAME"+suffix) renamed into place: path holds either its old content or
// all of data, never a part.
func replaceFile(path, suffix string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+suffix)
	f, err := openOutput(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
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

func runPlot(in *invocation) int {
	fs, stdout, stderr := in.flags, in.stdout, in.stderr
	out := fs.String("o", "", "the SVG `FILE` to write (- for standard output)")
	connIx := fs.Int("conn", 0, "with an address selector: the `N`-th connection on the tuple")
	pf := addPipelineFlags(fs)
	pos, ok := in.parse()
	if !ok {
		return in.code
	}
	if *out == "" {
		fmt.Fprintln(stderr, "reseq plot: want CAPTURE... SELECTOR -o FILE")
		return exitUsage
	}
	sel, err := parseSelector(pos[len(pos)-1], *connIx)
	if err != nil {
		fmt.Fprintln(stderr, "reseq plot:", err)
		return exitUsage
	}
	p, err := pf.pipeline(in.env, pos[:len(pos)-1])
	if err != nil {
		fmt.Fprintln(stderr, "reseq plot:", err)
		return exitUsage
	}
	if sel.index < 0 && len(p.Filter.Ports) == 0 && len(p.Filter.Hosts) == 0 {
		// Only this tuple matters (as in follow).
		a := sel.a.Addr()
		p.Filter = filter{Ports: []uint16{sel.a.Port()}, Hosts: []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}}
	}
	rc := newReportCollector(p.Tables, 0, 0)
	var found *reportConn
	rc.want = func(c *tcpasm.Conn) bool { return sel.match(c) }
	res, inErr := runCollector(p, rc, io.Discard)
	if res == nil {
		fmt.Fprintln(stderr, "reseq plot:", inErr)
		return exitInput
	}
	_ = res
	found = rc.wanted
	if found == nil {
		fmt.Fprintf(stderr, "reseq plot: no connection matches %s\n", pos[len(pos)-1])
		if inErr != nil {
			fmt.Fprintln(stderr, "reseq plot:", inErr)
		}
		return exitInput
	}
	var b strings.Builder
	writeConnSVG(&b, found, true)
	b.WriteByte('\n')
	if *out == "-" {
		_, err = io.WriteString(stdout, b.String())
	} else {
		err = writeFileAtomic(*out, []byte(b.String()))
	}
	if err != nil {
		fmt.Fprintln(stderr, "reseq plot:", err)
		return exitInput
	}
	if inErr != nil {
		fmt.Fprintln(stderr, "reseq plot:", inErr)
		return exitInput
	}
	return exitOK
}

// sortedPoints returns the capture points in first-seen order.
func sortedPoints(ps []*reportPoint) []*reportPoint {
	out := slices.Clone(ps)
	return out
}
