package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/reseq/reseq/internal/testshared"
)

// sharedDir returns ../shared/sub next to the repository root (found by walking
// up to go.work), skipping the test when it is absent.
func infoSharedDir(t *testing.T, sub string) string {
	t.Helper()
	return testshared.Dir(t, sub)
}

// refused lists the captures reseq info reports an error for although capinfos
// reads them: why, or "" when the record printed before the error must still
// agree with capinfos.
var refused = map[string]string{
	"corpus/fpcap/tracefiles/RICS2021_787__fwscada_20200625_160926.pcap": "", // last record cut; capinfos stops quietly
	"corpus/libpcap/tests/pcap-invalid-version-2.pcap":                   "pcap version 2.5, rejected like libpcap does",
	"corpus/wireshark-wiki/SampleCaptures/tcpshake.cap":                  "NetXRay/Sniffer format, not pcap",
}

// durationDiffers lists the captures whose duration differs from capinfos', and
// why. Timestamps beyond the int64-nanosecond range (year 2262) saturate;
// capinfos keeps them as seconds.
var durationDiffers = map[string]string{
	"corpus/pcapplusplus/Tests/Pcap++Test/PcapExamples/file_heuristics/pcapng-example.pcapng.zst": "interface 1 timestamps near 2^64 µs saturate",
	"corpus/fpcap/tracefiles/pcapng-example.pcapng":                                               "interface 1 timestamps near 2^64 µs saturate",
	"corpus/fpcap/tracefiles/pcapng-example.pcapng.zst":                                           "interface 1 timestamps near 2^64 µs saturate",
	"corpus/fpcap/tracefiles/pcapng-example.pcapng.zstd":                                          "interface 1 timestamps near 2^64 µs saturate",
	"corpus/wireshark-wiki/Development/PcapNg/dhcp_big_endian.pcapng":                             "timestamps in the year 150000 saturate",
	"corpus/wireshark-wiki/Development/PcapNg/dhcp_little_endian.pcapng":                          "timestamps in the year 150000 saturate",
	"corpus/tcpdump/tests/timestamp_invalid_micro.pcap":                                           "microsecond field >= 10^6 is carried into seconds, capinfos does not",
	"corpus/tcpflow/tests/bug8.pcap":                                                              "microsecond field >= 10^6 is carried into seconds, capinfos does not",
}

// TestInfoMatchesCapinfos compares the packet count and the bytes on the wire
// (capinfos' "data size") of reseq info with Wireshark's capinfos over every
// real capture and every corpus capture that capinfos reads.
func TestInfoMatchesCapinfos(t *testing.T) {
	if _, err := exec.LookPath("capinfos"); err != nil {
		t.Skip("capinfos not installed")
	}
	shared := infoSharedDir(t, "")
	var files []string
	real, _ := filepath.Glob(filepath.Join(shared, "real", "*.pcap*"))
	files = append(files, real...)
	filepath.WalkDir(filepath.Join(shared, "corpus"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			for _, ext := range []string{".gz", ".zst", ".pcapng", ".pcap", ".cap"} {
				if strings.HasSuffix(p, ext) {
					files = append(files, p)
				}
			}
		}
		return nil
	})
	if len(files) < 20 {
		t.Fatalf("only %d files", len(files))
	}
	out, _ := exec.Command("capinfos", append([]string{"-T", "-r", "-M", "-c", "-d", "-u"}, files...)...).Output()
	type counts struct {
		packets, bytes int64
		duration       int64 // ns; -1 when capinfos gives none we can compare
	}
	want := map[string]counts{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			continue
		}
		n, err1 := strconv.ParseInt(f[1], 10, 64)
		b, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 == nil && err2 == nil {
			want[f[0]] = counts{n, b, parseSeconds(f[3])}
		}
	}
	compared := 0
	for _, file := range files {
		w, ok := want[file]
		if !ok {
			continue // capinfos could not read it
		}
		var o, e bytes.Buffer
		if code := newEnv(&o, &e).run([]string{"info", "--json", file}); code != 0 {
			rel, _ := filepath.Rel(shared, file)
			switch why, known := refused[filepath.ToSlash(rel)]; {
			case !known:
				t.Errorf("%s: exit %d: %s", file, code, e.String())
				continue
			case why == "":
				// Truncated: the record of what was read still agrees.
			default:
				t.Logf("%s: refused (%s), capinfos reads it", rel, why)
				continue
			}
		}
		var rec struct {
			Packets    int64 `json:"packets"`
			BytesWire  int64 `json:"bytes_wire"`
			DurationNS int64 `json:"duration_ns"`
		}
		if err := json.Unmarshal(o.Bytes(), &rec); err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if rec.Packets != w.packets || rec.BytesWire != w.bytes {
			t.Errorf("%s: %d packets, %d bytes; capinfos %d, %d", file, rec.Packets, rec.BytesWire, w.packets, w.bytes)
		}
		rel, _ := filepath.Rel(shared, file)
		if _, known := durationDiffers[filepath.ToSlash(rel)]; !known && w.duration >= 0 && rec.DurationNS != w.duration {
			t.Errorf("%s: duration %d ns; capinfos %d ns", file, rec.DurationNS, w.duration)
		}
		compared++
	}
	if compared < 20 {
		t.Fatalf("only %d files compared", compared)
	}
	t.Logf("%d captures agree with capinfos", compared)
}

// parseSeconds parses capinfos' decimal seconds exactly into nanoseconds; -1
// when it is not a plain decimal within range.
func parseSeconds(s string) int64 {
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	if len(frac) > 9 || len(whole) > 10 {
		return -1
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec < 0 {
		return -1
	}
	ns := int64(0)
	if frac != "" {
		n, err := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil {
			return -1
		}
		ns = n
	}
	return sec*1e9 + ns
}
