package reseq

// The input stage: the bytes of a named file, a mapped file, standard input or
// an io.Reader; what their first bytes say they hold (sniff), with the
// compressions around them removed (unwrap); and member, the description of
// bytes that can be opened again from their start, which archive.go makes for
// archive members and openInput for capture files. Nothing here knows of
// archives' insides, capture formats or the Reader.

import (
	"bytes"
	"errors"
	"fmt"
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

// member describes one entry of an archive, or a capture file, by how to open
// its bytes from their start: the first time, and again when a source that
// slept until its turn in a merge wakes.
//
// Invariant: at most one of skip and err is set, and then open is nil: skip
// is an entry that is not read (a Skipped), err a broken one whose error Next
// returns in its turn. Otherwise open is nil only for bytes that can be
// opened once (standard input, a stream), and then the member is never
// reopened.
type member struct {
	name  string                            // the input's name, "archive!member" for a member
	open  func() (io.Reader, func(), error) // its bytes and what releases them (may be nil)
	comps []Compression                     // encodings already removed around it (the archive's; a zip member's method)
	skip  error
	err   error
}

// unwrap opens the member's bytes and removes their compressions. Errors are
// *InputErrors.
func (m *member) unwrap(opt *Options) (*unwrapped, error) {
	in, rel, err := m.open()
	if err != nil {
		return nil, &InputError{Name: m.name, Offset: -1, Err: err}
	}
	u, err := unwrap(m.name, in, m.comps, opt)
	if err != nil {
		if rel != nil {
			rel()
		}
		return nil, err
	}
	if rel != nil {
		u.releases = append([]func(){rel}, u.releases...)
	}
	return u, nil
}

// maxNesting bounds how many compressions may wrap one another.
const maxNesting = 4

// sniffLen is how many bytes are peeked to recognise an input: enough for the
// tar magic at offset 257.
const sniffLen = 512

// kind is what the first bytes of an input say it is.
type kind uint8

const (
	kindUnknown kind = iota
	kindCompressed
	kindZip
	kindTar
	kindPcap
	kindPcapng
)

func sniff(head []byte) (kind, Compression) {
	if c := sniffCompression(head); c != None {
		return kindCompressed, c
	}
	if len(head) >= 4 {
		switch string(head[:4]) {
		case "PK\x03\x04", "PK\x05\x06":
			return kindZip, None
		case "\x0a\x0d\x0d\x0a":
			return kindPcapng, None
		}
		switch m := uint32(head[0])<<24 | uint32(head[1])<<16 | uint32(head[2])<<8 | uint32(head[3]); m {
		case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0xa1b2cd34, 0x34cdb2a1:
			return kindPcap, None
		}
	}
	if len(head) >= 262 && string(head[257:262]) == "ustar" {
		return kindTar, None
	}
	return kindUnknown, None
}

// unwrapped is an input with its compressions removed.
//
// Invariant: br reads the innermost bytes from their start, head is their
// first bytes (up to sniffLen) and kind what head says; comps are the
// encodings removed, outermost first; mem is the whole input when it is in
// memory and was not compressed (then read in place); releases free the
// decompressors and what opened the bytes, run in reverse order by release.
type unwrapped struct {
	br       *prefixReader
	mem      *memInput
	head     []byte
	kind     kind
	comps    []Compression
	releases []func()
}

func (u *unwrapped) release() {
	for i := len(u.releases) - 1; i >= 0; i-- {
		u.releases[i]()
	}
	u.releases = nil
}

// unwrap peels the compressions off in (comps are those already removed) and
// says what is inside.
func unwrap(name string, in io.Reader, comps []Compression, opt *Options) (*unwrapped, error) {
	u := &unwrapped{comps: comps}
	for {
		br, head, err := peek(in)
		if err != nil {
			u.release()
			return nil, &InputError{Name: name, Offset: -1, Err: err}
		}
		k, c := sniff(head)
		u.br, u.head, u.kind = br, head, k
		if k != kindCompressed {
			u.mem, _ = in.(*memInput)
			return u, nil
		}
		if len(u.comps) >= maxNesting {
			u.release()
			return nil, &InputError{Name: name, Offset: -1, Err: fmt.Errorf("more than %d nested compressions", maxNesting)}
		}
		d, rel, err := decompressor(c, br, head, opt)
		if err != nil {
			u.release()
			return nil, &InputError{Name: name, Offset: -1, Err: err}
		}
		if rel != nil {
			u.releases = append(u.releases, rel)
		}
		u.comps = append(u.comps[:len(u.comps):len(u.comps)], c)
		in = d
	}
}

// prefixReader returns the bytes peeked from r, then reads r directly (no
// buffering of its own: the format readers read in large chunks). An error met
// while peeking is returned after the peeked bytes.
type prefixReader struct {
	head []byte
	r    io.Reader
	err  error
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.head) > 0 {
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	}
	if p.err != nil {
		return 0, p.err
	}
	return p.r.Read(b)
}

// peek reads up to sniffLen bytes of in and returns a reader of all of in and
// those first bytes. It fails only when not a single byte could be read.
func peek(in io.Reader) (*prefixReader, []byte, error) {
	if m, ok := in.(*memInput); ok && m.off == 0 {
		return &prefixReader{r: m}, m.data[:min(len(m.data), sniffLen)], nil
	}
	buf := make([]byte, sniffLen)
	n := 0
	var err error
	for zero := 0; n < len(buf) && err == nil; {
		var m int
		m, err = in.Read(buf[n:])
		n += m
		if m == 0 && err == nil {
			if zero++; zero > 100 {
				err = io.ErrNoProgress
			}
		}
	}
	buf = buf[:n]
	if err == io.EOF {
		err = nil
	}
	if n == 0 && err != nil {
		return nil, nil, err
	}
	return &prefixReader{head: buf, r: in, err: err}, buf, nil
}

// headPrefix returns the first bytes of an input, as a NotCaptureError shows
// them.
func headPrefix(head []byte) []byte {
	return bytes.Clone(head[:min(len(head), 16)])
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
