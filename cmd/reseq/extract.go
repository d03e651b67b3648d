package main

import (
	"errors"
	"fmt"

	"github.com/reseq/reseq/tcpasm"
)

const extractUsage = `usage: reseq extract -o DIR [options] CAPTURE...

Writes one file per TCP stream direction into DIR and the index DIR/flows.jsonl
(one JSON object per direction of every connection, ordered by the
connection's first packet, client->server first) and DIR/conflicts.jsonl.

Byte k of a stream file is stream byte k: bytes no captured packet carried are
holes (zero, sparse where the filesystem allows) and are listed in the record's
"gaps" with a reason; bytes that arrive late are written in place. A file's
size equals its record's "length"; "file" is absent when no byte was captured.

Index fields (README "Output fields"; DESIGN.md "The extraction index"):
index (the connection's number, as in 'reseq flows'), conn (0, 1, ... on a
reused tuple), src, dst (the sender and receiver of this direction), community_id
(Community ID v1, the same for both directions; --community-id-seed), vlan,
vni, capture_points, tunnels, first_frame (the 1-based frame number, as
Wireshark shows it, of the connection's first packet: connections are
numbered in its order; a packet in IP fragments is its first fragment's
frame, where Wireshark shows the frame that completed it), dir (c2s/s2c), file, base_seq, syn, fin, rst, close
(why the stream ended), length (the extent), captured (length minus gap
bytes), gap_bytes, gaps [{offset, length, reason}] (sorted, non-overlapping,
exactly the bytes no captured packet carried; adjacent gaps of different
reasons are listed separately), packets, retransmitted, duplicates,
out_of_order, conflicts (see conflicts.jsonl), late (bytes that arrived
after their gap was reported, written in place), before_base (bytes below
offset 0), out_of_window (packets, or the peer's ACKs, that claimed bytes
beyond everything else known of the stream by more than the receiver's
window allows and that nothing later corroborated: dropped, they never
stretch it), rst_bytes (the payload
bytes RSTs carried: diagnostic, not stream data, never in length or a gap),
rst_survived (the direction's RSTs that the connection evidently survived:
its own SYN-ACK or the RST's sender went on, so they did not end it),
urgent_bytes (URG bytes seen, when any: in the stream, or left out of it
and of length with --urgent oob),
first, last (RFC 3339 UTC with 9 fractional digits; null when the
direction has no packet).

CAPTURE: pcap or pcapng, possibly compressed (gzip, zstd, lz4, xz, bzip2) or in
a zip/tar archive; several are merged by time; "-" is standard input.

Default names are tcpflow's (its default template %A.%a-%B.%b%V%v%C%c):
010.000.000.001.00443-010.000.000.002.51234 for 10.0.0.1:443 ->
10.0.0.2:51234, "--ID" per VLAN tag of the flow key, "cN" for the N-th reuse
of a tuple (N >= 1). IPv6 addresses are written as eight 4-digit hex groups
joined by '_' (tcpflow writes fd77::1; ':' is not valid on Windows).

--max-bytes SIZE: stream bytes at offsets >= N are not written; the record keeps
the stream's true "length" and lists [N, length) as one gap with reason
"max_bytes" (so "captured" counts only the bytes written, and the file, still
"length" bytes long, is sparse past N).

Exit status: 0 success, 1 input or output error (everything read before it is
written and indexed), 2 usage, 130 interrupted (SIGINT, SIGTERM: reading stops,
the streams left open are closed with close reason "interrupted", the bytes
held above their holes become gaps of that reason, and the index is written in
full; a second signal exits at once). A non-empty DIR is refused (status 1) unless
--force.

Options:
`

func runExtract(in *invocation) int {
	fs, stderr := in.flags, in.stderr
	var (
		dir      string
		tplStr   string
		maxBytes int64
		maxOpen  int
		quiet    bool
		force    bool
	)
	fs.StringVar(&dir, "o", "", "output `DIR` (created if needed)")
	fs.StringVar(&tplStr, "T", defaultTemplate, templateHelp)
	fs.Var(sizeFlag{&maxBytes}, "max-bytes", "write at most the first `SIZE` bytes of each stream direction (0: no limit)")
	fs.IntVar(&maxOpen, "max-open", 256, "keep at most `N` stream files open at once")
	fs.BoolVar(&quiet, "quiet", false, "no summary line")
	fs.BoolVar(&quiet, "q", false, "short for --quiet")
	fs.BoolVar(&force, "force", false, "write into a non-empty DIR: first remove the files a previous run listed in DIR's flows.jsonl and http.jsonl (and those indexes and conflicts.jsonl), nothing else")
	pf := addPipelineFlags(fs)
	inputs, ok := in.parse()
	if !ok {
		return in.code
	}
	if dir == "" {
		fmt.Fprintln(stderr, "reseq extract: -o DIR is required")
		return exitUsage
	}
	if maxOpen < 1 {
		fmt.Fprintln(stderr, "reseq extract: --max-open must be at least 1")
		return exitUsage
	}
	tpl, err := parseTemplate(tplStr)
	if err != nil {
		fmt.Fprintln(stderr, "reseq extract:", err)
		return exitUsage
	}
	p, err := pf.pipeline(in.env, inputs)
	if err != nil {
		fmt.Fprintln(stderr, "reseq extract:", err)
		return exitUsage
	}
	p.Warn = warner(stderr, "reseq extract")
	p.Config.ConnOverhead = extractConnOverhead
	// Before the inputs are opened: standard input is read through a pipe
	// that a signal can cut short.
	intr := in.signals().catchInterrupts(inputs)
	defer intr.stop()
	if err := p.Open(); err != nil {
		fmt.Fprintln(stderr, "reseq extract:", err)
		return exitInput
	}
	if err := checkOutputDir(dir, force); err != nil {
		p.Close()
		fmt.Fprintln(stderr, "reseq extract:", err)
		return exitInput
	}
	if force {
		// What the previous run listed goes, so that the new index lists
		// every file of its kind in DIR.
		if _, err := removePrevious(dir); err != nil {
			p.Close()
			fmt.Fprintln(stderr, "reseq extract: --force: removing the previous run's files:", err)
			return exitInput
		}
	}
	workers := p.Workers
	if tpl.uses(seqDirectives) {
		// %N, %K, %M, %G and %S number in order of first sight in one assembler.
		if p.sharded() {
			fmt.Fprintln(stderr, "reseq extract: --shard (or shard files of 'reseq split') and a -T template that numbers connections ("+seqDirectives+"): a shard cannot know the number")
			p.Close()
			return exitUsage
		}
		workers = 1
	}
	ex, err := newExtractor(extractorConfig{
		Dir: dir, Template: tpl, MaxBytes: maxBytes, MaxOpen: maxOpen, Force: force, Warn: stderr, Tables: p.Tables,
		CommunityIDSeed: p.CommunityIDSeed, Held: heldFileOf(p), Signals: in.signals(),
	})
	if err != nil {
		p.Close()
		fmt.Fprintln(stderr, "reseq extract:", err)
		return exitInput
	}
	p.Interrupt, ex.intr = intr, intr
	prog := newProgress(stderr, ex.liveStreams)
	p.Progress = prog.callback()
	p.Abort = ex.firstErr
	hs := []tcpasm.Handler{}
	for _, x := range ex.shards(workers) {
		hs = append(hs, x)
	}
	st, inErr := p.RunShards(hs)
	prog.done()
	outErr := ex.finish()
	t := ex.tot
	if !quiet {
		fmt.Fprintf(stderr, "reseq extract: %s (%d TCP%s), %s, %s, %s, %s written, %s (%s), %s, %s\n",
			plural(st.Packets, "packet"), st.TCP, decodeNotes(&st), plural(t.Conns, "connection"), plural(t.Streams, "stream"), plural(t.Files, "file"),
			plural(t.Bytes, "byte"), plural(t.Gaps, "gap"), plural(t.GapBytes, "byte"), plural(t.Late, "late byte"), plural(t.Conflicts, "conflict"))
	}
	code := exitOK
	if inErr != nil && !errors.Is(inErr, outErr) {
		fmt.Fprintln(stderr, "reseq extract:", inErr)
		code = exitInput
	}
	if outErr != nil {
		fmt.Fprintln(stderr, "reseq extract: writing output:", outErr)
		code = exitInput
	} else if errors.Is(inErr, errInterrupted) {
		code = exitInterrupted
	}
	return code
}
