package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/tcpasm"
)

// checkXML fails unless s is well-formed XML; it returns its element count.
func checkXML(t *testing.T, what, s string) int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	n := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", what, err)
		}
		if _, ok := tok.(xml.StartElement); ok {
			n++
		}
	}
	return n
}

var svgRE = regexp.MustCompile(`(?s)<svg .*?</svg>`)

// checkPage checks every SVG of the page and returns them.
func checkPage(t *testing.T, page string) []string {
	t.Helper()
	svgs := svgRE.FindAllString(page, -1)
	for i, s := range svgs {
		if n := checkXML(t, fmt.Sprintf("svg %d", i), s); n > maxElements {
			t.Errorf("svg %d: %d elements, want at most %d", i, n, maxElements)
		}
	}
	if !strings.Contains(page, "</html>") {
		t.Error("page not complete")
	}
	for _, bad := range []string{"http://", "https://"} {
		for _, m := range regexp.MustCompile(`(src|href)="`+bad).FindAllString(page, -1) {
			t.Errorf("page fetches from the network: %s", m)
		}
	}
	return svgs
}

type flowLine struct {
	Src, Dst                           string
	Conn                               int
	Index                              int64
	Dir                                string
	SYN, FIN, RST                      bool
	Close                              string
	Length, Captured                   int64
	Gaps                               []gapRecord
	Packets, Retransmitted, Duplicates int64
	OutOfOrder                         int64 `json:"out_of_order"`
	Conflicts, Late                    int64
	BeforeBase                         int64 `json:"before_base"`
	First, Last                        string
}

func readFlows(t *testing.T, path string) []flowLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []flowLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		var r flowLine
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

var dataKRE = regexp.MustCompile(`data-k="([a-z_.]+)"[^>]*>([^<]*)<`)

// pageNumber reads a figure of the page: exact integers are written with
// narrow no-break spaces between groups.
func pageNumbers(page string) map[string]string {
	m := map[string]string{}
	for _, x := range dataKRE.FindAllStringSubmatch(page, -1) {
		m[x[1]] = strings.ReplaceAll(x[2], "\u202f", "")
	}
	return m
}

// compareReport checks that report.json and the page say what extract's
// flows.jsonl says for the same capture.
func compareReport(t *testing.T, capPath string, reportArgs ...string) *reportJSON {
	t.Helper()
	dir := t.TempDir()
	html := filepath.Join(dir, "report.html")
	args := append([]string{"report", "--quiet", "-o", html}, reportArgs...)
	if code, _, e := runReseq(append(args, capPath)...); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, e)
	}
	out := filepath.Join(dir, "x")
	if code, _, e := runReseq("extract", "--quiet", "-o", out, capPath); code != exitOK {
		t.Fatalf("extract: exit %d: %s", code, e)
	}
	flows := readFlows(t, filepath.Join(out, "flows.jsonl"))
	var rep reportJSON
	jb, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(jb, &rep); err != nil {
		t.Fatal(err)
	}
	pb, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	page := string(pb)
	svgs := checkPage(t, page)
	if want := 1 + len(rep.Top); len(svgs) != want {
		t.Errorf("%d SVGs, want %d (loss chart + one per top connection)", len(svgs), want)
	}

	// Totals.
	var captured, late, conflicts int64
	gapBy := map[string]int64{}
	conns := map[int64]bool{}
	byKey := map[string]flowLine{}
	for _, f := range flows {
		captured += f.Captured
		late += f.Late
		conflicts += f.Conflicts
		conns[f.Index] = true
		for _, g := range f.Gaps {
			gapBy[g.Reason] += g.Length
			gapBy["total"] += g.Length
		}
		byKey[fmt.Sprint(f.Index, f.Dir)] = f
	}
	if rep.DeliveredBytes != captured {
		t.Errorf("delivered_bytes %d, flows.jsonl captured %d", rep.DeliveredBytes, captured)
	}
	for k, v := range gapBy {
		if rep.GapBytes[k] != v {
			t.Errorf("gap_bytes[%s] %d, flows.jsonl %d", k, rep.GapBytes[k], v)
		}
	}
	for k, v := range rep.GapBytes {
		if v != 0 && gapBy[k] != v {
			t.Errorf("gap_bytes[%s] %d, flows.jsonl %d", k, v, gapBy[k])
		}
	}
	if rep.LateBytes != late || rep.Conflicts != conflicts {
		t.Errorf("late %d conflicts %d, flows.jsonl %d %d", rep.LateBytes, rep.Conflicts, late, conflicts)
	}
	if rep.Connections != int64(len(conns)) {
		t.Errorf("connections %d, flows.jsonl %d", rep.Connections, len(conns))
	}
	// The page shows the same figures.
	nums := pageNumbers(page)
	for k, v := range map[string]int64{
		"packets": rep.Packets, "connections": rep.Connections, "delivered_bytes": captured,
		"gap_bytes": gapBy["total"], "late_bytes": late, "conflicts": conflicts,
	} {
		if nums[k] != strconv.FormatInt(v, 10) {
			t.Errorf("page %s = %q, want %d", k, nums[k], v)
		}
	}
	for r, v := range gapBy {
		if r != "total" && nums["gap_bytes."+r] != strconv.FormatInt(v, 10) {
			t.Errorf("page gap_bytes.%s = %q, want %d", r, nums["gap_bytes."+r], v)
		}
	}
	// Every listed direction equals its flows.jsonl record.
	for _, tc := range rep.Top {
		if !strings.Contains(page, `id="`+tc.Graph+`"`) || !strings.Contains(page, `href="#`+tc.Graph+`"`) {
			t.Errorf("connection %d: no graph or no link", tc.Index)
		}
		for _, r := range tc.Dirs {
			f, ok := byKey[fmt.Sprint(r.Index, r.Dir)]
			if !ok {
				t.Errorf("%d %s: not in flows.jsonl", r.Index, r.Dir)
				continue
			}
			var gb int64
			by := map[string]int64{}
			for _, g := range f.Gaps {
				gb += g.Length
				by[g.Reason] += g.Length
			}
			got := fmt.Sprint(r.Src, r.Dst, r.Conn, r.SYN, r.FIN, r.RST, r.Close, r.Length, r.Captured, r.GapBytes, r.Gaps,
				r.Packets, r.Retransmitted, r.Duplicates, r.OutOfOrder, r.Conflicts, r.Late, r.BeforeBase, r.First, r.Last)
			want := fmt.Sprint(f.Src, f.Dst, f.Conn, f.SYN, f.FIN, f.RST, f.Close, f.Length, f.Captured, gb, int64(len(f.Gaps)),
				f.Packets, f.Retransmitted, f.Duplicates, f.OutOfOrder, f.Conflicts, f.Late, f.BeforeBase, f.First, f.Last)
			if got != want {
				t.Errorf("%d %s:\n report %s\n flows  %s", r.Index, r.Dir, got, want)
			}
			for k, v := range by {
				if r.GapBy[k] != v {
					t.Errorf("%d %s: gap bytes %s %d, flows.jsonl %d", r.Index, r.Dir, k, r.GapBy[k], v)
				}
			}
			row := fmt.Sprintf(`<tr data-index="%d" data-dir="%s">`, r.Index, r.Dir)
			if !strings.Contains(page, row) {
				t.Errorf("%d %s: no table row", r.Index, r.Dir)
			}
		}
	}
	// The top N are the N with the most gap bytes.
	if len(rep.Top) > 0 {
		min := rep.Top[len(rep.Top)-1].GapBytes
		perConn := map[int64]int64{}
		for _, f := range flows {
			for _, g := range f.Gaps {
				perConn[f.Index] += g.Length
			}
		}
		listed := map[int64]bool{}
		for _, tc := range rep.Top {
			listed[tc.Index] = true
			if tc.GapBytes != perConn[tc.Index] {
				t.Errorf("connection %d: gap bytes %d, flows.jsonl %d", tc.Index, tc.GapBytes, perConn[tc.Index])
			}
		}
		for ix, g := range perConn {
			if !listed[ix] && g > min {
				t.Errorf("connection %d (%d gap bytes) left out of the top, whose last has %d", ix, g, min)
			}
		}
	}
	return &rep
}

func TestReportSample(t *testing.T) {
	rep := compareReport(t, filepath.Join("..", "..", "testdata", "sample.pcap"))
	if rep.Packets != 19 || rep.GapBytes["acked"] != 1000 || len(rep.Top) != 2 {
		t.Errorf("packets %d acked %d top %d", rep.Packets, rep.GapBytes["acked"], len(rep.Top))
	}
	// 1000 acked-gap bytes over 2238 delivered + 1000.
	if want := 100 * 1000.0 / 3238; rep.LossBytesPct < want-1e-9 || rep.LossBytesPct > want+1e-9 {
		t.Errorf("loss_bytes_pct %g, want %g", rep.LossBytesPct, want)
	}
	if rep.GapEvents != 1 || rep.AckEvents == 0 {
		t.Errorf("Zeek terms: %d gap events over %d ACKs", rep.GapEvents, rep.AckEvents)
	}
	if len(rep.Buckets) < 100 || len(rep.Buckets) > maxBuckets {
		t.Errorf("%d buckets", len(rep.Buckets))
	}
	var pk int64
	for _, b := range rep.Buckets {
		pk += b.Packets
	}
	if pk != rep.TCPPackets || len(rep.CapturePoints) != 1 || rep.CapturePoints[0].Packets != pk {
		t.Errorf("bucket packets %d, tcp %d, points %+v", pk, rep.TCPPackets, rep.CapturePoints)
	}
}

func TestReportTop(t *testing.T) {
	rep := compareReport(t, filepath.Join("..", "..", "testdata", "sample.pcap"), "--top", "1")
	if len(rep.Top) != 1 || rep.Top[0].GapBytes != 1000 {
		t.Errorf("top: %+v", rep.Top)
	}
}

func TestReportRealCaptures(t *testing.T) {
	real := realRoot(t)
	names := []string{"lossy_v4.pcap", "lossy_v6_ng.pcapng", "lossy_snap200.pcap", "lossy_any_sll2.pcap"}
	if testing.Short() {
		names = names[:1]
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(real, name)
			if _, err := os.Stat(p); err != nil {
				t.Skip(err)
			}
			rep := compareReport(t, p)
			if rep.GapBytes["total"] > 0 && len(rep.Top) == 0 {
				t.Error("no connections listed")
			}
		})
	}
}

// TestReportTwoProbes: the bundled capture seen by two probes (outer VLAN
// tags 201, 202), each with a packet the other lost.
func TestReportTwoProbes(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sample.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	two := twoProbes(t, sample)
	p := filepath.Join(t.TempDir(), "two.pcap")
	if err := os.WriteFile(p, two, 0o644); err != nil {
		t.Fatal(err)
	}
	rep := compareReport(t, p)
	if len(rep.CapturePoints) != 2 {
		t.Fatalf("capture points %+v", rep.CapturePoints)
	}
	for _, cp := range rep.CapturePoints {
		// Each probe lost one packet the other saw: it has one unique
		// packet, and missed one.
		if cp.Unique != 1 || cp.Missed != 1 || cp.Packets != 18 {
			t.Errorf("%+v", cp)
		}
	}
}

// twoProbes rewrites an Ethernet pcap as seen by two probes: every frame
// twice, under outer 802.1ad tag 201 then 202, over an inner 802.1Q tag 100;
// probe 201 misses frame 3 and probe 202 frame 5.
func twoProbes(t *testing.T, in []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	out.Write(in[:24])
	off := 24
	for i := 0; off+16 <= len(in); i++ {
		hdr := in[off : off+16]
		n := int(uint32(hdr[8]) | uint32(hdr[9])<<8 | uint32(hdr[10])<<16 | uint32(hdr[11])<<24)
		frame := in[off+16 : off+16+n]
		off += 16 + n
		for _, probe := range []int{201, 202} {
			if (probe == 201 && i == 3) || (probe == 202 && i == 5) {
				continue
			}
			f := append([]byte{}, frame[:12]...)
			f = append(f, 0x88, 0xa8, byte(probe>>8), byte(probe), 0x81, 0x00, 0, 100)
			f = append(f, frame[12:]...)
			h := append([]byte{}, hdr...)
			for k, v := range []uint32{uint32(len(f)), uint32(len(f))} {
				h[8+4*k], h[9+4*k], h[10+4*k], h[11+4*k] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
			}
			out.Write(h)
			out.Write(f)
		}
	}
	return out.Bytes()
}

// TestReportGraphBounded drives the collector with one connection of a
// million segments that crosses the 2^32 sequence wrap, with loss: its
// graph stays within the element bound and its offsets are 64-bit.
func TestReportGraphBounded(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	rc := newReportCollector(nil, 10, 64<<20)
	rc.asm = tcpasm.New(tcpasm.Config{}, rc)
	var k layers.FlowKey
	k.SetAddrs(mustAP("10.0.0.1:40000"), mustAP("10.0.0.2:80"))
	rk := k.Reverse()
	isn := uint32(0xffff0000)
	payload := make([]byte, 1000)
	ts := int64(1e18)
	seg := tcpasm.Segment{Key: k, CapturePoint: tcpasm.NoCapturePoint, Seq: isn, Flags: tcpasm.SYN, Timestamp: ts}
	rc.Assemble(&seg)
	seg = tcpasm.Segment{Key: rk, CapturePoint: tcpasm.NoCapturePoint, Seq: 7, Ack: isn + 1, Flags: tcpasm.SYN | tcpasm.ACK, Window: 65535, Timestamp: ts + 1000}
	rc.Assemble(&seg)
	lost := 0
	for i := 0; i < n; i++ {
		ts += 10_000
		seq := isn + 1 + uint32(i*1000)
		if i%1000 != 999 {
			seg = tcpasm.Segment{Key: k, CapturePoint: tcpasm.NoCapturePoint, Seq: seq, Ack: 8, Flags: tcpasm.ACK, Payload: payload, Length: len(payload), Timestamp: ts, IPID: uint16(i)}
			rc.Assemble(&seg)
		} else {
			lost++
		}
		if i%4 == 3 {
			seg = tcpasm.Segment{Key: rk, CapturePoint: tcpasm.NoCapturePoint, Seq: 8, Ack: seq + 1000, Flags: tcpasm.ACK, Window: 65535, Timestamp: ts + 5000}
			rc.Assemble(&seg)
		}
	}
	rc.asm.Close()
	top := rc.finish()
	if len(top) != 1 {
		t.Fatalf("%d connections", len(top))
	}
	c := top[0]
	if got, want := c.dirs[0].gapBy[tcpasm.ReasonAcked], int64(lost*1000); got != want {
		t.Errorf("acked gap bytes %d, want %d", got, want)
	}
	if ev := c.dirs[0].detail.len(); ev > detailCap || ev == 0 {
		t.Errorf("%d events held", ev)
	}
	if c.dirs[0].detail.omax != int64(n)*1000 || c.dirs[0].detail.omin != 0 {
		t.Errorf("offsets [%d, %d], want [0, %d]: not unwrapped", c.dirs[0].detail.omin, c.dirs[0].detail.omax, int64(n)*1000)
	}
	var b strings.Builder
	writeConnSVG(&b, c, true)
	if el := checkXML(t, "graph", b.String()); el > maxElements {
		t.Errorf("%d elements", el)
	}
	if b.Len() > 400<<10 {
		t.Errorf("graph of %d bytes", b.Len())
	}
	t.Logf("graph: %d bytes, %d events", b.Len(), c.dirs[0].detail.len())
}

func TestPlot(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "c.svg")
	sample := filepath.Join("..", "..", "testdata", "sample.pcap")
	if code, _, e := runReseq("plot", sample, "0", "-o", out); code != exitOK {
		t.Fatalf("exit %d: %s", code, e)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkXML(t, "plot", string(b))
	if !strings.Contains(string(b), "acked") {
		t.Error("no acked gap band")
	}
	code, so, _ := runReseq("plot", "-o", "-", sample, "10.0.0.2:80-10.0.0.1:50001")
	if code != exitOK || !strings.HasPrefix(so, "<?xml") {
		t.Errorf("by address to stdout: exit %d, %.40q", code, so)
	}
	if code, _, _ := runReseq("plot", sample, "7", "-o", out); code != exitInput {
		t.Errorf("no such connection: exit %d", code)
	}
	if code, _, _ := runReseq("plot", sample, "0"); code != exitUsage {
		t.Errorf("no -o: exit %d", code)
	}
}

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
