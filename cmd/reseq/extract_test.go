package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha3"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runReseq(args ...string) (code int, stdout, stderr string) {
	return runWith(nil, args...)
}

// runWith is runReseq in an environment that set (when not nil) changes
// first, for a test hook.
func runWith(set func(*env), args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	en := newEnv(&o, &e)
	if set != nil {
		set(en)
	}
	code = en.run(args)
	return code, o.String(), e.String()
}

func TestExtractUsage(t *testing.T) {
	dir := t.TempDir()
	capPath := writeCapture(t, dir, "c.pcap", nil)
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"extract", capPath}, exitUsage},                              // no -o
		{[]string{"extract", "-o", dir + "/o"}, exitUsage},                     // no capture
		{[]string{"extract", "--bogus", "-o", dir + "/o", capPath}, exitUsage}, // unknown flag
		{[]string{"extract", "-o", dir + "/o", "-T", "%A:%a", capPath}, exitUsage},
		{[]string{"extract", "-o", dir + "/o", "--capture-point", "x", capPath}, exitUsage},
		{[]string{"extract", "-o", dir + "/o", "--max-open", "0", capPath}, exitUsage},
		{[]string{"extract", "-o", dir + "/o", "--max-bytes", "lots", capPath}, exitUsage},
		{[]string{"extract", "-h"}, exitOK},
		{[]string{"extract", "-o", dir, capPath}, exitInput}, // DIR not empty
	}
	for _, tc := range tests {
		code, _, stderr := runReseq(tc.args...)
		if code != tc.code {
			t.Errorf("%q: exit %d, want %d (%s)", tc.args, code, tc.code, stderr)
		}
		if code == exitUsage && stderr == "" {
			t.Errorf("%q: usage error without a message", tc.args)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o")); err == nil {
		t.Error("a usage error created the output directory")
	}
}

// flowsByKey reads flows.jsonl keyed by "src>dst#conn".
func flowsByKey(t *testing.T, dir string) (map[string]map[string]any, []map[string]any) {
	recs := readIndex(t, dir)
	m := map[string]map[string]any{}
	for _, r := range recs {
		m[fmt.Sprintf("%v>%v#%v", r["src"], r["dst"], r["conn"])] = r
	}
	return m, recs
}

// checkRecord checks a record's invariants and that its file holds want
// outside the gaps (zero inside).
func checkRecord(t *testing.T, dir string, r map[string]any, want []byte) {
	t.Helper()
	length := int64(r["length"].(float64))
	var gapBytes, pos int64
	inGap := make([]bool, length)
	for _, g := range r["gaps"].([]any) {
		g := g.(map[string]any)
		off, n := int64(g["offset"].(float64)), int64(g["length"].(float64))
		if off < pos || n <= 0 || off+n > length {
			t.Errorf("%v>%v: gap %v out of order or outside [0,%d)", r["src"], r["dst"], g, length)
			return
		}
		for i := off; i < off+n; i++ {
			inGap[i] = true
		}
		pos = off + n
		gapBytes += n
	}
	if c := int64(r["captured"].(float64)); c != length-gapBytes {
		t.Errorf("%v>%v: captured %d, length %d, gap bytes %d", r["src"], r["dst"], c, length, gapBytes)
	}
	file, _ := r["file"].(string)
	if file == "" {
		if length != gapBytes {
			t.Errorf("%v>%v: no file but %d bytes captured", r["src"], r["dst"], length-gapBytes)
		}
		return
	}
	got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(got)) != length {
		t.Errorf("%s: size %d, length %d", file, len(got), length)
		return
	}
	if int64(len(want)) < length {
		t.Errorf("%s: length %d passes the stream's %d bytes", file, length, len(want))
		return
	}
	for i := range got {
		w := want[i]
		if inGap[i] {
			w = 0
		}
		if got[i] != w {
			t.Errorf("%s: byte %d = %#x, want %#x (in gap %v)", file, i, got[i], w, inGap[i])
			return
		}
	}
}

func TestExtractConversations(t *testing.T) {
	dir := t.TempDir()
	a := conversation{
		client: netip.MustParseAddrPort("10.0.0.1:40000"), server: netip.MustParseAddrPort("10.0.0.2:80"),
		c2s: pattern(3500, 1), s2c: pattern(7000, 2), isnC: 4294967000, isnS: 12345, vlans: []uint16{100},
	}
	b := conversation{
		client: netip.MustParseAddrPort("[fd77::1]:5001"), server: netip.MustParseAddrPort("[fd77::2]:8080"),
		c2s: pattern(100, 3), isnC: 7, isnS: 9, t0: 1_700_000_000*1_000_000_000 + 500*ms,
	}
	pa, pb := a.packets(), b.packets()
	// Drop a's second server data segment (bytes [1000, 2000)): the client's
	// later ACKs cover it, so it is an acked gap.
	var kept []tcpPkt
	for _, p := range pa {
		if p.src == a.server && len(p.payload) > 0 && p.seq == a.isnS+1+1000 {
			continue
		}
		kept = append(kept, p)
	}
	capPath := writeCapture(t, dir, "c.pcap", mergeByTime(kept, pb))
	out := filepath.Join(dir, "out")
	code, _, stderr := runReseq("extract", "-o", out, capPath)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "packets") {
		t.Errorf("no summary line: %q", stderr)
	}
	m, recs := flowsByKey(t, out)
	if len(recs) != 4 {
		t.Fatalf("%d records: %v", len(recs), recs)
	}
	// Order: a (first packet first), then b; client->server first.
	if recs[0]["src"] != "10.0.0.1:40000" || recs[1]["src"] != "10.0.0.2:80" || recs[2]["src"] != "[fd77::1]:5001" || recs[3]["src"] != "[fd77::2]:8080" {
		t.Errorf("order: %v %v %v %v", recs[0]["src"], recs[1]["src"], recs[2]["src"], recs[3]["src"])
	}
	ac := m["10.0.0.1:40000>10.0.0.2:80#0"]
	as := m["10.0.0.2:80>10.0.0.1:40000#0"]
	bc := m["[fd77::1]:5001>[fd77::2]:8080#0"]
	bs := m["[fd77::2]:8080>[fd77::1]:5001#0"]
	checkRecord(t, out, ac, a.c2s)
	checkRecord(t, out, as, a.s2c)
	checkRecord(t, out, bc, b.c2s)
	checkRecord(t, out, bs, nil)
	if ac["base_seq"] != float64(a.isnC+1) || ac["length"] != 3500.0 || ac["captured"] != 3500.0 || ac["syn"] != true || ac["fin"] != true {
		t.Errorf("a c2s: %v", ac)
	}
	if ac["file"] != "010.000.000.001.40000-010.000.000.002.00080--100" || fmt.Sprint(ac["vlan"]) != "[100]" {
		t.Errorf("a c2s file %v vlan %v", ac["file"], ac["vlan"])
	}
	if as["length"] != 7000.0 || as["captured"] != 6000.0 || fmt.Sprint(as["gaps"]) != "[map[length:1000 offset:1000 reason:acked]]" {
		t.Errorf("a s2c: length %v captured %v gaps %v", as["length"], as["captured"], as["gaps"])
	}
	if _, ok := bs["file"]; ok || bs["length"] != 0.0 || bs["base_seq"] != float64(b.isnS+1) {
		t.Errorf("b s2c (no data): %v", bs)
	}
	if !strings.HasPrefix(bc["file"].(string), "fd77_0000_0000_0000_0000_0000_0000_0001.05001-fd77_") {
		t.Errorf("b c2s file %v", bc["file"])
	}
	for _, r := range recs {
		if r["packets"].(float64) == 0 || r["first"] == nil || r["last"] == nil {
			t.Errorf("record without packets or times: %v", r)
		}
	}
}

// mergeByTime merges two packet lists by timestamp.
func mergeByTime(a, b []tcpPkt) []tcpPkt {
	out := make([]tcpPkt, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		if len(b) == 0 || (len(a) > 0 && a[0].ts <= b[0].ts) {
			out = append(out, a[0])
			a = a[1:]
		} else {
			out = append(out, b[0])
			b = b[1:]
		}
	}
	return out
}

// TestExtractInputs: the same packets split over two captures (one gzipped)
// give the same index as one capture.
func TestExtractInputs(t *testing.T) {
	dir := t.TempDir()
	c := conversation{client: netip.MustParseAddrPort("10.0.0.1:1000"), server: netip.MustParseAddrPort("10.0.0.2:2000"), c2s: pattern(5000, 5), s2c: pattern(3000, 6)}
	pk := c.packets()
	whole := writeCapture(t, dir, "whole.pcap", pk)
	var even, odd []tcpPkt
	for i, p := range pk {
		if i%2 == 0 {
			even = append(even, p)
		} else {
			odd = append(odd, p)
		}
	}
	p1 := writeCapture(t, dir, "even.pcap", even)
	p2 := writeCapture(t, dir, "odd.pcap", odd)
	raw, _ := os.ReadFile(p2)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	p2gz := filepath.Join(dir, "odd.cap") // the name says nothing: the magic does
	os.WriteFile(p2gz, gz.Bytes(), 0o644)

	o1, o2 := filepath.Join(dir, "o1"), filepath.Join(dir, "o2")
	if code, _, e := runReseq("extract", "--quiet", "-o", o1, whole); code != 0 || e != "" {
		t.Fatalf("whole: %d %q", code, e)
	}
	if code, _, e := runReseq("extract", "-o", o2, p1, p2gz, "--quiet"); code != 0 || e != "" {
		t.Fatalf("split: %d %q", code, e)
	}
	i1, _ := os.ReadFile(filepath.Join(o1, "flows.jsonl"))
	i2, _ := os.ReadFile(filepath.Join(o2, "flows.jsonl"))
	if !bytes.Equal(i1, i2) || len(i1) == 0 {
		t.Errorf("index differs:\n%s\n%s", i1, i2)
	}
	m, _ := flowsByKey(t, o2)
	checkRecord(t, o2, m["10.0.0.1:1000>10.0.0.2:2000#0"], c.c2s)
	checkRecord(t, o2, m["10.0.0.2:2000>10.0.0.1:1000#0"], c.s2c)
}

func TestExtractFiltersAndLimits(t *testing.T) {
	dir := t.TempDir()
	var all []tcpPkt
	convs := []conversation{
		{client: netip.MustParseAddrPort("10.0.0.1:1000"), server: netip.MustParseAddrPort("10.0.0.2:80"), c2s: pattern(2000, 1), s2c: pattern(100, 2)},
		{client: netip.MustParseAddrPort("10.0.0.3:1001"), server: netip.MustParseAddrPort("10.0.0.4:443"), c2s: pattern(50, 3), s2c: pattern(5000, 4), t0: 1_700_000_001 * 1_000_000_000},
		{client: netip.MustParseAddrPort("10.0.0.5:1002"), server: netip.MustParseAddrPort("10.0.0.2:22"), c2s: pattern(10, 5), s2c: pattern(10, 6), t0: 1_700_000_002 * 1_000_000_000},
	}
	for _, c := range convs {
		all = mergeByTime(all, c.packets())
	}
	capPath := writeCapture(t, dir, "c.pcap", all)
	tests := []struct {
		name string
		args []string
		want []string // client ports of the connections kept
	}{
		{"port", []string{"--port", "443"}, []string{"10.0.0.3:1001"}},
		{"ports", []string{"--port", "443", "--port", "22"}, []string{"10.0.0.3:1001", "10.0.0.5:1002"}},
		{"host", []string{"--host", "10.0.0.2"}, []string{"10.0.0.1:1000", "10.0.0.5:1002"}},
		{"host+port", []string{"--host", "10.0.0.2", "--port", "80"}, []string{"10.0.0.1:1000"}},
		{"prefix", []string{"--host", "10.0.0.0/30"}, []string{"10.0.0.1:1000", "10.0.0.3:1001", "10.0.0.5:1002"}},
	}
	for i, tc := range tests {
		out := filepath.Join(dir, fmt.Sprint("o", i))
		args := append([]string{"extract", "--quiet", "-o", out, capPath}, tc.args...)
		if code, _, e := runReseq(args...); code != 0 {
			t.Fatalf("%s: exit %d %s", tc.name, code, e)
		}
		_, recs := flowsByKey(t, out)
		var got []string
		for _, r := range recs {
			if r["dir"] == "c2s" {
				got = append(got, r["src"].(string))
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: connections %v, want %v", tc.name, got, tc.want)
		}
	}

	// --max-bytes: files hold the first N bytes, the rest is a max_bytes gap.
	out := filepath.Join(dir, "maxb")
	if code, _, e := runReseq("extract", "--quiet", "--max-bytes", "1000", "-o", out, capPath); code != 0 {
		t.Fatalf("max-bytes: %d %s", code, e)
	}
	m, _ := flowsByKey(t, out)
	r := m["10.0.0.4:443>10.0.0.3:1001#0"]
	if r["length"] != 5000.0 || r["captured"] != 1000.0 || fmt.Sprint(r["gaps"]) != "[map[length:4000 offset:1000 reason:max_bytes]]" {
		t.Errorf("max-bytes record %v", r)
	}
	checkRecord(t, out, r, append(pattern(5000, 4)[:1000:1000], make([]byte, 4000)...))

	// -T with subdirectories.
	out = filepath.Join(dir, "tpl")
	if code, _, e := runReseq("extract", "--quiet", "-T", "%#/%S/%D", "-o", out, capPath); code != 0 {
		t.Fatalf("-T: %d %s", code, e)
	}
	m, _ = flowsByKey(t, out)
	if f := m["10.0.0.3:1001>10.0.0.4:443#0"]["file"]; f != "0/00000000000000000001/c2s" {
		t.Errorf("-T file %v", f)
	}
	checkRecord(t, out, m["10.0.0.3:1001>10.0.0.4:443#0"], convs[1].c2s)
}

// TestExtractManyConnections: more connections than open files.
func TestExtractManyConnections(t *testing.T) {
	n := 600
	if testing.Short() {
		n = 150
	}
	dir := t.TempDir()
	var all []tcpPkt
	convs := make([]conversation, n)
	for i := range convs {
		// Interleave the connections: each starts 1 µs after the previous.
		convs[i] = conversation{
			client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(10000+i)),
			server: netip.MustParseAddrPort("10.0.0.2:80"),
			c2s:    pattern(1500+i, byte(i)), s2c: pattern(300, byte(i+1)),
			t0: 1_700_000_000*1_000_000_000 + int64(i)*1000,
		}
		all = append(all, convs[i].packets()...)
	}
	// Sort by time (stable: the per-connection order holds).
	all = sortPackets(all)
	capPath := writeCapture(t, dir, "c.pcap", all)
	out := filepath.Join(dir, "o")
	if code, _, e := runReseq("extract", "--quiet", "--max-open", "7", "-o", out, capPath); code != 0 {
		t.Fatalf("exit %d %s", code, e)
	}
	m, recs := flowsByKey(t, out)
	if len(recs) != 2*n {
		t.Fatalf("%d records, want %d", len(recs), 2*n)
	}
	for i, c := range convs {
		if got := recs[2*i]["src"]; got != c.client.String() {
			t.Fatalf("record %d is %v, want %v", 2*i, got, c.client)
		}
		checkRecord(t, out, m[c.client.String()+">"+c.server.String()+"#0"], c.c2s)
		checkRecord(t, out, m[c.server.String()+">"+c.client.String()+"#0"], c.s2c)
	}
}

func sortPackets(p []tcpPkt) []tcpPkt {
	// Insertion into a merge of runs would do; a stable sort is simplest.
	out := append([]tcpPkt(nil), p...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ts < out[j-1].ts; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// TestExtractInputError: a capture cut in the middle of a record gives exit 1
// after everything before the cut was written and indexed.
func TestExtractInputError(t *testing.T) {
	dir := t.TempDir()
	c := conversation{client: netip.MustParseAddrPort("10.0.0.1:1000"), server: netip.MustParseAddrPort("10.0.0.2:2000"), c2s: pattern(4000, 5), mss: 1000}
	pk := c.packets()
	capPath := writeCapture(t, dir, "c.pcap", pk[:6]) // SYN, SYN-ACK, ACK, data, ACK, data
	raw, _ := os.ReadFile(capPath)
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, raw[:len(raw)-500], 0o644) // the last data segment is cut
	out := filepath.Join(dir, "o")
	code, _, stderr := runReseq("extract", "-o", out, cut)
	if code != exitInput || !strings.Contains(stderr, "cut.pcap") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	m, recs := flowsByKey(t, out)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	r := m["10.0.0.1:1000>10.0.0.2:2000#0"]
	if r["captured"] != 1000.0 {
		t.Errorf("record %v", r)
	}
	checkRecord(t, out, r, c.c2s)

	// A missing capture: exit 1, and no output directory.
	if code, _, _ := runReseq("extract", "-o", filepath.Join(dir, "o2"), filepath.Join(dir, "nope.pcap")); code != exitInput {
		t.Errorf("missing capture: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "o2")); err == nil {
		t.Error("a missing capture created the output directory")
	}
	// Not a capture: exit 1.
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("this is not a capture at all, just text"), 0o644)
	if code, _, _ := runReseq("extract", "-o", filepath.Join(dir, "o3"), junk); code != exitInput {
		t.Errorf("junk: exit %d", code)
	}
	// --force into a non-empty directory works.
	if code, _, e := runReseq("extract", "--quiet", "--force", "-o", out, capPath); code != exitOK {
		t.Errorf("--force: exit %d %s", code, e)
	}
}

// realRoot returns ../shared/real relative to the repository root, or skips.
func realRoot(t *testing.T) string {
	t.Helper()
	d, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			break
		}
		p := filepath.Dir(d)
		if p == d {
			t.Skip("repository root (go.work) not found")
		}
		d = p
	}
	r := filepath.Join(d, "..", "shared", "real")
	if _, err := os.Stat(r); err != nil {
		t.Skip("../shared/real not present")
	}
	return r
}

// truthRecord is one line of a real capture's truth file.
type truthRecord struct {
	ClientPort int      `json:"client_port"`
	ServerPort int      `json:"server_port"`
	Seed       int      `json:"seed"`
	Rounds     [][2]int `json:"rounds"`
}

// streams returns the bytes the client and the server sent (README truth spec).
func (r *truthRecord) streams() (c2s, s2c []byte) {
	for i, rd := range r.Rounds {
		c := shake(fmt.Sprintf("%d-c-%d", r.Seed, i), rd[0])
		if i == 0 {
			hdr := fmt.Sprintf("SEED%028d", r.Seed)
			copy(c, hdr[:min(len(hdr), len(c))])
		}
		c2s = append(c2s, c...)
		s2c = append(s2c, shake(fmt.Sprintf("%d-s-%d", r.Seed, i), rd[1])...)
	}
	return c2s, s2c
}

func shake(s string, n int) []byte {
	if n == 0 {
		return nil
	}
	return sha3.SumSHAKE256([]byte(s), n)
}

// TestExtractRealCaptures runs extract on real captures and checks every
// written byte against what the endpoints sent.
func TestExtractRealCaptures(t *testing.T) {
	real := realRoot(t)
	names := []string{"lossy_v4.pcap", "clean_v6_nano.pcap", "lossy_v6_ng.pcapng", "lossy_snap200.pcap"}
	if testing.Short() {
		names = names[:1]
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			capPath := filepath.Join(real, name)
			base := strings.TrimSuffix(strings.TrimSuffix(name, ".pcap"), ".pcapng")
			tb, err := os.ReadFile(filepath.Join(real, base+".truth.jsonl"))
			if err != nil {
				t.Skip(err)
			}
			out := filepath.Join(t.TempDir(), "o")
			if code, _, e := runReseq("extract", "--quiet", "-o", out, capPath); code != exitOK {
				t.Fatalf("exit %d: %s", code, e)
			}
			_, recs := flowsByKey(t, out)
			verified := 0
			for _, line := range bytes.Split(bytes.TrimSpace(tb), []byte("\n")) {
				var tr truthRecord
				if err := json.Unmarshal(line, &tr); err != nil {
					t.Fatal(err)
				}
				c2s, s2c := tr.streams()
				found := 0
				for _, r := range recs {
					sp := addrPort(t, r["src"].(string)).Port()
					dp := addrPort(t, r["dst"].(string)).Port()
					var want []byte
					switch {
					case int(sp) == tr.ClientPort && int(dp) == tr.ServerPort:
						want = c2s
					case int(sp) == tr.ServerPort && int(dp) == tr.ClientPort:
						want = s2c
					default:
						continue
					}
					found++
					if r["syn"] != true {
						t.Errorf("%v>%v: no SYN, cannot anchor", r["src"], r["dst"])
						continue
					}
					checkRecord(t, out, r, want)
					verified += int(r["captured"].(float64))
				}
				if found != 2 {
					t.Errorf("connection %d->%d: %d records, want 2", tr.ClientPort, tr.ServerPort, found)
				}
			}
			t.Logf("%s: %d records, %d bytes verified", name, len(recs), verified)
			if verified == 0 {
				t.Error("no byte verified")
			}
		})
	}
}

func addrPort(t *testing.T, s string) netip.AddrPort {
	a, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatalf("bad address %q", s)
	}
	return a
}

// TestExtract100kConnections (RESEQ_HEAVY=1): 100 000 connections all open at
// once — more stream files than the default fd limit — each written and
// indexed exactly. Run under `ulimit -n 1024` to check the limit.
func TestExtract100kConnections(t *testing.T) {
	if os.Getenv("RESEQ_HEAVY") == "" {
		t.Skip("set RESEQ_HEAVY=1 (writes 200 000 files)")
	}
	const n = 100_000
	dir := t.TempDir()
	convs := make([]conversation, n)
	var syns, rest []tcpPkt
	for i := range convs {
		convs[i] = conversation{
			client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000)),
			server: netip.MustParseAddrPort("10.255.0.1:80"),
			c2s:    pattern(20+i%50, byte(i)), s2c: pattern(30+i%70, byte(i+1)),
			t0: 1_700_000_000*1_000_000_000 + int64(i)*1000,
		}
		p := convs[i].packets()
		syns = append(syns, p[:3]...)
		rest = append(rest, p[3:]...)
	}
	// Every handshake first, then every connection's data and FINs: all
	// 200 000 directions are live at once.
	base := syns[len(syns)-1].ts + ms // within the idle timeout of every handshake
	for i := range rest {
		rest[i].ts = base + int64(i)
	}
	capPath := writeCapture(t, dir, "c.pcap", append(syns, rest...))
	out := filepath.Join(dir, "o")
	if code, _, e := runReseq("extract", "--quiet", "-o", out, capPath); code != exitOK {
		t.Fatalf("exit %d: %s", code, e)
	}
	m, recs := flowsByKey(t, out)
	if len(recs) != 2*n {
		t.Fatalf("%d records, want %d", len(recs), 2*n)
	}
	for i, c := range convs {
		if recs[2*i]["src"] != c.client.String() {
			t.Fatalf("record %d: %v, want %v", 2*i, recs[2*i]["src"], c.client)
		}
		checkRecord(t, out, m[c.client.String()+">"+c.server.String()+"#0"], c.c2s)
		checkRecord(t, out, m[c.server.String()+">"+c.client.String()+"#0"], c.s2c)
	}
}

// TestExtractStdin: "-" reads the capture from standard input.
func TestExtractStdin(t *testing.T) {
	dir := t.TempDir()
	c := conversation{client: netip.MustParseAddrPort("10.0.0.1:1000"), server: netip.MustParseAddrPort("10.0.0.2:2000"), c2s: pattern(2500, 7), s2c: pattern(10, 8)}
	capPath := writeCapture(t, dir, "c.pcap", c.packets())
	f, err := os.Open(capPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = saved }()
	out := filepath.Join(dir, "o")
	if code, _, e := runReseq("extract", "--quiet", "-o", out, "-"); code != exitOK {
		t.Fatalf("exit %d: %s", code, e)
	}
	m, _ := flowsByKey(t, out)
	checkRecord(t, out, m["10.0.0.1:1000>10.0.0.2:2000#0"], c.c2s)
	checkRecord(t, out, m["10.0.0.2:2000>10.0.0.1:1000#0"], c.s2c)
	if m["10.0.0.1:1000>10.0.0.2:2000#0"]["captured"] != 2500.0 {
		t.Errorf("record %v", m["10.0.0.1:1000>10.0.0.2:2000#0"])
	}
}
