package tcpasm

import (
	"encoding/binary"

	"github.com/reseq/reseq/layers"
)

// flowTable maps a flow, in either direction, to its connection: open
// addressing with linear probing on the key's symmetric hash (the same for
// both directions, so a lookup needs no normalised copy of the key), and
// deletion by backward shift (no tombstones). A slot holds the hash, so a
// probe compares keys only on a full hash match. It allocates only when it
// grows.
type flowTable struct {
	slots []flowSlot // len a power of two, at most half full
	n     int
}

type flowSlot struct {
	hash uint64
	c    *conn // nil: empty
}

// get returns the connection of key k (hash its SymmetricHash), or nil.
func (t *flowTable) get(hash uint64, k *layers.FlowKey) *conn {
	if t.n == 0 {
		return nil
	}
	m := uint64(len(t.slots) - 1)
	for i := hash & m; ; i = (i + 1) & m {
		s := &t.slots[i]
		if s.c == nil {
			return nil
		}
		if s.hash == hash && (keyEq(&s.c.Key, k) || keyEqRev(&s.c.Key, k)) {
			return s.c
		}
	}
}

// put adds c, whose flow is not in the table, under hash.
func (t *flowTable) put(hash uint64, c *conn) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	t.insert(hash, c)
	t.n++
}

func (t *flowTable) insert(hash uint64, c *conn) {
	m := uint64(len(t.slots) - 1)
	i := hash & m
	for t.slots[i].c != nil {
		i = (i + 1) & m
	}
	t.slots[i] = flowSlot{hash, c}
}

func (t *flowTable) grow() {
	old := t.slots
	t.slots = make([]flowSlot, max(2*len(old), 64))
	for _, s := range old {
		if s.c != nil {
			t.insert(s.hash, s.c)
		}
	}
}

// del removes c (under hash), if it is in the table. It reports whether it
// was.
func (t *flowTable) del(hash uint64, c *conn) bool {
	if t.n == 0 {
		return false
	}
	m := uint64(len(t.slots) - 1)
	i := hash & m
	for t.slots[i].c != c {
		if t.slots[i].c == nil {
			return false
		}
		i = (i + 1) & m
	}
	// Backward shift: move up each later entry of the probe run that may
	// live at i (its home slot is not cyclically within (i, j]).
	for j := (i + 1) & m; t.slots[j].c != nil; j = (j + 1) & m {
		home := t.slots[j].hash & m
		if (j-home)&m >= (j-i)&m {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = flowSlot{}
	t.n--
	return true
}

// each calls f for every connection in the table.
func (t *flowTable) each(f func(*conn)) {
	for _, s := range t.slots {
		if s.c != nil {
			f(s.c)
		}
	}
}

// keyEq is k == o, in a few word compares instead of a call to the runtime's
// memory compare.
func keyEq(k, o *layers.FlowKey) bool {
	return sameTags(k, o) && k.SrcPort == o.SrcPort && k.DstPort == o.DstPort &&
		sameAddr(&k.SrcIP, &o.SrcIP) && sameAddr(&k.DstIP, &o.DstIP)
}

// keyEqRev is k == o.Reverse(), without the copy.
func keyEqRev(k, o *layers.FlowKey) bool {
	return sameTags(k, o) && k.SrcPort == o.DstPort && k.DstPort == o.SrcPort &&
		sameAddr(&k.SrcIP, &o.DstIP) && sameAddr(&k.DstIP, &o.SrcIP)
}

func sameAddr(a, b *[16]byte) bool {
	le := binary.LittleEndian
	return le.Uint64(a[:8]) == le.Uint64(b[:8]) && le.Uint64(a[8:]) == le.Uint64(b[8:])
}

// sameTags compares what of a key is not an endpoint: VLANs, VNI, family.
func sameTags(k, o *layers.FlowKey) bool {
	return k.VLANs == o.VLANs && k.NumVLANs == o.NumVLANs && k.V6 == o.V6 &&
		k.HasVNI == o.HasVNI && k.VNI == o.VNI
}
