package pipeline_test

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/internal/testshared"
	"github.com/reseq/reseq/internal/wrapcap"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// connLog is a transcript of every callback per connection (capture times
// left out: a callback's time is when the assembler learnt something), keyed
// by what names a connection whatever the sharding: its first packet, its
// key and its number on the tuple.
type connLog struct {
	conns map[string]*[]string
}

func connName(c *tcpasm.Conn) string {
	return fmt.Sprintf("%d %s #%d", c.FirstIndex, c.Key, c.Index)
}

func (l *connLog) add(s *tcpasm.Stream, format string, args ...any) {
	n := connName(s.Conn)
	p := l.conns[n]
	if p == nil {
		p = &[]string{}
		l.conns[n] = p
	}
	*p = append(*p, fmt.Sprintf("%d ", s.Dir)+fmt.Sprintf(format, args...))
}

func sum(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

func (l *connLog) Open(c *tcpasm.Conn) {
	n := connName(c)
	if l.conns[n] != nil {
		panic("connection opened twice: " + n)
	}
	l.conns[n] = &[]string{"open"}
}
func (l *connLog) Data(s *tcpasm.Stream, off int64, b []byte, ts int64) {
	l.add(s, "data %d %d %x", off, len(b), sum(b))
}
func (l *connLog) Late(s *tcpasm.Stream, off int64, b []byte, ts int64) {
	l.add(s, "late %d %d %x", off, len(b), sum(b))
}
func (l *connLog) Gap(s *tcpasm.Stream, off, n int64, r tcpasm.Reason, ts int64) {
	l.add(s, "gap %d %d %v", off, n, r)
}
func (l *connLog) Conflict(s *tcpasm.Stream, c tcpasm.Conflict, ts int64) {
	l.add(s, "conflict %+v", c)
}
func (l *connLog) Close(s *tcpasm.Stream, r tcpasm.Reason, ts int64) {
	l.add(s, "close %v extent %d base %d/%v syn %v fin %v rst %v first %d last %d points %v %+v", r, s.Extent, s.BaseSeq, s.HaveBase, s.SYN, s.FIN, s.RST, s.First, s.Last, s.Conn.CapturePoints, s.Stats)
}

// shardRun assembles file with n shards (each its own assembler and log) and
// returns the union of the logs.
func shardRun(t *testing.T, file string, n int, opt pipeline.Options) map[string]*[]string {
	t.Helper()
	r, err := reseq.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	logs := make([]*connLog, n)
	asms := make([]*tcpasm.Assembler, n)
	as := make([]pipeline.Assembler, n)
	for i := range n {
		logs[i] = &connLog{conns: map[string]*[]string{}}
		asms[i] = tcpasm.New(tcpasm.Config{}, logs[i])
		as[i] = asms[i]
	}
	if _, err := pipeline.RunShards(r, as, opt); err != nil {
		t.Fatal(err)
	}
	all := map[string]*[]string{}
	for i, a := range asms {
		a.Close()
		for k, v := range logs[i].conns {
			if all[k] != nil {
				t.Fatalf("%s in two shards", k)
			}
			all[k] = v
		}
	}
	return all
}

// Every connection gets the same callbacks, whatever the number of shards,
// staged or serial, for every real capture, tunnelled and fragmented
// variants and two mirror sessions.
func TestShardsSame(t *testing.T) {
	caps := realCaptures(t)
	dir := t.TempDir()
	var files []string
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range caps {
			if !yield(n) {
				return
			}
		}
	}) {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, caps[name], 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if lv4 := caps["lossy_v4.pcap"]; lv4 != nil {
		for i, spec := range []string{"frag-shuffle:576:3", "vxlan:5001,outer-frag:1400,fragdrop:0.03:5", "mirror-erspan2:0.05:9"} {
			w, _, err := wrapcap.WrapBytes(lv4, spec)
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(dir, fmt.Sprintf("w%d.pcap", i))
			if err := os.WriteFile(f, w, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	opt := pipeline.Options{CapturePoints: pipeline.CaptureOuterVLAN | pipeline.CaptureTunnel}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := shardRun(t, f, 1, opt)
			if len(want) == 0 {
				t.Fatal("no connections")
			}
			for _, n := range []int{2, 3, 7} {
				for _, serial := range []bool{false, true} {
					o := opt
					o.Serial = serial
					got := shardRun(t, f, n, o)
					if len(got) != len(want) {
						t.Errorf("%d shards (serial %v): %d connections, want %d", n, serial, len(got), len(want))
					}
					for k, w := range want {
						g := got[k]
						if g == nil {
							t.Errorf("%d shards: %s missing", n, k)
							continue
						}
						if !slices.Equal(*g, *w) {
							for i := range min(len(*g), len(*w)) {
								if (*g)[i] != (*w)[i] {
									t.Errorf("%d shards (serial %v): %s: event %d: %s, want %s", n, serial, k, i, (*g)[i], (*w)[i])
									break
								}
							}
							t.Errorf("%d shards (serial %v): %s: %d events, want %d", n, serial, k, len(*g), len(*w))
						}
					}
					if t.Failed() {
						t.FailNow()
					}
				}
			}
		})
	}
}

// FlowKeyOf gives a frame that decodes to a whole TCP segment the key Run
// gives its segment, for every choice of capture points: 'reseq split'
// routes frames by it, and an extract of a shard file keeps the connections
// by the key Run makes. Over a real capture, tunnelled, mirrored and
// fragmented, and the corpus's stacked VLAN tags (the outer one a capture
// point or not).
func TestFlowKeyOf(t *testing.T) {
	lv4 := realCaptures(t)["lossy_v4.pcap"]
	if lv4 == nil {
		t.Skip("no lossy_v4.pcap")
	}
	dir := t.TempDir()
	var files []string
	for i, spec := range []string{"", "mirror-vxlan:0.05:9", "vxlan:5001,frag:576:3", "mirror-erspan2:0.05:9"} {
		b := lv4
		if spec != "" {
			var err error
			if b, _, err = wrapcap.WrapBytes(lv4, spec); err != nil {
				t.Fatal(err)
			}
		}
		f := filepath.Join(dir, fmt.Sprintf("w%d-%s.pcap", i, spec))
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	corpus := filepath.Join(testshared.RootTB(t), "..", "shared", "corpus")
	for _, p := range []string{"arkime/tests/pcap/twovlan.pcap", "zeek/testing/btest/Traces/http-qinq-0.pcap", "zeek/testing/btest/Traces/vlan-qinqinq.pcap"} {
		if _, err := os.Stat(filepath.Join(corpus, p)); err == nil {
			files = append(files, filepath.Join(corpus, p))
		}
	}
	stacked := 0 // frames whose key loses the outer tag under CaptureOuterVLAN
	for _, f := range files {
		for _, s := range []pipeline.CaptureSource{0, pipeline.CaptureOuterVLAN, pipeline.CaptureTunnel, pipeline.CaptureOuterVLAN | pipeline.CaptureTunnel} {
			r, err := reseq.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			keys := map[int64]layers.FlowKey{}
			var lp layers.Packet
			for {
				pkt, err := r.Next()
				if err != nil {
					break
				}
				st := lp.DecodeWith(nil, layers.LinkType(pkt.LinkType), pkt.Data, pkt.Length)
				if st.OK() && lp.Transport == layers.TransportTCP && len(lp.TCP) >= layers.TCPMinLen {
					keys[pkt.Index] = pipeline.FlowKeyOf(&lp, s)
					if s == pipeline.CaptureOuterVLAN && lp.NumTunnels == 0 && lp.LinkVLANs >= 2 {
						stacked++
					}
				}
			}
			r.Close()
			rec, _, err := run(t, pipeline.Options{CapturePoints: s}, f)
			if err != nil {
				t.Fatal(err)
			}
			seen, differ := 0, 0
			for _, g := range rec.segs {
				k, ok := keys[g.index]
				if !ok {
					continue // a fragment's datagram
				}
				seen++
				if k != g.key {
					if differ++; differ < 3 {
						t.Errorf("%s, capture points %b: frame %d: FlowKeyOf %v, Run %v", filepath.Base(f), s, g.index, k, g.key)
					}
				}
			}
			if seen != len(keys) || seen == 0 {
				t.Errorf("%s, capture points %b: %d of %d whole TCP frames became segments", filepath.Base(f), s, seen, len(keys))
			}
		}
	}
	if stacked == 0 && len(files) > 4 {
		t.Error("no frame with stacked VLAN tags")
	}
}
