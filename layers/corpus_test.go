package layers_test

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseq/reseq/internal/testshared"

	"github.com/reseq/reseq"
	. "github.com/reseq/reseq/layers"
)

// sharedDir returns ../shared beside the repository root (found by walking up
// to go.work), skipping the test when it is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	return testshared.Dir(t, "")
}

// capturePacket is one frame of a capture file.
type capturePacket struct {
	lt      LinkType
	data    []byte // valid until the next call
	origLen int
}

// openCapture opens a capture with reseq.Open (any format, any compression)
// and returns a function yielding its packets; ok is false for files that are
// not captures.
func openCapture(t testing.TB, path string) (next func() (capturePacket, error), closeFn func(), ok bool) {
	r, err := reseq.Open(path)
	if err != nil {
		return nil, nil, false
	}
	return func() (capturePacket, error) {
		p, err := r.Next()
		return capturePacket{LinkType(p.LinkType), p.Data, p.Length}, err
	}, func() { r.Close() }, true
}

// forEachCapture calls fn with the packets of every capture file under dir.
// It returns the number of files read.
func forEachCapture(t *testing.T, dir string, fn func(name string, i int, cp capturePacket)) int {
	files := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		next, closeFn, ok := openCapture(t, path)
		if !ok {
			return nil
		}
		defer closeFn()
		files++
		name, _ := filepath.Rel(dir, path)
		for i := 0; ; i++ {
			cp, err := next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Logf("%s: stops after %d packets: %v", name, i, err)
				}
				break
			}
			fn(name, i, cp)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCorpus decodes every packet of every pcap in ../shared/corpus and
// ../shared/real and checks the invariants of each decode.
func TestCorpus(t *testing.T) {
	shared := sharedDir(t)
	type tally struct{ packets, tcp, udp, vlan, qinq, ipv6, frag, cut int }
	var total tally
	stops := map[string]int{}
	perLink := map[LinkType][2]int{} // packets, decoded to the transport layer or to a fragment
	var sums [3]int                  // by Checksum
	var p Packet
	for _, sub := range []string{"corpus", "real"} {
		files := forEachCapture(t, filepath.Join(shared, sub), func(name string, i int, cp capturePacket) {
			stop := p.Decode(cp.lt, cp.data, cp.origLen)
			c := perLink[cp.lt]
			c[0]++
			if stop.OK() || stop.Reason == StopFragment { // the network layer reached
				c[1]++
			}
			perLink[cp.lt] = c
			CheckInvariants(t, &p, cp.data)
			if t.Failed() {
				t.Fatalf("%s packet %d (link %v): invariants broken", name, i, cp.lt)
			}
			total.packets++
			stops[stop.String()]++
			switch p.Transport {
			case TransportTCP:
				total.tcp++
			case TransportUDP:
				total.udp++
			}
			if p.NumVLANs > 0 {
				total.vlan++
			}
			if p.NumVLANs > 1 {
				total.qinq++
			}
			if p.Network == NetworkIPv6 {
				total.ipv6++
			}
			if p.Fragment {
				total.frag++
			}
			if p.PayloadLength > len(p.Payload) {
				total.cut++
			}
			sums[p.TransportChecksum()]++
			// The claimed length never exceeds what the frame's original length allows.
			if p.Transport == TransportTCP && cp.origLen >= len(cp.data) && p.PayloadOffset+p.PayloadLength > cp.origLen {
				t.Errorf("%s packet %d: claimed payload ends at %d, beyond the original length %d", name, i, p.PayloadOffset+p.PayloadLength, cp.origLen)
			}
		})
		if files == 0 {
			t.Errorf("no capture found under %s", sub)
		}
	}
	t.Logf("%+v; stops %v", total, stops)
	t.Logf("per link type [packets, decoded]: %v", perLink)
	t.Logf("transport checksums: %d good, %d bad, %d unverified", sums[ChecksumGood], sums[ChecksumBad], sums[ChecksumUnverified])
	// Captures taken on the sending host (all of ../shared/real) carry offloaded,
	// unfilled checksums: bad ones are common. TestChecksumVsTshark checks the verdicts.
	if sums[ChecksumGood] == 0 || sums[ChecksumBad] == 0 {
		t.Errorf("the corpus has good and bad checksums: %v", sums)
	}
	for lt, c := range perLink {
		if lt.Supported() && c[1] == 0 {
			t.Errorf("link type %v: none of %d packets decoded", lt, c[0])
		}
	}
	if total.packets < 10000 || total.tcp < total.packets/3 || total.qinq == 0 || total.ipv6 == 0 || total.frag == 0 || total.cut == 0 {
		t.Errorf("the corpus should exercise TCP, QinQ, IPv6, fragments and snaplen cuts: %+v", total)
	}
}

// TestRealCaptures checks decodes of ../shared/real against what is known of
// them: endpoints 10.77.0.1/2 or fd77::1/2, server ports 5001, 5002, 8080.
func TestRealCaptures(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "real")
	pfx4, pfx6 := netip.MustParsePrefix("10.77.0.0/24"), netip.MustParsePrefix("fd77::/64")
	ports := map[uint16]bool{5001: true, 5002: true, 8080: true}
	httpPfx, httpPort := netip.MustParsePrefix("10.79.0.0/24"), uint16(8000) // http_keepalive.pcap
	perFile := map[string]*struct{ tcp, cut, sll2 int }{}
	var p Packet
	forEachCapture(t, dir, func(name string, i int, cp capturePacket) {
		c := perFile[name]
		if c == nil {
			c = &struct{ tcp, cut, sll2 int }{}
			perFile[name] = c
		}
		if p.Decode(cp.lt, cp.data, cp.origLen); p.Transport != TransportTCP {
			return
		}
		c.tcp++
		if p.SLL2 != nil {
			c.sll2++
		}
		if p.PayloadLength > len(p.Payload) {
			c.cut++
		}
		k := p.FlowKey(true)
		src, dst := k.SrcAddr(), k.DstAddr()
		pfx, okPort := pfx4, ports[src.Port()] || ports[dst.Port()]
		if k.V6 {
			pfx = pfx6
		}
		if strings.HasPrefix(name, "http_") {
			pfx, okPort = httpPfx, src.Port() == httpPort || dst.Port() == httpPort
		}
		if !pfx.Contains(src.Addr()) || !pfx.Contains(dst.Addr()) || !okPort {
			t.Errorf("%s packet %d: unexpected flow %v", name, i, k)
		}
	})
	for name, c := range perFile {
		t.Logf("%s: %+v", name, *c)
		if c.tcp == 0 {
			t.Errorf("%s: no TCP packet decoded", name)
		}
	}
	for _, want := range []struct {
		name      string
		sll2, cut bool
	}{
		{"lossy_any_sll2.pcap", true, false},
		{"lossy_snap200.pcap", false, true},
		{"clean_v4_gso.pcap", false, false},
	} {
		c := perFile[want.name]
		if c == nil {
			t.Errorf("%s not read", want.name)
			continue
		}
		if want.sll2 && c.sll2 != c.tcp {
			t.Errorf("%s: %d of %d TCP packets came through SLL2", want.name, c.sll2, c.tcp)
		}
		if want.cut != (c.cut > 0) {
			t.Errorf("%s: %d packets with a payload cut by the snaplen", want.name, c.cut)
		}
	}
}

// TestCorpusSpots checks single packets of corpus files against known values.
func TestCorpusSpots(t *testing.T) {
	corpus := filepath.Join(sharedDir(t), "corpus")
	cases := []struct {
		file  string
		check func(t *testing.T, i int, p *Packet) bool // reports whether the packet was one it checks
	}{
		{"arkime/tests/pcap/twovlan.pcap", func(t *testing.T, i int, p *Packet) bool {
			// Double 802.1Q: outer 201 (capture point), inner 200.
			if p.NumVLANs != 2 || p.VLANs[0].ID != 201 || p.VLANs[1].ID != 200 || p.VLANs[0].TPID != EtherTypeVLAN {
				t.Errorf("packet %d: tags %v", i, p.VLANs[:p.NumVLANs])
			}
			k := p.FlowKey(true)
			if cp, ok := p.CapturePoint(); !ok || cp != 201 || len(k.VLANIDs()) != 1 || k.VLANIDs()[0] != 200 || p.Transport != TransportTCP {
				t.Errorf("packet %d: capture point %d %v, key %v", i, cp, ok, k)
			}
			return true
		}},
		{"suricata-verify/tests/linktype-228/flow-test-01.pcap", func(t *testing.T, i int, p *Packet) bool {
			if p.LinkType != LinkTypeIPv4 || p.Network != NetworkIPv4 || !p.Stop.OK() {
				t.Errorf("packet %d: link %v, %v, %v", i, p.LinkType, p.Network, p.Stop)
			}
			return p.Transport == TransportTCP
		}},
		{"pcapplusplus/Tests/Pcap++Test/PcapExamples/linktype_ipv6.pcap", func(t *testing.T, i int, p *Packet) bool {
			if p.LinkType != LinkTypeIPv6 || p.Network != NetworkIPv6 || !p.Stop.OK() {
				t.Errorf("packet %d: link %v, %v, %v", i, p.LinkType, p.Network, p.Stop)
			}
			return p.Transport == TransportTCP
		}},
		{"arkime/tests/pcap/dot1ad.pcap", func(t *testing.T, i int, p *Packet) bool {
			// 802.1ad outer tags 1525/1535 (as tshark shows them), 802.1Q inner 30/40; ICMP inside.
			outer, inner := []uint16{1525, 1535}[i%2], []uint16{30, 40}[i%2]
			if p.NumVLANs != 2 || p.VLANs[0].TPID != EtherTypeQinQ || p.VLANs[1].TPID != EtherTypeVLAN ||
				p.VLANs[0].ID != outer || p.VLANs[1].ID != inner || p.Network != NetworkIPv4 || p.Protocol != IPProtoICMP {
				t.Errorf("packet %d: tags %v", i, p.VLANs[:p.NumVLANs])
			}
			return true
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join(corpus, c.file)
			if _, err := os.Stat(path); err != nil {
				t.Skip(err)
			}
			next, closeFn, ok := openCapture(t, path)
			if !ok {
				t.Fatal("cannot open")
			}
			defer closeFn()
			var p Packet
			checked := 0
			for i := 0; ; i++ {
				cp, err := next()
				if err != nil {
					break
				}
				p.Decode(cp.lt, cp.data, cp.origLen)
				if c.check(t, i, &p) {
					checked++
				}
			}
			if checked == 0 {
				t.Error("no packet checked")
			}
		})
	}
}

// TestChecksumVsTshark compares TransportChecksum with the verdicts tshark 4
// gives (-o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE) for captures
// with a mix of good and bad checksums.
func TestChecksumVsTshark(t *testing.T) {
	corpus := filepath.Join(sharedDir(t), "corpus")
	cases := []struct {
		file      string
		good, bad int
	}{
		{"fpcap/tracefiles/example.pcap.zst", 2753 + 70, 1739 + 69},
		{"tcpflow/tests/local.pcap", 0, 106},
	}
	for _, c := range cases {
		next, closeFn, ok := openCapture(t, filepath.Join(corpus, c.file))
		if !ok {
			t.Errorf("%s: cannot open", c.file)
			continue
		}
		var p Packet
		var n [3]int
		for {
			cp, err := next()
			if err != nil {
				break
			}
			p.Decode(cp.lt, cp.data, cp.origLen)
			n[p.TransportChecksum()]++
		}
		closeFn()
		if n[ChecksumGood] != c.good || n[ChecksumBad] != c.bad {
			t.Errorf("%s: %d good, %d bad; tshark: %d good, %d bad", c.file, n[ChecksumGood], n[ChecksumBad], c.good, c.bad)
		}
	}
}
