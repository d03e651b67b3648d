package reseq

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/reseq/reseq/pcapng"
)

// pcapngBytes writes ps as pcapng: interface 0 Ethernet, interface 1 raw IP;
// packet i goes to interface i%2.
func pcapngBytes(t testing.TB, ps []testPacket) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapng.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddInterface(1, 0, 9); err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddInterface(101, 65535, 9); err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		if err := w.WritePacket(i%2, p.ts, p.data, p.orig); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestOpenPcapng(t *testing.T) {
	dir := t.TempDir()
	a := genPackets(0, 30, 1000, 10)
	b := genPackets(1, 30, 1003, 10)
	ng := writeFile(t, dir, "a", compressWith(t, XZ, pcapngBytes(t, a)))
	pc := writeFile(t, dir, "b", pcapBytes(t, b))
	r, err := Open(ng, pc)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	caps := r.Captures()
	if len(caps) != 2 || caps[0].Format != Pcapng || caps[0].Version != "1.0" || caps[0].CompressionName() != "xz" ||
		caps[1].Format != Pcap {
		t.Fatalf("captures %+v %+v", caps[0], caps[1])
	}
	var n [2]int
	var last int64
	for i := 0; ; i++ {
		p, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		if p.Timestamp < last || p.Index != int64(i) {
			t.Fatalf("packet %d out of order: %+v", i, p)
		}
		last = p.Timestamp
		k := n[p.Source]
		n[p.Source]++
		var want testPacket
		wantLT, wantIf := uint32(1), 0
		if p.Source == 0 {
			want = a[k]
			if k%2 == 1 {
				wantLT, wantIf = 101, 1
			}
		} else {
			want = b[k]
		}
		if p.Timestamp != want.ts || string(p.Data) != string(want.data) || p.Length != want.orig || p.LinkType != wantLT || p.Interface != wantIf {
			t.Fatalf("packet %d: %+v, want %+v link %d if %d", i, p, want, wantLT, wantIf)
		}
	}
	if n != [2]int{30, 30} {
		t.Fatalf("counts %v", n)
	}
	// Read to the end, the format readers are let go; their details stay.
	if caps[0].Pcapng != nil || caps[1].Pcap != nil {
		t.Fatalf("format readers kept: %v %v", caps[0].Pcapng, caps[1].Pcap)
	}
	if c := caps[1]; c.LinkType != 1 || c.Snaplen != 65535 || !c.Nanosecond {
		t.Fatalf("pcap details %+v", c)
	}
	if len(caps[0].Sections) != 1 || caps[0].Sections[0].Major != 1 {
		t.Fatalf("sections %+v", caps[0].Sections)
	}
	if got := caps[0].Interfaces; len(got) != 2 || got[0].Packets != 15 || got[1].Packets != 15 || got[1].LinkType != 101 {
		t.Fatalf("interfaces %+v", got)
	}
}

func TestOpenPcapngTruncated(t *testing.T) {
	raw := pcapngBytes(t, genPackets(0, 50, 1e18, 1e3))
	path := writeFile(t, t.TempDir(), "cut.pcapng", compressWith(t, LZ4, raw[:len(raw)-5]))
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ps, errs := readAll(t, r)
	var ie *InputError
	if len(ps) != 49 || len(errs) != 1 || !errors.As(errs[0], &ie) || ie.Name != path || ie.Offset <= 0 ||
		!errors.Is(errs[0], pcapng.ErrTruncated) {
		t.Fatalf("%d packets, errors %v", len(ps), errs)
	}
	if filepath.Base(ie.Name) != "cut.pcapng" {
		t.Fatal(ie.Name)
	}
}

// Two sections in one file: each packet names its section, so that interface
// indexes (which restart in every section) stay unambiguous.
func TestOpenPcapngSections(t *testing.T) {
	a, b := genPackets(0, 6, 1000, 10), genPackets(0, 4, 2000, 10)
	data := append(pcapngBytes(t, a), pcapngBytes(t, b)...)
	for _, merged := range []bool{false, true} {
		checkSections(t, data, merged)
	}
}

func checkSections(t *testing.T, data []byte, merged bool) {
	dir := t.TempDir()
	names := []string{writeFile(t, dir, "two", data)}
	if merged {
		names = append(names, writeFile(t, dir, "empty", pcapBytes(t, nil)))
	}
	r, err := Open(names...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var sections []int
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sections = append(sections, p.Section)
	}
	want := []int{0, 0, 0, 0, 0, 0, 1, 1, 1, 1}
	if len(sections) != len(want) {
		t.Fatalf("sections %v, want %v", sections, want)
	}
	for i := range want {
		if sections[i] != want[i] {
			t.Fatalf("merged %v: sections %v, want %v", merged, sections, want)
		}
	}
}
