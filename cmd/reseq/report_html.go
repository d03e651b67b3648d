package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/tcpasm"
)

// reportJSON is report.json: the page's figures.
type reportJSON struct {
	Generated string        `json:"generated"`
	Inputs    []reportInput `json:"inputs"`
	Skipped   []string      `json:"skipped,omitempty"`
	First     string        `json:"first,omitempty"`
	Last      string        `json:"last,omitempty"`
	Duration  int64         `json:"duration_ns"`

	Packets        int64            `json:"packets"`     // frames read
	TCPPackets     int64            `json:"tcp_packets"` // TCP segments assembled
	NotTCP         int64            `json:"not_tcp"`
	Filtered       int64            `json:"filtered"`
	InputErrors    int64            `json:"input_errors"`
	Connections    int64            `json:"connections"`
	Streams        int64            `json:"streams"`
	DeliveredBytes int64            `json:"delivered_bytes"`
	GapBytes       map[string]int64 `json:"gap_bytes"` // by reason, and "total"
	Gaps           int64            `json:"gaps"`
	LateBytes      int64            `json:"late_bytes"`
	Conflicts      int64            `json:"conflicts"`
	InterfaceDrops *uint64          `json:"interface_drops,omitempty"` // pcapng isb_ifdrop + isb_osdrop, summed

	// reseq's estimate, in percent, and its terms.
	LossBytesPct      float64 `json:"loss_bytes_pct"`
	EvidenceStreams   int64   `json:"evidence_streams"`
	EvidenceAcked     int64   `json:"evidence_acked_gap_bytes"`
	EvidenceDelivered int64   `json:"evidence_delivered_bytes"`
	// Zeek's estimate, in percent, and its terms.
	LossAcksPct float64 `json:"loss_acks_pct"`
	AckEvents   int64   `json:"ack_events"`
	GapEvents   int64   `json:"gap_events"`

	BucketNS      int64          `json:"bucket_ns"`
	Buckets       []bucketJSON   `json:"buckets"`
	CapturePoints []pointJSON    `json:"capture_points"`
	Top           []topConnJSON  `json:"top_connections"`
	Note          string         `json:"note,omitempty"`
	firstNS       int64          // for the page
	byReason      []reasonFigure // in reason order, for the page
}

type reasonFigure struct {
	name  string
	bytes int64
}

type reportInput struct {
	Name        string            `json:"name"`
	Format      string            `json:"format"`
	Version     string            `json:"version"`
	Compression string            `json:"compression"`
	LinkTypes   []uint32          `json:"link_types"`
	Interfaces  []reportInterface `json:"interfaces,omitempty"`
}

type reportInterface struct {
	Section  int     `json:"section"`
	Index    int     `json:"index"`
	Name     string  `json:"name,omitempty"`
	Packets  int64   `json:"packets"`
	Received *uint64 `json:"isb_ifrecv,omitempty"`
	IfDrop   *uint64 `json:"isb_ifdrop,omitempty"`
	OSDrop   *uint64 `json:"isb_osdrop,omitempty"`
}

type bucketJSON struct {
	Start         string  `json:"start"`
	Packets       int64   `json:"packets"`
	Bytes         int64   `json:"bytes"`
	Delivered     int64   `json:"delivered_bytes"`
	AckedGapBytes int64   `json:"acked_gap_bytes"`
	AckEvents     int64   `json:"ack_events"`
	GapEvents     int64   `json:"gap_events"`
	LossBytesPct  float64 `json:"loss_bytes_pct"`
	LossAcksPct   float64 `json:"loss_acks_pct"`
}

type pointJSON struct {
	Name          string  `json:"name"`
	Packets       int64   `json:"packets"`
	Unique        int64   `json:"unique"`          // no other point saw them
	Missed        int64   `json:"missed"`          // of its connections, seen elsewhere only
	MissedPct     float64 `json:"missed_pct"`      // missed / (packets + missed)
	Connections   int64   `json:"connections"`     // connections it saw (finished)
	AckedGapBytes int64   `json:"acked_gap_bytes"` // in the connections it saw
}

type topConnJSON struct {
	Index    int64           `json:"index"`
	Graph    string          `json:"graph"` // the page's anchor
	GapBytes int64           `json:"gap_bytes"`
	Captured int64           `json:"captured"`
	Dirs     []*reportRecord `json:"dirs"`
}

func pct(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) * 100 / float64(b)
}

func buildReport(res *collected) *reportJSON {
	rc := res.rc
	t := &rc.tot
	rep := &reportJSON{
		Generated:   fmtGenerated(time.Now()),
		Packets:     res.st.Packets,
		TCPPackets:  res.st.TCP,
		NotTCP:      res.st.NotTCP,
		Filtered:    res.st.Filtered,
		InputErrors: res.st.InputErrs,
		Connections: t.Conns, Streams: t.Streams,
		DeliveredBytes: t.Captured, Gaps: t.Gaps, LateBytes: t.Late, Conflicts: t.Conflicts,
		GapBytes:        map[string]int64{"total": 0},
		EvidenceStreams: t.EvStreams, EvidenceAcked: t.EvAcked, EvidenceDelivered: t.EvCaptured,
		LossBytesPct: pct(t.EvAcked, t.EvAcked+t.EvCaptured),
		AckEvents:    t.AckEvents, GapEvents: t.GapEvent,
		LossAcksPct: pct(t.GapEvent, t.AckEvents),
		BucketNS:    rc.width,
		firstNS:     rc.t0,
	}
	for i, v := range t.GapBy {
		if v != 0 || tcpasm.Reason(i) == tcpasm.ReasonAcked {
			name := tcpasm.Reason(i).String()
			rep.GapBytes[name] = v
			rep.GapBytes["total"] += v
			rep.byReason = append(rep.byReason, reasonFigure{name, v})
		}
	}
	if t.Segments > 0 {
		rep.First, rep.Last = fmtTime(t.First), fmtTime(t.Last)
		rep.Duration = t.Last - t.First
	}
	var drops uint64
	haveDrops := false
	for _, c := range res.captures {
		in := reportInput{Name: c.Name, Format: c.Format.String(), Version: c.Version, Compression: c.CompressionName(), LinkTypes: []uint32{}}
		if c.Format == reseq.Pcap {
			in.LinkTypes = append(in.LinkTypes, c.LinkType)
		}
		for _, ifc := range c.Interfaces {
			ri := reportInterface{Section: ifc.Section, Index: ifc.Index, Name: ifc.Name, Packets: ifc.Packets}
			seen := false
			for _, lt := range in.LinkTypes {
				seen = seen || lt == ifc.LinkType
			}
			if !seen {
				in.LinkTypes = append(in.LinkTypes, ifc.LinkType)
			}
			if ifc.Stats.Blocks > 0 {
				if v := ifc.Stats.IfRecv; v >= 0 {
					u := uint64(v)
					ri.Received = &u
				}
				if v := ifc.Stats.IfDrop; v >= 0 {
					u := uint64(v)
					ri.IfDrop = &u
					drops += u
					haveDrops = true
				}
				if v := ifc.Stats.OSDrop; v >= 0 {
					u := uint64(v)
					ri.OSDrop = &u
					drops += u
					haveDrops = true
				}
			}
			in.Interfaces = append(in.Interfaces, ri)
		}
		rep.Inputs = append(rep.Inputs, in)
	}
	for _, s := range res.skipped {
		rep.Skipped = append(rep.Skipped, s.Name+": "+s.Err.Error())
	}
	if haveDrops {
		rep.InterfaceDrops = &drops
	}
	for i, b := range rc.buckets {
		rep.Buckets = append(rep.Buckets, bucketJSON{
			Start:   fmtTime(rc.t0 + int64(i)*rc.width),
			Packets: b.Packets, Bytes: b.Bytes, Delivered: b.Delivered, AckedGapBytes: b.AckedGap,
			AckEvents: b.AckEvents, GapEvents: b.GapEvents,
			LossBytesPct: pct(b.AckedGap, b.AckedGap+b.Delivered),
			LossAcksPct:  pct(b.GapEvents, b.AckEvents),
		})
	}
	for _, p := range sortedPoints(rc.points) {
		name := "none"
		if p.ID != tcpasm.NoCapturePoint {
			name = pointNames(rc.tables, []int32{p.ID})[0]
		}
		unique := p.Unique
		if rc.dedup == nil {
			unique = p.Packets // a single point (or none named): every packet is its own
		}
		rep.CapturePoints = append(rep.CapturePoints, pointJSON{
			Name: name, Packets: p.Packets, Unique: unique, Missed: p.Missed,
			MissedPct: pct(p.Missed, p.Packets+p.Missed), Connections: p.Conns, AckedGapBytes: p.AckedGap,
		})
	}
	for _, c := range res.top {
		tc := topConnJSON{Index: c.c.Seq, Graph: "g" + strconv.FormatInt(c.c.Seq, 10), GapBytes: c.score[0], Captured: c.score[1]}
		for d := range c.dirs {
			if c.dirs[d].rec != nil {
				tc.Dirs = append(tc.Dirs, c.dirs[d].rec)
			}
		}
		rep.Top = append(rep.Top, tc)
	}
	return rep
}

func marshalReport(rep *reportJSON) ([]byte, error) {
	b, err := json.MarshalIndent(rep, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

const reportCSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1320px;padding:0 16px 40px;color:#1a1a1a;background:#fff}
h1{font-size:22px;margin:18px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ccc;padding-bottom:3px}
nav a{margin-right:14px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
td,th{border:1px solid #d4d4d4;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#eef1f5;text-align:center}
td.l,th.l{text-align:left}
table.kv th{text-align:left;font-weight:600;background:#f6f7f9}
table.sort th{cursor:pointer;user-select:none}
table.sort th:after{content:" \2195";color:#999;font-size:10px}
tr:nth-child(even) td{background:#fafbfc}
.big{font-size:28px;font-weight:700}
.cards{display:flex;gap:14px;flex-wrap:wrap;margin:10px 0}
.card{border:1px solid #ccd;border-radius:6px;padding:8px 14px;min-width:200px;background:#f8f9fc}
.card .def{font-size:12px;color:#444;max-width:330px}
.bad{color:#b00000}.ok{color:#116611}
.muted{color:#666;font-size:12px}
figure{margin:16px 0;border:1px solid #ddd;padding:6px;overflow-x:auto}
figcaption{font-size:13px;margin-bottom:4px}
code{font-size:12px}
.scroll{overflow-x:auto}
`

const reportJS = `
(function(){
document.querySelectorAll("table.sort").forEach(function(t){
 t.querySelectorAll("th").forEach(function(th,i){
  th.addEventListener("click",function(){
   var tb=t.tBodies[0],rows=Array.prototype.slice.call(tb.rows);
   var asc=th.getAttribute("data-dir")!=="asc";th.setAttribute("data-dir",asc?"asc":"desc");
   rows.sort(function(a,b){
    var x=a.cells[i].getAttribute("data-v"),y=b.cells[i].getAttribute("data-v");
    var nx=parseFloat(x),ny=parseFloat(y),c;
    if(!isNaN(nx)&&!isNaN(ny)){c=nx-ny}else{c=String(x).localeCompare(String(y))}
    return asc?c:-c});
   rows.forEach(function(r){tb.appendChild(r)});
  });
 });
});
})();
`

// num writes an exact integer with thin grouping, its value in data-k/data-v.
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func writeReportHTML(b *strings.Builder, rep *reportJSON, res *collected, jsonName string) {
	var names []string
	for _, in := range rep.Inputs {
		names = append(names, in.Name)
	}
	title := "reseq report: " + strings.Join(names, ", ")
	if len(title) > 120 {
		title = title[:117] + "..."
	}
	fmt.Fprintf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>%s</title><style>%s</style></head><body>\n", esc(title), reportCSS)
	fmt.Fprintf(b, `<h1>Can this capture be trusted?</h1><p class="muted">reseq report of %s, generated %s. Figures for scripts: <a href="%s">%s</a>.</p>`,
		esc(strings.Join(names, ", ")), esc(rep.Generated), esc(jsonName), esc(jsonName))
	b.WriteString(`<nav><a href="#summary">Summary</a><a href="#loss">Loss over time</a><a href="#points">Capture points</a><a href="#conns">Connections</a><a href="#graphs">Graphs</a></nav>`)

	// 1. Summary.
	b.WriteString(`<h2 id="summary">1. Summary</h2><div class="cards">`)
	cls := func(v float64) string {
		if v > 0 {
			return "bad"
		}
		return "ok"
	}
	fmt.Fprintf(b, `<div class="card"><div>Capture loss (reseq)</div><div class="big %s" data-k="loss_bytes_pct">%.4g %%</div><div class="def">acked-gap bytes ÷ (delivered + acked-gap bytes), over the %d stream directions whose peer acknowledged data: %s ÷ (%s + %s)</div></div>`,
		cls(rep.LossBytesPct), rep.LossBytesPct, rep.EvidenceStreams, num(rep.EvidenceAcked), num(rep.EvidenceDelivered), num(rep.EvidenceAcked))
	fmt.Fprintf(b, `<div class="card"><div>Capture loss (Zeek's definition)</div><div class="big %s" data-k="loss_acks_pct">%.4g %%</div><div class="def">share of ACKs (that acknowledged new data) which acknowledged data the capture never saw, as Zeek's capture_loss.log: %s ÷ %s</div></div>`,
		cls(rep.LossAcksPct), rep.LossAcksPct, num(rep.GapEvents), num(rep.AckEvents))
	if rep.InterfaceDrops != nil {
		fmt.Fprintf(b, `<div class="card"><div>Interface drops (pcapng)</div><div class="big %s" data-k="interface_drops">%s</div><div class="def">isb_ifdrop + isb_osdrop: packets the capturing host said it dropped</div></div>`,
			cls(float64(*rep.InterfaceDrops)), num(int64(*rep.InterfaceDrops)))
	}
	b.WriteString(`</div><table class="kv">`)
	row := func(k, label, v string) {
		fmt.Fprintf(b, `<tr><th>%s</th><td class="l" data-k="%s">%s</td></tr>`, esc(label), k, v)
	}
	span := "—"
	if rep.First != "" {
		span = esc(rep.First) + " → " + esc(rep.Last) + " (" + esc(fmtSecs(float64(rep.Duration)/1e9)) + ")"
	}
	row("span", "time span", span)
	row("packets", "packets (frames read)", num(rep.Packets))
	row("tcp_packets", "TCP segments", num(rep.TCPPackets))
	row("not_tcp", "not TCP / not decoded", num(rep.NotTCP))
	if rep.Filtered > 0 {
		row("filtered", "filtered out", num(rep.Filtered))
	}
	row("connections", "TCP connections", num(rep.Connections))
	row("delivered_bytes", "bytes delivered (captured)", num(rep.DeliveredBytes))
	if rep.GapBytes["filtered"] > 0 {
		row("gap_bytes", "gap bytes (never captured, or before a connection's first packet the filter kept)", num(rep.GapBytes["total"]))
	} else {
		row("gap_bytes", "gap bytes (never captured)", num(rep.GapBytes["total"]))
	}
	for _, r := range rep.byReason {
		row("gap_bytes."+r.name, "  gap bytes: "+r.name, num(r.bytes))
	}
	row("gaps", "gaps", num(rep.Gaps))
	row("late_bytes", "late bytes (filled a gap after it was reported)", num(rep.LateBytes))
	row("conflicts", "conflicts (retransmissions with other bytes)", num(rep.Conflicts))
	if rep.InputErrors > 0 {
		row("input_errors", "input errors", num(rep.InputErrors))
	}
	b.WriteString(`</table><table><thead><tr><th class="l">input</th><th>format</th><th>compression</th><th>link types</th><th class="l">interfaces (pcapng: packets, drops)</th></tr></thead><tbody>`)
	for _, in := range rep.Inputs {
		var lts []string
		for _, lt := range in.LinkTypes {
			lts = append(lts, strconv.Itoa(int(lt)))
		}
		var ifs []string
		for _, ifc := range in.Interfaces {
			s := fmt.Sprintf("if:%d", ifc.Index)
			if ifc.Section > 0 {
				s += fmt.Sprintf("@%d", ifc.Section)
			}
			if ifc.Name != "" {
				s += " " + ifc.Name
			}
			s += ": " + num(ifc.Packets) + " packets"
			if ifc.IfDrop != nil {
				s += ", ifdrop " + num(int64(*ifc.IfDrop))
			}
			if ifc.OSDrop != nil {
				s += ", osdrop " + num(int64(*ifc.OSDrop))
			}
			ifs = append(ifs, esc(s))
		}
		fmt.Fprintf(b, `<tr><td class="l">%s</td><td>%s %s</td><td>%s</td><td>%s</td><td class="l">%s</td></tr>`,
			esc(in.Name), esc(in.Format), esc(in.Version), esc(in.Compression), strings.Join(lts, ", "), strings.Join(ifs, "<br>"))
	}
	b.WriteString(`</tbody></table>`)
	for _, s := range rep.Skipped {
		fmt.Fprintf(b, `<p class="muted">skipped: %s</p>`, esc(s))
	}

	// 2. Loss over time.
	b.WriteString(`<h2 id="loss">2. Loss over time</h2><p class="muted">Where the capture was overwhelmed: capture loss per time bucket (bars: reseq's byte estimate; line: Zeek's ACK estimate) above the packet and byte rates. Hover for definitions.</p><figure>`)
	writeLossSVG(b, rep)
	b.WriteString(`</figure>`)

	// 3. Capture points.
	b.WriteString(`<h2 id="points">3. Capture points</h2><p class="muted">Per probe, interface or mirror session (<code>--capture-point</code>). <em>unique</em>: packets no other point saw a copy of; <em>missed</em>: packets of its connections that another point saw and it did not.</p><table class="sort"><thead><tr><th class="l">capture point</th><th>packets</th><th>unique</th><th>missed</th><th>missed %</th><th>connections</th><th>acked-gap bytes in its connections</th></tr></thead><tbody>`)
	for _, p := range rep.CapturePoints {
		fmt.Fprintf(b, `<tr><td class="l" data-v="%s">%s</td><td data-v="%d">%s</td><td data-v="%d">%s</td><td data-v="%d">%s</td><td data-v="%g">%.3g</td><td data-v="%d">%s</td><td data-v="%d">%s</td></tr>`,
			esc(p.Name), esc(p.Name), p.Packets, num(p.Packets), p.Unique, num(p.Unique), p.Missed, num(p.Missed), p.MissedPct, p.MissedPct, p.Connections, num(p.Connections), p.AckedGapBytes, num(p.AckedGapBytes))
	}
	b.WriteString(`</tbody></table>`)

	// 4. Connections.
	fmt.Fprintf(b, `<h2 id="conns">4. Connections</h2><p class="muted">The top %d connections by gap bytes (then captured bytes), one row per direction with the fields of <code>reseq extract</code>'s flows.jsonl. Click a heading to sort; the number links to the graph.</p>`, len(rep.Top))
	b.WriteString(`<div class="scroll"><table class="sort" id="conntable"><thead><tr><th>#</th><th>dir</th><th class="l">src</th><th class="l">dst</th><th>conn</th><th class="l">capture points</th><th>first</th><th>packets</th><th>length</th><th>captured</th><th>gap bytes</th><th>gaps</th><th class="l">by reason</th><th>retrans.</th><th>dup.</th><th>out of order</th><th>late</th><th>conflicts</th><th>before base</th><th>close</th></tr></thead><tbody>`)
	for _, tc := range rep.Top {
		for _, r := range tc.Dirs {
			var by []string
			for _, rf := range reasonOrder(r.GapBy) {
				by = append(by, rf.name+" "+num(rf.bytes))
			}
			fmt.Fprintf(b, `<tr data-index="%d" data-dir="%s"><td data-v="%d"><a href="#%s">%d</a></td><td data-v="%s">%s</td><td class="l" data-v="%s">%s</td><td class="l" data-v="%s">%s</td><td data-v="%d">%d</td><td class="l" data-v="%s">%s</td><td data-v="%s">%s</td>`,
				tc.Index, r.Dir, tc.Index, tc.Graph, tc.Index, r.Dir, r.Dir, esc(r.Src), esc(r.Src), esc(r.Dst), esc(r.Dst), r.Conn, r.Conn,
				esc(strings.Join(r.CapturePoints, " ")), esc(strings.Join(r.CapturePoints, " ")), esc(r.First), esc(fmtClock(r.First)))
			for _, v := range []int64{r.Packets, r.Length, r.Captured, r.GapBytes, r.Gaps} {
				fmt.Fprintf(b, `<td data-v="%d">%s</td>`, v, num(v))
			}
			fmt.Fprintf(b, `<td class="l" data-v="%s">%s</td>`, esc(strings.Join(by, ", ")), esc(strings.Join(by, ", ")))
			for _, v := range []int64{r.Retransmitted, r.Duplicates, r.OutOfOrder, r.Late, r.Conflicts, r.BeforeBase} {
				fmt.Fprintf(b, `<td data-v="%d">%s</td>`, v, num(v))
			}
			fmt.Fprintf(b, `<td data-v="%s">%s</td></tr>`, esc(r.Close), esc(r.Close))
		}
	}
	b.WriteString(`</tbody></table></div>`)

	// 5. Graphs.
	b.WriteString(`<h2 id="graphs">5. Time–sequence graphs</h2><p class="muted">x: capture time; y: 64-bit stream offset (so wraps and mid-stream pickups draw right). Blue: data; red: retransmissions; orange: late fills; bands: gaps by reason (the dark tick is when the gap was declared); magenta ×: conflicts; green: the peer's ACK; dashed purple: its window edge; teal: SACK blocks. Hover for details. One connection alone: <code>reseq plot CAPTURE N -o conn.svg</code>.</p>`)
	for _, c := range res.top {
		fmt.Fprintf(b, `<figure id="g%d"><figcaption><b>#%d</b> %s ⇄ %s (conn %d) — gap bytes %s, captured %s · <a href="#conntable">table</a></figcaption>`,
			c.c.Seq, c.c.Seq, esc(c.c.Key.SrcAddr().String()), esc(c.c.Key.DstAddr().String()), c.c.Index, num(c.score[0]), num(c.score[1]))
		writeConnSVG(b, c, false)
		b.WriteString(`</figure>`)
	}
	fmt.Fprintf(b, "<script>%s</script>\n</body></html>\n", reportJS)
}

// reasonOrder lists a by-reason map in the reasons' order.
func reasonOrder(m map[string]int64) []reasonFigure {
	var out []reasonFigure
	for i := 0; i < numReasons; i++ {
		n := tcpasm.Reason(i).String()
		if v, ok := m[n]; ok {
			out = append(out, reasonFigure{n, v})
		}
	}
	return out
}
