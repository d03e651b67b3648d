package layers

import (
	"fmt"
	"reflect"
	"testing"
)

// samePacket reports the first field in which a and b differ: views must
// alias the same bytes (pointer, length and capacity), every other field be
// equal. The private rare flag is not compared: it only says what the next
// fast decode clears.
func samePacket(a, b *Packet) string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	ty := va.Type()
	for i := 0; i < ty.NumField(); i++ {
		f := ty.Field(i)
		if !f.IsExported() {
			continue
		}
		x, y := va.Field(i), vb.Field(i)
		if x.Kind() == reflect.Slice {
			if x.Pointer() != y.Pointer() || x.Len() != y.Len() || x.Cap() != y.Cap() || x.IsNil() != y.IsNil() {
				return fmt.Sprintf("%s: %p len %d cap %d vs %p len %d cap %d", f.Name, x.Interface(), x.Len(), x.Cap(), y.Interface(), y.Len(), y.Cap())
			}
			continue
		}
		if !reflect.DeepEqual(x.Interface(), y.Interface()) {
			return fmt.Sprintf("%s: %+v vs %+v", f.Name, x.Interface(), y.Interface())
		}
	}
	return ""
}

// fastFrames returns common frames and their variants: every tag count up to
// three, IPv4 and IPv6, TCP without options, with the timestamp layout and
// with others, cut at every length, and with each header byte changed.
func fastFrames() [][]byte {
	plain := defTCP("0123456789abcdef")
	ts := defTCP("payload")
	ts.opts = []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}
	sack := defTCP("")
	sack.opts = []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2}
	syn := defTCP("")
	syn.opts = []byte{2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}
	var bases [][]byte
	for _, s := range []tcpSpec{plain, ts, sack, syn} {
		for n := 0; n <= 3; n++ {
			bases = append(bases, eth(EtherTypeIPv4, tcp4(s), tags(n)...), eth(EtherTypeIPv6, tcp6(s), tags(n)...))
		}
	}
	padded := append(eth(EtherTypeIPv4, tcp4(plain)), make([]byte, 6)...)
	frames := append([][]byte{padded}, bases...)
	for _, b := range bases[:8] { // plain and timestamps, every tag count
		for n := range b {
			frames = append(frames, b[:n])
		}
		for i := 12; i < min(len(b), 100); i++ {
			for _, v := range []byte{0, 1, 4, 5, 6, 0x11, 0x40, 0x45, 0x46, 0x60, 0x81, 0x88, 0x91, 0xa8, 0xff} {
				m := append([]byte(nil), b...)
				if m[i] != v {
					m[i] = v
					frames = append(frames, m)
				}
			}
		}
	}
	return frames
}

// TestFastPathAgrees checks the fast path against the general walker: for
// every frame, with the original length unknown, equal to the capture and
// longer, a fresh decode, a decode the general walker does alone, and decodes
// into Packets left by other decodes (tags, options, UDP, fragments, SLL)
// give the same fields. It also checks that the fast path takes the common
// frames.
func TestFastPathAgrees(t *testing.T) {
	frames := fastFrames()
	for _, c := range decodeCases() {
		if c.lt == LinkTypeEthernet {
			frames = append(frames, c.data)
		}
	}
	sack := defTCP("")
	sack.opts = []byte{1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2}
	priors := []struct {
		lt   LinkType
		data []byte
	}{
		{LinkTypeEthernet, eth(EtherTypeIPv4, tcp4(sack), tags(5)...)},
		{LinkTypeEthernet, eth(EtherTypeIPv6, tcp6(sack), tags(2)...)},
		{LinkTypeEthernet, eth(EtherTypeIPv6, cat(ext6(IPProtoDstOpts, IPProtoFragment, 8), frag6(IPProtoTCP, 0, true, 7), defTCP("x").bytes()), tags(1)...)},
		{LinkTypeEthernet, eth(EtherTypeIPv4, ipv4(v4Spec{proto: IPProtoUDP, totalLen: -1}, make([]byte, 12)))},
		{LinkTypeLinuxSLL, sll(EtherTypeIPv4, tcp4(defTCP("y")))},
		{LinkTypeLinuxSLL2, sll2(EtherTypeIPv6, 6, tcp6(defTCP("z")))},
		{LinkTypeNull, null(2, false, tcp4(defTCP("n")))},
	}
	fast := 0
	for fi, f := range frames {
		for _, orig := range []int{0, len(f), len(f) + 100} {
			var slow, fresh Packet
			slowStop := slow.decode(nil, LinkTypeEthernet, f, orig)
			stop := fresh.Decode(LinkTypeEthernet, f, orig)
			if !fresh.rare { // the general walker always sets rare
				fast++
			}
			if stop != slowStop {
				t.Fatalf("frame %d (%x) orig %d: stop %v, general walker %v", fi, f, orig, stop, slowStop)
			}
			if d := samePacket(&fresh, &slow); d != "" {
				t.Fatalf("frame %d (%x) orig %d: fast path and general walker differ in %s", fi, f, orig, d)
			}
			// One prior per frame and original length, in turn.
			pi := (3*fi + orig%3) % len(priors)
			pr := priors[pi]
			{
				var reused Packet
				reused.Decode(pr.lt, pr.data, 0)
				reused.Decode(LinkTypeEthernet, f, orig)
				if d := samePacket(&reused, &slow); d != "" {
					t.Fatalf("frame %d (%x) orig %d after prior %d: reused Packet differs in %s", fi, f, orig, pi, d)
				}
				// And the other way round: a prior decode after this one.
				reused.Decode(pr.lt, pr.data, 0)
				var want Packet
				want.Decode(pr.lt, pr.data, 0)
				if d := samePacket(&reused, &want); d != "" {
					t.Fatalf("prior %d after frame %d: reused Packet differs in %s", pi, fi, d)
				}
			}
		}
	}
	// The base frames the fast path takes without setting rare, at least: 2
	// option layouts (none, timestamps) x 3 tag counts x 2 IP versions, 3
	// original lengths each.
	if fast < 2*3*2*3 {
		t.Fatalf("the fast path took %d decodes of %d frames", fast, len(frames))
	}
	t.Logf("%d frames, %d fast decodes", len(frames), fast)
}

// FuzzFastPath checks that the fast path and the general walker agree on any
// Ethernet frame, fresh and after a decode that set the rare fields.
func FuzzFastPath(f *testing.F) {
	for _, fr := range fastFrames()[:40] {
		f.Add(fr, uint16(0))
	}
	prior := eth(EtherTypeIPv6, cat(ext6(IPProtoDstOpts, IPProtoFragment, 8), frag6(IPProtoTCP, 0, true, 7), defTCP("x").bytes()), tags(4)...)
	f.Fuzz(func(t *testing.T, data []byte, extra uint16) {
		orig := len(data) + int(extra)
		if extra == 0xffff {
			orig = 0
		}
		var slow, fresh, reused Packet
		slow.decode(nil, LinkTypeEthernet, data, orig)
		fresh.Decode(LinkTypeEthernet, data, orig)
		if d := samePacket(&fresh, &slow); d != "" {
			t.Fatalf("fast path and general walker differ in %s", d)
		}
		reused.Decode(LinkTypeEthernet, prior, 0)
		reused.Decode(LinkTypeEthernet, data, orig)
		if d := samePacket(&reused, &slow); d != "" {
			t.Fatalf("reused Packet differs in %s", d)
		}
	})
}

// TestResetIsZero checks that reset leaves every field as a fresh Packet has
// it, after decodes that set all of them.
func TestResetIsZero(t *testing.T) {
	var p Packet
	for _, c := range tunnelCases() {
		p.DecodeWith(c.opt, c.lt, c.f.b, 0)
		p.Decode(LinkTypeEthernet, layersRare(), 0)
		p.reset(LinkTypeRaw)
		if d := samePacket(&p, &Packet{LinkType: LinkTypeRaw}); d != "" {
			t.Fatalf("after %s: reset leaves %s", c.name, d)
		}
	}
}

// layersRare is a frame that sets many rare fields: SLL-free, but three
// tags, IPv6 extension headers and a fragment.
func layersRare() []byte {
	return eth(EtherTypeIPv6, ipv6(IPProtoDstOpts, -1, cat(ext6(IPProtoDstOpts, IPProtoFragment, 8), frag6(IPProtoTCP, 8, true, 3), []byte("data"))), tags(3)...)
}
