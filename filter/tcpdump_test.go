package filter_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/filter"
	"github.com/reseq/reseq/internal/testshared"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// recorder is an assembler that notes the segments it is given by time and
// endpoints, as tcpdump prints them ("1700000000.000000001 10.0.0.1.80 >
// 10.0.0.2.5000"; tcpdump's -# numbers the packets it prints, not frames):
// a multiset, so that copies of a packet count twice.
type recorder map[string]int

func (r recorder) Assemble(seg *tcpasm.Segment) {
	k := &seg.Key
	r[fmt.Sprintf("%d.%09d %s.%d > %s.%d", seg.Timestamp/1e9, seg.Timestamp%1e9,
		k.SrcAddr().Addr(), k.SrcPort, k.DstAddr().Addr(), k.DstPort)]++
}

func (r recorder) total() int {
	n := 0
	for _, c := range r {
		n += c
	}
	return n
}

// keptFrames runs the library's pipeline over capture with the filter as
// its Select function (nil: none) and returns the TCP segments that reach
// the assembler.
func keptFrames(t *testing.T, capture string, f *filter.Filter) recorder {
	t.Helper()
	r, err := reseq.Open(capture)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec := recorder{}
	opt := pipeline.Options{Serial: true, CapturePoints: pipeline.CaptureOuterVLAN}
	if f != nil {
		opt.Select = func(seg *tcpasm.Segment, p *layers.Packet) bool { return f.Match(&seg.Key, p) }
	}
	if _, err := pipeline.Run(r, rec, opt); err != nil {
		t.Fatal(err)
	}
	return rec
}

// tcpdumpFrames returns the packets tcpdump prints for expr.
func tcpdumpFrames(t *testing.T, capture, expr string) recorder {
	t.Helper()
	var errb bytes.Buffer
	cmd := exec.Command("tcpdump", "-r", capture, "-nn", "-q", "-tt", "--time-stamp-precision=nano", expr)
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(errb.String(), "rejects all packets") {
			return recorder{}
		}
		t.Fatalf("tcpdump %q: %v: %s", expr, err, errb.String())
	}
	got := recorder{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		// 1700000000.000000001 IP 10.0.0.1.80 > 10.0.0.2.5000: tcp 0
		// 1700000000.000000001 ?     Out IP 10.0.0.1.80 > ... (SLL2)
		f := strings.Fields(sc.Text())
		for i := 2; i+1 < len(f); i++ {
			if f[i] == ">" {
				got[f[0]+" "+f[i-1]+" > "+strings.TrimSuffix(f[i+1], ":")]++
				break
			}
		}
	}
	return got
}

// TestTcpdumpDifferential: for expressions of the primitives both support,
// the TCP packets reseq's pipeline keeps are exactly those tcpdump prints
// for "tcp and (EXPR)", frame by frame, on real captures and corpus
// captures (IPv4, IPv6, SLL2, VLAN). The expressions are built from the
// addresses and ports of each capture's first TCP packet. Skips without
// tcpdump or ../shared.
func TestTcpdumpDifferential(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed")
	}
	shared := testshared.Dir(t, "")
	caps := []string{
		"real/clean_v4_gso.pcap",
		"real/clean_v6_nano.pcap",
		"real/lossy_any_sll2.pcap",
		"corpus/wireshark-wiki/SampleCaptures/http_capture.pcap",
		"corpus/wireshark-wiki/SampleCaptures/v6.pcap",
		"corpus/wireshark-wiki/SampleCaptures/tcp-ecn-sample.pcap",
		"corpus/pcapplusplus/Tests/Pcap++Test/PcapExamples/four_ipv6_http_streams.pcap",
		"corpus/wireshark-wiki/SampleCaptures/vlan.cap.gz", // 802.1Q, VLAN 32
	}
	if testing.Short() {
		caps = caps[:2]
	}
	total := 0
	for _, c := range caps {
		path := filepath.Join(shared, c)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Logf("%s absent", c)
			continue
		}
		if strings.HasSuffix(c, ".gz") {
			path = filepath.Join(t.TempDir(), "c.pcap")
			if err := os.WriteFile(path, testshared.Decompress(t, b), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// tcpdump's BPF looks for IP right after the link header: a tagged
		// frame needs "vlan" in front, which also moves past the tag (so
		// the VLAN capture's expressions put "vlan [ID]" first only).
		tdPrefix := "tcp"
		if strings.Contains(c, "vlan") {
			tdPrefix = "vlan and tcp"
		}
		all := keptFrames(t, path, nil)
		base := tcpdumpFrames(t, path, tdPrefix)
		common := recorder{}
		for k, n := range all {
			if m := min(n, base[k]); m > 0 {
				common[k] = m
			}
		}
		if common.total() != all.total() || common.total() != base.total() {
			// Packets one of them does not take for TCP are left out of
			// the comparison, and said.
			t.Logf("%s: reseq %d TCP segments, tcpdump %d, %d in common", c, all.total(), base.total(), common.total())
		}
		if len(common) == 0 {
			t.Errorf("%s: no TCP packet", c)
			continue
		}
		for _, e := range expressions(t, path) {
			f, err := filter.Parse(e)
			if err != nil {
				t.Errorf("%s: %q: %v", c, e, err)
				continue
			}
			ours := keptFrames(t, path, f)
			td := tdPrefix + " and (" + e + ")"
			if v, rest, ok := strings.Cut(e, " and "); ok && strings.HasPrefix(v, "vlan") {
				td = v + " and tcp and (" + rest + ")"
			} else if strings.HasPrefix(e, "vlan") {
				td = e + " and tcp"
			}
			theirs := tcpdumpFrames(t, path, td)
			var only1, only2 []string
			n := 0
			for k, m := range common {
				a, b := min(ours[k], m), min(theirs[k], m)
				switch {
				case a > b:
					only1 = append(only1, k)
				case b > a:
					only2 = append(only2, k)
				}
				n += a
			}
			if len(only1)+len(only2) > 0 {
				t.Errorf("%s: %q: reseq keeps %d packets tcpdump does not (%v), tcpdump %d reseq does not (%v)",
					c, e, len(only1), head(only1), len(only2), head(only2))
				continue
			}
			t.Logf("%s: %q: %d of %d packets, as tcpdump", filepath.Base(c), e, n, common.total())
			total++
		}
	}
	t.Logf("%d expressions agreed", total)
}

func head(x []string) []string { return x[:min(len(x), 3)] }

// expressions builds the expressions for a capture from the addresses and
// ports of its first TCP packet.
func expressions(t *testing.T, capture string) []string {
	r, err := reseq.Open(capture)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var k layers.FlowKey
	var vlan uint16
	hasVLAN := false
	var p layers.Packet
	for {
		pkt, err := r.Next()
		if err != nil {
			t.Fatalf("%s: no TCP packet", capture)
		}
		if !p.Decode(layers.LinkType(pkt.LinkType), pkt.Data, pkt.Length).OK() || p.Transport != layers.TransportTCP {
			continue
		}
		k = p.FlowKey(false)
		if p.NumVLANs > 0 {
			vlan, hasVLAN = p.VLANs[0].ID, true
		}
		break
	}
	a, b := k.SrcAddr().Addr(), k.DstAddr().Addr()
	sp, dp := k.SrcPort, k.DstPort
	fam, bits := "ip", 24
	if a.Is6() {
		fam, bits = "ip6", 64
	}
	net := netip.PrefixFrom(a, bits).Masked()
	x := []string{
		fmt.Sprintf("host %s", a),
		fmt.Sprintf("src host %s", a),
		fmt.Sprintf("dst host %s", a),
		fmt.Sprintf("src %s and dst %s", a, b),
		fmt.Sprintf("src and dst net %s", net),
		fmt.Sprintf("port %d", dp),
		fmt.Sprintf("src port %d", dp),
		fmt.Sprintf("dst port %d || src port %d", dp, sp),
		fmt.Sprintf("tcp dst port %d", dp),
		fmt.Sprintf("udp port %d", dp),
		fmt.Sprintf("portrange %d-%d", min(sp, dp), max(sp, dp)),
		fmt.Sprintf("src portrange %d-%d", dp, dp+1),
		fmt.Sprintf("not port %d", dp),
		fmt.Sprintf("! (host %s and port %d)", b, sp),
		fmt.Sprintf("net %s", net),
		fmt.Sprintf("%s net %s", fam, net),
		fmt.Sprintf("host %s and (port %d or %d)", a, sp, dp+1),
		fmt.Sprintf("port %d or port %d and src host %s", dp, sp, b),
		"ip", "ip6", "not ip6 && tcp",
	}
	if a.Is4() {
		m := netip.PrefixFrom(a, 16).Masked().Addr()
		x = append(x, fmt.Sprintf("net %s mask 255.255.0.0", m), fmt.Sprintf("dst net %s mask 255.255.0.0 and not src net %s/32", m, b))
	}
	if hasVLAN {
		// tcpdump's "vlan" walks down the tag stack and looks past the tag
		// for what follows: compare with "vlan N and ..." only.
		x = append(x, fmt.Sprintf("vlan %d", vlan), fmt.Sprintf("vlan %d", vlan+1), "vlan",
			fmt.Sprintf("vlan %d and port %d", vlan, dp), fmt.Sprintf("vlan and src host %s", a), fmt.Sprintf("vlan %d and not port %d", vlan+1, dp))
	}
	return x
}
