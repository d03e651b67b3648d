package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/internal/wrapcap"
	"github.com/reseq/reseq/layers"
	stages "github.com/reseq/reseq/pipeline"
)

// splitCounts counts the frames of a capture that decode to a whole TCP
// segment and those that are IP fragments.
func splitCounts(t *testing.T, path string) (tcp, frags int) {
	t.Helper()
	r, err := reseq.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var lp layers.Packet
	for {
		pkt, err := r.Next()
		if err == io.EOF {
			return tcp, frags
		}
		if err != nil {
			t.Fatal(err)
		}
		st := lp.DecodeWith(nil, layers.LinkType(pkt.LinkType), pkt.Data, pkt.Length)
		switch {
		case st.OK() && lp.Transport == layers.TransportTCP:
			tcp++
		case st.Reason == layers.StopFragment:
			frags++
		}
	}
}

// splitReport runs report over in and returns report.json's connections and
// delivered bytes.
func splitReport(t *testing.T, out, in string) [2]int64 {
	t.Helper()
	if code, _, e := runReseq("report", "-o", out, "--quiet", in); code != exitOK {
		t.Fatalf("report %s: exit %d: %s", in, code, e)
	}
	b, err := os.ReadFile(strings.TrimSuffix(out, ".html") + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Connections    int64 `json:"connections"`
		DeliveredBytes int64 `json:"delivered_bytes"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return [2]int64{r.Connections, r.DeliveredBytes}
}

// TestSplitSpreadsOnePair (issue 16): the real captures are the connections
// of one address pair, and split -n 4 shares them out by connection: with 8
// connections no shard holds more than 40% of the TCP frames and none is
// empty (the old split, by address pair, put all in one). Every IP fragment
// is in every shard file. Extract of each shard file and merge write what
// one extract writes, byte for byte, with the capture plain, every IPv4
// datagram fragmented, or inside VXLAN; and under a filter.
func TestSplitSpreadsOnePair(t *testing.T) {
	capPath := realCapture(t, "lossy_v4.pcap")
	b, err := os.ReadFile(capPath)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	const n = 4
	for _, c := range []struct {
		spec     string   // wrapcap spec; "" the capture as it is
		balanced bool     // the TCP frames are shared out
		args     []string // extract's and split's options
	}{
		{"", true, nil},
		{"frag:68:7", false, nil},
		{"vxlan:5001", true, []string{"--capture-point", "outer,tunnel"}},
		{"vxlan:5001,outer-frag:300", false, nil},
		{"", true, []string{"--port", "5001", "--port", "5002"}},
	} {
		label := fmt.Sprintf("%q%v", c.spec, c.args)
		t.Run(label, func(t *testing.T) {
			in := capPath
			base := filepath.Join(tmp, fmt.Sprintf("%x", label))
			if err := os.MkdirAll(base, 0o755); err != nil {
				t.Fatal(err)
			}
			if c.spec != "" {
				w, _, err := wrapcap.WrapBytes(b, c.spec)
				if err != nil {
					t.Fatal(err)
				}
				in = filepath.Join(base, "in.pcap")
				if err := os.WriteFile(in, w, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tcpAll, fragAll := splitCounts(t, in)
			if c.spec != "" && c.spec[:4] == "frag" && (fragAll == 0 || tcpAll > fragAll/4) {
				t.Fatalf("%d fragments, %d whole TCP segments: the capture is not fragmented", fragAll, tcpAll)
			}
			split := filepath.Join(base, "split")
			a := append([]string{"split", "-n", fmt.Sprint(n), "-o", split}, c.args...)
			// Split takes only the decode options; a filter is extract's.
			if len(c.args) > 0 && c.args[0] == "--port" {
				a = a[:5]
			}
			if code, _, e := runReseq(append(a, in)...); code != exitOK {
				t.Fatalf("split: exit %d: %s", code, e)
			}
			tcpSum := 0
			var dirs []string
			for i := range n {
				f := filepath.Join(split, shardFile(i, n))
				tcp, frags := splitCounts(t, f)
				tcpSum += tcp
				if frags != fragAll {
					t.Errorf("shard %d: %d IP fragments, want all %d", i, frags, fragAll)
				}
				if c.balanced && (tcp == 0 || tcp*10 > tcpAll*4) {
					t.Errorf("shard %d: %d of %d TCP frames: want a share, at most 40%%", i, tcp, tcpAll)
				}
				d := filepath.Join(base, fmt.Sprintf("x%d", i))
				if code, _, e := runReseq(append(append([]string{"extract", "-o", d, "--quiet"}, c.args...), f)...); code != exitOK {
					t.Fatalf("extract %s: exit %d: %s", f, code, e)
				}
				dirs = append(dirs, d)
			}
			if tcpSum != tcpAll {
				t.Errorf("the shards hold %d TCP frames, the input %d", tcpSum, tcpAll)
			}
			one := filepath.Join(base, "one")
			if code, _, e := runReseq(append(append([]string{"extract", "-o", one, "--quiet"}, c.args...), in)...); code != exitOK {
				t.Fatalf("extract: exit %d: %s", code, e)
			}
			m := filepath.Join(base, "merged")
			if code, _, e := runReseq(append([]string{"merge", "-o", m}, dirs...)...); code != exitOK {
				t.Fatalf("merge: exit %d: %s", code, e)
			}
			want := shardTree(t, one)
			if len(want) < 10 {
				t.Fatalf("one run wrote %d files", len(want))
			}
			sameTree(t, "split -n 4, extract and merge", want, shardTree(t, m))
			if c.args != nil {
				return
			}
			// report (its own reading of the inputs) keeps a shard file's
			// rule too: the shards' connections and bytes add up to one
			// run's.
			wantRep := splitReport(t, filepath.Join(base, "one.html"), in)
			var sum [2]int64
			for i := range n {
				r := splitReport(t, filepath.Join(base, fmt.Sprintf("r%d.html", i)), filepath.Join(split, shardFile(i, n)))
				sum[0] += r[0]
				sum[1] += r[1]
			}
			if sum != wantRep || wantRep[0] != 8 {
				t.Errorf("report of the shards: %d connections, %d bytes delivered; one run: %d, %d", sum[0], sum[1], wantRep[0], wantRep[1])
			}
		})
	}
}

// TestSplitAgain: a shard file split again carries its input's shard in its
// rule ("reseq split J/M I/N"), so the fragments of other shards' connections
// copied into it stay out; extract of the sub-shards and of the other shard,
// merged, equals one run. Shard files of different shards are not split
// together.
func TestSplitAgain(t *testing.T) {
	b, err := os.ReadFile(realCapture(t, "lossy_v4.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	w, _, err := wrapcap.WrapBytes(b, "frag:200:3")
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(base, "in.pcap")
	if err := os.WriteFile(in, w, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(want int, args ...string) {
		t.Helper()
		if code, _, e := runReseq(args...); code != want {
			t.Fatalf("%v: exit %d, want %d: %s", args, code, want, e)
		}
	}
	sp, sub := filepath.Join(base, "split"), filepath.Join(base, "sub")
	run(exitOK, "split", "-n", "2", "-o", sp, in)
	s0, s1 := filepath.Join(sp, shardFile(0, 2)), filepath.Join(sp, shardFile(1, 2))
	run(exitUsage, "split", "-n", "2", "-o", filepath.Join(base, "mixed"), s0, s1)
	run(exitOK, "split", "-n", "3", "-o", sub, s0)
	r, err := reseq.Open(filepath.Join(sub, shardFile(2, 3)))
	if err != nil {
		t.Fatal(err)
	}
	rules, all := inputRules(r)
	r.Close()
	if !all || len(rules) != 1 || rules[0].String() != "2/3 0/2" {
		t.Errorf("sub-shard rule %v (all %v), want 2/3 0/2", rules, all)
	}
	one := filepath.Join(base, "one")
	run(exitOK, "extract", "-o", one, "--quiet", in)
	dirs := []string{}
	for i, f := range []string{filepath.Join(sub, shardFile(0, 3)), filepath.Join(sub, shardFile(1, 3)), filepath.Join(sub, shardFile(2, 3)), s1} {
		d := filepath.Join(base, fmt.Sprint("x", i))
		run(exitOK, "extract", "-o", d, "--quiet", f)
		dirs = append(dirs, d)
	}
	m := filepath.Join(base, "merged")
	run(exitOK, append([]string{"merge", "-o", m}, dirs...)...)
	sameTree(t, "split, split of shard 0, extract and merge", shardTree(t, one), shardTree(t, m))
}

func TestParseShardAppl(t *testing.T) {
	for _, c := range []struct {
		appl string
		want string // "" not a shard file
	}{
		{"reseq split 1/4", "1/4"},
		{"reseq split 2/3 0/2", "2/3 0/2"},
		{"reseq split", ""},
		{"reseq split 4/4", ""},
		{"reseq split 1/4 x", ""},
		{"reseq 0.3", ""},
		{"", ""},
	} {
		r, ok := parseShardAppl(c.appl)
		if got := r.String(); ok != (c.want != "") || got != c.want {
			t.Errorf("%q: %q, %v; want %q", c.appl, got, ok, c.want)
		}
	}
}

// splitRouter.shard allocates nothing per frame: whole segments, tunnelled
// ones and fragments.
func TestSplitRouterAllocs(t *testing.T) {
	b, err := os.ReadFile(realCapture(t, "lossy_v4.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := wrapcap.WrapBytes(b, "vxlan:5001,frag:576:3")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var pkts []reseq.Packet
	for i, data := range [][]byte{b, w} {
		f := filepath.Join(dir, fmt.Sprint(i, ".pcap"))
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := reseq.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		for range 200 {
			p, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			p.Data = append([]byte(nil), p.Data...)
			pkts = append(pkts, p)
		}
		r.Close()
	}
	rt := splitRouter{n: 4, decode: &layers.DecodeOptions{VXLANPorts: []uint16{4789}}, points: stages.CaptureOuterVLAN | stages.CaptureTunnel}
	every := 0
	for i := range pkts {
		if _, e := rt.shard(&pkts[i]); e {
			every++
		}
	}
	if every == 0 {
		t.Fatal("no fragment among the frames")
	}
	if a := testing.AllocsPerRun(20, func() {
		for i := range pkts {
			rt.shard(&pkts[i])
		}
	}); a != 0 {
		t.Errorf("%.1f allocations per run of %d frames", a, len(pkts))
	}
}
