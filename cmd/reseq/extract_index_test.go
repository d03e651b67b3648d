package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/reseq/reseq/layers"
	stages "github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// testConn builds a connection the way the assembler hands it to Open.
func testConn(src, dst string, vlans []uint16, index int, seq int64) *tcpasm.Conn {
	var k layers.FlowKey
	k.SetAddrs(netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst))
	for _, v := range vlans {
		k.VLANs[k.NumVLANs] = v
		k.NumVLANs++
	}
	c := &tcpasm.Conn{Key: k, Index: index, Seq: seq, FirstIndex: seq}
	for d := range c.Streams {
		c.Streams[d] = &tcpasm.Stream{Conn: c, Dir: tcpasm.Direction(d)}
	}
	return c
}

func readIndex(t *testing.T, dir string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "flows.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad index line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func newTestExtractor(t *testing.T, cfg extractorConfig) *extractor {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.MaxOpen == 0 {
		cfg.MaxOpen = 4
	}
	var warn bytes.Buffer
	cfg.Warn = &warn
	e, err := newExtractor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if warn.Len() > 0 && e.tot.Anomalies == 0 {
			t.Errorf("warnings without anomalies: %s", warn.String())
		}
	})
	return e
}

func TestStreamNames(t *testing.T) {
	tpl, err := parseTemplate(defaultTemplate)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		src, dst string
		vlans    []uint16
		index    int
		dir      tcpasm.Direction
		want     string
	}{
		{"10.0.0.1:443", "10.0.0.2:51234", nil, 0, tcpasm.ClientToServer, "010.000.000.001.00443-010.000.000.002.51234"},
		{"10.0.0.1:443", "10.0.0.2:51234", nil, 0, tcpasm.ServerToClient, "010.000.000.002.51234-010.000.000.001.00443"},
		{"192.168.1.255:7", "1.2.3.4:65535", []uint16{100}, 0, tcpasm.ClientToServer, "192.168.001.255.00007-001.002.003.004.65535--100"},
		{"10.0.0.1:1", "10.0.0.2:2", []uint16{10, 20}, 3, tcpasm.ClientToServer, "010.000.000.001.00001-010.000.000.002.00002--10--20c3"},
		{"[fd77::1]:5001", "[fd77::2]:80", nil, 1, tcpasm.ClientToServer, "fd77_0000_0000_0000_0000_0000_0000_0001.05001-fd77_0000_0000_0000_0000_0000_0000_0002.00080c1"},
	}
	for _, tc := range tests {
		c := testConn(tc.src, tc.dst, tc.vlans, tc.index, 0)
		got := tpl.name(c.Streams[tc.dir])
		if got != tc.want {
			t.Errorf("name(%s -> %s %v #%d dir %d) = %q, want %q", tc.src, tc.dst, tc.vlans, tc.index, tc.dir, got, tc.want)
		}
		if strings.ContainsAny(got, `<>:"\|?*/`) {
			t.Errorf("%q is not a valid Windows file name", got)
		}
	}
}

func TestTemplate(t *testing.T) {
	c := testConn("10.0.0.1:443", "10.0.0.2:51234", []uint16{7}, 2, 41)
	s := c.Streams[tcpasm.ServerToClient]
	s.First = 1700000000_123456789
	tests := []struct{ tpl, want string }{
		{"%N-%D-%c-%#", "083-s2c-2-2"},
		{"%K/%M/%G/%S", "000/000/000/00000000000000000041"},
		{"flows/%A/%a-%b%V%v%C%c.bin", "flows/010.000.000.002/51234-00443--7c2.bin"},
		{"%t_%T_100%%", "1700000000_" + strings.ReplaceAll("2023-11-14T22:13:20Z", ":", fileTimeLayout[13:14]) + "_100%"},
	}
	for _, tc := range tests {
		tpl, err := parseTemplate(tc.tpl)
		if err != nil {
			t.Fatalf("parseTemplate(%q): %v", tc.tpl, err)
		}
		if got := tpl.name(s); got != tc.want {
			t.Errorf("template %q = %q, want %q", tc.tpl, got, tc.want)
		}
	}
	for _, bad := range []string{"", "%", "%x", "%E", "%e", "/abs/%A", "a/../%A", "a//b", "x:y", "a\\b", "dir./%A", "%A/"} {
		if _, err := parseTemplate(bad); err == nil {
			t.Errorf("parseTemplate(%q) accepted", bad)
		}
	}
	// Templates whose expansion can be empty, ".", "..", absolute or end in
	// a dot, because %V and %C are empty for most streams.
	for _, bad := range []string{"%C", "%V%C", "%v", "%c", "%V%v%C%c", ".%C", "..%V", "%C/%A", "%V/%A", "%v/%A", "%A/%C", "x/..%C/y", "a.%C", "a.%c"} {
		if _, err := parseTemplate(bad); err == nil {
			t.Errorf("parseTemplate(%q) accepted", bad)
		}
		code, _, stderr := runReseq("extract", "-o", filepath.Join(t.TempDir(), "o"), "-T", bad, "testdata/none.pcap")
		if code != exitUsage || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "can expand to") {
			t.Errorf("-T %q: exit %d, %q", bad, code, stderr)
		}
	}
	for _, good := range []string{"c%C", "%A%C", "x%V%C%c", "x/%A.%C-", "%A.%a-%B.%b%V%v%C%c", "%K/%N/%A"} {
		if _, err := parseTemplate(good); err != nil {
			t.Errorf("parseTemplate(%q): %v", good, err)
		}
	}
}

// TestExtractIndex drives the handler as the assembler would and checks the
// files and every field of the index.
func TestExtractIndex(t *testing.T) {
	dir := t.TempDir()
	e := newTestExtractor(t, extractorConfig{Dir: dir, Tables: &stages.Tables{}})
	const t0 = int64(1_700_000_000_000_000_000)

	// Connection 1 (seen second): data with a gap that is partly filled late.
	c1 := testConn("10.0.0.1:40000", "10.0.0.2:80", []uint16{100}, 0, 1)
	c1.CapturePoints = []int32{201, 202}
	// Connection 0 (seen first): server sends nothing.
	c0 := testConn("[fd00::1]:1234", "[fd00::2]:443", nil, 1, 0)

	e.Open(c1)
	e.Open(c0)
	a, b := c1.Streams[0], c1.Streams[1]
	a.HaveBase, a.BaseSeq, a.SYN, a.FIN = true, 4294967290, true, true
	b.HaveBase, b.BaseSeq, b.SYN = true, 77, true
	e.Data(a, 0, []byte("hello "), t0)
	e.Gap(a, 6, 10, tcpasm.ReasonAcked, t0+1)
	e.Data(a, 16, []byte("world"), t0+2)
	e.Late(a, 8, []byte("LATE"), t0+3) // fills [8,12) of the gap [6,16)
	e.Conflict(a, tcpasm.Conflict{Offset: 0, Length: 2, KeptIndex: 1, DroppedIndex: 5, KeptTime: t0, DroppedTime: t0 + 5}, t0+5)
	a.Extent = 25 // the peer ACKed up to 25: [21, 25) is missing
	a.First, a.Last = t0, t0+9
	a.Stats = tcpasm.StreamStats{Packets: 7, Retransmitted: 2, Duplicates: 1, OutOfOrder: 1, BeforeBase: 3}
	e.Close(a, tcpasm.ReasonFIN, t0+9)

	e.Data(b, 0, []byte("HTTP/1.1 200 OK\r\n"), t0+4)
	b.Extent = 17
	b.RST = true
	b.First, b.Last = t0+4, t0+4
	b.Stats.Packets = 1
	e.Close(b, tcpasm.ReasonRST, t0+9)

	c0a, c0b := c0.Streams[0], c0.Streams[1]
	c0a.HaveBase, c0a.BaseSeq = true, 1000
	e.Data(c0a, 0, []byte{1, 2, 3}, t0)
	c0a.Extent = 3
	c0a.Stats.Packets = 2
	c0a.First, c0a.Last = t0-5, t0
	e.Close(c0a, tcpasm.ReasonEOF, t0+10)
	e.Close(c0b, tcpasm.ReasonEOF, t0+10)

	if err := e.finish(); err != nil {
		t.Fatal(err)
	}
	if e.tot.Anomalies != 0 {
		t.Fatalf("%d anomalies", e.tot.Anomalies)
	}
	recs := readIndex(t, dir)
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	// Order: connection 0 first (c2s, s2c), then connection 1.
	wantOrder := [][2]string{
		{"[fd00::1]:1234", "[fd00::2]:443"}, {"[fd00::2]:443", "[fd00::1]:1234"},
		{"10.0.0.1:40000", "10.0.0.2:80"}, {"10.0.0.2:80", "10.0.0.1:40000"},
	}
	for i, w := range wantOrder {
		if recs[i]["src"] != w[0] || recs[i]["dst"] != w[1] {
			t.Errorf("record %d is %v > %v, want %v > %v", i, recs[i]["src"], recs[i]["dst"], w[0], w[1])
		}
	}
	// The silent direction: no file, no base, null times, but listed.
	r := recs[1]
	for _, f := range []string{"file", "base_seq", "vlan", "capture_points"} {
		if _, ok := r[f]; ok {
			t.Errorf("silent direction has %q: %v", f, r)
		}
	}
	for _, f := range []string{"first", "last"} {
		if v, ok := r[f]; !ok || v != nil {
			t.Errorf("silent direction: %q is %v, want null", f, v)
		}
	}
	if r["length"] != 0.0 || r["captured"] != 0.0 || r["conn"] != 1.0 {
		t.Errorf("silent direction: %v", r)
	}

	r = recs[2]
	want := map[string]any{
		"src": "10.0.0.1:40000", "dst": "10.0.0.2:80", "community_id": "1:3k1SoWXs/FltHw2aBCgUTgbDQF4=",
		"vlan": []any{100.0}, "capture_points": []any{"vlan:201", "vlan:202"}, "tunnels": []any{},
		"conn": 0.0, "index": 1.0, "first_frame": 2.0, "dir": "c2s",
		"file":     "010.000.000.001.40000-010.000.000.002.00080--100",
		"base_seq": 4294967290.0, "syn": true, "fin": true, "rst": false, "close": "fin",
		"length": 25.0, "captured": 15.0, "gap_bytes": 10.0,
		"gaps": []any{
			map[string]any{"offset": 6.0, "length": 2.0, "reason": "acked"},
			map[string]any{"offset": 12.0, "length": 4.0, "reason": "acked"},
			map[string]any{"offset": 21.0, "length": 4.0, "reason": "closed"},
		},
		"packets": 7.0, "retransmitted": 2.0, "duplicates": 1.0, "out_of_order": 1.0,
		"conflicts": 1.0, "late": 4.0, "before_base": 3.0, "out_of_window": 0.0, "rst_bytes": 0.0, "rst_survived": 0.0,
		"first": "2023-11-14T22:13:20.000000000Z", "last": "2023-11-14T22:13:20.000000009Z",
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("record\n got %v\nwant %v", r, want)
	}
	data, err := os.ReadFile(filepath.Join(dir, r["file"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	if wantData := "hello \x00\x00LATE\x00\x00\x00\x00world\x00\x00\x00\x00"; string(data) != wantData {
		t.Errorf("file = %q, want %q", data, wantData)
	}
	if recs[3]["close"] != "rst" || recs[3]["rst"] != true || recs[3]["captured"] != 17.0 {
		t.Errorf("s2c record: %v", recs[3])
	}
	if recs[0]["file"] != "fd00_0000_0000_0000_0000_0000_0000_0001.01234-fd00_0000_0000_0000_0000_0000_0000_0002.00443c1" {
		t.Errorf("v6 file name %v", recs[0]["file"])
	}

	// conflicts.jsonl
	cb, err := os.ReadFile(filepath.Join(dir, "conflicts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var cr map[string]any
	if err := json.Unmarshal(cb, &cr); err != nil {
		t.Fatalf("conflicts.jsonl %q: %v", cb, err)
	}
	if cr["offset"] != 0.0 || cr["length"] != 2.0 || cr["kept_frame"] != 2.0 || cr["dropped_frame"] != 6.0 || cr["kept_time"] != "2023-11-14T22:13:20.000000000Z" || cr["file"] != want["file"] {
		t.Errorf("conflict record %v", cr)
	}
	// Nothing else left in DIR.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 5 {
		var names []string
		for _, x := range ents {
			names = append(names, x.Name())
		}
		t.Errorf("DIR holds %v, want 3 stream files + flows.jsonl + conflicts.jsonl", names)
	}
}

// TestLateSplitsGaps checks gap bookkeeping for late bytes at every position
// of a gap, across several gaps and overlapping delivered bytes.
func TestLateSplitsGaps(t *testing.T) {
	type late struct {
		off int64
		n   int
	}
	tests := []struct {
		name  string
		lates []late
		want  []gapRange
		anom  bool
	}{
		{"whole", []late{{10, 10}}, []gapRange{{30, 10, tcpasm.ReasonAcked}}, false},
		{"front", []late{{10, 3}}, []gapRange{{13, 7, tcpasm.ReasonAcked}, {30, 10, tcpasm.ReasonAcked}}, false},
		{"back", []late{{17, 3}}, []gapRange{{10, 7, tcpasm.ReasonAcked}, {30, 10, tcpasm.ReasonAcked}}, false},
		{"middle", []late{{12, 2}}, []gapRange{{10, 2, tcpasm.ReasonAcked}, {14, 6, tcpasm.ReasonAcked}, {30, 10, tcpasm.ReasonAcked}}, false},
		{"two gaps", []late{{15, 20}}, []gapRange{{10, 5, tcpasm.ReasonAcked}, {35, 5, tcpasm.ReasonAcked}}, true},
		{"all", []late{{10, 10}, {30, 10}}, nil, false},
		{"outside", []late{{0, 5}}, []gapRange{{10, 10, tcpasm.ReasonAcked}, {30, 10, tcpasm.ReasonAcked}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			e := newTestExtractor(t, extractorConfig{Dir: dir})
			c := testConn("10.0.0.1:1", "10.0.0.2:2", nil, 0, 0)
			e.Open(c)
			s := c.Streams[0]
			src := make([]byte, 50)
			for i := range src {
				src[i] = byte('a' + i%26)
			}
			e.Data(s, 0, src[:10], 1)
			e.Gap(s, 10, 10, tcpasm.ReasonAcked, 1)
			e.Data(s, 20, src[20:30], 1)
			e.Gap(s, 30, 10, tcpasm.ReasonAcked, 1)
			e.Data(s, 40, src[40:50], 1)
			for _, l := range tc.lates {
				e.Late(s, l.off, src[l.off:l.off+int64(l.n)], 2)
			}
			st := state(s)
			if !(len(st.gaps) == 0 && len(tc.want) == 0) && !reflect.DeepEqual(st.gaps, tc.want) {
				t.Errorf("gaps %v, want %v", st.gaps, tc.want)
			}
			if (e.tot.Anomalies > 0) != tc.anom {
				t.Errorf("anomalies %d", e.tot.Anomalies)
			}
			s.Extent = 50
			e.Close(s, tcpasm.ReasonEOF, 3)
			e.Close(c.Streams[1], tcpasm.ReasonEOF, 3)
			if err := e.finish(); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "010.000.000.001.00001-010.000.000.002.00002"))
			// Every byte not in a remaining gap equals the source; gap bytes are zero.
			for i := range src {
				inGap := false
				for _, g := range tc.want {
					if int64(i) >= g.off && int64(i) < g.off+g.n {
						inGap = true
					}
				}
				w := src[i]
				if inGap {
					w = 0
				}
				if got[i] != w {
					t.Fatalf("byte %d = %q, want %q (file %q)", i, got[i], w, got)
				}
			}
			rec := readIndex(t, dir)[0]
			var gapBytes int64
			for _, g := range tc.want {
				gapBytes += g.n
			}
			if rec["captured"] != float64(50-gapBytes) {
				t.Errorf("captured %v, want %d", rec["captured"], 50-gapBytes)
			}
		})
	}
}

func TestMaxBytes(t *testing.T) {
	dir := t.TempDir()
	e := newTestExtractor(t, extractorConfig{Dir: dir, MaxBytes: 8})
	c := testConn("10.0.0.1:1", "10.0.0.2:2", nil, 0, 0)
	e.Open(c)
	s := c.Streams[0]
	e.Data(s, 0, []byte("abcd"), 1)
	e.Gap(s, 4, 2, tcpasm.ReasonAcked, 1)
	e.Data(s, 6, []byte("ghijklmnop"), 1)
	e.Gap(s, 16, 4, tcpasm.ReasonAcked, 1)
	e.Late(s, 16, []byte("qr"), 1)
	s.Extent = 20
	e.Close(s, tcpasm.ReasonEOF, 2)
	e.Close(c.Streams[1], tcpasm.ReasonEOF, 2)
	if err := e.finish(); err != nil {
		t.Fatal(err)
	}
	if e.tot.Anomalies != 0 {
		t.Fatalf("anomalies %d", e.tot.Anomalies)
	}
	rec := readIndex(t, dir)[0]
	wantGaps := []any{
		map[string]any{"offset": 4.0, "length": 2.0, "reason": "acked"},
		map[string]any{"offset": 8.0, "length": 12.0, "reason": "max_bytes"},
	}
	if !reflect.DeepEqual(rec["gaps"], wantGaps) || rec["length"] != 20.0 || rec["captured"] != 6.0 {
		t.Errorf("record %v", rec)
	}
	got, _ := os.ReadFile(filepath.Join(dir, rec["file"].(string)))
	if string(got) != "abcd\x00\x00gh"+strings.Repeat("\x00", 12) {
		t.Errorf("file %q", got)
	}
}

// TestFilePoolLRU writes many streams interleaved through a pool of 3 open
// files and checks every file.
func TestFilePoolLRU(t *testing.T) {
	dir := t.TempDir()
	e := newTestExtractor(t, extractorConfig{Dir: dir, MaxOpen: 3})
	const n = 20
	conns := make([]*tcpasm.Conn, n)
	for i := range conns {
		conns[i] = testConn("10.0.0.1:1000", netip.AddrPortFrom(netip.MustParseAddr("10.0.1.1"), uint16(2000+i)).String(), nil, 0, int64(i))
		e.Open(conns[i])
	}
	for round := 0; round < 5; round++ {
		for i, c := range conns {
			chunk := bytes.Repeat([]byte{byte('A' + i)}, 100+i)
			e.Data(c.Streams[0], int64(round*(100+i)), chunk, 1)
			if e.pool.open > 3 {
				t.Fatalf("%d files open", e.pool.open)
			}
		}
	}
	for _, c := range conns {
		c.Streams[0].Extent = state(c.Streams[0]).cursor
		e.Close(c.Streams[0], tcpasm.ReasonFIN, 2)
		e.Close(c.Streams[1], tcpasm.ReasonFIN, 2)
	}
	if err := e.finish(); err != nil {
		t.Fatal(err)
	}
	recs := readIndex(t, dir)
	if len(recs) != 2*n {
		t.Fatalf("%d records", len(recs))
	}
	for i := 0; i < n; i++ {
		r := recs[2*i]
		got, err := os.ReadFile(filepath.Join(dir, r["file"].(string)))
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.Repeat([]byte{byte('A' + i)}, 5*(100+i)); !bytes.Equal(got, want) {
			t.Errorf("stream %d: %d bytes, want %d", i, len(got), len(want))
		}
	}
	if e.pool.opens <= n {
		t.Errorf("only %d opens: the LRU never evicted", e.pool.opens)
	}
}

func TestOutputDir(t *testing.T) {
	dir := t.TempDir()
	if err := checkOutputDir(filepath.Join(dir, "new", "sub"), false); err != nil {
		t.Errorf("new dir: %v", err)
	}
	if err := checkOutputDir(dir, false); err == nil {
		t.Error("non-empty dir accepted")
	}
	if err := checkOutputDir(dir, true); err != nil {
		t.Errorf("--force: %v", err)
	}
}

// TestTemplateCollisions: a template that does not tell streams apart gets
// numbered names instead of overwriting.
func TestTemplateCollisions(t *testing.T) {
	dir := t.TempDir()
	tpl, _ := parseTemplate("same")
	e := newTestExtractor(t, extractorConfig{Dir: dir, Template: tpl})
	c := testConn("10.0.0.1:1", "10.0.0.2:2", nil, 0, 0)
	e.Open(c)
	// A template naming a stream like the index gets another name.
	e.tpl, _ = parseTemplate("flows.jsonl")
	c2 := testConn("10.0.0.1:3", "10.0.0.2:4", nil, 0, 1)
	e.Open(c2)
	e.Data(c2.Streams[0], 0, []byte{9}, 1)
	c2.Streams[0].Extent = 1
	e.Close(c2.Streams[0], tcpasm.ReasonFIN, 1)
	e.Close(c2.Streams[1], tcpasm.ReasonFIN, 1)
	e.tpl = tpl
	for d, s := range c.Streams {
		e.Data(s, 0, []byte{byte(d + 1)}, 1)
		s.Extent = 1
		e.Close(s, tcpasm.ReasonFIN, 1)
	}
	if err := e.finish(); err != nil {
		t.Fatal(err)
	}
	recs := readIndex(t, dir)
	if recs[0]["file"] != "same" || recs[1]["file"] != "same-1" || recs[2]["file"] != "flows.jsonl-1" {
		t.Errorf("files %v %v %v", recs[0]["file"], recs[1]["file"], recs[2]["file"])
	}
}

// TestIndexReplacedWhole: the index is replaced in one step. When writing the
// new one fails midway (a full disk, a read error of the spill), the previous
// index is left as it was, complete, and no partial copy stays; it used to
// be truncated and left with a torn last line.
func TestIndexReplacedWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.jsonl")
	old := []byte("{\"old\":1}\n{\"old\":2}\n")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	sp, err := newRecordSpill(filepath.Join(dir, ".flows.jsonl.tmp"), &signals{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		if err := sp.add(connOrder{first: int64(i)}, 0, map[string]any{"n": i, "pad": strings.Repeat("x", 100)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.w.Flush(); err != nil {
		t.Fatal(err)
	}
	// A spill cut short: reading it fails after some records were copied.
	if err := sp.f.Truncate(sp.off / 2); err != nil {
		t.Fatal(err)
	}
	if err := sp.writeSorted(path); err == nil {
		t.Fatal("no error from a spill cut short")
	}
	if got, _ := os.ReadFile(path); string(got) != string(old) {
		t.Fatalf("previous index became %d bytes", len(got))
	}
	if names, _ := os.ReadDir(dir); len(names) != 1 {
		t.Fatalf("left in the directory: %v", names)
	}
	// And a successful write replaces it whole.
	sp, _ = newRecordSpill(filepath.Join(dir, ".flows.jsonl.tmp"), &signals{})
	sp.add(connOrder{}, 0, map[string]int{"new": 1})
	if err := sp.writeSorted(path); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "{\"new\":1}\n" {
		t.Fatalf("new index %q", got)
	}
}

// The file pools of --workers n share one pool's spare buffers and writers,
// and the pool they replace is closed.
func TestFilePoolShares(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 8} {
		e := newTestExtractor(t, extractorConfig{Dir: t.TempDir(), MaxOpen: 256})
		old := e.pool
		xs := e.shards(n)
		if len(xs) != n {
			t.Fatalf("n=%d: %d extractors", n, len(xs))
		}
		spare, writers := 0, 0
		for _, x := range xs {
			if x.pool.max != max(1, 256/n) {
				t.Errorf("n=%d: %d open files a pool", n, x.pool.max)
			}
			spare += x.pool.spare
			writers += len(x.pool.ops)
		}
		if spare > spareBufs {
			t.Errorf("n=%d: %d spare buffers in all, one pool has %d", n, spare, spareBufs)
		}
		if writers < n || writers > fileWriters+n-1 {
			t.Errorf("n=%d: %d writer goroutines in all", n, writers)
		}
		if n > 1 && (e.pool == old || !old.ended) {
			t.Errorf("n=%d: the replaced pool was not closed", n)
		}
		if n == 1 && e.pool != old {
			t.Errorf("one extractor: its pool was replaced")
		}
		if err := e.finish(); err != nil {
			t.Fatal(err)
		}
		for _, x := range xs {
			if !x.pool.ended {
				t.Errorf("n=%d: finish left a pool open", n)
			}
		}
	}
}

// TestFilePoolBuffers checks the write buffers' free stack: the most recently
// returned buffer is handed out first (its pages are mapped), a new one only
// while fewer than max+spare exist, and at that bound getBuf waits for a
// writer to return one.
func TestFilePoolBuffers(t *testing.T) {
	p := newFilePoolShare(1, 4096, false, spareBufs) // 1 open file, 1 spare: 2 buffers
	defer p.closeAll()
	first := func(b []byte) *byte { return &b[:1][0] }
	a, b := p.getBuf(), p.getBuf()
	if cap(a) != 4096 || cap(b) != 4096 || first(a) == first(b) {
		t.Fatalf("two new buffers: caps %d, %d, same memory %v", cap(a), cap(b), first(a) == first(b))
	}
	p.putBuf(append(a, 'x'))
	p.putBuf(b)
	for i, want := range [][]byte{b, a} {
		got := p.getBuf()
		if first(got) != first(want) || len(got) != 0 {
			t.Fatalf("getBuf %d: not the buffer returned most recently, or not empty (len %d)", i, len(got))
		}
	}
	// Both buffers are out and the bound is reached: getBuf waits.
	got := make(chan []byte)
	go func() { got <- p.getBuf() }()
	select {
	case <-got:
		t.Fatal("getBuf made a buffer beyond max+spare")
	case <-time.After(50 * time.Millisecond):
	}
	p.putBuf(a)
	select {
	case g := <-got:
		if first(g) != first(a) {
			t.Fatal("the waiting getBuf did not get the returned buffer")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("getBuf still waiting after a buffer came back")
	}
	if p.nbufs != 2 {
		t.Fatalf("%d buffers made, want 2", p.nbufs)
	}
}
