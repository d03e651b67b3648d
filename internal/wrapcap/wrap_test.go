package wrapcap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/reseq/reseq/pcapfile"
)

// The decoder below is the test's own: it walks what Wrap wrote, checks
// every length and checksum on the way, and returns the innermost IP packet.

type walker struct {
	t      *testing.T
	spec   string
	frags  map[string][][]byte // fragments by datagram key
	layers []string
}

func (w *walker) fail(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("[%s] %s (layers %v)", w.spec, fmt.Sprintf(format, args...), w.layers)
}

// frame decodes one output frame; it returns the innermost IP packet, or
// nil when the frame held a fragment that did not yet complete a datagram.
func (w *walker) frame(link uint32, b []byte) []byte {
	w.layers = w.layers[:0]
	switch link {
	case LinkEthernet:
		return w.eth(b)
	case LinkPPP, LinkPPPHDLC, LinkPPPDir, LinkPPPPPPD:
		if link == LinkPPPDir {
			b = b[1:]
		}
		if link == LinkPPPPPPD {
			if b[0] > 1 {
				w.fail("ppp-pppd direction %d", b[0])
			}
			b = append([]byte{0xff}, b[1:]...)
		}
		if b[0] != 0xff || b[1] != 0x03 {
			w.fail("PPP address/control % x", b[:2])
		}
		return w.ppp(b[2:])
	case LinkNFLOG:
		if b[1] != 0 {
			w.fail("NFLOG version %d", b[1])
		}
		fam := b[0]
		for off := 4; off+4 <= len(b); {
			l := int(binary.LittleEndian.Uint16(b[off:]))
			typ := binary.LittleEndian.Uint16(b[off+2:])
			if l < 4 || off+l > len(b) {
				w.fail("NFLOG TLV length %d at %d of %d", l, off, len(b))
			}
			if typ == nfulaPayload {
				ip := b[off+4 : off+l]
				if (fam == 2) != (ip[0]>>4 == 4) {
					w.fail("NFLOG family %d for IPv%d", fam, ip[0]>>4)
				}
				if pad := (l + 3) &^ 3; off+pad != len(b) {
					w.fail("NFLOG payload TLV padding: %d+%d of %d", off, pad, len(b))
				}
				return w.ip(ip)
			}
			off += (l + 3) &^ 3
		}
		w.fail("NFLOG without payload")
	}
	w.fail("link type %d", link)
	return nil
}

func (w *walker) ppp(b []byte) []byte {
	switch binary.BigEndian.Uint16(b) {
	case 0x0021, 0x0057:
		return w.ip(b[2:])
	}
	w.fail("PPP protocol %#x", binary.BigEndian.Uint16(b))
	return nil
}

func (w *walker) eth(b []byte) []byte {
	w.layers = append(w.layers, "eth")
	et := binary.BigEndian.Uint16(b[12:])
	b = b[14:]
	for et == etVLAN || et == etQinQ {
		w.layers = append(w.layers, "vlan")
		et = binary.BigEndian.Uint16(b[2:])
		b = b[4:]
	}
	if et <= 1500 {
		w.layers = append(w.layers, "llc")
		if int(et) != len(b) {
			w.fail("802.3 length %d, %d bytes follow", et, len(b))
		}
		if !bytes.Equal(b[:6], []byte{0xaa, 0xaa, 3, 0, 0, 0}) {
			w.fail("LLC/SNAP % x", b[:6])
		}
		et = binary.BigEndian.Uint16(b[6:])
		b = b[8:]
	}
	switch et {
	case etIPv4, etIPv6:
		return w.ip(b)
	case etMPLS:
		for {
			w.layers = append(w.layers, "mpls")
			v := binary.BigEndian.Uint32(b)
			b = b[4:]
			if v&0xff != 64 {
				w.fail("MPLS TTL %d", v&0xff)
			}
			if v&0x100 != 0 {
				break
			}
		}
		switch b[0] >> 4 {
		case 4, 6:
			return w.ip(b)
		case 0:
			if strings.Contains(w.spec, "nocw") {
				break // a MAC starting with a 0 nibble
			}
			w.layers = append(w.layers, "cw")
			return w.eth(b[4:])
		}
		return w.eth(b)
	case etPPPoE:
		w.layers = append(w.layers, "pppoe")
		if b[0] != 0x11 || b[1] != 0 {
			w.fail("PPPoE ver/type % x", b[:2])
		}
		if n := int(binary.BigEndian.Uint16(b[4:])); n != len(b)-6 {
			w.fail("PPPoE length %d, %d bytes follow", n, len(b)-6)
		}
		return w.ppp(b[6:])
	}
	w.fail("EtherType %#x", et)
	return nil
}

// ip checks an IP header and goes on into its payload; fragments are held
// until their datagram is complete, then reassembled and walked.
func (w *walker) ip(b []byte) []byte {
	switch b[0] >> 4 {
	case 4:
		w.layers = append(w.layers, "ip4")
		ihl := int(b[0]&15) * 4
		if Checksum(b[:ihl]) != 0 {
			w.fail("IPv4 header checksum")
		}
		if n := int(binary.BigEndian.Uint16(b[2:])); n != len(b) {
			w.fail("IPv4 total length %d, %d bytes", n, len(b))
		}
		fo := binary.BigEndian.Uint16(b[6:])
		if fo&0x3fff != 0 {
			if fo&0x4000 != 0 {
				w.fail("fragment with DF")
			}
			key := fmt.Sprintf("4/%x/%d", b[12:20], binary.BigEndian.Uint16(b[4:]))
			return w.reassemble(key, b)
		}
		if b[9] == ipProtoTCP {
			return b
		}
		return w.next(b[9], b[12:16], b[16:20], b[ihl:])
	case 6:
		w.layers = append(w.layers, "ip6")
		if n := int(binary.BigEndian.Uint16(b[4:])); n != len(b)-40 {
			w.fail("IPv6 payload length %d, %d bytes", n, len(b)-40)
		}
		if b[6] == ipProtoFrg {
			key := fmt.Sprintf("6/%x/%x", b[8:40], b[44:48])
			return w.reassemble(key, b)
		}
		if b[6] == ipProtoTCP {
			return b
		}
		return w.next(b[6], b[8:24], b[24:40], b[40:])
	}
	w.fail("IP version %d", b[0]>>4)
	return nil
}

func (w *walker) reassemble(key string, b []byte) []byte {
	w.layers = append(w.layers, "frag")
	w.frags[key] = append(w.frags[key], append([]byte(nil), b...))
	fs := w.frags[key]
	type piece struct {
		off  int
		more bool
		data []byte
	}
	var ps []piece
	var hdr []byte
	for _, f := range fs {
		if f[0]>>4 == 4 {
			ihl := int(f[0]&15) * 4
			fo := binary.BigEndian.Uint16(f[6:])
			ps = append(ps, piece{int(fo&0x1fff) * 8, fo&0x2000 != 0, f[ihl:]})
			if fo&0x1fff == 0 {
				hdr = slices.Clone(f[:ihl])
			}
		} else {
			v := binary.BigEndian.Uint16(f[42:])
			if f[40+1] != 0 || f[42+1]&6 != 0 {
				w.fail("IPv6 fragment header reserved bits")
			}
			ps = append(ps, piece{int(v>>3) * 8, v&1 != 0, f[48:]})
			if v>>3 == 0 {
				hdr = slices.Clone(f[:40])
				hdr[6] = f[40]
			}
		}
	}
	slices.SortFunc(ps, func(a, b piece) int { return a.off - b.off })
	var pay []byte
	for i, p := range ps {
		if p.off != len(pay) {
			return nil // a hole
		}
		if i < len(ps)-1 && len(p.data)%8 != 0 {
			w.fail("non-final fragment of %d bytes", len(p.data))
		}
		pay = append(pay, p.data...)
	}
	if ps[len(ps)-1].more || hdr == nil {
		return nil
	}
	delete(w.frags, key)
	full := append(hdr, pay...)
	if full[0]>>4 == 4 {
		binary.BigEndian.PutUint16(full[2:], uint16(len(full)))
		binary.BigEndian.PutUint16(full[6:], 0x0000)
		full[10], full[11] = 0, 0
		binary.BigEndian.PutUint16(full[10:], Checksum(full[:int(full[0]&15)*4]))
	} else {
		binary.BigEndian.PutUint16(full[4:], uint16(len(full)-40))
	}
	return w.ip(full)
}

func (w *walker) next(proto byte, src, dst, b []byte) []byte {
	switch proto {
	case ipProtoIP4, ipProtoIP6:
		w.layers = append(w.layers, "ipip")
		return w.inner(b)
	case ipProtoGRE:
		w.layers = append(w.layers, "gre")
		flags := binary.BigEndian.Uint16(b)
		pr := binary.BigEndian.Uint16(b[2:])
		n := 4
		if flags&0x8000 != 0 {
			if Checksum(b) != 0 {
				w.fail("GRE checksum")
			}
			n += 4
		}
		if flags&0x2000 != 0 {
			n += 4
		}
		if flags&0x1000 != 0 {
			n += 4
		}
		b = b[n:]
		switch pr {
		case etIPv4, etIPv6:
			return w.inner(b)
		case etTEB:
			return w.innerEth(b)
		case etERSPAN2:
			if flags&0x1000 == 0 || b[0]>>4 != 1 {
				w.fail("ERSPAN II: S bit or version")
			}
			return w.innerEth(b[8:])
		case etERSPAN3:
			if flags&0x1000 == 0 || b[0]>>4 != 2 {
				w.fail("ERSPAN III: S bit or version")
			}
			n := 12
			if b[11]&1 != 0 {
				n += 8
			}
			return w.innerEth(b[n:])
		}
		w.fail("GRE protocol %#x", pr)
	case ipProtoUDP:
		w.layers = append(w.layers, "udp")
		if n := int(binary.BigEndian.Uint16(b[4:])); n != len(b) {
			w.fail("UDP length %d, %d bytes", n, len(b))
		}
		if len(src) == 16 {
			var ph [40]byte
			copy(ph[:], src)
			copy(ph[16:], dst)
			binary.BigEndian.PutUint32(ph[32:], uint32(len(b)))
			ph[39] = ipProtoUDP
			if binary.BigEndian.Uint16(b[6:]) == 0 || Checksum(ph[:], b) != 0 {
				w.fail("UDP/IPv6 checksum")
			}
		}
		dport := binary.BigEndian.Uint16(b[2:])
		b = b[8:]
		switch {
		case b[0] == 0x08 && dport != 2152 && dport != 6081:
			return w.innerEth(b[8:])
		case dport == 6081:
			if binary.BigEndian.Uint16(b[2:]) != etTEB {
				w.fail("Geneve protocol")
			}
			return w.innerEth(b[8+int(b[0]&0x3f)*4:])
		case dport == 2152:
			if b[0] != 0x34 || b[1] != 0xff {
				w.fail("GTP-U flags/type % x", b[:2])
			}
			if n := int(binary.BigEndian.Uint16(b[2:])); n != len(b)-8 {
				w.fail("GTP-U length %d, %d bytes", n, len(b)-8)
			}
			nt, off := b[11], 12
			for nt != 0 {
				l := int(b[off]) * 4
				nt = b[off+l-1]
				off += l
			}
			return w.inner(b[off:])
		}
		w.fail("UDP port %d", dport)
	}
	w.fail("IP protocol %d", proto)
	return nil
}

// inner walks the IP packet b of a tunnel.
func (w *walker) inner(b []byte) []byte { return w.ip(b) }

func (w *walker) innerEth(b []byte) []byte {
	et := binary.BigEndian.Uint16(b[12:])
	if et != etIPv4 && et != etIPv6 {
		w.fail("inner EtherType %#x", et)
	}
	return w.inner(b[14:])
}

// innermost decodes one frame and returns the innermost IP packet, or nil.
func (w *walker) innermost(link uint32, b []byte) []byte {
	return w.frame(link, b)
}

func tcpPacket(v6 bool, n int, seed byte) []byte {
	pay := make([]byte, 20+n)
	pay[12] = 5 << 4
	for i := 20; i < len(pay); i++ {
		pay[i] = byte(i*7) + seed
	}
	binary.BigEndian.PutUint16(pay[0:], 40000)
	binary.BigEndian.PutUint16(pay[2:], 5001)
	if v6 {
		h, _ := ipv6Header(ipProtoTCP, [16]byte{0xfd, 0x77, 15: 1}, [16]byte{0xfd, 0x77, 15: 2}, len(pay))
		return append(h, pay...)
	}
	h, _ := ipv4Header(ipProtoTCP, [4]byte{10, 77, 0, 2}, [4]byte{10, 77, 0, 1}, 0x4242, len(pay))
	h[6] = 0x40 // DF, as the real captures have
	h[10], h[11] = 0, 0
	binary.BigEndian.PutUint16(h[10:], Checksum(h))
	return append(h, pay...)
}

var unitSpecs = []string{
	"mpls", "mpls:16,17,18", "mpls-pw", "mpls-pw-nocw", "pppoe:7", "qinq-pppoe",
	"llcsnap,frag:1492", "gre", "gre-key:77", "gre-seq", "gre-csum", "gre-eth", "gre6",
	"gre6,gre-key:5,gre-seq,gre-csum,gre-eth", "erspan2:5", "erspan3:6", "erspan3p:7",
	"vxlan:5001", "vxlan:77:8472", "vxlan6:5001", "geneve:5002", "geneve6", "gtpu:4097", "gtpu6",
	"ipip", "6in4", "4in6", "6in6", "nflog", "ppp", "ppp-dir", "ppp-pppd", "ppp-hdlc",
	"frag:576", "frag-rev:576", "frag-shuffle:576:3", "frag:1280,drop:0.5:3",
	"vxlan:5001,outer-frag:1400", "6in4,frag:576", "gre6,outer-frag:1280,frag:1400",
	"vxlan,frag:576,pppoe", "gtpu,outer-frag:600,mpls", "erspan3p,outer-frag:700,nflog",
	"mirror-vxlan", "mirror-erspan2", "mirror-erspan3",
}

// TestRoundTrip wraps IPv4 and IPv6 TCP packets (one bigger than any MTU
// used) with every spec and walks the result back with the test's own
// decoder, which checks lengths and checksums and reassembles fragments:
// the innermost packet must come back byte for byte.
func TestRoundTrip(t *testing.T) {
	for _, spec := range unitSpecs {
		w, err := New(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		wk := &walker{t: t, spec: spec, frags: map[string][][]byte{}}
		var want, got [][]byte
		for i, v6 := range []bool{false, true, false, true} {
			ip := tcpPacket(v6, []int{3000, 1000, 20, 1400}[i], byte(i))
			frame := append(ethHeader([6]byte{1}, [6]byte{2}, map[bool]uint16{false: etIPv4, true: etIPv6}[v6]), ip...)
			out, err := w.Wrap(LinkEthernet, Packet{Timestamp: int64(i) * 1e6, Data: frame})
			if err != nil {
				t.Fatalf("%s: %v", spec, err)
			}
			copies := 1
			if w.Mirror() {
				copies = 2
			}
			if !strings.Contains(spec, "drop") {
				for range copies {
					want = append(want, ip)
				}
			}
			for _, o := range out {
				if o.Length != len(o.Data) {
					t.Fatalf("%s: length %d for %d bytes", spec, o.Length, len(o.Data))
				}
				if o.Timestamp != int64(i)*1e6 && o.Timestamp != int64(i)*1e6+MirrorDelay {
					t.Fatalf("%s: timestamp %d", spec, o.Timestamp)
				}
				r := wk.innermost(w.LinkType(), o.Data)
				if r != nil {
					got = append(got, r)
				}
				for _, want := range wantLayers(spec) {
					if r != nil && !slices.Contains(wk.layers, want) {
						t.Fatalf("%s: no %s layer in %v", spec, want, wk.layers)
					}
				}
			}
		}
		if strings.Contains(spec, "drop") {
			st := w.Stats()
			if len(got) != 4-st.Dropped || st.Dropped == 0 {
				t.Errorf("%s: %d packets back, %d dropped", spec, len(got), st.Dropped)
			}
			continue
		}
		if len(wk.frags) != 0 {
			t.Errorf("%s: %d datagrams left incomplete", spec, len(wk.frags))
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d packets back, want %d", spec, len(got), len(want))
		}
		innerFrag := slices.ContainsFunc(splitItems(spec), func(s string) bool { return strings.HasPrefix(s, "frag") })
		for i := range got {
			if innerFrag && got[i][0]>>4 == 4 {
				// Fragmenting clears DF; a packet that fit keeps it.
				want[i], got[i] = clearDF(want[i]), clearDF(got[i])
			}
			if innerFrag {
				// A fragmented TCP packet gets its checksum computed first.
				want[i] = withTCPChecksum(pkt{data: want[i], wire: len(want[i])}).data
			}
			if !bytes.Equal(got[i], want[i]) {
				j := 0
				for j < len(got[i]) && j < len(want[i]) && got[i][j] == want[i][j] {
					j++
				}
				t.Errorf("%s: packet %d differs at byte %d (%d bytes, want %d) got % x want % x", spec, i, j, len(got[i]), len(want[i]), got[i][:min(40, len(got[i]))], want[i][:min(40, len(want[i]))])
			}
		}
	}
}

func TestFragmentSizes(t *testing.T) {
	var id uint32 = 1
	for _, v6 := range []bool{false, true} {
		ip := tcpPacket(v6, 5000, 0)
		fs, err := fragment(pkt{data: ip, wire: len(ip)}, 576, &id)
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range fs {
			if f.wire > 576 || len(f.data) != f.wire {
				t.Errorf("v6=%v fragment %d: %d bytes", v6, i, f.wire)
			}
		}
		if !v6 && binary.BigEndian.Uint16(fs[1].data[4:]) != 0x4242 {
			t.Errorf("IPv4 fragment lost the ID")
		}
	}
	if id != 2 {
		t.Errorf("IPv6 fragment ID not advanced once per datagram: %d", id)
	}
}

// TestTruncated: a packet cut by snaplen stays cut by the same number of
// bytes, its length fields naming the wire length.
func TestTruncated(t *testing.T) {
	ip := tcpPacket(false, 1400, 0)
	frame := append(ethHeader([6]byte{1}, [6]byte{2}, etIPv4), ip...)
	for _, spec := range []string{"vxlan", "gre-csum", "nflog", "mpls-pw", "frag:576", "gtpu,outer-frag:600"} {
		w, _ := New(spec)
		out, err := w.Wrap(LinkEthernet, Packet{Data: frame[:200], Length: len(frame)})
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		cut, wire := 0, 0
		for _, o := range out {
			cut += o.Length - len(o.Data)
			wire += o.Length
		}
		if cut != len(frame)-200 && !strings.Contains(spec, "frag") {
			t.Errorf("%s: %d bytes missing, want %d", spec, cut, len(frame)-200)
		}
		if strings.Contains(spec, "frag") && len(out) < 3 {
			t.Errorf("%s: %d fragments of a 1454-byte packet", spec, len(out))
		}
		if w, _ := New("vxlan"); spec == "vxlan" {
			o, _ := w.Wrap(LinkEthernet, Packet{Data: frame[:200], Length: len(frame)})
			if n := int(binary.BigEndian.Uint16(o[0].Data[14+2:])); n != o[0].Length-14 {
				t.Errorf("vxlan: outer total length %d, wire %d", n, o[0].Length-14)
			}
		}
	}
}

func TestSpecErrors(t *testing.T) {
	for _, s := range []string{"", "bogus", "vxlan,gre", "mpls,pppoe", "frag", "frag:20", "outer-frag:1400", "drop:2", "gre-key", "vxlan:99999999"} {
		if _, err := New(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}

// TestFileRoundTrip runs WrapBytes on a small pcap with a non-IP frame.
func TestFileRoundTrip(t *testing.T) {
	var in bytes.Buffer
	pw, _ := pcapfile.NewWriter(&in, LinkEthernet, 65535, false)
	pw.WritePacket(1e9, append(ethHeader([6]byte{1}, [6]byte{2}, etIPv4), tcpPacket(false, 100, 0)...), 0+154)
	pw.WritePacket(2e9, append(ethHeader([6]byte{1}, [6]byte{2}, 0x0806), make([]byte, 28)...), 42)
	for spec, want := range map[string]Stats{
		"vxlan": {In: 2, Wrapped: 1, Passed: 1, Out: 2, OutLink: 1},
		"nflog": {In: 2, Wrapped: 1, Skipped: 1, Out: 1, OutLink: 239},
	} {
		out, st, err := WrapBytes(in.Bytes(), spec)
		if err != nil {
			t.Fatal(err)
		}
		if st != want {
			t.Errorf("%s: %+v, want %+v", spec, st, want)
		}
		r, err := pcapfile.NewReaderBytes(out)
		if err != nil {
			t.Fatal(err)
		}
		if r.LinkType() != want.OutLink {
			t.Errorf("%s: link type %d", spec, r.LinkType())
		}
	}
}

func clearDF(ip []byte) []byte {
	ip = slices.Clone(ip)
	ip[6] &^= 0x40
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], Checksum(ip[:int(ip[0]&15)*4]))
	return ip
}

// wantLayers names the layers the walker must pass through for spec.
func wantLayers(spec string) []string {
	var l []string
	for _, it := range splitItems(spec) {
		name, _, _ := strings.Cut(it, ":")
		switch {
		case strings.HasPrefix(name, "gre"), strings.HasPrefix(name, "erspan"), name == "mirror-erspan2", name == "mirror-erspan3":
			l = append(l, "gre")
		case strings.HasPrefix(name, "vxlan"), strings.HasPrefix(name, "geneve"), strings.HasPrefix(name, "gtpu"), name == "mirror-vxlan":
			l = append(l, "udp")
		case strings.HasSuffix(name, "pppoe"):
			l = append(l, "pppoe")
		case strings.Contains(name, "in"), strings.HasPrefix(name, "ipip"):
			l = append(l, "ipip")
		case strings.HasPrefix(name, "mpls"):
			l = append(l, "mpls")
		case name == "llcsnap":
			l = append(l, "llc")
		}
	}
	return l
}
