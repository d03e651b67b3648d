package reseq

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// mapped reports whether r reads its only capture in place.
func mapped(r *Reader) bool {
	if r.one == nil {
		return false
	}
	switch fr := r.one.fr.(type) {
	case *pcapSource:
		return fr.mem != nil
	case *pcapngSource:
		return fr.mem != nil
	}
	return false
}

// readBoth reads path mapped and read and fails when the two readings
// differ in any packet, error (text, so offset too) or final Progress. It
// returns the mapped reader's digest and whether it read in place.
func readBoth(t *testing.T, path string) ([]packetDigest, bool) {
	t.Helper()
	var digs [2][]packetDigest
	var errs [2]string
	var prog [2][2]int64
	inPlace := false
	for i, opt := range []Options{{Mmap: true}, {}} {
		r, err := OpenOptions(opt, path)
		if err != nil {
			errs[i] = err.Error()
			continue
		}
		if i == 0 {
			inPlace = mapped(r)
		} else if mapped(r) {
			t.Fatalf("%s: reader without Mmap reads in place", path)
		}
		digs[i] = digestAll(t, r)
		prog[i][0], prog[i][1] = r.Progress()
		r.Close()
	}
	if errs[0] != errs[1] {
		t.Fatalf("%s: open error mapped %q, read %q", path, errs[0], errs[1])
	}
	if len(digs[0]) != len(digs[1]) {
		t.Fatalf("%s: %d packets mapped, %d read", path, len(digs[0]), len(digs[1]))
	}
	for k := range digs[0] {
		if digs[0][k] != digs[1][k] {
			t.Fatalf("%s: packet %d differs: mapped %+v, read %+v", path, k, digs[0][k], digs[1][k])
		}
	}
	if errs[0] == "" && prog[0] != prog[1] {
		t.Fatalf("%s: progress at the end: mapped %v, read %v", path, prog[0], prog[1])
	}
	return digs[0], inPlace
}

// TestOpenMmapCorpus reads every uncompressed capture and archive of the shared
// corpus and real captures both mapped and read, and compares.
func TestOpenMmapCorpus(t *testing.T) {
	subs := []string{"corpus"}
	if !testing.Short() {
		subs = append(subs, "real")
	}
	files, inPlace := 0, 0
	for _, sub := range subs {
		dir := sharedDir(t, sub)
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			head := make([]byte, sniffLen)
			n, _ := io.ReadFull(f, head)
			f.Close()
			switch k, _ := sniff(head[:n]); k {
			case kindPcap, kindPcapng, kindZip, kindTar:
			default:
				return nil
			}
			files++
			if _, ok := readBoth(t, path); ok {
				inPlace++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files == 0 || inPlace == 0 {
		t.Fatalf("%d captures, %d read in place", files, inPlace)
	}
	t.Logf("%d captures and archives, %d single captures read in place", files, inPlace)
}

// TestOpenMmapTruncated cuts generated captures and archives at many lengths:
// the mapped reading gives the packets, errors and offsets of the read one.
func TestOpenMmapTruncated(t *testing.T) {
	ps := genPackets(0, 40, 1_700_000_000_000_000_000, 1000)
	pcap, ng := pcapBytes(t, ps), pcapngBytes(t, ps)
	inputs := map[string][]byte{
		"pcap":   pcap,
		"pcapng": ng,
		"tar":    tarBytes(t, []testMember{{"a.pcap", pcap}, {"b.pcapng", ng}}),
		"zip":    zipBytes(t, []testMember{{"a.pcap", pcap}, {"b.pcapng", ng}, {"c.pcap", pcap}}),
	}
	dir := t.TempDir()
	for name, data := range inputs {
		cuts := []int{0, 1, 3, 4, 11, 12, 23, 24, 25, 39, 40, 41, len(data) - 1, len(data)}
		for c := 7; c < len(data); c += len(data)/37 + 1 {
			cuts = append(cuts, c)
		}
		full := 0
		for _, c := range cuts {
			if c < 0 || c > len(data) {
				continue
			}
			p := writeFile(t, dir, name, data[:c])
			dig, inPlace := readBoth(t, p)
			if c == len(data) {
				full = len(dig)
			}
			if (name == "pcap" || name == "pcapng") && c >= 64 && !inPlace {
				t.Fatalf("%s cut at %d: not read in place", name, c)
			}
		}
		if full == 0 {
			t.Fatalf("%s: no packets when whole", name)
		}
	}
}

// TestOpenMmapHugeTarMember: a tar member whose header claims the largest
// size (base-256) is cut short at the file's end, mapped or read: its end must
// not overflow.
func TestOpenMmapHugeTarMember(t *testing.T) {
	pcap := pcapBytes(t, genPackets(0, 10, 1_700_000_000_000_000_000, 1000))
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	h := &tar.Header{Name: "a.pcap", Size: math.MaxInt64, Mode: 0o644, Typeflag: tar.TypeReg, Format: tar.FormatGNU}
	if err := tw.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(pcap); err != nil {
		t.Fatal(err)
	}
	// No Close: the member's bytes end with the file.
	p := writeFile(t, t.TempDir(), "huge.tar", b.Bytes())
	if dig, _ := readBoth(t, p); len(dig) != 10 {
		t.Fatalf("%d packets, want the 10 there are", len(dig))
	}
}

// TestOpenMmapAllocs: reading a mapped capture allocates nothing per packet.
func TestOpenMmapAllocs(t *testing.T) {
	ps := genPackets(0, 3000, 1_700_000_000_000_000_000, 1000)
	dir := t.TempDir()
	for name, data := range map[string][]byte{"pcap": pcapBytes(t, ps), "pcapng": pcapngBytes(t, ps)} {
		r, err := OpenOptions(Options{Mmap: true}, writeFile(t, dir, name, data))
		if err != nil {
			t.Fatal(err)
		}
		if !mapped(r) {
			t.Fatalf("%s: not read in place", name)
		}
		n := 0
		allocs := testing.AllocsPerRun(2000, func() {
			if _, err := r.Next(); err == nil {
				n++
			}
		})
		r.Close()
		if allocs != 0 || n != 2001 {
			t.Fatalf("%s: %v allocations per packet over %d packets", name, allocs, n)
		}
	}
}

// TestOpenMmapProgress: Progress of a mapped capture grows while it is read
// and reaches the file size at the end.
func TestOpenMmapProgress(t *testing.T) {
	ps := genPackets(0, 20000, 1_700_000_000_000_000_000, 1000)
	data := pcapBytes(t, ps)
	if len(data) < 3*progressStep {
		t.Fatalf("capture of %d bytes is too small", len(data))
	}
	r, err := OpenOptions(Options{Mmap: true}, writeFile(t, t.TempDir(), "p.pcap", data))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !mapped(r) {
		t.Fatal("not read in place")
	}
	var last int64
	steps := 0
	for {
		_, err := r.Next()
		read, total := r.Progress()
		if total != int64(len(data)) || read < last || read > total {
			t.Fatalf("progress %d of %d after %d", read, total, last)
		}
		if read > last && read < total {
			steps++
		}
		last = read
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if last != int64(len(data)) || steps < 2 {
		t.Fatalf("progress ends at %d of %d after %d steps", last, len(data), steps)
	}
}

// TestOpenMmapMergeDormant merges many mapped files (closed and mapped again in
// turn) and compares with reading them.
func TestOpenMmapMergeDormant(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := range 6 {
		ps := genPackets(i, 30, int64(1000*i), 7)
		data := pcapBytes(t, ps)
		if i%2 == 1 {
			data = pcapngBytes(t, ps)
		}
		paths = append(paths, writeFile(t, dir, "c"+string(rune('a'+i)), data))
	}
	var all [2][]got
	for i, opt := range []Options{{Mmap: true}, {}} {
		r, err := OpenOptions(opt, paths...)
		if err != nil {
			t.Fatal(err)
		}
		gs, errs := readAll(t, r)
		r.Close()
		if len(errs) > 0 || len(gs) != 180 {
			t.Fatalf("%d packets, errors %v", len(gs), errs)
		}
		all[i] = gs
	}
	for k := range all[0] {
		if all[0][k] != all[1][k] {
			t.Fatalf("packet %d: mapped %+v, read %+v", k, all[0][k], all[1][k])
		}
	}
}
