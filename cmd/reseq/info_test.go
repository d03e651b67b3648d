package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseq/reseq/pcapfile"
	"github.com/reseq/reseq/pcapng"
)

// infoPcap writes a small nanosecond pcap (link type 1, snaplen 128): three
// packets, the second cut by the snaplen.
func infoPcap(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapfile.NewWriter(&b, 1, 128, true)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range []struct {
		ts   int64
		n    int
		orig int
	}{
		{1_700_000_000_123_456_789, 60, 60},
		{1_700_000_001_000_000_000, 128, 1514},
		{1_700_000_002_500_000_001, 100, 100},
	} {
		if err := w.WritePacket(p.ts, bytes.Repeat([]byte{byte(i)}, p.n), p.orig); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	z.Write(data)
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = newEnv(&o, &e).run(args)
	return code, o.String(), e.String()
}

func TestInfoJSON(t *testing.T) {
	dir := t.TempDir()
	raw := infoPcap(t)
	plain := filepath.Join(dir, "a.pcap")
	gz := filepath.Join(dir, "b.bin")
	cut := filepath.Join(dir, "cut.pcap")
	for p, d := range map[string][]byte{plain: raw, gz: gzipped(t, raw), cut: raw[:len(raw)-10]} {
		if err := os.WriteFile(p, d, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type rec struct {
		File          string   `json:"file"`
		Format        string   `json:"format"`
		Version       string   `json:"version"`
		Compression   string   `json:"compression"`
		Packets       int64    `json:"packets"`
		BytesCaptured int64    `json:"bytes_captured"`
		BytesWire     int64    `json:"bytes_wire"`
		Truncated     int64    `json:"truncated"`
		LinkTypes     []uint32 `json:"link_types"`
		Snaplen       uint32   `json:"snaplen"`
		First         *string  `json:"first"`
		Last          *string  `json:"last"`
		DurationNS    int64    `json:"duration_ns"`
		Error         string   `json:"error"`
	}
	code, out, errOut := runCmd("info", "--json", plain, gz)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), out)
	}
	for i, want := range []struct{ file, comp string }{{plain, "none"}, {gz, "gzip"}} {
		var r rec
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
			t.Fatal(err)
		}
		if r.File != want.file || r.Compression != want.comp || r.Format != "pcap" || r.Version != "2.4" ||
			r.Packets != 3 || r.BytesCaptured != 288 || r.BytesWire != 1674 || r.Truncated != 1 ||
			len(r.LinkTypes) != 1 || r.LinkTypes[0] != 1 || r.Snaplen != 128 ||
			r.First == nil || *r.First != "2023-11-14T22:13:20.123456789Z" ||
			r.Last == nil || *r.Last != "2023-11-14T22:13:22.500000001Z" || r.DurationNS != 2_376_543_212 {
			t.Errorf("record %d: %+v", i, r)
		}
	}

	// A truncated capture: what was read is printed, the error goes to
	// stderr, exit 1.
	code, out, errOut = runCmd("info", "--json", cut)
	if code != 1 || !strings.Contains(errOut, cut) || !strings.Contains(errOut, "truncated") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var r rec
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err, out)
	}
	if r.Packets != 2 || r.Error == "" {
		t.Fatalf("truncated record %+v", r)
	}
}

func TestInfoText(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.pcap")
	if err := os.WriteFile(p, infoPcap(t), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCmd("info", p)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"File format:            pcap 2.4", "Packets:                3", "Truncated packets:      1", "EN10MB (1)", "Duration:               2.376543212s"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func TestInfoExitCodes(t *testing.T) {
	dir := t.TempDir()
	notCap := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notCap, []byte("just some text"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"info"}, 2, "reseq info: want CAPTURE... (see 'reseq info -h')"},
		{[]string{"info", "--bogus", "x"}, 2, "reseq info: flag provided but not defined: -bogus"},
		{[]string{"info", "-h"}, 0, ""},
		{[]string{"info", filepath.Join(dir, "missing.pcap")}, 1, "missing.pcap"},
		{[]string{"info", notCap}, 1, "6a75737420736f6d652074657874"},
	}
	for _, tc := range tests {
		code, out, errOut := runCmd(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.stderr) || (code == 2 && strings.Count(errOut, "\n") != 1) || (code == 0) != strings.HasPrefix(out, "usage: reseq info") {
			t.Errorf("%v: exit %d stderr %q stdout %q", tc.args, code, errOut, out)
		}
	}
}

func TestInfoPcapng(t *testing.T) {
	var b bytes.Buffer
	w, err := pcapng.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddInterface(101, 0, 9); err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddInterface(1, 96, 6); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		n, orig := 40, 40
		if i == 3 {
			n, orig = 96, 1500
		}
		if err := w.WritePacket(i%2, int64(1e18)+int64(i)*1e9, make([]byte, n), orig); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "x.pcapng.gz")
	if err := os.WriteFile(p, gzipped(t, b.Bytes()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd("info", "--json", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Format      string   `json:"format"`
		Version     string   `json:"version"`
		Compression string   `json:"compression"`
		Packets     int64    `json:"packets"`
		BytesWire   int64    `json:"bytes_wire"`
		Truncated   int64    `json:"truncated"`
		LinkTypes   []uint32 `json:"link_types"`
		Sections    int      `json:"sections"`
		First       string   `json:"first"`
		Last        string   `json:"last"`
		Interfaces  []struct {
			LinkType uint32 `json:"link_type"`
			Snaplen  uint32 `json:"snaplen"`
			Packets  int64  `json:"packets"`
			TSResol  string `json:"tsresol"`
		} `json:"interfaces"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err, out)
	}
	if r.Format != "pcapng" || r.Version != "1.0" || r.Compression != "gzip" || r.Packets != 5 || r.BytesWire != 4*40+1500 ||
		r.Truncated != 1 || len(r.LinkTypes) != 2 || r.LinkTypes[0] != 1 || r.LinkTypes[1] != 101 || r.Sections != 1 ||
		r.First != "2001-09-09T01:46:40.000000000Z" || r.Last != "2001-09-09T01:46:44.000000000Z" || len(r.Interfaces) != 2 ||
		r.Interfaces[0].LinkType != 101 || r.Interfaces[0].Packets != 3 || r.Interfaces[0].TSResol != "ns" ||
		r.Interfaces[1].Snaplen != 96 || r.Interfaces[1].Packets != 2 || r.Interfaces[1].TSResol != "us" {
		t.Fatalf("record %+v\n%s", r, out)
	}
	code, out, _ = runCmd("info", p)
	if code != 0 || !strings.Contains(out, "pcapng 1.0") || !strings.Contains(out, "Interface #1") || !strings.Contains(out, "EN10MB (1), RAW (101)") {
		t.Fatalf("text:\n%s", out)
	}
}

func TestInfoArchive(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, m := range []struct {
		name string
		data []byte
	}{{"one.pcap", infoPcap(t)}, {"readme.txt", []byte("captures of the day")}, {"two.pcap.gz", gzipped(t, infoPcap(t))}} {
		w, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "day.zip")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd("info", "--json", p)
	if code != 0 || !strings.Contains(errOut, "readme.txt: skipped") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d records: %s", len(lines), out)
	}
	for i, want := range []struct{ file, comp string }{{p + "!one.pcap", "deflate"}, {p + "!two.pcap.gz", "deflate+gzip"}} {
		var r struct {
			File        string `json:"file"`
			Compression string `json:"compression"`
			Packets     int    `json:"packets"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
			t.Fatal(err)
		}
		if r.File != want.file || r.Compression != want.comp || r.Packets != 3 {
			t.Errorf("record %d: %+v", i, r)
		}
	}
}

func TestInfoStdin(t *testing.T) {
	p := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(p, gzipped(t, infoPcap(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	code, out, errOut := runCmd("info", "--json", "-")
	if code != 0 || !strings.Contains(out, `"file":"-"`) || !strings.Contains(out, `"compression":"gzip"`) || !strings.Contains(out, `"packets":3`) {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, out, errOut)
	}
}

func TestInfoEmptyCapture(t *testing.T) {
	var b bytes.Buffer
	if _, err := pcapfile.NewWriter(&b, 101, 0, false); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "empty.pcap")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd("info", "--json", p)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"first", "last", "duration_ns"} {
		if v, ok := m[k]; !ok || v != nil {
			t.Errorf("%s not null without packets: %s", k, out)
		}
	}
	if m["packets"] != 0.0 || m["format"] != "pcap" || fmt.Sprint(m["link_types"]) != "[101]" {
		t.Errorf("record %s", out)
	}
}
