package fuzz

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/reseq/reseq/internal/testshared"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/reseq/reseq/pcapfile"
	"github.com/reseq/reseq/pcapng"
)

// Differential tests of the capture readers (pcapfile, pcapng) against
// gopacket's pcapgo over every capture of ../shared/corpus and ../shared/real,
// and over hand-built inputs for the cases where pcapgo is known to be wrong.

// rdPacket is one packet as a reader returned it.
type rdPacket struct {
	ts     int64
	length int
	data   string
	link   uint32
	block  uint32 // pcapng block type (0 for pcap)
}

// rdOutcome is everything a reader produced from one input.
type rdOutcome struct {
	format  string // "pcap", "pcapng", or "" when the input was rejected at open
	pkts    []rdPacket
	err     error  // nil: clean end of input
	first   uint32 // pcapng: link type of the first interface
	openErr error
}

// rdZeroTime is what pcapgo reports for a packet without a timestamp (SPB).
var rdZeroTime = time.Time{}.UnixNano()

func rdOurs(data []byte) rdOutcome {
	if r, err := pcapfile.NewReader(bytes.NewReader(data)); err == nil {
		out := rdOutcome{format: "pcap"}
		for {
			p, err := r.Next()
			if err != nil {
				if err != io.EOF {
					out.err = err
				}
				return out
			}
			out.pkts = append(out.pkts, rdPacket{p.Timestamp, p.Length, string(p.Data), p.LinkType, 0})
		}
	} else if !errors.Is(err, pcapfile.ErrNotPcap) {
		return rdOutcome{format: "pcap", openErr: err}
	}
	r, err := pcapng.NewReader(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, pcapng.ErrNotPcapng) {
			return rdOutcome{openErr: err}
		}
		return rdOutcome{format: "pcapng", openErr: err}
	}
	out := rdOutcome{format: "pcapng"}
	for {
		p, err := r.Next()
		if len(out.pkts) == 0 && len(r.Interfaces()) > 0 {
			out.first = r.Interfaces()[0].LinkType
		}
		if err != nil {
			if err != io.EOF {
				out.err = err
			}
			return out
		}
		out.pkts = append(out.pkts, rdPacket{p.Timestamp, p.Length, string(p.Data), p.LinkType, p.Block})
	}
}

// rdGopacket reads with pcapgo: pcapgo.NewReader for pcap, pcapgo.NewNgReader
// with DefaultNgReaderOptions for pcapng.
func rdGopacket(format string, data []byte) rdOutcome {
	out := rdOutcome{format: format}
	var next func() ([]byte, gopacket.CaptureInfo, error)
	switch format {
	case "pcap":
		r, err := pcapgo.NewReader(bytes.NewReader(data))
		if err != nil {
			out.openErr = err
			return out
		}
		next = r.ReadPacketData
	case "pcapng":
		r, err := pcapgo.NewNgReader(bufio.NewReader(bytes.NewReader(data)), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			out.openErr = err
			return out
		}
		next = r.ReadPacketData
	default:
		if _, err := pcapgo.NewReader(bytes.NewReader(data)); err == nil {
			out.format = "pcap"
		} else if _, err := pcapgo.NewNgReader(bufio.NewReader(bytes.NewReader(data)), pcapgo.DefaultNgReaderOptions); err == nil {
			out.format = "pcapng"
		} else {
			out.openErr = err
		}
		return out
	}
	for {
		d, ci, err := next()
		if err != nil {
			if err != io.EOF {
				out.err = err
			}
			return out
		}
		out.pkts = append(out.pkts, rdPacket{ts: ci.Timestamp.UnixNano(), length: ci.Length, data: string(d)})
	}
}

// rdDiffKind names a known way pcapgo differs from reseq on a corpus file.
type rdDiffKind int

const (
	rdModified       rdDiffKind = iota + 1 // pcapgo rejects the modified format (a1b2cd34)
	rdMinorVersion                         // pcapgo rejects pcap version 2.1
	rdUsecOverflow                         // ts_usec >= 10^6
	rdTruncatedTail                        // cut in the last record
	rdClamped                              // timestamps beyond int64 nanoseconds
	rdNTAR                                 // block lengths that exclude the padding
	rdSectionVersion                       // a later SHB with version 2.0
	rdSectionIfaces                        // sections each with their own IDB
	rdReservedBits                         // reserved bits in the pcap link-type field
	rdNoInterface                          // a pcapng file without any IDB
)

var rdKnownDiffs = map[string]struct {
	kind rdDiffKind
	why  string
}{
	"corpus/fpcap/tracefiles/fritzbox-ip.pcap":     {rdModified, "pcapgo: \"Unknown magic a1b2cd34\"; reseq reads Kuznetzov's modified format"},
	"corpus/fpcap/tracefiles/fritzbox-ip.pcap.zst": {rdModified, "same file, zstd-compressed"},
	"corpus/pcap-parser/modified-format.pcap":      {rdModified, "modified format"},
	"corpus/suricata-verify/tests/nfs3-01/input.pcap": {rdMinorVersion,
		"pcapgo: \"Unknown minor version 1\"; libpcap accepts 2.0-2.4 and so does reseq"},
	"corpus/tcpdump/tests/timestamp_invalid_micro.pcap": {rdUsecOverflow,
		"ts_usec 2147483648: pcapgo (and Wireshark) compute usec*1000 in 32 bits and wrap; reseq carries the excess into seconds"},
	"corpus/tcpflow/tests/bug8.pcap": {rdUsecOverflow, "ts_usec up to 8.9 million: same wrap in pcapgo"},
	"corpus/fpcap/tracefiles/RICS2021_787__fwscada_20200625_160926.pcap": {rdTruncatedTail,
		"both return the 6718 whole packets; pcapgo ends with a bare io.ErrUnexpectedEOF, reseq with ErrTruncated naming offset 536552"},
	"corpus/wireshark-wiki/Development/PcapNg/dhcp_big_endian.pcapng": {rdClamped,
		"raw timestamps ~4.7e18 us (year ~150000): pcapgo's time.Time wraps to garbage, reseq clamps to MaxInt64"},
	"corpus/wireshark-wiki/Development/PcapNg/dhcp_little_endian.pcapng": {rdClamped, "same, little-endian"},
	"corpus/wireshark-wiki/Development/PcapNg/http.littleendian.ntar": {rdNTAR,
		"OPB lengths exclude the padding: pcapgo stops with unexpected EOF after the first packet, reseq (like Wireshark) reads all 43"},
	"corpus/wireshark-wiki/Development/PcapNg/icmp2.ntar":   {rdNTAR, "same, 8 packets"},
	"corpus/wireshark-wiki/Development/PcapNg/test006.ntar": {rdNTAR, "same, 1 packet"},
	"corpus/wireshark-wiki/Development/PcapNg/test007.ntar": {rdNTAR, "SPB of length 139: pcapgo fails after it"},
	"corpus/wireshark-wiki/Development/PcapNg/test010.ntar": {rdNTAR, "same"},
	"corpus/gopacket/pcapgo/tests/le/test901.pcapng": {rdSectionVersion,
		"both stop at the version-2.0 section after 1 packet; reseq's error is typed (ErrVersion) with the offset"},
	"corpus/gopacket/pcapgo/tests/be/test901.pcapng": {rdSectionVersion, "same, big-endian"},
	"corpus/libpcap/tests/linktype-reserved-field-not-zero.pcap": {rdReservedBits,
		"libpcap and reseq refuse a header with reserved link-type bits set (ErrHeader); pcapgo accepts it"},
	"corpus/pcapng-test-generator/output_le/basic/test002.pcapng": {rdNoInterface,
		"only an SHB: pcapgo's NewNgReader fails with io.EOF looking for an IDB; reseq opens it and reads no packet"},
	"corpus/pcapng-test-generator/output_be/basic/test002.pcapng": {rdNoInterface, "same, big-endian"},
	"corpus/pcapng-test-generator/output_le/basic/test017.pcapng": {rdNoInterface, "SHB and custom blocks only"},
	"corpus/pcapng-test-generator/output_be/basic/test017.pcapng": {rdNoInterface, "same, big-endian"},
	"corpus/wireshark-wiki/Development/PcapNg/test001.ntar":       {rdNoInterface, "only an SHB"},
	"corpus/wireshark-wiki/Development/PcapNg/test004.ntar":       {rdNoInterface, "only an SHB (with options)"},
	"corpus/wireshark-wiki/Development/PcapNg/pcap-ng_Wi-Fi_Bluetooth_USB_Cooked_timestamps_issue_1.ntar": {rdSectionIfaces,
		"10 sections, each with its IDB: pcapgo fails after 16 packets (\"A section must have an interface before a packet block\"); reseq reads all 413 (tshark reads the same 411 first and then rejects a 3-byte Bluetooth frame at the link layer)"},
}

// rdExpectNg derives what pcapgo's default NgReader returns from reseq's
// packets: only those of the first interface's link type, SPBs at time zero.
func rdExpectNg(o rdOutcome) []rdPacket {
	var out []rdPacket
	for _, p := range o.pkts {
		if p.link != o.first {
			continue
		}
		q := rdPacket{ts: p.ts, length: p.length, data: p.data}
		if p.block == pcapng.BlockSPB {
			q.ts = rdZeroTime
		}
		out = append(out, q)
	}
	return out
}

func rdStrip(pkts []rdPacket) []rdPacket {
	out := make([]rdPacket, len(pkts))
	for i, p := range pkts {
		out[i] = rdPacket{ts: p.ts, length: p.length, data: p.data}
	}
	return out
}

func rdSame(a, b []rdPacket) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// rdShared returns ../shared beside the repository root, or skips.
func rdShared(t *testing.T) string {
	t.Helper()
	dir := testshared.Dir(t, "corpus")
	return filepath.Dir(dir)
}

func TestReadersDiffGopacket(t *testing.T) {
	shared := rdShared(t)
	var files, equal, known, rejected int
	seenKnown := map[string]bool{}
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
			ours := rdOurs(data)
			if ours.format == "" {
				// Neither reader takes it: pcapgo must not either.
				rejected++
				if g := rdGopacket("", data); g.format != "" {
					t.Errorf("%s: reseq rejects it (%v), pcapgo opens it as %s", rel, ours.openErr, g.format)
				}
				return nil
			}
			files++
			theirs := rdGopacket(ours.format, data)
			k, isKnown := rdKnownDiffs[rel]
			if !isKnown {
				// Not a known difference: everything must agree.
				want := rdStrip(ours.pkts)
				if ours.format == "pcapng" {
					want = rdExpectNg(ours)
					if len(want) != len(ours.pkts) {
						// Mixed link types or SPBs: pcapgo's documented
						// defaults, checked through rdExpectNg.
						known++
					}
				}
				if !rdSame(want, theirs.pkts) {
					t.Errorf("%s: reseq %d packets (%v), pcapgo %d (%v, open %v): %s", rel, len(ours.pkts), ours.err, len(theirs.pkts), theirs.err, theirs.openErr, rdFirstDiff(want, theirs.pkts))
				}
				if (ours.err == nil) != (theirs.err == nil) || (ours.openErr == nil) != (theirs.openErr == nil) {
					t.Errorf("%s: reseq ends with %v/%v, pcapgo with %v/%v", rel, ours.openErr, ours.err, theirs.openErr, theirs.err)
				}
				if len(want) == len(ours.pkts) {
					equal++
				}
				return nil
			}
			seenKnown[rel] = true
			known++
			if msg := rdCheckKnown(k.kind, ours, theirs); msg != "" {
				t.Errorf("%s: %s (known difference: %s)", rel, msg, k.why)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for rel := range rdKnownDiffs {
		if !seenKnown[rel] {
			t.Errorf("%s: listed as a known difference but not found", rel)
		}
	}
	t.Logf("%d captures: %d identical in both, %d with a known, checked difference; %d non-captures rejected by both", files, equal, known, rejected)
	if files < 400 {
		t.Errorf("only %d captures compared", files)
	}
}

// rdCheckKnown asserts the specific relation of a known difference; it
// returns a description of what does not hold, or "".
func rdCheckKnown(kind rdDiffKind, ours, theirs rdOutcome) string {
	switch kind {
	case rdModified, rdMinorVersion:
		if theirs.openErr == nil || ours.err != nil || len(ours.pkts) == 0 {
			return fmt.Sprintf("want pcapgo to refuse the file and reseq to read it: pcapgo %v, reseq %d packets, %v", theirs.openErr, len(ours.pkts), ours.err)
		}
	case rdUsecOverflow:
		if len(ours.pkts) != len(theirs.pkts) || ours.err != nil || theirs.err != nil {
			return "packet counts differ"
		}
		differ := 0
		for i, p := range ours.pkts {
			q := theirs.pkts[i]
			if p.data != q.data || p.length != q.length {
				return fmt.Sprintf("packet %d differs beyond its timestamp", i)
			}
			if d := p.ts - q.ts; d != 0 {
				if d < 0 || d%(1<<32) != 0 {
					return fmt.Sprintf("packet %d: timestamps differ by %d ns, not by a 32-bit wrap", i, d)
				}
				differ++
			}
		}
		if differ == 0 {
			return "no timestamp differs"
		}
	case rdTruncatedTail:
		var fe *pcapfile.FormatError
		if !rdSame(rdStrip(ours.pkts), theirs.pkts) || !errors.Is(ours.err, pcapfile.ErrTruncated) || !errors.As(ours.err, &fe) || !errors.Is(theirs.err, io.ErrUnexpectedEOF) {
			return fmt.Sprintf("want equal packets, then ErrTruncated vs io.ErrUnexpectedEOF: %v / %v", ours.err, theirs.err)
		}
	case rdClamped:
		if len(ours.pkts) != len(theirs.pkts) || len(ours.pkts) == 0 {
			return "packet counts differ"
		}
		for i, p := range ours.pkts {
			if p.ts != math.MaxInt64 || p.data != theirs.pkts[i].data || theirs.pkts[i].ts == math.MaxInt64 {
				return fmt.Sprintf("packet %d: reseq ts %d, pcapgo %d", i, p.ts, theirs.pkts[i].ts)
			}
		}
	case rdNTAR:
		want := rdExpectNg(ours)
		if ours.err != nil || theirs.err == nil || len(theirs.pkts) > len(want) || !rdSame(want[:len(theirs.pkts)], theirs.pkts) {
			return fmt.Sprintf("want reseq to read all and pcapgo a prefix then fail: reseq %d (%v), pcapgo %d (%v)", len(ours.pkts), ours.err, len(theirs.pkts), theirs.err)
		}
	case rdSectionVersion:
		if !errors.Is(ours.err, pcapng.ErrVersion) || theirs.err == nil || len(ours.pkts) != 1 || !rdSame(rdExpectNg(ours), theirs.pkts) {
			return fmt.Sprintf("reseq %d (%v), pcapgo %d (%v)", len(ours.pkts), ours.err, len(theirs.pkts), theirs.err)
		}
	case rdSectionIfaces:
		want := rdExpectNg(ours)
		if ours.err != nil || theirs.err == nil || !strings.Contains(theirs.err.Error(), "interface") || len(theirs.pkts) >= len(want) || !rdSame(want[:len(theirs.pkts)], theirs.pkts) {
			return fmt.Sprintf("reseq %d (%v), pcapgo %d (%v)", len(ours.pkts), ours.err, len(theirs.pkts), theirs.err)
		}
	case rdReservedBits:
		if !errors.Is(ours.openErr, pcapfile.ErrHeader) || theirs.openErr != nil {
			return fmt.Sprintf("reseq %v, pcapgo %v", ours.openErr, theirs.openErr)
		}
	case rdNoInterface:
		if ours.openErr != nil || ours.err != nil || len(ours.pkts) != 0 || theirs.openErr != io.EOF {
			return fmt.Sprintf("reseq %v/%v %d packets, pcapgo %v", ours.openErr, ours.err, len(ours.pkts), theirs.openErr)
		}
	default:
		return "unknown kind"
	}
	return ""
}

func rdFirstDiff(a, b []rdPacket) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("packet %d: ts %d/%d length %d/%d bytes %d/%d", i, a[i].ts, b[i].ts, a[i].length, b[i].length, len(a[i].data), len(b[i].data))
		}
	}
	return fmt.Sprintf("counts %d/%d", len(a), len(b))
}

// rdRefTimestamp converts a raw pcapng timestamp with big integers.
func rdRefTimestamp(resol uint8, raw uint64) int64 {
	x := new(big.Int).Mul(new(big.Int).SetUint64(raw), big.NewInt(1e9))
	if resol&0x80 != 0 {
		x.Rsh(x, uint(resol&0x7f))
	} else {
		x.Quo(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(resol)), nil))
	}
	return x.Int64()
}

// rdNg builds pcapng bytes in byte order o.
type rdNg struct {
	o binary.AppendByteOrder
	b []byte
}

func (w *rdNg) block(typ uint32, body []byte) *rdNg {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	w.b = w.o.AppendUint32(w.b, typ)
	w.b = w.o.AppendUint32(w.b, n)
	w.b = append(w.b, body...)
	w.b = w.o.AppendUint32(w.b, n)
	return w
}

func (w *rdNg) opt(code uint16, val []byte) []byte {
	b := w.o.AppendUint16(nil, code)
	b = w.o.AppendUint16(b, uint16(len(val)))
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (w *rdNg) shb() *rdNg {
	b := w.o.AppendUint32(nil, 0x1A2B3C4D)
	b = w.o.AppendUint16(b, 1)
	b = w.o.AppendUint16(b, 0)
	b = w.o.AppendUint64(b, ^uint64(0))
	return w.block(pcapng.BlockSHB, b)
}

func (w *rdNg) idb(link uint16, tsresol uint8) *rdNg {
	b := w.o.AppendUint16(nil, link)
	b = w.o.AppendUint16(b, 0)
	b = w.o.AppendUint32(b, 0)
	b = append(b, w.opt(9, []byte{tsresol})...)
	b = append(b, 0, 0, 0, 0)
	return w.block(pcapng.BlockIDB, b)
}

func (w *rdNg) epb(ts uint64, data []byte, options []byte) *rdNg {
	b := w.o.AppendUint32(nil, 0)
	b = w.o.AppendUint32(b, uint32(ts>>32))
	b = w.o.AppendUint32(b, uint32(ts))
	b = w.o.AppendUint32(b, uint32(len(data)))
	b = w.o.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return w.block(pcapng.BlockEPB, append(b, options...))
}

func rdAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReadersGopacketKnownWrong: hand-built inputs for each way pcapgo is
// known to be wrong (../shared/DESIGN.md, "Anchors"), asserting reseq is right
// and recording what pcapgo v1.7.7 does (some anchors are fixed there).
func TestReadersGopacketKnownWrong(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	tests := []struct {
		name string
		why  string
		run  func(t *testing.T)
	}{
		{"modified-pcap", "pcapgo rejects magic a1b2cd34 (24-byte records); reseq reads it", func(t *testing.T) {
			b := le.AppendUint32(nil, pcapfile.MagicModified)
			b = le.AppendUint16(b, 2)
			b = le.AppendUint16(b, 4)
			b = append(b, make([]byte, 8)...)
			b = le.AppendUint32(b, 65535)
			b = le.AppendUint32(b, 101)
			for i := range 3 {
				b = le.AppendUint32(b, uint32(1000+i))
				b = le.AppendUint32(b, 5)
				b = le.AppendUint32(b, 4)
				b = le.AppendUint32(b, 4)
				b = append(b, 1, 0, 0, 0, 0x08, 0x00, 0, 0) // ifindex, protocol, type, pad
				b = append(b, 'a', 'b', 'c', byte('0'+i))
			}
			ours := rdOurs(b)
			if ours.err != nil || len(ours.pkts) != 3 || ours.pkts[2].data != "abc2" || ours.pkts[2].ts != 1002_000_005_000 {
				t.Errorf("reseq: %+v", ours)
			}
			if g := rdGopacket("pcap", b); g.openErr == nil || !strings.Contains(g.openErr.Error(), "a1b2cd34") {
				t.Errorf("pcapgo: %+v", g)
			}
		}},
		{"snaplen-0", "snaplen 0 (no limit recorded): reseq reads every packet; fixed in pcapgo v1.7.7 (it reads them too)", func(t *testing.T) {
			var buf bytes.Buffer
			w, _ := pcapfile.NewWriter(&buf, 1, 0, false)
			big := bytes.Repeat([]byte{9}, 9000)
			w.WritePacket(1e9, big, 9000)
			w.WritePacket(2e9, []byte("x"), 1)
			ours, theirs := rdOurs(buf.Bytes()), rdGopacket("pcap", buf.Bytes())
			if ours.err != nil || len(ours.pkts) != 2 || len(ours.pkts[0].data) != 9000 {
				t.Errorf("reseq: %d packets, %v", len(ours.pkts), ours.err)
			}
			if !rdSame(rdStrip(ours.pkts), theirs.pkts) {
				t.Errorf("pcapgo differs: %d packets, %v %v", len(theirs.pkts), theirs.openErr, theirs.err)
			}
		}},
		{"big-endian-epb-options", "pcapgo decodes epb_flags and epb_dropcount little-endian in a big-endian section", func(t *testing.T) {
			w := &rdNg{o: be}
			w.shb().idb(1, 6)
			opts := append(w.opt(2, be.AppendUint32(nil, 0x00000201)), w.opt(4, be.AppendUint64(nil, 7))...)
			w.epb(1, []byte("pkt"), append(opts, 0, 0, 0, 0))
			r, err := pcapng.NewReader(bytes.NewReader(w.b))
			if err != nil {
				t.Fatal(err)
			}
			p, err := r.Next()
			if err != nil || p.Flags != 0x201 || p.DropCount != 7 {
				t.Errorf("reseq: flags %#x drops %d, %v", p.Flags, p.DropCount, err)
			}
			g, err := pcapgo.NewNgReader(bufio.NewReader(bytes.NewReader(w.b)), pcapgo.DefaultNgReaderOptions)
			if err != nil {
				t.Fatal(err)
			}
			_, _, o, err := g.ReadPacketDataWithOptions()
			if err != nil || o.DropCount == nil || *o.DropCount == 7 || *o.DropCount != 7<<56 {
				t.Errorf("pcapgo: want the byte-swapped drop count %d, got %v (%v)", uint64(7)<<56, o.DropCount, err)
			}
		}},
		{"binary-tsresol", "pcapgo scales 2^-n units with an integer factor: tens of ms off for 2^-30; reseq is exact (rounded down to the ns)", func(t *testing.T) {
			const resol = 0x80 | 30
			raw := uint64(1_700_000_000)<<30 | 0x3fffffff
			w := &rdNg{o: le}
			w.shb().idb(1, resol).epb(raw, []byte("x"), nil)
			want := rdRefTimestamp(resol, raw)
			ours, theirs := rdOurs(w.b), rdGopacket("pcapng", w.b)
			if len(ours.pkts) != 1 || ours.pkts[0].ts != want {
				t.Errorf("reseq: %+v, want ts %d", ours.pkts, want)
			}
			if len(theirs.pkts) != 1 {
				t.Fatalf("pcapgo: %+v", theirs)
			}
			off := time.Duration(want - theirs.pkts[0].ts).Abs()
			t.Logf("pcapgo is %v off at resolution 2^-30", off)
			if off < 10*time.Millisecond {
				t.Errorf("pcapgo only %v off: the anchor no longer holds", off)
			}
		}},
		{"bad-block-desync", "a block whose length field lies: reseq stops with ErrTrailer at its offset; pcapgo does not check trailers (it ends with a bare unexpected EOF, no offset)", func(t *testing.T) {
			w := &rdNg{o: le}
			w.shb().idb(1, 9).epb(1, []byte("first"), nil)
			bad := len(w.b)
			w.epb(2, []byte("second packet"), nil).epb(3, []byte("third"), nil)
			le.PutUint32(w.b[bad+4:], 44) // the second EPB claims 44 bytes instead of 48
			ours := rdOurs(w.b)
			var fe *pcapng.FormatError
			if len(ours.pkts) != 1 || !errors.Is(ours.err, pcapng.ErrTrailer) || !errors.As(ours.err, &fe) || fe.Offset != int64(bad) {
				t.Errorf("reseq: %d packets, %v; want 1 then ErrTrailer at %d", len(ours.pkts), ours.err, bad)
			}
			theirs := rdGopacket("pcapng", w.b)
			t.Logf("pcapgo: %d packets, then %v", len(theirs.pkts), theirs.err)
			if theirs.err == nil && len(theirs.pkts) == 3 {
				t.Errorf("pcapgo read the lying block as if intact")
			}
		}},
		{"tiny-file-allocation", "a 100-byte file claiming huge records: reseq allocates little; pcapgo v1.7.7 reads large records in chunks too", func(t *testing.T) {
			b := le.AppendUint32(nil, pcapfile.MagicMicroseconds)
			b = le.AppendUint16(b, 2)
			b = le.AppendUint16(b, 4)
			b = append(b, make([]byte, 8)...)
			b = le.AppendUint32(b, 0x0fffffff) // snaplen 256 MiB
			b = le.AppendUint32(b, 1)
			b = le.AppendUint32(b, 1)
			b = le.AppendUint32(b, 0)
			b = le.AppendUint32(b, 0x0ffffff0) // caplen ~256 MiB
			b = le.AppendUint32(b, 0x0ffffff0)
			b = append(b, make([]byte, 100-len(b))...)
			var ours rdOutcome
			ourAlloc := rdAllocated(func() { ours = rdOurs(b) })
			var theirs rdOutcome
			theirAlloc := rdAllocated(func() { theirs = rdGopacket("pcap", b) })
			t.Logf("allocated: reseq %d bytes, pcapgo %d bytes", ourAlloc, theirAlloc)
			if !errors.Is(ours.err, pcapfile.ErrCaplen) || ourAlloc > 512<<10 {
				t.Errorf("reseq: %v, %d bytes allocated", ours.err, ourAlloc)
			}
			if theirs.err == nil {
				t.Errorf("pcapgo accepted it")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t)
			if t.Failed() {
				t.Logf("case: %s", tc.why)
			}
		})
	}
}
