package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/reseq/reseq/internal/testshared"
	"github.com/reseq/reseq/pcapfile"
	"github.com/reseq/reseq/pcapng"
)

// Fuzz targets for the capture readers. Each asserts invariants:
//   - every packet has Length >= 0 and len(Data) within the format's bound;
//   - reading ends with io.EOF or a typed *FormatError whose offset lies in the
//     input;
//   - the outcome does not depend on how the input is chunked by its reader;
//   - the packets before an error at offset O are exactly what reading the
//     first O bytes yields, with a clean end (nothing before a broken record is
//     lost); for pcap they also equal an independent reference parse;
//   - writing the packets with the package's Writer and reading them back gives
//     the same packets (where the format can represent them);
//   - memory stays bounded by a small multiple of the input.

type rfPacket struct {
	ts     int64
	length int
	data   string
	link   uint32
	iface  int
	block  uint32
}

type rfResult struct {
	pkts   []rfPacket
	err    error // nil: clean EOF
	open   bool  // the error came from NewReader
	ifaces []pcapng.Interface
}

// rfBytes is an input read in place, by the readers' NewReaderBytes.
type rfBytes struct{ b []byte }

func (rfBytes) Read([]byte) (int, error) {
	return 0, errors.New("rfBytes is read in place, not through Read")
}

func rfReadPcap(r io.Reader) rfResult {
	var pr *pcapfile.Reader
	var err error
	if b, ok := r.(rfBytes); ok {
		pr, err = pcapfile.NewReaderBytes(b.b)
	} else {
		pr, err = pcapfile.NewReader(r)
	}
	if err != nil {
		return rfResult{err: err, open: true}
	}
	var res rfResult
	for {
		p, err := pr.Next()
		if err != nil {
			if err != io.EOF {
				res.err = err
			}
			return res
		}
		res.pkts = append(res.pkts, rfPacket{p.Timestamp, p.Length, string(p.Data), p.LinkType, 0, 0})
	}
}

func rfReadPcapng(r io.Reader) rfResult {
	var nr *pcapng.Reader
	var err error
	if b, ok := r.(rfBytes); ok {
		nr, err = pcapng.NewReaderBytes(b.b)
	} else {
		nr, err = pcapng.NewReader(r)
	}
	if err != nil {
		return rfResult{err: err, open: true}
	}
	var res rfResult
	for {
		p, err := nr.Next()
		if err != nil {
			if err != io.EOF {
				res.err = err
			}
			res.ifaces = nr.Interfaces()
			return res
		}
		res.pkts = append(res.pkts, rfPacket{p.Timestamp, p.Length, string(p.Data), p.LinkType, p.Interface, p.Block})
	}
}

func rfSame(a, b rfResult) bool {
	if len(a.pkts) != len(b.pkts) || (a.err == nil) != (b.err == nil) || a.open != b.open {
		return false
	}
	if a.err != nil && a.err.Error() != b.err.Error() {
		return false
	}
	for i := range a.pkts {
		if a.pkts[i] != b.pkts[i] {
			return false
		}
	}
	return true
}

// rfOffset returns the offset of a format error, and whether err is one.
func rfOffset(err error) (int64, bool) {
	var fe *pcapfile.FormatError
	if errors.As(err, &fe) {
		return fe.Offset, true
	}
	var ne *pcapng.FormatError
	if errors.As(err, &ne) {
		return ne.Offset, true
	}
	return 0, false
}

// rfChunkings reads data through differently chunked readers, and in place.
func rfChunkings(data []byte) []io.Reader {
	return []io.Reader{
		rfBytes{data},
		iotest.OneByteReader(bytes.NewReader(data)),
		iotest.HalfReader(bytes.NewReader(data)),
		iotest.DataErrReader(bytes.NewReader(data)),
	}
}

func rfAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// rfCommon checks the invariants shared by both formats.
func rfCommon(t *testing.T, data []byte, res rfResult, read func(io.Reader) rfResult, maxData func(i int, p rfPacket) int) {
	for i, p := range res.pkts {
		if p.length < 0 || len(p.data) > maxData(i, p) {
			t.Fatalf("packet %d: length %d, %d bytes (bound %d)", i, p.length, len(p.data), maxData(i, p))
		}
	}
	if res.err != nil {
		off, ok := rfOffset(res.err)
		if !ok || off < 0 || off > int64(len(data)) {
			t.Fatalf("error %v: not a format error with an offset in [0, %d]", res.err, len(data))
		}
		// Everything before the broken part reads cleanly, to the same packets.
		if !res.open {
			prefix := read(bytes.NewReader(data[:off]))
			if prefix.err != nil || len(prefix.pkts) != len(res.pkts) {
				t.Fatalf("error at %d after %d packets; the first %d bytes give %d packets, %v", off, len(res.pkts), off, len(prefix.pkts), prefix.err)
			}
			for i := range res.pkts {
				if prefix.pkts[i] != res.pkts[i] {
					t.Fatalf("packet %d differs when reading only the first %d bytes", i, off)
				}
			}
		}
	}
	for _, r := range rfChunkings(data) {
		if other := read(r); !rfSame(res, other) {
			t.Fatalf("chunked reading differs: %d packets (%v) vs %d (%v)", len(res.pkts), res.err, len(other.pkts), other.err)
		}
	}
}

// rfRefPcap is an independent, simple reading of a pcap file held in memory:
// the packets and the offset where reading stops (-1: clean end).
func rfRefPcap(b []byte) (pkts []rfPacket, stop int64) {
	if len(b) < 24 {
		return nil, 0
	}
	var o binary.ByteOrder = binary.LittleEndian
	magic := o.Uint32(b)
	if magic != 0xa1b2c3d4 && magic != 0xa1b23c4d && magic != 0xa1b2cd34 {
		o = binary.BigEndian
		magic = o.Uint32(b)
	}
	hdr := 16
	if magic == 0xa1b2cd34 {
		hdr = 24
	}
	snap := int64(o.Uint32(b[16:]))
	limit := max(snap, 256<<10)
	limit = min(limit, 16<<20)
	link := o.Uint32(b[20:]) & 0x03ffffff
	off := int64(24)
	for {
		if off == int64(len(b)) {
			return pkts, -1
		}
		if off+int64(hdr) > int64(len(b)) {
			return pkts, off
		}
		r := b[off:]
		caplen := int64(o.Uint32(r[8:]))
		if caplen > limit || off+int64(hdr)+caplen > int64(len(b)) {
			return pkts, off
		}
		ts := int64(o.Uint32(r))*1e9 + int64(o.Uint32(r[4:]))*1000
		if magic == 0xa1b23c4d {
			ts = int64(o.Uint32(r))*1e9 + int64(o.Uint32(r[4:]))
		}
		pkts = append(pkts, rfPacket{ts, int(o.Uint32(r[12:])), string(r[hdr : int64(hdr)+caplen]), link, 0, 0})
		off += int64(hdr) + caplen
	}
}

// rfRefPcapng is an independent, simple reading of a pcapng file held in
// memory, written from the format description rather than from package
// pcapng: the packets and the offset of the block where reading stops (-1: a
// clean end). Timestamps are converted with big integers.
func rfRefPcapng(b []byte) (pkts []rfPacket, stop int64) {
	type iface struct {
		link, snap uint32
		resol      uint8
		offset     int64
	}
	var (
		o      binary.ByteOrder = binary.LittleEndian
		ifaces []iface
		lastTS int64
	)
	optionsOK := func(opts []byte) bool {
		for len(opts) >= 4 {
			code, n := o.Uint16(opts), int(o.Uint16(opts[2:]))
			if code == 0 {
				return true
			}
			if 4+n > len(opts) {
				return false
			}
			opts = opts[min((4+n+3)/4*4, len(opts)):]
		}
		return true
	}
	ts := func(in iface, hi, lo uint32) int64 {
		x := new(big.Int).Lsh(big.NewInt(int64(hi)), 32)
		x.Or(x, big.NewInt(int64(lo)))
		x.Mul(x, big.NewInt(1e9))
		if in.resol&0x80 != 0 {
			x.Rsh(x, uint(in.resol&0x7f))
		} else {
			x.Quo(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(in.resol)), nil))
		}
		x.Add(x, new(big.Int).Mul(big.NewInt(in.offset), big.NewInt(1e9)))
		if x.Cmp(big.NewInt(math.MaxInt64)) > 0 {
			return math.MaxInt64
		}
		if x.Cmp(big.NewInt(math.MinInt64)) < 0 {
			return math.MinInt64
		}
		return x.Int64()
	}
	for off := 0; ; {
		if off == len(b) {
			return pkts, -1
		}
		if len(b)-off < 12 {
			return pkts, int64(off)
		}
		if string(b[off:off+4]) == "\x0a\x0d\x0d\x0a" {
			switch string(b[off+8 : off+12]) {
			case "\x4d\x3c\x2b\x1a":
				o = binary.LittleEndian
			case "\x1a\x2b\x3c\x4d":
				o = binary.BigEndian
			default:
				return pkts, int64(off)
			}
		} else if off == 0 {
			return nil, 0
		}
		typ, length := o.Uint32(b[off:]), int(o.Uint32(b[off+4:]))
		padded := (length + 3) / 4 * 4
		if length < 12 || padded > pcapng.MaxBlockLength || padded > len(b)-off ||
			int(o.Uint32(b[off+padded-4:])) != length || (typ == pcapng.BlockSHB && length%4 != 0) {
			return pkts, int64(off)
		}
		if off == 0 && typ != pcapng.BlockSHB {
			return nil, 0
		}
		body := b[off+8 : off+padded-4]
		bad := false
		switch typ {
		case pcapng.BlockSHB:
			major, minor := uint16(0), uint16(0)
			if len(body) >= 16 {
				major, minor = o.Uint16(body[4:]), o.Uint16(body[6:])
			}
			bad = len(body) < 16 || major != 1 || (minor != 0 && minor != 2) || !optionsOK(body[16:])
			ifaces, lastTS = nil, 0
		case pcapng.BlockIDB:
			if bad = len(body) < 8 || !optionsOK(body[8:]); bad {
				break
			}
			in := iface{link: uint32(o.Uint16(body)), snap: o.Uint32(body[4:]), resol: 6}
			for opts := body[8:]; len(opts) >= 4 && o.Uint16(opts) != 0; {
				code, n := o.Uint16(opts), int(o.Uint16(opts[2:]))
				v := opts[4 : 4+n]
				switch {
				case code == 9 && n == 1:
					in.resol = v[0]
				case code == 14 && n == 8:
					in.offset = int64(o.Uint64(v))
				case (code == 9 || code == 13) && n != 1, code == 14 && n != 8:
					bad = true
				}
				opts = opts[min((4+n+3)/4*4, len(opts)):]
			}
			ifaces = append(ifaces, in)
		case pcapng.BlockEPB, pcapng.BlockOPB:
			if len(body) < 20 {
				bad = true
				break
			}
			id := int(o.Uint32(body))
			if typ == pcapng.BlockOPB {
				id = int(o.Uint16(body))
			}
			caplen := int(o.Uint32(body[12:]))
			if bad = id >= len(ifaces) || caplen > len(body)-20; bad {
				break
			}
			if opts := body[min(20+(caplen+3)/4*4, len(body)):]; len(opts) >= 4 && !optionsOK(opts) {
				bad = true
				break
			}
			lastTS = ts(ifaces[id], o.Uint32(body[4:]), o.Uint32(body[8:]))
			pkts = append(pkts, rfPacket{lastTS, int(o.Uint32(body[16:])), string(body[20 : 20+caplen]), ifaces[id].link, id, typ})
		case pcapng.BlockSPB:
			if bad = len(body) < 4 || len(ifaces) == 0; bad {
				break
			}
			orig := int64(o.Uint32(body))
			caplen := orig
			if ifaces[0].snap != 0 {
				caplen = min(caplen, int64(ifaces[0].snap))
			}
			if bad = caplen > int64(len(body)-4); bad {
				break
			}
			pkts = append(pkts, rfPacket{lastTS, int(orig), string(body[4 : 4+caplen]), ifaces[0].link, 0, typ})
		case pcapng.BlockISB:
			bad = len(body) < 12 || int(o.Uint32(body)) >= len(ifaces) || !optionsOK(body[12:])
		}
		if bad {
			return pkts, int64(off)
		}
		off += padded
	}
}

func rfSeedPcaps() [][]byte {
	var seeds [][]byte
	for _, nano := range []bool{false, true} {
		var buf bytes.Buffer
		w, _ := pcapfile.NewWriter(&buf, 1, 65535, nano)
		w.WritePacket(1_700_000_000_123_456_789, []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x08\x00E"), 60)
		w.WritePacket(1_700_000_001_000_000_000, bytes.Repeat([]byte{0xaa}, 100), 1514)
		w.WritePacket(1_700_000_002_000_000_000, nil, 0)
		seeds = append(seeds, bytes.Clone(buf.Bytes()))
	}
	// Big-endian, snaplen 0, FCS bits.
	be := binary.BigEndian
	b := be.AppendUint32(nil, pcapfile.MagicMicroseconds)
	b = be.AppendUint16(b, 2)
	b = be.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, 0x24000001)
	for i := range 3 {
		b = be.AppendUint32(b, uint32(i))
		b = be.AppendUint32(b, 999999)
		b = be.AppendUint32(b, 4)
		b = be.AppendUint32(b, 64)
		b = append(b, 1, 2, 3, byte(i))
	}
	seeds = append(seeds, b)
	// Modified format, little-endian.
	le := binary.LittleEndian
	m := le.AppendUint32(nil, pcapfile.MagicModified)
	m = le.AppendUint16(m, 2)
	m = le.AppendUint16(m, 4)
	m = append(m, make([]byte, 8)...)
	m = le.AppendUint32(m, 96)
	m = le.AppendUint32(m, 101)
	for i := range 2 {
		m = le.AppendUint32(m, uint32(100+i))
		m = le.AppendUint32(m, 7)
		m = le.AppendUint32(m, 2)
		m = le.AppendUint32(m, 40)
		m = append(m, 1, 0, 0, 0, 8, 0, 0, 0, 0x45, byte(i))
	}
	seeds = append(seeds, m)
	// Mutations: truncated, absurd caplen, garbage.
	t := bytes.Clone(seeds[0])
	seeds = append(seeds, t[:len(t)-3], t[:30])
	a := bytes.Clone(seeds[1])
	le.PutUint32(a[24+8:], 0x7fffffff)
	seeds = append(seeds, a, []byte("not a capture at all, just text"), nil)
	return seeds
}

func rfSeedPcapngs() [][]byte {
	var seeds [][]byte
	var buf bytes.Buffer
	w, _ := pcapng.NewWriter(&buf)
	w.AddInterface(1, 65535, 9)
	w.AddInterface(101, 0, 6)
	w.AddInterface(113, 128, 0x80|20)
	w.WritePacket(0, 1_700_000_000_123_456_789, []byte("ethernet"), 60)
	w.WritePacket(1, 1_700_000_000_500_000_000, []byte("raw"), 3)
	w.WritePacket(2, 1_700_000_001_000_000_000, bytes.Repeat([]byte{7}, 77), 200)
	seeds = append(seeds, bytes.Clone(buf.Bytes()))
	// Big-endian section with options, SPB, OPB, ISB, NRB, custom and unknown
	// blocks, then a little-endian section.
	be := &rdNg{o: binary.BigEndian}
	be.shb().idb(1, 6)
	be.epb(1, []byte("pkt"), append(append(be.opt(2, binary.BigEndian.AppendUint32(nil, 1)), be.opt(1, []byte("comment"))...), 0, 0, 0, 0))
	be.block(pcapng.BlockSPB, append(binary.BigEndian.AppendUint32(nil, 5), "simple"...))
	be.block(pcapng.BlockOPB, append(binary.BigEndian.AppendUint32(nil, 0), append(make([]byte, 8), append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 2), 2), 'o', 'k')...)...))
	be.block(pcapng.BlockISB, append(binary.BigEndian.AppendUint32(nil, 0), append(make([]byte, 8), append(be.opt(5, binary.BigEndian.AppendUint64(nil, 3)), 0, 0, 0, 0)...)...))
	be.block(pcapng.BlockNRB, []byte{0, 1, 0, 8, 10, 0, 0, 1, 'h', 'o', 's', 't', 0, 0, 0, 0})
	be.block(pcapng.BlockCB, []byte("\x00\x00\x7e\xd9custom"))
	be.block(0x1234, []byte("unknown"))
	le := &rdNg{o: binary.LittleEndian, b: be.b}
	le.shb().idb(228, 0x80|30).epb(1<<40, []byte("second section"), nil)
	seeds = append(seeds, le.b)
	// Mutations: truncated, trailer mismatch, unknown interface, huge length.
	s := bytes.Clone(seeds[0])
	seeds = append(seeds, s[:len(s)-5], s[:10])
	tr := bytes.Clone(s)
	tr[len(tr)-1] ^= 0xff
	seeds = append(seeds, tr)
	huge := bytes.Clone(s[:60])
	binary.LittleEndian.PutUint32(huge[len(s[:28])+4:], 0x7ffffff0)
	seeds = append(seeds, huge, []byte("\x0a\x0d\x0d\x0a"), nil)
	return seeds
}

// rfAddCorpus adds the small capture files of ../shared/corpus, when present.
func rfAddCorpus(f *testing.F, want func([]byte) bool) {
	dir, err := os.Getwd()
	if err != nil {
		return
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			return
		}
		dir = up
	}
	filepath.WalkDir(filepath.Join(dir, "..", "shared", "corpus"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() > 4096 {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil && want(b) {
			f.Add(b)
		}
		return nil
	})
}

func FuzzPcapfile(f *testing.F) {
	for _, s := range rfSeedPcaps() {
		f.Add(s)
	}
	rfAddCorpus(f, func(b []byte) bool {
		_, err := pcapfile.NewReader(bytes.NewReader(b))
		return err == nil
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		var res rfResult
		alloc := rfAllocated(func() { res = rfReadPcap(bytes.NewReader(data)) })
		if bound := uint64(8*len(data)) + 4<<20; alloc > bound {
			t.Fatalf("%d bytes allocated for a %d-byte input", alloc, len(data))
		}
		var snap uint32
		if len(data) >= 24 {
			snap = binary.LittleEndian.Uint32(data[16:])
			if binary.BigEndian.Uint32(data) == pcapfile.MagicMicroseconds || binary.BigEndian.Uint32(data) == pcapfile.MagicNanoseconds || binary.BigEndian.Uint32(data) == pcapfile.MagicModified {
				snap = binary.BigEndian.Uint32(data[16:])
			}
		}
		limit := min(max(int(snap), 256<<10), 16<<20)
		rfCommon(t, data, res, rfReadPcap, func(int, rfPacket) int { return limit })
		if res.open {
			if !errors.Is(res.err, pcapfile.ErrNotPcap) && !errors.Is(res.err, pcapfile.ErrTruncated) && !errors.Is(res.err, pcapfile.ErrHeader) {
				t.Fatalf("open: %v", res.err)
			}
			return
		}
		// An independent reading gives the same packets and stops at the
		// same place.
		ref, stop := rfRefPcap(data)
		if len(ref) != len(res.pkts) {
			t.Fatalf("%d packets, the reference reads %d", len(res.pkts), len(ref))
		}
		for i := range ref {
			if ref[i] != res.pkts[i] {
				t.Fatalf("packet %d: %+v, reference %+v", i, res.pkts[i], ref[i])
			}
		}
		if off, _ := rfOffset(res.err); (stop < 0) != (res.err == nil) || (stop >= 0 && off != stop) {
			t.Fatalf("stops with %v, the reference at %d", res.err, stop)
		}
		// Write the packets again and read them back.
		for _, p := range res.pkts {
			if len(p.data) > p.length {
				return // caplen > origlen: the Writer refuses it
			}
		}
		var buf bytes.Buffer
		w, err := pcapfile.NewWriter(&buf, 1, 0, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res.pkts {
			if err := w.WritePacket(p.ts, []byte(p.data), p.length); err != nil {
				return // timestamp beyond 2^32 s (ts_usec overflow): not representable
			}
		}
		back := rfReadPcap(&buf)
		if back.err != nil || len(back.pkts) != len(res.pkts) {
			t.Fatalf("re-encoded: %d packets, %v", len(back.pkts), back.err)
		}
		for i, p := range back.pkts {
			q := res.pkts[i]
			if p.ts != q.ts || p.length != q.length || p.data != q.data {
				t.Fatalf("re-encoded packet %d: %+v, want %+v", i, p, q)
			}
		}
	})
}

func FuzzPcapng(f *testing.F) {
	for _, s := range rfSeedPcapngs() {
		f.Add(s)
	}
	rfAddCorpus(f, func(b []byte) bool {
		_, err := pcapng.NewReader(bytes.NewReader(b))
		return err == nil
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		var res rfResult
		alloc := rfAllocated(func() { res = rfReadPcapng(bytes.NewReader(data)) })
		if bound := uint64(8*len(data)) + 4<<20; alloc > bound {
			t.Fatalf("%d bytes allocated for a %d-byte input", alloc, len(data))
		}
		rfCommon(t, data, res, rfReadPcapng, func(i int, p rfPacket) int { return min(len(data), pcapng.MaxBlockLength) })
		if res.open {
			return
		}
		// An independent reading gives the same packets and stops at the
		// same block.
		ref, stop := rfRefPcapng(data)
		if len(ref) != len(res.pkts) {
			t.Fatalf("%d packets (%v), the reference reads %d (stops at %d)", len(res.pkts), res.err, len(ref), stop)
		}
		for i := range ref {
			if ref[i] != res.pkts[i] {
				t.Fatalf("packet %d: %+v, reference %+v", i, res.pkts[i], ref[i])
			}
		}
		if off, _ := rfOffset(res.err); (stop < 0) != (res.err == nil) || (stop >= 0 && off != stop) {
			t.Fatalf("stops with %v, the reference at %d", res.err, stop)
		}
		// Write the packets again (one interface per link type, nanosecond
		// resolution) and read them back.
		var buf bytes.Buffer
		w, err := pcapng.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		ifaceOf := map[uint32]int{}
		for _, p := range res.pkts {
			if p.ts < 0 || len(p.data) > p.length || p.link > 0xffff {
				return // not representable in an EPB of this Writer
			}
			if _, ok := ifaceOf[p.link]; !ok {
				ifaceOf[p.link], _ = w.AddInterface(uint16(p.link), 0, 9)
			}
			if err := w.WritePacket(ifaceOf[p.link], p.ts, []byte(p.data), p.length); err != nil {
				t.Fatalf("re-encode: %v", err)
			}
		}
		back := rfReadPcapng(&buf)
		if back.err != nil || len(back.pkts) != len(res.pkts) {
			t.Fatalf("re-encoded: %d packets, %v", len(back.pkts), back.err)
		}
		for i, p := range back.pkts {
			q := res.pkts[i]
			if p.ts != q.ts || p.length != q.length || p.data != q.data || p.link != q.link {
				t.Fatalf("re-encoded packet %d: %+v, want %+v", i, p, q)
			}
		}
	})
}

// TestReadersReference reads every capture of ../shared/corpus and
// ../shared/real with the readers and with the independent reference readings
// of the fuzz targets: same packets, same stopping offset.
func TestReadersReference(t *testing.T) {
	shared := rdShared(t)
	n := 0
	for _, sub := range []string{"corpus", "real"} {
		filepath.WalkDir(filepath.Join(shared, sub), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			data := testshared.Decompress(t, raw)
			var res rfResult
			var ref []rfPacket
			var stop int64
			if res = rfReadPcap(bytes.NewReader(data)); !res.open {
				ref, stop = rfRefPcap(data)
			} else if res = rfReadPcapng(bytes.NewReader(data)); !res.open {
				ref, stop = rfRefPcapng(data)
			} else {
				return nil
			}
			n++
			off, _ := rfOffset(res.err)
			if len(ref) != len(res.pkts) || (stop < 0) != (res.err == nil) || (stop >= 0 && off != stop) {
				t.Errorf("%s: %d packets, %v; the reference reads %d and stops at %d", path, len(res.pkts), res.err, len(ref), stop)
				return nil
			}
			for i := range ref {
				if ref[i] != res.pkts[i] {
					t.Errorf("%s: packet %d: %+v, reference %+v", path, i, res.pkts[i], ref[i])
					return nil
				}
			}
			return nil
		})
	}
	if n < 400 {
		t.Errorf("only %d captures", n)
	}
}
