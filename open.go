package reseq

// The Reader: names and io.Readers in, packets out. It opens each input
// (input.go), lists an archive's members (archive.go), makes a source of each
// capture (source.go, format.go) and reads them in sequence (merge.go); no
// file below refers to it.

import (
	"errors"
	"io"
	"math"
	"sync/atomic"
)

// Reader returns the packets of one or more captures as one sequence. It is
// not safe for concurrent use, except Progress.
type Reader struct {
	// Invariant: captures are the sources' Captures, numbered in the order
	// they were first opened (Capture.Source); closers release what the
	// inputs and archives share (a source releases its own bytes); counters
	// and sizes have one entry per input, total the sum of sizes; one is set,
	// and m only holds it, when a single capture is read without merging;
	// index is the Index of the next packet.
	opt      Options
	m        merger
	one      *source
	captures []*Capture
	skipped  []Skipped
	closers  []func()
	counters []*atomic.Int64 // bytes read from each input
	sizes    []int64         // the size of each input, 0 when unknown
	total    int64
	stdin    bool
	index    int64
	closed   bool
}

// Open opens the named captures ("-" is standard input) and returns a Reader of
// their packets merged by timestamp. Each input may be compressed (gzip, zstd,
// lz4, xz, bzip2, nested too) and may be a zip or tar archive whose members are
// captures; everything is recognised by its magic bytes, never by the name.
// An input that cannot be opened, or is not a capture, gives an *InputError and
// no Reader.
//
// Files and archive members that can be reopened are read up to their first
// packet and closed one after another while opening (at most two are open at
// a time), and reopened when the merge reaches that first packet's time: the
// captures open at once are those whose time spans overlap.
func Open(names ...string) (*Reader, error) {
	return OpenOptions(Options{}, names...)
}

// OpenOptions is Open with options.
func OpenOptions(opt Options, names ...string) (*Reader, error) {
	if len(names) == 0 {
		return nil, errors.New("reseq: no input")
	}
	r := newReader(opt)
	for _, name := range names {
		if err := r.openName(name); err != nil {
			r.Close()
			return nil, err
		}
	}
	r.finish()
	return r, nil
}

// NewReader returns a Reader of the capture (possibly compressed, possibly an
// archive) read from in; name names it in errors and in Captures.
func NewReader(in io.Reader, name string) (*Reader, error) {
	return NewReaderOptions(Options{}, in, name)
}

// NewReaderOptions is NewReader with options.
func NewReaderOptions(opt Options, in io.Reader, name string) (*Reader, error) {
	r := newReader(opt)
	cnt := new(atomic.Int64)
	if err := r.addInput(&input{name: name, r: &countingReader{r: in, n: cnt}, cnt: cnt}); err != nil {
		r.Close()
		return nil, err
	}
	r.finish()
	return r, nil
}

func newReader(opt Options) *Reader {
	r := &Reader{opt: opt.withDefaults()}
	r.m.opt = &r.opt
	return r
}

// openName opens the input file name ("-": standard input) and adds it.
func (r *Reader) openName(name string) error {
	if name == "-" {
		if r.stdin {
			return &InputError{Name: name, Offset: -1, Err: errors.New("standard input named twice")}
		}
		r.stdin = true
	}
	in, err := openInput(name, r.opt.Mmap, r.unmapSafely)
	if err != nil {
		return err
	}
	r.total += in.size
	return r.addInput(in)
}

// addInput recognises the input and adds the sources it holds: one capture,
// or an archive's members.
func (r *Reader) addInput(in *input) error {
	r.counters, r.sizes = append(r.counters, in.cnt), append(r.sizes, in.size)
	u, err := unwrap(in.name, in.r, nil, &r.opt)
	if err != nil {
		r.closers = append(r.closers, in.closers...)
		return err
	}
	switch u.kind {
	case kindZip, kindTar:
		r.closers = append(r.closers, in.closers...)
		r.closers = append(r.closers, u.release)
		a, err := openArchive(in, u, &r.opt)
		r.closers = append(r.closers, a.closers...)
		if err != nil {
			return err
		}
		for _, m := range a.members {
			r.addMember(m)
		}
		return nil
	case kindPcap, kindPcapng:
		// The capture's source owns the input: its file is closed when
		// the capture ends, or sleeps until its turn.
		s, err := r.newSource(member{name: in.name, open: in.reopen}, in.closers, u)
		if err != nil {
			return err
		}
		r.m.add(s)
		return nil
	}
	u.release()
	r.closers = append(r.closers, in.closers...)
	if len(u.head) == 0 {
		return &InputError{Name: in.name, Offset: 0, Err: &NotCaptureError{}}
	}
	return &InputError{Name: in.name, Offset: 0, Err: &NotCaptureError{Head: headPrefix(u.head)}}
}

var errNestedArchive = errors.New("archive inside an archive is not read")

// addMember adds the source of an archive member, or notes it as skipped: an
// archive member that cannot be opened is reported by Next in its turn.
func (r *Reader) addMember(m member) {
	switch {
	case m.skip != nil:
		r.skipped = append(r.skipped, Skipped{Name: m.name, Err: m.skip})
		return
	case m.err != nil:
		r.m.add(&source{member: m, err: m.err})
		return
	}
	u, err := m.unwrap(&r.opt)
	if err != nil {
		r.m.add(&source{member: m, err: err})
		return
	}
	switch u.kind {
	case kindPcap, kindPcapng:
		s, err := r.newSource(m, nil, u)
		if err != nil {
			s = &source{member: m, err: err}
		}
		r.m.add(s)
		return
	case kindZip, kindTar:
		r.skipped = append(r.skipped, Skipped{Name: m.name, Err: errNestedArchive})
	default:
		r.skipped = append(r.skipped, Skipped{Name: m.name, Err: &NotCaptureError{Head: headPrefix(u.head)}})
	}
	u.release()
}

// newSource starts the capture m in u, whose bytes closers release, as the
// next Capture. On failure everything is released.
func (r *Reader) newSource(m member, closers []func(), u *unwrapped) (*source, error) {
	s := &source{member: m, closers: closers, capture: &Capture{Name: m.name, Compression: u.comps, Source: len(r.captures)}}
	if err := s.start(u, r.m.lender); err != nil {
		s.release()
		return nil, err
	}
	r.captures = append(r.captures, s.capture)
	return s, nil
}

// unmapSafely wraps the unmapping of an input's mapping, run when its capture
// ends: while a lender is set, packets handed out in batches may still point
// into the mapping, so it is then kept until Close.
func (r *Reader) unmapSafely(unmap func()) func() {
	return func() {
		if r.m.lender != nil && !r.closed {
			r.closers = append(r.closers, unmap)
			return
		}
		unmap()
	}
}

// finish chooses how the sources are sequenced.
func (r *Reader) finish() {
	if r.one = r.m.only(); r.one == nil {
		r.m.finish()
	}
}

// SetLender makes every capture reader, those open and those opened later,
// take its input buffers from l (see pcapfile.Reader.SetLender): a packet's
// Data then stays valid until l reuses the buffer that holds it, instead of
// until the next call of Next, so packets can be passed to another goroutine
// in batches without copying. Get(n) must return a buffer of length n or more;
// Put receives each buffer once no capture reader reads into it any more
// (also buffers Get did not return). Captures read in place from a mapped
// file (Options.Mmap) do not use l; while l is set, a mapping is kept until
// Close, so that their packets' Data stays valid too. A nil l restores the
// default: each reader reuses one buffer.
func (r *Reader) SetLender(l interface {
	Get(n int) []byte
	Put(b []byte)
}) {
	r.m.setLender(l)
}

// Captures returns the captures, in Source order.
func (r *Reader) Captures() []*Capture { return r.captures }

// Skipped returns the archive members that were not read because they are not
// captures (directories are not listed).
func (r *Reader) Skipped() []Skipped { return r.skipped }

// Progress returns the number of input bytes consumed so far (compressed bytes
// for compressed inputs) and the total size of the input files (standard input
// and other non-regular inputs count 0). It may be called concurrently with Next.
func (r *Reader) Progress() (read, total int64) {
	for i, c := range r.counters {
		n := c.Load()
		if r.sizes[i] > 0 {
			// Archives read in place may read a few bytes twice
			// (directory, tar padding).
			n = min(n, r.sizes[i])
		}
		read += n
	}
	return read, r.total
}

// Close releases the files, mappings and decompressors. Next returns io.EOF
// afterwards. The Data of packets read from a mapped file must not be used
// after Close: the mapping is gone.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	for _, s := range r.m.sources {
		s.release()
	}
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
	return nil
}

// Next returns the next packet. Its Data is valid until the next call to Next.
// (Data read from a mapped file points into the mapping and often stays valid
// longer, until its capture ends or the Reader is closed; callers must not
// rely on that.)
// Packets of several captures come in timestamp order; equal timestamps keep
// the order of the inputs, and each capture's packets keep their file order.
//
// At the end of every input Next returns io.EOF. When a capture is broken
// (truncated, malformed, a decompression error) Next returns an *InputError
// naming it, at the call after that capture's last good packet was returned;
// calling Next again continues with the other captures (and with the next
// member of a tar archive when the archive itself is intact).
func (r *Reader) Next() (Packet, error) {
	if r.closed {
		return Packet{}, io.EOF
	}
	if s := r.one; s != nil {
		if s.done {
			return Packet{}, io.EOF
		}
		// One capture, no merge: the format reader is called here and the
		// Packet made in place by the adapter's packet. Through the interface,
		// which returns a Packet of twelve words by value, BenchmarkNext's
		// single capture took about a fifth more time per packet.
		switch fr := s.fr.(type) {
		case *pcapSource:
			q, err := fr.r.Next()
			if fr.count(fr.r.Offset(), err); err != nil {
				return Packet{}, r.endOne(err)
			}
			r.index++
			return fr.packet(&q, r.index-1), nil
		case *pcapngSource:
			q, err := fr.r.Next()
			if fr.count(fr.r.Offset(), err); err != nil {
				return Packet{}, r.endOne(err)
			}
			fr.off = q.Offset
			r.index++
			p := fr.packet(&q, r.index-1)
			if q.HasPacketID {
				p.Frame, p.HasFrame = fr.frame(&q)
			}
			if p.Timestamp == math.MaxInt64 || p.Timestamp == math.MinInt64 {
				s.capture.countOutOfRange(q.Offset)
			}
			return p, nil
		}
		panic("reseq: unknown format reader") // newFormatReader makes only the two
	}
	s, err := r.m.next()
	if err != nil {
		return Packet{}, err
	}
	s.head.Index = r.index
	r.index++
	if t := s.head.Timestamp; t == math.MaxInt64 || t == math.MinInt64 {
		s.capture.countOutOfRange(s.fr.offset())
	}
	return s.head, nil
}

// endOne ends the only capture after its reader returned err.
func (r *Reader) endOne(err error) error {
	s := r.one
	s.done = true
	s.release()
	s.capture.drop()
	if err == io.EOF {
		return io.EOF
	}
	return inputError(s.name, err)
}
