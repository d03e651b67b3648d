package reseq

import (
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// Compression names a compression (or archive member encoding) around a capture.
type Compression uint8

// Compressions recognised by their magic bytes. Deflate is the method of a zip
// archive member.
const (
	None Compression = iota
	Gzip
	Zstd
	LZ4
	XZ
	Bzip2
	Deflate
)

var compressionNames = [...]string{"none", "gzip", "zstd", "lz4", "xz", "bzip2", "deflate"}

// String returns the lower-case name used in reseq's JSON output: "none",
// "gzip", "zstd", "lz4", "xz", "bzip2" or "deflate".
func (c Compression) String() string {
	if int(c) < len(compressionNames) {
		return compressionNames[c]
	}
	return "unknown"
}

// Magic numbers, by format.
var (
	magicGzip  = []byte{0x1f, 0x8b}
	magicZstd  = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicLZ4   = []byte{0x04, 0x22, 0x4d, 0x18}
	magicLZ4L  = []byte{0x02, 0x21, 0x4c, 0x18} // legacy frame ("lz4 -l")
	magicXZ    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicBzip2 = []byte{'B', 'Z', 'h'}
)

// sniffCompression returns the compression whose magic starts head, or None.
func sniffCompression(head []byte) Compression {
	switch {
	case bytes.HasPrefix(head, magicGzip):
		return Gzip
	case bytes.HasPrefix(head, magicZstd):
		return Zstd
	case bytes.HasPrefix(head, magicLZ4), bytes.HasPrefix(head, magicLZ4L):
		return LZ4
	case bytes.HasPrefix(head, magicXZ):
		return XZ
	case bytes.HasPrefix(head, magicBzip2) && len(head) > 3 && head[3] >= '1' && head[3] <= '9':
		return Bzip2
	}
	return None
}

// xzDictSize returns the LZMA2 dictionary size the first block of the xz
// stream starting head declares, and false when head does not show it.
func xzDictSize(head []byte) (int64, bool) {
	const streamHeader = 12
	if len(head) < streamHeader+2 || head[streamHeader] == 0 {
		return 0, false
	}
	hdr := head[streamHeader:]
	size := (int(hdr[0]) + 1) * 4
	if len(hdr) < size {
		return 0, false
	}
	hdr = hdr[:size-4] // without the CRC32
	flags := hdr[1]
	p := 2
	varint := func() (uint64, bool) {
		var v uint64
		for i := 0; i < 9 && p < len(hdr); i++ {
			b := hdr[p]
			p++
			v |= uint64(b&0x7f) << (7 * i)
			if b < 0x80 {
				return v, true
			}
		}
		return 0, false
	}
	if flags&0x40 != 0 {
		if _, ok := varint(); !ok {
			return 0, false
		}
	}
	if flags&0x80 != 0 {
		if _, ok := varint(); !ok {
			return 0, false
		}
	}
	for f := 0; f <= int(flags&3); f++ {
		id, ok1 := varint()
		n, ok2 := varint()
		if !ok1 || !ok2 || n > uint64(len(hdr)-p) {
			return 0, false
		}
		props := hdr[p : p+int(n)]
		p += int(n)
		if id == 0x21 && len(props) == 1 {
			b := props[0]
			if b > 40 {
				return 0, false
			}
			if b == 40 {
				return 1<<32 - 1, true
			}
			return int64(2|b&1) << (b/2 + 11), true
		}
	}
	return 0, false
}

// decodeErrors names the decompressor in the errors it returns.
type decodeErrors struct {
	c Compression
	r io.Reader
}

func (d *decodeErrors) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		err = &DecompressError{Compression: d.c, Err: err}
	}
	return n, err
}

// DecompressError is an error of a decompressor: the compressed input is
// corrupt or cut short.
type DecompressError struct {
	Compression Compression
	Err         error
}

func (e *DecompressError) Error() string { return e.Compression.String() + ": " + e.Err.Error() }

// Unwrap returns the decompressor's error.
func (e *DecompressError) Unwrap() error { return e.Err }

// decompressor returns a reader of the decompressed bytes of r and a function
// that releases what it holds (nil when nothing needs releasing).
func decompressor(c Compression, r io.Reader, head []byte, opt *Options) (io.Reader, func(), error) {
	d, release, err := newDecompressor(c, r, head, opt)
	if err != nil {
		return nil, nil, &DecompressError{Compression: c, Err: err}
	}
	return &decodeErrors{c: c, r: d}, release, nil
}

func newDecompressor(c Compression, r io.Reader, head []byte, opt *Options) (io.Reader, func(), error) {
	switch c {
	case Gzip:
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return z, func() { z.Close() }, nil
	case Zstd:
		z, err := zstd.NewReader(r,
			zstd.WithDecoderConcurrency(max(opt.ZstdConcurrency, 1)),
			zstd.WithDecoderMaxWindow(uint64(opt.maxDecoderMemory())),
			zstd.WithDecoderLowmem(false))
		if err != nil {
			return nil, nil, err
		}
		return z, z.Close, nil
	case LZ4:
		z := lz4.NewReader(r)
		// Decode in the caller's goroutine: no hidden goroutines.
		if err := z.Apply(lz4.ConcurrencyOption(1)); err != nil {
			return nil, nil, err
		}
		return z, nil, nil
	case XZ:
		if d, ok := xzDictSize(head); ok && d > opt.maxDecoderMemory() {
			return nil, nil, fmt.Errorf("dictionary of %d bytes exceeds the limit of %d", d, opt.maxDecoderMemory())
		}
		z, err := xz.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return z, nil, nil
	case Bzip2:
		return bzip2.NewReader(r), nil, nil
	}
	return nil, nil, errors.New("reseq: unknown compression")
}
