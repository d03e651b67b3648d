package tcpasm_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/tcpasm"
)

// Captures in which a RST (forged: an evasion, an injection) is followed by
// the connection's own SYN-ACK: one connection, as tshark's follow and
// Suricata (the bug-3286 tests' one http event) see it, with the byte
// counts of tshark's follow (issue 13, item 5). RSTs counts the RSTs the
// connection survived, and reset whether a later one ended it.
func TestCorpusRSTSurvived(t *testing.T) {
	corpus := filepath.Join(sharedDir(t), "corpus")
	for _, tc := range []struct {
		path     string
		c2s, s2c int64 // tshark follow
		survived int64
		reset    bool
	}{
		// Frames 2-4: the server's RST and FIN numbered 0, the client's
		// RST; frame 5 the real SYN-ACK.
		{"suricata-verify/tests/bug-3286-02-linux-evasion/with_evasion_linux.pcap", 338, 79, 2, false},
		{"suricata-verify/tests/bug-3286-03-windows-evasion/with_evasion_windows.pcap", 343, 79, 1, false},
		// Frame 2 an injected RST, frame 3 the SYN-ACK; the RSTs of
		// frames 7 and 9 have no sequel (the client's data of frame 8
		// may have crossed the RST): they end it.
		{"zeek/testing/btest/Traces/tcp/rst-inject-rae.pcap", 175, 0, 1, true},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			path := filepath.Join(corpus, tc.path)
			if _, err := os.Stat(path); err != nil {
				t.Skip(err)
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
			for {
				pkt, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if p.Decode(layers.LinkType(pkt.LinkType), pkt.Data, pkt.Length).OK() &&
					tcpasm.FromPacket(&seg, &p, pkt.Timestamp, pkt.Index, true) {
					a.Assemble(&seg)
				}
			}
			a.Close()
			st := a.Stats()
			if st.ConnsTotal != 1 || len(h.all) != 2 {
				t.Fatalf("%d connections (%d directions), tshark 1", st.ConnsTotal, len(h.all))
			}
			var survived int64
			for _, b := range h.all {
				s := b.s
				want := tc.c2s
				if s.Dir == tcpasm.ServerToClient {
					want = tc.s2c
				}
				if !b.closed || b.bad != "" || s.Extent != want || s.Stats.Bytes != want || s.Stats.GapBytes != 0 {
					t.Errorf("dir %d: closed %v %s, extent %d, %d bytes, %d gap bytes; tshark %d bytes",
						s.Dir, b.closed, b.bad, s.Extent, s.Stats.Bytes, s.Stats.GapBytes, want)
				}
				survived += s.Stats.RSTSurvived
			}
			c := h.all[0].s.Conn
			if reset := c.Streams[0].RST || c.Streams[1].RST; survived != tc.survived || st.RSTSurvived != survived || reset != tc.reset {
				t.Errorf("RSTs survived %d (assembler %d), reset %v; want %d, %v", survived, st.RSTSurvived, reset, tc.survived, tc.reset)
			}
		})
	}
}
