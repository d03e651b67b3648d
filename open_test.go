package reseq

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/reseq/reseq/pcapfile"
	"github.com/ulikunitz/xz"
)

// testPacket is one packet the tests write and expect back.
type testPacket struct {
	ts   int64
	data []byte
	orig int
}

// genPackets returns n packets of capture src: timestamps start+i*step, data
// naming src and i so every packet is distinct.
func genPackets(src, n int, start, step int64) []testPacket {
	ps := make([]testPacket, n)
	for i := range ps {
		d := []byte(fmt.Sprintf("src%d-pkt%d-", src, i))
		d = append(d, bytes.Repeat([]byte{byte(i)}, i%50)...)
		ps[i] = testPacket{ts: start + int64(i)*step, data: d, orig: len(d) + i%3}
	}
	return ps
}

// pcapBytes writes ps as a nanosecond pcap with link type 1.
func pcapBytes(t testing.TB, ps []testPacket) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapfile.NewWriter(&b, 1, 65535, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := w.WritePacket(p.ts, p.data, p.orig); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func compressWith(t testing.TB, c Compression, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	var err error
	switch c {
	case None:
		return data
	case Gzip:
		w = gzip.NewWriter(&b)
	case Zstd:
		w, err = zstd.NewWriter(&b)
	case LZ4:
		w = lz4.NewWriter(&b)
	case XZ:
		w, err = xz.NewWriter(&b)
	default:
		t.Fatalf("no writer for %v", c)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type testMember struct {
	name string
	data []byte
}

func tarBytes(t testing.TB, ms []testMember) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Size: int64(len(m.data)), Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zipBytes(t testing.TB, ms []testMember) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i, m := range ms {
		method := zip.Deflate
		if i%2 == 1 {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// got is a packet as read back, with its data copied.
type got struct {
	ts     int64
	data   string
	length int
	source int
	index  int64
}

// readAll reads r to the end, collecting packets and errors.
func readAll(t testing.TB, r *Reader) ([]got, []error) {
	t.Helper()
	var ps []got
	var errs []error
	for i := 0; i < 1e6; i++ {
		p, err := r.Next()
		if err == io.EOF {
			return ps, errs
		}
		if err != nil {
			errs = append(errs, err)
			if len(errs) > 100 {
				t.Fatal("too many errors")
			}
			continue
		}
		ps = append(ps, got{p.Timestamp, string(p.Data), p.Length, p.Source, p.Index})
	}
	t.Fatal("no end")
	return nil, nil
}

func checkPackets(t *testing.T, gotPs []got, want []testPacket, source int) {
	t.Helper()
	if len(gotPs) != len(want) {
		t.Fatalf("got %d packets, want %d", len(gotPs), len(want))
	}
	for i, w := range want {
		g := gotPs[i]
		if g.ts != w.ts || g.data != string(w.data) || g.length != w.orig || g.source != source || g.index != int64(i) {
			t.Fatalf("packet %d: got ts %d len %d src %d idx %d data %q, want ts %d len %d src %d data %q",
				i, g.ts, g.length, g.source, g.index, g.data, w.ts, w.orig, source, w.data)
		}
	}
}

func TestOpenCompressed(t *testing.T) {
	want := genPackets(0, 300, 1_700_000_000_000_000_000, 1000)
	raw := pcapBytes(t, want)
	tests := []struct {
		name  string
		data  []byte
		comps string
	}{
		{"plain", raw, "none"},
		{"gzip", compressWith(t, Gzip, raw), "gzip"},
		{"zstd", compressWith(t, Zstd, raw), "zstd"},
		{"lz4", compressWith(t, LZ4, raw), "lz4"},
		{"xz", compressWith(t, XZ, raw), "xz"},
		{"gzip+zstd", compressWith(t, Gzip, compressWith(t, Zstd, raw)), "gzip+zstd"},
		{"xz+lz4", compressWith(t, XZ, compressWith(t, LZ4, raw)), "xz+lz4"},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The name never decides: give every file a misleading extension.
			path := writeFile(t, dir, tc.name+".txt.gz", tc.data)
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ps, errs := readAll(t, r)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			checkPackets(t, ps, want, 0)
			caps := r.Captures()
			if len(caps) != 1 || caps[0].Format != Pcap || caps[0].Version != "2.4" || caps[0].CompressionName() != tc.comps || caps[0].Name != path {
				t.Fatalf("captures %+v", caps[0])
			}
			read, total := r.Progress()
			if total != int64(len(tc.data)) || read != total {
				t.Fatalf("progress %d/%d, want %d/%d", read, total, len(tc.data), len(tc.data))
			}
		})
	}
}

func TestOpenBzip2(t *testing.T) {
	want := genPackets(0, 20, 1e18, 1e6)
	data, err := bzip2Fixture(t, pcapBytes(t, want))
	if err != nil {
		t.Skip(err)
	}
	r, err := NewReader(bytes.NewReader(data), "x.bz2")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ps, errs := readAll(t, r)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	checkPackets(t, ps, want, 0)
	if c := r.Captures()[0].CompressionName(); c != "bzip2" {
		t.Fatalf("compression %q", c)
	}
}

func TestOpenArchives(t *testing.T) {
	a := genPackets(0, 50, 1000, 10) // ts 1000..1490
	b := genPackets(1, 50, 1005, 10) // ts 1005..1495: interleaves with a
	pa, pb := pcapBytes(t, a), pcapBytes(t, b)
	members := []testMember{
		{"dir/a.pcap", pa},
		{"dir/README.txt", []byte("not a capture at all")},
		{"dir/b.pcap.gz", compressWith(t, Gzip, pb)},
	}
	interleaved := func(gs []got) error {
		if len(gs) != 100 {
			return fmt.Errorf("%d packets", len(gs))
		}
		for i, g := range gs {
			w := a[i/2]
			src := 0
			if i%2 == 1 {
				w, src = b[i/2], 1
			}
			if g.ts != w.ts || g.data != string(w.data) || g.source != src || g.index != int64(i) {
				return fmt.Errorf("packet %d: %+v", i, g)
			}
		}
		return nil
	}
	tests := []struct {
		name  string
		data  []byte
		check func([]got) error
		comps []string
	}{
		// zip members are independent: merged by timestamp.
		{"zip", zipBytes(t, members), interleaved, []string{"deflate", "deflate+gzip"}},
		{"zip.gz", compressWith(t, Gzip, zipBytes(t, members)), interleaved, []string{"gzip+deflate", "gzip+deflate+gzip"}},
		// an uncompressed tar file is read in place: members are merged.
		{"tar", tarBytes(t, members), interleaved, []string{"none", "gzip"}},
		// a compressed tar archive is copied to a temporary file, decompressed,
		// and read like a plain one: members are merged too.
		{"tar.gz", compressWith(t, Gzip, tarBytes(t, members)), interleaved, []string{"gzip", "gzip+gzip"}},
		{"tar.zst", compressWith(t, Zstd, tarBytes(t, members)), interleaved, []string{"zstd", "zstd+gzip"}},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, tc.name, tc.data)
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ps, errs := readAll(t, r)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if err := tc.check(ps); err != nil {
				t.Fatal(err)
			}
			caps := r.Captures()
			if len(caps) != 2 {
				t.Fatalf("%d captures", len(caps))
			}
			for i, c := range caps {
				wantName := path + "!" + members[2*i].name
				if c.Name != wantName || c.Source != i || c.CompressionName() != tc.comps[i] {
					t.Errorf("capture %d: %s %d %s, want %s %s", i, c.Name, c.Source, c.CompressionName(), wantName, tc.comps[i])
				}
			}
			sk := r.Skipped()
			if len(sk) != 1 || sk[0].Name != path+"!dir/README.txt" || !errors.Is(sk[0].Err, ErrNotCapture) {
				t.Fatalf("skipped %v", sk)
			}
			if read, total := r.Progress(); read < int64(len(tc.data))-1024 || total != int64(len(tc.data)) {
				t.Fatalf("progress %d/%d of %d", read, total, len(tc.data))
			}
		})
	}
}

func TestOpenMerge(t *testing.T) {
	dir := t.TempDir()
	// Three inputs with equal timestamps: ties keep input order. The third
	// is compressed and starts later.
	a := genPackets(0, 10, 100, 10)
	b := genPackets(1, 10, 100, 10)
	c := genPackets(2, 5, 125, 10)
	pa := writeFile(t, dir, "a", pcapBytes(t, a))
	pb := writeFile(t, dir, "b", compressWith(t, Zstd, pcapBytes(t, b)))
	pc := writeFile(t, dir, "c", compressWith(t, LZ4, pcapBytes(t, c)))
	r, err := Open(pc, pa, pb)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ps, errs := readAll(t, r)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(ps) != 25 {
		t.Fatalf("%d packets", len(ps))
	}
	for i := 1; i < len(ps); i++ {
		p, q := ps[i-1], ps[i]
		if q.ts < p.ts || q.ts == p.ts && q.source < p.source {
			t.Fatalf("order broken at %d: %+v then %+v", i, p, q)
		}
		if q.index != int64(i) {
			t.Fatalf("index %d at %d", q.index, i)
		}
	}
	// Sources are numbered in argument order: c=0, a=1, b=2.
	if ps[0].source != 1 || ps[1].source != 2 || ps[0].data != string(a[0].data) {
		t.Fatalf("first packets %+v %+v", ps[0], ps[1])
	}
	// ts 130 (a[3], b[3], c[0]... c is 125,135,...) check a tie with c absent.
	var seen [3]int
	for _, p := range ps {
		seen[p.source]++
	}
	if seen != [3]int{5, 10, 10} {
		t.Fatalf("per source %v", seen)
	}

	// Concat keeps argument order.
	r2, err := OpenOptions(Options{Concat: true}, pc, pa, pb)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	ps2, errs := readAll(t, r2)
	if len(errs) > 0 || len(ps2) != 25 {
		t.Fatal(len(ps2), errs)
	}
	for i, p := range ps2 {
		want := 0
		if i >= 5 {
			want = 1
		}
		if i >= 15 {
			want = 2
		}
		if p.source != want || p.index != int64(i) {
			t.Fatalf("concat packet %d: %+v", i, p)
		}
	}
}

// TestOpenMergeError: a broken input reports its error after its last good
// packet, and the others go on to their end.
func TestOpenMergeError(t *testing.T) {
	dir := t.TempDir()
	a := genPackets(0, 20, 100, 10)
	b := genPackets(1, 20, 105, 10)
	rawB := pcapBytes(t, b)
	pa := writeFile(t, dir, "a", pcapBytes(t, a))
	pb := writeFile(t, dir, "b", rawB[:len(rawB)/2])
	r, err := Open(pa, pb)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ps []got
	var errAt int = -1
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Name != pb || ie.Offset <= 0 || !errors.Is(err, pcapfile.ErrTruncated) {
				t.Fatalf("error %v", err)
			}
			if errAt >= 0 {
				t.Fatal("two errors")
			}
			errAt = len(ps)
			continue
		}
		ps = append(ps, got{p.Timestamp, string(p.Data), p.Length, p.Source, p.Index})
	}
	nb := 0
	lastB := -1
	for i, p := range ps {
		if p.source == 1 {
			nb++
			lastB = i
		}
	}
	if errAt < 0 || nb == 0 || nb >= 20 || errAt != lastB+1 {
		t.Fatalf("error at %d, %d packets of b, last at %d", errAt, nb, lastB)
	}
	if len(ps) != 20+nb {
		t.Fatalf("%d packets", len(ps))
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	raw := pcapBytes(t, genPackets(0, 100, 1e18, 1e3))
	gz := compressWith(t, Gzip, raw)
	zs := compressWith(t, Zstd, pcapBytes(t, genPackets(0, 5000, 1e18, 1e3)))
	tests := []struct {
		name     string
		data     []byte
		openErr  error  // want Open to fail with this
		contains string // in the error text
		minGood  int    // at least this many packets before the error
	}{
		{"empty", nil, ErrNotCapture, "empty", 0},
		{"text", []byte("hello, this is not a capture\n"), ErrNotCapture, "68656c6c6f2c20", 0},
		{"pcap-header-only", raw[:10], nil, "", 0},
		{"gzip-truncated", gz[:len(gz)*2/3], nil, "gzip: unexpected EOF", 1},
		{"zstd-truncated", zs[:len(zs)*2/3], nil, "zstd: unexpected EOF", 1},
		{"gzip-garbage", append(bytes.Clone(gz[:20]), bytes.Repeat([]byte{0xff}, 100)...), nil, "gzip", 0},
		{"pcap-truncated", raw[:len(raw)-7], nil, "truncated", 99},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, tc.name, tc.data)
			r, err := Open(path)
			if err != nil {
				var ie *InputError
				if !errors.As(err, &ie) || ie.Name != path {
					t.Fatalf("open error %v is not an InputError naming the file", err)
				}
				if tc.openErr != nil && !errors.Is(err, tc.openErr) {
					t.Fatalf("open error %v, want %v", err, tc.openErr)
				}
				t.Logf("open: %v", err)
				if !strings.Contains(err.Error(), tc.contains) {
					t.Fatalf("error %q does not contain %q", err, tc.contains)
				}
				return
			}
			defer r.Close()
			if tc.openErr != nil {
				t.Fatalf("opened, want %v", tc.openErr)
			}
			ps, errs := readAll(t, r)
			if len(errs) != 1 {
				t.Fatalf("%d errors: %v", len(errs), errs)
			}
			var ie *InputError
			if !errors.As(errs[0], &ie) || ie.Name != path || !strings.Contains(errs[0].Error(), tc.contains) {
				t.Fatalf("error %v", errs[0])
			}
			t.Logf("%d packets, then %v", len(ps), errs[0])
			if len(ps) < tc.minGood || len(ps) >= 100 && tc.name != "zstd-truncated" {
				t.Fatalf("%d packets before the error", len(ps))
			}
		})
	}
	if _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := Open(); err == nil {
		t.Fatal("no inputs accepted")
	}
}

func TestOpenStdin(t *testing.T) {
	want := genPackets(0, 40, 5e17, 7)
	path := writeFile(t, t.TempDir(), "in", compressWith(t, Zstd, pcapBytes(t, want)))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	if _, err := Open("-", "-"); err == nil {
		t.Fatal("stdin twice accepted")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	r, err := Open("-")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ps, errs := readAll(t, r)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	checkPackets(t, ps, want, 0)
	if c := r.Captures()[0]; c.Name != "-" || c.CompressionName() != "zstd" {
		t.Fatalf("capture %+v", c)
	}
}

// TestOpenTarBroken: an archive cut inside its second member gives every
// packet of the first member, then errors naming the archive or the member.
func TestOpenTarBroken(t *testing.T) {
	a := genPackets(0, 50, 1000, 10)
	b := genPackets(1, 50, 2000, 10)
	ar := tarBytes(t, []testMember{{"a.pcap", pcapBytes(t, a)}, {"b.pcap", pcapBytes(t, b)}})
	cut := ar[:len(ar)-1024-512-400] // end blocks, padding and part of b's data
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		open func() (*Reader, error)
	}{
		{"file", func() (*Reader, error) { return Open(writeFile(t, dir, "cut.tar", cut)) }},
		{"stream", func() (*Reader, error) { return NewReader(bytes.NewReader(cut), "cut.tar") }},
		{"gzip", func() (*Reader, error) { return Open(writeFile(t, dir, "cut.tgz", compressWith(t, Gzip, cut))) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.open()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ps, errs := readAll(t, r)
			na := 0
			for _, p := range ps {
				if p.source == 0 {
					na++
				}
			}
			if na != 50 || len(ps) >= 100 || len(errs) == 0 || len(errs) > 2 {
				t.Fatalf("%d packets (%d of a), errors %v", len(ps), na, errs)
			}
			for _, err := range errs {
				var ie *InputError
				if !errors.As(err, &ie) || !strings.Contains(ie.Name, "cut.t") {
					t.Fatalf("error %v", err)
				}
			}
			t.Logf("%d packets, %v", len(ps), errs)
		})
	}
}

// TestOpenArchiveOddities: archives without captures, or whose only capture is
// broken, give errors or nothing, never a panic.
func TestOpenArchiveOddities(t *testing.T) {
	raw := pcapBytes(t, genPackets(0, 10, 1e18, 1e3))
	gz := compressWith(t, Gzip, raw)
	dir := t.TempDir()
	tests := []struct {
		name    string
		data    []byte
		packets int
		errors  int
		skipped int
	}{
		{"zip-empty", zipBytes(t, nil), 0, 0, 0},
		{"zip-text-only", zipBytes(t, []testMember{{"a.txt", []byte("text")}}), 0, 0, 1},
		{"zip-broken-gzip", zipBytes(t, []testMember{{"a.pcap.gz", gz[:15]}}), 0, 1, 0},
		{"zip-cut-gzip", zipBytes(t, []testMember{{"a.pcap.gz", gz[:len(gz)-30]}}), 9, 1, 0},
		{"zip-nested", zipBytes(t, []testMember{{"in.zip", zipBytes(t, []testMember{{"a.pcap", raw}})}, {"b.pcap", raw}}), 10, 0, 1},
		{"tar-empty", tarBytes(t, nil), 0, 0, 0},
		{"tgz-text-only", compressWith(t, Gzip, tarBytes(t, []testMember{{"a.txt", []byte("text")}})), 0, 0, 1},
		{"tgz-broken-gzip", compressWith(t, Gzip, tarBytes(t, []testMember{{"a.pcap.gz", gz[:15]}, {"b.pcap", raw}})), 10, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, stream := range []bool{false, true} {
				var r *Reader
				var err error
				if stream {
					r, err = NewReader(bytes.NewReader(tc.data), tc.name)
				} else {
					r, err = Open(writeFile(t, dir, tc.name, tc.data))
				}
				if err != nil {
					t.Fatal(err)
				}
				ps, errs := readAll(t, r)
				r.Close()
				if len(ps) != tc.packets || len(errs) != tc.errors || len(r.Skipped()) != tc.skipped {
					t.Fatalf("stream %v: %d packets, errors %v, skipped %v", stream, len(ps), errs, r.Skipped())
				}
			}
		})
	}
}
