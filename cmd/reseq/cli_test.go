package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpAndBadFlags: for every registered command, -h prints its usage
// to stdout with exit 0, and a bad flag is one line on stderr naming the
// command, exit 2.
func TestHelpAndBadFlags(t *testing.T) {
	for _, c := range commandTable() {
		name := c.name
		for _, h := range []string{"-h", "--help"} {
			code, out, errOut := runReseq(name, h)
			if code != exitOK || !strings.Contains(out, "reseq "+name) || errOut != "" {
				t.Errorf("%s %s: exit %d, stdout %.60q, stderr %q", name, h, code, out, errOut)
			}
		}
		code, out, errOut := runReseq(name, "--no-such-flag", "x")
		if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "reseq "+name+": ") {
			t.Errorf("%s --no-such-flag: exit %d, stdout %q, stderr %q", name, code, out, errOut)
		}
	}
	code, out, _ := runReseq("help", "extract")
	if code != exitOK || !strings.HasPrefix(out, "usage: reseq extract") {
		t.Errorf("help extract: exit %d, %.60q", code, out)
	}
	for _, args := range [][]string{
		{"extract", "-o", t.TempDir(), "--max-bytes", "12Q", "x.pcap"},
		{"http", "-o", t.TempDir(), "--max-body", "-1", "x.pcap"},
		{"flows", "--max-memory", "lots", "x.pcap"},
	} {
		code, out, errOut := runReseq(args...)
		if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "reseq "+args[0]+": ") || !strings.Contains(errOut, "bad size") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n    int64
		w    string
		want string
	}{{1, "connection", "1 connection"}, {0, "connection", "0 connections"}, {2, "body", "2 bodies"}, {1, "body", "1 body"}, {3, "late byte", "3 late bytes"}} {
		if got := plural(c.n, c.w); got != c.want {
			t.Errorf("plural(%d, %q) = %q", c.n, c.w, got)
		}
	}
}

func TestBodyBaseName(t *testing.T) {
	for _, c := range []struct{ target, ct, want string }{
		{"/images/bg2.jpg", "image/jpeg", "bg2.jpg"},
		{"/", "text/html; charset=utf-8", "index.html"},
		{"/api/items?id=3", "application/json", "items.json"},
		{"/a/b%20c.png#x", "", "b_c.png"},
		{"http://example.com", "", "index.bin"},
		{"http://example.com/x/y.css?v=1", "text/css", "y.css"},
		{"/../..", "", "index.bin"},
		{"/.htaccess", "text/plain", "htaccess.txt"},
		{"", "image/gif", "index.gif"},
	} {
		if got := bodyBaseName(c.target, c.ct); got != c.want {
			t.Errorf("bodyBaseName(%q, %q) = %q, want %q", c.target, c.ct, got, c.want)
		}
	}
}

// TestHTTPIncompleteReason: http_with_jpegs.cap's 9 exchanges whose
// responses were lost say so, every record has its connection's index, and
// body files are named after their URLs.
func TestHTTPIncompleteReason(t *testing.T) {
	capPath := filepath.Join(realRoot(t), "..", "corpus", "wireshark-wiki", "SampleCaptures", "http_with_jpegs.cap.gz")
	if _, err := os.Stat(capPath); err != nil {
		t.Skip("http_with_jpegs.cap.gz not present")
	}
	out := filepath.Join(t.TempDir(), "o")
	if code, _, e := runReseq("http", "-q", "-o", out, capPath); code != exitOK {
		t.Fatalf("exit %d %s", code, e)
	}
	recs := readJSONL[map[string]any](t, filepath.Join(out, "http.jsonl"))
	lost, idx := 0, map[float64]bool{}
	for _, r := range recs {
		if _, ok := r["index"].(float64); !ok {
			t.Errorf("no index: %v", r)
		}
		idx[r["index"].(float64)] = true
		switch {
		case r["complete"] == true && r["incomplete"] != nil:
			t.Errorf("complete with a reason: %v", r)
		case r["complete"] == false && r["incomplete"] == "response lost":
			lost++
		case r["complete"] == false:
			t.Errorf("incomplete: %v", r)
		}
		if b, ok := r["response_body"].(string); ok && strings.HasSuffix(r["target"].(string), ".jpg") && !strings.HasSuffix(b, "-response-"+filepath.Base(r["target"].(string))) {
			t.Errorf("body %q for %q", b, r["target"])
		}
	}
	if len(recs) != 19 || lost != 9 || len(idx) != 19 {
		t.Errorf("%d exchanges, %d response lost, %d indexes", len(recs), lost, len(idx))
	}
}

// TestForceRemovesPrevious: --force removes the files the previous run
// listed, and nothing else.
func TestForceRemovesPrevious(t *testing.T) {
	out := filepath.Join(t.TempDir(), "o")
	sample := filepath.Join("..", "..", "testdata", "sample.pcap")
	if code, _, e := runReseq("extract", "-q", "-T", "old/%D-%S", "-o", out, sample); code != exitOK {
		t.Fatalf("exit %d %s", code, e)
	}
	if code, _, e := runReseq("http", "-q", "--force", "-o", out, sample); code != exitOK {
		t.Fatalf("http: exit %d %s", code, e)
	}
	if err := os.WriteFile(filepath.Join(out, "mine.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The http run removed extract's files; this one removes http's.
	if code, _, e := runReseq("extract", "-q", "--force", "-o", out, sample); code != exitOK {
		t.Fatalf("exit %d %s", code, e)
	}
	var files []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			r, _ := filepath.Rel(out, p)
			files = append(files, filepath.ToSlash(r))
		}
		return err
	})
	listed := map[string]bool{"flows.jsonl": true, "conflicts.jsonl": true, "mine.txt": true}
	for _, r := range readJSONL[map[string]any](t, filepath.Join(out, "flows.jsonl")) {
		if f, ok := r["file"].(string); ok {
			listed[f] = true
		}
	}
	for _, f := range files {
		if !listed[f] {
			t.Errorf("%s left from a previous run", f)
		}
	}
	if len(files) != len(listed) {
		t.Errorf("files %q, want %d", files, len(listed))
	}
}

// TestCompletion: each shell's script names every command and its options
// and passes the shell's syntax check where the shell is installed.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, e := runReseq("completion", sh)
		if code != exitOK {
			t.Fatalf("%s: exit %d %s", sh, code, e)
		}
		for _, c := range commandTable() {
			if n := c.name; !strings.Contains(out, n) {
				t.Errorf("%s: no command %s", sh, n)
			}
		}
		for _, f := range []string{"max-bytes", "hex", "format"} {
			if !strings.Contains(out, f) {
				t.Errorf("%s: no option %s", sh, f)
			}
		}
		path, err := exec.LookPath(sh)
		if err != nil {
			t.Logf("%s not installed: syntax not checked", sh)
			continue
		}
		script := filepath.Join(t.TempDir(), "reseq."+sh)
		if err := os.WriteFile(script, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.Command(path, "-n", script).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", sh, err, b)
		}
	}
	if code, _, _ := runReseq("completion", "tcsh"); code != exitUsage {
		t.Errorf("tcsh: exit %d", code)
	}
}
