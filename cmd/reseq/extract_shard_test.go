package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/reseq/reseq/internal/wrapcap"
)

// shardTree returns every file under dir with its bytes.
func shardTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sameTree(t *testing.T, label string, want, got map[string][]byte) {
	t.Helper()
	for n, w := range want {
		g, ok := got[n]
		if !ok {
			t.Errorf("%s: %s missing", label, n)
		} else if !bytes.Equal(g, w) {
			t.Errorf("%s: %s differs (%d bytes, want %d)", label, n, len(g), len(w))
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			t.Errorf("%s: %s extra", label, n)
		}
	}
}

// Every route to more than one assembler writes the directory of one run,
// byte for byte: --workers N, --shard i/N and merge, split -n N, extract of
// each shard file and merge; over every real capture alone, all of them
// merged, and fragmented, tunnelled and mirrored variants.
func TestExtractShardRoutes(t *testing.T) {
	root := realRoot(t)
	var inputs [][]string
	var all []string
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join(root, pat))
		for _, f := range m {
			inputs = append(inputs, []string{f})
			all = append(all, f)
		}
	}
	if len(all) == 0 {
		t.Skip("no real captures")
	}
	slices.Sort(all)
	inputs = append(inputs, all)
	tmp := t.TempDir()
	if b, err := os.ReadFile(filepath.Join(root, "lossy_v4.pcap")); err == nil {
		for i, spec := range []string{"frag-shuffle:576:3", "vxlan:5001,fragdrop:0.03:5", "mirror-erspan2:0.05:9"} {
			w, _, err := wrapcap.WrapBytes(b, spec)
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(tmp, fmt.Sprintf("w%d.pcap", i))
			if err := os.WriteFile(f, w, 0o644); err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, []string{f})
		}
	}
	for k, in := range inputs {
		label := filepath.Base(in[0])
		if len(in) > 1 {
			label = "merged"
		}
		t.Run(label, func(t *testing.T) {
			base := filepath.Join(tmp, fmt.Sprint(k))
			extract := func(out string, args ...string) {
				t.Helper()
				a := append([]string{"extract", "-o", out, "--quiet", "--capture-point", "outer,tunnel"}, args...)
				if code, _, e := runReseq(append(a, in...)...); code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, e)
				}
			}
			one := filepath.Join(base, "one")
			extract(one, "--workers", "1")
			want := shardTree(t, one)
			for _, n := range []int{2, 3} {
				d := filepath.Join(base, fmt.Sprintf("w%d", n))
				extract(d, "--workers", fmt.Sprint(n))
				sameTree(t, fmt.Sprintf("--workers %d", n), want, shardTree(t, d))
			}
			const n = 3
			var dirs []string
			for i := range n {
				d := filepath.Join(base, fmt.Sprintf("s%d", i))
				extract(d, "--workers", "2", "--shard", fmt.Sprintf("%d/%d", i, n))
				dirs = append(dirs, d)
			}
			m := filepath.Join(base, "merged-shard")
			if code, _, e := runReseq(append([]string{"merge", "-o", m}, dirs...)...); code != 0 {
				t.Fatalf("merge: exit %d: %s", code, e)
			}
			sameTree(t, "--shard and merge", want, shardTree(t, m))

			sp := filepath.Join(base, "split")
			if code, _, e := runReseq(append([]string{"split", "-n", fmt.Sprint(n), "-o", sp, "--capture-point", "outer,tunnel"}, in...)...); code != 0 {
				t.Fatalf("split: exit %d: %s", code, e)
			}
			dirs = dirs[:0]
			for i := range n {
				d := filepath.Join(base, fmt.Sprintf("x%d", i))
				a := []string{"extract", "-o", d, "--quiet", "--capture-point", "outer,tunnel", filepath.Join(sp, shardFile(i, n))}
				if code, _, e := runReseq(a...); code != 0 {
					t.Fatalf("extract shard file: exit %d: %s", code, e)
				}
				dirs = append(dirs, d)
			}
			m = filepath.Join(base, "merged-split")
			if code, _, e := runReseq(append([]string{"merge", "-o", m}, dirs...)...); code != 0 {
				t.Fatalf("merge: exit %d: %s", code, e)
			}
			sameTree(t, "split and merge", want, shardTree(t, m))
		})
	}
}
