package reseq

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseq/reseq/internal/testshared"
)

// sharedDir returns ../shared next to the repository root (found by walking up
// to go.work), skipping the test when it is absent.
func sharedDir(t testing.TB, sub string) string {
	t.Helper()
	return testshared.Dir(t, sub)
}

// packetDigest is the part of a packet compared between two readings.
type packetDigest struct {
	ts        int64
	length    int
	linkType  uint32
	iface     int
	data      string
	errString string
}

func digestAll(t *testing.T, r *Reader) []packetDigest {
	t.Helper()
	var out []packetDigest
	for len(out) < 1e6 {
		p, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an *InputError", err)
			}
			// Compare the cause, not the name.
			out = append(out, packetDigest{errString: ie.Err.Error()})
			continue
		}
		out = append(out, packetDigest{p.Timestamp, p.Length, p.LinkType, p.Interface, string(p.Data), ""})
	}
	t.Fatal("no end")
	return nil
}

// TestOpenCorpusCompressed reads every gzip and zstd capture of the shared
// corpus through Open and compares it with its uncompressed sibling where the
// manifest names one, and with the decompressed bytes read from memory
// otherwise.
func TestOpenCorpusCompressed(t *testing.T) {
	corpus := sharedDir(t, "corpus")
	// Uncompressed siblings named by MANIFEST.md.
	siblings := map[string]string{
		"fpcap/tracefiles/fritzbox-ip.pcap.zst":                                                "fpcap/tracefiles/fritzbox-ip.pcap",
		"fpcap/tracefiles/linux-cooked-unsw-nb15.pcap.zst":                                     "fpcap/tracefiles/linux-cooked-unsw-nb15.pcap",
		"fpcap/tracefiles/pcapng-example.pcapng.zst":                                           "fpcap/tracefiles/pcapng-example.pcapng",
		"pcapplusplus/Tests/Pcap++Test/PcapExamples/file_heuristics/pcapng-example.pcapng.zst": "fpcap/tracefiles/pcapng-example.pcapng",
		"wireshark-wiki/SampleCaptures/http_with_jpegs.cap.gz":                                 "tcpflow/samplePcaps/jpegs.cap",
	}
	// Packet counts the manifest gives for files without a sibling.
	counts := map[string]int{
		"fpcap/tracefiles/example.pcap.zst":                                                    4631,
		"scapy/test/pcaps/http_chunk.pcap.gz":                                                  66,
		"scapy/test/pcaps/http_head.pcapng.gz":                                                 10,
		"scapy/test/pcaps/http_tcp_psh.pcap.gz":                                                19,
		"scapy/test/pcaps/macos.pcapng.gz":                                                     1,
		"scapy/test/pcaps/tls_tcp_frag.pcap.gz":                                                4,
		"wireshark-wiki/SampleCaptures/dns-icmp.pcapng.gz":                                     33,
		"wireshark-wiki/SampleCaptures/vlan.cap.gz":                                            395,
		"zeek/testing/btest/Traces/http/1000-requests-one-dropped-response.pcap.gz":            4102,
		"fpcap/tracefiles/fritzbox-ip.pcap.zst":                                                5,
		"fpcap/tracefiles/linux-cooked-unsw-nb15.pcap.zst":                                     1000,
		"fpcap/tracefiles/pcapng-example.pcapng.zst":                                           159,
		"pcapplusplus/Tests/Pcap++Test/PcapExamples/file_heuristics/pcapng-example.pcapng.zst": 159,
		"wireshark-wiki/SampleCaptures/http_with_jpegs.cap.gz":                                 483,
	}
	var files []string
	err := filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".gz") || strings.HasSuffix(p, ".zst") || strings.HasSuffix(p, ".zstd")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("only %d compressed files in the corpus", len(files))
	}
	for _, path := range files {
		rel, _ := filepath.Rel(corpus, path)
		rel = filepath.ToSlash(rel)
		t.Run(rel, func(t *testing.T) {
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := digestAll(t, r)
			c := r.Captures()[0]
			wantComp := "gzip"
			if !strings.HasSuffix(path, ".gz") {
				wantComp = "zstd"
			}
			if c.CompressionName() != wantComp {
				t.Errorf("compression %s, want %s", c.CompressionName(), wantComp)
			}
			// Not counted: the error before a capture's first packet with a
			// timestamp past 2262 (pcapng-example's second interface).
			packets := 0
			for _, d := range got {
				if d.errString == "" {
					packets++
				}
			}
			if want, ok := counts[rel]; ok && packets != want {
				t.Errorf("%d packets, manifest says %d", packets, want)
			}
			if read, total := r.Progress(); read != total {
				t.Errorf("progress %d of %d at the end", read, total)
			}
			sib, ok := siblings[rel]
			if !ok {
				return
			}
			data, err := os.ReadFile(filepath.Join(corpus, sib))
			if err != nil {
				t.Fatal(err)
			}
			r2, err := NewReader(bytes.NewReader(data), sib)
			if err != nil {
				t.Fatal(err)
			}
			defer r2.Close()
			if c2 := r2.Captures()[0]; c2.CompressionName() != "none" || c2.Format != c.Format || c2.Version != c.Version {
				t.Errorf("sibling capture %+v vs %+v", c2, c)
			}
			want := digestAll(t, r2)
			if len(got) != len(want) {
				t.Fatalf("%d packets, uncompressed sibling %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("packet %d differs from the uncompressed sibling", i)
				}
			}
		})
	}
}

// TestOpenCorpusNotCaptures: the corpus's non-capture inputs are refused with
// an error naming the file and showing its first bytes.
func TestOpenCorpusNotCaptures(t *testing.T) {
	corpus := sharedDir(t, "corpus")
	for _, rel := range []string{
		"pcapplusplus/Tests/Pcap++Test/PcapExamples/solaris.snoop",
		"wireshark-wiki/SampleCaptures/tcpshake.cap",
		"wireshark-wiki/Development/PcapNg/icmp.ntar",
		"pcapplusplus/Tests/Pcap++Test/PcapExamples/file_heuristics/bogus-content.txt",
	} {
		path := filepath.Join(corpus, rel)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s absent from the corpus", rel)
			continue
		}
		r, err := Open(path)
		if err == nil {
			r.Close()
			t.Errorf("%s opened", rel)
			continue
		}
		var ie *InputError
		var nc *NotCaptureError
		if !errors.As(err, &ie) || ie.Name != path || !errors.As(err, &nc) || len(nc.Head) == 0 || !errors.Is(err, ErrNotCapture) {
			t.Errorf("%s: %v", rel, err)
		}
	}
}

// TestOpenReal merges every real capture of ../shared/real (pcap and pcapng,
// different link types and resolutions) and checks the merge returns each
// capture's packets complete, in its own file order, merged by time.
func TestOpenReal(t *testing.T) {
	dir := sharedDir(t, "real")
	var paths []string
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		t.Skip("no real captures")
	}
	// Each capture on its own.
	want := make([][]packetDigest, len(paths))
	for i, p := range paths {
		r, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = digestAll(t, r)
		r.Close()
		if len(want[i]) == 0 {
			t.Fatalf("%s: no packets", p)
		}
	}
	r, err := Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	next := make([]int, len(paths))
	var last int64
	for n := 0; ; n++ {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Timestamp < last {
			// Only a capture whose own clock steps back may do this.
			k := next[p.Source]
			if k == 0 || want[p.Source][k-1].ts <= p.Timestamp {
				t.Fatalf("packet %d at %d after %d", n, p.Timestamp, last)
			}
		}
		last = p.Timestamp
		k := next[p.Source]
		if k >= len(want[p.Source]) {
			t.Fatalf("too many packets from %s", paths[p.Source])
		}
		d := packetDigest{p.Timestamp, p.Length, p.LinkType, p.Interface, string(p.Data), ""}
		if d != want[p.Source][k] {
			t.Fatalf("packet %d of %s differs when merged", k, paths[p.Source])
		}
		next[p.Source]++
	}
	for i := range paths {
		if next[i] != len(want[i]) {
			t.Fatalf("%s: %d of %d packets", paths[i], next[i], len(want[i]))
		}
	}
}
