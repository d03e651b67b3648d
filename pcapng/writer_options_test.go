package pcapng

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestWriterOptionsRoundTrip writes sections, interfaces and packets with
// their options and reads them back: what the Writer keeps is what a Reader
// gives.
func TestWriterOptionsRoundTrip(t *testing.T) {
	sec := Section{Hardware: "x86_64", OS: "Linux 6.1", UserAppl: "reseq test", Comments: []string{"first", "second, longer than four bytes"}}
	ifaces := []Interface{
		{LinkType: 1, SnapLen: 262144, Name: "eth0", Desc: "uplink", Filter: "tcp port 80", OS: "Linux", Hardware: "NIC", Comments: []string{"if comment"}, TSResol: 9, FCSLength: 4},
		{LinkType: 101, TSResol: 6},                    // no options at all
		{LinkType: 113, TSResol: 0x80 | 20, Name: "x"}, // a power-of-two resolution
		{LinkType: 1, TSResol: 3, Filter: "\x01\x02", FilterType: 1},
	}
	type pkt struct {
		iface    int
		ts       int64
		data     string
		orig     int
		comments []string
	}
	pkts := []pkt{
		{0, 1_700_000_000_123_456_789, "abc", 60, []string{"a comment"}},
		{1, 1_700_000_001_000_001_000, "defgh", 5, nil},
		{2, 1_700_000_002_000_000_000, "", 0, []string{"empty packet", "and a second comment"}},
		{3, 1_700_000_003_007_000_000, "ij", 2, []string{strings.Repeat("c", 1000), "x", "yz"}},
	}
	var buf bytes.Buffer
	w, err := NewWriterSection(&buf, sec)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range ifaces {
		if id, err := w.CopyInterface(in); err != nil || id != i {
			t.Fatalf("CopyInterface(%d) = %d, %v", i, id, err)
		}
	}
	for _, p := range pkts {
		var cs [][]byte
		for _, c := range p.comments {
			cs = append(cs, []byte(c))
		}
		if err := w.WritePacketComments(p.iface, p.ts, []byte(p.data), p.orig, cs); err != nil {
			t.Fatal(err)
		}
	}
	r, err := NewReaderBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range pkts {
		p, err := r.Next()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		var comments []string
		for _, c := range Comments(p.Options, r.Sections()[0].ByteOrder) {
			comments = append(comments, string(c))
		}
		first := ""
		if len(want.comments) > 0 {
			first = want.comments[0]
		}
		if p.Interface != want.iface || p.Timestamp != want.ts || string(p.Data) != want.data || p.Length != want.orig ||
			!reflect.DeepEqual(comments, want.comments) || string(p.Comment) != first {
			t.Errorf("packet %d = iface %d ts %d %q len %d comments %q, want %+v", i, p.Interface, p.Timestamp, p.Data, p.Length, comments, want)
		}
	}
	if _, err := r.Next(); err == nil {
		t.Fatal("a packet more than written")
	}
	got := r.Sections()[0]
	if got.Hardware != sec.Hardware || got.OS != sec.OS || got.UserAppl != sec.UserAppl || !reflect.DeepEqual(got.Comments, sec.Comments) {
		t.Errorf("section = %+v, want %+v", got, sec)
	}
	gi := r.Interfaces()
	if len(gi) != len(ifaces) {
		t.Fatalf("%d interfaces read, %d written", len(gi), len(ifaces))
	}
	for i, want := range ifaces {
		g := gi[i]
		if want.FCSLength == 0 {
			want.FCSLength = -1 // not written, so absent
		}
		if g.LinkType != want.LinkType || g.SnapLen != want.SnapLen || g.Name != want.Name || g.Desc != want.Desc ||
			g.Filter != want.Filter || g.FilterType != want.FilterType || g.OS != want.OS || g.Hardware != want.Hardware ||
			!reflect.DeepEqual(g.Comments, want.Comments) || g.TSResol != want.TSResol || g.FCSLength != want.FCSLength {
			t.Errorf("interface %d = %+v, want %+v", i, g, want)
		}
	}
}

// TestWriterOptionErrors: what an option cannot hold is an ErrWrite error,
// and nothing of the refused block is written.
func TestWriterOptionErrors(t *testing.T) {
	long := strings.Repeat("x", 0x10000)
	if _, err := NewWriterSection(&bytes.Buffer{}, Section{OS: long}); !errors.Is(err, ErrWrite) {
		t.Errorf("section option of 65536 bytes: %v", err)
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	n := buf.Len()
	tests := []struct {
		name string
		in   Interface
	}{
		{"long name", Interface{LinkType: 1, TSResol: 6, Name: long}},
		{"link type beyond 16 bits", Interface{LinkType: 0x10000, TSResol: 6}},
	}
	for _, tc := range tests {
		if _, err := w.CopyInterface(tc.in); !errors.Is(err, ErrWrite) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := w.AddInterface(1, 0, 9); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacketComments(0, 0, nil, 0, [][]byte{[]byte("short"), []byte(long)}); !errors.Is(err, ErrWrite) {
		t.Errorf("comment of 65536 bytes: %v", err)
	}
	r, err := NewReaderBytes(buf.Bytes()[:])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err == nil {
		t.Error("a packet was written")
	}
	if got := len(r.Interfaces()); got != 1 || buf.Len() <= n {
		t.Errorf("%d interfaces written, want the one added", got)
	}
}

// TestComments reads the comments of options areas, in either byte order,
// and stops at an option that runs past the area.
func TestComments(t *testing.T) {
	tests := []struct {
		name string
		o    order
		opts []byte
		want []string
	}{
		{"none", le, nil, nil},
		{"two among others", le, opts(le, opt(le, 1, []byte("one")), opt(le, 2, u32(le, 7)), opt(le, 1, []byte("second"))), []string{"one", "second"}},
		{"big-endian", be, opts(be, opt(be, 1, []byte("abcd"))), []string{"abcd"}},
		{"empty comment", le, opts(le, opt(le, 1, nil)), []string{""}},
		{"cut", le, opt(le, 1, []byte("whole"))[:7], nil},
		{"after endofopt", le, append(opts(le), opt(le, 1, []byte("x"))...), nil},
	}
	for _, tc := range tests {
		var got []string
		for _, c := range Comments(tc.opts, tc.o) {
			got = append(got, string(c))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
