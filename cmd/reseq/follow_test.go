package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFollow(t *testing.T) {
	dir := t.TempDir()
	capPath, a, b := twoConversations(t, dir)

	// Raw, by index: the offset-preserving bytes, gap zero-filled.
	code, out, stderr := runReseq("follow", "--raw", "--dir", "s2c", capPath, "0")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := append([]byte(nil), a.s2c...)
	clear(want[1000:2000])
	if !bytes.Equal([]byte(out), want) {
		t.Errorf("raw s2c: %d bytes, want %d", len(out), len(want))
	}
	if !strings.Contains(stderr, "offset 1000") || !strings.Contains(stderr, "1000 bytes") {
		t.Errorf("raw mode gap note missing: %q", stderr)
	}

	// By address, either order.
	for _, sel := range []string{"[fd77::1]:5001-[fd77::2]:8080", "[fd77::2]:8080-[fd77::1]:5001", "1"} {
		code, out, stderr = runReseq("follow", "--raw", "--dir", "c2s", capPath, sel)
		if code != exitOK || !bytes.Equal([]byte(out), b.c2s) {
			t.Errorf("%s: exit %d, %q (%s)", sel, code, out, stderr)
		}
	}

	// The readable view: both directions, the gap annotated.
	code, out, _ = runReseq("follow", capPath, "10.0.0.1:40000-10.0.0.2:80")
	if code != exitOK {
		t.Fatalf("view: exit %d", code)
	}
	for _, s := range []string{"==> c2s 10.0.0.1:40000 -> 10.0.0.2:80 offset 0", "GET / HTTP/1.1.\nHost: x.\n", "<== s2c 10.0.0.2:80 -> 10.0.0.1:40000 offset 0",
		"[s2c gap at offset 1000, 1000 bytes not captured", "<== s2c 10.0.0.2:80 -> 10.0.0.1:40000 offset 2000", "closed (fin)"} {
		if !strings.Contains(out, s) {
			t.Errorf("view lacks %q:\n%s", s, out)
		}
	}
	if strings.ContainsAny(out, "\r\x00") {
		t.Error("view holds raw control bytes")
	}

	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"follow", capPath}, exitUsage},
		{[]string{"follow", capPath, "bogus"}, exitUsage},
		{[]string{"follow", "--raw", capPath, "0"}, exitUsage},
		{[]string{"follow", "--dir", "up", capPath, "0"}, exitUsage},
		{[]string{"follow", capPath, "7"}, exitInput},
		{[]string{"follow", capPath, "1.1.1.1:1-2.2.2.2:2"}, exitInput},
	} {
		if code, _, _ := runReseq(tc.args...); code != tc.code {
			t.Errorf("%q: exit %d, want %d", tc.args, code, tc.code)
		}
	}
}

func TestFollowHex(t *testing.T) {
	dir := t.TempDir()
	capPath, _, _ := twoConversations(t, dir)
	code, out, e := runReseq("follow", "--hex", capPath, "0")
	if code != exitOK {
		t.Fatalf("exit %d %s", code, e)
	}
	for _, s := range []string{"00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  GET / HTTP/1.1..\n", "\t00000000  ", "--- [s2c gap at offset 1000"} {
		if !strings.Contains(out, s) {
			t.Errorf("hex view lacks %q:\n%.600s", s, out)
		}
	}
	if code, _, _ := runReseq("follow", "--hex", "--raw", "--dir", "c2s", capPath, "0"); code != exitUsage {
		t.Errorf("--hex --raw: exit %d", code)
	}
}

func TestParseSelector(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		idx  int64
		a, b string
	}{
		{"0", true, 0, "", ""},
		{"42", true, 42, "", ""},
		{"10.0.0.1:80-10.0.0.2:1234", true, -1, "10.0.0.1:80", "10.0.0.2:1234"},
		{"[fd77::1]:5001-[fd77::2]:80", true, -1, "[fd77::1]:5001", "[fd77::2]:80"},
		{"[::ffff:10.0.0.1]:1-10.0.0.2:2", true, -1, "10.0.0.1:1", "10.0.0.2:2"},
		{"-1", false, 0, "", ""},
		{"10.0.0.1-10.0.0.2", false, 0, "", ""},
		{"x", false, 0, "", ""},
	}
	for _, tc := range tests {
		s, err := parseSelector(tc.in, 0)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if !tc.ok {
			continue
		}
		if s.index != tc.idx || (tc.idx < 0 && (s.a.String() != tc.a || s.b.String() != tc.b)) {
			t.Errorf("%q: %+v", tc.in, s)
		}
	}
}

// TestFollowWrite: tshark reads the file --write makes and sees exactly the
// frames of that conversation in the original capture.
func TestFollowWrite(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	frames := func(path, filter string) string {
		args := []string{"-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "tcp.srcport", "-e", "tcp.dstport"}
		if filter != "" {
			args = append(args, "-Y", filter)
		}
		out, err := exec.Command("tshark", args...).Output()
		if err != nil {
			t.Fatalf("tshark %v: %v", args, err)
		}
		return string(out)
	}
	capPath := filepath.Join("..", "..", "testdata", "sample.pcap")
	for sel, filter := range map[string]string{"1": "tcp.port == 50001", "10.0.0.2:80-10.0.0.1:50000": "tcp.port == 50000"} {
		out := filepath.Join(t.TempDir(), "conn.pcapng")
		if code, _, e := runReseq("follow", "--write", out, capPath, sel); code != exitOK {
			t.Fatalf("%s: exit %d %s", sel, code, e)
		}
		got, want := frames(out, ""), frames(capPath, filter)
		if got != want || want == "" {
			t.Errorf("%s: written frames\n%s\nwant\n%s", sel, got, want)
		}
	}
}
