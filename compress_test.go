package reseq

import (
	"bytes"
	"errors"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

func TestSniffCompression(t *testing.T) {
	tests := []struct {
		head []byte
		want Compression
	}{
		{[]byte{0x1f, 0x8b, 8, 0}, Gzip},
		{[]byte{0x28, 0xb5, 0x2f, 0xfd, 0}, Zstd},
		{[]byte{0x04, 0x22, 0x4d, 0x18, 0}, LZ4},
		{[]byte{0x02, 0x21, 0x4c, 0x18, 0}, LZ4},
		{[]byte{0xfd, '7', 'z', 'X', 'Z', 0, 0}, XZ},
		{[]byte("BZh91AY&SY"), Bzip2},
		{[]byte("BZh0"), None}, // level digit out of range
		{[]byte("BZ"), None},
		{[]byte{0xd4, 0xc3, 0xb2, 0xa1}, None}, // pcap
		{nil, None},
	}
	for _, tc := range tests {
		if got := sniffCompression(tc.head); got != tc.want {
			t.Errorf("%x: %v, want %v", tc.head, got, tc.want)
		}
	}
}

func TestXZDictSize(t *testing.T) {
	for _, dict := range []int{1 << 16, 1 << 20, 3 << 20, 8 << 20, 64 << 20} {
		var b bytes.Buffer
		w, err := xz.WriterConfig{DictCap: dict}.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("some data"))
		w.Close()
		got, ok := xzDictSize(b.Bytes())
		if !ok || got < int64(dict) || got > 2*int64(dict) {
			t.Errorf("dict %d: got %d %v", dict, got, ok)
		}
	}
	if _, ok := xzDictSize([]byte{0xfd, '7', 'z', 'X', 'Z', 0}); ok {
		t.Error("short header gave a size")
	}
}

// TestDecoderMemoryLimit: a stream whose header asks for more decoder memory
// than allowed is refused instead of allocated.
func TestDecoderMemoryLimit(t *testing.T) {
	raw := pcapBytes(t, genPackets(0, 10, 1e18, 1))
	var xb bytes.Buffer
	w, err := xz.WriterConfig{DictCap: 8 << 20}.NewWriter(&xb)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(raw)
	w.Close()
	var zb bytes.Buffer
	zw, err := zstd.NewWriter(&zb, zstd.WithWindowSize(8<<20), zstd.WithSingleSegment(false))
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(pcapBytes(t, genPackets(0, 30000, 1e18, 1))) // more than 1 MiB: the window is not shrunk to the content
	zw.Close()
	for _, tc := range []struct {
		name string
		data []byte
	}{{"xz", xb.Bytes()}, {"zstd", zb.Bytes()}} {
		r, err := NewReaderOptions(Options{MaxDecoderMemory: 1 << 20}, bytes.NewReader(tc.data), tc.name)
		if err == nil {
			// zstd reports it at the first read, which a truncated
			// sniff defers to Next.
			var errs []error
			_, errs = readAll(t, r)
			r.Close()
			if len(errs) != 1 {
				t.Errorf("%s: limit 1 MiB: errors %v", tc.name, errs)
				continue
			}
			err = errs[0]
		}
		var ie *InputError
		var de *DecompressError
		if !errors.As(err, &ie) || !errors.As(err, &de) {
			t.Errorf("%s: limit 1 MiB: %v", tc.name, err)
		}
		r, err = NewReaderOptions(Options{MaxDecoderMemory: 16 << 20}, bytes.NewReader(tc.data), tc.name)
		if err != nil {
			t.Errorf("%s: limit 16 MiB: %v", tc.name, err)
			continue
		}
		if _, errs := readAll(t, r); len(errs) > 0 {
			t.Errorf("%s: %v", tc.name, errs)
		}
		r.Close()
	}
}

func TestOpenLZ4Legacy(t *testing.T) {
	want := genPackets(0, 200, 1e18, 1e3)
	var b bytes.Buffer
	w := lz4.NewWriter(&b)
	if err := w.Apply(lz4.LegacyOption(true)); err != nil {
		t.Fatal(err)
	}
	w.Write(pcapBytes(t, want))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(b.Bytes()), "legacy.lz4")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ps, errs := readAll(t, r)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	checkPackets(t, ps, want, 0)
}
