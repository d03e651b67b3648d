package pipeline_test

// Tunnels, carriers and IP fragments around real captures: the real captures
// of ../shared/real are wrapped by internal/wrapcap (serializers of its own,
// not layers'), run through the whole pipeline and a real assembler, and
// compared with the bare capture stream by stream.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/internal/testshared"
	"github.com/reseq/reseq/internal/wrapcap"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// streamLog records what the assembler delivered for every stream direction:
// the bytes at their offsets (a stream's bytes in one buffer; gap bytes
// zero), the gaps, the extent and how it closed.
type streamLog struct {
	streams map[string]*streamRec
	order   []string
	tables  *pipeline.Tables
}

type streamRec struct {
	name    string
	data    []byte
	have    []bool // which offsets were delivered (Data or Late)
	gaps    [][2]int64
	extent  int64
	close   tcpasm.Reason
	points  []string
	tunnels []layers.Tunnel
}

func newStreamLog(t *pipeline.Tables) *streamLog {
	return &streamLog{streams: map[string]*streamRec{}, tables: t}
}

// streamName names a direction without what tunnels add to the key (the
// VNI), so that a wrapped capture's streams match the bare capture's.
func streamName(s *tcpasm.Stream) string {
	k := s.Conn.Key
	if s.Dir == tcpasm.ServerToClient {
		k = k.Reverse()
	}
	k.VNI, k.HasVNI = 0, false
	return fmt.Sprintf("%s #%d", k, s.Conn.Index)
}

func (l *streamLog) rec(s *tcpasm.Stream) *streamRec {
	if r, ok := s.User.(*streamRec); ok {
		return r
	}
	r := &streamRec{name: streamName(s)}
	n := r.name
	for i := 2; l.streams[n] != nil; i++ {
		n = fmt.Sprintf("%s (%d)", r.name, i)
	}
	r.name = n
	l.streams[n] = r
	l.order = append(l.order, n)
	s.User = r
	return r
}

func (l *streamLog) Open(c *tcpasm.Conn) {
	for _, s := range c.Streams {
		l.rec(s)
	}
}

func (r *streamRec) put(off int64, b []byte) {
	if end := off + int64(len(b)); end > int64(len(r.data)) {
		r.data = append(r.data, make([]byte, end-int64(len(r.data)))...)
		r.have = append(r.have, make([]bool, end-int64(len(r.have)))...)
	}
	copy(r.data[off:], b)
	for i := range b {
		r.have[off+int64(i)] = true
	}
}

func (l *streamLog) Data(s *tcpasm.Stream, off int64, b []byte, ts int64) { l.rec(s).put(off, b) }
func (l *streamLog) Late(s *tcpasm.Stream, off int64, b []byte, ts int64) { l.rec(s).put(off, b) }
func (l *streamLog) Gap(s *tcpasm.Stream, off, n int64, reason tcpasm.Reason, ts int64) {
	r := l.rec(s)
	r.gaps = append(r.gaps, [2]int64{off, off + n})
}
func (l *streamLog) Conflict(s *tcpasm.Stream, c tcpasm.Conflict, ts int64) {}
func (l *streamLog) Close(s *tcpasm.Stream, reason tcpasm.Reason, ts int64) {
	r := l.rec(s)
	r.extent, r.close = s.Extent, reason
	r.points = r.points[:0]
	for _, id := range s.Conn.CapturePoints {
		if c, ok := l.tables.CapturePoint(id); ok {
			r.points = append(r.points, c.String())
		}
	}
	r.tunnels = l.tables.Tunnels(s.Encap)
}

// assemble runs capture (bytes of a pcap) through the pipeline and a real
// assembler.
func assemble(t *testing.T, capture []byte, opt pipeline.Options) (*streamLog, pipeline.Stats) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "c.pcap")
	if err := os.WriteFile(f, capture, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := reseq.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if opt.Tables == nil {
		opt.Tables = &pipeline.Tables{}
	}
	l := newStreamLog(opt.Tables)
	a := tcpasm.New(tcpasm.Config{}, l)
	st, err := pipeline.Run(r, a, opt)
	a.Close()
	if err != nil {
		t.Fatal(err)
	}
	return l, st
}

// realCaptures returns the real captures with their bytes.
func realCaptures(t *testing.T) map[string][]byte {
	dir := testshared.Dir(t, "real")
	caps := map[string][]byte{}
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, f := range m {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			caps[filepath.Base(f)] = b
		}
	}
	if len(caps) == 0 {
		t.Skip("no real captures")
	}
	return caps
}

// sameStreams requires got to hold exactly want's streams with the same
// bytes, gaps and extents.
func sameStreams(t *testing.T, label string, want, got *streamLog) {
	t.Helper()
	if len(got.order) != len(want.order) {
		t.Errorf("%s: %d stream directions, bare %d", label, len(got.order), len(want.order))
	}
	for _, n := range want.order {
		w, g := want.streams[n], got.streams[n]
		if g == nil {
			t.Errorf("%s: %s missing", label, n)
			continue
		}
		if !bytes.Equal(g.data, w.data) || !slices.Equal(g.have, w.have) {
			t.Errorf("%s: %s: bytes differ (%d, bare %d)", label, n, len(g.data), len(w.data))
		}
		if !slices.Equal(g.gaps, w.gaps) || g.extent != w.extent || g.close != w.close {
			t.Errorf("%s: %s: gaps %v extent %d close %v, bare %v %d %v", label, n, g.gaps, g.extent, g.close, w.gaps, w.extent, w.close)
		}
	}
}

// Every encapsulation, and fragments in every order, around every real
// capture: the streams are the bare capture's, byte for byte, gap for gap.
func TestTunnelledEqualsBare(t *testing.T) {
	specs := []string{
		"mpls:100,200", "mpls-pw:300", "pppoe:4660", "qinq-pppoe:4660", "llcsnap,frag:1492",
		"gre", "gre-key:77", "gre-seq,gre-csum", "gre-eth", "gre6",
		"erspan2:5", "erspan3:6", "erspan3p:7",
		"vxlan:5001", "vxlan6:5001", "geneve:5002", "gtpu:4097",
		"ipip", "6in4", "4in6", "6in6",
		"nflog", "ppp", "ppp-dir", "ppp-hdlc",
		"frag:576", "frag-rev:576", "frag-shuffle:576:7",
		"vxlan:5001,outer-frag:1400", "gre,outer-frag:700", "6in4,frag:576", "gtpu:9,frag:800,outer-frag:600",
	}
	caps := realCaptures(t)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range caps {
			if !yield(n) {
				return
			}
		}
	}) {
		capture := caps[name]
		t.Run(name, func(t *testing.T) {
			bare, bst := assemble(t, capture, pipeline.Options{CapturePoint: true})
			if bst.TCP == 0 {
				t.Fatal("no TCP")
			}
			for _, spec := range specs {
				if strings.Contains(spec, "outer-frag") && strings.Contains(name, "snap") {
					// A tunnel's outer fragment that the snaplen cut
					// hides how long the inner packet claims to be.
					continue
				}
				wrapped, ws, err := wrapcap.WrapBytes(capture, spec)
				if err != nil {
					if strings.Contains(err.Error(), "1500") { // llcsnap: GSO frames exceed 802.3
						continue
					}
					t.Fatalf("%s: %v", spec, err)
				}
				got, st := assemble(t, wrapped, pipeline.Options{CapturePoint: true})
				sameStreams(t, spec, bare, got)
				if st.TCP < bst.TCP {
					t.Errorf("%s: %d segments, bare %d (%s)", spec, st.TCP, bst.TCP, ws)
				}
				// A capture the snaplen cut gives datagrams that can
				// never complete: partial at once, their cut bytes
				// claimed as truncated, as in the bare capture.
				truncated := strings.Contains(name, "snap")
				if strings.Contains(spec, "frag") && ws.Fragments > 0 && (st.Fragments == 0 || st.PartialDatagrams != 0 && !truncated || st.FragChecksumBad != 0) {
					t.Errorf("%s: fragments %d, partial %d, bad checksums %d (%s)", spec, st.Fragments, st.PartialDatagrams, st.FragChecksumBad, ws)
				}
				if t.Failed() {
					t.FailNow()
				}
			}
		})
	}
}

// Every segment given to the assembler is the same, in the same order,
// whether the stages run serially or staged, read or mapped, for tunnelled
// and fragmented inputs (reassembly buffers ride with the batches).
func TestTunnelledStages(t *testing.T) {
	caps := realCaptures(t)
	capture := caps["lossy_v4.pcap"]
	if capture == nil {
		t.Skip("no lossy_v4.pcap")
	}
	for _, spec := range []string{"vxlan:5001", "frag-shuffle:576:3", "frag:576,fragdrop:0.05:3", "vxlan:5001,outer-frag:1400,fragdrop:0.03:5", "mirror-erspan2:0.05:9"} {
		t.Run(spec, func(t *testing.T) {
			wrapped, _, err := wrapcap.WrapBytes(capture, spec)
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(t.TempDir(), "w.pcap")
			if err := os.WriteFile(f, wrapped, 0o644); err != nil {
				t.Fatal(err)
			}
			st := same(t, pipeline.Options{CapturePoints: pipeline.CaptureOuterVLAN | pipeline.CaptureTunnel}, f)
			if st.TCP == 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// Fragments lost one by one: every byte a captured fragment carried is
// delivered at its offset and is the sender's byte; a datagram's bytes that no
// fragment carried are gaps; nothing else is.
func TestFragmentLoss(t *testing.T) {
	caps := realCaptures(t)
	for _, name := range []string{"lossy_v4.pcap", "clean_v6_nano.pcap", "lossy_v6_ng.pcapng"} {
		capture := caps[name]
		if capture == nil {
			continue
		}
		bare, _ := assemble(t, capture, pipeline.Options{})
		for seed := 1; seed <= 3; seed++ {
			for _, spec := range []string{"frag:576,fragdrop:0.05:%d", "frag-shuffle:576:%[1]d,fragdrop:0.05:%[1]d", "vxlan:5001,outer-frag:1400,fragdrop:0.05:%d"} {
				spec := fmt.Sprintf(spec, seed)
				wrapped, ws, err := wrapcap.WrapBytes(capture, spec)
				if err != nil {
					t.Fatal(err)
				}
				got, st := assemble(t, wrapped, pipeline.Options{})
				if ws.FragDrops == 0 || st.PartialDatagrams == 0 {
					t.Fatalf("%s %s: %d fragments dropped, %d partial datagrams", name, spec, ws.FragDrops, st.PartialDatagrams)
				}
				delivered, lost := 0, 0
				for _, n := range got.order {
					g, w := got.streams[n], bare.streams[n]
					if w == nil {
						t.Fatalf("%s %s: stream %s not in the bare capture", name, spec, n)
					}
					for i, ok := range g.have {
						if !ok {
							continue
						}
						delivered++
						if i >= len(w.data) || !w.have[i] || g.data[i] != w.data[i] {
							t.Fatalf("%s %s: %s: byte %d delivered %#x, the sender's %#x", name, spec, n, i, g.data[i], w.data[min(i, len(w.data)-1)])
						}
					}
					// Every byte of [0, extent) is delivered or in a gap.
					covered := make([]bool, g.extent)
					for i, ok := range g.have {
						if ok && int64(i) < g.extent {
							covered[i] = true
						}
					}
					for _, gp := range g.gaps {
						for i := gp[0]; i < gp[1] && i < g.extent; i++ {
							covered[i] = true
							lost++
						}
					}
					if i := slices.Index(covered, false); i >= 0 {
						t.Fatalf("%s %s: %s: byte %d neither delivered nor a gap", name, spec, n, i)
					}
				}
				t.Logf("%s %s: %s; %d bytes delivered, %d in gaps, %d partial datagrams, %d reused IDs dropped", name, spec, ws, delivered, lost, st.PartialDatagrams, st.FragChecksumBad)
			}
		}
	}
}

// Two mirror sessions, each losing packets on its own: with the tunnel as the
// capture point the copies are one connection and fill each other's loss;
// without it each session (its own VNI) is a connection of its own.
func TestMirrorSessions(t *testing.T) {
	caps := realCaptures(t)
	capture := caps["lossy_v4.pcap"]
	if capture == nil {
		t.Skip("no lossy_v4.pcap")
	}
	bare, _ := assemble(t, capture, pipeline.Options{})
	for _, spec := range []string{"mirror-vxlan:0.05:3", "mirror-erspan3:0.05:4"} {
		wrapped, ws, err := wrapcap.WrapBytes(capture, spec)
		if err != nil {
			t.Fatal(err)
		}
		got, st := assemble(t, wrapped, pipeline.Options{CapturePoints: pipeline.CaptureTunnel})
		if ws.CopyDrops == 0 || st.TCP != int64(ws.Out) {
			t.Fatalf("%s: %s, %d TCP segments", spec, ws, st.TCP)
		}
		if len(got.order) != len(bare.order) {
			t.Fatalf("%s: %d stream directions, bare %d", spec, len(got.order), len(bare.order))
		}
		kind := strings.TrimPrefix(strings.Split(spec, ":")[0], "mirror-")
		kind = strings.TrimSuffix(strings.TrimSuffix(kind, "2"), "3")
		wantPoints := []string{kind + ":101@198.51.100.1", kind + ":102@198.51.100.2"}
		for _, n := range bare.order {
			g, w := got.streams[n], bare.streams[n]
			if g == nil {
				t.Fatalf("%s: %s missing", spec, n)
			}
			// Loss only where both copies were dropped: far less than either
			// session lost, and never a wrong byte.
			for i, ok := range g.have {
				if ok && (!w.have[i] || g.data[i] != w.data[i]) {
					t.Fatalf("%s: %s: byte %d differs from the bare capture", spec, n, i)
				}
			}
			pts := slices.Clone(g.points)
			slices.Sort(pts)
			if len(g.have) > 0 && !slices.Equal(pts, wantPoints) {
				t.Errorf("%s: %s: capture points %v, want %v", spec, n, g.points, wantPoints)
			}
			if len(g.tunnels) == 0 {
				t.Errorf("%s: %s: no tunnels recorded", spec, n)
			}
		}
		if spec == "mirror-vxlan:0.05:3" {
			// Without the tunnel as capture point, the VNI keeps the
			// sessions apart.
			apart, _ := assemble(t, wrapped, pipeline.Options{})
			if len(apart.order) != 2*len(bare.order) {
				t.Errorf("%s without --capture-point tunnel: %d stream directions, want %d", spec, len(apart.order), 2*len(bare.order))
			}
		}
	}
}

// --capture-point interface: a capture made on Linux's "any" device
// (LINUX_SLL2) names each packet's interface by its index (this one saw its
// traffic on one), and the streams stay the bare capture's.
func TestCapturePointInterface(t *testing.T) {
	caps := realCaptures(t)
	capture := caps["lossy_any_sll2.pcap"]
	if capture == nil {
		t.Skip("no lossy_any_sll2.pcap")
	}
	bare, _ := assemble(t, capture, pipeline.Options{})
	got, _ := assemble(t, capture, pipeline.Options{CapturePoints: pipeline.CaptureInterface})
	sameStreams(t, "interface", bare, got)
	seen := map[string]bool{}
	for _, n := range got.order {
		r := got.streams[n]
		if len(r.points) == 0 {
			t.Fatalf("%s: no capture point", n)
		}
		for _, p := range r.points {
			if !strings.HasPrefix(p, "ifindex:") {
				t.Fatalf("%s: capture point %q", n, p)
			}
			seen[p] = true
		}
	}
	if len(seen) == 0 {
		t.Fatal("no interface named")
	}
	t.Logf("interfaces: %v", seen)
}

// VXLAN on Linux's legacy port 8472 is decoded only when configured
// (--vxlan-port 4789,8472); then the streams are the bare capture's.
func TestVXLANPort(t *testing.T) {
	capture := realCaptures(t)["lossy_v4.pcap"]
	if capture == nil {
		t.Skip("no lossy_v4.pcap")
	}
	bare, _ := assemble(t, capture, pipeline.Options{})
	wrapped, _, err := wrapcap.WrapBytes(capture, "vxlan:5001:8472")
	if err != nil {
		t.Fatal(err)
	}
	if _, st := assemble(t, wrapped, pipeline.Options{}); st.TCP != 0 {
		t.Fatalf("port 8472 decoded without being asked: %d segments", st.TCP)
	}
	got, st := assemble(t, wrapped, pipeline.Options{Decode: &layers.DecodeOptions{VXLANPorts: []uint16{4789, 8472}}})
	if st.Tunnelled == 0 {
		t.Fatalf("nothing tunnelled: %+v", st)
	}
	sameStreams(t, "vxlan:8472", bare, got)
}

// corruptFragment returns a copy of capture (a little-endian microsecond
// pcap of Ethernet frames) with one payload byte of its first whole IPv4
// fragment at a non-zero offset flipped, so that its datagram's TCP checksum
// is bad.
func corruptFragment(t *testing.T, capture []byte) []byte {
	t.Helper()
	b, n := corruptFragments(t, capture, 1<<30)
	if n != 1 {
		t.Fatal("no IPv4 fragment at a non-zero offset")
	}
	return b
}

// corruptFragments is corruptFragment for the first TCP fragment at a
// non-zero offset and then every every-th one; it returns how many it
// flipped.
func corruptFragments(t *testing.T, capture []byte, every int) ([]byte, int) {
	t.Helper()
	b := bytes.Clone(capture)
	le, be := binary.LittleEndian, binary.BigEndian
	if len(b) < 24 || le.Uint32(b) != 0xa1b2c3d4 || le.Uint32(b[20:]) != 1 {
		t.Fatal("not a microsecond Ethernet pcap")
	}
	seen, flipped := 0, 0
	for off := 24; off+16 <= len(b); {
		incl, orig := int(le.Uint32(b[off+8:])), int(le.Uint32(b[off+12:]))
		frame := b[off+16 : off+16+incl]
		off += 16 + incl
		if incl != orig || len(frame) < 34 || be.Uint16(frame[12:]) != 0x0800 {
			continue
		}
		ip := frame[14:]
		hl := int(ip[0]&0x0f) * 4
		if be.Uint16(ip[6:])&0x1fff != 0 && ip[9] == layers.IPProtoTCP && len(ip) > hl+8 {
			if seen%every == 0 {
				ip[hl+5] ^= 0xff
				flipped++
			}
			seen++
		}
	}
	return b, flipped
}

// Many reassembled datagrams with a bad checksum: with one goroutine or two,
// and with a filter that leaves segments out or marks them, the same
// segments are dropped, the others reach the assembler in the same order,
// and Stats count the same.
func TestFragChecksumStages(t *testing.T) {
	capture := realCaptures(t)["lossy_v4.pcap"]
	if capture == nil {
		t.Skip("no lossy_v4.pcap")
	}
	wrapped, _, err := wrapcap.WrapBytes(capture, "frag:576")
	if err != nil {
		t.Fatal(err)
	}
	bad, n := corruptFragments(t, wrapped, 5)
	if n < 10 {
		t.Fatalf("%d fragments corrupted", n)
	}
	oddPort := func(seg *tcpasm.Segment, _ *layers.Packet) bool { return (seg.Key.SrcPort+seg.Key.DstPort)%2 == 1 }
	for _, f := range []struct {
		name string
		opt  pipeline.Options
	}{
		{"all", pipeline.Options{}},
		{"select", pipeline.Options{Select: oddPort}},
		{"marked", pipeline.Options{Select: oddPort, MarkFiltered: true}},
	} {
		t.Run(f.name, func(t *testing.T) {
			serial := f.opt
			serial.Serial = true
			want, wst := assemble(t, bad, serial)
			got, gst := assemble(t, bad, f.opt)
			if gst != wst {
				t.Errorf("stats with two goroutines %+v\nwith one %+v", gst, wst)
			}
			if !slices.Equal(got.order, want.order) {
				t.Errorf("two goroutines: streams %v, one: %v", got.order, want.order)
			}
			for _, name := range want.order {
				w, g := want.streams[name], got.streams[name]
				if g == nil || !bytes.Equal(g.data, w.data) || !slices.Equal(g.have, w.have) || !slices.Equal(g.gaps, w.gaps) {
					t.Errorf("%s: two goroutines delivered otherwise than one", name)
				}
			}
			// Verified before any filter looks at them: dropped whatever
			// the filter says.
			if wst.FragChecksumBad != int64(n) {
				t.Errorf("%d datagrams dropped for their checksum, %d corrupted", wst.FragChecksumBad, n)
			}
			_, cst := assemble(t, wrapped, serial)
			if cst.TCP+cst.Filtered != wst.TCP+wst.Filtered+wst.FragChecksumBad || cst.NotTCP+wst.FragChecksumBad != wst.NotTCP {
				t.Errorf("clean %+v\ncorrupted %+v", cst, wst)
			}
		})
	}
}

// A reassembled datagram whose TCP checksum is bad (made of two datagrams
// that shared an IP ID, or damaged) is dropped and its bytes stay gaps;
// fragments that arrived as a train (back to back, in order) are not
// verified, like an unfragmented packet (ipfrag.Datagram.Train).
func TestFragChecksum(t *testing.T) {
	capture := realCaptures(t)["lossy_v4.pcap"]
	if capture == nil {
		t.Skip("no lossy_v4.pcap")
	}
	// Every reassembled datagram is verified, trains included: a train
	// mixes two datagrams only when a sender reused an ID and the capture
	// lost the right fragments, but crafted input can do that at will.
	for _, tc := range []struct {
		spec     string
		verified bool
	}{{"frag:576", true}, {"frag-rev:576", true}, {"frag-shuffle:576:1", true}} {
		t.Run(tc.spec, func(t *testing.T) {
			wrapped, _, err := wrapcap.WrapBytes(capture, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			clean, cst := assemble(t, wrapped, pipeline.Options{})
			got, st := assemble(t, corruptFragment(t, wrapped), pipeline.Options{})
			want := int64(0)
			if tc.verified {
				want = 1
			}
			if cst.FragChecksumBad != 0 || st.FragChecksumBad != want {
				t.Fatalf("bad checksums %d (clean %d), want %d", st.FragChecksumBad, cst.FragChecksumBad, want)
			}
			// Bytes delivered that the clean run did not, or other ones.
			differ, missing := 0, 0
			for n, c := range clean.streams {
				g := got.streams[n]
				if g == nil {
					t.Fatalf("%s missing", n)
				}
				for i, ok := range c.have {
					switch {
					case i >= len(g.have) || !g.have[i]:
						missing++
					case ok && g.data[i] != c.data[i]:
						differ++
					}
				}
			}
			if tc.verified && (differ != 0 || missing == 0) || !tc.verified && (differ != 1 || missing != 0) {
				t.Errorf("%d bytes differ, %d not delivered", differ, missing)
			}
		})
	}
}
