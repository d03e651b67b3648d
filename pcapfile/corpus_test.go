package pcapfile

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/reseq/reseq/internal/testshared"
)

// sharedDir returns ../shared beside the repository root (found by walking up
// to go.work), skipping the test when it is absent.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir := testshared.Dir(t, "corpus")
	return filepath.Dir(dir)
}

// manifestCounts parses the corpus MANIFEST.md: path → packet count, for the
// rows describing a classic pcap ("pcap LE usec v2.4; ...; N pkts").
func manifestCounts(t *testing.T, corpus string) map[string]int {
	f, err := os.Open(filepath.Join(corpus, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`\\\|\\\| pcap (LE|BE) [^|]*?; ([0-9]+) pkts`)
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cols := strings.Split(line, " | ")
		m := re.FindStringSubmatch(line)
		if len(cols) < 2 || m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		counts[strings.TrimPrefix(cols[0], "| ")] = n
	}
	return counts
}

// knownBad lists the corpus pcap files that do not read cleanly and the
// specific outcome asserted for each.
var knownBad = map[string]struct {
	packets int   // complete packets returned before the error
	err     error // sentinel wrapped by the *FormatError
	offset  int64 // the error's offset
}{
	// Cut in the middle of its last record (MANIFEST counts the partial one).
	"corpus/fpcap/tracefiles/RICS2021_787__fwscada_20200625_160926.pcap": {6718, ErrTruncated, 536552},
	// libpcap's own negative tests.
	"corpus/libpcap/tests/linktype-reserved-field-not-zero.pcap": {0, ErrHeader, 20},
	"corpus/libpcap/tests/pcap-invalid-version-1.pcap":           {0, ErrHeader, 4},
	"corpus/libpcap/tests/pcap-invalid-version-2.pcap":           {0, ErrHeader, 4},
}

// notCaptures are the MANIFEST's non-capture negatives, with the first bytes
// the error must show.
var notCaptures = map[string]string{
	"corpus/pcapplusplus/Tests/Pcap++Test/PcapExamples/solaris.snoop":                     "736e6f6f70000000",
	"corpus/wireshark-wiki/SampleCaptures/tcpshake.cap":                                   "",
	"corpus/wireshark-wiki/Development/PcapNg/icmp.ntar":                                  "ffd8ff",
	"corpus/pcapplusplus/Tests/Pcap++Test/PcapExamples/file_heuristics/bogus-content.txt": "",
	"corpus/pcap-parser/err-eof.bin":                                                      "",
}

func TestCorpus(t *testing.T) {
	shared := sharedDir(t)
	counts := manifestCounts(t, filepath.Join(shared, "corpus"))
	if len(counts) < 300 {
		t.Fatalf("MANIFEST gave only %d pcap packet counts", len(counts))
	}
	var nPcap, nCounted, nOther int
	for _, sub := range []string{"corpus", "real"} {
		err := filepath.WalkDir(filepath.Join(shared, sub), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(shared, path)
			rel = filepath.ToSlash(rel)
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			data := testshared.Decompress(t, raw)
			r, err := NewReader(bytes.NewReader(data))
			if bad, ok := knownBad[rel]; ok && bad.packets == 0 {
				var fe *FormatError
				if !errors.Is(err, bad.err) || !errors.As(err, &fe) || fe.Offset != bad.offset {
					t.Errorf("%s: %v; want %v at offset %d", rel, err, bad.err, bad.offset)
				}
				return nil
			}
			if err != nil {
				nOther++
				var fe *FormatError
				if !errors.Is(err, ErrNotPcap) || !errors.As(err, &fe) || fe.Offset != 0 || !strings.HasPrefix(fe.Detail, "starts with ") && fe.Detail != "empty input" {
					t.Errorf("%s: %v; want ErrNotPcap", rel, err)
				}
				if prefix, ok := notCaptures[rel]; ok && !strings.HasPrefix(fe.Detail, "starts with "+prefix) {
					t.Errorf("%s: %v; want the first bytes %s", rel, err, prefix)
				}
				return nil
			}
			if _, ok := notCaptures[rel]; ok {
				t.Errorf("%s: accepted a non-capture", rel)
			}
			nPcap++
			n := 0
			for {
				p, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					bad, ok := knownBad[rel]
					var fe *FormatError
					if !ok || !errors.Is(err, bad.err) || !errors.As(err, &fe) || fe.Offset != bad.offset || n != bad.packets {
						t.Errorf("%s: after %d packets: %v", rel, n, err)
					}
					return nil
				}
				if p.Length < 0 || len(p.Data) > r.maxCaplen {
					t.Errorf("%s: packet %d: length %d, %d bytes", rel, n, p.Length, len(p.Data))
				}
				n++
			}
			if _, ok := knownBad[rel]; ok {
				t.Errorf("%s: read cleanly, want an error", rel)
			}
			if r.Offset() != int64(len(data)) {
				t.Errorf("%s: ended at offset %d of %d", rel, r.Offset(), len(data))
			}
			if want, ok := counts[strings.TrimPrefix(rel, "corpus/")]; ok && sub == "corpus" {
				nCounted++
				if n != want {
					t.Errorf("%s: %d packets, MANIFEST says %d", rel, n, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d pcap files read (%d with a MANIFEST packet count), %d other files rejected as not pcap", nPcap, nCounted, nOther)
	if nPcap < 300 {
		t.Errorf("only %d pcap files found", nPcap)
	}
}
