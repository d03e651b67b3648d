package reseq

import (
	"io"
	"testing"
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
