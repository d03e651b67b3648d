package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/pcapfile"
	stages "github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// requireAssembler was a skip helper while tcpasm was pending; the assembler
// is always built in now. Kept for tests that still call it.
func requireAssembler(testing.TB) {}

// tcpPkt is one TCP segment of a test capture.
type tcpPkt struct {
	ts       int64
	src, dst netip.AddrPort
	seq, ack uint32
	flags    uint8
	payload  []byte
	vlans    []uint16 // 802.1Q tags, outer first (the outer one 802.1ad when there are two)
	snap     int      // >0: capture only the first snap bytes of the frame
	sack     [][2]uint32
}

// frame builds an Ethernet frame (IPv4 or IPv6 by the address family);
// checksums are left zero (reseq does not verify them by default).
func (p *tcpPkt) frame() (data []byte, origLen int) {
	b := make([]byte, 12, 128+len(p.payload))
	copy(b, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1})
	for i, v := range p.vlans {
		tpid := uint16(0x8100)
		if i == 0 && len(p.vlans) > 1 {
			tpid = 0x88a8
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, v)
	}
	// TCP header with options.
	var opts []byte
	if p.flags&tcpasm.SYN != 0 {
		opts = append(opts, 2, 4, 0x05, 0xb4) // MSS 1460
	}
	if len(p.sack) > 0 {
		opts = append(opts, 1, 1, 5, byte(2+8*len(p.sack)))
		for _, s := range p.sack {
			opts = binary.BigEndian.AppendUint32(opts, s[0])
			opts = binary.BigEndian.AppendUint32(opts, s[1])
		}
	}
	for len(opts)%4 != 0 {
		opts = append(opts, 1)
	}
	tcp := make([]byte, 20, 20+len(opts)+len(p.payload))
	binary.BigEndian.PutUint16(tcp[0:], p.src.Port())
	binary.BigEndian.PutUint16(tcp[2:], p.dst.Port())
	binary.BigEndian.PutUint32(tcp[4:], p.seq)
	binary.BigEndian.PutUint32(tcp[8:], p.ack)
	tcp[12] = byte((20+len(opts))/4) << 4
	tcp[13] = p.flags
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	tcp = append(tcp, opts...)
	tcp = append(tcp, p.payload...)
	if p.src.Addr().Is4() {
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		ip := make([]byte, 20)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(tcp)))
		binary.BigEndian.PutUint16(ip[4:], uint16(p.seq^p.ack)) // an IP ID that differs per segment
		ip[8], ip[9] = 64, 6
		s4, d4 := p.src.Addr().As4(), p.dst.Addr().As4()
		copy(ip[12:], s4[:])
		copy(ip[16:], d4[:])
		b = append(b, ip...)
	} else {
		b = binary.BigEndian.AppendUint16(b, 0x86dd)
		ip := make([]byte, 40)
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(len(tcp)))
		ip[6], ip[7] = 6, 64
		s6, d6 := p.src.Addr().As16(), p.dst.Addr().As16()
		copy(ip[8:], s6[:])
		copy(ip[24:], d6[:])
		b = append(b, ip...)
	}
	b = append(b, tcp...)
	if p.snap > 0 && p.snap < len(b) {
		return b[:p.snap], len(b)
	}
	return b, len(b)
}

// conversation is a TCP connection script: handshake, the client's bytes and
// the server's answer in MSS-sized segments each acknowledged, FIN both ways.
type conversation struct {
	client, server netip.AddrPort
	c2s, s2c       []byte
	mss            int
	isnC, isnS     uint32
	vlans          []uint16
	t0             int64 // first packet time, ns
	noFIN          bool
}

const ms = int64(1_000_000)

func (c *conversation) packets() []tcpPkt {
	mss := c.mss
	if mss == 0 {
		mss = 1000
	}
	ts := c.t0
	if ts == 0 {
		ts = 1_700_000_000 * 1_000_000_000
	}
	var out []tcpPkt
	add := func(fromClient bool, seq, ack uint32, flags uint8, payload []byte) {
		p := tcpPkt{ts: ts, src: c.client, dst: c.server, seq: seq, ack: ack, flags: flags, payload: payload, vlans: c.vlans}
		if !fromClient {
			p.src, p.dst = c.server, c.client
		}
		out = append(out, p)
		ts += ms
	}
	cs, ss := c.isnC, c.isnS
	add(true, cs, 0, tcpasm.SYN, nil)
	add(false, ss, cs+1, tcpasm.SYN|tcpasm.ACK, nil)
	cs++
	ss++
	add(true, cs, ss, tcpasm.ACK, nil)
	send := func(fromClient bool, data []byte) {
		for off := 0; off < len(data); off += mss {
			seg := data[off:min(off+mss, len(data))]
			if fromClient {
				add(true, cs, ss, tcpasm.ACK|tcpasm.PSH, seg)
				cs += uint32(len(seg))
				add(false, ss, cs, tcpasm.ACK, nil)
			} else {
				add(false, ss, cs, tcpasm.ACK|tcpasm.PSH, seg)
				ss += uint32(len(seg))
				add(true, cs, ss, tcpasm.ACK, nil)
			}
		}
	}
	send(true, c.c2s)
	send(false, c.s2c)
	if !c.noFIN {
		add(true, cs, ss, tcpasm.FIN|tcpasm.ACK, nil)
		add(false, ss, cs+1, tcpasm.FIN|tcpasm.ACK, nil)
		add(true, cs+1, ss+1, tcpasm.ACK, nil)
	}
	return out
}

// writeCapture writes pkts as an Ethernet pcap (nanosecond) and returns its path.
func writeCapture(t testing.TB, dir, name string, pkts []tcpPkt) string {
	t.Helper()
	path := filepath.Join(dir, name)
	var buf bytes.Buffer
	w, err := pcapfile.NewWriter(&buf, 1, 65535, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		data, orig := pkts[i].frame()
		if err := w.WritePacket(pkts[i].ts, data, orig); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7+i/251)
	}
	return b
}

// segmentOf decodes pkt and fills seg as the pipeline does.
func segmentOf(seg *tcpasm.Segment, lp *layers.Packet, pkt *reseq.Packet, capturePoint bool) bool {
	return lp.Decode(layers.LinkType(pkt.LinkType), pkt.Data, pkt.Length).OK() &&
		tcpasm.FromPacket(seg, lp, pkt.Timestamp, pkt.Index, capturePoint)
}

// TestSegmentOf checks the frame → Segment conversion on built frames.
func TestSegmentOf(t *testing.T) {
	src := netip.MustParseAddrPort("10.0.0.1:1234")
	dst := netip.MustParseAddrPort("10.0.0.2:80")
	p := tcpPkt{ts: 5, src: src, dst: dst, seq: 100, ack: 200, flags: tcpasm.ACK | tcpasm.PSH,
		payload: []byte("hello world"), vlans: []uint16{201, 100}, snap: 14 + 8 + 20 + 32 + 5,
		sack: [][2]uint32{{300, 400}}}
	data, orig := p.frame()
	var seg tcpasm.Segment
	var lp layers.Packet
	pkt := reseq.Packet{Timestamp: 5, Length: orig, Data: data, LinkType: 1, Index: 9}
	if !segmentOf(&seg, &lp, &pkt, true) {
		t.Fatalf("not TCP: %v", lp.Stop)
	}
	var wantKey layers.FlowKey
	wantKey.SetAddrs(src, dst)
	wantKey.VLANs[0], wantKey.NumVLANs = 100, 1
	if seg.Key != wantKey || seg.CapturePoint != 201 || seg.Seq != 100 || seg.Ack != 200 ||
		seg.Flags != tcpasm.ACK|tcpasm.PSH || string(seg.Payload) != "hello" || seg.Length != 11 ||
		seg.NumSACK != 1 || seg.SACK[0] != (tcpasm.SACKBlock{Left: 300, Right: 400}) || seg.Index != 9 || seg.Timestamp != 5 {
		t.Errorf("segment %+v", seg)
	}
	// Capture point none: both tags in the key.
	if !segmentOf(&seg, &lp, &pkt, false) || seg.CapturePoint != tcpasm.NoCapturePoint || seg.Key.NumVLANs != 2 || seg.Key.VLANs[0] != 201 {
		t.Errorf("capture point none: %+v", seg)
	}
	// Not TCP.
	pkt.Data = pkt.Data[:20]
	if segmentOf(&seg, &lp, &pkt, true) {
		t.Error("a cut frame made a segment")
	}
}

func TestFilter(t *testing.T) {
	key := func(s, d string) *layers.FlowKey {
		var k layers.FlowKey
		k.SetAddrs(netip.MustParseAddrPort(s), netip.MustParseAddrPort(d))
		return &k
	}
	tests := []struct {
		ports, hosts []string
		key          *layers.FlowKey
		want         bool
	}{
		{nil, nil, key("1.1.1.1:1", "2.2.2.2:2"), true},
		{[]string{"80"}, nil, key("1.1.1.1:1234", "2.2.2.2:80"), true},
		{[]string{"80"}, nil, key("2.2.2.2:80", "1.1.1.1:1234"), true},
		{[]string{"80,443"}, nil, key("1.1.1.1:1234", "2.2.2.2:443"), true},
		{[]string{"80"}, nil, key("1.1.1.1:1234", "2.2.2.2:8080"), false},
		{nil, []string{"2.2.2.2"}, key("1.1.1.1:1", "2.2.2.2:2"), true},
		{nil, []string{"10.0.0.0/8"}, key("10.9.9.9:1", "2.2.2.2:2"), true},
		{nil, []string{"3.3.3.3"}, key("1.1.1.1:1", "2.2.2.2:2"), false},
		{nil, []string{"[fd77::1]"}, key("[fd77::1]:1", "[fd77::2]:2"), true},
		{[]string{"2"}, []string{"3.3.3.3"}, key("1.1.1.1:1", "2.2.2.2:2"), false},
		{[]string{"2"}, []string{"3.3.3.3", "1.1.1.1"}, key("1.1.1.1:1", "2.2.2.2:2"), true},
	}
	for i, tc := range tests {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		pf := addPipelineFlags(fs)
		var args []string
		for _, p := range tc.ports {
			args = append(args, "--port", p)
		}
		for _, h := range tc.hosts {
			args = append(args, "--host", h)
		}
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if got := pf.filter.match(tc.key); got != tc.want {
			t.Errorf("%d: ports %v hosts %v on %v = %v, want %v", i, tc.ports, tc.hosts, tc.key, got, tc.want)
		}
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addPipelineFlags(fs)
	for _, bad := range [][]string{{"--port", "0"}, {"--port", "70000"}, {"--port", "x"}, {"--host", "nohost"}, {"--max-memory", "12Q"}, {"--max-held", "-1"}} {
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestPipelineFlags(t *testing.T) {
	const outer = stages.CaptureOuterVLAN
	tests := []struct {
		args []string
		ok   bool
		cfg  tcpasm.Config
		cp   stages.CaptureSource
	}{
		{nil, true, tcpasm.Config{}, outer},
		{[]string{"--capture-point", "none", "--overlap", "last"}, true, tcpasm.Config{Overlap: tcpasm.LastWins}, 0},
		{[]string{"--capture-point", "tunnel,interface"}, true, tcpasm.Config{}, stages.CaptureTunnel | stages.CaptureInterface},
		{[]string{"--capture-point", "outer,tunnel"}, true, tcpasm.Config{}, outer | stages.CaptureTunnel},
		{[]string{"--vxlan-port", "4789,8472", "--gtpu-port", ""}, true, tcpasm.Config{}, outer},
		{[]string{"--vxlan-port", "0"}, false, tcpasm.Config{}, outer},
		{[]string{"--geneve-port", "x"}, false, tcpasm.Config{}, outer},
		{[]string{"--frag-timeout", "-1s"}, false, tcpasm.Config{}, outer},
		{[]string{"--max-memory", "32M", "--max-held", "1k", "--idle", "90s"}, true, tcpasm.Config{MaxMemory: 32 << 20, MaxHeldPerStream: 1024, IdleTimeout: 90e9}, outer},
		{[]string{"--idle", "0"}, true, tcpasm.Config{IdleTimeout: -1}, outer},
		{[]string{"--max-memory", "0", "--max-held", "0B"}, true, tcpasm.Config{MaxMemory: noLimit, MaxHeldPerStream: noLimit}, outer},
		{[]string{"--idle", "2.5"}, true, tcpasm.Config{IdleTimeout: 2.5e9}, outer},
		{[]string{"--idle", "-3s"}, false, tcpasm.Config{}, outer},
		{[]string{"--capture-point", "inner"}, false, tcpasm.Config{}, outer},
		{[]string{"--overlap", "bsd"}, true, tcpasm.Config{Overlap: tcpasm.PolicyBSD}, outer},
		{[]string{"--overlap", "freebsd"}, false, tcpasm.Config{}, outer},
		{[]string{"--urgent", "oob"}, true, tcpasm.Config{Urgent: tcpasm.UrgentOOB}, outer},
		{[]string{"--urgent", "drop"}, false, tcpasm.Config{}, outer},
	}
	for _, tc := range tests {
		// --max-memory (default 256M; 0: no limit) is split: an eighth to
		// IP reassembly, the rest to the assembler.
		wantFrag := int64(noLimit)
		switch tc.cfg.MaxMemory {
		case 0:
			tc.cfg.MaxMemory = defaultMaxMemory - defaultMaxMemory/8
			wantFrag = defaultMaxMemory / 8
		case noLimit:
		default:
			wantFrag = tc.cfg.MaxMemory / 8
			tc.cfg.MaxMemory -= wantFrag
		}
		if tc.cfg.MaxHeldPerStream == 0 {
			tc.cfg.MaxHeldPerStream = tcpasm.DefaultMaxHeldPerStream
		}
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		pf := addPipelineFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		p, err := pf.pipeline(nil, []string{"x.pcap"})
		if (err == nil) != tc.ok {
			t.Errorf("%v: err %v", tc.args, err)
			continue
		}
		if err == nil && p.Frag.MaxBytes != wantFrag {
			t.Errorf("%v: frag memory %d, want %d", tc.args, p.Frag.MaxBytes, wantFrag)
		}
		if err == nil && p.Config.OverlapFor != nil {
			t.Errorf("%v: a host policy without --overlap-host", tc.args)
		}
		if err == nil && (!reflect.DeepEqual(p.Config, tc.cfg) || p.CapturePoints != tc.cp) {
			t.Errorf("%v: config %+v cp %v, want %+v %v", tc.args, p.Config, p.CapturePoints, tc.cfg, tc.cp)
		}
	}
}

func TestParseArgs(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	o := fs.String("o", "", "")
	q := fs.Bool("q", false, "")
	pos, err := parseArgs(fs, []string{"a.pcap", "-o", "dir", "-", "-q", "b.pcap", "--", "-c.pcap"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.pcap", "-", "b.pcap", "-c.pcap"}; !reflect.DeepEqual(pos, want) || *o != "dir" || !*q {
		t.Errorf("pos %q o %q q %v", pos, *o, *q)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "4096": 4096, "4k": 4096, "64M": 64 << 20, "1GiB": 1 << 30, "2g": 2 << 30, "10KB": 10240, "4MiB": 4 << 20, "3T": 3 << 40, "5tib": 5 << 40} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-5", "1.5M", "99999999999T", "iB", "4iB", "MiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 1500: "1500", 4096: "4KiB", 64 << 20: "64MiB", 1 << 30: "1GiB", 3 << 40: "3TiB", 1<<20 + 1: "1048577"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
		if back, err := parseSize(formatSize(n)); err != nil || back != n {
			t.Errorf("parseSize(formatSize(%d)) = %d, %v", n, back, err)
		}
	}
}
