package http1

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/reseq/reseq/tcpasm"
	"github.com/reseq/reseq/tcpasm/framing"
)

const (
	c2s = tcpasm.ClientToServer
	s2c = tcpasm.ServerToClient
)

// rec records what a Conn reports.
type rec struct {
	msgs   []*Message
	bodies map[*Message][]byte
	ends   int
	ex     []string
}

func (r *rec) Header(m *Message) { r.msgs = append(r.msgs, m) }
func (r *rec) Body(m *Message, off int64, data []byte) {
	if r.bodies == nil {
		r.bodies = map[*Message][]byte{}
	}
	b := r.bodies[m]
	if int64(len(b)) < off {
		b = append(b, make([]byte, off-int64(len(b)))...)
	}
	if int64(len(b)) != off {
		panic(fmt.Sprintf("body bytes at %d delivered twice (have %d)", off, len(b)))
	}
	r.bodies[m] = append(b, data...)
}
func (r *rec) End(m *Message) { r.ends++ }
func (r *rec) Exchange(q, p *Message) {
	r.ex = append(r.ex, describe(q)+" -> "+describe(p))
}

func describe(m *Message) string {
	if m == nil {
		return "-"
	}
	s := ""
	if m.Request {
		s = m.Method + " " + m.Target
	} else {
		s = fmt.Sprint(m.Status)
	}
	if !m.Complete {
		s += "(incomplete)"
	}
	return s
}

func (r *rec) body(m *Message) string {
	b := r.bodies[m]
	if int64(len(b)) < m.BodyLen {
		b = append(b, make([]byte, m.BodyLen-int64(len(b)))...)
	}
	return string(b)
}

// part is one piece of a conversation: bytes a direction sends.
type part struct {
	dir  tcpasm.Direction
	data string
}

type feedOpts struct {
	seg      int           // segment size (0: whole parts)
	gaps     [2][][2]int64 // per direction, [from, to) stream offsets lost
	midstart [2]int64      // per direction: bytes cut off at the start (mid-stream pickup)
	cfg      Config
	held     int // framing MaxHeld
}

// feed frames a conversation through framers into a Conn.
func feed(conv []part, o feedOpts) (*rec, *Conn, [2]*framing.Framer) {
	r := &rec{}
	c := NewConn(r, o.cfg)
	var fr [2]*framing.Framer
	var off [2]int64
	for d := range fr {
		fr[d] = framing.New(c.Consumer(tcpasm.Direction(d)), framing.Config{MaxHeld: o.held}, o.midstart[d] == 0)
	}
	ts := int64(1)
	for _, p := range conv {
		data := []byte(p.data)
		d := p.dir
		seg := o.seg
		if seg <= 0 {
			seg = len(data)
		}
		for i := 0; i < len(data); i += seg {
			chunk := data[i:min(i+seg, len(data))]
			ts++
			start := off[d]
			off[d] += int64(len(chunk))
			// Cut the chunk by the direction's lost ranges.
			pos := start
			for _, g := range append([][2]int64{{0, o.midstart[d]}}, o.gaps[d]...) {
				if g[1] <= pos || g[0] >= off[d] {
					continue
				}
				if g[0] > pos {
					fr[d].Data(pos, chunk[pos-start:g[0]-start], ts)
				}
				if g[0] >= o.midstart[d] || g[1] > o.midstart[d] && g[0] > 0 {
					lo := max(g[0], pos)
					fr[d].Gap(lo, g[1]-lo, tcpasm.ReasonAcked, ts)
				}
				pos = min(g[1], off[d])
			}
			if pos < off[d] {
				fr[d].Data(pos, chunk[pos-start:], ts)
			}
		}
	}
	fr[0].End(tcpasm.ReasonFIN, ts+1)
	fr[1].End(tcpasm.ReasonFIN, ts+1)
	return r, c, fr
}

func req(method, target string, hdr ...string) string {
	return method + " " + target + " HTTP/1.1\r\nHost: example.test\r\n" + strings.Join(hdr, "") + "\r\n"
}

func resp(status int, body string, hdr ...string) string {
	return fmt.Sprintf("HTTP/1.1 %d X\r\nContent-Length: %d\r\n%s\r\n%s", status, len(body), strings.Join(hdr, ""), body)
}

func TestConnTable(t *testing.T) {
	chunked := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n"
	tests := []struct {
		name   string
		conv   []part
		o      feedOpts
		ex     []string          // exchanges
		bodies map[string]string // describe(message) -> body
	}{
		{
			name:   "keep-alive",
			conv:   []part{{c2s, req("GET", "/a")}, {s2c, resp(200, "alpha")}, {c2s, req("GET", "/b")}, {s2c, resp(404, "nope")}},
			ex:     []string{"GET /a -> 200", "GET /b -> 404"},
			bodies: map[string]string{"200": "alpha", "404": "nope"},
		},
		{
			name: "pipelined+chunked+close",
			conv: []part{
				{c2s, req("GET", "/1") + req("POST", "/2", "Content-Length: 3\r\n") + "abc" + req("GET", "/3")},
				{s2c, resp(200, "one") + chunked + "HTTP/1.0 200 OK\r\n\r\nuntil the end"},
			},
			ex:     []string{"GET /1 -> 200", "POST /2 -> 200", "GET /3 -> 200"},
			bodies: map[string]string{"POST /2": "abc"},
		},
		{
			name: "no-body rules",
			conv: []part{
				{c2s, req("HEAD", "/h")}, {s2c, resp(200, "") + "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"[0:0]},
				{c2s, req("GET", "/n")}, {s2c, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"},
				{c2s, req("GET", "/c")}, {s2c, "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"},
				{c2s, req("PUT", "/p", "Content-Length: 4\r\n")}, {s2c, "HTTP/1.1 100 Continue\r\n\r\n"}, {c2s, "data"}, {s2c, resp(201, "made")},
				{c2s, req("HEAD", "/h2")}, {s2c, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"},
				{c2s, req("GET", "/last")}, {s2c, resp(200, "tail")},
			},
			ex: []string{"HEAD /h -> 200", "GET /n -> 204", "GET /c -> 304", "PUT /p -> 201", "HEAD /h2 -> 200", "GET /last -> 200"},
		},
		{
			name: "upgrade ends http",
			conv: []part{
				{c2s, req("GET", "/ws", "Upgrade: websocket\r\nConnection: Upgrade\r\n")},
				{s2c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n" + resp(200, "not http")},
				{c2s, req("GET", "/not-http-either")},
			},
			ex: []string{"GET /ws -> 101"},
		},
		{
			name: "connect tunnel",
			conv: []part{
				{c2s, "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n"},
				{s2c, "HTTP/1.1 200 Connection established\r\n\r\n"},
				{c2s, req("GET", "/inside")}, {s2c, resp(200, "inside")},
			},
			ex: []string{"CONNECT example.test:443 -> 200"},
		},
		{
			name: "empty lines between messages",
			conv: []part{{c2s, "\r\n" + req("GET", "/a")}, {s2c, resp(200, "alpha") + "\r\n"}, {c2s, "\r\n\r\n" + req("GET", "/b")}, {s2c, resp(200, "beta")}},
			ex:   []string{"GET /a -> 200", "GET /b -> 200"},
		},
		{
			name: "roles by content",
			conv: []part{{s2c, req("GET", "/reverse")}, {c2s, resp(200, "r")}},
			ex:   []string{"GET /reverse -> 200"},
		},
		{
			name: "unanswered and unrequested",
			conv: []part{{s2c, resp(200, "early")}, {c2s, req("GET", "/x")}},
			ex:   []string{"- -> 200", "GET /x -> -"},
		},
		{
			name:   "gap in content-length body",
			conv:   []part{{c2s, req("GET", "/css")}, {s2c, resp(200, "0123456789abcdefghij")}, {c2s, req("GET", "/404")}, {s2c, resp(404, "missing")}},
			o:      feedOpts{gaps: [2][][2]int64{s2c: {{int64(len(resp(200, "0123456789abcdefghij"))) - 15, int64(len(resp(200, "0123456789abcdefghij"))) - 10}}}},
			ex:     []string{"GET /css -> 200(incomplete)", "GET /404 -> 404"},
			bodies: map[string]string{"200(incomplete)": "01234\x00\x00\x00\x00\x00abcdefghij", "404": "missing"},
		},
		{
			name: "gap from body into next headers",
			conv: []part{{c2s, req("GET", "/a") + req("GET", "/b") + req("GET", "/c")}, {s2c, resp(200, "aaaaaaaaaa") + resp(200, "bbbbbbbbbb") + resp(202, "cc")}},
			o:    feedOpts{gaps: [2][][2]int64{s2c: {{int64(len(resp(200, "aaaaaaaaaa"))) - 4, int64(len(resp(200, "aaaaaaaaaa"))) + 5}}}},
			// /b's response is lost with its status line: the pairing after
			// loss takes the latest request sent before 202 - all were sent
			// at once, so /b is given up and /c paired.
			ex: []string{"GET /a -> 200(incomplete)", "GET /b -> -", "GET /c -> 202"},
		},
		{
			name: "gap in chunk framing",
			conv: []part{{c2s, req("GET", "/1")}, {s2c, chunked}, {c2s, req("GET", "/2")}, {s2c, resp(200, "two")}},
			o:    feedOpts{gaps: [2][][2]int64{s2c: {{int64(strings.Index(chunked, "hello")) + 3, int64(strings.Index(chunked, "hello")) + 10}}}},
			ex:   []string{"GET /1 -> 200(incomplete)", "GET /2 -> 200"},
		},
		{
			name: "gap in headers drops that message only",
			conv: []part{{c2s, req("GET", "/1")}, {c2s, req("GET", "/2", "X-Long: "+strings.Repeat("x", 40)+"\r\n")}, {c2s, req("GET", "/3")}},
			o:    feedOpts{gaps: [2][][2]int64{c2s: {{int64(len(req("GET", "/1"))) + 30, int64(len(req("GET", "/1"))) + 40}}}},
			ex:   []string{"GET /1 -> -", "GET /3 -> -"},
		},
		{
			name:   "midstream start inside a body",
			conv:   []part{{c2s, req("GET", "/1")}, {s2c, resp(200, "HTTP/1.1 200 fake inside a body")}, {c2s, req("GET", "/2")}, {s2c, resp(200, "real")}},
			o:      feedOpts{midstart: [2]int64{s2c: 30}},
			ex:     []string{"GET /1 -> -", "GET /2 -> 200"},
			bodies: map[string]string{"200": "real"},
		},
		{
			name: "not http",
			conv: []part{{c2s, "\x16\x03\x01\x02\x00binary HTTP/1.1 200"}, {s2c, "\x16\x03\x03 random bytes\r\n\r\n"}},
		},
	}
	for _, tc := range tests {
		for _, seg := range []int{0, 1, 7} {
			t.Run(fmt.Sprintf("%s/seg%d", tc.name, seg), func(t *testing.T) {
				o := tc.o
				o.seg = seg
				r, _, _ := feed(tc.conv, o)
				if fmt.Sprint(r.ex) != fmt.Sprint(tc.ex) {
					t.Fatalf("exchanges\n got %q\nwant %q", r.ex, tc.ex)
				}
				for _, m := range r.msgs {
					if want, ok := tc.bodies[describe(m)]; ok && r.body(m) != want {
						t.Errorf("%s body %q want %q", describe(m), r.body(m), want)
					}
				}
				if r.ends != len(r.msgs) {
					t.Errorf("%d messages, %d ends", len(r.msgs), r.ends)
				}
			})
		}
	}
}

func TestChunkedTrailer(t *testing.T) {
	chunked := "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n"
	r, _, _ := feed([]part{{c2s, req("GET", "/")}, {s2c, chunked}}, feedOpts{seg: 3})
	if len(r.msgs) != 2 {
		t.Fatalf("messages %d", len(r.msgs))
	}
	m := r.msgs[1]
	if r.body(m) != "hello world" || m.Trailer.Get("X-Sum") != "42" || !m.Complete || m.Mode != BodyChunked {
		t.Fatalf("body %q trailer %v complete %v mode %v", r.body(m), m.Trailer, m.Complete, m.Mode)
	}
	if m.End != int64(len(chunked)) || m.Start != 0 || m.BodyStart != int64(strings.Index(chunked, "5;")) {
		t.Fatalf("offsets start %d body %d end %d", m.Start, m.BodyStart, m.End)
	}
}

func TestHoleOffsets(t *testing.T) {
	body := strings.Repeat("0123456789", 10)
	rs := resp(200, body)
	hdrLen := int64(len(rs) - len(body))
	r, _, _ := feed([]part{{c2s, req("GET", "/")}, {s2c, rs}}, feedOpts{seg: 9, gaps: [2][][2]int64{s2c: {{hdrLen + 20, hdrLen + 35}}}})
	m := r.msgs[1]
	if m.Complete || len(m.Gaps) != 1 || m.Gaps[0] != (Range{hdrLen + 20, 15}) || len(m.Holes) != 1 || m.Holes[0] != (Range{20, 15}) {
		t.Fatalf("complete %v gaps %v holes %v", m.Complete, m.Gaps, m.Holes)
	}
	want := body[:20] + strings.Repeat("\x00", 15) + body[35:]
	if r.body(m) != want || m.BodyLen != 100 {
		t.Fatalf("body %q", r.body(m))
	}
}

func TestResyncTrap(t *testing.T) {
	// ../shared/bench/small's payload: request-line look-alikes without line
	// ends after the version and without header terminators. No message may
	// come out, and the scan must stay linear.
	line := "GET /item/77000/c/0 HTTP/1.1 Host: bench.example accept: */*\r\n"
	var sb strings.Builder
	for sb.Len() < 1<<20 {
		sb.WriteString(line)
	}
	// Also near misses: a real request line with a broken header block.
	sb.WriteString("GET /x HTTP/1.1\r\nHost bench\r\n")
	total := int64(sb.Len())
	for _, seg := range []int{1, 100, 1460} {
		if testing.Short() && seg == 1 {
			continue
		}
		r, c, fr := feed([]part{{c2s, sb.String()}}, feedOpts{seg: seg, midstart: [2]int64{c2s: 5}})
		if len(r.msgs) != 0 {
			t.Fatalf("seg %d: false messages, first %+v", seg, r.msgs[0])
		}
		if ex := c.Examined(); ex > 3*total {
			t.Fatalf("seg %d: examined %d bytes for %d", seg, ex, total)
		}
		if st := fr[0].Stats(); st.Scanned > 64*total {
			t.Fatalf("seg %d: framer offered %d bytes to resync for %d", seg, st.Scanned, total)
		}
	}
}

func TestResyncFindsMessages(t *testing.T) {
	// After a gap, a message right after binary body bytes, a status line
	// split at every position, and candidates that fail.
	junk := "\x00\x01zzGET\r\nHTTP/1.1 2xx\r\n" + "POST / HTTP/1.1\r\nbad header\r\n\r\n" + "ABCDGET /real HTTP/1.1\r\nHost: h\r\n\r\n"
	r, _, _ := feed([]part{{c2s, junk}}, feedOpts{seg: 1, midstart: [2]int64{c2s: 1}})
	if len(r.msgs) != 1 || r.msgs[0].Target != "/real" || r.msgs[0].Start != int64(strings.Index(junk, "GET /real")) {
		t.Fatalf("got %d messages: %+v", len(r.msgs), r.msgs)
	}
	for cut := 1; cut < 40; cut++ {
		s := "binary\xffHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
		r, _, _ := feed([]part{{c2s, s[:cut]}, {c2s, s[cut:]}}, feedOpts{midstart: [2]int64{c2s: 1}})
		if len(r.msgs) != 1 || r.body(r.msgs[0]) != "ok" || r.msgs[0].Start != 7 {
			t.Fatalf("cut %d: %d messages", cut, len(r.msgs))
		}
	}
}

func TestHeaderTooLarge(t *testing.T) {
	big := "GET / HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 100)+"\r\n", 100) + "\r\n"
	conv := []part{{c2s, big + req("GET", "/after")}}
	r, _, fr := feed(conv, feedOpts{seg: 50, cfg: Config{MaxHeader: 4096}})
	if len(r.msgs) != 1 || r.msgs[0].Target != "/after" {
		t.Fatalf("messages %d", len(r.msgs))
	}
	if fr[0].Held() != 0 {
		t.Fatalf("held %d", fr[0].Held())
	}
}

func TestStartLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		ok   bool
		want string
	}{
		{"GET / HTTP/1.1", true, "GET / HTTP/1.1 0"},
		{"M-SEARCH * HTTP/1.1", true, "M-SEARCH * HTTP/1.1 0"},
		{"HTTP/1.0 404 Not Found", true, " HTTP/1.0 404"},
		{"HTTP/1.1 200", true, " HTTP/1.1 200"},
		{"HTTP/1.1 20", false, ""},
		{"HTTP/1.1 200OK", false, ""},
		{"HTTP/2.0 200 OK", false, ""},
		{"GET / HTTP/1.1 Host: x", false, ""},
		{"GET  HTTP/1.1", false, ""},
		{"G(T / HTTP/1.1", false, ""},
		{"GET / HTTP/1.2", false, ""},
		{"HTTP/1.1 099 x", false, ""},
	} {
		s, ok := parseStartLine([]byte(tc.line))
		if ok != tc.ok {
			t.Errorf("%q: ok %v", tc.line, ok)
			continue
		}
		if ok {
			got := fmt.Sprintf("%s %s %s %d", s.method, s.target, s.proto, s.status)
			if s.request {
				got = fmt.Sprintf("%s %s %s 0", s.method, s.target, s.proto)
			} else {
				got = fmt.Sprintf(" %s %d", s.proto, s.status)
			}
			if got != tc.want {
				t.Errorf("%q: %q want %q", tc.line, got, tc.want)
			}
		}
	}
}

func TestContentLength(t *testing.T) {
	for _, tc := range []struct {
		vals []string
		n    int64
		ok   bool
	}{
		{[]string{"12"}, 12, true},
		{[]string{"12, 12"}, 12, true},
		{[]string{"12", "12"}, 12, true},
		{[]string{"12", "13"}, 0, false},
		{[]string{"-1"}, 0, false},
		{[]string{"+5"}, 0, false},
		{[]string{"0x10"}, 0, false},
		{[]string{""}, 0, false},
		{[]string{"99999999999999999999"}, 0, false},
	} {
		n, ok := contentLength(tc.vals)
		if ok != tc.ok || (ok && n != tc.n) {
			t.Errorf("%q: %d %v", tc.vals, n, ok)
		}
	}
}

func TestDecode(t *testing.T) {
	plain := strings.Repeat("content coding round trip; ", 200)
	gz := func(b []byte) []byte {
		var o bytes.Buffer
		z := gzip.NewWriter(&o)
		z.Write(b)
		z.Close()
		return o.Bytes()
	}
	zl := func(b []byte) []byte {
		var o bytes.Buffer
		z := zlib.NewWriter(&o)
		z.Write(b)
		z.Close()
		return o.Bytes()
	}
	raw := func(b []byte) []byte {
		var o bytes.Buffer
		z, _ := flate.NewWriter(&o, 5)
		z.Write(b)
		z.Close()
		return o.Bytes()
	}
	br := func(b []byte) []byte {
		var o bytes.Buffer
		z := brotli.NewWriter(&o)
		z.Write(b)
		z.Close()
		return o.Bytes()
	}
	zs := func(b []byte) []byte {
		e, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		defer e.Close()
		return e.EncodeAll(b, nil)
	}
	p := []byte(plain)
	for _, tc := range []struct {
		coding string
		body   []byte
		ok     bool
	}{
		{"gzip", gz(p), true},
		{"x-gzip", gz(p), true},
		{"deflate", zl(p), true},
		{"deflate", raw(p), true},
		{"br", br(p), true},
		{"zstd", zs(p), true},
		{"gzip, br", br(gz(p)), true},
		{"identity", p, true},
		{"compress", p, false},
		{"gzip", p, false},
	} {
		r, closeFn, err := Decode(tc.coding, bytes.NewReader(tc.body))
		var got []byte
		if err == nil {
			got, err = io.ReadAll(r)
			closeFn()
		}
		if tc.ok != (err == nil) || (tc.ok && string(got) != plain) {
			t.Errorf("%s: err %v, %d bytes", tc.coding, err, len(got))
		}
	}
}

// fillRec is a rec that takes late bytes.
type fillRec struct{ rec }

func (r *fillRec) Fill(m *Message, off int64, data []byte) {
	b := r.bodies[m]
	for int64(len(b)) < off+int64(len(data)) {
		b = append(b, 0)
	}
	copy(b[off:], data)
	r.bodies[m] = b
}

func TestLateFillsHole(t *testing.T) {
	body := "0123456789abcdefghij"
	rs := resp(200, body)
	h := int64(len(rs) - len(body))
	for _, tc := range []struct {
		name     string
		late     [][2]int64 // body ranges delivered late
		complete bool
		gaps     []Range
	}{
		{"whole", [][2]int64{{5, 12}}, true, nil},
		{"two pieces", [][2]int64{{8, 12}, {5, 8}}, true, nil},
		{"part", [][2]int64{{6, 9}}, false, []Range{{h + 5, 1}, {h + 9, 3}}},
		{"none", nil, false, []Range{{h + 5, 7}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &fillRec{rec{bodies: map[*Message][]byte{}}}
			c := NewConn(r, Config{})
			cli := framing.New(c.Consumer(c2s), framing.Config{}, true)
			srv := framing.New(c.Consumer(s2c), framing.Config{}, true)
			cli.Data(0, []byte(req("GET", "/")), 1)
			srv.Data(0, []byte(rs[:h+5]), 2)
			srv.Gap(h+5, 7, tcpasm.ReasonAcked, 3)
			for _, l := range tc.late {
				srv.Late(h+l[0], []byte(rs[h+l[0]:h+l[1]]), 4)
			}
			srv.Data(h+12, []byte(rs[h+12:]), 5)
			cli.End(tcpasm.ReasonFIN, 6)
			srv.End(tcpasm.ReasonFIN, 6)
			m := r.msgs[1]
			if m.Complete != tc.complete || fmt.Sprint(m.Gaps) != fmt.Sprint(tc.gaps) {
				t.Fatalf("complete %v gaps %v", m.Complete, m.Gaps)
			}
			got := r.body(m)
			for i := range body {
				filled := !tc.complete && containsOff(m.Holes, int64(i))
				if !filled && got[i] != body[i] || filled && got[i] != 0 {
					t.Fatalf("body %q", got)
				}
			}
			if len(r.ex) != 1 || r.ex[0] != map[bool]string{true: "GET / -> 200", false: "GET / -> 200(incomplete)"}[tc.complete] {
				t.Fatalf("exchanges %q", r.ex)
			}
		})
	}
}

func containsOff(rs []Range, off int64) bool {
	for _, r := range rs {
		if off >= r.Off && off < r.Off+r.Len {
			return true
		}
	}
	return false
}

// TestPendingBounded: a client that pipelines requests no response answers
// keeps at most Config.MaxPending (and what the budget leaves) pending; the
// oldest are given up as unanswered, marked GivenUp, and every request is
// still reported once. With responses after all, the latest requests pair.
func TestPendingBounded(t *testing.T) {
	const n = 200
	var reqs strings.Builder
	for i := range n {
		fmt.Fprintf(&reqs, "GET /%d HTTP/1.1\r\nHost: h\r\n\r\n", i)
	}
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	cost := int64(MessageCost + len("GET /100 HTTP/1.1\r\nHost: h\r\n\r\n"))
	for _, tc := range []struct {
		name   string
		cfg    Config
		budget int64
		keep   int64 // most requests pending at once
	}{
		{"max-pending", Config{MaxPending: int(10 * cost)}, 0, 10},
		{"budget", Config{}, 5 * cost, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &framing.Budget{Max: tc.budget}
			tc.cfg.Budget = b
			r, c, _ := feed([]part{{c2s, reqs.String()}, {s2c, resp}}, feedOpts{cfg: tc.cfg, seg: 100})
			if c.pendingMem > tc.keep*cost || b.Used() != c.pendingMem && tc.budget > 0 {
				t.Fatalf("pending %d bytes (budget %d), want at most %d", c.pendingMem, b.Used(), tc.keep*cost)
			}
			c.Close()
			given, unanswered := 0, 0
			for _, m := range r.msgs {
				if m.GivenUp {
					given++
				}
			}
			for _, e := range r.ex {
				if strings.HasSuffix(e, "-> -") {
					unanswered++
				}
			}
			if len(r.ex) != n || given < n-int(tc.keep) || unanswered != n-1 {
				t.Fatalf("%d exchanges, %d given up, %d unanswered: %v", len(r.ex), given, unanswered, r.ex[len(r.ex)-3:])
			}
			if c.pendingMem != 0 || b.Used() != 0 {
				t.Fatalf("after Close: %d pending bytes, budget %d", c.pendingMem, b.Used())
			}
		})
	}
}
