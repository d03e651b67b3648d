package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// realCapture returns the path of a capture of /work/shared/real, skipping
// the test when the shared data is absent.
func realCapture(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "real", name)
	if _, err := os.Stat(p); err != nil {
		t.Skip("shared captures not found: ", err)
	}
	return p
}

// flowsNumbers runs flows --json and returns each connection's client by
// its number.
func flowsNumbers(t *testing.T, capPath string, args ...string) map[int64]string {
	t.Helper()
	code, out, stderr := runReseq(append(append([]string{"flows", "--json"}, args...), capPath)...)
	if code != exitOK {
		t.Fatalf("flows %v: exit %d: %s", args, code, stderr)
	}
	m := map[int64]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Index int64  `json:"index"`
			Src   string `json:"src"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		m[r.Index] = r.Src
	}
	return m
}

// TestReportPlotFilterKeepsNumbers (issue 14 item 3): report and plot
// number the connections a filter keeps as flows does, as over the whole
// capture: report.json's connections are those flows --filter lists, with
// the same numbers, and plot's selector picks the same connection with or
// without the filter.
func TestReportPlotFilterKeepsNumbers(t *testing.T) {
	capPath := realCapture(t, "lossy_v4.pcap")
	all := flowsNumbers(t, capPath)
	if len(all) < 6 {
		t.Fatalf("unfiltered: %v", all)
	}
	for _, f := range [][]string{{"--filter", "port 5002"}, {"--port", "8080"}, {"--filter", "port 5001 or port 8080"}} {
		want := flowsNumbers(t, capPath, f...)
		for i, src := range want {
			if all[i] != src {
				t.Errorf("flows %v: #%d is %s, unfiltered %s", f, i, src, all[i])
			}
		}
		if len(want) == 0 || len(want) == len(all) {
			t.Fatalf("flows %v: %v: the filter should keep some connections", f, want)
		}
		dir := t.TempDir()
		args := append([]string{"report", "--quiet", "--top", "1000", "-o", filepath.Join(dir, "r.html")}, f...)
		if code, _, e := runReseq(append(args, capPath)...); code != exitOK {
			t.Fatalf("report %v: exit %d: %s", f, code, e)
		}
		var rep reportJSON
		b, err := os.ReadFile(filepath.Join(dir, "r.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		got := map[int64]string{}
		for _, tc := range rep.Top {
			for _, d := range tc.Dirs {
				if d.Index != tc.Index {
					t.Errorf("report %v: connection %d has a direction numbered %d", f, tc.Index, d.Index)
				}
				if d.Dir == "c2s" {
					got[tc.Index] = d.Src
				}
			}
		}
		if !reflect.DeepEqual(got, want) || rep.Connections != int64(len(want)) {
			t.Errorf("report %v: %d connections %v, want flows' %v", f, rep.Connections, got, want)
		}
		// The last connection kept: its number is furthest from a count of
		// the kept ones.
		last := int64(-1)
		for i := range want {
			last = max(last, i)
		}
		sel := strconv.FormatInt(last, 10)
		_, plain, _ := runReseq("plot", "-o", "-", capPath, sel)
		code, filtered, e := runReseq(append([]string{"plot", "-o", "-", capPath, sel}, f...)...)
		if code != exitOK || filtered != plain || !strings.Contains(plain, "<svg") {
			t.Errorf("plot %v %s: exit %d (%s): not the unfiltered graph", f, sel, code, e)
		}
	}
}

// TestMergeShardsFiltered (issue 14 item 3): merge of the three runs of
// extract --shard i/3 under a filter, or of extract of each shard file of
// split -n 3, writes what one extract under that filter writes, byte for
// byte: the numbers of the connections the filter left out stay taken
// (each shard lists its own in filtered.jsonl). A single run writes no
// filtered.jsonl.
func TestMergeShardsFiltered(t *testing.T) {
	capPath := realCapture(t, "lossy_v4.pcap")
	for _, f := range [][]string{{"--filter", "port 5002"}, {"--port", "5001", "--port", "8080"}, {"--filter", "port 8080 and tcp"}, {"--since", "+6.27ms"}, {"--until", "+6.27ms"}} {
		base := t.TempDir()
		extract := func(dir string, args ...string) {
			t.Helper()
			a := append(append([]string{"extract", "-o", dir, "--quiet"}, f...), args...)
			if code, _, e := runReseq(append(a, capPath)...); code != exitOK {
				t.Fatalf("extract %v: exit %d: %s", a, code, e)
			}
		}
		one := filepath.Join(base, "one")
		extract(one)
		want := shardTree(t, one)
		if _, ok := want[heldFile]; ok {
			t.Errorf("%v: a single run wrote %s", f, heldFile)
		}
		var dirs []string
		held := 0
		for i := range 3 {
			d := filepath.Join(base, "shard"+strconv.Itoa(i))
			extract(d, "--shard", strconv.Itoa(i)+"/3")
			dirs = append(dirs, d)
			b, _ := os.ReadFile(filepath.Join(d, heldFile))
			held += strings.Count(string(b), "\n")
		}
		all := flowsNumbers(t, capPath)
		kept := flowsNumbers(t, capPath, f...)
		if held != len(all)-len(kept) || len(kept) == 0 {
			t.Errorf("%v: the shards list %d connections left out, want %d", f, held, len(all)-len(kept))
		}
		m := filepath.Join(base, "merged")
		if code, _, e := runReseq(append([]string{"merge", "-o", m}, dirs...)...); code != exitOK {
			t.Fatalf("merge: exit %d: %s", code, e)
		}
		sameTree(t, fmt.Sprintf("%v: --shard i/3 and merge", f), want, shardTree(t, m))
		if f[0] == "--since" || f[0] == "--until" {
			continue // a shard file's first packet is not the capture's: +D differs
		}
		// split -n 3, extract of each shard file under the filter, merge.
		sp := filepath.Join(base, "split")
		if code, _, e := runReseq("split", "-n", "3", "-o", sp, capPath); code != exitOK {
			t.Fatalf("split: exit %d: %s", code, e)
		}
		dirs = dirs[:0]
		for i := range 3 {
			d := filepath.Join(base, "x"+strconv.Itoa(i))
			a := append(append([]string{"extract", "-o", d, "--quiet"}, f...), filepath.Join(sp, shardFile(i, 3)))
			if code, _, e := runReseq(a...); code != exitOK {
				t.Fatalf("extract shard file: exit %d: %s", code, e)
			}
			dirs = append(dirs, d)
		}
		m = filepath.Join(base, "merged-split")
		if code, _, e := runReseq(append([]string{"merge", "-o", m}, dirs...)...); code != exitOK {
			t.Fatalf("merge: exit %d: %s", code, e)
		}
		sameTree(t, fmt.Sprintf("%v: split -n 3, extract and merge", f), want, shardTree(t, m))
	}
}

// sinceDir is what TestSinceRevealsConnections reads of a direction in
// flows --json.
type sinceDir struct {
	Packets  int64  `json:"packets"`
	Length   int64  `json:"length"`
	Captured int64  `json:"captured"`
	GapBytes int64  `json:"gap_bytes"`
	First    string `json:"first"`
}

// flowsRows runs flows --json and returns its rows by connection number.
func flowsRows(t *testing.T, capPath string, args ...string) map[int64][2]sinceDir {
	t.Helper()
	code, out, stderr := runReseq(append(append([]string{"flows", "--json"}, args...), capPath)...)
	if code != exitOK {
		t.Fatalf("flows %v: exit %d: %s", args, code, stderr)
	}
	m := map[int64][2]sinceDir{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Index int64    `json:"index"`
			C2S   sinceDir `json:"c2s"`
			S2C   sinceDir `json:"s2c"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		m[r.Index] = [2]sinceDir{r.C2S, r.S2C}
	}
	return m
}

// TestSinceRevealsConnections (issue 14 item 3): a connection whose first
// packet lies before --since is shown with its packets in the range, under
// its number over the whole input (as tshark's tcp.stream under a time
// display filter), the bytes before the range one gap of reason filtered at
// offset 0; --until keeps the other packets: per direction the two split
// the packets, and a connection that begins at or after --until is not
// shown. extract says the same.
func TestSinceRevealsConnections(t *testing.T) {
	capPath := realCapture(t, "lossy_v4.pcap")
	const at = "+6.27ms" // after the first packets of #0 to #3, before #4
	all := flowsRows(t, capPath)
	since := flowsRows(t, capPath, "--since", at)
	until := flowsRows(t, capPath, "--until", at)
	if len(all) != 8 || len(since) != 8 || len(until) != 4 {
		t.Fatalf("%d connections, %d with --since, %d with --until; want 8, 8, 4", len(all), len(since), len(until))
	}
	revealed := 0
	for i, a := range all {
		s, u := since[i], until[i]
		for d := range 2 {
			if s[d].Packets+u[d].Packets != a[d].Packets {
				t.Errorf("#%d dir %d: %d packets since, %d until, %d in all", i, d, s[d].Packets, u[d].Packets, a[d].Packets)
			}
			if s[d].Length != a[d].Length || s[d].Captured+s[d].GapBytes != s[d].Length {
				t.Errorf("#%d dir %d since: length %d (all: %d), captured %d, gap bytes %d", i, d, s[d].Length, a[d].Length, s[d].Captured, s[d].GapBytes)
			}
			if s[d].Packets > 0 && s[d].First < "2026-11-21T19:57:50.513551" {
				t.Errorf("#%d dir %d since: first %s, before the range", i, d, s[d].First)
			}
		}
		if u[0].Packets > 0 {
			revealed++
		}
	}
	if revealed != 4 {
		t.Errorf("%d connections begin before --since, want 4", revealed)
	}
	// The bytes before the range: a gap of reason filtered at offset 0.
	dir := filepath.Join(t.TempDir(), "o")
	if code, _, e := runReseq("extract", "--quiet", "-o", dir, "--since", at, capPath); code != exitOK {
		t.Fatalf("extract: exit %d: %s", code, e)
	}
	filteredGaps := 0
	for _, f := range readFlows(t, filepath.Join(dir, "flows.jsonl")) {
		for j, g := range f.Gaps {
			if g.Reason == "filtered" {
				filteredGaps++
				if j != 0 || g.Offset != 0 {
					t.Errorf("#%d %s: filtered gap %+v, not first at offset 0", f.Index, f.Dir, g)
				}
			}
		}
		if f.Index == 0 && f.Dir == "c2s" && (len(f.Gaps) == 0 || f.Gaps[0].Reason != "filtered") {
			t.Errorf("#0 c2s: gaps %+v, want the bytes before the range as a filtered gap", f.Gaps)
		}
	}
	if filteredGaps == 0 {
		t.Error("no filtered gap")
	}
}
