package pcapng

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

type got struct {
	ts      int64
	length  int
	data    string
	link    uint32
	iface   int
	section int
	block   uint32
	flags   uint32
	drops   uint64
	hash    string
	comment string
}

func readAll(t testing.TB, r *Reader) ([]got, error) {
	t.Helper()
	var out []got
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if len(p.Data) > p.Length && p.Block != BlockEPB && p.Block != BlockOPB {
			t.Errorf("packet %d: %d bytes > length %d", len(out), len(p.Data), p.Length)
		}
		out = append(out, got{p.Timestamp, p.Length, string(p.Data), p.LinkType, p.Interface, p.Section, p.Block, p.Flags, p.DropCount, string(p.Hash), string(p.Comment)})
	}
}

func mustRead(t *testing.T, file []byte) (*Reader, []got) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	return r, pkts
}

func TestBasicBothOrders(t *testing.T) {
	for _, o := range []order{le, be} {
		file := cat(
			shb(o, 1, 0, opts(o, opt(o, 1, []byte("section comment")), opt(o, 2, []byte("hw")), opt(o, 3, []byte("os")), opt(o, 4, []byte("app")))),
			idb(o, 1, 65535, opts(o, opt(o, 2, []byte("eth0")), opt(o, 1, []byte("if comment")), opt(o, 9, []byte{9}))),
			idb(o, 101, 0, nil), // no options at all: microseconds
			epb(o, 0, 1_700_000_000_123_456_789, []byte("hello"), 60, nil),
			epb(o, 1, 1_700_000_001_000_002, []byte("raw ip"), 6, opts(o,
				opt(o, 2, u32(o, 0x00000201)), opt(o, 4, u64(o, 77)), opt(o, 3, []byte{2, 0xde, 0xad, 0xbe, 0xef}), opt(o, 1, []byte("first")), opt(o, 1, []byte("second")))),
		)
		for _, src := range []io.Reader{bytes.NewReader(file), iotest.OneByteReader(bytes.NewReader(file)), iotest.HalfReader(bytes.NewReader(file))} {
			r, err := NewReader(src)
			if err != nil {
				t.Fatal(err)
			}
			pkts, err := readAll(t, r)
			if err != nil {
				t.Fatal(err)
			}
			want := []got{
				{1_700_000_000_123_456_789, 60, "hello", 1, 0, 0, BlockEPB, 0, 0, "", ""},
				{1_700_000_001_000_002_000, 6, "raw ip", 101, 1, 0, BlockEPB, 0x201, 77, "\x02\xde\xad\xbe\xef", "first"},
			}
			if fmt.Sprint(pkts) != fmt.Sprint(want) {
				t.Errorf("%v:\n got %v\nwant %v", o, pkts, want)
			}
			s := r.Sections()
			if len(s) != 1 || s[0].ByteOrder != o || s[0].Length != -1 || s[0].Hardware != "hw" || s[0].OS != "os" || s[0].UserAppl != "app" ||
				len(s[0].Comments) != 1 || s[0].Comments[0] != "section comment" || s[0].Interfaces != 2 {
				t.Errorf("%v: sections %+v", o, s)
			}
			in := r.Interfaces()
			if len(in) != 2 || in[0].Name != "eth0" || in[0].Comments[0] != "if comment" || in[0].TSResol != 9 || in[0].SnapLen != 65535 ||
				in[1].LinkType != 101 || in[1].TSResol != 6 || in[0].Packets != 1 || in[1].Packets != 1 || in[1].FCSLength != -1 {
				t.Errorf("%v: interfaces %+v", o, in)
			}
			if r.Offset() != int64(len(file)) {
				t.Errorf("offset %d of %d", r.Offset(), len(file))
			}
		}
	}
}

// refTimestamp converts with big integers, independently of timestamp().
func refTimestamp(resol uint8, offset int64, t uint64) int64 {
	x := new(big.Int).SetUint64(t)
	x.Mul(x, big.NewInt(1e9))
	var den *big.Int
	if resol&0x80 != 0 {
		den = new(big.Int).Lsh(big.NewInt(1), uint(resol&0x7f))
	} else {
		den = new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(resol)), nil)
	}
	x.Quo(x, den) // non-negative: truncation = floor
	x.Add(x, new(big.Int).Mul(big.NewInt(offset), big.NewInt(1e9)))
	if x.Cmp(big.NewInt(math.MaxInt64)) > 0 {
		return math.MaxInt64
	}
	if x.Cmp(big.NewInt(math.MinInt64)) < 0 {
		return math.MinInt64
	}
	return x.Int64()
}

func TestTimestampResolution(t *testing.T) {
	tests := []struct {
		resol  uint8
		offset int64
		raw    uint64
	}{
		{6, 0, 1_700_000_000_123_456},
		{9, 0, 1_700_000_000_123_456_789},
		{0, 0, 1_700_000_000},
		{3, 0, 1_700_000_000_123},
		{10, 0, 17_000_000_001_234_567_899},
		{12, 0, 1_700_000_000_123_456_789_123 % (1 << 63)},
		{19, 0, math.MaxUint64},
		{29, 0, math.MaxUint64},
		{127, 0, math.MaxUint64},
		{0x80 | 0, 0, 1_700_000_000},
		{0x80 | 10, 0, 1_700_000_000<<10 | 1023},
		{0x80 | 20, 0, 1_700_000_000<<20 | 0xfffff},    // gopacket's float path is tens of ms off here
		{0x80 | 30, 0, 1_700_000_000<<30 | 0x3fffffff}, // finer than a ns: rounds down
		{0x80 | 32, 0, 1_700_000_000<<32 | 0xffffffff},
		{0x80 | 63, 0, math.MaxUint64},
		{0x80 | 64, 0, math.MaxUint64},
		{0x80 | 100, 0, math.MaxUint64},
		{0x80 | 127, 0, math.MaxUint64},
		{6, 1000, 1_700_000_000_123_456},
		{6, -5, 1_700_000_000_123_456},
		{6, -5, 3},
		{9, math.MaxInt64 / 1_000_000_000, math.MaxInt64}, // clamps
		{6, 0, math.MaxUint64},                            // clamps
		{0x80 | 1, 0, math.MaxUint64},                     // clamps
		{6, math.MinInt64, 0},                             // clamps low
	}
	for _, o := range []order{le, be} {
		for _, tc := range tests {
			var iopts [][]byte
			iopts = append(iopts, opt(o, 9, []byte{tc.resol}))
			if tc.offset != 0 {
				iopts = append(iopts, opt(o, 14, u64(o, uint64(tc.offset))))
			}
			file := cat(shb(o, 1, 0, nil), idb(o, 1, 0, opts(o, iopts...)),
				epb(o, 0, tc.raw, []byte("x"), 1, nil),
				isb(o, 0, tc.raw, opts(o, opt(o, 2, append(u32(o, uint32(tc.raw>>32)), u32(o, uint32(tc.raw))...)))))
			r, pkts := mustRead(t, file)
			want := refTimestamp(tc.resol, tc.offset, tc.raw)
			if len(pkts) != 1 || pkts[0].ts != want {
				t.Errorf("resol %#x offset %d raw %d: got %v, want %d", tc.resol, tc.offset, tc.raw, pkts, want)
			}
			if st := r.Interfaces()[0].Stats; st.Timestamp != want || st.StartTime != want {
				t.Errorf("resol %#x: ISB time %d/%d, want %d", tc.resol, st.Timestamp, st.StartTime, want)
			}
		}
	}
}

func TestMixedSections(t *testing.T) {
	file := cat(
		shb(le, 1, 0, nil), idb(le, 1, 0, nil), idb(le, 113, 0, nil),
		epb(le, 1, 1, []byte("a"), 1, nil),
		shb(be, 1, 2, nil), idb(be, 0, 0, opts(be, opt(be, 9, []byte{9}))),
		epb(be, 0, 2, []byte("b"), 1, nil),
		shb(le, 1, 0, nil), idb(le, 228, 0, nil), idb(le, 229, 0, nil), idb(le, 101, 0, nil),
		epb(le, 2, 3, []byte("c"), 1, nil), epb(le, 0, 4, []byte("d"), 1, nil),
	)
	r, pkts := mustRead(t, file)
	want := []got{
		{1000, 1, "a", 113, 1, 0, BlockEPB, 0, 0, "", ""},
		{2, 1, "b", 0, 0, 1, BlockEPB, 0, 0, "", ""},
		{3000, 1, "c", 101, 2, 2, BlockEPB, 0, 0, "", ""},
		{4000, 1, "d", 228, 0, 2, BlockEPB, 0, 0, "", ""},
	}
	if fmt.Sprint(pkts) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", pkts, want)
	}
	if s := r.Sections(); len(s) != 3 || s[1].ByteOrder != be || s[1].Minor != 2 || s[2].Interfaces != 3 {
		t.Errorf("sections %+v", s)
	}
	if in := r.Interfaces(); len(in) != 6 || in[2].Section != 1 || in[5].Index != 2 || len(r.SectionInterfaces()) != 3 {
		t.Errorf("interfaces %+v", in)
	}
	c := r.BlockCounts()
	if c[BlockSHB] != 3 || c[BlockIDB] != 6 || c[BlockEPB] != 4 {
		t.Errorf("counts %v", c)
	}
}

func TestSimpleAndObsoletePackets(t *testing.T) {
	for _, o := range []order{le, be} {
		file := cat(
			shb(o, 1, 0, nil), idb(o, 1, 4, nil), idb(o, 0, 0, nil),
			spb(o, 10, []byte("0123456789")), // capped by snaplen 4
			epb(o, 1, 5, []byte("e"), 1, nil),
			spb(o, 2, []byte("ab")),    // orig below snaplen
			spb(o, 100, []byte("xyz")), // orig 100 capped by snaplen 4: all 4 bytes the block holds are data
			opb(o, 1, 3, 7, []byte("old"), 9, opts(o, opt(o, 2, u32(o, 1)), opt(o, 3, []byte{0, 1}))),
			opb(o, 0, 0xffff, 8, nil, 0, nil),
		)
		r, pkts := mustRead(t, file)
		want := []got{
			{0, 10, "0123", 1, 0, 0, BlockSPB, 0, 0, "", ""},
			{5000, 1, "e", 0, 1, 0, BlockEPB, 0, 0, "", ""},
			{5000, 2, "ab", 1, 0, 0, BlockSPB, 0, 0, "", ""},
			{5000, 100, "xyz\x00", 1, 0, 0, BlockSPB, 0, 0, "", ""},
			{7000, 9, "old", 0, 1, 0, BlockOPB, 1, 3, "\x00\x01", ""},
			{8000, 0, "", 1, 0, 0, BlockOPB, 0, 0, "", ""},
		}
		if fmt.Sprint(pkts) != fmt.Sprint(want) {
			t.Errorf("%v:\n got %q\nwant %q", o, pkts, want)
		}
		if c := r.BlockCounts(); c[BlockSPB] != 3 || c[BlockOPB] != 2 || c[BlockEPB] != 1 {
			t.Errorf("counts %v", c)
		}
	}
}

func TestStatisticsAndOtherBlocks(t *testing.T) {
	for _, o := range []order{le, be} {
		file := cat(
			shb(o, 1, 0, nil), idb(o, 1, 0, nil),
			block(o, BlockNRB, cat(o.AppendUint16(nil, 1), o.AppendUint16(nil, 8), []byte{10, 0, 0, 1, 'h', 'o', 's', 't'}, opts(o))),
			block(o, BlockDSB, cat(u32(o, 0x544c534b), u32(o, 3), []byte("key"))),
			block(o, BlockCB, cat(u32(o, 32473), []byte("custom"))),
			block(o, BlockCBNoCopy, cat(u32(o, 32473), []byte("private"))),
			block(o, 0x7777, []byte("unknown")),
			epb(o, 0, 1, []byte("p"), 1, nil),
			isb(o, 0, 2, opts(o, opt(o, 4, u64(o, 1000)), opt(o, 5, u64(o, 7)), opt(o, 6, u64(o, 990)), opt(o, 7, u64(o, 3)), opt(o, 8, u64(o, 985)), opt(o, 1, []byte("stats")))),
			isb(o, 0, 3, opts(o, opt(o, 5, u64(o, 9)))),
		)
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		r.SetBlockFunc(func(b Block) {
			if b.ByteOrder != o || b.Section != 0 {
				t.Errorf("block %#x: order %v section %d", b.Type, b.ByteOrder, b.Section)
			}
			seen = append(seen, fmt.Sprintf("%#x@%d:%d", b.Type, b.Offset, len(b.Body)))
		})
		pkts, err := readAll(t, r)
		if err != nil || len(pkts) != 1 || pkts[0].data != "p" {
			t.Fatalf("%v %v", pkts, err)
		}
		off := len(shb(o, 1, 0, nil)) + len(idb(o, 1, 0, nil))
		want := fmt.Sprintf("[0x4@%d:16 0xa@%d:12 0xbad@%d:12 0x40000bad@%d:12 0x7777@%d:8]", off, off+28, off+28+24, off+28+24+24, off+28+24+24+24)
		if fmt.Sprint(seen) != want {
			t.Errorf("%v: blocks %v, want %v", o, seen, want)
		}
		st := r.Interfaces()[0].Stats
		if st.Blocks != 2 || st.IfDrop != 9 || st.IfRecv != -1 || st.OSDrop != -1 || st.Timestamp != 3000 || st.StartTime != -1 {
			t.Errorf("%v: last stats %+v", o, st)
		}
		c := r.BlockCounts()
		if c[BlockNRB] != 1 || c[BlockDSB] != 1 || c[BlockCB] != 1 || c[BlockCBNoCopy] != 1 || c[0x7777] != 1 || c[BlockISB] != 2 {
			t.Errorf("counts %v", c)
		}
	}
	// The counters of a single ISB.
	file := cat(shb(be, 1, 0, nil), idb(be, 1, 0, nil),
		isb(be, 0, 2, opts(be, opt(be, 4, u64(be, 1000)), opt(be, 5, u64(be, 7)), opt(be, 6, u64(be, 990)), opt(be, 7, u64(be, 3)), opt(be, 8, u64(be, 985)), opt(be, 1, []byte("stats")))))
	r, _ := mustRead(t, file)
	st := r.Interfaces()[0].Stats
	if st.IfRecv != 1000 || st.IfDrop != 7 || st.FilterAccept != 990 || st.OSDrop != 3 || st.UsrDeliv != 985 || len(st.Comments) != 1 || st.Comments[0] != "stats" {
		t.Errorf("stats %+v", st)
	}
}

// TestNTARPaddingExcluded: an old-style block length that excludes the padding
// is accepted when the trailer at the padded end repeats it.
func TestNTARPaddingExcluded(t *testing.T) {
	good := opb(le, 0, 0, 1, []byte("abcde"), 5, nil) // 20 + 8 (padded data) + 12 = 40 bytes
	odd := append([]byte(nil), good...)
	le.PutUint32(odd[4:], 37)
	le.PutUint32(odd[len(odd)-4:], 37)
	_, pkts := mustRead(t, cat(shb(le, 1, 0, nil), idb(le, 1, 0, nil), odd))
	if len(pkts) != 1 || pkts[0].data != "abcde" {
		t.Errorf("got %v", pkts)
	}
}

func TestErrors(t *testing.T) {
	head := cat(shb(le, 1, 0, nil), idb(le, 1, 0, nil))
	off := int64(len(head))
	withLen := func(b []byte, n, trailer uint32) []byte {
		b = append([]byte(nil), b...)
		le.PutUint32(b[4:], n)
		le.PutUint32(b[len(b)-4:], trailer)
		return b
	}
	e := epb(le, 0, 1, []byte("data"), 4, nil)
	tests := []struct {
		name    string
		file    []byte
		packets int
		err     error
		offset  int64
	}{
		{"length<12", cat(head, withLen(e, 8, 8)), 0, ErrBlockLength, off},
		{"length-odd-bad-trailer", cat(head, withLen(e, uint32(len(e)-1), 0)), 0, ErrTrailer, off},
		{"trailer-mismatch", cat(head, withLen(e, uint32(len(e)), 99)), 0, ErrTrailer, off},
		{"length-huge", cat(head, withLen(e, 0xfffffff0, 0)), 0, ErrBlockLength, off},
		{"length-wraps-32bit", cat(head, withLen(e, 0xfffffffe, 0)), 0, ErrBlockLength, off},
		{"length-max-uint32", cat(head, withLen(e, 0xffffffff, 0)), 0, ErrBlockLength, off},
		{"length-64M+4", cat(head, withLen(e, MaxBlockLength+4, 0)), 0, ErrBlockLength, off},
		{"unknown-interface", cat(head, e, epb(le, 1, 1, nil, 0, nil)), 1, ErrInterface, off + int64(len(e))},
		{"spb-no-interface", cat(shb(le, 1, 0, nil), spb(le, 1, []byte("x"))), 0, ErrInterface, int64(len(shb(le, 1, 0, nil)))},
		{"interface-of-previous-section", cat(head, shb(le, 1, 0, nil), epb(le, 0, 1, nil, 0, nil)), 0, ErrInterface, off + int64(len(shb(le, 1, 0, nil)))},
		{"spb-shorter-than-its-length", cat(head, spb(le, 7, []byte("abc"))), 0, ErrBlock, off},
		{"epb-caplen-past-block", cat(head, func() []byte { b := append([]byte(nil), e...); le.PutUint32(b[20:], 100); return b }()), 0, ErrBlock, off},
		{"epb-short-body", cat(head, block(le, BlockEPB, make([]byte, 16))), 0, ErrBlock, off},
		{"option-overrun", cat(head, epb(le, 0, 1, nil, 0, cat(le.AppendUint16(nil, 2), le.AppendUint16(nil, 200), make([]byte, 8)))), 0, ErrOption, off},
		{"idb-tsresol-length", cat(shb(le, 1, 0, nil), idb(le, 1, 0, opts(le, opt(le, 9, []byte{1, 2})))), 0, ErrOption, int64(len(shb(le, 1, 0, nil)))},
		{"second-section-version", cat(head, e, shb(be, 2, 0, nil)), 1, ErrVersion, off + int64(len(e))},
		{"bad-bom-later", cat(head, func() []byte { b := shb(le, 1, 0, nil); b[8] = 0; return b }()), 0, ErrBlock, off},
		{"truncated-block", cat(head, e[:len(e)-1]), 0, ErrTruncated, off},
		{"truncated-header", cat(head, e, e[:5]), 1, ErrTruncated, off + int64(len(e))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			pkts, err := readAll(t, r)
			var fe *FormatError
			if len(pkts) != tc.packets || !errors.Is(err, tc.err) || !errors.As(err, &fe) || fe.Offset != tc.offset {
				t.Fatalf("%d packets, %v; want %d then %v at %d", len(pkts), err, tc.packets, tc.err, tc.offset)
			}
			if _, err2 := r.Next(); err2 != err {
				t.Errorf("not sticky: %v", err2)
			}
		})
	}
}

func TestNewReaderErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		err    error
		detail string
	}{
		{"empty", nil, ErrNotPcapng, "empty input"},
		{"one-byte", []byte{0x0a}, ErrNotPcapng, "starts with 0a"},
		{"pcap", []byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00"), ErrNotPcapng, "starts with d4c3b2a1020004000000000000000000"},
		{"text", []byte("hello world, this is text"), ErrNotPcapng, "starts with 68656c6c6f20776f726c642c20746869"},
		{"magic-only", []byte{0x0a, 0x0d, 0x0d, 0x0a, 0, 0}, ErrTruncated, ""},
		{"bad-bom", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4}, ErrNotPcapng, ""},
		{"version-0.1", shb(le, 0, 1, nil), ErrVersion, "section version 0.1"},
		{"version-1.1", shb(be, 1, 1, nil), ErrVersion, "section version 1.1"},
		{"shb-body-short", block(le, BlockSHB, u32(le, byteOrderMagic)), ErrBlock, ""},
		{"shb-option-overrun", shb(le, 1, 0, cat(le.AppendUint16(nil, 1), le.AppendUint16(nil, 0x3030))), ErrOption, ""},
	}
	for _, tc := range tests {
		_, err := NewReader(bytes.NewReader(tc.in))
		var fe *FormatError
		if !errors.Is(err, tc.err) || !errors.As(err, &fe) || (tc.detail != "" && fe.Detail != tc.detail) {
			t.Errorf("%s: %v; want %v %q", tc.name, err, tc.err, tc.detail)
		}
	}
}

// TestTruncatedEverywhere cuts a file at every length.
func TestTruncatedEverywhere(t *testing.T) {
	blocks := [][]byte{shb(be, 1, 0, nil), idb(be, 1, 0, nil), epb(be, 0, 1, []byte("one"), 3, nil), spb(be, 3, []byte("two")), isb(be, 0, 1, nil), epb(be, 0, 2, []byte("three"), 5, nil)}
	file := cat(blocks...)
	for n := 0; n < len(file); n++ {
		r, err := NewReader(bytes.NewReader(file[:n]))
		if n < len(blocks[0]) {
			if err == nil || (!errors.Is(err, ErrTruncated) && !errors.Is(err, ErrNotPcapng)) {
				t.Errorf("n=%d: %v", n, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		pkts, err := readAll(t, r)
		// Expected: the packets of the blocks wholly inside n; an error at the
		// start of the block the cut falls in, unless it falls on a boundary.
		wantPkts, start, boundary := 0, 0, false
		for i, b := range blocks {
			if start+len(b) > n {
				break
			}
			start += len(b)
			if i == 2 || i == 3 || i == 5 {
				wantPkts++
			}
		}
		boundary = start == n
		var fe *FormatError
		if len(pkts) != wantPkts {
			t.Errorf("n=%d: %d packets, want %d", n, len(pkts), wantPkts)
		}
		if boundary {
			if err != nil {
				t.Errorf("n=%d: %v at a block boundary", n, err)
			}
		} else if !errors.Is(err, ErrTruncated) || !errors.As(err, &fe) || fe.Offset != int64(start) {
			t.Errorf("n=%d: %v, want ErrTruncated at %d", n, err, start)
		}
	}
}

func TestSmallInputSmallAllocation(t *testing.T) {
	huge := cat(shb(le, 1, 0, nil), idb(le, 1, 0, nil), le.AppendUint32(nil, BlockEPB), le.AppendUint32(nil, MaxBlockLength), make([]byte, 40))
	inputs := map[string][]byte{
		"garbage":    bytes.Repeat([]byte{0x0a, 0x0d, 0x0d, 0x0a, 0x40, 0, 0, 1, 0x4d, 0x3c, 0x2b, 0x1a}, 9),
		"huge-block": huge,
		"huge-shb":   cat([]byte{0x0a, 0x0d, 0x0d, 0x0a, 0xfc, 0xff, 0xff, 0x03, 0x4d, 0x3c, 0x2b, 0x1a}, make([]byte, 88)),
	}
	for name, in := range inputs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r, err := NewReader(bytes.NewReader(in))
		if err == nil {
			_, err = readAll(t, r)
		}
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 256<<10 {
			t.Errorf("%s: allocated %d bytes for a %d-byte input", name, d, len(in))
		}
	}
}

func TestZeroAllocationsPerPacket(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddInterface(1, 0, 9); err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte{7}, 1500)
	const n = 20000
	for i := range n {
		if err := w.WritePacket(0, int64(i)*1e6, payload[:60+i%1400], 1514); err != nil {
			t.Fatal(err)
		}
	}
	file := buf.Bytes()
	allocs := testing.AllocsPerRun(3, func() {
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		count := 0
		for {
			if _, err := r.Next(); err != nil {
				break
			}
			count++
		}
		if count != n {
			t.Fatalf("%d packets", count)
		}
	})
	if allocs > 20 {
		t.Errorf("%v allocations for %d packets; want a small constant", allocs, n)
	}
}

func TestWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	resols := []uint8{6, 9, 0x80 | 20, 0x80 | 30, 0x80 | 33, 0, 10}
	for i, res := range resols {
		if idx, err := w.AddInterface(uint16(i), uint32(i*100), res); err != nil || idx != i {
			t.Fatal(idx, err)
		}
	}
	type pkt struct {
		iface int
		ts    int64
		data  string
		orig  int
	}
	var pkts []pkt
	for i := range resols {
		pkts = append(pkts, pkt{i, 1_700_000_000_123_456_789, "data", 10}, pkt{i, 0, "", 0}, pkt{i, 999_999_999, "z", 1})
	}
	for _, p := range pkts {
		if err := w.WritePacket(p.iface, p.ts, []byte(p.data), p.orig); err != nil {
			t.Fatal(err)
		}
	}
	r, got := mustRead(t, buf.Bytes())
	if len(got) != len(pkts) {
		t.Fatalf("%d packets", len(got))
	}
	for i, p := range pkts {
		in := r.Interfaces()[p.iface]
		// Expected: the timestamp rounded down to the interface's unit, or
		// exact where the unit is at most a nanosecond.
		u, _ := units(&in, p.ts)
		want := timestamp(&in, u)
		exact := in.TSResol == 9 || in.TSResol == 10 || in.TSResol == 0x80|30 || in.TSResol == 0x80|33
		if exact && want != p.ts {
			t.Errorf("resolution %#x: %d does not round-trip (%d)", in.TSResol, p.ts, want)
		}
		if got[i].ts != want || got[i].ts > p.ts || got[i].data != p.data || got[i].length != p.orig || got[i].iface != p.iface || got[i].link != uint32(p.iface) {
			t.Errorf("packet %d: %+v, want %+v (ts %d)", i, got[i], p, want)
		}
	}
	if err := w.WritePacket(len(resols), 0, nil, 0); !errors.Is(err, ErrWrite) {
		t.Errorf("unknown interface: %v", err)
	}
	if err := w.WritePacket(0, -1, nil, 0); !errors.Is(err, ErrWrite) {
		t.Errorf("negative timestamp: %v", err)
	}
	if err := w.WritePacket(0, 0, []byte("ab"), 1); !errors.Is(err, ErrWrite) {
		t.Errorf("orig < caplen: %v", err)
	}
	if !strings.Contains(fmt.Sprint(r.Sections()[0].ByteOrder), "Little") {
		t.Errorf("writer byte order %v", r.Sections()[0].ByteOrder)
	}
}
