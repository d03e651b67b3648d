package http1

import (
	"fmt"
	"strings"
	"testing"

	"github.com/reseq/reseq/tcpasm"
	"github.com/reseq/reseq/tcpasm/framing"
)

type nopHandler struct{ n int }

func (*nopHandler) Header(*Message)              {}
func (*nopHandler) Body(*Message, int64, []byte) {}
func (*nopHandler) End(*Message)                 {}
func (h *nopHandler) Exchange(q, p *Message)     { h.n++ }

// BenchmarkConn measures parsing alone: keep-alive exchanges of small bodies
// fed in 1448-byte segments.
func BenchmarkConn(b *testing.B) {
	var q, r strings.Builder
	const n = 200
	for i := 0; i < n; i++ {
		fmt.Fprintf(&q, "GET /item/%d HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n", i)
		body := strings.Repeat("x", 100+i*7%1500)
		fmt.Fprintf(&r, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
	streams := [2][]byte{[]byte(q.String()), []byte(r.String())}
	b.SetBytes(int64(len(streams[0]) + len(streams[1])))
	for b.Loop() {
		h := &nopHandler{}
		c := NewConn(h, Config{})
		var fr [2]*framing.Framer
		for d := range fr {
			fr[d] = framing.New(c.Consumer(tcpasm.Direction(d)), framing.Config{}, true)
		}
		var off [2]int
		for off[0] < len(streams[0]) || off[1] < len(streams[1]) {
			for d := range fr {
				if off[d] < len(streams[d]) {
					e := min(off[d]+1448, len(streams[d]))
					fr[d].Data(int64(off[d]), streams[d][off[d]:e], 1)
					off[d] = e
				}
			}
		}
		fr[0].End(tcpasm.ReasonFIN, 2)
		fr[1].End(tcpasm.ReasonFIN, 2)
		if h.n != n {
			b.Fatalf("%d exchanges", h.n)
		}
	}
}
