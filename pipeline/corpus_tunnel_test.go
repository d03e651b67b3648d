package pipeline_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/internal/testshared"
	"github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// Regression tests on other projects' captures whose TCP is behind a tunnel
// or an encapsulation layers decodes, or in IP fragments ipfrag reassembles:
// reseq must find every TCP segment tshark finds, and deliver, for every
// stream tshark follows completely, the same bytes in both directions.
//
// The table states tshark 4.0's figures so that the test runs without
// tshark; when tshark is installed the figures are checked against it
// with RESEQ_TSHARK=1 (RESEQ_TUNNEL_TABLE=1 prints the table tshark gives,
// in Go syntax).

// tunnelCapture is one corpus capture (a path under ../shared/corpus).
type tunnelCapture struct {
	path  string
	encap string
	// tsharkTCP is the frames `tshark -Y 'tcp && !icmp && !icmpv6'` shows: a
	// fragmented datagram counts once (in the frame that completed it); ICMP
	// errors quoting a TCP header are left out (they carry no segment).
	tsharkTCP int
	// streams are the TCP streams tshark follows completely (no lost or
	// ACKed-unseen segment, and follow's bytes span every sequence number
	// seen); incomplete are the others' tcp.stream numbers.
	streams    []tsharkStream
	incomplete []int
	// knownTCP, when set, explains why reseq assembles fewer TCP segments
	// than tshark counts; the assertion is logged, not checked.
	knownTCP string
}

// tsharkStream is one `-z follow,tcp,raw,N`: Node 0 (a) and Node 1 (b), and
// the bytes of a->b and b->a.
type tsharkStream struct {
	n     int
	a, b  string
	dirs  [2]tsharkDir
	known string // when set: why reseq differs; logged, not checked
}

// tsharkDir is one direction of a followed stream: the raw sequence number of
// its first byte (ISN+1 when tshark saw the SYN, else the first data
// segment's), its length, and the first 16 hex digits of its SHA-256.
type tsharkDir struct {
	seq uint32
	n   int
	sum string
}

var tunnelCaptures = []tunnelCapture{
	{
		path: "zeek/testing/btest/Traces/mixed-vlan-mpls.pcap", encap: "Ethernet, 802.1Q or MPLS, IPv4",
		tsharkTCP: 47,
		streams: []tsharkStream{
			{n: 0, a: "10.1.2.1:11001", b: "10.34.0.1:23", dirs: [2]tsharkDir{{2553417724, 26, "f44c63ce4f172a0e"}, {0, 0, ""}}},
			{n: 1, a: "141.42.64.125:56730", b: "125.190.109.199:80", dirs: [2]tsharkDir{{1512382794, 98, "99284a559eb57676"}, {2697137988, 9417, "e8ad2a2231a41738"}}},
			{n: 2, a: "10.20.80.1:50343", b: "10.0.0.15:80", dirs: [2]tsharkDir{{4084526271, 9, "eb5fba2784cdb796"}, {403412446, 3429, "6dba786ee9cafbec"}}},
		},
	},
	{
		path: "pcapplusplus/Tests/Pcap++Test/PcapExamples/one_http_stream_rst.pcap", encap: "Ethernet, QinQ, PPPoE session, PPP, IPv4",
		tsharkTCP: 10,
		streams: []tsharkStream{
			{n: 0, a: "10.3.65.35:5068", b: "185.8.212.46:80", dirs: [2]tsharkDir{{2631065159, 1036, "94aa356f596321de"}, {3448697929, 600, "6ef450cf81c37562"}}},
		},
	},
	{
		path: "zeek/testing/btest/Traces/snap-tcp.pcap", encap: "802.3, 802.2 LLC/SNAP, IPv4",
		tsharkTCP: 8,
		streams: []tsharkStream{
			{n: 0, a: "192.168.1.1:12345", b: "192.168.1.2:80", dirs: [2]tsharkDir{{101, 37, "be23e41f8b21ff02"}, {201, 77, "0c2400dba03625fa"}}},
		},
	},
	{
		path: "suricata-verify/tests/bug-5437-01/input.pcap", encap: "Ethernet, IPv4, GRE, ERSPAN, Ethernet, IPv4",
		tsharkTCP: 2,
		streams: []tsharkStream{
			{n: 0, a: "183.171.100.129:59938", b: "1.19.8.213:80", dirs: [2]tsharkDir{{2853849603, 240, "edfb4c3f3bc80219"}, {0, 0, ""}}},
			{n: 1, a: "183.171.100.129:59938", b: "213.39.205.178:80", dirs: [2]tsharkDir{{2853849603, 240, "edfb4c3f3bc80219"}, {0, 0, ""}}},
		},
	},
	{
		path: "pcapplusplus/Tests/Packet++Test/PacketExamples/IPv4-encapsulated-IPv6.pcap", encap: "Ethernet, IPv4, IPv6 (6in4)",
		tsharkTCP: 1,
		streams: []tsharkStream{
			{n: 0, a: "[2001:638:902:1:201:2ff:fee2:7596]:21", b: "[2002:5183:4383::5183:4383]:1026", dirs: [2]tsharkDir{{3845630308, 30, "bff7946487ca494a"}, {0, 0, ""}}},
		},
	},
	{
		path: "zeek/testing/btest/Traces/nflog-http.pcap", encap: "NFLOG link type, IPv4",
		tsharkTCP: 13,
		streams: []tsharkStream{
			{n: 0, a: "10.0.2.15:49762", b: "93.184.216.34:80", dirs: [2]tsharkDir{{1060289234, 79, "0a2e9554548f63cb"}, {1131904002, 1603, "5579bc95a19cba3f"}}},
		},
	},
	{
		path: "wireshark-wiki/SampleCaptures/nflog-ebtables.pcapng", encap: "NFLOG link type, IPv4 and IPv6",
		tsharkTCP: 6,
		streams: []tsharkStream{
			{n: 0, a: "[fe80::e064:10ff:feda:d480]:33610", b: "[fe80::2]:80", dirs: [2]tsharkDir{{0, 0, ""}, {0, 0, ""}}},
			{n: 1, a: "[fe80::e064:10ff:feda:d480]:33612", b: "[fe80::2]:80", dirs: [2]tsharkDir{{0, 0, ""}, {0, 0, ""}}},
			{n: 2, a: "10.0.2.15:45164", b: "10.0.2.2:80", dirs: [2]tsharkDir{{0, 0, ""}, {0, 0, ""}}},
			{n: 3, a: "[fec0::5054:ff:fe12:3456]:33420", b: "[fec0::2]:80", dirs: [2]tsharkDir{{0, 0, ""}, {0, 0, ""}}},
		},
	},
	{
		path: "suricata-verify/tests/defrag/bug-6887-defrag-ppp-ipv4-tcp-syn/frag-ppp-ip-tcp-syn.pcap", encap: "PPP link type, IPv4 fragments",
		tsharkTCP: 1,
		streams: []tsharkStream{
			{n: 0, a: "1.1.1.1:12345", b: "2.2.2.2:8080", dirs: [2]tsharkDir{{0, 0, ""}, {0, 0, ""}}},
		},
	},
	{
		path: "suricata-verify/tests/defrag/bug-6887-defrag-ppp-ipv6-tcp/frag-ppp-ipv6-tcp.pcap", encap: "PPP link type, IPv6 fragments",
		tsharkTCP: 1,
		streams: []tsharkStream{
			{n: 0, a: "[::1]:12345", b: "[::1]:8080", dirs: [2]tsharkDir{{1, 1000, "c2e686823489ced2"}, {0, 0, ""}}},
		},
	},
	{
		path: "suricata-verify/tests/defrag/bug-6887-defrag-ipv4-tcp-syn/frag-ip-tcp-syn.pcap", encap: "raw IPv4 link type, IPv4 fragments",
		tsharkTCP: 1,
		streams: []tsharkStream{
			{n: 0, a: "1.1.1.1:12345", b: "2.2.2.2:8080", dirs: [2]tsharkDir{{0, 0, ""}, {0, 0, ""}}},
		},
	},
	{
		path: "suricata-verify/tests/defrag/bug-6887-defrag-ipv6-tcp/frag-ip-tcp.pcap", encap: "raw IPv6 link type, IPv6 fragments",
		tsharkTCP: 1,
		streams: []tsharkStream{
			{n: 0, a: "[::1]:12345", b: "[::1]:8080", dirs: [2]tsharkDir{{1, 1000, "c2e686823489ced2"}, {0, 0, ""}}},
		},
	},
	{
		path: "suricata-verify/tests/defrag/bug-6887-defrag-eth-vlan-ipv4-tcp-syn/frag-eth-vlan-ip-tcp-syn.pcap", encap: "Ethernet, 802.1Q, IPv4 fragments",
		tsharkTCP: 1,
		streams: []tsharkStream{
			{n: 0, a: "1.1.1.1:12345", b: "2.2.2.2:8080", dirs: [2]tsharkDir{{0, 0, ""}, {0, 0, ""}}},
		},
	},
	{
		path: "suricata-verify/tests/defrag/bug-6887-defrag-eth-vlan-ipv6-tcp/frag-eth-vlan-ipv6-tcp.pcap", encap: "Ethernet, 802.1Q, IPv6 fragments",
		tsharkTCP: 1,
		streams: []tsharkStream{
			{n: 0, a: "[::1]:12345", b: "[::1]:8080", dirs: [2]tsharkDir{{1, 1000, "c2e686823489ced2"}, {0, 0, ""}}},
		},
	},
	{
		path: "zeek/testing/btest/Traces/ipv4/fragmented-3.pcap", encap: "Ethernet, IPv4 fragments (MF and DF on every one: never complete)",
		tsharkTCP: 0,
	},
	{
		path: "zeek/testing/btest/Traces/ipv4/fragmented-4.pcap", encap: "Ethernet, IPv4 fragments",
		tsharkTCP: 3,
		streams: []tsharkStream{
			{n: 0, a: "10.0.0.1:80", b: "127.0.0.1:7790", dirs: [2]tsharkDir{{0, 0, ""}, {0, 0, ""}}},
			{n: 1, a: "128.32.46.142:7790", b: "10.0.0.1:80", dirs: [2]tsharkDir{{14715173, 69, "197647f9057f0873"}, {0, 0, ""}}, known: "overlapping IPv4 fragments (frame 5 rewrites bytes 48..71 of frame 3 with other bytes): Wireshark builds the datagram in offset order so frame 5's copy wins (\"RKNWUrdooM+...\", a bad TCP checksum); ipfrag keeps the first copy, whose TCP checksum is good (\"../winnt/system32/cmd.exe?/c+dir+c:\\\", TestCorpusFragOverlap): same 69 bytes at the same offsets, no gap, 24 of them differ"},
		},
	},
	{
		path: "tcpflow/samplePcaps/jpegs.cap", encap: "Ethernet, IPv4, last fragments whose first fragments were not captured",
		tsharkTCP:  464,
		incomplete: []int{1, 2, 3, 4, 5, 9, 10, 11, 12},
		streams: []tsharkStream{
			{n: 0, a: "10.1.1.101:3177", b: "10.1.1.1:80", dirs: [2]tsharkDir{{882639999, 476, "c3481d2d4ac9f1ea"}, {926647802, 435, "a067b1d59d972109"}}},
			{n: 6, a: "10.1.1.101:3188", b: "10.1.1.1:80", dirs: [2]tsharkDir{{883230940, 574, "84e0188f35ef4a31"}, {933357063, 4601, "2bd65872e488d5da"}}},
			{n: 7, a: "10.1.1.101:3189", b: "10.1.1.1:80", dirs: [2]tsharkDir{{883314091, 597, "44a514481680fb9b"}, {930776637, 8566, "d0706f38e0184a8f"}}},
			{n: 8, a: "10.1.1.101:3190", b: "10.1.1.1:80", dirs: [2]tsharkDir{{883362098, 600, "18a3ed8cb145348f"}, {938079052, 9330, "a632f4d12fab4f2e"}}},
			{n: 13, a: "10.1.1.101:3195", b: "10.1.1.1:80", dirs: [2]tsharkDir{{884044568, 601, "e34a064a904cb2d6"}, {934582332, 692, "535fb4613b327ec4"}}},
			{n: 14, a: "10.1.1.101:3196", b: "10.1.1.1:80", dirs: [2]tsharkDir{{884514133, 614, "6a8c8683c5216b80"}, {937324854, 1540, "64cf0c438de50890"}}},
			{n: 15, a: "10.1.1.101:3197", b: "10.1.1.1:80", dirs: [2]tsharkDir{{884989547, 622, "e7a874c112d8cebd"}, {946485477, 2509, "6f0608379fee48c8"}}},
			{n: 16, a: "10.1.1.101:3198", b: "10.1.1.1:80", dirs: [2]tsharkDir{{885048437, 632, "48188e9bb59473c8"}, {936175843, 9248, "ae44ab63006a4815"}}},
			{n: 17, a: "10.1.1.101:3199", b: "10.1.1.1:80", dirs: [2]tsharkDir{{885088856, 632, "2a260ff213021689"}, {947173140, 10990, "c0a2e12720326e44"}}},
			{n: 18, a: "10.1.1.101:3200", b: "10.1.1.1:80", dirs: [2]tsharkDir{{886163811, 637, "9efa384ffbd1e28c"}, {937638703, 191777, "561ff0227b7efec7"}}},
		},
	},
	{
		path: "zeek/testing/btest/Traces/ipv6-http-atomic-frag.pcap", encap: "Ethernet, IPv6 atomic fragment header",
		tsharkTCP:  36,
		incomplete: []int{0},
		streams: []tsharkStream{
			{n: 1, a: "[2001:db8:1::2]:59694", b: "[2001:db8:1::1]:80", dirs: [2]tsharkDir{{1770092806, 15, "2a9a1f5b4f0c19f7"}, {4266013196, 88, "0b1a593f5af649e0"}}},
			{n: 2, a: "[2001:db8:1::2]:27393", b: "[2001:db8:1::1]:80", dirs: [2]tsharkDir{{1365224418, 15, "2a9a1f5b4f0c19f7"}, {4183844947, 88, "0b1a593f5af649e0"}}},
			{n: 3, a: "[2001:db8:1::2]:45805", b: "[2001:db8:1::1]:80", dirs: [2]tsharkDir{{466053856, 15, "2a9a1f5b4f0c19f7"}, {4079572283, 88, "0b1a593f5af649e0"}}},
		},
	},
	{
		path: "suricata-verify/tests/firewall/tcp-session-ipv6-decode-malformed/input.pcap", encap: "Ethernet, IPv6 atomic fragment header",
		tsharkTCP: 8,
		streams: []tsharkStream{
			{n: 0, a: "[2001:db8::10]:43210", b: "[2001:db8:1::5]:80", dirs: [2]tsharkDir{{1001, 18, "6ec63b40bcbc26b7"}, {0, 0, ""}}},
		},
	},
	{
		path: "suricata-verify/tests/ipv6-evasion/ipv6-malformed-fragments-26/frag-26.pcap", encap: "Ethernet, IPv6 atomic fragment header, truncated TCP header",
		tsharkTCP: 0,
	},
}

// tunnelFlow is what the handler recorded of one connection.
type tunnelFlow struct {
	c    *tcpasm.Conn
	dirs [2]*tunnelDir
}

// tunnelDir is one stream direction: the bytes delivered at their offsets
// (Data, and Late inside gaps), which of them were filled, and the gaps.
type tunnelDir struct {
	s     *tcpasm.Stream
	buf   []byte
	have  []bool
	gaps  [][2]int64
	data  int // Data calls
	close tcpasm.Reason
}

func (d *tunnelDir) put(off int64, b []byte) {
	if end := off + int64(len(b)); end > int64(len(d.buf)) {
		d.buf = append(d.buf, make([]byte, end-int64(len(d.buf)))...)
		d.have = append(d.have, make([]bool, end-int64(len(d.have)))...)
	}
	copy(d.buf[off:], b)
	for i := range b {
		d.have[off+int64(i)] = true
	}
}

// tunnelRecorder is a tcpasm.Handler keeping every connection's bytes.
type tunnelRecorder struct {
	flows []*tunnelFlow
	byC   map[*tcpasm.Conn]*tunnelFlow
}

func (r *tunnelRecorder) dir(s *tcpasm.Stream) *tunnelDir {
	f := r.byC[s.Conn]
	if f.dirs[s.Dir] == nil {
		f.dirs[s.Dir] = &tunnelDir{s: s}
	}
	return f.dirs[s.Dir]
}

func (r *tunnelRecorder) Open(c *tcpasm.Conn) {
	f := &tunnelFlow{c: c}
	r.flows = append(r.flows, f)
	r.byC[c] = f
}

func (r *tunnelRecorder) Data(s *tcpasm.Stream, off int64, b []byte, _ int64) {
	d := r.dir(s)
	d.data++
	d.put(off, b)
}

func (r *tunnelRecorder) Gap(s *tcpasm.Stream, off, n int64, _ tcpasm.Reason, _ int64) {
	d := r.dir(s)
	d.gaps = append(d.gaps, [2]int64{off, n})
	d.put(off, make([]byte, n))
	for i := off; i < off+n; i++ {
		d.have[i] = false
	}
}

func (r *tunnelRecorder) Late(s *tcpasm.Stream, off int64, b []byte, _ int64) {
	r.dir(s).put(off, b)
}

func (r *tunnelRecorder) Conflict(*tcpasm.Stream, tcpasm.Conflict, int64) {}

func (r *tunnelRecorder) Close(s *tcpasm.Stream, reason tcpasm.Reason, _ int64) {
	r.dir(s).close = reason
}

// assembleCorpus runs the pipeline over one capture into a tcpasm.Assembler
// and returns what it delivered.
func assembleCorpus(t *testing.T, path string) (*tunnelRecorder, pipeline.Stats) {
	t.Helper()
	r, err := reseq.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec := &tunnelRecorder{byC: map[*tcpasm.Conn]*tunnelFlow{}}
	asm := tcpasm.New(tcpasm.DefaultConfig(), rec)
	st, err := pipeline.Run(r, asm, pipeline.Options{})
	asm.Close()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rec, st
}

func shortSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

func TestCorpusTunnels(t *testing.T) {
	corpus := testshared.Dir(t, "corpus")
	// Checking the table against tshark takes a minute (two tshark runs per
	// capture): it runs when asked (RESEQ_TSHARK=1, or RESEQ_TUNNEL_TABLE).
	_, tsharkErr := exec.LookPath("tshark")
	if os.Getenv("RESEQ_TSHARK") == "" && os.Getenv("RESEQ_TUNNEL_TABLE") == "" {
		tsharkErr = errors.New("not asked for: set RESEQ_TSHARK=1")
	}
	gen := make([]tunnelCapture, len(tunnelCaptures))
	t.Run("captures", func(t *testing.T) {
		for i, c := range tunnelCaptures {
			t.Run(filepath.Base(filepath.Dir(c.path))+"/"+filepath.Base(c.path), func(t *testing.T) {
				t.Parallel()
				path := filepath.Join(corpus, c.path)
				if _, err := os.Stat(path); err != nil {
					t.Skipf("%s absent", path)
				}
				if tsharkErr == nil {
					got := tsharkFigures(t, path)
					got.path, got.encap, got.knownTCP = c.path, c.encap, c.knownTCP
					for i := range got.streams {
						for _, w := range c.streams {
							if w.n == got.streams[i].n {
								got.streams[i].known = w.known
							}
						}
					}
					gen[i] = got
					checkTable(t, c, got)
				}
				rec, st := assembleCorpus(t, path)
				t.Logf("%s: %+v", c.encap, st)
				if st.TCP < int64(c.tsharkTCP) {
					if c.knownTCP != "" {
						t.Logf("known: reseq assembles %d TCP segments, tshark shows %d TCP packets: %s", st.TCP, c.tsharkTCP, c.knownTCP)
					} else {
						t.Errorf("reseq assembles %d TCP segments, tshark shows %d TCP packets", st.TCP, c.tsharkTCP)
					}
				}
				compareStreams(t, c, rec)
			})
		}
	})
	if out := os.Getenv("RESEQ_TUNNEL_TABLE"); out != "" && tsharkErr == nil {
		var b strings.Builder
		for _, c := range gen {
			b.WriteString(goCapture(c))
		}
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// compareStreams matches tshark's followed streams to reseq's connections
// (same two endpoints, in order of first sight) and compares the bytes.
func compareStreams(t *testing.T, c tunnelCapture, rec *tunnelRecorder) {
	t.Helper()
	used := map[*tunnelFlow]bool{}
	flows := append([]*tunnelFlow(nil), rec.flows...)
	sort.SliceStable(flows, func(i, j int) bool { return flows[i].c.Seq < flows[j].c.Seq })
	for _, ts := range c.streams {
		var f *tunnelFlow
		for _, g := range flows {
			src, dst := g.c.Key.SrcAddr().String(), g.c.Key.DstAddr().String()
			if !used[g] && (src == ts.a && dst == ts.b || src == ts.b && dst == ts.a) {
				f = g
				break
			}
		}
		problem := func(format string, args ...any) {
			t.Helper()
			msg := fmt.Sprintf("stream %d (%s - %s): ", ts.n, ts.a, ts.b) + fmt.Sprintf(format, args...)
			if ts.known != "" {
				t.Logf("known: %s: %s", msg, ts.known)
			} else {
				t.Error(msg)
			}
		}
		if f == nil {
			problem("no reseq connection between these endpoints")
			continue
		}
		used[f] = true
		for i, want := range ts.dirs {
			// i 0: a->b; the reseq direction whose source is a.
			from := ts.a
			if i == 1 {
				from = ts.b
			}
			d := tcpasm.ClientToServer
			if f.c.Key.SrcAddr().String() != from {
				d = tcpasm.ServerToClient
			}
			got := f.dirs[d]
			if want.n == 0 {
				if got != nil && len(got.buf) > 0 {
					problem("%s: reseq delivered %d bytes, tshark none", from, len(got.buf))
				}
				continue
			}
			if got == nil || !got.s.HaveBase {
				problem("%s: reseq delivered nothing, tshark %d bytes", from, want.n)
				continue
			}
			off := int64(int32(want.seq - got.s.BaseSeq))
			switch {
			case off != 0:
				problem("%s: tshark's first byte (seq %d) is at reseq offset %d", from, want.seq, off)
			case len(got.gaps) > 0:
				problem("%s: reseq declared gaps %v", from, got.gaps)
			case len(got.buf) != want.n:
				problem("%s: reseq delivered %d bytes, tshark %d", from, len(got.buf), want.n)
			case shortSum(got.buf) != want.sum:
				problem("%s: %d bytes differ from tshark's", from, want.n)
			}
		}
	}
}

// checkTable compares the table's tshark figures with tshark's.
func checkTable(t *testing.T, want, got tunnelCapture) {
	t.Helper()
	if want.tsharkTCP != got.tsharkTCP {
		t.Errorf("tshark shows %d TCP packets, the table %d", got.tsharkTCP, want.tsharkTCP)
	}
	if fmt.Sprint(want.incomplete) != fmt.Sprint(got.incomplete) {
		t.Errorf("tshark's incomplete streams %v, the table %v", got.incomplete, want.incomplete)
	}
	if len(want.streams) != len(got.streams) {
		t.Errorf("tshark follows %d streams completely, the table %d", len(got.streams), len(want.streams))
		return
	}
	for i := range want.streams {
		w, g := want.streams[i], got.streams[i]
		w.known, g.known = "", ""
		if w != g {
			t.Errorf("tshark stream %+v, the table %+v", g, w)
		}
	}
}

func goCapture(c tunnelCapture) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\t{\n\t\tpath: %q, encap: %q,\n\t\ttsharkTCP: %d,\n", c.path, c.encap, c.tsharkTCP)
	if len(c.incomplete) > 0 {
		fmt.Fprintf(&b, "\t\tincomplete: %#v,\n", c.incomplete)
	}
	if c.knownTCP != "" {
		fmt.Fprintf(&b, "\t\tknownTCP: %q,\n", c.knownTCP)
	}
	if len(c.streams) > 0 {
		b.WriteString("\t\tstreams: []tsharkStream{\n")
		for _, s := range c.streams {
			fmt.Fprintf(&b, "\t\t\t{n: %d, a: %q, b: %q, dirs: [2]tsharkDir{{%d, %d, %q}, {%d, %d, %q}}", s.n, s.a, s.b,
				s.dirs[0].seq, s.dirs[0].n, s.dirs[0].sum, s.dirs[1].seq, s.dirs[1].n, s.dirs[1].sum)
			if s.known != "" {
				fmt.Fprintf(&b, ", known: %q", s.known)
			}
			b.WriteString("},\n")
		}
		b.WriteString("\t\t},\n")
	}
	b.WriteString("\t},\n")
	return b.String()
}

func runTshark(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("tshark", append([]string{"-n"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

func lines(s string) []string {
	var l []string
	for _, x := range strings.Split(s, "\n") {
		if x != "" {
			l = append(l, x)
		}
	}
	return l
}

// tsharkFigures computes a table entry with tshark: one run for the
// packets, one for the follow output of every stream.
func tsharkFigures(t *testing.T, path string) tunnelCapture {
	t.Helper()
	var c tunnelCapture
	type pkt struct {
		sport string
		seq   uint32
		n     int
		syn   bool
	}
	pkts := map[int][]pkt{}
	lost := map[int]bool{}
	var order []int
	// Fields of every occurrence (-E occurrence=a), comma-separated: the
	// last is the innermost header's.
	last := func(s string) string { return s[strings.LastIndexByte(s, ',')+1:] }
	for _, l := range lines(runTshark(t, "-r", path, "-T", "fields", "-E", "occurrence=a",
		"-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.seq_raw", "-e", "tcp.len", "-e", "tcp.flags.syn",
		"-e", "icmp.type", "-e", "icmpv6.type", "-e", "_ws.expert.message")) {
		f := strings.Split(l, "\t")
		if len(f) != 8 || f[0] == "" || f[5] != "" || f[6] != "" {
			continue // not TCP, or an ICMP error quoting a TCP header
		}
		c.tsharkTCP++ // what -Y 'tcp && !icmp && !icmpv6' shows
		n, _ := strconv.Atoi(last(f[0]))
		if strings.Contains(f[7], "Previous segment(s) not captured") || strings.Contains(f[7], "ACKed segment that wasn't captured") {
			lost[n] = true // tcp.analysis.lost_segment, tcp.analysis.ack_lost_segment
		}
		if f[2] == "" {
			continue // a malformed TCP header
		}
		seq, _ := strconv.ParseUint(last(f[2]), 10, 32)
		ln, _ := strconv.Atoi(last(f[3]))
		if _, ok := pkts[n]; !ok {
			order = append(order, n)
		}
		syn := last(f[4])
		pkts[n] = append(pkts[n], pkt{last(f[1]), uint32(seq), ln, syn == "1" || syn == "True"})
	}
	if len(order) == 0 {
		return c
	}
	args := []string{"-r", path, "-q"}
	for _, n := range order {
		args = append(args, "-z", fmt.Sprintf("follow,tcp,raw,%d", n))
	}
	follow := parseFollow(t, runTshark(t, args...))
	for _, n := range order {
		fs, ok := follow[n]
		if !ok {
			t.Fatalf("tshark follow printed no stream %d", n)
		}
		complete := !lost[n] && fs.aPort() != fs.bPort()
		for i := range 2 {
			port := fs.aPort()
			if i == 1 {
				port = fs.bPort()
			}
			var first uint32
			var haveFirst bool
			for _, p := range pkts[n] {
				if p.sport == port && !haveFirst && (p.syn || p.n > 0) {
					haveFirst, first = true, p.seq
					if p.syn {
						first++
					}
				}
			}
			span := 0
			for _, p := range pkts[n] {
				if p.sport == port && p.n > 0 {
					if e := int(int32(p.seq + uint32(p.n) - first)); e > span {
						span = e
					}
				}
			}
			if span != len(fs.data[i]) {
				complete = false
			}
			fs.dirs[i] = tsharkDir{n: len(fs.data[i])}
			if len(fs.data[i]) > 0 {
				fs.dirs[i].seq, fs.dirs[i].sum = first, shortSum(fs.data[i])
			}
		}
		if !complete {
			c.incomplete = append(c.incomplete, n)
			continue
		}
		c.streams = append(c.streams, fs.tsharkStream)
	}
	return c
}

type followed struct {
	tsharkStream
	data [2][]byte
}

func (f *followed) aPort() string { return f.a[strings.LastIndexByte(f.a, ':')+1:] }
func (f *followed) bPort() string { return f.b[strings.LastIndexByte(f.b, ':')+1:] }

// parseFollow reads tshark's `-z follow,tcp,raw,N` blocks: lines of hex,
// Node 1's indented by a tab.
func parseFollow(t *testing.T, out string) map[int]*followed {
	t.Helper()
	m := map[int]*followed{}
	var cur *followed
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "Filter: tcp.stream eq "):
			n, err := strconv.Atoi(strings.TrimPrefix(l, "Filter: tcp.stream eq "))
			if err != nil {
				t.Fatalf("follow: %q", l)
			}
			cur = &followed{}
			cur.n = n
			m[n] = cur
		case cur == nil || l == "" || strings.HasPrefix(l, "==="):
		case strings.HasPrefix(l, "Node 0: "):
			cur.a = strings.TrimPrefix(l, "Node 0: ")
		case strings.HasPrefix(l, "Node 1: "):
			cur.b = strings.TrimPrefix(l, "Node 1: ")
		case strings.HasPrefix(l, "Follow: "):
		default:
			i := 0
			if strings.HasPrefix(l, "\t") {
				i, l = 1, l[1:]
			}
			b, err := hex.DecodeString(l)
			if err != nil {
				t.Fatalf("follow: %q: %v", l, err)
			}
			cur.data[i] = append(cur.data[i], b...)
		}
	}
	return m
}

// suricataDefrag is a suricata-verify test about IP fragments, and what its
// test.yaml expects, restated at the stream level.
type suricataDefrag struct {
	path string // under ../shared/corpus/suricata-verify/tests
	// syn: the reassembled datagram is a SYN from 1.1.1.1:12345 to
	// 2.2.2.2:8080 without data. data: the reassembled datagram carries this
	// many bytes of 'A' from [::1]:12345, delivered whole. none: no TCP
	// segment at all.
	syn, none bool
	data      int
	known     string
}

var suricataDefrags = []suricataDefrag{
	// test.yaml: one alert of `tcp.flags:S` (sid 1) whose packet is the
	// reassembled datagram: Ethernet, 802.1Q, IPv4 (total length 44), TCP SYN
	// 12345 -> 8080 seq 1 with a window scale option, no data.
	{path: "defrag/bug-6887-defrag-eth-vlan-ipv4-tcp-syn/frag-eth-vlan-ip-tcp-syn.pcap", syn: true},
	// test.yaml: one alert of `dsize:1000` (sid 1) whose packet is Ethernet,
	// 802.1Q, IPv6 (payload length 1020), TCP ACK 12345 -> 8080 seq 1 and
	// 1000 bytes of 'A' (0x41).
	{path: "defrag/bug-6887-defrag-eth-vlan-ipv6-tcp/frag-eth-vlan-ipv6-tcp.pcap", data: 1000},
	// test.yaml: one `tcp.flags:S` alert, packet_info.linktype 228 (raw
	// IPv4): the 44-byte IPv4 datagram carrying the SYN.
	{path: "defrag/bug-6887-defrag-ipv4-tcp-syn/frag-ip-tcp-syn.pcap", syn: true},
	// test.yaml: one `dsize:1000` alert, linktype 229 (raw IPv6): IPv6 header,
	// 20-byte TCP header, 1000 bytes of 'A'.
	{path: "defrag/bug-6887-defrag-ipv6-tcp/frag-ip-tcp.pcap", data: 1000},
	// test.yaml: one `tcp.flags:S` alert, linktype 9 (PPP): protocol field
	// 0x21 (compressed, IPv4), then the 44-byte datagram carrying the SYN.
	{path: "defrag/bug-6887-defrag-ppp-ipv4-tcp-syn/frag-ppp-ip-tcp-syn.pcap", syn: true},
	// test.yaml: one `dsize:1000` alert, linktype 9 (PPP): protocol field
	// 0x57 (compressed, IPv6), IPv6, TCP, 1000 bytes of 'A'.
	{path: "defrag/bug-6887-defrag-ppp-ipv6-tcp/frag-ppp-ipv6-tcp.pcap", data: 1000},
	// test.yaml: one alert of sid 2200080 (ipv6.exthdr_useless_fh: an atomic
	// Fragment header) and one of sid 2200014 (ipv6.trunc_exthdr): frame 6
	// has a Fragment header then one byte of TCP header, the capture's only
	// TCP. No segment can come of it.
	{path: "ipv6-evasion/ipv6-malformed-fragments-26/frag-26.pcap", none: true},
}

// TestCorpusFragOverlap: Zeek's fragmented-4.pcap (its fragment_inconsistency
// trace), IPv4 ID 0 throughout: frame 2 [0,24) with the TCP header, frame 3
// [48,72), frame 4 [72,89) last, frame 5 [24,72) filling the hole and
// rewriting [48,72) with other bytes. With the first copy of each byte the
// datagram is whole and its TCP checksum good, so ipfrag takes frame 5 for an
// overlap, not an identification reuse: tshark's stream length (69 bytes
// from seq 14715173), no gap, and the first copy's bytes (assembled by hand
// from the frames; Wireshark's last-copy bytes fail the TCP checksum).
func TestCorpusFragOverlap(t *testing.T) {
	path := filepath.Join(testshared.Dir(t, "corpus"), "zeek/testing/btest/Traces/ipv4/fragmented-4.pcap")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s absent", path)
	}
	rec, st := assembleCorpus(t, path)
	if st.Reassembled != 1 || st.PartialDatagrams != 0 || st.FragChecksumBad != 0 ||
		st.Frag.Overlaps != 1 || st.Frag.OverlapConflicts != 1 || st.Frag.Reused != 0 || st.Frag.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
	const want = "GET /msadc/..%2f../..%2f../..%2f../winnt/system32/cmd.exe?/c+dir+c:\\\n"
	var d *tunnelDir
	for _, f := range rec.flows {
		if f.c.Key.SrcAddr().String() == "128.32.46.142:7790" {
			d = f.dirs[tcpasm.ClientToServer]
		}
	}
	switch {
	case d == nil || !d.s.HaveBase:
		t.Fatal("no stream from 128.32.46.142:7790")
	case d.s.BaseSeq != 14715173:
		t.Errorf("first byte at seq %d, tshark's at 14715173", d.s.BaseSeq)
	case len(d.gaps) > 0:
		t.Errorf("gaps %v", d.gaps)
	case string(d.buf) != want:
		t.Errorf("bytes %q, want %q", d.buf, want)
	}
}

func TestCorpusSuricataDefrag(t *testing.T) {
	dir := filepath.Join(testshared.Dir(t, "corpus"), "suricata-verify", "tests")
	for _, c := range suricataDefrags {
		t.Run(filepath.Base(filepath.Dir(c.path)), func(t *testing.T) {
			path := filepath.Join(dir, c.path)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%s absent", path)
			}
			rec, st := assembleCorpus(t, path)
			check := func(ok bool, format string, args ...any) {
				t.Helper()
				if ok {
					return
				}
				if c.known != "" {
					t.Logf("known: "+format+": %s", append(args, c.known)...)
				} else {
					t.Errorf(format, args...)
				}
			}
			if c.none {
				check(st.TCP == 0 && len(rec.flows) == 0, "a TCP segment came out: %+v", st)
				return
			}
			check(st.TCP == 1 && st.Reassembled == 1 && st.PartialDatagrams == 0,
				"want one segment from one reassembled datagram: %+v", st)
			if len(rec.flows) != 1 {
				check(false, "%d connections, want 1", len(rec.flows))
				return
			}
			f := rec.flows[0]
			src := f.c.Key.SrcAddr().String()
			if c.syn {
				check(src == "1.1.1.1:12345" && f.c.Key.DstAddr().String() == "2.2.2.2:8080", "connection %s -> %s", src, f.c.Key.DstAddr())
				d := f.dirs[tcpasm.ClientToServer]
				check(d != nil && d.s.SYN, "the reassembled SYN was not seen")
				check(d == nil || len(d.buf) == 0, "data delivered from a bare SYN")
				return
			}
			d := f.dirs[tcpasm.ClientToServer]
			if f.c.Key.SrcAddr().String() != "[::1]:12345" {
				d = f.dirs[tcpasm.ServerToClient]
			}
			if d == nil {
				check(false, "nothing delivered from [::1]:12345")
				return
			}
			check(len(d.gaps) == 0, "gaps %v", d.gaps)
			check(d.data == 1, "the segment came in %d Data calls, want it whole", d.data)
			check(bytes.Equal(d.buf, bytes.Repeat([]byte{'A'}, c.data)), "delivered %d bytes %.16q..., want %d of 'A'", len(d.buf), d.buf, c.data)
		})
	}
}
