package main

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommunityIDTshark: every connection's community_id in 'flows --json'
// equals the one Wireshark's independent implementation computes for its
// packets (skipped without tshark). On the bundled sample and, when
// ../shared/real is present, a real IPv6 capture.
func TestCommunityIDTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	caps := []string{filepath.Join("..", "..", "testdata", "sample.pcap")}
	if r := realRootOrEmpty(); r != "" {
		caps = append(caps, filepath.Join(r, "clean_v6_nano.pcap"))
	}
	for _, c := range caps {
		out, err := exec.Command("tshark", "-r", c, "-n", "--enable-protocol", "communityid", "-Y", "tcp",
			"-T", "fields", "-e", "communityid").Output()
		if err != nil {
			t.Fatalf("%s: tshark: %v", c, err)
		}
		want := map[string]bool{}
		for _, l := range strings.Fields(string(out)) {
			want[l] = true
		}
		code, stdout, stderr := runReseq("flows", "--json", c)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", c, code, stderr)
		}
		n := 0
		sc := bufio.NewScanner(strings.NewReader(stdout))
		for sc.Scan() {
			var row struct {
				Client, Server string
				CommunityID    string `json:"community_id"`
			}
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatal(err)
			}
			n++
			if !want[row.CommunityID] {
				t.Errorf("%s: %s-%s: community_id %q is none of tshark's", filepath.Base(c), row.Client, row.Server, row.CommunityID)
			}
		}
		if n == 0 {
			t.Errorf("%s: no connection", c)
		}
		t.Logf("%s: %d connections, %d community IDs from tshark", filepath.Base(c), n, len(want))
	}
}
