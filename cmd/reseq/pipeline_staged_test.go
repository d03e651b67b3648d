package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseq/reseq/internal/testshared"
	stages "github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// traceHandler records every callback, with a digest of the bytes, so that two
// runs can be compared call by call.
type traceHandler struct {
	calls []string
	bytes int64
}

func (h *traceHandler) add(format string, args ...any) {
	h.calls = append(h.calls, fmt.Sprintf(format, args...))
}

func streamName(s *tcpasm.Stream) string {
	return fmt.Sprintf("%s/%d/%d", s.Conn.Key, s.Conn.Index, s.Dir)
}

func (h *traceHandler) Open(c *tcpasm.Conn) { h.add("open %s %d", c.Key, c.Index) }
func (h *traceHandler) Data(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	h.bytes += int64(len(data))
	h.add("data %s %d %d %x %d", streamName(s), off, len(data), sha256.Sum256(data), ts)
}
func (h *traceHandler) Gap(s *tcpasm.Stream, off, n int64, r tcpasm.Reason, ts int64) {
	h.add("gap %s %d %d %s %d", streamName(s), off, n, r, ts)
}
func (h *traceHandler) Late(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	h.bytes += int64(len(data))
	h.add("late %s %d %d %x %d", streamName(s), off, len(data), sha256.Sum256(data), ts)
}
func (h *traceHandler) Conflict(s *tcpasm.Stream, c tcpasm.Conflict, ts int64) {
	h.add("conflict %s %+v %d", streamName(s), c, ts)
}
func (h *traceHandler) Close(s *tcpasm.Stream, r tcpasm.Reason, ts int64) {
	h.add("close %s %s %d %+v", streamName(s), r, s.Extent, s.Stats)
}

// stagedInputs returns the captures the serial and staged runs are compared
// on: a generated one (many interleaved connections, payloads of every size up
// to 58 KiB so batches end on both the segment count and the arena; more than
// 4096 packets, so Abort and Progress are polled) and the
// real captures when ../shared/real is present.
func stagedInputs(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	var pkts []tcpPkt
	for i := range 60 {
		c := conversation{
			client: netip.MustParseAddrPort(fmt.Sprintf("10.0.%d.1:%d", i, 40000+i)),
			server: netip.MustParseAddrPort("10.9.0.2:443"),
			c2s:    pattern(3000+i*1500, byte(i)),
			s2c:    pattern(60000+i*997, byte(i+100)),
			mss:    200 + i%12*5400, // 200 B .. 58 KiB segments
			isnC:   uint32(i) * 0x0fff_ffff,
			isnS:   ^uint32(i * 77),
			t0:     1_700_000_000*1_000_000_000 + int64(i)*7*ms,
		}
		if i%3 == 0 {
			c.vlans = []uint16{uint16(10 + i)}
		}
		cp := c.packets()
		if i%4 == 1 && len(cp) > 8 {
			cp = append(cp[:5], cp[6:]...) // a lost segment: a gap
		}
		pkts = mergeByTime(pkts, cp)
	}
	inputs := []string{writeCapture(t, dir, "gen.pcap", pkts)}
	if real := realRootOrEmpty(); real != "" {
		m, _ := filepath.Glob(filepath.Join(real, "*.pcap*"))
		if testing.Short() && len(m) > 2 {
			m = m[:2]
		}
		inputs = append(inputs, m...)
	}
	return inputs
}

// realRootOrEmpty is ../shared/real, or "" when it is absent (the generated
// capture is compared anyway).
func realRootOrEmpty() string {
	root, err := testshared.Root()
	if err != nil {
		return ""
	}
	r := filepath.Join(root, "..", "shared", "real")
	if _, err := os.Stat(r); err != nil {
		return ""
	}
	return r
}

// TestPipelineStagedSameCalls runs the pipeline serially and in two stages
// over the same captures: the handler must see exactly the same calls (same
// bytes, offsets, times, order) and the stats must be equal.
func TestPipelineStagedSameCalls(t *testing.T) {
	for _, in := range stagedInputs(t) {
		t.Run(filepath.Base(in), func(t *testing.T) {
			var traces [2]*traceHandler
			var stats [2]pipelineStats
			var progress [2]int64
			for i, serial := range []bool{true, false} {
				p := &pipeline{Inputs: []string{in}, CapturePoints: stages.CaptureOuterVLAN, Serial: serial}
				p.Progress = func(read, total, packets int64) { progress[i] = packets }
				h := &traceHandler{}
				st, err := p.Run(h)
				if err != nil {
					t.Fatalf("serial=%v: %v", serial, err)
				}
				traces[i], stats[i] = h, st
			}
			if stats[0] != stats[1] {
				t.Errorf("stats differ: serial %+v, staged %+v", stats[0], stats[1])
			}
			if progress[0] != stats[0].Packets || progress[1] != stats[1].Packets {
				t.Errorf("final progress %v, want %d packets", progress, stats[0].Packets)
			}
			a, b := traces[0].calls, traces[1].calls
			if len(a) == 0 || traces[0].bytes == 0 {
				t.Fatal("no callback or no byte delivered")
			}
			for k := range min(len(a), len(b)) {
				if a[k] != b[k] {
					t.Fatalf("call %d differs:\nserial: %s\nstaged: %s", k, a[k], b[k])
				}
			}
			if len(a) != len(b) {
				t.Fatalf("serial made %d calls, staged %d", len(a), len(b))
			}
			t.Logf("%d calls, %d bytes, %d segments", len(a), traces[0].bytes, stats[0].TCP)
		})
	}
}

// serialEnv returns an env hook that makes every pipeline of a command serial
// (true) or staged (false).
func serialEnv(serial bool) func(*env) {
	return func(e *env) { e.serial = serial }
}

// readTree returns every regular file under dir by its relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestExtractStagedSameOutput: `reseq extract` writes the same flows.jsonl,
// conflicts.jsonl and stream files with the staged pipeline as with the
// serial one.
func TestExtractStagedSameOutput(t *testing.T) {
	for _, in := range stagedInputs(t) {
		t.Run(filepath.Base(in), func(t *testing.T) {
			var trees [2]map[string][]byte
			var errs [2]string
			for i, serial := range []bool{true, false} {
				out := filepath.Join(t.TempDir(), "o")
				code, _, e := runWith(serialEnv(serial), "extract", "-o", out, in)
				if code != exitOK {
					t.Fatalf("serial=%v: exit %d: %s", serial, code, e)
				}
				errs[i] = e
				trees[i] = readTree(t, out)
			}
			if errs[0] != errs[1] {
				t.Errorf("summary differs:\nserial: %sstaged: %s", errs[0], errs[1])
			}
			if len(trees[0]["flows.jsonl"]) == 0 {
				t.Fatal("empty flows.jsonl")
			}
			streams := 0
			for name, b := range trees[0] {
				c, ok := trees[1][name]
				switch {
				case !ok:
					t.Errorf("%s: missing from the staged output", name)
				case !bytes.Equal(b, c):
					t.Errorf("%s: differs (%d vs %d bytes)", name, len(b), len(c))
				}
				if !strings.HasSuffix(name, ".jsonl") {
					streams++
				}
			}
			if len(trees[0]) != len(trees[1]) {
				t.Errorf("serial wrote %d files, staged %d", len(trees[0]), len(trees[1]))
			}
			if streams == 0 {
				t.Error("no stream file written")
			}
		})
	}
}

// TestPipelineStagedAbort: an Abort error stops the staged run (no hang, the
// reader goroutine ends) and is returned; the assembler is still closed.
func TestPipelineStagedAbort(t *testing.T) {
	in := stagedInputs(t)[0]
	for _, serial := range []bool{true, false} {
		boom := errors.New("output failed")
		polls := 0
		p := &pipeline{Inputs: []string{in}, Serial: serial}
		p.Abort = func() error {
			if polls++; polls >= 1 {
				return boom
			}
			return nil
		}
		h := &traceHandler{}
		st, err := p.Run(h)
		if !errors.Is(err, boom) {
			t.Errorf("serial=%v: error %v, want %v", serial, err, boom)
		}
		if st.Packets == 0 {
			t.Errorf("serial=%v: nothing read", serial)
		}
		closes := 0
		for _, c := range h.calls {
			if strings.HasPrefix(c, "close ") {
				closes++
			}
		}
		opens := 0
		for _, c := range h.calls {
			if strings.HasPrefix(c, "open ") {
				opens++
			}
		}
		if closes != 2*opens {
			t.Errorf("serial=%v: %d opens, %d closes: the assembler was not closed", serial, opens, closes)
		}
	}
}

// TestPipelineStagedInputError: a capture cut inside a record gives the same
// error, stats and calls on both paths.
func TestPipelineStagedInputError(t *testing.T) {
	in := stagedInputs(t)[0]
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, b[:len(b)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	var msgs [2]string
	var traces [2]*traceHandler
	var stats [2]pipelineStats
	for i, serial := range []bool{true, false} {
		p := &pipeline{Inputs: []string{cut}, Serial: serial}
		h := &traceHandler{}
		st, err := p.Run(h)
		if err == nil {
			t.Fatalf("serial=%v: no error on a cut capture", serial)
		}
		msgs[i], traces[i], stats[i] = err.Error(), h, st
	}
	if msgs[0] != msgs[1] || stats[0] != stats[1] {
		t.Errorf("serial %q %+v, staged %q %+v", msgs[0], stats[0], msgs[1], stats[1])
	}
	if strings.Join(traces[0].calls, "\n") != strings.Join(traces[1].calls, "\n") {
		t.Error("calls differ")
	}
	if stats[0].TCP == 0 {
		t.Error("nothing assembled before the cut")
	}
}
