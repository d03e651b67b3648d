package fuzz

import (
	"testing"

	"github.com/reseq/reseq/http1"
	"github.com/reseq/reseq/tcpasm"
	"github.com/reseq/reseq/tcpasm/framing"
)

// FuzzHTTP1 feeds arbitrary bytes as the two directions of a connection,
// cut into segments and with ranges lost as the script says, and checks the
// invariants of the framing and parsing layers: every message ends once, its
// offsets lie in the stream and in order, a message loss touched is never
// complete, body bytes are delivered once each in order, the framer holds at
// most its bound, and resync work stays linear.
//
// Input layout: byte 0 = segment size (1..256), byte 1 = where the second
// direction starts (scaled), byte 2 = loss pattern seed; the rest is split
// into the two directions.
func FuzzHTTP1(f *testing.F) {
	f.Add([]byte("\x05\x80\x00GET / HTTP/1.1\r\nHost: a\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"))
	f.Add([]byte("\x07\x60\x13POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\nT: 1\r\n\r\n"))
	f.Add([]byte("\x01\x40\xffGET /item/77000/c/0 HTTP/1.1 Host: bench.example accept: */*\r\nGET /a HTTP/1.1\r\n\r\nHTTP/1.1 101 Switching\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"))
	f.Add([]byte("\x20\x90\x55HEAD / HTTP/1.0\r\n\r\nGET /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nxyHTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 304 x\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 3 {
			return
		}
		seg := int(in[0]) + 1
		split := 3 + (len(in)-3)*int(in[1])/256
		seed := in[2]
		streams := [2][]byte{in[3:split], in[split:]}
		const maxHeld = 512
		type span struct{ a, b int64 }
		var lost [2][]span
		r := &fuzzRec{seen: map[*http1.Message]int64{}, ended: map[*http1.Message]bool{}}
		c := http1.NewConn(r, http1.Config{MaxHeader: 256, MaxLine: 128})
		var fr [2]*framing.Framer
		for d := range fr {
			fr[d] = framing.New(c.Consumer(tcpasm.Direction(d)), framing.Config{MaxHeld: maxHeld}, seed&(1<<d) == 0)
		}
		var off [2]int
		k := 0
		for off[0] < len(streams[0]) || off[1] < len(streams[1]) {
			d := k & 1
			k++
			if off[d] >= len(streams[d]) {
				continue
			}
			n := min(seg, len(streams[d])-off[d])
			a, b := int64(off[d]), int64(off[d]+n)
			// Lose a segment now and then, as the seed says.
			if seed>>2 != 0 && (k*int(seed>>2))%7 == 0 {
				fr[d].Gap(a, b-a, tcpasm.ReasonAcked, int64(k))
				lost[d] = append(lost[d], span{a, b})
			} else {
				fr[d].Data(a, streams[d][a:b], int64(k))
			}
			if fr[d].Held() > maxHeld+seg {
				t.Fatalf("framer holds %d bytes", fr[d].Held())
			}
			off[d] += n
		}
		fr[0].End(tcpasm.ReasonFIN, int64(k+1))
		fr[1].End(tcpasm.ReasonFIN, int64(k+1))
		if r.err != "" {
			t.Fatal(r.err)
		}
		last := [2]int64{-1, -1}
		for _, m := range r.msgs {
			if !r.ended[m] {
				t.Fatalf("message at %d never ended", m.Start)
			}
			if m.Start <= last[m.Dir] || m.Start < 0 || m.End > int64(len(streams[m.Dir])) || m.End < m.BodyStart || m.BodyStart <= m.Start {
				t.Fatalf("message offsets start %d body %d end %d (previous start %d, stream %d)", m.Start, m.BodyStart, m.End, last[m.Dir], len(streams[m.Dir]))
			}
			last[m.Dir] = m.Start
			for _, g := range lost[m.Dir] {
				if g.a < m.End && m.Start < g.b && m.Complete {
					t.Fatalf("message [%d,%d) complete despite loss [%d,%d)", m.Start, m.End, g.a, g.b)
				}
			}
			if r.seen[m] > m.BodyLen {
				t.Fatalf("body delivered up to %d > length %d", r.seen[m], m.BodyLen)
			}
		}
		total := int64(len(in))
		if ex := c.Examined(); ex > 4*total+64 {
			t.Fatalf("resync examined %d bytes of %d", ex, total)
		}
	})
}

type fuzzRec struct {
	msgs  []*http1.Message
	seen  map[*http1.Message]int64
	ended map[*http1.Message]bool
	err   string
}

func (r *fuzzRec) Header(m *http1.Message) { r.msgs = append(r.msgs, m) }
func (r *fuzzRec) Body(m *http1.Message, off int64, data []byte) {
	if off < r.seen[m] {
		r.err = "body bytes delivered twice or out of order"
	}
	r.seen[m] = off + int64(len(data))
}
func (r *fuzzRec) End(m *http1.Message) {
	if r.ended[m] {
		r.err = "message ended twice"
	}
	r.ended[m] = true
}
func (r *fuzzRec) Exchange(q, p *http1.Message) {
	if q != nil && !r.ended[q] || p != nil && !r.ended[p] {
		r.err = "exchange before both messages ended"
	}
}
