package main

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/reseq/reseq/pcapng"
)

// writtenPacket is what follow --write must keep of a packet.
type writtenPacket struct {
	ts                int64
	data              string
	comment           string
	ifName, ifDesc    string
	ifFilter, ifOS    string
	tsresol           uint8
	ifComments        string
	linkType, snaplen uint32
}

// readWritten reads every packet of a pcapng file with its interface's
// description, and the first section.
func readWritten(t *testing.T, path string) ([]writtenPacket, pcapng.Section) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapng.NewReaderBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	var out []writtenPacket
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		in := r.SectionInterfaces()[p.Interface]
		var comments []string
		for _, c := range pcapng.Comments(p.Options, r.Sections()[p.Section].ByteOrder) {
			comments = append(comments, string(c))
		}
		out = append(out, writtenPacket{p.Timestamp, string(p.Data), strings.Join(comments, "|"), in.Name, in.Desc, in.Filter, in.OS, in.TSResol,
			strings.Join(in.Comments, "|"), in.LinkType, in.SnapLen})
	}
	return out, r.Sections()[0]
}

// TestFollowWriteKeepsOptions: the packets follow --write copies keep their
// comments and their interfaces' names, descriptions, filters, resolution
// and snap length, and the file keeps the section's comments, hardware and
// OS; the other conversation's packets stay out.
func TestFollowWriteKeepsOptions(t *testing.T) {
	a := conversation{client: netip.MustParseAddrPort("10.0.0.1:40000"), server: netip.MustParseAddrPort("10.0.0.2:80"),
		c2s: []byte("GET / HTTP/1.0\r\n\r\n"), s2c: pattern(2500, 3), isnC: 1000, isnS: 9000}
	b := a
	b.client, b.t0 = netip.MustParseAddrPort("10.0.0.1:40001"), 1_700_000_000_000_500_000
	pkts := append(a.packets(), b.packets()...)
	slices.SortStableFunc(pkts, func(x, y tcpPkt) int { return int(x.ts - y.ts) })

	sec := pcapng.Section{Hardware: "test bench", OS: "Plan 9", UserAppl: "a test", Comments: []string{"section note"}}
	ifaces := []pcapng.Interface{
		{LinkType: 1, SnapLen: 65535, TSResol: 6, Name: "eth0", Desc: "client side", Filter: "tcp", OS: "Plan 9", Comments: []string{"tap A"}},
		{LinkType: 1, SnapLen: 9000, TSResol: 9, Name: "eth1", Desc: "server side"},
	}
	var buf bytes.Buffer
	w, err := pcapng.NewWriterSection(&buf, sec)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ifaces {
		if _, err := w.CopyInterface(in); err != nil {
			t.Fatal(err)
		}
	}
	var want []writtenPacket
	for i, p := range pkts {
		data, orig := p.frame()
		iface := 0
		if p.src.Port() == 80 {
			iface = 1 // the server's packets on the other interface
		}
		var comments [][]byte
		for j := range i % 3 { // none, one, two
			comments = append(comments, fmt.Appendf(nil, "packet %d of %s, note %d", i+1, p.src, j))
		}
		comment := string(bytes.Join(comments, []byte("|")))
		if err := w.WritePacketComments(iface, p.ts, data, orig, comments); err != nil {
			t.Fatal(err)
		}
		if p.src == a.client || p.dst == a.client {
			in := ifaces[iface]
			want = append(want, writtenPacket{p.ts, string(data), comment, in.Name, in.Desc, in.Filter, in.OS, in.TSResol,
				strings.Join(in.Comments, "|"), in.LinkType, in.SnapLen})
		}
	}
	dir := t.TempDir()
	capPath := filepath.Join(dir, "two.pcapng")
	if err := os.WriteFile(capPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "conn.pcapng")
	if code, _, e := runReseq("follow", "--write", out, capPath, "0"); code != exitOK {
		t.Fatalf("exit %d: %s", code, e)
	}
	got, gotSec := readWritten(t, out)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("written packets:\n%+v\nwant\n%+v", got, want)
	}
	if gotSec.Hardware != sec.Hardware || gotSec.OS != sec.OS || !reflect.DeepEqual(gotSec.Comments, sec.Comments) || gotSec.UserAppl != followAppl {
		t.Errorf("section %+v, want that of %+v written by %q", gotSec, sec, followAppl)
	}
}

// TestFollowWriteCorpusTshark: over corpus pcapng files with interface
// names and packet comments, tshark and capinfos show the file follow
// --write makes as they show that conversation in the original: the same
// frames, interface names and descriptions, comments, and section
// hardware, OS and comment.
func TestFollowWriteCorpusTshark(t *testing.T) {
	for _, tool := range []string{"tshark", "capinfos"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool, " not installed")
		}
	}
	tests := []struct {
		path   string
		stream int // tshark's tcp.stream, reseq's connection number
	}{
		{"wireshark-wiki/uploads/96afe21b136f715d5b96df4a646c57d9/pcapng-example.pcapng", 0},
		{"wireshark-wiki/uploads/96afe21b136f715d5b96df4a646c57d9/pcapng-example.pcapng", 1},
		{"gopacket/pcapgo/tests/epb.pcapng", 0},
	}
	fields := func(path, filter string) string {
		args := []string{"-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len",
			"-e", "frame.interface_name", "-e", "frame.interface_description", "-e", "frame.comment", "-e", "tcp.srcport", "-e", "tcp.dstport"}
		if filter != "" {
			args = append(args, "-Y", filter)
		}
		out, err := exec.Command("tshark", args...).Output()
		if err != nil {
			t.Fatalf("tshark %v: %v", args, err)
		}
		return string(out)
	}
	section := func(path string) string {
		out, err := exec.Command("capinfos", path).Output()
		if err != nil {
			t.Fatalf("capinfos %s: %v", path, err)
		}
		var keep []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "Capture hardware:") || strings.HasPrefix(l, "Capture oper-sys:") || strings.HasPrefix(l, "Capture comment:") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	for _, tc := range tests {
		capPath := filepath.Join("..", "..", "..", "shared", "corpus", tc.path)
		if _, err := os.Stat(capPath); err != nil {
			t.Skip("corpus not found: ", err)
		}
		out := filepath.Join(t.TempDir(), "conn.pcapng")
		if code, _, e := runReseq("follow", "--write", out, capPath, fmt.Sprint(tc.stream)); code != exitOK {
			t.Fatalf("%s %d: exit %d %s", tc.path, tc.stream, code, e)
		}
		got, want := fields(out, ""), fields(capPath, fmt.Sprintf("tcp.stream == %d", tc.stream))
		if got != want || want == "" {
			t.Errorf("%s %d: written frames\n%s\nwant\n%s", tc.path, tc.stream, got, want)
		}
		if got, want := section(out), section(capPath); got != want || want == "" {
			t.Errorf("%s %d: section\n%s\nwant\n%s", tc.path, tc.stream, got, want)
		}
	}
}
