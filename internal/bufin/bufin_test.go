package bufin

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// records builds a stream of length-prefixed records of the given sizes.
func records(sizes []int, rng *rand.Rand) []byte {
	var out []byte
	for _, n := range sizes {
		out = binary.LittleEndian.AppendUint32(out, uint32(n))
		for range n {
			out = append(out, byte(rng.Uint32()))
		}
	}
	return out
}

// readAll reads the records of in through b and returns them as slices of b's
// buffers (not copied: with a lender they must stay intact).
func readAll(t *testing.T, b *Buffer) [][]byte {
	t.Helper()
	var recs [][]byte
	for {
		if err := b.Fill(4, 1<<16); err == io.EOF {
			return recs
		} else if err != nil {
			t.Fatalf("header: %v", err)
		}
		n := int(binary.LittleEndian.Uint32(b.Buf[b.Start:]))
		b.Start += 4
		if err := b.Fill(n, 1<<16); err != nil && !(n == 0 && err == io.EOF) {
			t.Fatalf("record of %d: %v", n, err)
		}
		rec := b.Buf[b.Start : b.Start+n : b.Start+n]
		if b.Lender == nil {
			rec = bytes.Clone(rec) // the buffer is reused
		}
		recs = append(recs, rec)
		b.Start += n
	}
}

// neverReuse lends fresh buffers and counts what comes back.
type neverReuse struct{ got, put int }

func (l *neverReuse) Get(n int) []byte { l.got++; return make([]byte, n+l.got%7) }
func (l *neverReuse) Put([]byte)       { l.put++ }

// poisoner reuses put buffers at once, after filling them with 0xEE: a reader
// that still read from a buffer it gave back would see the poison.
type poisoner struct{ free [][]byte }

func (l *poisoner) Get(n int) []byte {
	for i, b := range l.free {
		if len(b) >= n {
			l.free = append(l.free[:i], l.free[i+1:]...)
			return b
		}
	}
	return make([]byte, n)
}

func (l *poisoner) Put(b []byte) {
	for i := range b {
		b[i] = 0xEE
	}
	l.free = append(l.free, b)
}

func TestLender(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var sizes []int
	for range 3000 {
		switch rng.IntN(10) {
		case 0:
			sizes = append(sizes, rng.IntN(300_000)) // larger than the buffer: grown
		case 1:
			sizes = append(sizes, 0)
		default:
			sizes = append(sizes, rng.IntN(2000))
		}
	}
	in := records(sizes, rng)
	want := readAll(t, &Buffer{R: bytes.NewReader(in), Buf: make([]byte, 4096)})
	if len(want) != len(sizes) {
		t.Fatalf("plain: %d records, want %d", len(want), len(sizes))
	}
	wrap := map[string]func(io.Reader) io.Reader{
		"whole": func(r io.Reader) io.Reader { return r },
		"half":  iotest.HalfReader,
		"data":  iotest.DataErrReader,
		"odd":   func(r io.Reader) io.Reader { return io.LimitReader(r, int64(len(in))) },
	}
	for name, w := range wrap {
		t.Run(name, func(t *testing.T) {
			// Every slice handed out stays intact while the lender keeps its
			// buffer, however far the reader went on.
			nr := &neverReuse{}
			got := readAll(t, &Buffer{R: w(bytes.NewReader(in)), Buf: make([]byte, 4096), Lender: nr})
			if len(got) != len(want) {
				t.Fatalf("%d records, want %d", len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("record %d (of %d bytes) changed after it was handed out", i, len(want[i]))
				}
			}
			if nr.got == 0 || nr.put != nr.got {
				t.Errorf("lender: %d buffers lent, %d given back (want all but the last, plus the first)", nr.got, nr.put)
			}
			// A buffer given back is never read again: records copied as they
			// come are right even when put buffers are poisoned and reused.
			b := &Buffer{R: w(bytes.NewReader(in)), Buf: make([]byte, 4096), Lender: &poisoner{}}
			i := 0
			for {
				if err := b.Fill(4, 1<<16); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
				n := int(binary.LittleEndian.Uint32(b.Buf[b.Start:]))
				b.Start += 4
				if err := b.Fill(n, 1<<16); err != nil && n > 0 {
					t.Fatal(err)
				}
				if !bytes.Equal(b.Buf[b.Start:b.Start+n], want[i]) {
					t.Fatalf("record %d read from a buffer given back", i)
				}
				b.Start += n
				i++
			}
			if i != len(want) {
				t.Fatalf("%d records, want %d", i, len(want))
			}
		})
	}
}

// A lender that returns short buffers is done without, not trusted.
type shortLender struct{}

func (shortLender) Get(n int) []byte { return make([]byte, n/2) }
func (shortLender) Put([]byte)       {}

func TestLenderShort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	in := records([]int{10, 70000, 5, 200000, 3}, rng)
	want := readAll(t, &Buffer{R: bytes.NewReader(in), Buf: make([]byte, 64)})
	got := readAll(t, &Buffer{R: bytes.NewReader(in), Buf: make([]byte, 64), Lender: shortLender{}})
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d differs", i)
		}
	}
}

// Truncated input gives the same ShortError with and without a lender.
func TestLenderShortInput(t *testing.T) {
	in := records([]int{100, 5000}, rand.New(rand.NewPCG(5, 6)))
	in = in[:len(in)-10]
	for _, l := range []Lender{nil, &neverReuse{}} {
		b := &Buffer{R: iotest.HalfReader(bytes.NewReader(in)), Buf: make([]byte, 64), Lender: l}
		if err := b.Fill(104, 1<<16); err != nil {
			t.Fatal(err)
		}
		b.Start += 104
		err := b.Fill(4+5000, 1<<16)
		se, ok := err.(*ShortError)
		if !ok || se.Have != 4+5000-10 || se.Want != 5004 {
			t.Fatalf("lender %T: %v (%+v), want ShortError{4994, 5004}", l, err, se)
		}
	}
}
