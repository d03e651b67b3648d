package framing

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/reseq/reseq/tcpasm"
)

// recs is a test consumer for records "#NNNN" + NNNN bytes of payload. It keeps
// its resync scan position, as a consumer must for O(n) resync, and counts the
// bytes it examines.
type recs struct {
	got     []string // payloads of complete records
	offs    []int64  // their stream offsets
	events  []string
	scanned int64 // bytes examined by Resync
	cursor  int64 // stream offset up to which Resync found no start
	// in a record: payload bytes still expected
	need int
	body []byte
	at   int64
}

func (r *recs) Data(c *Chunk) (int, bool) {
	d := c.Data
	if r.need > 0 {
		n := min(r.need, len(d))
		r.body = append(r.body, d[:n]...)
		r.need -= n
		if r.need == 0 {
			r.got = append(r.got, string(r.body))
			r.offs = append(r.offs, r.at)
		}
		return n, false
	}
	if d[0] != '#' {
		return 0, true
	}
	if len(d) < 5 {
		if c.Full {
			return 0, true
		}
		return 0, false
	}
	n, err := strconv.Atoi(string(d[1:5]))
	if err != nil || n <= 0 {
		return 0, true
	}
	r.need, r.body, r.at = n, r.body[:0], c.Off
	return 5, false
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func (r *recs) Resync(c *Chunk) (int, bool) {
	i := 0
	if r.cursor > c.Off && r.cursor-c.Off <= int64(len(c.Data)) {
		i = int(r.cursor - c.Off)
	}
	d := c.Data
	for ; i < len(d); i++ {
		r.scanned++
		if d[i] != '#' {
			continue
		}
		j := i + 1
		for j < len(d) && j < i+5 && isDigit(d[j]) {
			j++
		}
		if j == i+5 {
			r.cursor = c.Off + int64(i)
			return i, true
		}
		if j == len(d) { // a candidate cut by the end: keep it
			r.cursor = c.Off + int64(i)
			return i, false
		}
	}
	r.cursor = c.Off + int64(len(d))
	return len(d), false
}

func (r *recs) Gap(off, length int64, reason tcpasm.Reason, ts int64) bool {
	r.events = append(r.events, fmt.Sprintf("gap %d+%d", off, length))
	if r.need > 0 {
		r.need = 0 // record lost
		return true
	}
	return true
}

func (r *recs) End(reason tcpasm.Reason, ts int64) {
	r.events = append(r.events, "end "+reason.String())
}

func rec(s string) string { return fmt.Sprintf("#%04d%s", len(s), s) }

// feed cuts stream into segments of the given sizes (cycled) and drops the
// byte ranges in gaps (stream offsets, sorted), reporting them as gaps.
func feed(f *Framer, stream []byte, sizes []int, gaps [][2]int) {
	off, k, ts := 0, 0, int64(1)
	for off < len(stream) {
		n := min(sizes[k%len(sizes)], len(stream)-off)
		k++
		for _, g := range gaps {
			if off < g[1] && off+n > g[0] {
				// Segment touches a gap: deliver the part before it, the gap, and resume after.
				if g[0] > off {
					f.Data(int64(off), stream[off:g[0]], ts)
				}
				f.Gap(int64(g[0]), int64(g[1]-g[0]), tcpasm.ReasonAcked, ts)
				n = g[1] - off
				break
			}
		}
		if len(gaps) == 0 || !touches(off, n, gaps) {
			f.Data(int64(off), stream[off:off+n], ts)
		}
		off += n
		ts++
	}
	f.End(tcpasm.ReasonFIN, ts)
}

func touches(off, n int, gaps [][2]int) bool {
	for _, g := range gaps {
		if off < g[1] && off+n > g[0] {
			return true
		}
	}
	return false
}

func TestFramerConsumeHold(t *testing.T) {
	msgs := []string{"hello", "a", "a longer record body here", "x"}
	var stream []byte
	for _, m := range msgs {
		stream = append(stream, rec(m)...)
	}
	for _, tc := range []struct {
		name   string
		sizes  []int
		copied bool // whether bytes had to be held
	}{
		{"whole", []int{len(stream)}, false},
		{"per-byte", []int{1}, true},
		{"odd", []int{3, 7, 2}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recs{}
			f := New(r, Config{}, true)
			feed(f, stream, tc.sizes, nil)
			if fmt.Sprint(r.got) != fmt.Sprint(msgs) {
				t.Fatalf("got %q, want %q", r.got, msgs)
			}
			st := f.Stats()
			if st.Consumed != int64(len(stream)) || st.Dropped != 0 {
				t.Fatalf("stats %+v, stream %d", st, len(stream))
			}
			if (st.Copied > 0) != tc.copied {
				t.Fatalf("copied %d bytes, want copying=%v", st.Copied, tc.copied)
			}
			if st.Copied > int64(len(stream)) {
				t.Fatalf("copied %d > stream %d", st.Copied, len(stream))
			}
		})
	}
}

func TestFramerGapResync(t *testing.T) {
	stream := []byte(rec("first") + rec("second-record") + "junk#12x" + rec("third") + rec("fourth"))
	second := len(rec("first"))
	// A gap inside the second record's payload: it is lost, the junk is
	// skipped, third and fourth are framed.
	for _, sizes := range [][]int{{1000}, {1}, {4, 9}} {
		r := &recs{}
		f := New(r, Config{}, true)
		g := [2]int{second + 7, second + 9}
		feed(f, stream, sizes, [][2]int{g})
		want := []string{"first", "third", "fourth"}
		if fmt.Sprint(r.got) != fmt.Sprint(want) {
			t.Fatalf("sizes %v: got %q want %q", sizes, r.got, want)
		}
		wantOff := []int64{0, int64(bytes.Index(stream, []byte("#0005third"))), int64(bytes.Index(stream, []byte("#0006fourth")))}
		if fmt.Sprint(r.offs) != fmt.Sprint(wantOff) {
			t.Fatalf("offsets %v want %v", r.offs, wantOff)
		}
		if r.events[0] != fmt.Sprintf("gap %d+2", g[0]) || r.events[len(r.events)-1] != "end fin" {
			t.Fatalf("events %v", r.events)
		}
	}
}

func TestFramerGapBeforeData(t *testing.T) {
	// The consumer must hear of the gap before any byte after it, also when
	// bytes before the gap were held unconsumed.
	var log []string
	c := &funcs{
		data: func(c *Chunk) (int, bool) {
			log = append(log, fmt.Sprintf("data %d %q", c.Off, c.Data))
			if len(c.Data) < 4 {
				return 0, false
			}
			return 4, false
		},
		gap: func(off, n int64) bool { log = append(log, fmt.Sprintf("gap %d+%d", off, n)); return false },
	}
	f := New(c, Config{}, true)
	f.Data(0, []byte("ab"), 1)
	f.Gap(2, 3, tcpasm.ReasonAcked, 2)
	f.Data(5, []byte("cdefg"), 3)
	// A jump forward is a gap too.
	f.Data(20, []byte("hijk"), 4)
	want := []string{`data 0 "ab"`, "gap 2+3", `data 5 "cdefg"`, `data 9 "g"`, "gap 10+10", `data 20 "hijk"`}
	if fmt.Sprint(log) != fmt.Sprint(want) {
		t.Fatalf("got\n%q\nwant\n%q", log, want)
	}
	if st := f.Stats(); st.Dropped != 3 || st.Gaps != 2 || st.GapBytes != 13 {
		t.Fatalf("stats %+v", st)
	}
}

type funcs struct {
	data   func(c *Chunk) (int, bool)
	resync func(c *Chunk) (int, bool)
	gap    func(off, n int64) bool
}

func (f *funcs) Data(c *Chunk) (int, bool) { return f.data(c) }
func (f *funcs) Resync(c *Chunk) (int, bool) {
	if f.resync == nil {
		return 0, true
	}
	return f.resync(c)
}
func (f *funcs) Gap(off, n int64, _ tcpasm.Reason, _ int64) bool {
	if f.gap == nil {
		return true
	}
	return f.gap(off, n)
}
func (f *funcs) End(tcpasm.Reason, int64) {}

func TestFramerBoundedHold(t *testing.T) {
	// A consumer that never consumes: the framer must never hold more than
	// MaxHeld plus one segment, and must tell the consumer when full.
	const maxHeld = 1000
	fulls, maxSeen := 0, 0
	c := &funcs{
		data: func(c *Chunk) (int, bool) {
			if c.Full {
				fulls++
			}
			maxSeen = max(maxSeen, len(c.Data))
			return 0, false
		},
		resync: func(c *Chunk) (int, bool) { return 0, len(c.Data) > 0 },
	}
	f := New(c, Config{MaxHeld: maxHeld}, true)
	seg := bytes.Repeat([]byte("z"), 37)
	for i := 0; i < 2000; i++ {
		f.Data(int64(i*len(seg)), seg, int64(i))
		if f.Held() > maxHeld+len(seg) {
			t.Fatalf("held %d after %d segments", f.Held(), i)
		}
	}
	if fulls == 0 || maxSeen >= maxHeld+len(seg) {
		t.Fatalf("full offers %d, largest offer %d", fulls, maxSeen)
	}
	st := f.Stats()
	if st.Dropped+int64(f.Held()) != int64(2000*len(seg)) {
		t.Fatalf("dropped %d + held %d != fed %d", st.Dropped, f.Held(), 2000*len(seg))
	}
}

func TestResyncLinear(t *testing.T) {
	// Garbage that never holds a record start, with a cut candidate ("#12")
	// at the end of many segments: the consumer's scan must stay linear and
	// Resync run at most once per arrival, never once per byte.
	for _, segSize := range []int{1, 3, 100, 1460} {
		seg := bytes.Repeat([]byte("abcdefghij"), segSize/10+1)[:segSize]
		if segSize >= 3 {
			copy(seg[segSize-3:], "#12")
		}
		r := &recs{}
		f := New(r, Config{MaxHeld: 4096}, false)
		const total = 1 << 20
		calls := 0
		for off := 0; off < total; off += segSize {
			f.Data(int64(off), seg, 0)
			calls++
		}
		st := f.Stats()
		if st.Resyncs > int64(calls) {
			t.Fatalf("seg %d: %d resync calls for %d arrivals", segSize, st.Resyncs, calls)
		}
		if r.scanned > 2*total {
			t.Fatalf("seg %d: scanned %d bytes for %d fed", segSize, r.scanned, total)
		}
		if f.Held() > 4096 {
			t.Fatalf("held %d", f.Held())
		}
		if len(r.got) != 0 {
			t.Fatalf("false records %q", r.got)
		}
	}
}

func TestChunkTime(t *testing.T) {
	var times []int64
	c := &funcs{data: func(c *Chunk) (int, bool) {
		if len(c.Data) < 6 {
			return 0, false
		}
		for i := range 6 {
			times = append(times, c.Time(c.Off+int64(i)))
		}
		return 6, false
	}}
	f := New(c, Config{}, true)
	f.Data(0, []byte("ab"), 10)
	f.Data(2, []byte("cd"), 20)
	f.Data(4, []byte("ef"), 30)
	if want := []int64{10, 10, 20, 20, 30, 30}; fmt.Sprint(times) != fmt.Sprint(want) {
		t.Fatalf("times %v want %v", times, want)
	}
}

func TestHandlerMidstream(t *testing.T) {
	var conns int
	rs := [2]*recs{{}, {}}
	h := NewHandler(Config{}, func(c *tcpasm.Conn) [2]Consumer {
		conns++
		return [2]Consumer{rs[0], rs[1]}
	})
	c := &tcpasm.Conn{}
	c.Streams[0] = &tcpasm.Stream{Conn: c, Dir: tcpasm.ClientToServer, SYN: true}
	c.Streams[1] = &tcpasm.Stream{Conn: c, Dir: tcpasm.ServerToClient} // picked up mid-stream
	h.Open(c)
	h.Data(c.Streams[0], 0, []byte(rec("req")), 1)
	tail := "d-of-a-record" + rec("resp")
	h.Data(c.Streams[1], 0, []byte(tail), 2)
	h.Close(c.Streams[0], tcpasm.ReasonFIN, 3)
	h.Close(c.Streams[1], tcpasm.ReasonFIN, 3)
	if conns != 1 || fmt.Sprint(rs[0].got) != "[req]" || fmt.Sprint(rs[1].got) != "[resp]" {
		t.Fatalf("conns %d, client %q, server %q", conns, rs[0].got, rs[1].got)
	}
	if c.Streams[0].User != nil {
		t.Fatalf("framer kept after close")
	}
}

func TestPairer(t *testing.T) {
	var gone []string
	p := Pairer[string]{Unanswered: func(v string) { gone = append(gone, v) }}
	p.Push(tcpasm.ClientToServer, "a", 10)
	p.Push(tcpasm.ClientToServer, "b", 20)
	p.Push(tcpasm.ClientToServer, "c", 30)
	p.Push(tcpasm.ClientToServer, "d", 40)
	steps := []struct {
		ts   int64
		loss bool
		want string
	}{
		{5, false, ""},   // answer before any request: unpaired
		{15, false, "a"}, // oldest
		{35, true, "c"},  // after loss: latest sent before it; b given up
		{100, false, "d"},
		{200, false, ""},
	}
	for _, s := range steps {
		v, ok := p.Pop(tcpasm.ServerToClient, s.ts, s.loss)
		if v != s.want || ok != (s.want != "") {
			t.Fatalf("pop at %d: %q %v, want %q", s.ts, v, ok, s.want)
		}
	}
	p.Push(tcpasm.ServerToClient, "server-push", 300)
	p.Push(tcpasm.ClientToServer, "e", 300)
	if p.Len(tcpasm.ClientToServer) != 1 || p.Len(tcpasm.ServerToClient) != 1 {
		t.Fatalf("len %d %d", p.Len(0), p.Len(1))
	}
	p.Drain()
	if fmt.Sprint(gone) != "[b e server-push]" {
		t.Fatalf("unanswered %q", gone)
	}
}

func TestPairerPeek(t *testing.T) {
	var p Pairer[int]
	for i, ts := range []int64{10, 20, 30} {
		p.Push(tcpasm.ClientToServer, i, ts)
	}
	for _, tc := range []struct {
		ts   int64
		loss bool
		want int
		ok   bool
	}{{5, false, 0, false}, {25, false, 0, true}, {25, true, 1, true}, {99, true, 2, true}} {
		v, ok := p.Peek(tcpasm.ServerToClient, tc.ts, tc.loss)
		if v != tc.want || ok != tc.ok {
			t.Fatalf("peek %d %v: %d %v", tc.ts, tc.loss, v, ok)
		}
		if p.Len(tcpasm.ClientToServer) != 3 {
			t.Fatal("peek removed a request")
		}
		if ok {
			if w, _ := p.Pop(tcpasm.ServerToClient, tc.ts, tc.loss); w != v {
				t.Fatalf("pop %d after peek %d", w, v)
			}
			for i := p.Len(tcpasm.ClientToServer); i < 3; i++ {
				p.Push(tcpasm.ClientToServer, -1, 1000) // keep the queue length for the next case
			}
			p = Pairer[int]{}
			for i, ts := range []int64{10, 20, 30} {
				p.Push(tcpasm.ClientToServer, i, ts)
			}
		}
	}
}

// TestFramerNoAllocs: in-order data the consumer takes whole, and data it
// takes in part once the held buffer has grown, cost no allocation per call.
func TestFramerNoAllocs(t *testing.T) {
	whole := &funcs{data: func(c *Chunk) (int, bool) { return len(c.Data), false }}
	f := New(whole, Config{}, true)
	seg := bytes.Repeat([]byte("x"), 1448)
	off := int64(0)
	if a := testing.AllocsPerRun(1000, func() {
		f.Data(off, seg, off)
		off += int64(len(seg))
	}); a != 0 {
		t.Fatalf("zero-copy path: %v allocs per segment", a)
	}
	// A consumer that takes records of 1000 bytes: the rest is held.
	part := &funcs{data: func(c *Chunk) (int, bool) {
		if len(c.Data) < 1000 {
			return 0, false
		}
		return 1000, false
	}}
	g := New(part, Config{}, true)
	off = 0
	for i := 0; i < 100; i++ { // warm up the held buffer
		g.Data(off, seg, off)
		off += int64(len(seg))
	}
	if a := testing.AllocsPerRun(1000, func() {
		g.Data(off, seg, off)
		off += int64(len(seg))
	}); a != 0 {
		t.Fatalf("holding path: %v allocs per segment", a)
	}
	// Every byte is copied at most once, however long it stays held.
	if st := g.Stats(); st.Copied > off || st.Consumed+int64(g.Held()) != off {
		t.Fatalf("copied %d, consumed %d, held %d of %d fed", st.Copied, st.Consumed, g.Held(), off)
	}
}

func TestPairerPopBetween(t *testing.T) {
	var gone []int
	p := Pairer[int]{Unanswered: func(v int) { gone = append(gone, v) }}
	for i, ts := range []int64{10, 20, 30, 40} {
		p.Push(tcpasm.ClientToServer, i, ts)
	}
	// An answer known to come after bytes captured at 15, delivered at 100:
	// it answers the request sent after 15; the one before is given up.
	if v, ok := p.PopBetween(tcpasm.ServerToClient, 15, 100); !ok || v != 1 || fmt.Sprint(gone) != "[0]" {
		t.Fatalf("got %d %v, gone %v", v, ok, gone)
	}
	// No request after lo: pairs as after loss at hi (the latest before it).
	if v, ok := p.PopBetween(tcpasm.ServerToClient, 50, 100); !ok || v != 3 || fmt.Sprint(gone) != "[0 2]" {
		t.Fatalf("got %d %v, gone %v", v, ok, gone)
	}
	if _, ok := p.PopBetween(tcpasm.ServerToClient, 0, 100); ok {
		t.Fatal("popped from an empty queue")
	}
}
