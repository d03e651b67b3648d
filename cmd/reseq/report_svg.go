package main

// Drawing: the per-connection time-sequence graph (tcptrace / Stevens style)
// and the loss-over-time chart, as standalone SVG. Everything is reduced to
// pixel resolution: strokes of one kind share a <path>, and strokes that fall
// on the same pixel column and touch are joined, so a graph stays within a
// few thousand elements whatever the connection's size.

import (
	"cmp"
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/reseq/reseq/tcpasm"
)

// Colours, one per kind, distinct in print and for the common colour
// vision deficiencies as far as eight colours allow.
var (
	kindColour = [numKinds]string{
		evData:     "#1f5fbf",
		evRetrans:  "#d62728",
		evLate:     "#ff7f0e",
		evGap:      "#999999",
		evConflict: "#c000c0",
		evAck:      "#2ca02c",
		evSACK:     "#17becf",
	}
	kindName = [numKinds]string{
		evData: "data", evRetrans: "retransmission", evLate: "late fill", evGap: "gap",
		evConflict: "conflict", evAck: "peer ACK", evSACK: "SACK block",
	}
	windowColour = "#9467bd"
)

func reasonColour(r tcpasm.Reason) string {
	switch r {
	case tcpasm.ReasonAcked:
		return "#ff9d9d"
	case tcpasm.ReasonTruncated:
		return "#ffd27f"
	case tcpasm.ReasonLimit:
		return "#c7a0ff"
	case tcpasm.ReasonEvicted:
		return "#a0c4ff"
	case tcpasm.ReasonIdle:
		return "#c8c8c8"
	case tcpasm.ReasonClosed:
		return "#a8dca0"
	case tcpasm.ReasonEOF:
		return "#e6e08c"
	case tcpasm.ReasonFiltered:
		return "#b0e0e6"
	}
	return "#dddddd"
}

// Graph geometry.
const (
	graphW      = 960
	panelH      = 300
	marginL     = 78
	marginR     = 96
	marginT     = 34
	marginB     = 40
	maxElements = 20000
)

func esc(s string) string { return html.EscapeString(s) }

// fmtBytes writes n with a binary unit: 1.5 MiB.
func fmtBytes(n float64) string {
	a := math.Abs(n)
	switch {
	case a >= 1<<30:
		return strconv.FormatFloat(n/(1<<30), 'g', 4, 64) + " GiB"
	case a >= 1<<20:
		return strconv.FormatFloat(n/(1<<20), 'g', 4, 64) + " MiB"
	case a >= 1<<10:
		return strconv.FormatFloat(n/(1<<10), 'g', 4, 64) + " KiB"
	}
	return strconv.FormatFloat(n, 'g', 6, 64) + " B"
}

// niceTicks returns about n round values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, v)
	}
	return out
}

// niceByteTicks is niceTicks in powers of two times 1, 2, 5 for byte axes.
func niceByteTicks(lo, hi float64, n int) []float64 {
	if hi-lo < 1024 {
		return niceTicks(lo, hi, n)
	}
	unit := 1024.0
	for (hi-lo)/unit > 2048 {
		unit *= 1024
	}
	t := niceTicks(lo/unit, hi/unit, n)
	for i := range t {
		t[i] *= unit
	}
	return t
}

// panel maps a direction's events to pixels.
type panel struct {
	x0, y0, w, h float64 // plot area
	t0, t1       int64
	o0, o1       int64
}

func (p *panel) x(t int64) float64 {
	if p.t1 <= p.t0 {
		return p.x0
	}
	return p.x0 + float64(t-p.t0)/float64(p.t1-p.t0)*p.w
}

func (p *panel) y(o int64) float64 { return p.yf(float64(o)) }

func (p *panel) yf(o float64) float64 {
	if p.o1 <= p.o0 {
		return p.y0 + p.h
	}
	return p.y0 + p.h - (o-float64(p.o0))/float64(p.o1-p.o0)*p.h
}

// of is the offset at pixel row y (the inverse of yf).
func (p *panel) of(y float64) float64 {
	return float64(p.o0) + (p.y0+p.h-y)/p.h*float64(p.o1-p.o0)
}

// strokes joins vertical strokes per pixel column.
type strokes struct {
	cols map[int][][2]int // column -> [top, bottom] pixel runs
}

func (s *strokes) add(x, ya, yb float64) {
	if s.cols == nil {
		s.cols = map[int][][2]int{}
	}
	xi := int(math.Round(x))
	top, bot := int(math.Floor(min(ya, yb))), int(math.Ceil(max(ya, yb)))
	if bot <= top {
		bot = top + 1
	}
	s.cols[xi] = append(s.cols[xi], [2]int{top, bot})
}

// path returns the strokes as one path's data, runs in a column joined.
func (s *strokes) path() string {
	var b strings.Builder
	xs := make([]int, 0, len(s.cols))
	for x := range s.cols {
		xs = append(xs, x)
	}
	slices.Sort(xs)
	for _, x := range xs {
		runs := s.cols[x]
		slices.SortFunc(runs, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
		cur := runs[0]
		flush := func() { fmt.Fprintf(&b, "M%d %dV%d", x, cur[0], cur[1]) }
		for _, r := range runs[1:] {
			if r[0] <= cur[1]+1 {
				cur[1] = max(cur[1], r[1])
				continue
			}
			flush()
			cur = r
		}
		flush()
	}
	return b.String()
}

// windowShift guesses the peer's window scale: the smallest shift under
// which the window it advertised covers the most bytes seen in flight.
func windowShift(ds *reportDir) uint {
	for s := uint(0); s < 14; s++ {
		if ds.maxWin<<s >= ds.maxInfl {
			return s
		}
	}
	return 14
}

// writeConnSVG draws the connection's graph: one panel per direction that
// has detail, one above the other.
func writeConnSVG(b *strings.Builder, rc *reportConn, standalone bool) {
	c := rc.c
	var dirs []int
	for d := range rc.dirs {
		ds := &rc.dirs[d]
		empty := ds.rec != nil && ds.rec.Length == 0 && ds.rec.GapBytes == 0
		if (ds.detail.len() > 0 || ds.detailLost) && !empty {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		dirs = []int{0}
	}
	H := marginT + len(dirs)*(panelH+marginB+marginT) + 40
	if standalone {
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	}
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`, graphW, H, graphW, H)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#fff"/>`, graphW, H)
	t0, t1 := c.First, c.Last
	for _, d := range dirs {
		for _, e := range rc.dirs[d].detail.events() {
			t0, t1 = min(t0, e.t), max(t1, e.t)
		}
	}
	if t1 <= t0 {
		t1 = t0 + 1
	}
	elems := 0
	for i, d := range dirs {
		top := float64(marginT + i*(panelH+marginB+marginT))
		elems += writePanel(b, rc, d, top, t0, t1, (maxElements-elems)/(len(dirs)-i))
	}
	// Legend.
	ly := H - 12
	x := marginL
	items := []struct{ name, colour, dash string }{
		{kindName[evData], kindColour[evData], ""}, {kindName[evRetrans], kindColour[evRetrans], ""},
		{kindName[evLate], kindColour[evLate], ""}, {kindName[evAck], kindColour[evAck], ""},
		{"window edge", windowColour, "4 3"}, {kindName[evSACK], kindColour[evSACK], ""},
		{kindName[evConflict], kindColour[evConflict], ""},
	}
	for _, it := range items {
		dash := ""
		if it.dash != "" {
			dash = ` stroke-dasharray="` + it.dash + `"`
		}
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"%s/><text x="%d" y="%d">%s</text>`,
			x, ly-4, x+16, ly-4, it.colour, dash, x+20, ly, esc(it.name))
		x += 30 + 7*len(it.name)
	}
	x = marginL
	ly -= 20
	b.WriteString(`<text x="4" y="` + strconv.Itoa(ly) + `">gap bands:</text>`)
	for _, r := range []tcpasm.Reason{tcpasm.ReasonAcked, tcpasm.ReasonTruncated, tcpasm.ReasonLimit, tcpasm.ReasonEvicted, tcpasm.ReasonIdle, tcpasm.ReasonClosed, tcpasm.ReasonEOF, tcpasm.ReasonFiltered} {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="16" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`, x, ly-9, reasonColour(r), x+20, ly, r.String())
		x += 36 + 7*len(r.String())
	}
	b.WriteString("</svg>")
}

// events returns the detail's events (nil for none).
func (d *reportDetail) events() []reportEvent {
	if d == nil {
		return nil
	}
	return d.ev
}

func writePanel(b *strings.Builder, rc *reportConn, d int, top float64, t0, t1 int64, budget int) int {
	ds := &rc.dirs[d]
	c := rc.c
	key := c.Key
	if d == int(tcpasm.ServerToClient) {
		key = key.Reverse()
	}
	p := &panel{x0: marginL, y0: top, w: graphW - marginL - marginR, h: panelH, t0: t0, t1: t1}
	evs := slices.Clone(ds.detail.events())
	slices.SortStableFunc(evs, func(x, y reportEvent) int { return cmp.Compare(x.t, y.t) })
	shift := windowShift(ds)
	var length int64
	if ds.rec != nil {
		length = ds.rec.Length
	}
	o0, o1 := int64(0), max(length, 1)
	for _, e := range evs {
		if e.kind == evAck {
			o1 = max(o1, e.a)
			continue
		}
		o0, o1 = min(o0, e.a), max(o1, e.b)
	}
	p.o0, p.o1 = o0, o1
	// Title.
	title := fmt.Sprintf("%s %s → %s", dirName(tcpasm.Direction(d)), key.SrcAddr(), key.DstAddr())
	if ds.rec != nil {
		title += fmt.Sprintf(" · %s · gaps %s · %d packets", fmtBytes(float64(ds.rec.Length)), fmtBytes(float64(ds.rec.GapBytes)), ds.rec.Packets)
	}
	fmt.Fprintf(b, `<text x="%d" y="%.0f" font-size="13" font-weight="bold">%s</text>`, marginL, top-10, esc(title))
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="#fafafa" stroke="#888"/>`, p.x0, p.y0, p.w, p.h)
	clip := fmt.Sprintf("clip%d-%d-%d", c.Seq, c.Index, d)
	fmt.Fprintf(b, `<clipPath id="%s"><rect x="%.0f" y="%.0f" width="%.0f" height="%.0f"/></clipPath>`, clip, p.x0-2, p.y0-1, p.w+4, p.h+2)
	n := 4
	// Axes.
	for _, v := range niceTicks(0, float64(t1-t0)/1e9, 8) {
		x := p.x(t0 + int64(v*1e9))
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#e4e4e4"/><text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`,
			x, p.y0, x, p.y0+p.h, x, p.y0+p.h+14, esc(fmtSecs(v)))
		n += 2
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle">capture time since %s</text>`, p.x0+p.w/2, p.y0+p.h+30, esc(fmtCaptionTime(t0)))
	for _, v := range niceByteTicks(float64(o0), float64(o1), 6) {
		y := p.yf(v)
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#e4e4e4"/><text x="%.0f" y="%.1f" text-anchor="end">%s</text>`,
			p.x0, y, p.x0+p.w, y, p.x0-4, y+4, esc(fmtBytes(v)))
		n += 2
	}
	fmt.Fprintf(b, `<text transform="translate(14 %.0f) rotate(-90)" text-anchor="middle">stream offset (bytes)</text>`, p.y0+p.h/2)
	n += 2
	if ds.detailLost && len(evs) == 0 {
		fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle" fill="#a00">detail let go under the memory bound (--graph-memory); counters are exact</text>`, p.x0+p.w/2, p.y0+p.h/2)
		return n + 1
	}
	// Gap bands: per reason and pixel row, the share of the row's offsets
	// in gaps sets the band's opacity (dense small gaps shade a row, one
	// large gap fills it); a dark tick marks when each gap was declared.
	type row struct {
		bytes  float64
		t      int64
		a, b   int64
		count  int
		reason uint8
	}
	rows := map[[2]int]*row{} // (reason, pixel row)
	perRow := float64(p.o1-p.o0) / p.h
	var ticks strokes
	tickColour := ""
	for _, e := range evs {
		if e.kind != evGap || e.b <= e.a {
			continue
		}
		n := e.n
		if n <= 0 {
			n = e.b - e.a
		}
		density := float64(n) / float64(e.b-e.a)
		ya, yb := p.yf(float64(e.b)), p.yf(float64(e.a))
		for ri := int(math.Floor(ya)); ri <= int(math.Ceil(yb))-1 || ri == int(math.Floor(ya)); ri++ {
			// The offsets of [a, b) within pixel row ri.
			lo := max(float64(e.a), p.of(float64(ri+1)))
			hi := min(float64(e.b), p.of(float64(ri)))
			if hi <= lo {
				hi = lo + 1
			}
			k := [2]int{int(e.reason), ri}
			r := rows[k]
			if r == nil {
				r = &row{t: e.t, a: e.a, b: e.b, reason: e.reason}
				rows[k] = r
			}
			r.bytes += (hi - lo) * density
			r.t = min(r.t, e.t)
			r.a, r.b = min(r.a, e.a), max(r.b, e.b)
			r.count++
		}
		ticks.add(p.x(e.t), ya, yb)
		if tickColour == "" {
			tickColour = darken(reasonColour(tcpasm.Reason(e.reason)))
		}
	}
	keys := make([][2]int, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y [2]int) int {
		if c := cmp.Compare(x[0], y[0]); c != 0 {
			return c
		}
		return cmp.Compare(x[1], y[1])
	})
	level := func(r *row) int { // opacity in tenths, at least one
		f := r.bytes / max(perRow, 1)
		return max(1, min(10, int(math.Ceil(f*10))))
	}
	labelled := map[uint8]bool{}
	for i := 0; i < len(keys); {
		// A run of adjacent rows of one reason at one level.
		j := i + 1
		r0 := rows[keys[i]]
		lv := level(r0)
		var sum float64
		a, bb, cnt, t := r0.a, r0.b, 0, r0.t
		for j = i; j < len(keys) && keys[j][0] == keys[i][0] && keys[j][1] == keys[i][1]+(j-i) && level(rows[keys[j]]) == lv; j++ {
			r := rows[keys[j]]
			sum += r.bytes
			a, bb, cnt, t = min(a, r.a), max(bb, r.b), cnt+r.count, min(t, r.t)
		}
		reason := tcpasm.Reason(keys[i][0])
		y0, h := float64(keys[i][1]), float64(j-i)
		fmt.Fprintf(b, `<g><title>gap %s: about %s of gaps in offsets %d–%d, first declared at +%s</title><rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="%s" fill-opacity="%.1f"/></g>`,
			esc(reason.String()), esc(fmtBytes(sum)), a, bb, esc(fmtSecs(float64(t-t0)/1e9)),
			p.x0, y0, p.w, h, reasonColour(reason), 0.05+0.065*float64(lv))
		n += 3
		if !labelled[uint8(reason)] && (h >= 10 || j-i == len(keys)) {
			labelled[uint8(reason)] = true
			fmt.Fprintf(b, `<text x="%.0f" y="%.1f" fill="#700">%s gaps</text>`, p.x0+p.w+4, y0+h/2+4, esc(reason.String()))
			n++
		}
		_ = cnt
		i = j
	}
	if len(ticks.cols) > 0 {
		fmt.Fprintf(b, `<g><title>when each gap was declared</title><path d="%s" stroke="%s" stroke-width="2" fill="none"/></g>`, ticks.path(), tickColour)
		n += 3
	}
	// Strokes per kind.
	var st [numKinds]strokes
	var acks []reportEvent
	var conflicts []reportEvent
	for _, e := range evs {
		switch e.kind {
		case evAck:
			acks = append(acks, e)
		case evConflict:
			conflicts = append(conflicts, e)
		case evData, evRetrans, evLate, evSACK:
			x := p.x(e.t)
			if e.kind == evSACK {
				x += 2 // beside the data it selectively acknowledges
			}
			st[e.kind].add(x, p.y(e.a), p.y(e.b))
		}
	}
	// ACK line and window edge: steps.
	if len(acks) > 0 {
		var pa, pw strings.Builder
		for i, e := range acks {
			x, ya := p.x(e.t), p.y(e.a)
			edge := e.a + (e.b-e.a)<<shift
			yw := p.y(min(edge, p.o1+(p.o1-p.o0)/20))
			if i == 0 {
				fmt.Fprintf(&pa, "M%.1f %.1f", x, ya)
				fmt.Fprintf(&pw, "M%.1f %.1f", x, yw)
			} else {
				fmt.Fprintf(&pa, "H%.1f V%.1f", x, ya)
				fmt.Fprintf(&pw, "H%.1f V%.1f", x, yw)
			}
		}
		fmt.Fprintf(b, `<g clip-path="url(#`+clip+`)"><title>window edge: the peer's ACK plus its advertised window (scale 2^%d inferred)</title><path d="%s" fill="none" stroke="%s" stroke-width="1" stroke-dasharray="4 3"/></g>`, shift, pw.String(), windowColour)
		fmt.Fprintf(b, `<g><title>the peer's cumulative ACK</title><path d="%s" fill="none" stroke="%s" stroke-width="1.2"/></g>`, pa.String(), kindColour[evAck])
		n += 4
	}
	for _, k := range []uint8{evSACK, evData, evRetrans, evLate} {
		if len(st[k].cols) == 0 {
			continue
		}
		fmt.Fprintf(b, `<g><title>%s</title><path d="%s" stroke="%s" stroke-width="1.6" fill="none"/></g>`, esc(kindName[k]), st[k].path(), kindColour[k])
		n += 3
	}
	maxMarks := max(budget-n, 10)
	for i, e := range conflicts {
		if i >= maxMarks/2 {
			break
		}
		x, y := p.x(e.t), p.y(e.a)
		fmt.Fprintf(b, `<g><title>conflict: offsets %d–%d differ from the bytes kept</title><path d="M%.1f %.1fl6 6m0 -6l-6 6" stroke="%s" stroke-width="2"/></g>`,
			e.a, e.b, x-3, y-3, kindColour[evConflict])
		n += 3
	}
	return n
}

// darken returns a darker shade of a #rrggbb colour, for band markers.
func darken(c string) string {
	if len(c) != 7 {
		return c
	}
	v, err := strconv.ParseUint(c[1:], 16, 32)
	if err != nil {
		return c
	}
	r, g, bl := (v>>16)&0xff, (v>>8)&0xff, v&0xff
	return fmt.Sprintf("#%02x%02x%02x", r*6/10, g*6/10, bl*6/10)
}

// writeLossSVG draws capture loss per time bucket above the packet and byte
// rates.
func writeLossSVG(b *strings.Builder, rep *reportJSON) {
	const W, H = 960, 420
	const lossH, rateH = 150, 150
	bs := rep.Buckets
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`, W, H, W, H)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#fff"/>`, W, H)
	x0, w := float64(marginL), float64(W-marginL-marginR)
	if len(bs) == 0 {
		b.WriteString(`<text x="20" y="30">no TCP packets</text></svg>`)
		return
	}
	bw := w / float64(len(bs))
	span := float64(rep.BucketNS) * float64(len(bs)) / 1e9
	xAxis := func(y0, h float64) {
		for _, v := range niceTicks(0, span, 10) {
			x := x0 + v/span*w
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#e4e4e4"/><text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`,
				x, y0, x, y0+h, x, y0+h+13, esc(fmtSecs(v)))
		}
	}
	// Loss panel.
	ly := 30.0
	maxLoss := 1.0
	for _, k := range bs {
		maxLoss = max(maxLoss, k.LossBytesPct, k.LossAcksPct)
	}
	maxLoss = math.Min(100, math.Ceil(maxLoss/5)*5)
	fmt.Fprintf(b, `<text x="%d" y="18" font-size="13" font-weight="bold">capture loss per %s bucket</text>`, marginL, esc(fmtSecs(float64(rep.BucketNS)/1e9)))
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%d" fill="#fafafa" stroke="#888"/>`, x0, ly, w, lossH)
	xAxis(ly, lossH)
	for _, v := range niceTicks(0, maxLoss, 4) {
		y := ly + lossH - v/maxLoss*lossH
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#e4e4e4"/><text x="%.0f" y="%.1f" text-anchor="end">%g %%</text>`, x0, y, x0+w, y, x0-4, y+4, v)
	}
	var pb, pa strings.Builder
	for i, k := range bs {
		x := x0 + float64(i)*bw
		if k.LossBytesPct > 0 {
			h := k.LossBytesPct / maxLoss * lossH
			fmt.Fprintf(&pb, "M%.1f %.1fh%.2fV%.1fh%.2fz", x, ly+lossH, bw, ly+lossH-h, -bw)
		}
		y := ly + lossH - k.LossAcksPct/maxLoss*lossH
		if i == 0 {
			fmt.Fprintf(&pa, "M%.1f %.1f", x+bw/2, y)
		} else {
			fmt.Fprintf(&pa, "L%.1f %.1f", x+bw/2, y)
		}
	}
	fmt.Fprintf(b, `<g><title>reseq: acked-gap bytes / (delivered + acked-gap bytes), per bucket</title><path d="%s" fill="#d62728" fill-opacity="0.75"/></g>`, pb.String())
	fmt.Fprintf(b, `<g><title>Zeek: ACKs that acknowledged unseen data / ACKs, per bucket</title><path d="%s" fill="none" stroke="#1f1f1f" stroke-width="1.3"/></g>`, pa.String())
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="12" height="8" fill="#d62728"/><text x="%.0f" y="%.0f">reseq bytes %%</text>`, x0+w+6, ly+4, x0+w+6, ly+24)
	fmt.Fprintf(b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#1f1f1f" stroke-width="1.5"/><text x="%.0f" y="%.0f">Zeek ACKs %%</text>`, x0+w+6, ly+40, x0+w+20, ly+40, x0+w+6, ly+56)
	// Rate panel.
	ry := ly + lossH + 50
	maxP, maxB := 1.0, 1.0
	sec := float64(rep.BucketNS) / 1e9
	for _, k := range bs {
		maxP = max(maxP, float64(k.Packets)/sec)
		maxB = max(maxB, float64(k.Bytes)/sec)
	}
	fmt.Fprintf(b, `<text x="%d" y="%.0f" font-size="13" font-weight="bold">TCP packets/s (bars) and payload bytes/s (line)</text>`, marginL, ry-12)
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%d" fill="#fafafa" stroke="#888"/>`, x0, ry, w, rateH)
	xAxis(ry, rateH)
	for _, v := range niceTicks(0, maxP, 4) {
		y := ry + rateH - v/maxP*rateH
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#e4e4e4"/><text x="%.0f" y="%.1f" text-anchor="end">%s</text>`, x0, y, x0+w, y, x0-4, y+4, esc(fmtCount(v)))
	}
	for _, v := range niceByteTicks(0, maxB, 4) {
		y := ry + rateH - v/maxB*rateH
		fmt.Fprintf(b, `<text x="%.0f" y="%.1f" fill="#1f5fbf">%s/s</text>`, x0+w+4, y+4, esc(fmtBytes(v)))
	}
	var pp, pl strings.Builder
	for i, k := range bs {
		x := x0 + float64(i)*bw
		if k.Packets > 0 {
			h := float64(k.Packets) / sec / maxP * rateH
			fmt.Fprintf(&pp, "M%.1f %.1fh%.2fV%.1fh%.2fz", x, ry+rateH, bw, ry+rateH-h, -bw)
		}
		y := ry + rateH - float64(k.Bytes)/sec/maxB*rateH
		if i == 0 {
			fmt.Fprintf(&pl, "M%.1f %.1f", x+bw/2, y)
		} else {
			fmt.Fprintf(&pl, "L%.1f %.1f", x+bw/2, y)
		}
	}
	fmt.Fprintf(b, `<g><title>TCP packets per second</title><path d="%s" fill="#9aa7b8"/></g>`, pp.String())
	fmt.Fprintf(b, `<g><title>captured TCP payload bytes per second</title><path d="%s" fill="none" stroke="#1f5fbf" stroke-width="1.5"/></g>`, pl.String())
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle">capture time since %s</text>`, x0+w/2, ry+rateH+32, esc(rep.First))
	b.WriteString("</svg>")
}

func fmtCount(v float64) string {
	switch {
	case v >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 4, 64) + "G"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
