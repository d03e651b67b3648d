package fuzz

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/reseq/reseq/http1"
	"github.com/reseq/reseq/tcpasm"
	"github.com/reseq/reseq/tcpasm/framing"
	"pgregory.net/rapid"
)

// Property tests of message framing over loss (package http1 on
// tcpasm/framing): random HTTP/1.1 exchanges, cut into random segments, with
// random byte ranges lost in either direction. Every message no loss touched
// must come out exactly (start line, offsets, body); no message loss touched
// may be reported complete; no message may start where none was sent; resync
// work stays linear.
//
//	go test ./fuzz -run 'TestHTTPProp' -rapid.checks=5000

// httpMsg is a generated message and where it sits in its direction's stream.
type httpMsg struct {
	dir        tcpasm.Direction
	request    bool
	method     string
	target     string
	status     int
	body       []byte
	start, end int64
}

// bodyAlphabet has no 'H': bodies never hold a look-alike of a message start,
// so resync after loss has one right answer.
const bodyAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789 \r\n{}<>/:;=-"

func drawBody(t *rapid.T, label string) []byte {
	n := rapid.IntRange(0, 300).Draw(t, label+"-len")
	seed := rapid.Uint64().Draw(t, label+"-seed")
	b := make([]byte, n)
	for i := range b {
		seed = seed*6364136223846793005 + 1442695040888963407
		b[i] = bodyAlphabet[(seed>>33)%uint64(len(bodyAlphabet))]
	}
	return b
}

// chunk encodes body with random chunk sizes.
func chunk(t *rapid.T, body []byte, label string) []byte {
	var out bytes.Buffer
	for i := 0; len(body) > 0; i++ {
		n := min(rapid.IntRange(1, 64).Draw(t, fmt.Sprint(label, "-chunk", i)), len(body))
		fmt.Fprintf(&out, "%x\r\n", n)
		out.Write(body[:n])
		out.WriteString("\r\n")
		body = body[n:]
	}
	out.WriteString("0\r\n\r\n")
	return out.Bytes()
}

// genExchanges draws exchanges and returns both streams and the messages.
func genExchanges(t *rapid.T) (streams [2][]byte, msgs []httpMsg) {
	var buf [2]bytes.Buffer
	n := rapid.IntRange(1, 12).Draw(t, "exchanges")
	add := func(m httpMsg, wire []byte) {
		m.start = int64(buf[m.dir].Len())
		buf[m.dir].Write(wire)
		m.end = int64(buf[m.dir].Len())
		msgs = append(msgs, m)
	}
	for i := 0; i < n; i++ {
		// Mostly client requests; sometimes the roles are the other way round.
		qd := tcpasm.ClientToServer
		if rapid.IntRange(0, 9).Draw(t, "reverse") == 0 {
			qd = tcpasm.ServerToClient
		}
		method := rapid.SampledFrom([]string{"GET", "POST", "PUT", "DELETE", "OPTIONS"}).Draw(t, "method")
		target := fmt.Sprintf("/r%d/%s", i, strings.Repeat("p", rapid.IntRange(0, 40).Draw(t, "target")))
		var qb []byte
		var wire bytes.Buffer
		fmt.Fprintf(&wire, "%s %s HTTP/1.1\r\nHost: h%d.test\r\nX-Pad: %s\r\n", method, target, i, strings.Repeat("q", rapid.IntRange(0, 200).Draw(t, "pad")))
		switch rapid.IntRange(0, 2).Draw(t, "qbody") {
		case 0:
			wire.WriteString("\r\n")
		case 1:
			qb = drawBody(t, "qbody")
			fmt.Fprintf(&wire, "Content-Length: %d\r\n\r\n", len(qb))
			wire.Write(qb)
		case 2:
			qb = drawBody(t, "qbody")
			wire.WriteString("Transfer-Encoding: chunked\r\n\r\n")
			wire.Write(chunk(t, qb, "q"))
		}
		add(httpMsg{dir: qd, request: true, method: method, target: target, body: qb}, wire.Bytes())

		status := rapid.SampledFrom([]int{200, 201, 204, 304, 404, 500}).Draw(t, "status")
		var rb []byte
		wire.Reset()
		fmt.Fprintf(&wire, "HTTP/1.1 %d Something\r\nServer: gen\r\n", status)
		switch {
		case status == 204 || status == 304:
			wire.WriteString("Content-Length: 0\r\n\r\n")
		case rapid.Bool().Draw(t, "rchunked"):
			rb = drawBody(t, "rbody")
			wire.WriteString("Transfer-Encoding: chunked\r\n\r\n")
			wire.Write(chunk(t, rb, "r"))
		default:
			rb = drawBody(t, "rbody")
			fmt.Fprintf(&wire, "Content-Length: %d\r\n\r\n", len(rb))
			wire.Write(rb)
		}
		add(httpMsg{dir: qd ^ 1, status: status, body: rb}, wire.Bytes())
	}
	return [2][]byte{buf[0].Bytes(), buf[1].Bytes()}, msgs
}

// httpRec records what an http1.Conn reports.
type httpRec struct {
	msgs   []*http1.Message
	bodies map[*http1.Message][]byte
	ends   map[*http1.Message]bool
	ex     [][2]*http1.Message
	err    string
}

func (r *httpRec) Header(m *http1.Message) { r.msgs = append(r.msgs, m) }
func (r *httpRec) Body(m *http1.Message, off int64, data []byte) {
	b := r.bodies[m]
	if off < int64(len(b)) {
		r.err = fmt.Sprintf("body bytes at %d delivered again", off)
	}
	for int64(len(b)) < off {
		b = append(b, 0)
	}
	r.bodies[m] = append(b, data...)
}
func (r *httpRec) End(m *http1.Message) {
	if r.ends[m] {
		r.err = "End twice"
	}
	r.ends[m] = true
}
func (r *httpRec) Exchange(q, p *http1.Message) {
	r.ex = append(r.ex, [2]*http1.Message{q, p})
}

// segEvent is one delivery to a direction's framer.
type segEvent struct {
	dir      tcpasm.Direction
	off, end int64
	gap      bool
	order    int
}

func TestHTTPProp(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		streams, msgs := genExchanges(t)
		// Random loss: a few ranges per direction.
		var lost [2][][2]int64
		for d := range lost {
			k := rapid.IntRange(0, 3).Draw(t, "gaps")
			for i := 0; i < k && len(streams[d]) > 1; i++ {
				a := rapid.Int64Range(0, int64(len(streams[d])-1)).Draw(t, "gap-at")
				l := rapid.Int64Range(1, 400).Draw(t, "gap-len")
				lost[d] = append(lost[d], [2]int64{a, min(a+l, int64(len(streams[d])))})
			}
			sort.Slice(lost[d], func(i, j int) bool { return lost[d][i][0] < lost[d][j][0] })
		}
		isLost := func(d int, a, b int64) bool {
			for _, g := range lost[d] {
				if a < g[1] && g[0] < b {
					return true
				}
			}
			return false
		}
		// Segments: random cut points; a segment is delivered at the "time" of
		// the message holding its first byte, requests before responses; a
		// segment of responses at the time of the message holding its last
		// byte (an answer is not sent before its request).
		var evs []segEvent
		at := func(d tcpasm.Direction, off int64) int {
			for i, m := range msgs {
				if m.dir == d && off >= m.start && off < m.end {
					return i
				}
			}
			return len(msgs)
		}
		order := func(d tcpasm.Direction, off, end int64) int {
			i := at(d, off)
			if i < len(msgs) && !msgs[i].request {
				return at(d, end-1)
			}
			return i
		}
		for d := range streams {
			s := streams[d]
			for off := int64(0); off < int64(len(s)); {
				n := rapid.Int64Range(1, 700).Draw(t, "seg")
				end := min(off+n, int64(len(s)))
				// Split the segment at the lost ranges' edges.
				pos := off
				for pos < end {
					next := end
					inGap := false
					for _, g := range lost[d] {
						if pos >= g[0] && pos < g[1] {
							inGap, next = true, min(g[1], end)
							break
						}
						if g[0] > pos && g[0] < next {
							next = g[0]
						}
					}
					evs = append(evs, segEvent{dir: tcpasm.Direction(d), off: pos, end: next, gap: inGap, order: order(tcpasm.Direction(d), off, end)})
					pos = next
				}
				off = end
			}
		}
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].order < evs[j].order })

		r := &httpRec{bodies: map[*http1.Message][]byte{}, ends: map[*http1.Message]bool{}}
		c := http1.NewConn(r, http1.Config{})
		var fr [2]*framing.Framer
		for d := range fr {
			fr[d] = framing.New(c.Consumer(tcpasm.Direction(d)), framing.Config{MaxHeld: 4096}, true)
		}
		for i, e := range evs {
			if e.gap {
				fr[e.dir].Gap(e.off, e.end-e.off, tcpasm.ReasonAcked, int64(i))
			} else {
				fr[e.dir].Data(e.off, streams[e.dir][e.off:e.end], int64(i))
			}
		}
		fr[0].End(tcpasm.ReasonFIN, int64(len(evs)))
		fr[1].End(tcpasm.ReasonFIN, int64(len(evs)))
		if r.err != "" {
			t.Fatal(r.err)
		}

		got := map[[2]int64]*http1.Message{}
		for _, m := range r.msgs {
			if !r.ends[m] {
				t.Fatalf("message at %d never ended", m.Start)
			}
			got[[2]int64{int64(m.Dir), m.Start}] = m
		}
		sent := map[[2]int64]bool{}
		for _, w := range msgs {
			sent[[2]int64{int64(w.dir), w.start}] = true
			m := got[[2]int64{int64(w.dir), w.start}]
			touched := isLost(int(w.dir), w.start, w.end)
			if touched {
				if m != nil && m.Complete {
					t.Fatalf("message at %d/%d touched by loss %v reported complete", w.dir, w.start, lost[w.dir])
				}
				continue
			}
			if m == nil {
				t.Fatalf("intact message dir %d [%d,%d) not extracted (loss %v)", w.dir, w.start, w.end, lost[w.dir])
			}
			if !m.Complete || m.End != w.end || m.Request != w.request || m.Method != w.method || m.Target != w.target || m.Status != w.status {
				t.Fatalf("message dir %d [%d,%d): got complete %v end %d %s %s %d", w.dir, w.start, w.end, m.Complete, m.End, m.Method, m.Target, m.Status)
			}
			if !bytes.Equal(r.bodies[m], w.body) || m.BodyLen != int64(len(w.body)) {
				t.Fatalf("message dir %d at %d: body %q want %q", w.dir, w.start, r.bodies[m], w.body)
			}
		}
		for k, m := range got {
			if !sent[k] {
				t.Fatalf("false message at dir %d offset %d: %s %s %d", k[0], k[1], m.Method, m.Target, m.Status)
			}
			// Body bytes are at their offsets: captured ones equal what was sent.
			for _, w := range msgs {
				if w.dir == m.Dir && w.start == m.Start {
					b := r.bodies[m]
					if int64(len(b)) > int64(len(w.body)) {
						t.Fatalf("message at %d: body longer than sent (%d > %d): spliced", m.Start, len(b), len(w.body))
					}
					holes := make([]bool, len(b))
					for _, h := range m.Holes {
						for i := h.Off; i < h.Off+h.Len && i < int64(len(b)); i++ {
							holes[i] = true
						}
					}
					for i := range b {
						if !holes[i] && b[i] != w.body[i] {
							t.Fatalf("message at %d: body byte %d is %q, sent %q", m.Start, i, b[i], w.body[i])
						}
					}
				}
			}
		}
		// Without loss and with clients in one direction, every response is
		// paired with its own request, in order, and none after loss.
		reversed := false
		for _, m := range msgs {
			reversed = reversed || (m.request && m.dir != tcpasm.ClientToServer)
		}
		if len(lost[0]) == 0 && len(lost[1]) == 0 && !reversed {
			if len(r.ex) != len(msgs)/2 {
				t.Fatalf("%d exchanges for %d sent", len(r.ex), len(msgs)/2)
			}
			for i, e := range r.ex {
				q, p := e[0], e[1]
				if q == nil || p == nil || q.Start != msgs[2*i].start || p.Start != msgs[2*i+1].start || p.Uncertain {
					t.Fatalf("exchange %d: %v %v", i, q, p)
				}
			}
		}
		if ex := c.Examined(); ex > 4*int64(len(streams[0])+len(streams[1]))+64 {
			t.Fatalf("resync examined %d bytes for %d", ex, len(streams[0])+len(streams[1]))
		}
	})
}
