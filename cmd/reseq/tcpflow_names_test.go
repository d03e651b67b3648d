package main

import (
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// tcpflowName matches a tcpflow default name: address.port-address.port,
// then the VLAN and connection-count suffixes.
var tcpflowName = regexp.MustCompile(`^([0-9a-f:.]+)\.(\d{5})-([0-9a-f:.]+)\.(\d{5})(.*)$`)

// tcpflowNames returns the stream file names tcpflow writes for capture,
// IPv6 addresses rewritten the way reseq spells them (tcpflow writes
// "fd77::1", whose ':' Windows does not allow and which does not sort).
func tcpflowNames(t *testing.T, capture string) []string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command("tcpflow", "-r", capture, "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tcpflow -r %s: %v\n%s", capture, err, b)
	}
	var names []string
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "report.xml" {
			return err
		}
		n := d.Name()
		if m := tcpflowName.FindStringSubmatch(n); m != nil && strings.Contains(n, ":") {
			a, errA := netip.ParseAddr(m[1])
			b, errB := netip.ParseAddr(m[3])
			if errA == nil && errB == nil {
				n = string(appendAddrName(nil, a)) + "." + m[2] + "-" + string(appendAddrName(nil, b)) + "." + m[4] + m[5]
			}
		}
		names = append(names, n)
		return nil
	})
	slices.Sort(names)
	return names
}

// reseqNames returns the stream file names of 'reseq extract' with the
// default template.
func reseqNames(t *testing.T, capture string) []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "o")
	if code, _, e := runReseq("extract", "--quiet", "-o", out, capture); code != exitOK {
		t.Fatalf("extract %s: exit %d %s", capture, code, e)
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".jsonl") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// TestTcpflowNames compares reseq's default file names with tcpflow's on
// the real captures and tcpflow's own test captures. Where the capture's
// streams are the same for both tools the sets must be equal; elsewhere
// (tcpflow starts a new file, "c1", on a large sequence jump or a SYN in a
// live stream, and skips link types it does not read) every stream both
// wrote under its tuple's first name must have that name in both.
func TestTcpflowNames(t *testing.T) {
	if _, err := exec.LookPath("tcpflow"); err != nil {
		t.Skip("tcpflow not installed")
	}
	real := realRoot(t)
	corpus := filepath.Join(real, "..", "corpus", "tcpflow", "tests")
	same := map[string]bool{}
	var caps []string
	for _, n := range []string{"clean_v4_gso.pcap", "clean_v6_nano.pcap", "http_keepalive.pcap", "lossy_snap200.pcap", "lossy_v4.pcap", "lossy_v4_gso.pcap"} {
		caps = append(caps, filepath.Join(real, n))
		same[caps[len(caps)-1]] = true
	}
	for _, n := range []string{"test1.pcap", "test3.pcap", "test4.pcap", "bug8.pcap", "airsnort-linux-browser_page_load.pcap", "test-gzip.pcap"} {
		caps = append(caps, filepath.Join(corpus, n))
		same[caps[len(caps)-1]] = true
	}
	for _, n := range []string{"bug2.pcap", "bug3.pcap", "bug5.pcap", "flow_test.pcap", "test5-lines-randomized.pcap"} {
		caps = append(caps, filepath.Join(corpus, n))
	}
	checked := 0
	for _, c := range caps {
		if _, err := os.Stat(c); err != nil {
			continue
		}
		tf, rs := tcpflowNames(t, c), reseqNames(t, c)
		if same[c] {
			if !slices.Equal(tf, rs) {
				t.Errorf("%s: tcpflow wrote %q, reseq %q", filepath.Base(c), tf, rs)
			}
			checked++
			continue
		}
		common := 0
		for _, n := range rs {
			m := tcpflowName.FindStringSubmatch(n)
			if m == nil {
				t.Errorf("%s: reseq name %q is not tcpflow's form", filepath.Base(c), n)
				continue
			}
			if _, ok := slices.BinarySearch(tf, n); ok {
				common++
			}
		}
		if common == 0 {
			t.Errorf("%s: no name in common: tcpflow %q, reseq %q", filepath.Base(c), tf, rs)
		}
		checked++
	}
	if checked == 0 {
		t.Skip("no capture found")
	}
}
