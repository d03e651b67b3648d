package reseq

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/reseq/reseq/pcapfile"
)

// TestNextAllocs: reading allocates nothing per packet, with one input and
// with a merge of several.
func TestNextAllocs(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := 0; i < 3; i++ {
		paths = append(paths, writeFile(t, dir, string(rune('a'+i)), pcapBytes(t, genPackets(i, 3000, 1000+int64(i), 3))))
	}
	for _, tc := range []struct {
		name  string
		paths []string
		opt   Options
	}{
		{"single", paths[:1], Options{}},
		{"merge", paths, Options{}},
		{"concat", paths, Options{Concat: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := OpenOptions(tc.opt, tc.paths...)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for i := 0; i < 10; i++ { // warm up: buffers reach their size
				if _, err := r.Next(); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(2000, func() {
				if _, err := r.Next(); err != nil && err != io.EOF {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per packet", allocs)
			}
		})
	}
}

// openSources counts the sources holding an open file.
func openSources(r *Reader) int {
	n := 0
	for _, s := range r.m.sources {
		if len(s.closers) > 0 {
			n++
		}
	}
	return n
}

// TestMergeRotatedSet: a rotated set of many files merges correctly while only
// the files whose time has come are open; overlapping files are all read.
func TestMergeRotatedSet(t *testing.T) {
	dir := t.TempDir()
	const files, per = 120, 20
	var paths []string
	for i := 0; i < files; i++ {
		// File i covers [i*1000, i*1000+950]; every tenth file overlaps the
		// next one.
		start := int64(i) * 1000
		if i%10 == 0 {
			start += 500
		}
		data := pcapBytes(t, genPackets(i, per, start, 50))
		if i%5 == 0 {
			data = compressWith(t, Zstd, data)
		}
		paths = append(paths, writeFile(t, dir, fmt.Sprintf("rot%03d.pcap", i), data))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n := openSources(r); n != 0 {
		t.Fatalf("%d files open before the first packet", n)
	}
	maxOpen := 0
	var last int64 = -1
	count := 0
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Timestamp < last {
			t.Fatalf("packet %d at %d after %d", count, p.Timestamp, last)
		}
		if want := fmt.Sprintf("src%d-pkt", p.Source); !strings.HasPrefix(string(p.Data), want) {
			t.Fatalf("packet %d of source %d: %q", count, p.Source, p.Data)
		}
		last = p.Timestamp
		count++
		maxOpen = max(maxOpen, openSources(r))
	}
	if count != files*per {
		t.Fatalf("%d packets, want %d", count, files*per)
	}
	if maxOpen > 3 {
		t.Fatalf("%d files open at once", maxOpen)
	}
	if n := openSources(r); n != 0 {
		t.Fatalf("%d files still open at the end", n)
	}
	// The readers (each with a buffer of at least 64 KiB) are not kept.
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 2<<20 {
		t.Fatalf("%d bytes still held after reading %d files", grown, files)
	}
	if read, total := r.Progress(); read != total {
		t.Fatalf("progress %d of %d", read, total)
	}
}

// TestMergeVanishedFile: a file removed before its turn is an error naming it;
// the others are read.
func TestMergeVanishedFile(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a", pcapBytes(t, genPackets(0, 5, 0, 10)))
	b := writeFile(t, dir, "b", pcapBytes(t, genPackets(1, 5, 1000, 10)))
	r, err := Open(a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	ps, errs := readAll(t, r)
	var ie *InputError
	if len(ps) != 5 || len(errs) != 1 || !errors.As(errs[0], &ie) || ie.Name != b || !errors.Is(errs[0], os.ErrNotExist) {
		t.Fatalf("%d packets, errors %v", len(ps), errs)
	}
}

// TestMergeArchiveMembers: members of zip and in-place tar archives take part
// in the merge like files, and only those whose time has come are open.
func TestMergeArchiveMembers(t *testing.T) {
	dir := t.TempDir()
	var ms []testMember
	for i := 0; i < 30; i++ {
		ms = append(ms, testMember{fmt.Sprintf("m%02d.pcap", i), pcapBytes(t, genPackets(i, 10, int64(i)*1000, 10))})
	}
	single := writeFile(t, dir, "single.zip", zipBytes(t, ms[:1]))
	plain := writeFile(t, dir, "plain.pcap", pcapBytes(t, genPackets(1, 10, 5, 10)))
	zipPath := writeFile(t, dir, "a.zip", zipBytes(t, ms))
	for _, tc := range []struct {
		name   string
		paths  []string
		n      int
		concat bool
	}{
		{"zip", []string{zipPath}, 300, false},
		{"tar", []string{writeFile(t, dir, "a.tar", tarBytes(t, ms))}, 300, false},
		{"single-member zip and a file", []string{single, plain}, 20, false},
		{"concat", []string{plain, zipPath, single}, 320, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := OpenOptions(Options{Concat: tc.concat}, tc.paths...)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			maxOpen, n := 0, 0
			var last int64 = -1
			for {
				p, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if p.Timestamp < last && !tc.concat {
					t.Fatalf("packet %d out of order", n)
				}
				last = p.Timestamp
				n++
				maxOpen = max(maxOpen, openSources(r))
			}
			if n != tc.n || maxOpen > 3 || tc.concat && maxOpen > 1 {
				t.Fatalf("%d packets, %d sources open at once", n, maxOpen)
			}
		})
	}
}

// BenchmarkNext measures the opener's cost per packet over a file of small
// packets (page cache), for one input and for a merge of three.
func BenchmarkNext(b *testing.B) {
	dir := b.TempDir()
	var paths []string
	for i := 0; i < 3; i++ {
		paths = append(paths, writeFile(b, dir, fmt.Sprint(i), pcapBytes(b, genPackets(i, 100000, int64(i), 3))))
	}
	// The format reader alone, for the opener's own overhead.
	b.Run("pcapfile", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for i := 0; i < b.N; i++ {
			f, err := os.Open(paths[0])
			if err != nil {
				b.Fatal(err)
			}
			r, err := pcapfile.NewReader(f)
			if err != nil {
				b.Fatal(err)
			}
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			f.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/pkt")
	})
	for _, tc := range []struct {
		name  string
		paths []string
	}{{"single", paths[:1]}, {"merge3", paths}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for i := 0; i < b.N; i++ {
				r, err := Open(tc.paths...)
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				r.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/pkt")
		})
	}
}
