package reseq

import (
	"bytes"
	"compress/bzip2"
	"errors"
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
	case bytes.HasPrefix(head, magicLZ4):
		return LZ4
	case bytes.HasPrefix(head, magicXZ):
		return XZ
	case bytes.HasPrefix(head, magicBzip2) && len(head) > 3 && head[3] >= '1' && head[3] <= '9':
		return Bzip2
	}
	return None
}

// zstdMaxWindow bounds the window a zstd frame may ask for, like the zstd
// command line tool's default (--long=27): a hostile frame header cannot make
// the decoder allocate more.
const zstdMaxWindow = 1 << 27

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
func decompressor(c Compression, r io.Reader, opt *Options) (io.Reader, func(), error) {
	d, release, err := newDecompressor(c, r, opt)
	if err != nil {
		return nil, nil, &DecompressError{Compression: c, Err: err}
	}
	return &decodeErrors{c: c, r: d}, release, nil
}

func newDecompressor(c Compression, r io.Reader, opt *Options) (io.Reader, func(), error) {
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
			zstd.WithDecoderMaxWindow(zstdMaxWindow),
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
