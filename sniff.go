package reseq

// What the first bytes of an input say it is: a compression, an archive, a
// capture format (sniff).

import "bytes"

// sniffLen is how many bytes are peeked to recognise an input: enough for the
// tar magic at offset 257.
const sniffLen = 512

// kind is what the first bytes of an input say it is.
type kind uint8

const (
	kindUnknown kind = iota
	kindCompressed
	kindZip
	kindTar
	kindPcap
	kindPcapng
)

func sniff(head []byte) (kind, Compression) {
	if c := sniffCompression(head); c != None {
		return kindCompressed, c
	}
	if len(head) >= 4 {
		switch string(head[:4]) {
		case "PK\x03\x04", "PK\x05\x06":
			return kindZip, None
		case "\x0a\x0d\x0d\x0a":
			return kindPcapng, None
		}
		switch m := uint32(head[0])<<24 | uint32(head[1])<<16 | uint32(head[2])<<8 | uint32(head[3]); m {
		case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0xa1b2cd34, 0x34cdb2a1:
			return kindPcap, None
		}
	}
	if len(head) >= 262 && string(head[257:262]) == "ustar" {
		return kindTar, None
	}
	return kindUnknown, None
}

// headPrefix returns the first bytes of an input, as a NotCaptureError shows
// them.
func headPrefix(head []byte) []byte {
	return bytes.Clone(head[:min(len(head), 16)])
}
