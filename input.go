package reseq

// The input stage: the bytes of a named file, a mapped file, standard input or
// an io.Reader, counted for Progress. Nothing here knows of compressions,
// archives, capture formats or the Reader.

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync/atomic"
)

// input is one named input, opened: the first stage of every capture.
//
// Invariant: r reads the input from its start and counts the bytes read in
// cnt; ra, when not nil, reads the same bytes at random (a regular file, or
// its mapping) and size is their number; closers release what was opened
// (the file, the mapping), in reverse order.
type input struct {
	name    string
	r       io.Reader
	ra      io.ReaderAt
	size    int64 // 0 when not known
	cnt     *atomic.Int64
	closers []func()
	// reopen opens the input again from its start (nil: it cannot be, as
	// standard input or a pipe): a capture file is closed until its turn in a
	// merge, then reopened by this.
	reopen func() (io.Reader, func(), error)
}

// errFileChanged: a file reopened in its turn no longer holds what it held
// when it was first opened.
var errFileChanged = errors.New("the file changed while it was being read")

// openInput opens the file name ("-": standard input). With mmap, a regular
// file holding an uncompressed capture or archive is mapped (see
// Options.Mmap); keep wraps the unmapping of a capture's mapping (see
// Reader.unmapSafely).
func openInput(name string, mmap bool, keep func(unmap func()) func()) (*input, error) {
	f := os.Stdin
	in := &input{name: name, cnt: new(atomic.Int64)}
	if name != "-" {
		var err error
		if f, err = os.Open(name); err != nil {
			return nil, &InputError{Name: name, Offset: -1, Err: err}
		}
		in.closers = append(in.closers, func() { f.Close() })
	}
	in.r = &countingReader{r: f, n: in.cnt}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return in, nil
	}
	in.size, in.ra = fi.Size(), f
	if f == os.Stdin {
		return in, nil // regular, but cannot be opened again
	}
	cnt := in.cnt
	if mmap {
		if data, unmap, ok := mapInput(f, in.size); ok {
			in.closers = append(in.closers, keep(unmap))
			in.r, in.ra = &memInput{data: data, cnt: cnt}, bytes.NewReader(data)
			in.reopen = func() (io.Reader, func(), error) {
				f, err := os.Open(name)
				if err != nil {
					return nil, nil, err
				}
				defer f.Close()
				fi, err := f.Stat()
				if err != nil {
					return nil, nil, err
				}
				data, unmap, ok := mapInput(f, fi.Size())
				if !ok {
					return nil, nil, errFileChanged
				}
				cnt.Store(0) // read again from the start
				return &memInput{data: data, cnt: cnt}, keep(unmap), nil
			}
			return in, nil
		}
	}
	in.reopen = func() (io.Reader, func(), error) {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, err
		}
		cnt.Store(0) // read again from the start
		return &countingReader{r: f, n: cnt}, func() { f.Close() }, nil
	}
	return in, nil
}

// progressStep is how many bytes of an input in memory are consumed between
// updates of its Progress counter (see progress), and half of how far ahead
// of the parser warmUp loads it.
const progressStep = 1 << 18

// memInput is an input held whole in memory: a mapped file or an archive
// member stored in place in one. Captures in it are read without copying.
//
// Invariant: off and warm are at most len(data); cnt counts the bytes read
// through Read, and those a format reader reading data in place reports (see
// progress).
type memInput struct {
	data []byte
	cnt  *atomic.Int64 // counts the bytes consumed, for Progress
	off  int           // for Read
	warm int           // data[:warm] was warmed up (see warmUp)
	sink byte          // keeps warmUp's loads
}

// Read makes memInput an io.Reader for the paths that stream (decompressors).
func (m *memInput) Read(b []byte) (int, error) {
	if m.off >= len(m.data) {
		return 0, io.EOF
	}
	n := copy(b, m.data[m.off:])
	m.off += n
	m.cnt.Add(int64(n))
	return n, nil
}

// warmUp loads one byte of every cache line of the input up to two progress
// steps ahead of off: independent loads in a tight loop fault the pages in and
// fetch the lines many at a time, where the parser, touching each record
// header first, would wait for them one by one (measured: a third less time
// reading a mapped capture).
func (m *memInput) warmUp(off int64) {
	end := min(len(m.data), int(off)+2*progressStep)
	if m.warm >= end {
		return
	}
	b := m.data[m.warm:end]
	var x byte
	for i := 0; i < len(b); i += 64 {
		x ^= b[i]
	}
	m.sink ^= x
	m.warm = end
}

// done counts an input that was not read (its capture failed to open) as
// consumed.
func (m *memInput) done() {
	if m != nil && m.off == 0 {
		m.cnt.Add(int64(len(m.data)))
		m.off = len(m.data)
	}
}

// mapInput maps the regular file f when it holds what is read in place: a
// capture, a zip or a tar archive (a compressed file is streamed through its
// decompressor, which gains nothing from a mapping).
func mapInput(f *os.File, size int64) ([]byte, func(), bool) {
	data, unmap, ok := mapFile(f, size)
	if !ok {
		return nil, nil, false
	}
	switch k, _ := sniff(data[:min(len(data), sniffLen)]); k {
	case kindPcap, kindPcapng, kindZip, kindTar:
		return data, unmap, true
	}
	unmap()
	return nil, nil, false
}

// countingReader counts the bytes read through it, for Progress.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// countingReaderAt counts the bytes read through ReadAt, for Progress.
type countingReaderAt struct {
	r io.ReaderAt
	n *atomic.Int64
}

// errBeforeStart: an archive's directory points before the archive's first
// byte. (Said the same way for a file, a mapped file and bytes in memory,
// whose ReaderAts word it differently.)
var errBeforeStart = errors.New("archive points before its start")

func (c countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errBeforeStart
	}
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}
