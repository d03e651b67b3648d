package fuzz

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"cmp"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/pcapfile"
	"github.com/reseq/reseq/pcapng"
)

// openSeedPcap is a small nanosecond pcap with n packets.
func openSeedPcap(tb testing.TB, n int, ts0 int64) []byte {
	var b bytes.Buffer
	w, err := pcapfile.NewWriter(&b, 1, 256, true)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < n; i++ {
		d := bytes.Repeat([]byte{byte(i)}, 20+i%7)
		if err := w.WritePacket(ts0+int64(i)*1000, d, len(d)+i%2); err != nil {
			tb.Fatal(err)
		}
	}
	return b.Bytes()
}

func openSeedPcapng(tb testing.TB, n int) []byte {
	var b bytes.Buffer
	w, err := pcapng.NewWriter(&b)
	if err != nil {
		tb.Fatal(err)
	}
	w.AddInterface(1, 0, 9)
	w.AddInterface(101, 64, 6)
	for i := 0; i < n; i++ {
		d := bytes.Repeat([]byte{byte(i)}, 30)
		if err := w.WritePacket(i%2, int64(1e18)+int64(i)*1000, d, 40); err != nil {
			tb.Fatal(err)
		}
	}
	return b.Bytes()
}

func openSeedCompress(tb testing.TB, kind string, data []byte) []byte {
	var b bytes.Buffer
	var w io.WriteCloser
	var err error
	switch kind {
	case "gzip":
		w = gzip.NewWriter(&b)
	case "zstd":
		w, err = zstd.NewWriter(&b)
	case "lz4":
		w = lz4.NewWriter(&b)
	case "xz":
		w, err = xz.NewWriter(&b)
	}
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func openSeedTar(tb testing.TB, members map[string][]byte, order []string) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, name := range order {
		d := members[name]
		tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(d)), Mode: 0o644, Typeflag: tar.TypeReg})
		tw.Write(d)
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func openSeedZip(tb testing.TB, members map[string][]byte, order []string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range order {
		w, _ := zw.Create(name)
		w.Write(members[name])
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// fuzzPkt is a packet as read back.
// poisonLender lends buffers and, when one comes back, overwrites it and
// lends it again first.
type poisonLender struct{ free [][]byte }

func (l *poisonLender) Get(n int) []byte {
	for i, b := range l.free {
		if len(b) >= n {
			l.free = slices.Delete(l.free, i, i+1)
			return b
		}
	}
	return make([]byte, n)
}

func (l *poisonLender) Put(b []byte) {
	for i := range b {
		b[i] = 0xA5
	}
	l.free = append(l.free, b)
}

func errTexts(errs []error) string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Error())
	}
	return strings.Join(s, "\n")
}

type fuzzPkt struct {
	ts     int64
	length int
	data   string
}

// fuzzRead reads r to its end (or a bound on work) checking the invariants of
// every packet and error, and returns the packets, the errors, and whether the
// end was reached.
func fuzzRead(t *testing.T, r *reseq.Reader, name string, inputLen int64) ([]fuzzPkt, []error, bool) {
	var got []fuzzPkt
	var errs []error
	volume, whole := 0, 0
	for steps := 0; steps < 20000 && volume < 64<<20; steps++ {
		p, err := r.Next()
		if err == io.EOF {
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("Next after io.EOF: %v", err)
			}
			if read, _ := r.Progress(); read > inputLen {
				t.Fatalf("progress %d of a %d-byte input", read, inputLen)
			}
			for _, c := range r.Captures() {
				if !strings.HasPrefix(c.Name, name) || c.Format != reseq.Pcap && c.Format != reseq.Pcapng || c.Pcap != nil && c.Pcapng != nil {
					t.Fatalf("capture %+v", c)
				}
			}
			return got, errs, true
		}
		if err != nil {
			var ie *reseq.InputError
			if !errors.As(err, &ie) || !strings.HasPrefix(ie.Name, name) {
				t.Fatalf("error %v (%T) is not an InputError naming the input", err, err)
			}
			errs = append(errs, err)
			// Every archive member that cannot be read is an error of its
			// own; anything else errs at most once per capture (plus the
			// input itself).
			if !strings.Contains(ie.Name, "!") {
				whole++
			}
			if whole > len(r.Captures())+len(r.Skipped())+1 {
				t.Fatalf("%d errors for %d captures: %v", len(errs), len(r.Captures()), errs)
			}
			continue
		}
		if p.Index != int64(len(got)) {
			t.Fatalf("packet %d has index %d", len(got), p.Index)
		}
		if p.Source < 0 || p.Source >= len(r.Captures()) {
			t.Fatalf("source %d of %d captures", p.Source, len(r.Captures()))
		}
		if len(p.Data) > 64<<20 || p.Length < 0 || p.Interface < 0 {
			t.Fatalf("packet %d: %d bytes, length %d, interface %d", p.Index, len(p.Data), p.Length, p.Interface)
		}
		volume += len(p.Data)
		got = append(got, fuzzPkt{p.Timestamp, p.Length, string(p.Data)})
	}
	return got, errs, false
}

func checkOpenError(t *testing.T, err error, name string) {
	var ie *reseq.InputError
	if !errors.As(err, &ie) || !strings.HasPrefix(ie.Name, name) {
		t.Fatalf("open error %v (%T) is not an InputError naming the input", err, err)
	}
}

// FuzzOpen feeds arbitrary bytes to the opener, as a stream (reseq.NewReader)
// and as a file (reseq.Open: zip and tar read in place, the file closed and
// reopened by the merge; merged and concatenated), and checks what it promises: errors are
// *reseq.InputError naming the input (or a member of it); packets are numbered
// 0, 1, 2, … and name a capture that Captures lists; lengths stay within the
// format readers' bounds; the end is sticky; Progress never counts more than
// the input; both ways give the same packets when neither meets an error; and
// an uncompressed pcap or pcapng gives exactly what its format reader gives on
// its own.
func FuzzOpen(f *testing.F) {
	pc := openSeedPcap(f, 8, 1e18)
	pc2 := openSeedPcap(f, 5, 1e18+500)
	ng := openSeedPcapng(f, 6)
	members := map[string][]byte{"a.pcap": pc, "b.pcapng.gz": openSeedCompress(f, "gzip", ng), "notes.txt": []byte("hello"), "c.pcap": pc2}
	order := []string{"a.pcap", "notes.txt", "b.pcapng.gz", "c.pcap"}
	for _, seed := range [][]byte{
		pc, ng, pc[:len(pc)-3], ng[:len(ng)-9], nil, []byte("not a capture"),
		openSeedCompress(f, "gzip", pc), openSeedCompress(f, "zstd", ng),
		openSeedCompress(f, "lz4", pc), openSeedCompress(f, "xz", pc),
		openSeedCompress(f, "gzip", openSeedCompress(f, "zstd", pc)),
		openSeedTar(f, members, order), openSeedZip(f, members, order),
		openSeedCompress(f, "zstd", openSeedTar(f, members, order)),
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.in"
		opt := reseq.Options{MaxDecoderMemory: 8 << 20, MaxArchiveBuffer: 1 << 20}
		r, err := reseq.NewReaderOptions(opt, bytes.NewReader(data), name)
		if err != nil {
			checkOpenError(t, err, name)
			if r != nil {
				t.Fatal("reader and error")
			}
			return
		}
		defer r.Close()
		got, errs, complete := fuzzRead(t, r, name, int64(len(data)))

		// With a lender that poisons every buffer given back and lends it
		// again at once: the same packets and errors, so a reader never reads
		// from a buffer it gave back (pipeline.Run depends on it).
		lr, err := reseq.NewReaderOptions(opt, bytes.NewReader(data), name)
		if err != nil {
			t.Fatalf("opened once, not twice: %v", err)
		}
		lr.SetLender(&poisonLender{})
		lgot, lerrs, lcomplete := fuzzRead(t, lr, name, int64(len(data)))
		lr.Close()
		if lcomplete != complete || !slices.Equal(lgot, got) || errTexts(lerrs) != errTexts(errs) {
			t.Fatalf("lent buffers: %d packets, errors %q; own buffer: %d packets, errors %q", len(lgot), errTexts(lerrs), len(got), errTexts(errs))
		}

		// The same bytes as a file.
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		// Read (the default) and mapped (Options.Mmap): the same packets and errors.
		var mapped struct {
			open  string
			pkts  []fuzzPkt
			errs  []string
			whole bool
		}
		for _, mode := range []struct{ concat, mmap bool }{{false, true}, {true, false}, {false, false}} {
			concat := mode.concat
			fopt := opt
			fopt.Concat, fopt.Mmap = concat, mode.mmap
			fr, err := reseq.OpenOptions(fopt, path)
			if err != nil {
				checkOpenError(t, err, path)
				if mode.mmap {
					mapped.open = err.Error()
				} else if !concat && mapped.open != err.Error() {
					t.Fatalf("open error %v read, %q mapped", err, mapped.open)
				}
				continue
			}
			fgot, ferrs, fcomplete := fuzzRead(t, fr, path, int64(len(data)))
			fr.Close()
			var ftexts []string
			for _, e := range ferrs {
				ftexts = append(ftexts, e.Error())
			}
			switch {
			case mode.mmap:
				mapped.pkts, mapped.errs, mapped.whole = fgot, ftexts, fcomplete
			case !concat:
				if mapped.open != "" {
					t.Fatalf("open error %q mapped, none read", mapped.open)
				}
				if fcomplete && mapped.whole && (!slices.Equal(fgot, mapped.pkts) || !slices.Equal(ftexts, mapped.errs)) {
					t.Fatalf("read: %d packets, errors %q; mapped: %d packets, errors %q", len(fgot), ftexts, len(mapped.pkts), mapped.errs)
				}
			}
			if complete && fcomplete && len(errs) == 0 && len(ferrs) == 0 {
				sortPkts := func(ps []fuzzPkt) {
					slices.SortFunc(ps, func(a, b fuzzPkt) int {
						return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(a.length, b.length), cmp.Compare(a.data, b.data))
					})
				}
				a, b := slices.Clone(got), slices.Clone(fgot)
				sortPkts(a)
				sortPkts(b)
				if !slices.Equal(a, b) {
					t.Fatalf("as a stream %d packets, as a file (concat %v) %d, not the same", len(got), concat, len(fgot))
				}
			}
		}

		// An uncompressed capture reads exactly as its format reader reads it.
		caps := r.Captures()
		if len(caps) != 1 || len(caps[0].Compression) != 0 || caps[0].Name != name || !complete {
			return
		}
		var next func() (fuzzPkt, error)
		switch caps[0].Format {
		case reseq.Pcap:
			pr, err := pcapfile.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("pcapfile refuses what Open read: %v", err)
			}
			next = func() (fuzzPkt, error) {
				p, err := pr.Next()
				return fuzzPkt{p.Timestamp, p.Length, string(p.Data)}, err
			}
		case reseq.Pcapng:
			nr, err := pcapng.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("pcapng refuses what Open read: %v", err)
			}
			next = func() (fuzzPkt, error) {
				p, err := nr.Next()
				return fuzzPkt{p.Timestamp, p.Length, string(p.Data)}, err
			}
		}
		var want []fuzzPkt
		var wantErr error
		for len(want) <= len(got) {
			p, err := next()
			if err != nil {
				if err != io.EOF {
					wantErr = err
				}
				break
			}
			want = append(want, p)
		}
		if len(want) != len(got) || (wantErr == nil) != (len(errs) == 0) {
			t.Fatalf("Open: %d packets, errors %v; format reader: %d packets, error %v", len(got), errs, len(want), wantErr)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("packet %d differs from the format reader's", i)
			}
		}
		var ie *reseq.InputError
		if wantErr != nil && (!errors.As(errs[0], &ie) || ie.Err.Error() != wantErr.Error()) {
			t.Fatalf("error %v, format reader %v", errs[0], wantErr)
		}
	})
}
