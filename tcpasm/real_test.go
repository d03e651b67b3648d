package tcpasm_test

import (
	"bufio"
	"crypto/sha3"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseq/reseq/internal/testshared"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/tcpasm"
)

// sharedDir returns ../shared beside the repository root, or skips.
func sharedDir(t testing.TB) string {
	t.Helper()
	return testshared.Dir(t, "")
}

// streamBuf is what a real-traffic run keeps per direction: the bytes at
// their offsets and the gaps.
type streamBuf struct {
	s        *tcpasm.Stream
	data     []byte
	have     []bool
	gapBytes int64
	closed   bool
	bad      string
}

type bufHandler struct {
	by  map[*tcpasm.Stream]*streamBuf
	all []*streamBuf
}

func (h *bufHandler) get(s *tcpasm.Stream) *streamBuf {
	b := h.by[s]
	if b == nil {
		b = &streamBuf{s: s}
		h.by[s] = b
		h.all = append(h.all, b)
	}
	return b
}

func (h *bufHandler) put(b *streamBuf, off int64, d []byte, late bool) {
	end := off + int64(len(d))
	if end > 1<<30 {
		b.bad = fmt.Sprintf("offset %d too large for the test", end)
		return
	}
	for int64(len(b.data)) < end {
		b.data = append(b.data, 0)
		b.have = append(b.have, false)
	}
	for i, c := range d {
		o := off + int64(i)
		if b.have[o] && b.bad == "" {
			b.bad = fmt.Sprintf("byte %d delivered twice (late %v)", o, late)
		}
		b.have[o] = true
		b.data[o] = c
	}
}

func (h *bufHandler) Open(*tcpasm.Conn) {}
func (h *bufHandler) Data(s *tcpasm.Stream, off int64, d []byte, _ int64) {
	h.put(h.get(s), off, d, false)
}
func (h *bufHandler) Gap(s *tcpasm.Stream, off, n int64, _ tcpasm.Reason, _ int64) {
	h.get(s).gapBytes += n
}
func (h *bufHandler) Late(s *tcpasm.Stream, off int64, d []byte, _ int64) {
	h.put(h.get(s), off, d, true)
}
func (h *bufHandler) Conflict(*tcpasm.Stream, tcpasm.Conflict, int64) {}
func (h *bufHandler) Close(s *tcpasm.Stream, _ tcpasm.Reason, _ int64) {
	h.get(s).closed = true
}

type truthRec struct {
	ClientPort int      `json:"client_port"`
	ServerPort int      `json:"server_port"`
	Seed       int      `json:"seed"`
	Rounds     [][2]int `json:"rounds"`
}

// truthStreams rebuilds what the client and the server sent (see
// ../shared/real/README.md).
func truthStreams(r truthRec) (c2s, s2c []byte) {
	for i, rd := range r.Rounds {
		c := sha3.SumSHAKE256([]byte(fmt.Sprintf("%d-c-%d", r.Seed, i)), rd[0])
		if i == 0 && len(c) >= 32 {
			copy(c, fmt.Sprintf("SEED%028d", r.Seed))
		}
		c2s = append(c2s, c...)
		s2c = append(s2c, sha3.SumSHAKE256([]byte(fmt.Sprintf("%d-s-%d", r.Seed, i)), rd[1])...)
	}
	return
}

// Real kernel TCP traffic: every delivered byte is the byte the endpoint sent
// at that offset, every direction is closed with data + gaps tiling its
// extent, and the captures without loss have no gap at all.
func TestRealTraffic(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "real")
	files := []struct {
		name  string
		clean bool
	}{
		{"clean_v4_gso.pcap", true},
		{"clean_v6_nano.pcap", true},
		{"lossy_v4.pcap", false},
		{"lossy_v6_ng.pcapng", false},
		{"lossy_snap200.pcap", false},
		{"lossy_any_sll2.pcap", false},
		{"lossy_v4_gso.pcap", false},
	}
	if testing.Short() {
		files = files[:2]
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			path := filepath.Join(dir, f.name)
			tf, err := os.Open(path[:len(path)-len(filepath.Ext(path))] + ".truth.jsonl")
			if err != nil {
				t.Skip(err)
			}
			defer tf.Close()
			truth := map[[2]int]truthRec{}
			sc := bufio.NewScanner(tf)
			for sc.Scan() {
				var r truthRec
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatal(err)
				}
				truth[[2]int{r.ClientPort, r.ServerPort}] = r
			}
			rd, err := reseq.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			h := &bufHandler{by: map[*tcpasm.Stream]*streamBuf{}}
			a := tcpasm.New(tcpasm.Config{}, h)
			var p layers.Packet
			var seg tcpasm.Segment
			// What the capture carried, independently of the assembler: per
			// direction the SYN's number and every payload's range.
			type carried struct {
				isn    uint32
				syn    bool
				ranges [][2]uint32 // seq, length
			}
			cov := map[layers.FlowKey]*carried{}
			for {
				pkt, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if !p.Decode(layers.LinkType(pkt.LinkType), pkt.Data, pkt.Length).OK() {
					continue
				}
				if tcpasm.FromPacket(&seg, &p, pkt.Timestamp, pkt.Index, true) {
					a.Assemble(&seg)
					c := cov[seg.Key]
					if c == nil {
						c = &carried{}
						cov[seg.Key] = c
					}
					sq := seg.Seq
					if seg.Flags&tcpasm.SYN != 0 {
						c.isn, c.syn = seg.Seq, true
						sq++
					}
					if len(seg.Payload) > 0 {
						c.ranges = append(c.ranges, [2]uint32{sq, uint32(len(seg.Payload))})
					}
				}
			}
			a.Close()
			checked := 0
			for _, b := range h.all {
				s := b.s
				if !b.closed || b.bad != "" {
					t.Errorf("%v dir %d: closed %v, %s", s.Conn.Key, s.Dir, b.closed, b.bad)
					continue
				}
				if int64(len(b.data)) > s.Extent || s.Stats.Bytes+s.Stats.GapBytes+s.Stats.LateBytes != s.Extent {
					t.Errorf("%v dir %d: accounting: data to %d, stats %+v, extent %d", s.Conn.Key, s.Dir, len(b.data), s.Stats, s.Extent)
				}
				k := s.Conn.Key
				tr, ok := truth[[2]int{int(k.SrcPort), int(k.DstPort)}]
				if !ok || !s.SYN {
					continue
				}
				c2s, s2c := truthStreams(tr)
				want := c2s
				if s.Dir == tcpasm.ServerToClient {
					want = s2c
				}
				if s.Extent > int64(len(want)) {
					t.Errorf("%v dir %d: extent %d beyond the %d bytes sent", k, s.Dir, s.Extent, len(want))
				}
				for o, c := range b.data {
					if b.have[o] && (o >= len(want) || want[o] != c) {
						t.Errorf("%v dir %d: byte %d differs from what was sent", k, s.Dir, o)
						break
					}
				}
				// The gaps are exactly the bytes no captured packet carried.
				src := k
				if s.Dir == tcpasm.ServerToClient {
					src = k.Reverse()
				}
				if c := cov[src]; c != nil && c.syn {
					got := make([]bool, s.Extent)
					for _, r := range c.ranges {
						o := int64(r[0] - (c.isn + 1))
						for i := int64(0); i < int64(r[1]); i++ {
							if o+i < s.Extent {
								got[o+i] = true
							}
						}
					}
					for o := int64(0); o < s.Extent; o++ {
						if d := o < int64(len(b.have)) && b.have[o]; d != got[o] {
							t.Errorf("%v dir %d: byte %d delivered %v, carried by a captured packet %v", k, s.Dir, o, d, got[o])
							break
						}
					}
				}
				if f.clean && (s.Stats.Gaps != 0 || s.Extent != int64(len(want))) {
					t.Errorf("%v dir %d: clean capture: %d gaps (%d bytes), extent %d of %d", k, s.Dir, s.Stats.Gaps, s.Stats.GapBytes, s.Extent, len(want))
				}
				checked++
			}
			if checked < len(truth) {
				t.Errorf("checked %d directions against %d truth connections", checked, len(truth))
			}
			t.Logf("%d directions checked, %+v", checked, a.Stats())
		})
	}
}
