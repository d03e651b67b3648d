package fuzz

import (
	"encoding/binary"
	"testing"

	"github.com/reseq/reseq/ipfrag"
)

// FuzzIPFrag decodes a byte string into a fragment script and holds the
// Reassembler to the model (ipfrag_model_test.go) after every step: every
// datagram, in order, with its header, bytes, runs and the stats.
//
// Byte 0 is the config: bits 0-2 pick the timeout (-1, default, 50, 500,
// 5000, 1, 20, 200), bits 3-5 the buffers MaxBytes holds (mod 5), bit 6 adds
// 100 bytes of slack. Then ops; the op byte's low 2 bits are the kind and its
// high 6 bits the capture time that passes before it:
//
//	0-2 fragment: ident, offset (2 bytes, in 8-byte units), length (2 bytes;
//	    rounded down to a multiple of 8 unless flags bit 7), flags (bit 0
//	    more, bit 1 the content seed, bits 2-6: snaplen keeps
//	    length*(bits+1)/32 when bits 2-6 are not all set)
//	3   expire: now = time + 10*b - 500 for the next byte b
func FuzzIPFrag(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xb8, 0x7d, 0, 0, 0, 0, 0xb9, 0, 0x10, 0x7c})
	f.Add([]byte{0x02, 0, 3, 0, 0, 0, 0x40, 0x7d, 0, 3, 0, 4, 0, 0x40, 0x7d, 3, 200})
	f.Add([]byte{0x0b, 0, 4, 0, 0, 0, 0x20, 0x21, 0x04, 5, 0, 0, 0, 0x20, 0x7d, 0x0c, 2, 0, 4, 0, 8, 0x7c, 3, 255})
	f.Add([]byte{0x12, 0, 0, 0, 0, 0, 0x40, 0x7d, 0, 1, 0, 0, 0, 0x40, 0x7d, 0, 2, 0, 0, 0, 0x40, 0x7d, 4, 1, 0, 8, 0, 0x40, 0x7e})
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) == 0 || len(script) > 4096 {
			return
		}
		timeouts := [...]int64{-1, 0, 50, 500, 5000, 1, 20, 200}
		c := script[0]
		cfg := ipfrag.Config{
			Timeout:  timeouts[c&7],
			MaxBytes: int64((c>>3)&7%5) * ipfrag.BufferBytes,
		}
		if c&0x40 != 0 {
			cfg.MaxBytes += 100
		}
		var ops []fragOp
		ts := int64(0)
		for b := script[1:]; len(b) > 0; {
			op := b[0]
			ts += int64(op >> 2)
			if op&3 == 3 {
				if len(b) < 2 {
					break
				}
				ops = append(ops, fragOp{Expire: true, Now: ts + 10*int64(b[1]) - 500})
				b = b[2:]
				continue
			}
			if len(b) < 7 {
				break
			}
			n := int(binary.BigEndian.Uint16(b[4:]))
			fl := b[6]
			if fl&0x80 == 0 {
				n &^= 7
			}
			capd := n
			if keep := int(fl>>2) & 31; keep != 31 {
				capd = n * (keep + 1) / 32
			}
			ops = append(ops, fragOp{Ident: int(b[1]) % len(fragIdents), Off: int(binary.BigEndian.Uint16(b[2:])&0x1fff) * 8,
				Len: n, Cap: capd, More: fl&1 != 0, Seed: (fl >> 1) & 1, TS: ts})
			b = b[7:]
		}
		checkIPFrag(t, cfg, ops)
	})
}
