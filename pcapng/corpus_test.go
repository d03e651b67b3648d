package pcapng

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/reseq/reseq/internal/testshared"

	"github.com/reseq/reseq/pcapfile"
)

// sharedDir returns ../shared beside the repository root (found by walking up
// to go.work), skipping the test when it is absent.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir := testshared.Dir(t, "corpus")
	return filepath.Dir(dir)
}

var manifestBlockNames = map[string]uint32{
	"SHB": BlockSHB, "IDB": BlockIDB, "EPB": BlockEPB, "SPB": BlockSPB, "PB(obsolete)": BlockOPB,
	"NRB": BlockNRB, "ISB": BlockISB, "DSB": BlockDSB, "CB": BlockCB, "DCB": BlockCBNoCopy,
}

// manifestBlocks parses the corpus MANIFEST.md: path → block counts, for the
// rows describing a pcapng file ("pcapng ...; blocks EPB:13,IDB:1,SHB:1").
func manifestBlocks(t *testing.T, corpus string) map[string]map[uint32]int64 {
	f, err := os.Open(filepath.Join(corpus, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`\\\|\\\| pcapng [^|]*?; blocks ([A-Za-z()]+:[0-9]+(,[A-Za-z()]+:[0-9]+)*)`)
	out := map[string]map[uint32]int64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		m := re.FindStringSubmatch(line)
		cols := strings.Split(line, " | ")
		if m == nil || len(cols) < 2 {
			continue
		}
		counts := map[uint32]int64{}
		for _, kv := range strings.Split(m[1], ",") {
			name, n, _ := strings.Cut(kv, ":")
			typ, ok := manifestBlockNames[name]
			if !ok {
				t.Fatalf("MANIFEST: unknown block name %q", name)
			}
			counts[typ], _ = strconv.ParseInt(n, 10, 64)
		}
		out[strings.TrimPrefix(cols[0], "| ")] = counts
	}
	return out
}

// knownOutcomes lists the corpus pcapng files that are malformed or unusual and
// what is asserted for each: the packets returned, then the error (nil: a clean
// end) at its offset.
var knownOutcomes = map[string]struct {
	packets int
	err     error
	offset  int64
	why     string
}{
	"corpus/libpcap/tests/pcapng-invalid-vers-1.pcapng":            {0, ErrVersion, 0, "SHB version 0.1 (libpcap rejects)"},
	"corpus/libpcap/tests/pcapng-invalid-vers-2.pcapng":            {0, ErrVersion, 0, "SHB version 1.1 (libpcap rejects)"},
	"corpus/libpcap/tests/shb-option-too-long.pcapng":              {0, ErrTrailer, 0, "SHB trailer 0x30303030 differs from its length 52"},
	"corpus/wireshark-wiki/Development/PcapNg/http.bigendian.ntar": {0, ErrVersion, 0, "hand-edited: SHB version 256.0"},
	"corpus/gopacket/pcapgo/tests/le/test901.pcapng":               {1, ErrVersion, 480, "second SHB has version 2.0: the section cannot be read; an error, not a silent skip"},
	"corpus/gopacket/pcapgo/tests/be/test901.pcapng":               {1, ErrVersion, 480, "second SHB has version 2.0"},
	// NTAR-era block lengths that exclude the padding, trailer at the padded
	// end: accepted as Wireshark does.
	"corpus/wireshark-wiki/Development/PcapNg/http.littleendian.ntar": {43, nil, 0, "OPB lengths exclude padding"},
	"corpus/wireshark-wiki/Development/PcapNg/icmp2.ntar":             {8, nil, 0, "OPB lengths exclude padding"},
	"corpus/wireshark-wiki/Development/PcapNg/test006.ntar":           {1, nil, 0, "OPB length 167"},
	// SPB length 139 (trailer at the padded end repeats it): accepted; the
	// packet is cut to the IDB snaplen as the SPB rules say (checked below).
	"corpus/wireshark-wiki/Development/PcapNg/test007.ntar": {1, nil, 0, "SPB length 139, data beyond snaplen"},
	"corpus/wireshark-wiki/Development/PcapNg/test010.ntar": {1, nil, 0, "SPB length 139, data beyond snaplen"},
}

var notCaptures = map[string]string{
	"corpus/wireshark-wiki/Development/PcapNg/icmp.ntar":                                  "ffd8ff",
	"corpus/pcap-parser/err-eof.bin":                                                      "06000000",
	"corpus/pcapplusplus/Tests/Pcap++Test/PcapExamples/solaris.snoop":                     "736e6f6f70",
	"corpus/pcapplusplus/Tests/Pcap++Test/PcapExamples/file_heuristics/bogus-content.txt": "",
	"corpus/wireshark-wiki/SampleCaptures/tcpshake.cap":                                   "",
}

func TestCorpus(t *testing.T) {
	shared := sharedDir(t)
	blocks := manifestBlocks(t, filepath.Join(shared, "corpus"))
	if len(blocks) < 90 {
		t.Fatalf("MANIFEST gave only %d pcapng block lists", len(blocks))
	}
	var nng, ncounted int
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
			known, isKnown := knownOutcomes[rel]
			r, err := NewReader(bytes.NewReader(data))
			if err != nil {
				var fe *FormatError
				switch {
				case isKnown && known.packets == 0:
					if !errors.Is(err, known.err) || !errors.As(err, &fe) || fe.Offset != known.offset {
						t.Errorf("%s: %v; want %v at %d (%s)", rel, err, known.err, known.offset, known.why)
					}
				case !errors.Is(err, ErrNotPcapng) || !errors.As(err, &fe):
					t.Errorf("%s: %v; want ErrNotPcapng", rel, err)
				case notCaptures[rel] != "" && !strings.HasPrefix(fe.Detail, "starts with "+notCaptures[rel]):
					t.Errorf("%s: %v; want the first bytes %s", rel, err, notCaptures[rel])
				}
				return nil
			}
			if _, ok := notCaptures[rel]; ok {
				t.Errorf("%s: accepted a non-capture", rel)
			}
			nng++
			n := 0
			for {
				p, err := r.Next()
				if err != nil {
					var fe *FormatError
					switch {
					case err == io.EOF && (!isKnown || known.err == nil):
					case isKnown && errors.Is(err, known.err) && errors.As(err, &fe) && fe.Offset == known.offset:
					default:
						t.Errorf("%s: after %d packets: %v", rel, n, err)
					}
					break
				}
				if p.Length < 0 || len(p.Data) > MaxBlockLength {
					t.Errorf("%s: packet %d: length %d, %d bytes", rel, n, p.Length, len(p.Data))
				}
				if p.Block == BlockSPB {
					in := r.SectionInterfaces()[p.Interface]
					if in.SnapLen != 0 && len(p.Data) > int(in.SnapLen) || len(p.Data) > p.Length {
						t.Errorf("%s: SPB %d: %d bytes, snaplen %d, length %d", rel, n, len(p.Data), in.SnapLen, p.Length)
					}
				}
				n++
			}
			if isKnown && n != known.packets {
				t.Errorf("%s: %d packets, want %d (%s)", rel, n, known.packets, known.why)
			}
			if want, ok := blocks[strings.TrimPrefix(rel, "corpus/")]; ok && (!isKnown || known.err == nil) {
				ncounted++
				if got := r.BlockCounts(); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: blocks %v, MANIFEST says %v", rel, got, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d pcapng files read, %d block lists matched the MANIFEST", nng, ncounted)
	if nng < 90 {
		t.Errorf("only %d pcapng files", nng)
	}
}

type pktSummary struct {
	ts   int64
	len  int
	data string
}

func readNG(t *testing.T, path string) []pktSummary {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(testshared.Decompress(t, raw)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []pktSummary
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, pktSummary{p.Timestamp, p.Length, string(p.Data)})
	}
}

func readPcap(t *testing.T, path string) []pktSummary {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []pktSummary
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pktSummary{p.Timestamp, p.Length, string(p.Data)})
	}
}

// TestCorpusEquivalents: files the MANIFEST says encode the same packets.
func TestCorpusEquivalents(t *testing.T) {
	c := filepath.Join(sharedDir(t), "corpus")
	w := filepath.Join(c, "wireshark-2013/test/captures")
	same := func(name string, a, b []pktSummary) {
		if len(a) == 0 || fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s: %d vs %d packets, or different contents", name, len(a), len(b))
		}
	}
	same("dhcp.pcapng = dhcp.pcap", readNG(t, filepath.Join(w, "dhcp.pcapng")), readPcap(t, filepath.Join(w, "dhcp.pcap")))
	same("dhcp-nanosecond.pcapng = dhcp-nanosecond.pcap", readNG(t, filepath.Join(w, "dhcp-nanosecond.pcapng")), readPcap(t, filepath.Join(w, "dhcp-nanosecond.pcap")))
	same("pcapng-example zst", readNG(t, filepath.Join(c, "fpcap/tracefiles/pcapng-example.pcapng.zst")), readNG(t, filepath.Join(c, "fpcap/tracefiles/pcapng-example.pcapng")))
	same("pcapng-example zst (pcapplusplus)", readNG(t, filepath.Join(c, "pcapplusplus/Tests/Pcap++Test/PcapExamples/file_heuristics/pcapng-example.pcapng.zst")), readNG(t, filepath.Join(c, "fpcap/tracefiles/pcapng-example.pcapng")))
	same("dhcp big/little endian", readNG(t, filepath.Join(c, "wireshark-wiki/Development/PcapNg/dhcp_big_endian.pcapng")), readNG(t, filepath.Join(c, "wireshark-wiki/Development/PcapNg/dhcp_little_endian.pcapng")))
	// The pcapng-test-generator writes every file in both byte orders.
	les, _ := filepath.Glob(filepath.Join(c, "pcapng-test-generator/output_le/*/*.pcapng"))
	pairs := 0
	for _, le := range les {
		bef := strings.Replace(le, "output_le", "output_be", 1)
		a, b := readNG(t, le), readNG(t, bef)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s: LE and BE copies differ", filepath.Base(le))
		}
		pairs++
	}
	if pairs < 20 {
		t.Errorf("only %d LE/BE pairs", pairs)
	}
	// test007.ntar: the SPB's 123 stored bytes are cut to the snaplen 96.
	p := readNG(t, filepath.Join(c, "wireshark-wiki/Development/PcapNg/test007.ntar"))
	if len(p) != 1 || len(p[0].data) != 96 || p[0].len != 1000 {
		t.Errorf("test007.ntar: %d packets (%d bytes, length %d)", len(p), len(p[0].data), p[0].len)
	}
}
