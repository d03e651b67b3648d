package pcapfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// rec is one record for buildPcap.
type rec struct {
	sec, frac       uint32
	caplen, origlen uint32 // caplen ^0 means len(data)
	data            []byte
}

// buildPcap hand-builds a capture in the given byte order and magic.
func buildPcap(order orderAppender, magic uint32, major, minor uint16, snaplen, link uint32, recs ...rec) []byte {
	b := make([]byte, 0, 256)
	b = order.AppendUint32(b, magic)
	b = order.AppendUint16(b, major)
	b = order.AppendUint16(b, minor)
	b = order.AppendUint32(b, 0) // thiszone
	b = order.AppendUint32(b, 0) // sigfigs
	b = order.AppendUint32(b, snaplen)
	b = order.AppendUint32(b, link)
	for _, r := range recs {
		caplen := r.caplen
		if caplen == ^uint32(0) {
			caplen = uint32(len(r.data))
		}
		b = order.AppendUint32(b, r.sec)
		b = order.AppendUint32(b, r.frac)
		b = order.AppendUint32(b, caplen)
		b = order.AppendUint32(b, r.origlen)
		if magic == MagicModified {
			b = order.AppendUint32(b, 3)      // ifindex
			b = order.AppendUint16(b, 0x0800) // protocol
			b = append(b, 4, 0)               // pkt_type, pad
		}
		b = append(b, r.data...)
	}
	return b
}

type want struct {
	ts     int64
	length int
	data   string
}

// readAll reads every packet, copying the data, and returns the final error.
func readAll(t testing.TB, r *Reader) ([]want, error) {
	t.Helper()
	var got []want
	for {
		p, err := r.Next()
		if err != nil {
			if err == io.EOF {
				return got, nil
			}
			return got, err
		}
		if p.LinkType != r.LinkType() {
			t.Fatalf("packet link type %d, reader %d", p.LinkType, r.LinkType())
		}
		got = append(got, want{p.Timestamp, p.Length, string(p.Data)})
	}
}

func TestMagicsAndByteOrders(t *testing.T) {
	recs := []rec{
		{sec: 1700000000, frac: 123456, caplen: ^uint32(0), origlen: 60, data: []byte("hello")},
		{sec: 0xfffffff0, frac: 999999, caplen: ^uint32(0), origlen: 3, data: []byte("abc")},
		{sec: 1, frac: 0, caplen: ^uint32(0), origlen: 0, data: nil},
	}
	tests := []struct {
		name     string
		order    orderAppender
		magic    uint32
		nano     bool
		modified bool
	}{
		{"le-usec", binary.LittleEndian, MagicMicroseconds, false, false},
		{"be-usec", binary.BigEndian, MagicMicroseconds, false, false},
		{"le-nsec", binary.LittleEndian, MagicNanoseconds, true, false},
		{"be-nsec", binary.BigEndian, MagicNanoseconds, true, false},
		{"le-modified", binary.LittleEndian, MagicModified, false, true},
		{"be-modified", binary.BigEndian, MagicModified, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := buildPcap(tc.order, tc.magic, 2, 4, 65535, 1, recs...)
			for _, rd := range []struct {
				name string
				r    io.Reader
			}{{"whole", bytes.NewReader(file)}, {"onebyte", iotest.OneByteReader(bytes.NewReader(file))}, {"dataerr", iotest.DataErrReader(bytes.NewReader(file))}} {
				r, err := NewReader(rd.r)
				if err != nil {
					t.Fatalf("%s: %v", rd.name, err)
				}
				if r.Nanosecond() != tc.nano || r.Modified() != tc.modified || r.ByteOrder() != tc.order {
					t.Errorf("%s: nano %v modified %v order %v", rd.name, r.Nanosecond(), r.Modified(), r.ByteOrder())
				}
				if maj, min := r.Version(); maj != 2 || min != 4 || r.Snaplen() != 65535 || r.LinkType() != 1 {
					t.Errorf("%s: header %d.%d snaplen %d link %d", rd.name, maj, min, r.Snaplen(), r.LinkType())
				}
				got, err := readAll(t, r)
				if err != nil {
					t.Fatalf("%s: %v", rd.name, err)
				}
				unit := int64(1000)
				if tc.nano {
					unit = 1
				}
				exp := []want{
					{1700000000*1e9 + 123456*unit, 60, "hello"},
					{0xfffffff0*1e9 + 999999*unit, 3, "abc"},
					{1e9, 0, ""},
				}
				if len(got) != len(exp) {
					t.Fatalf("%s: %d packets, want %d", rd.name, len(got), len(exp))
				}
				for i := range exp {
					if got[i] != exp[i] {
						t.Errorf("%s: packet %d = %+v, want %+v", rd.name, i, got[i], exp[i])
					}
				}
				if r.Offset() != int64(len(file)) {
					t.Errorf("%s: offset %d, want %d", rd.name, r.Offset(), len(file))
				}
			}
		})
	}
}

func TestLinkTypeFCS(t *testing.T) {
	tests := []struct {
		raw     uint32
		link    uint32
		fcs     int
		wantErr bool
	}{
		{1, 1, 0, false},
		{0x04000000 | 2<<28 | 1, 1, 4, false}, // F bit, 2 words: 4-byte FCS
		{0x04000000 | 0xf<<28 | 127, 127, 30, false},
		{0x30000001, 1, 0, false}, // FCS length without the F bit: not said (tcpdump test files)
		{0x00300000, 0, 0, true},  // reserved bits (libpcap rejects)
		{0x00010001, 0, 0, true},
	}
	for _, tc := range tests {
		file := buildPcap(binary.LittleEndian, MagicMicroseconds, 2, 4, 0, tc.raw, rec{caplen: ^uint32(0), origlen: 2, data: []byte{1, 2}})
		r, err := NewReader(bytes.NewReader(file))
		if tc.wantErr {
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrHeader) || fe.Offset != 20 {
				t.Errorf("raw %#x: err %v, want ErrHeader at 20", tc.raw, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("raw %#x: %v", tc.raw, err)
		}
		if r.LinkType() != tc.link || r.FCSLength() != tc.fcs || r.RawLinkType() != tc.raw {
			t.Errorf("raw %#x: link %d fcs %d, want %d %d", tc.raw, r.LinkType(), r.FCSLength(), tc.link, tc.fcs)
		}
		p, err := r.Next()
		if err != nil || p.LinkType != tc.link {
			t.Errorf("raw %#x: packet link %d err %v", tc.raw, p.LinkType, err)
		}
	}
}

func TestVersions(t *testing.T) {
	for _, v := range []struct {
		major, minor uint16
		ok           bool
	}{{2, 4, true}, {2, 1, true}, {2, 0, true}, {2, 5, false}, {1, 4, false}, {3, 0, false}} {
		file := buildPcap(binary.BigEndian, MagicNanoseconds, v.major, v.minor, 100, 1)
		_, err := NewReader(bytes.NewReader(file))
		if v.ok != (err == nil) || (!v.ok && !errors.Is(err, ErrHeader)) {
			t.Errorf("version %d.%d: err %v", v.major, v.minor, err)
		}
	}
}

// TestSnaplenBounds: snaplen 0 accepted; caplen checked against
// max(snaplen, 256 KiB) capped at 16 MiB; caplen above snaplen or origlen tolerated.
func TestSnaplenBounds(t *testing.T) {
	big := bytes.Repeat([]byte{0xab}, minMaxCaplen)
	tests := []struct {
		name    string
		snaplen uint32
		caplen  uint32
		data    []byte
		origlen uint32
		err     error
	}{
		{"snaplen0", 0, ^uint32(0), []byte("x"), 1, nil},
		{"snaplen0-256k", 0, ^uint32(0), big, minMaxCaplen, nil},
		{"snaplen0-256k+1", 0, minMaxCaplen + 1, nil, 1, ErrCaplen},
		{"caplen>snaplen", 10, ^uint32(0), []byte("0123456789ab"), 100, nil},
		{"caplen>origlen", 65535, ^uint32(0), []byte("0123"), 2, nil},
		{"snaplen-huge-caplen-absurd", 0xffffffff, 0xfffffff0, nil, 1, ErrCaplen},
		{"snaplen-1M-caplen-1M+1", 1 << 20, 1<<20 + 1, nil, 1, ErrCaplen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := buildPcap(binary.LittleEndian, MagicMicroseconds, 2, 4, tc.snaplen, 1,
				rec{sec: 5, caplen: ^uint32(0), origlen: 1, data: []byte("a")},
				rec{sec: 6, caplen: tc.caplen, origlen: tc.origlen, data: tc.data})
			r, err := NewReader(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, r)
			if tc.err == nil {
				if err != nil || len(got) != 2 || got[1].data != string(tc.data) || got[1].length != int(tc.origlen) {
					t.Fatalf("got %d packets, err %v", len(got), err)
				}
				return
			}
			var fe *FormatError
			if !errors.Is(err, tc.err) || !errors.As(err, &fe) || fe.Offset != HeaderLen+16+1 || len(got) != 1 {
				t.Fatalf("got %d packets, err %v; want %v at offset %d", len(got), err, tc.err, HeaderLen+17)
			}
			if _, err2 := r.Next(); err2 != err {
				t.Errorf("error not sticky: %v", err2)
			}
		})
	}
}

// TestTruncatedEverywhere cuts a two-record file at every length and checks that
// every complete packet comes back, then the right error at the right offset.
func TestTruncatedEverywhere(t *testing.T) {
	for _, magic := range []uint32{MagicMicroseconds, MagicModified} {
		file := buildPcap(binary.BigEndian, magic, 2, 4, 65535, 1,
			rec{sec: 1, caplen: ^uint32(0), origlen: 9, data: []byte("first")},
			rec{sec: 2, caplen: ^uint32(0), origlen: 9, data: []byte("second!")})
		hl := 16
		if magic == MagicModified {
			hl = 24
		}
		end1 := HeaderLen + hl + 5
		for n := 0; n < len(file); n++ {
			r, err := NewReader(bytes.NewReader(file[:n]))
			switch {
			case n < 4:
				// Too short to tell: not a capture.
				if !errors.Is(err, ErrNotPcap) {
					t.Errorf("n=0: %v", err)
				}
				continue
			case n < HeaderLen:
				var fe *FormatError
				if !errors.Is(err, ErrTruncated) || !errors.As(err, &fe) || fe.Offset != 0 {
					t.Errorf("n=%d: %v, want ErrTruncated at 0", n, err)
				}
				continue
			case err != nil:
				t.Fatalf("n=%d: %v", n, err)
			}
			got, err := readAll(t, r)
			wantPackets, wantOff := 0, int64(HeaderLen)
			if n >= end1 {
				wantPackets, wantOff = 1, int64(end1)
			}
			if n == HeaderLen || n == end1 {
				// A cut exactly at a record boundary is a clean end.
				if err != nil || len(got) != wantPackets {
					t.Errorf("n=%d: %d packets, %v; want %d, EOF", n, len(got), err, wantPackets)
				}
				continue
			}
			var fe *FormatError
			if len(got) != wantPackets || !errors.Is(err, ErrTruncated) || !errors.As(err, &fe) || fe.Offset != wantOff {
				t.Errorf("n=%d: %d packets, %v; want %d then ErrTruncated at %d", n, len(got), err, wantPackets, wantOff)
			}
		}
	}
}

func TestNotPcap(t *testing.T) {
	tests := []struct {
		in     string
		detail string
	}{
		{"", "empty input"},
		{"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", "starts with 474554202f20485454502f312e310d0a"},
		{"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff", "starts with 0a0d0d0a1c0000004d3c2b1a01000000"},
		{"\xff\xd8\xff", "starts with ffd8ff"},
	}
	for _, tc := range tests {
		_, err := NewReader(strings.NewReader(tc.in))
		var fe *FormatError
		if !errors.Is(err, ErrNotPcap) || !errors.As(err, &fe) || fe.Detail != tc.detail || !strings.Contains(err.Error(), "not a pcap") {
			t.Errorf("%q: %v, want ErrNotPcap %q", tc.in, err, tc.detail)
		}
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	file := buildPcap(binary.LittleEndian, MagicMicroseconds, 2, 4, 0, 1, rec{caplen: ^uint32(0), origlen: 3, data: []byte("abc")})
	r, err := NewReader(io.MultiReader(bytes.NewReader(file), iotest.ErrReader(boom)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	var fe *FormatError
	if len(got) != 1 || !errors.Is(err, boom) || !errors.As(err, &fe) || fe.Offset != int64(len(file)) {
		t.Errorf("%d packets, err %v; want 1 then boom at %d", len(got), err, len(file))
	}
}

// TestSmallInputSmallAllocation: a 100-byte file claiming huge records never
// makes the reader allocate much.
func TestSmallInputSmallAllocation(t *testing.T) {
	inputs := map[string][]byte{
		"garbage": bytes.Repeat([]byte{0x5a}, 100),
		"absurd-caplen": buildPcap(binary.LittleEndian, MagicMicroseconds, 2, 4, 0xffffffff, 1,
			rec{caplen: 16 << 20, origlen: 16 << 20, data: bytes.Repeat([]byte{1}, 60)}),
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
	w, err := NewWriter(&buf, 1, 65535, true)
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte{7}, 1500)
	const n = 20000
	for i := range n {
		if err := w.WritePacket(int64(i)*1e6, payload[:60+i%1400], 1514); err != nil {
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
	if allocs > 8 {
		t.Errorf("%v allocations for %d packets; want a small constant", allocs, n)
	}
}

func TestWriterRoundTrip(t *testing.T) {
	type pkt struct {
		ts   int64
		data string
		orig int
	}
	pkts := []pkt{{0, "", 0}, {1_700_000_000_123_456_789, "abc", 3}, {4294967295_999_999_999, "x", 1500}}
	for _, nano := range []bool{false, true} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, 0x04000000|2<<28|1, 262144, nano)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			if err := w.WritePacket(p.ts, []byte(p.data), p.orig); err != nil {
				t.Fatal(err)
			}
		}
		r, err := NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if r.LinkType() != 1 || r.FCSLength() != 4 || r.Snaplen() != 262144 || r.Nanosecond() != nano {
			t.Errorf("nano=%v: header link %d fcs %d snaplen %d", nano, r.LinkType(), r.FCSLength(), r.Snaplen())
		}
		got, err := readAll(t, r)
		if err != nil || len(got) != len(pkts) {
			t.Fatalf("nano=%v: %d packets, %v", nano, len(got), err)
		}
		for i, p := range pkts {
			ts := p.ts
			if !nano {
				ts -= ts % 1000
			}
			if got[i] != (want{ts, p.orig, p.data}) {
				t.Errorf("nano=%v: packet %d = %+v, want %v", nano, i, got[i], p)
			}
		}
	}
	w, _ := NewWriter(io.Discard, 1, 0, false)
	for _, bad := range []pkt{{-1, "a", 1}, {1 << 62, "a", 1}, {0, "abc", 2}} {
		if err := w.WritePacket(bad.ts, []byte(bad.data), bad.orig); !errors.Is(err, ErrWrite) {
			t.Errorf("%+v: err %v, want ErrWrite", bad, err)
		}
	}
}

// orderAppender is a byte order that can append (binary.LittleEndian, BigEndian).
type orderAppender interface {
	binary.ByteOrder
	binary.AppendByteOrder
}
