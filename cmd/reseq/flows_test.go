package main

import (
	"encoding/csv"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseq/reseq/tcpasm"
)

// twoConversations writes a capture of two connections: a (10.0.0.1:40000 ->
// 10.0.0.2:80, s2c segment [1000, 2000) dropped) then b (IPv6, reset).
func twoConversations(t *testing.T, dir string) (string, conversation, conversation) {
	a := conversation{
		client: netip.MustParseAddrPort("10.0.0.1:40000"), server: netip.MustParseAddrPort("10.0.0.2:80"),
		c2s: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), s2c: pattern(3000, 2), isnS: 1000,
	}
	b := conversation{
		client: netip.MustParseAddrPort("[fd77::1]:5001"), server: netip.MustParseAddrPort("[fd77::2]:8080"),
		c2s: pattern(10, 3), s2c: pattern(20, 4), t0: 1_700_000_000*1_000_000_000 + 500*ms, noFIN: true,
	}
	var pa []tcpPkt
	for _, p := range a.packets() {
		if p.src == a.server && len(p.payload) > 0 && p.seq == a.isnS+1+1000 {
			continue
		}
		pa = append(pa, p)
	}
	pb := b.packets()
	last := pb[len(pb)-1]
	pb = append(pb, tcpPkt{ts: last.ts + ms, src: b.client, dst: b.server, seq: b.isnC + 11, flags: tcpasm.RST})
	return writeCapture(t, dir, "two.pcap", mergeByTime(pa, pb)), a, b
}

func TestFlows(t *testing.T) {
	dir := t.TempDir()
	capPath, _, _ := twoConversations(t, dir)
	code, out, stderr := runReseq("flows", "--json", capPath)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out0 := out
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		rows = append(rows, m)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows:\n%s", len(rows), out)
	}
	a, b := rows[0], rows[1]
	if a["index"] != 0.0 || a["src"] != "10.0.0.1:40000" || a["dst"] != "10.0.0.2:80" || a["first_frame"] != 1.0 || a["state"] != "closed" || a["handshake"] != "full" {
		t.Errorf("row a: %v", a)
	}
	ac, as := a["c2s"].(map[string]any), a["s2c"].(map[string]any)
	if ac["captured"] != 27.0 || as["captured"] != 2000.0 || as["gap_bytes"] != 1000.0 || as["length"] != 3000.0 || as["gap_count"] != 1.0 ||
		ac["first"] != a["first"] || as["first"] != "2023-11-14T22:13:20.001000000Z" {
		t.Errorf("row a directions: %v / %v", ac, as)
	}
	if b["index"] != 1.0 || b["src"] != "[fd77::1]:5001" || b["state"] != "reset" {
		t.Errorf("row b: %v", b)
	}
	if d := a["duration_ns"].(float64); d != 13e6 {
		t.Errorf("duration %v", d)
	}

	// The table: a header and one line per connection.
	code, out, _ = runReseq("flows", capPath)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if code != exitOK || len(lines) != 3 || !strings.Contains(lines[0], "CLIENT") || !strings.Contains(lines[1], "10.0.0.1:40000") || !strings.Contains(lines[2], "reset") ||
		!strings.Contains(lines[1], "2023-11-14 22:13:20.000000Z") || !strings.Contains(lines[1], "13.000ms") {
		t.Errorf("table (exit %d):\n%s", code, out)
	}
	// --format json is --json; csv has the same fields.
	if code, js, _ := runReseq("flows", "--format", "json", capPath); code != exitOK || js != out0 {
		t.Errorf("--format json differs from --json: %s", js)
	}
	code, out, _ = runReseq("flows", "--format", "csv", capPath)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || code != exitOK || len(recs) != 3 || recs[0][2] != "src" || recs[1][2] != "10.0.0.1:40000" || len(recs[1]) != len(flowCSVHeader()) {
		t.Errorf("csv (exit %d, %v):\n%s", code, err, out)
	}
	for i, h := range recs[0] {
		if h == "s2c_first" && recs[1][i] != "2023-11-14T22:13:20.001000000Z" {
			t.Errorf("csv s2c_first %q", recs[1][i])
		}
	}
	if code, _, e := runReseq("flows", "--format", "xml", capPath); code != exitUsage || strings.Count(e, "\n") != 1 {
		t.Errorf("--format xml: exit %d %q", code, e)
	}

	// Usage and input errors.
	if code, _, _ := runReseq("flows"); code != exitUsage {
		t.Errorf("no capture: exit %d", code)
	}
	if code, _, _ := runReseq("flows", filepath.Join(dir, "missing.pcap")); code != exitInput {
		t.Errorf("missing capture: exit %d", code)
	}
}
