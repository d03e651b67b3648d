package reseq

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
)

// rotatedPair returns a tar of two rotated captures whose times interleave
// (with equal timestamps in both), and the packets a merge must give.
func rotatedPair(t *testing.T) ([]byte, []got) {
	a := genPackets(0, 60, 1000, 10) // 1000, 1010, ... 1590
	b := genPackets(1, 60, 1300, 5)  // 1300, 1305, ... 1595: equal to a's every other packet
	var want []got
	for src, ps := range [][]testPacket{a, b} {
		for _, p := range ps {
			want = append(want, got{ts: p.ts, data: string(p.data), length: p.orig, source: src})
		}
	}
	// Stable: equal timestamps keep the source order.
	slices.SortStableFunc(want, func(x, y got) int {
		switch {
		case x.ts < y.ts:
			return -1
		case x.ts > y.ts:
			return 1
		}
		return 0
	})
	for i := range want {
		want[i].index = int64(i)
	}
	ar := tarBytes(t, []testMember{{"cap.pcap1", pcapBytes(t, a)}, {"cap.pcap0", compressWith(t, Gzip, pcapBytes(t, b))}})
	return ar, want
}

// TestTarPlainCompressedPiped: the members of a tar archive are merged by
// time the same way whether the archive is a plain file, compressed, or read
// from a pipe (standard input or NewReader), for the same packet sequence:
// timestamps, data, and the source order for equal timestamps.
func TestTarPlainCompressedPiped(t *testing.T) {
	ar, want := rotatedPair(t)
	dir := t.TempDir()
	gz := compressWith(t, Gzip, ar)
	zst := compressWith(t, Zstd, ar)
	// pipe starts a goroutine writing data into a pipe and returns its read end.
	pipe := func(t *testing.T, data []byte) *os.File {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			pw.Write(data)
			pw.Close()
		}()
		t.Cleanup(func() { pr.Close() })
		return pr
	}
	stdin := func(t *testing.T, data []byte, opt Options) (*Reader, error) {
		old := os.Stdin
		os.Stdin = pipe(t, data)
		defer func() { os.Stdin = old }()
		return OpenOptions(opt, "-")
	}
	tests := []struct {
		name  string
		open  func(t *testing.T) (*Reader, error)
		comps []string
	}{
		{"tar", func(t *testing.T) (*Reader, error) { return Open(writeFile(t, dir, "a.tar", ar)) }, []string{"none", "gzip"}},
		{"tar.gz", func(t *testing.T) (*Reader, error) { return Open(writeFile(t, dir, "a.tar.gz", gz)) }, []string{"gzip", "gzip+gzip"}},
		{"tar.zst", func(t *testing.T) (*Reader, error) { return Open(writeFile(t, dir, "a.tar.zst", zst)) }, []string{"zstd", "zstd+gzip"}},
		{"tar.zst-mmap", func(t *testing.T) (*Reader, error) {
			return OpenOptions(Options{Mmap: true}, writeFile(t, dir, "b.tar.zst", zst))
		}, []string{"zstd", "zstd+gzip"}},
		{"stdin-tar", func(t *testing.T) (*Reader, error) { return stdin(t, ar, Options{}) }, []string{"none", "gzip"}},
		{"stdin-tar.zst", func(t *testing.T) (*Reader, error) { return stdin(t, zst, Options{}) }, []string{"zstd", "zstd+gzip"}},
		{"stdin-tar-tempdir", func(t *testing.T) (*Reader, error) { return stdin(t, ar, Options{TempDir: t.TempDir()}) }, []string{"none", "gzip"}},
		{"newreader-tar.gz", func(t *testing.T) (*Reader, error) { return NewReader(pipe(t, gz), "x.tgz") }, []string{"gzip", "gzip+gzip"}},
		{"newreader-tar", func(t *testing.T) (*Reader, error) {
			return NewReader(io.MultiReader(bytes.NewReader(ar)), "x.tar")
		}, []string{"none", "gzip"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.open(t)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ps, errs := readAll(t, r)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if len(ps) != len(want) {
				t.Fatalf("%d packets, want %d", len(ps), len(want))
			}
			for i := range ps {
				if ps[i] != want[i] {
					t.Fatalf("packet %d: %+v, want %+v", i, ps[i], want[i])
				}
			}
			caps := r.Captures()
			if len(caps) != 2 {
				t.Fatalf("%d captures", len(caps))
			}
			for i, c := range caps {
				if !strings.HasSuffix(c.Name, "!cap.pcap"+string(rune('1'-i))) || c.CompressionName() != tc.comps[i] {
					t.Errorf("capture %d: %s %s, want %s", i, c.Name, c.CompressionName(), tc.comps[i])
				}
			}
		})
	}
}

// TestTarSpillBounds: Options.MaxSpill bounds the temporary copy of a
// compressed tar; an unusable TempDir is an InputError saying what it was for;
// Concat still reads the members in archive order; and the temporary copy is
// gone once the Reader is closed.
func TestTarSpillBounds(t *testing.T) {
	ar, _ := rotatedPair(t)
	path := writeFile(t, t.TempDir(), "a.tar.gz", compressWith(t, Gzip, ar))
	var ie *InputError
	if _, err := OpenOptions(Options{MaxSpill: int64(len(ar) / 2)}, path); !errors.As(err, &ie) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("MaxSpill: %v", err)
	}
	if _, err := OpenOptions(Options{TempDir: "/nonexistent/dir"}, path); !errors.As(err, &ie) || !strings.Contains(err.Error(), "temporary") {
		t.Fatalf("TempDir: %v", err)
	}
	tmp := t.TempDir()
	r, err := OpenOptions(Options{TempDir: tmp, Concat: true}, path)
	if err != nil {
		t.Fatal(err)
	}
	ps, errs := readAll(t, r)
	r.Close()
	if len(errs) > 0 || len(ps) != 120 || ps[0].source != 0 || ps[60].source != 1 {
		t.Fatalf("concat: %d packets, %v", len(ps), errs)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("left in TempDir: %v", left)
	}
}
