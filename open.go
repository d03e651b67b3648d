package reseq

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sync/atomic"

	"github.com/reseq/reseq/internal/bufin"
	"github.com/reseq/reseq/pcapfile"
	"github.com/reseq/reseq/pcapng"
)

// Format is a capture file format.
type Format uint8

// Capture formats.
const (
	Pcap   Format = iota + 1 // classic libpcap format (package pcapfile)
	Pcapng                   // pcapng (package pcapng)
)

// String returns "pcap" or "pcapng".
func (f Format) String() string {
	switch f {
	case Pcap:
		return "pcap"
	case Pcapng:
		return "pcapng"
	}
	return "unknown"
}

// Options tune Open. The zero value is the default.
type Options struct {
	// Concat reads the captures one after another, in the order given (archive
	// members in archive order), instead of merging them by timestamp.
	Concat bool

	// ZstdConcurrency is the number of goroutines klauspost's zstd decoder may
	// use to decode ahead of the reader (zstd.WithDecoderConcurrency). 0 or 1
	// decodes synchronously in the caller's goroutine: no goroutines, and on
	// this project's measurements the fastest, since the reader is busy anyway.
	ZstdConcurrency int

	// MaxDecoderMemory bounds the memory a compressed stream's header may ask
	// a decompressor to allocate: the zstd window, the xz dictionary (of the
	// first block). 0 means 128 MiB, the zstd tool's default limit.
	MaxDecoderMemory int64

	// MaxArchiveBuffer bounds the size of a zip archive that is not a plain file
	// (standard input, or compressed) and so must be held in memory to read its
	// directory. 0 means 256 MiB.
	MaxArchiveBuffer int64

	// TempDir is where a tar archive that is not a plain file (compressed,
	// or read from a pipe or standard input) is copied, decompressed, while
	// opening: its members can then be merged by time like those of a plain
	// tar file. "" means os.TempDir() ($TMPDIR on Unix). The copy takes the
	// archive's decompressed size on disk; it is unlinked right after it is
	// created where the system allows (Unix), so it is freed however the
	// process ends, and otherwise removed by Close.
	TempDir string

	// MaxSpill bounds the decompressed size of such a tar archive (the disk
	// space its copy takes); a larger one is an *InputError. 0 means no
	// limit.
	MaxSpill int64

	// Mmap maps uncompressed input files into memory instead of reading
	// them: a regular, non-empty file holding an uncompressed capture, or a
	// zip or tar archive, is mapped read-only (on Linux, macOS and the BSDs;
	// elsewhere, and when the mapping fails, it is read) and its packets'
	// Data point into the mapping: no copy, no system call per chunk.
	//
	// It is off by default because it is slower where this project measured
	// it (Linux in a VM, files in the page cache): mapping and unmapping the
	// pages, and the parser's first touch of each, cost more than the
	// kernel's copy into a 256 KiB buffer that stays in cache (see
	// BenchmarkRead and BenchmarkPipeline in the fuzz module).
	//
	// A mapped file that another process truncates while it is being read
	// makes the program crash with SIGBUS (the trade-off other mmap readers
	// such as ripgrep make; tcpdump's rotation does not truncate).
	Mmap bool
}

func (o *Options) maxDecoderMemory() int64 {
	if o.MaxDecoderMemory <= 0 {
		return defaultMaxDecoderMemory
	}
	return o.MaxDecoderMemory
}

// Capture describes one capture: an input file or an archive member. Its fields
// are set when the capture is opened.
type Capture struct {
	Name        string        // input name, "-" for standard input, "archive!member" for a member
	Format      Format        // Pcap or Pcapng
	Version     string        // format version of the file header: "2.4", "1.0"
	Compression []Compression // encodings around the capture, outermost first; empty when none
	Source      int           // the Source of its packets

	// Format details, from the file header (pcap) or as far as the capture has
	// been read (pcapng: updated when it ends, with the statistics of every
	// Interface Statistics Block read).
	LinkType   uint32             // pcap: the link type, FCS bits masked
	Snaplen    uint32             // pcap: the header's snapshot length
	Nanosecond bool               // pcap: nanosecond timestamps
	Sections   []pcapng.Section   // pcapng: the sections
	Interfaces []pcapng.Interface // pcapng: the interfaces, with packet counts and statistics

	// TimestampsOutOfRange counts the packets returned so far whose
	// timestamp lay outside the range of Packet.Timestamp (int64
	// nanoseconds since 1970: 1677-09-21 to 2262-04-11; only pcapng can say
	// such times): they carry the bound they passed (math.MaxInt64 or
	// math.MinInt64) instead, so a merge sorts them last (first).
	// TimestampRangeOffset is the byte offset of the first (when there is
	// one; -1 when not known). Commands report them as a warning: the packets are
	// read, their data kept.
	TimestampsOutOfRange int64
	TimestampRangeOffset int64

	// The format reader, for anything else, while the capture is being read
	// (nil before its turn in a merge and once it ended, so that a long list of
	// captures does not keep every reader's buffer). Do not call their Next.
	Pcap   *pcapfile.Reader
	Pcapng *pcapng.Reader
}

// update copies the format reader's details into the Capture.
func (c *Capture) update() {
	if r := c.Pcap; r != nil {
		c.LinkType, c.Snaplen, c.Nanosecond = r.LinkType(), r.Snaplen(), r.Nanosecond()
	}
	if r := c.Pcapng; r != nil {
		c.Sections = slices.Clone(r.Sections())
		c.Interfaces = slices.Clone(r.Interfaces())
	}
}

// drop lets go of the format reader, keeping its details.
func (c *Capture) drop() {
	c.update()
	c.Pcap, c.Pcapng = nil, nil
}

// CompressionName returns the capture's compression as reseq's JSON writes it:
// "none", a single name ("gzip"), or nested names outermost first joined by "+"
// ("gzip+zstd").
func (c *Capture) CompressionName() string {
	if len(c.Compression) == 0 {
		return None.String()
	}
	s := c.Compression[0].String()
	for _, x := range c.Compression[1:] {
		s += "+" + x.String()
	}
	return s
}

// Skipped is an archive member that is not a capture.
type Skipped struct {
	Name string // "archive!member"
	Err  error  // why it was skipped
}

// Reader returns the packets of one or more captures as one sequence. It is
// not safe for concurrent use, except Progress.
type Reader struct {
	opt      Options
	sources  []*source
	captures []*Capture
	skipped  []Skipped
	closers  []func()
	counters []*atomic.Int64 // bytes read from each input
	sizes    []int64         // the size of each input, 0 when unknown
	total    int64
	stdin    bool

	// sequencing
	one     *source   // the only source: no merge
	cur     int       // Concat: index of the current source
	heap    []*source // merge: sources holding a packet, min-heap on (Timestamp, order)
	advance []*source // sources whose next packet must be read before the next pick
	dormant []*source // closed sources by (first timestamp, order), to be reopened in turn
	index   int64
	closed  bool
	lender  bufin.Lender // see SetLender
	pending *source      // the source added last, to be settled (see settleLater)
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
	if opt.MaxArchiveBuffer <= 0 {
		opt.MaxArchiveBuffer = 256 << 20
	}
	r := &Reader{opt: opt}
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
	if opt.MaxArchiveBuffer <= 0 {
		opt.MaxArchiveBuffer = 256 << 20
	}
	r := &Reader{opt: opt}
	cr := &countingReader{r: in, n: new(atomic.Int64)}
	r.counters, r.sizes = append(r.counters, cr.n), append(r.sizes, 0)
	if err := r.openStream(name, cr, nil, 0, cr.n); err != nil {
		r.Close()
		return nil, err
	}
	r.finish()
	return r, nil
}

func (r *Reader) openName(name string) error {
	var f *os.File
	if name == "-" {
		if r.stdin {
			return &InputError{Name: name, Offset: -1, Err: errors.New("standard input named twice")}
		}
		r.stdin = true
		f = os.Stdin
	}
	mark, nsrc := len(r.closers), len(r.sources)
	if f != os.Stdin {
		var err error
		f, err = os.Open(name)
		if err != nil {
			return &InputError{Name: name, Offset: -1, Err: err}
		}
		r.closers = append(r.closers, func() { f.Close() })
	}
	var size int64
	var ra io.ReaderAt
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
		ra = f
	}
	r.total += size
	cr := &countingReader{r: f, n: new(atomic.Int64)}
	r.counters, r.sizes = append(r.counters, cr.n), append(r.sizes, size)
	if ra != nil && f != os.Stdin && r.opt.Mmap {
		if data, unmap, ok := mapInput(f, size); ok {
			r.closers = append(r.closers, r.unmapSafely(unmap))
			mem := &memInput{data: data, cnt: cr.n}
			if err := r.openStream(name, mem, bytes.NewReader(data), size, cr.n); err != nil {
				return err
			}
			if len(r.sources) == nsrc+1 && r.sources[nsrc].fr != nil && r.sources[nsrc].name == name {
				s := r.sources[nsrc]
				cnt := cr.n
				s.reopen = func() (io.Reader, func(), error) {
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
						return nil, nil, errors.New("the file changed while it was being read")
					}
					cnt.Store(0) // read again from the start
					return &memInput{data: data, cnt: cnt}, r.unmapSafely(unmap), nil
				}
				s.closers = append([]func(){}, r.closers[mark:]...)
				r.closers = r.closers[:mark]
				r.settleLater(s)
			}
			return nil
		}
	}
	if err := r.openStream(name, cr, ra, size, cr.n); err != nil {
		return err
	}
	if ra != nil && len(r.sources) == nsrc+1 && r.sources[nsrc].fr != nil && r.sources[nsrc].name == name && f != os.Stdin {
		s := r.sources[nsrc]
		// A plain file holding one capture: it can be closed and opened
		// again, so a merge of many files keeps only those open whose
		// time has come (see Reader.dormant).
		cnt := cr.n
		s.reopen = func() (io.Reader, func(), error) {
			f, err := os.Open(name)
			if err != nil {
				return nil, nil, err
			}
			cnt.Store(0) // read again from the start
			return &countingReader{r: f, n: cnt}, func() { f.Close() }, nil
		}
		s.closers = append([]func(){}, r.closers[mark:]...)
		r.closers = r.closers[:mark]
		r.settleLater(s)
	}
	return nil
}

// unmapSafely wraps the unmapping of an input's mapping, run when its capture
// ends: while a lender is set, packets handed out in batches may still point
// into the mapping, so it is then kept until Close.
func (r *Reader) unmapSafely(unmap func()) func() {
	return func() {
		if r.lender != nil && !r.closed {
			r.closers = append(r.closers, unmap)
			return
		}
		unmap()
	}
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

// prefixReader returns the bytes peeked from r, then reads r directly (no
// buffering of its own: the format readers read in large chunks). An error met
// while peeking is returned after the peeked bytes.
type prefixReader struct {
	head []byte
	r    io.Reader
	err  error
}

// memInput is an input held whole in memory: a mapped file or an archive
// member stored in place in one. Captures in it are read without copying.
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

func headPrefix(head []byte) []byte {
	return bytes.Clone(head[:min(len(head), 16)])
}

// unwrapped is an input with its compressions removed.
type unwrapped struct {
	br       *prefixReader
	mem      *memInput // the whole input, when in memory and not compressed
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
func (r *Reader) unwrap(name string, in io.Reader, comps []Compression) (*unwrapped, error) {
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
		d, rel, err := decompressor(c, br, head, &r.opt)
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

// openStream recognises the top-level input in and adds the sources it holds.
// ra and size give random access to the same bytes when in is a plain file
// (nil otherwise); cnt counts the bytes read, for Progress.
func (r *Reader) openStream(name string, in io.Reader, ra io.ReaderAt, size int64, cnt *atomic.Int64) error {
	u, err := r.unwrap(name, in, nil)
	if err != nil {
		return err
	}
	r.closers = append(r.closers, u.release)
	switch u.kind {
	case kindZip:
		if len(u.comps) > 0 {
			ra = nil
		}
		return r.openZip(name, u, ra, size, cnt)
	case kindTar:
		if ra != nil && len(u.comps) == 0 {
			return r.openTarFile(name, ra, size, cnt, u.mem, nil)
		}
		return r.spillTar(name, u)
	case kindPcap, kindPcapng:
		cp, fr, err := r.openCapture(name, u)
		if err != nil {
			return err
		}
		r.sources = append(r.sources, &source{name: name, fr: fr, capture: cp})
		return nil
	}
	if len(u.head) == 0 {
		return &InputError{Name: name, Offset: 0, Err: &NotCaptureError{}}
	}
	return &InputError{Name: name, Offset: 0, Err: &NotCaptureError{Head: headPrefix(u.head)}}
}

var errNestedArchive = errors.New("archive inside an archive is not read")

// openCapture creates the format reader of a pcap or pcapng capture and
// registers the capture.
func (r *Reader) openCapture(name string, u *unwrapped) (*Capture, formatReader, error) {
	cp := &Capture{Name: name, Compression: u.comps, Source: len(r.captures)}
	fr, err := newFormatReader(cp, u)
	if err != nil {
		return nil, nil, err
	}
	if r.lender != nil {
		fr.setLender(r.lender)
	}
	r.captures = append(r.captures, cp)
	return cp, fr, nil
}

// newFormatReader creates the format reader of the pcap or pcapng capture u
// and fills cp's format fields.
func newFormatReader(cp *Capture, u *unwrapped) (formatReader, error) {
	switch u.kind {
	case kindPcap:
		var pr *pcapfile.Reader
		var err error
		if u.mem != nil {
			pr, err = pcapfile.NewReaderBytes(u.mem.data)
		} else {
			pr, err = pcapfile.NewReader(u.br)
		}
		if err != nil {
			u.mem.done()
			return nil, inputError(cp.Name, err)
		}
		major, minor := pr.Version()
		cp.Format, cp.Version, cp.Pcap = Pcap, fmt.Sprintf("%d.%d", major, minor), pr
		cp.update()
		return &pcapSource{r: pr, source: cp.Source, progress: newProgress(u.mem)}, nil
	case kindPcapng:
		fr, err := newPcapngSource(cp, u.br, u.mem)
		if err != nil {
			u.mem.done()
			return nil, inputError(cp.Name, err)
		}
		cp.update()
		return fr, nil
	}
	return nil, &InputError{Name: cp.Name, Offset: 0, Err: &NotCaptureError{Head: headPrefix(u.head)}}
}

// inputError wraps a format reader's error with the capture's name and the
// byte offset the error names.
func inputError(name string, err error) error {
	var ie *InputError
	if errors.As(err, &ie) {
		return err
	}
	off := int64(-1)
	if o, ok := errOffset(err); ok {
		off = o
	}
	return &InputError{Name: name, Offset: off, Err: err}
}

// finish chooses how the sources are sequenced.
func (r *Reader) finish() {
	if len(r.sources) == 1 && r.sources[0].fr != nil {
		r.one = r.sources[0]
		return
	}
	r.pending = nil
	if !r.opt.Concat {
		for i, s := range r.sources {
			s.order = i
			if s.settled {
				continue
			}
			if s.reopen != nil {
				r.settle(s)
			} else {
				r.advance = append(r.advance, s)
			}
		}
		r.heap = make([]*source, 0, len(r.sources))
		slices.SortFunc(r.dormant, func(a, b *source) int {
			return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.order, b.order))
		})
		return
	}
	// Concat: only the capture being read is open.
	for _, s := range r.sources {
		if s.reopen != nil && !s.settled {
			r.settle(s)
		}
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
	r.lender = l
	for _, s := range r.sources {
		if s.fr != nil {
			s.fr.setLender(l)
		}
	}
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
	for _, s := range r.sources {
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
	if s := r.one; s != nil && !s.done {
		// One capture: no merge, and the format reader called directly,
		// the packet built in place.
		switch fr := s.fr.(type) {
		case *pcapSource:
			q, err := fr.r.Next()
			if err != nil {
				fr.end()
				return r.endOne(err)
			}
			if fr.r.Offset() >= fr.mark {
				fr.tick(fr.r.Offset())
			}
			r.index++
			return Packet{Timestamp: q.Timestamp, Length: q.Length, Data: q.Data, LinkType: q.LinkType, Source: fr.source, Index: r.index - 1}, nil
		case *pcapngSource:
			q, err := fr.r.Next()
			if err != nil {
				fr.end()
				return r.endOne(err)
			}
			if fr.r.Offset() >= fr.mark {
				fr.tick(fr.r.Offset())
			}
			r.index++
			p := Packet{Timestamp: q.Timestamp, Length: q.Length, Data: q.Data, LinkType: q.LinkType, Interface: q.Interface, Section: q.Section, Source: fr.source, Index: r.index - 1, Options: q.Options}
			if q.HasPacketID {
				p.Frame, p.HasFrame = fr.frame(&q)
			}
			if p.Timestamp == math.MaxInt64 || p.Timestamp == math.MinInt64 {
				return r.outOfRange(s.capture, p, q.Offset)
			}
			return p, nil
		}
		p, err := s.fr.next()
		if err != nil {
			return r.endOne(err)
		}
		p.Index = r.index
		r.index++
		if p.Timestamp == math.MaxInt64 || p.Timestamp == math.MinInt64 {
			return r.outOfRange(s.capture, p, s.fr.offset())
		}
		return p, nil
	}
	if r.one != nil {
		return Packet{}, io.EOF
	}
	if r.opt.Concat {
		return r.nextConcat()
	}
	return r.nextMerge()
}

// outOfRange counts the packet p of capture cp, whose format reader clamped
// its timestamp to the int64 range, and returns it; off is the packet's
// offset in the capture, -1 when not known.
func (r *Reader) outOfRange(cp *Capture, p Packet, off int64) (Packet, error) {
	if cp.TimestampsOutOfRange == 0 {
		cp.TimestampRangeOffset = off
	}
	cp.TimestampsOutOfRange++
	return p, nil
}

// endOne ends the only capture after its reader returned err.
func (r *Reader) endOne(err error) (Packet, error) {
	s := r.one
	s.done = true
	s.release()
	s.capture.drop()
	if err == io.EOF {
		return Packet{}, io.EOF
	}
	return Packet{}, inputError(s.name, err)
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
