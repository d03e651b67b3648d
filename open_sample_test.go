package reseq

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseq/reseq/pcapfile"
)

var updateSample = flag.Bool("update", false, "rewrite testdata/sample.pcap from its generator")

// samplePath is the bundled capture the README's first command runs on.
const samplePath = "testdata/sample.pcap"

// sampleConn is one side of a hand-made TCP conversation.
type sampleConn struct {
	cliIP, srvIP     [4]byte
	cliPort, srvPort uint16
	cliSeq, srvSeq   uint32 // next sequence number of each side
}

// ipv4TCP builds an Ethernet/IPv4/TCP frame with correct checksums.
func ipv4TCP(src, dst [4]byte, sport, dport uint16, seq, ack uint32, flags byte, payload []byte, ipID uint16) []byte {
	const ethLen, ipLen, tcpLen = 14, 20, 20
	b := make([]byte, ethLen+ipLen+tcpLen+len(payload))
	copy(b[0:6], []byte{0x02, 0, 0, 0, 0, dst[3]})
	copy(b[6:12], []byte{0x02, 0, 0, 0, 0, src[3]})
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[ethLen : ethLen+ipLen]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(ipLen+tcpLen+len(payload)))
	binary.BigEndian.PutUint16(ip[4:], ipID)
	ip[6] = 0x40 // don't fragment
	ip[8] = 64
	ip[9] = 6
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	binary.BigEndian.PutUint16(ip[10:], checksum(0, ip))
	tcp := b[ethLen+ipLen:]
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], dport)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[12] = tcpLen / 4 << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 64240)
	copy(tcp[tcpLen:], payload)
	var pseudo [12]byte
	copy(pseudo[0:4], src[:])
	copy(pseudo[4:8], dst[:])
	pseudo[9] = 6
	binary.BigEndian.PutUint16(pseudo[10:], uint16(len(tcp)))
	binary.BigEndian.PutUint16(tcp[16:], checksum(sum16(0, pseudo[:]), tcp))
	return b
}

func sum16(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func checksum(s uint32, b []byte) uint16 {
	s = sum16(s, b)
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpPSH = 0x08
	tcpACK = 0x10
)

// generateSample returns the bundled sample: two HTTP/1.1 connections from
// 10.0.0.1 to 10.0.0.2:80. The first one's response comes in three segments;
// the capture missed the middle one (the client's ACK covers it), so a
// reassembler must report a 1000-byte gap between the bytes it has. The second
// connection is complete.
func generateSample(t testing.TB) []byte {
	var out bytes.Buffer
	w, err := pcapfile.NewWriter(&out, 1, 65535, false)
	if err != nil {
		t.Fatal(err)
	}
	ts := int64(1_704_103_200_000_000_000) // 2024-01-01T10:00:00Z
	id := uint16(1)
	emit := func(c *sampleConn, fromClient bool, flags byte, payload []byte, lost bool) {
		var f []byte
		if fromClient {
			f = ipv4TCP(c.cliIP, c.srvIP, c.cliPort, c.srvPort, c.cliSeq, c.srvSeq, flags, payload, id)
			c.cliSeq += uint32(len(payload))
			if flags&(tcpSYN|tcpFIN) != 0 {
				c.cliSeq++
			}
		} else {
			f = ipv4TCP(c.srvIP, c.cliIP, c.srvPort, c.cliPort, c.srvSeq, c.cliSeq, flags, payload, id)
			c.srvSeq += uint32(len(payload))
			if flags&(tcpSYN|tcpFIN) != 0 {
				c.srvSeq++
			}
		}
		id++
		ts += 1_250_000 // 1.25 ms
		if lost {
			return
		}
		if err := w.WritePacket(ts, f, len(f)); err != nil {
			t.Fatal(err)
		}
	}
	body := func(n int, c byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a' + byte((i+int(c))%26)
		}
		return b
	}
	c1 := &sampleConn{cliIP: [4]byte{10, 0, 0, 1}, srvIP: [4]byte{10, 0, 0, 2}, cliPort: 50000, srvPort: 80, cliSeq: 1_000_000, srvSeq: 4_000_000_000}
	c2 := &sampleConn{cliIP: [4]byte{10, 0, 0, 1}, srvIP: [4]byte{10, 0, 0, 2}, cliPort: 50001, srvPort: 80, cliSeq: 2_000_000, srvSeq: 300_000}

	// Handshakes, and the first request.
	emit(c1, true, tcpSYN, nil, false)
	emit(c1, false, tcpSYN|tcpACK, nil, false)
	emit(c1, true, tcpACK, nil, false)
	emit(c1, true, tcpPSH|tcpACK, []byte("GET /index.html HTTP/1.1\r\nHost: example.test\r\n\r\n"), false)
	emit(c2, true, tcpSYN, nil, false)
	emit(c2, false, tcpSYN|tcpACK, nil, false)
	emit(c2, true, tcpACK, nil, false)
	emit(c2, true, tcpPSH|tcpACK, []byte("GET /small.txt HTTP/1.1\r\nHost: example.test\r\n\r\n"), false)

	// Connection 1: a 3000-byte body in three segments, the middle one lost.
	b1 := body(3000, 0)
	hdr := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 3000\r\n\r\n")
	emit(c1, false, tcpACK, append(hdr, b1[:1000]...), false)
	emit(c1, false, tcpACK, b1[1000:2000], true) // not captured
	emit(c1, false, tcpPSH|tcpACK, b1[2000:], false)
	emit(c1, true, tcpACK, nil, false) // acknowledges all three segments

	// Connection 2: a short complete response.
	emit(c2, false, tcpPSH|tcpACK, []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n"), false)
	emit(c2, true, tcpACK, nil, false)

	// Both close.
	for _, c := range []*sampleConn{c1, c2} {
		emit(c, true, tcpFIN|tcpACK, nil, false)
		emit(c, false, tcpFIN|tcpACK, nil, false)
		emit(c, true, tcpACK, nil, false)
	}
	return out.Bytes()
}

// TestGenerateSample checks testdata/sample.pcap is what its generator makes
// (run with -update to rewrite it) and that Open reads it.
func TestGenerateSample(t *testing.T) {
	want := generateSample(t)
	if *updateSample {
		if err := os.MkdirAll(filepath.Dir(samplePath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(samplePath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGenerateSample -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from its generator (run go test -run TestGenerateSample -update)", samplePath)
	}
	r, err := Open(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ps, errs := readAll(t, r)
	if len(errs) > 0 || len(ps) != 19 {
		t.Fatalf("%d packets, errors %v", len(ps), errs)
	}
}
