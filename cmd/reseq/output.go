package main

// Output side of "reseq extract": stream file names (tcpflow style, valid on
// Windows), the -T name template, and a pool that keeps at most N stream files
// open at once (LRU) while every stream writes at its own offsets.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/tcpasm"
)

// defaultTemplate is tcpflow's default template, and gives tcpflow's names:
// 010.000.000.001.00443-010.000.000.002.51234[--VLAN][cN].
const defaultTemplate = "%A.%a-%B.%b%V%v%C%c"

// templateHelp documents the -T directives.
const templateHelp = `file name template (relative to DIR; '/' makes subdirectories); tcpflow's
directives with tcpflow's meaning:
  %A %B  source / destination address: IPv4 as 010.000.000.001, IPv6 as eight
         4-digit hex groups joined by '_' (fd77_0000_0000_0000_0000_0000_0000_0001)
  %a %b  source / destination port, 5 digits
  %V     "--" when the flow key has a VLAN ID or a VNI, else empty
  %v     its VLAN IDs, outer first, joined by "--", then "vniN" for a VXLAN or
         Geneve overlay (empty when none)
  %C     "c" when the tuple was used before (connection count N >= 1), else empty
  %c     the connection count N when N >= 1, else empty;  %#  N, always
  %T     first packet of the direction, ISO 8601 UTC (2024-01-01T10:00:00Z)
  %t     first packet of the direction, Unix seconds
  %N %K %M %G  stream number modulo 1000, /1000, /10^6, /10^9 (3 digits; a
         connection's directions are 2n and 2n+1, n its number in order of
         first sight)
  %S     connection number in order of first sight, 20 digits
  %%     a literal '%'
and reseq's own:  %D  direction, c2s or s2c.
%E and %e (MAC addresses) are not supported: the flow key has none.`

// nameTemplate is a compiled -T template.
type nameTemplate struct {
	parts []tplPart
	src   string
}

type tplPart struct {
	verb byte // 0: literal
	lit  string
}

// parseTemplate compiles a -T template and checks that every name it can make
// is a relative path valid on Windows and POSIX.
func parseTemplate(s string) (*nameTemplate, error) {
	if s == "" {
		return nil, errors.New("empty name template")
	}
	t := &nameTemplate{src: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, tplPart{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			if c < 0x20 || strings.IndexByte(`<>:"\|?*`, c) >= 0 {
				return nil, fmt.Errorf("name template %q: character %q is not valid in a file name", s, c)
			}
			lit.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return nil, fmt.Errorf("name template %q ends in '%%'", s)
		}
		i++
		switch v := s[i]; v {
		case '%':
			lit.WriteByte('%')
		case 'A', 'a', 'B', 'b', 'V', 'v', 'C', 'c', '#', 'N', 'K', 'M', 'G', 'S', 'D', 'T', 't':
			flush()
			t.parts = append(t.parts, tplPart{verb: v})
		case 'E', 'e':
			return nil, fmt.Errorf("name template %q: %%%c (a MAC address) is not supported: reseq's flow key has no MAC addresses", s, v)
		default:
			return nil, fmt.Errorf("name template %q: unknown directive %%%c", s, v)
		}
	}
	flush()
	// Path components: no absolute path, no empty, "." or ".." component, no
	// trailing dot or space (Windows strips them) — neither in the template
	// nor in its shortest expansion, where %V, %v, %C and %c are empty (the
	// other directives always expand to letters, digits, '.', '_', ':' or
	// '-', never to a '/'): "%C" alone would name the first connection's
	// file "".
	if strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") {
		return nil, fmt.Errorf("name template %q: must be a relative file path", s)
	}
	short := t.shortest()
	if strings.HasPrefix(short, "/") || strings.HasSuffix(short, "/") {
		return nil, fmt.Errorf("name template %q: can expand to %q, not a relative file path", s, short)
	}
	comps, shorts := strings.Split(s, "/"), strings.Split(short, "/")
	for i, comp := range comps {
		if comp == "" || comp == "." || comp == ".." {
			return nil, fmt.Errorf("name template %q: bad path component %q", s, comp)
		}
		if strings.HasSuffix(comp, ".") || strings.HasSuffix(comp, " ") {
			return nil, fmt.Errorf("name template %q: component %q ends in a dot or space", s, comp)
		}
		if i >= len(shorts) {
			break
		}
		if sc := shorts[i]; sc == "" || sc == "." || sc == ".." || strings.HasSuffix(sc, ".") || strings.HasSuffix(sc, " ") {
			return nil, fmt.Errorf("name template %q: component %q can expand to %q (%%V, %%v, %%C and %%c are empty for most streams)", s, comp, sc)
		}
	}
	return t, nil
}

// uses reports whether the template has one of the directives vs.
func (t *nameTemplate) uses(vs string) bool {
	for _, p := range t.parts {
		if p.verb != 0 && strings.IndexByte(vs, p.verb) >= 0 {
			return true
		}
	}
	return false
}

// seqDirectives are the directives that number connections in order of
// first sight (Conn.Seq): one assembler must see them all.
const seqDirectives = "NKMGS"

// shortest returns the template's shortest expansion, with 'x' for the
// directives that are never empty.
func (t *nameTemplate) shortest() string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.verb {
		case 0:
			b.WriteString(p.lit)
		case 'V', 'v', 'C', 'c':
		default:
			b.WriteByte('x')
		}
	}
	return b.String()
}

// appendAddrName writes an address the way stream file names spell it: IPv4 as
// four zero-padded decimal octets joined by '.', IPv6 as eight zero-padded
// 4-digit lower-case hex groups joined by '_' (':' is not valid on Windows).
func appendAddrName(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		for i, o := range v {
			if i > 0 {
				b = append(b, '.')
			}
			b = append(b, '0'+o/100, '0'+o/10%10, '0'+o%10)
		}
		return b
	}
	v := a.As16()
	const hex = "0123456789abcdef"
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			b = append(b, '_')
		}
		b = append(b, hex[v[i]>>4], hex[v[i]&15], hex[v[i+1]>>4], hex[v[i+1]&15])
	}
	return b
}

func appendPort(b []byte, p uint16) []byte {
	return append(b, '0'+byte(p/10000), '0'+byte(p/1000%10), '0'+byte(p/100%10), '0'+byte(p/10%10), '0'+byte(p%10))
}

// name returns the file name (with '/' separators) of one stream direction.
func (t *nameTemplate) name(s *tcpasm.Stream) string {
	c := s.Conn
	key := c.Key
	if s.Dir == tcpasm.ServerToClient {
		key = key.Reverse()
	}
	return t.nameFor(&key, c.Index, c.Seq, s.Dir, s.First)
}

func appendPad(b []byte, n int64, width int) []byte {
	var d [20]byte
	x := strconv.AppendInt(d[:0], n, 10)
	for i := len(x); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, x...)
}

func (t *nameTemplate) nameFor(key *layers.FlowKey, index int, seq int64, dir tcpasm.Direction, first int64) string {
	b := make([]byte, 0, 64)
	tagged := len(key.VLANIDs()) > 0 || key.HasVNI
	stream := 2*seq + int64(dir)
	for _, p := range t.parts {
		switch p.verb {
		case 0:
			b = append(b, p.lit...)
		case 'A':
			b = appendAddrName(b, key.SrcAddr().Addr())
		case 'a':
			b = appendPort(b, key.SrcPort)
		case 'B':
			b = appendAddrName(b, key.DstAddr().Addr())
		case 'b':
			b = appendPort(b, key.DstPort)
		case 'V':
			if tagged {
				b = append(b, "--"...)
			}
		case 'v':
			for i, v := range key.VLANIDs() {
				if i > 0 {
					b = append(b, "--"...)
				}
				b = strconv.AppendUint(b, uint64(v), 10)
			}
			if key.HasVNI {
				if len(key.VLANIDs()) > 0 {
					b = append(b, "--"...)
				}
				b = append(b, "vni"...)
				b = strconv.AppendUint(b, uint64(key.VNI), 10)
			}
		case 'C':
			if index > 0 {
				b = append(b, 'c')
			}
		case 'c':
			if index > 0 {
				b = strconv.AppendInt(b, int64(index), 10)
			}
		case '#':
			b = strconv.AppendInt(b, int64(index), 10)
		case 'N':
			b = appendPad(b, stream%1000, 3)
		case 'K':
			b = appendPad(b, stream/1000%1000, 3)
		case 'M':
			b = appendPad(b, stream/1000000%1000, 3)
		case 'G':
			b = appendPad(b, stream/1000000000%1000, 3)
		case 'S':
			b = appendPad(b, seq, 20)
		case 'D':
			if dir == tcpasm.ClientToServer {
				b = append(b, "c2s"...)
			} else {
				b = append(b, "s2c"...)
			}
		case 'T':
			b = appendFileTime(b, first)
		case 't':
			b = strconv.AppendInt(b, first/1e9, 10)
		}
	}
	return string(b)
}

// outFile is one stream's output file. Its bytes go through a write-behind
// buffer of the contiguous run being written. The file is open only while it
// is in the pool's LRU list; f is touched only by the pool's writer goroutine.
type outFile struct {
	path    string // OS path
	created bool   // a create op was issued
	isOpen  bool   // logically open: in the LRU list
	buf     []byte // pending bytes for [bufOff, bufOff+len(buf)), nil when none
	bufOff  int64
	size    int64 // highest offset written + 1 (buffer included)
	shard   int   // the writer goroutine that runs this file's operations

	f          *os.File // writer goroutine only
	prev, next *outFile // LRU list, most recent at head
}

// File operations, executed in order by the pool's writer goroutine.
const (
	opCreate = iota
	opOpen
	opWrite
	opTruncate
	opClose
)

type fileOp struct {
	kind uint8
	o    *outFile
	buf  []byte // opWrite: returned to the free list after the write
	off  int64  // opWrite: offset; opTruncate: size
}

// filePool keeps at most max files open. All system calls on the stream files
// (create, open, write, truncate, close) run on writer goroutines, so the
// kernel's work overlaps reading and reassembly on another core. Each file is
// bound to one writer (round robin at its creation), which runs that file's
// operations in the order they were issued; several writers let the writes to
// some files go on while another file is being created (creating a file in a
// directory is serialised by the kernel and, on a busy ext4, costs more than
// writing it). Write buffers are bounded: max+spare of bufSize bytes.
type filePool struct {
	max      int
	spare    int // write buffers beyond one per open file (spareBufs, or its share)
	bufSize  int
	open     int
	head     *outFile
	tail     *outFile
	truncate bool // O_TRUNC instead of O_EXCL on creation (--force)
	opens    int64

	ops  []chan fileOp // one per writer goroutine
	next int           // writer of the next new file
	// free holds the write buffers not in use, as a stack: getBuf takes the
	// most recently returned one, so a run keeps reusing a few hot buffers
	// whose pages are already mapped rather than cycling through every
	// buffer ever allocated (every first touch of a page is a page fault).
	// Guarded by mu; bufBack is signalled on every push.
	free    [][]byte
	nbufs   int // buffers allocated, at most max+spare; guarded by mu
	bufBack sync.Cond
	wg      sync.WaitGroup
	mu      sync.Mutex
	err     error       // first error of the writer goroutine
	hasErr  atomic.Bool // err != nil, read without the lock on every write
	ended   bool
}

// spareBufs is the number of write buffers beyond one per open file: full
// buffers queued for the writers (up to 2 MiB of writeBufSize ones; measured
// with 64 KiB buffers). With 16 the assembling
// goroutine waited for a writer to return one about as often as it filled
// one, so the two stopped overlapping (wall time ~ their CPU time summed).
const spareBufs = 128

// fileWriters is the number of writer goroutines of a pool.
const fileWriters = 3

func newFilePool(max, bufSize int, truncate bool) *filePool {
	return newFilePoolShare(max, bufSize, truncate, 1)
}

// newFilePoolShare is newFilePool for one of n pools that write at once (the
// extractors of --workers n): each gets spareBufs/n spare buffers and
// fileWriters/n writer goroutines (rounded up), so that n pools hold no more
// spare buffers than one and run at most n-1 more writers.
func newFilePoolShare(maxOpen, bufSize int, truncate bool, n int) *filePool {
	maxOpen, n = max(1, maxOpen), max(1, n)
	spare := max(1, spareBufs/n)
	p := &filePool{
		max: maxOpen, spare: spare, bufSize: bufSize, truncate: truncate,
		ops:  make([]chan fileOp, (fileWriters+n-1)/n),
		free: make([][]byte, 0, maxOpen+spare),
	}
	p.bufBack.L = &p.mu
	for i := range p.ops {
		p.ops[i] = make(chan fileOp, 128)
		p.wg.Add(1)
		go p.writer(p.ops[i])
	}
	return p
}

// writer executes the file operations of its files, in order.
func (p *filePool) writer(ops <-chan fileOp) {
	defer p.wg.Done()
	for op := range ops {
		o := op.o
		var err error
		switch op.kind {
		case opCreate:
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if p.truncate {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			o.f, err = openOutput(o.path, flags)
			if err != nil && errors.Is(err, fs.ErrNotExist) {
				// A template with subdirectories.
				if mkErr := os.MkdirAll(filepath.Dir(o.path), 0o755); mkErr == nil {
					o.f, err = openOutput(o.path, flags)
				}
			}
		case opOpen:
			o.f, err = openFile(o.path, os.O_WRONLY, 0)
		case opWrite:
			if o.f != nil {
				_, err = o.f.WriteAt(op.buf, op.off)
			}
			p.putBuf(op.buf)
		case opTruncate:
			if o.f != nil {
				err = o.f.Truncate(op.off)
			}
		case opClose:
			if o.f != nil {
				err = o.f.Close()
				o.f = nil
			}
		}
		if err != nil {
			p.setErr(err)
		}
	}
}

func (p *filePool) setErr(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
		p.hasErr.Store(true)
	}
	p.mu.Unlock()
}

// Err returns the first error of a file operation so far.
func (p *filePool) Err() error {
	if !p.hasErr.Load() {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// getBuf returns an empty write buffer: the most recently returned free one,
// else a new one while fewer than max+spare exist, else the first one a
// writer returns.
func (p *filePool) getBuf() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if n := len(p.free); n > 0 {
			b := p.free[n-1]
			p.free[n-1] = nil
			p.free = p.free[:n-1]
			return b
		}
		if p.nbufs < p.max+p.spare {
			p.nbufs++
			return make([]byte, 0, p.bufSize)
		}
		// Every buffer is either held by an open file (at most max) or
		// queued for writing: one comes back.
		p.bufBack.Wait()
	}
}

// putBuf returns b to the free stack.
func (p *filePool) putBuf(b []byte) {
	p.mu.Lock()
	p.free = append(p.free, b[:0])
	p.mu.Unlock()
	p.bufBack.Signal()
}

func (p *filePool) unlink(o *outFile) {
	if o.prev != nil {
		o.prev.next = o.next
	} else {
		p.head = o.next
	}
	if o.next != nil {
		o.next.prev = o.prev
	} else {
		p.tail = o.prev
	}
	o.prev, o.next = nil, nil
}

func (p *filePool) pushFront(o *outFile) {
	o.next = p.head
	if p.head != nil {
		p.head.prev = o
	}
	p.head = o
	if p.tail == nil {
		p.tail = o
	}
}

// acquire makes sure o is open, evicting the least recently used file if the
// pool is full, and marks it most recently used.
func (p *filePool) acquire(o *outFile) {
	if o.isOpen {
		if p.head != o {
			p.unlink(o)
			p.pushFront(o)
		}
		return
	}
	for p.open >= p.max && p.tail != nil {
		p.release(p.tail)
	}
	if o.created {
		p.ops[o.shard] <- fileOp{kind: opOpen, o: o}
	} else {
		o.shard = p.next
		p.next = (p.next + 1) % len(p.ops)
		p.ops[o.shard] <- fileOp{kind: opCreate, o: o}
		o.created = true
	}
	p.opens++
	o.isOpen = true
	p.open++
	p.pushFront(o)
}

// flush queues o's pending bytes for writing.
func (p *filePool) flush(o *outFile) {
	if len(o.buf) == 0 {
		return
	}
	p.ops[o.shard] <- fileOp{kind: opWrite, o: o, buf: o.buf, off: o.bufOff}
	o.bufOff += int64(len(o.buf))
	o.buf = nil
}

// release flushes and closes o.
func (p *filePool) release(o *outFile) {
	if !o.isOpen {
		return
	}
	p.flush(o)
	if o.buf != nil { // an empty buffer
		p.putBuf(o.buf)
		o.buf = nil
	}
	p.ops[o.shard] <- fileOp{kind: opClose, o: o}
	o.isOpen = false
	p.unlink(o)
	p.open--
}

// writeAt writes data at offset off of o's file. Errors show up in Err.
func (p *filePool) writeAt(o *outFile, data []byte, off int64) error {
	if len(data) == 0 {
		return nil
	}
	p.acquire(o)
	if end := off + int64(len(data)); end > o.size {
		o.size = end
	}
	if o.buf != nil && off != o.bufOff+int64(len(o.buf)) {
		p.flush(o)
	}
	for len(data) > 0 {
		if o.buf == nil {
			o.buf = p.getBuf()
			o.bufOff = off
		}
		n := min(len(data), cap(o.buf)-len(o.buf))
		o.buf = append(o.buf, data[:n]...)
		data = data[n:]
		off += int64(n)
		if len(o.buf) == cap(o.buf) {
			p.flush(o)
		}
	}
	return p.Err()
}

// finish flushes o, sets its size to length (extending with a hole or cutting)
// and closes it.
func (p *filePool) finish(o *outFile, length int64) error {
	p.acquire(o)
	p.flush(o)
	if o.size != length {
		p.ops[o.shard] <- fileOp{kind: opTruncate, o: o, off: length}
		o.size = length
	}
	p.release(o)
	return p.Err()
}

// closeAll closes every open file, waits for the writer to finish and
// returns the first error. The pool is unusable afterwards.
func (p *filePool) closeAll() error {
	if p.ended {
		return p.Err()
	}
	for p.tail != nil {
		p.release(p.tail)
	}
	p.ended = true
	for _, c := range p.ops {
		close(c)
	}
	p.wg.Wait()
	return p.Err()
}

// createOutput creates (or, when it exists, truncates) the output file name
// without following a symbolic link: a link in its place (in a directory
// written with --force) is removed and a new file made in its stead, so that
// nothing is written outside the output directory through it.
func createOutput(name string) (*os.File, error) {
	return openOutput(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
}

// openOutput opens an output file with flag (which includes O_CREATE) as
// createOutput does.
func openOutput(name string, flag int) (*os.File, error) {
	f, err := openFile(name, flag, 0o644)
	if err == nil {
		return f, nil
	}
	if fi, lerr := os.Lstat(name); lerr == nil && fi.Mode()&os.ModeSymlink != 0 && flag&os.O_EXCL == 0 {
		if rerr := os.Remove(name); rerr != nil {
			return nil, rerr
		}
		return openFile(name, flag|os.O_EXCL, 0o644)
	}
	return nil, err
}

// writeOutput is os.WriteFile through createOutput.
func writeOutput(name string, data []byte) error {
	f, err := createOutput(name)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// outputSubdir creates the directory name inside an output directory; a
// symbolic link in its place is replaced by a directory when force is set,
// and refused otherwise.
func outputSubdir(name string, force bool) error {
	if fi, err := os.Lstat(name); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if !force {
			return fmt.Errorf("%s is a symbolic link", name)
		}
		if err := os.Remove(name); err != nil {
			return err
		}
	}
	return os.Mkdir(name, 0o755)
}

// checkOutputDir creates dir if needed and refuses a non-empty one unless force.
func checkOutputDir(dir string, force bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if len(names) > 0 && !force {
		return fmt.Errorf("output directory %s is not empty (use --force to write into it)", dir)
	}
	return nil
}

// removePrevious removes, for --force, what a previous run listed in DIR's
// indexes: the stream files of flows.jsonl, the body files of http.jsonl
// and the indexes themselves (conflicts.jsonl too), and nothing else. A
// listed name that is absolute or leaves DIR is not touched. It returns how
// many files it removed.
func removePrevious(dir string) (int, error) {
	n := 0
	remove := func(name string) error {
		if name == "" || filepath.IsAbs(name) || strings.HasPrefix(name, "/") || slices.Contains(strings.Split(name, "/"), "..") {
			return nil
		}
		err := os.Remove(filepath.Join(dir, filepath.FromSlash(name)))
		if err == nil {
			n++
			return nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, ix := range []struct {
		file   string
		fields []string
	}{
		{"flows.jsonl", []string{"file"}},
		{"http.jsonl", []string{"request_body", "response_body", "request_decoded", "response_decoded"}},
	} {
		f, err := os.Open(filepath.Join(dir, ix.file))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return n, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				continue
			}
			for _, k := range ix.fields {
				if name, ok := rec[k].(string); ok {
					if err := remove(name); err != nil {
						f.Close()
						return n, err
					}
				}
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return n, fmt.Errorf("%s: %w", ix.file, err)
		}
	}
	for _, name := range []string{"flows.jsonl", "conflicts.jsonl", "http.jsonl", heldFile} {
		if err := remove(name); err != nil {
			return n, err
		}
	}
	return n, nil
}
