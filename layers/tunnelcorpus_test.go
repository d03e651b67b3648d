package layers_test

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/reseq/reseq/layers"
)

// TestTunnelCorpusVsTshark decodes the corpus captures whose TCP packets are
// behind a tunnel or carrier and asserts layers finds at least as many TCP
// packets as tshark (`tshark -r F -Y tcp | wc -l`, Wireshark 4.x, recorded
// below).
func TestTunnelCorpusVsTshark(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "corpus")
	cases := []struct {
		file   string
		tshark int
		what   string
	}{
		{"zeek/testing/btest/Traces/nflog-http.pcap", 13, "NFLOG"},
		{"zeek/testing/btest/Traces/mixed-vlan-mpls.pcap", 47, "MPLS and VLAN"},
		{"pcapplusplus/Tests/Pcap++Test/PcapExamples/one_http_stream_rst.pcap", 10, "PPPoE in QinQ"},
		{"suricata-verify/tests/bug-5437-01/input.pcap", 2, "ERSPAN II in GRE"},
		{"pcapplusplus/Tests/Packet++Test/PacketExamples/IPv4-encapsulated-IPv6.pcap", 1, "6in4"},
	}
	var p Packet
	for _, c := range cases {
		path := filepath.Join(dir, c.file)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		next, closeFn, ok := openCapture(t, path)
		if !ok {
			t.Errorf("%s: not a capture", c.file)
			continue
		}
		tcp, tunnelled := 0, 0
		for {
			cp, err := next()
			if err != nil {
				break
			}
			p.Decode(cp.lt, cp.data, cp.origLen)
			CheckInvariants(t, &p, cp.data)
			if p.Transport == TransportTCP {
				tcp++
				if p.NumTunnels > 0 || p.LinkType == LinkTypeNFLOG {
					tunnelled++
				}
			}
		}
		closeFn()
		t.Logf("%s (%s): %d TCP (%d behind the encapsulation), tshark %d", c.file, c.what, tcp, tunnelled, c.tshark)
		if tcp < c.tshark || tunnelled == 0 {
			t.Errorf("%s (%s): %d TCP packets (%d tunnelled), tshark finds %d", c.file, c.what, tcp, tunnelled, c.tshark)
		}
	}
}
