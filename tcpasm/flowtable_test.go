package tcpasm

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/reseq/reseq/layers"
)

// TestFlowTable holds the table to a map through random puts, gets and
// deletes, with hashes drawn from a few values (long probe runs, wrapping
// the end of the slots, backward shifts across them) and real ones.
func TestFlowTable(t *testing.T) {
	for _, hashes := range []int{3, 50, 0} {
		rng := rand.New(rand.NewPCG(uint64(hashes), 1))
		var tb flowTable
		model := map[layers.FlowKey]*conn{}
		keys := make([]layers.FlowKey, 300)
		for i := range keys {
			keys[i].SetAddrs(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(1000+i)),
				netip.MustParseAddrPort("10.9.9.9:80"))
		}
		hashOf := func(k *layers.FlowKey) uint64 {
			if hashes == 0 {
				return k.SymmetricHash()
			}
			return uint64(min(k.SrcPort, k.DstPort)%uint16(hashes)) * 0x9E3779B97F4A7C15 // symmetric: same hash, many keys
		}
		for step := 0; step < 20000; step++ {
			k := keys[rng.IntN(len(keys))]
			if rng.IntN(2) == 0 {
				k = k.Reverse() // either direction finds the connection
			}
			h := hashOf(&k)
			want := model[k]
			if want == nil {
				want = model[k.Reverse()]
			}
			if got := tb.get(h, &k); got != want {
				t.Fatalf("hashes %d step %d: get %v = %p, want %p", hashes, step, k, got, want)
			}
			switch {
			case want == nil && rng.IntN(3) > 0:
				c := &conn{hash: h}
				c.Key = k
				tb.put(h, c)
				model[k] = c
			case want != nil && rng.IntN(2) == 0:
				if !tb.del(want.hash, want) {
					t.Fatalf("del of a present conn failed")
				}
				delete(model, want.Key)
				if tb.del(want.hash, want) {
					t.Fatalf("second del succeeded")
				}
			}
			if tb.n != len(model) {
				t.Fatalf("n %d, model %d", tb.n, len(model))
			}
		}
		seen := 0
		tb.each(func(c *conn) {
			if model[c.Key] != c {
				t.Fatalf("each: stray conn %v", c.Key)
			}
			seen++
		})
		if seen != len(model) {
			t.Fatalf("each saw %d of %d", seen, len(model))
		}
	}
}

func TestKeyEq(t *testing.T) {
	var a layers.FlowKey
	a.SetAddrs(netip.MustParseAddrPort("[2001:db8::1]:1"), netip.MustParseAddrPort("[2001:db8::2]:2"))
	a.NumVLANs, a.VLANs[0] = 1, 7
	mut := []func(k *layers.FlowKey){
		func(k *layers.FlowKey) { k.SrcIP[0]++ }, func(k *layers.FlowKey) { k.SrcIP[15]++ },
		func(k *layers.FlowKey) { k.DstIP[3]++ }, func(k *layers.FlowKey) { k.DstIP[12]++ },
		func(k *layers.FlowKey) { k.SrcPort++ }, func(k *layers.FlowKey) { k.DstPort++ },
		func(k *layers.FlowKey) { k.VLANs[3]++ }, func(k *layers.FlowKey) { k.NumVLANs++ },
		func(k *layers.FlowKey) { k.V6 = false },
	}
	b := a
	if !keyEq(&a, &b) {
		t.Fatal("equal keys differ")
	}
	for i, m := range mut {
		b := a
		m(&b)
		if keyEq(&a, &b) != (a == b) || keyEq(&a, &b) {
			t.Errorf("mutation %d not seen", i)
		}
	}
}

// Two overlays' connections on one tuple, told apart by the VNI only, are
// two connections, even packet after packet (the last-connection fast path).
func TestVNISeparatesConns(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 100, 200)
	g := newFeeder(a, 100, 200)
	f.key.HasVNI, f.key.VNI = true, 5001
	g.key.HasVNI, g.key.VNI = true, 5002
	f.handshake()
	g.handshake()
	f.data(0, 0, "abc")
	g.data(0, 0, "xyz")
	a.Close()
	r.allClosed()
	if n := len(r.conns); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
	if !keyEqRev(&f.key, ptr(f.key.Reverse())) || keyEq(&f.key, &g.key) || keyEqRev(&f.key, ptr(g.key.Reverse())) {
		t.Error("keyEq or keyEqRev ignores the VNI")
	}
}

func ptr[T any](v T) *T { return &v }
