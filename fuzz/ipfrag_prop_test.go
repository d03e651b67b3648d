package fuzz

import (
	"testing"

	"github.com/reseq/reseq/ipfrag"
	"pgregory.net/rapid"
)

// Property tests of package ipfrag: rapid draws datagrams, fragments them,
// loses, duplicates, truncates, overlaps and reorders the fragments, and the
// Reassembler is held to the model (ipfrag_model_test.go) after every step. A
// long run:
//
//	go test ./fuzz -run 'TestIPFragProp' -rapid.checks=10000

// drawPayloadLen favours small datagrams but reaches the 65,535 cap.
func drawPayloadLen(t *rapid.T, label string) int {
	switch rapid.IntRange(0, 3).Draw(t, label+"kind") {
	case 0:
		return rapid.IntRange(0, 64).Draw(t, label)
	case 1, 2:
		return rapid.IntRange(0, 6000).Draw(t, label)
	}
	return rapid.IntRange(60000, 65535).Draw(t, label)
}

// drawFragments cuts [0, n) at 8-aligned points.
func drawFragments(t *rapid.T, n int, ident int, seed byte) []fragOp {
	var ops []fragOp
	maxSeg := rapid.SampledFrom([]int{8, 64, 1480, 8192}).Draw(t, "maxSeg")
	for off := 0; ; {
		l := rapid.IntRange(1, maxSeg/8).Draw(t, "seg") * 8
		if off+l >= n || len(ops) == 200 {
			l = n - off
		}
		ops = append(ops, fragOp{Ident: ident, Off: off, Len: l, Cap: l, More: off+l < n, Seed: seed})
		off += l
		if off >= n {
			break
		}
	}
	return ops
}

// TestIPFragPropModel: anything goes; the Reassembler equals the model.
func TestIPFragPropModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := ipfrag.Config{
			Timeout:  rapid.SampledFrom([]int64{-1, 0, 50, 500, 5000}).Draw(t, "timeout"),
			MaxBytes: int64(rapid.IntRange(0, 4).Draw(t, "buffers"))*ipfrag.BufferBytes + int64(rapid.IntRange(0, 300).Draw(t, "slack")),
		}
		var frags []fragOp
		for d := range rapid.IntRange(1, 5).Draw(t, "datagrams") {
			ident := rapid.IntRange(0, len(fragIdents)-1).Draw(t, "ident")
			n := drawPayloadLen(t, "len")
			seed := byte(rapid.IntRange(0, 1).Draw(t, "seed"))
			for _, op := range drawFragments(t, n, ident, seed) {
				if rapid.IntRange(0, 99).Draw(t, "loss") < 10 {
					continue
				}
				if rapid.IntRange(0, 99).Draw(t, "snap") < 10 {
					op.Cap = rapid.IntRange(0, op.Len).Draw(t, "cap")
				}
				frags = append(frags, op)
				if rapid.IntRange(0, 99).Draw(t, "dup") < 10 {
					frags = append(frags, op)
				}
				if rapid.IntRange(0, 99).Draw(t, "overlap") < 8 {
					// Another cut of the same datagram, maybe other bytes.
					o := op
					o.Off = rapid.IntRange(0, max(0, n-1)/8).Draw(t, "ooff") * 8
					o.Len = rapid.IntRange(0, (n-o.Off)/8).Draw(t, "olen") * 8
					o.More = o.Off+o.Len < n
					if !o.More {
						o.Len = n - o.Off
					}
					o.Cap, o.Seed = o.Len, seed+byte(rapid.IntRange(0, 1).Draw(t, "oseed"))
					frags = append(frags, o)
				}
				if rapid.IntRange(0, 99).Draw(t, "bad") < 2 {
					o := op
					o.Off += rapid.IntRange(-8, 8).Draw(t, "badoff")
					o.Len = rapid.IntRange(0, 70000).Draw(t, "badlen")
					o.Off, o.Cap = max(o.Off, 0), min(o.Len, 100)
					frags = append(frags, o)
				}
			}
			_ = d
		}
		order := rapid.Permutation(frags).Draw(t, "order")
		var ops []fragOp
		ts := int64(0)
		for _, op := range order {
			ts += int64(rapid.IntRange(0, 40).Draw(t, "dt"))
			if rapid.IntRange(0, 99).Draw(t, "back") < 5 {
				ts -= int64(rapid.IntRange(0, 400).Draw(t, "backdt"))
			}
			op.TS = ts
			ops = append(ops, op)
			if rapid.IntRange(0, 99).Draw(t, "expire") < 15 {
				ops = append(ops, fragOp{Expire: true, Now: ts + int64(rapid.IntRange(-100, 1000).Draw(t, "now"))})
			}
		}
		checkIPFrag(t, cfg, ops)
	})
}

// TestIPFragPropClean: every fragment of distinct datagrams captured whole,
// in any order, with no timeout and room for all: each datagram is delivered
// complete, exactly once, with its bytes (the model checks the bytes).
func TestIPFragPropClean(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var frags []fragOp
		idents := rapid.Permutation([]int{0, 1, 2, 3, 4, 5}).Draw(t, "idents")
		n := rapid.IntRange(1, len(idents)).Draw(t, "datagrams")
		for _, ident := range idents[:n] {
			n := min(drawPayloadLen(t, "len"), fragIdents[ident].maxPayload())
			frags = append(frags, drawFragments(t, n, ident, 0)...)
		}
		ops := rapid.Permutation(frags).Draw(t, "order")
		for i := range ops {
			ops[i].TS = int64(i)
		}
		complete, partial := checkIPFrag(t, ipfrag.Config{Timeout: -1}, ops)
		if complete != n || partial != 0 {
			t.Fatalf("%d complete, %d partial of %d datagrams", complete, partial, n)
		}
	})
}
