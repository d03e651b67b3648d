package main

// Output side of "reseq extract": stream file names (tcpflow style, valid on
// Windows), the -T name template, and a pool that keeps at most N stream files
// open at once (LRU) while every stream writes at its own offsets.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/tcpasm"
)

// defaultTemplate names a stream file like tcpflow does:
// 010.000.000.001.00443-010.000.000.002.51234[--VLAN...][cN].
const defaultTemplate = "%A.%a-%B.%b%V%C"

// templateHelp documents the -T directives.
const templateHelp = `file name template (relative to DIR; '/' makes subdirectories):
  %A %B  source / destination address: IPv4 as 010.000.000.001, IPv6 as eight
         4-digit hex groups joined by '_' (fd77_0000_0000_0000_0000_0000_0000_0001),
         so names stay valid on Windows
  %a %b  source / destination port, 5 digits
  %V     "--ID" for every VLAN ID of the flow key, outer first (empty when none)
  %C     "cN" for connection index N >= 1 on a reused tuple (empty for 0)
  %c     connection index, always;  %N  connection number (the row of 'reseq flows')
  %D     direction: c2s or s2c;  %T  first packet, Unix seconds;
  %t     first packet, UTC 20060102T150405Z;  %%  a literal '%'`

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
		case 'A', 'a', 'B', 'b', 'V', 'C', 'c', 'N', 'D', 'T', 't':
			flush()
			t.parts = append(t.parts, tplPart{verb: v})
		default:
			return nil, fmt.Errorf("name template %q: unknown directive %%%c", s, v)
		}
	}
	flush()
	// Path components: no absolute path, no empty, "." or ".." component, no
	// trailing dot or space (Windows strips them).
	if strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") {
		return nil, fmt.Errorf("name template %q: must be a relative file path", s)
	}
	for _, comp := range strings.Split(s, "/") {
		if comp == "" || comp == "." || comp == ".." {
			return nil, fmt.Errorf("name template %q: bad path component %q", s, comp)
		}
		if strings.HasSuffix(comp, ".") || strings.HasSuffix(comp, " ") {
			return nil, fmt.Errorf("name template %q: component %q ends in a dot or space", s, comp)
		}
	}
	return t, nil
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

func (t *nameTemplate) nameFor(key *layers.FlowKey, index int, seq int64, dir tcpasm.Direction, first int64) string {
	b := make([]byte, 0, 64)
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
			for _, v := range key.VLANIDs() {
				b = append(b, "--"...)
				b = strconv.AppendUint(b, uint64(v), 10)
			}
		case 'C':
			if index > 0 {
				b = append(b, 'c')
				b = strconv.AppendInt(b, int64(index), 10)
			}
		case 'c':
			b = strconv.AppendInt(b, int64(index), 10)
		case 'N':
			b = strconv.AppendInt(b, seq, 10)
		case 'D':
			if dir == tcpasm.ClientToServer {
				b = append(b, "c2s"...)
			} else {
				b = append(b, "s2c"...)
			}
		case 'T':
			b = strconv.AppendInt(b, first/1e9, 10)
		case 't':
			b = time.Unix(0, first).UTC().AppendFormat(b, "20060102T150405Z")
		}
	}
	return string(b)
}

// outFile is one stream's output file. Its bytes go through a small write-behind
// buffer of the contiguous run being written; the file is open only while it is
// in the pool's LRU list.
type outFile struct {
	path    string // OS path
	created bool
	f       *os.File
	buf     []byte // pending bytes for [bufOff, bufOff+len(buf))
	bufOff  int64
	size    int64 // highest offset written + 1 (buffer included)

	prev, next *outFile // LRU list, most recent at head
}

// filePool keeps at most max files open and recycles their write buffers.
type filePool struct {
	max      int
	bufSize  int
	open     int
	head     *outFile
	tail     *outFile
	free     [][]byte
	truncate bool // O_TRUNC instead of O_EXCL on creation (--force)
	opens    int64
}

func newFilePool(max, bufSize int, truncate bool) *filePool {
	if max < 1 {
		max = 1
	}
	return &filePool{max: max, bufSize: bufSize, truncate: truncate}
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
func (p *filePool) acquire(o *outFile) error {
	if o.f != nil {
		if p.head != o {
			p.unlink(o)
			p.pushFront(o)
		}
		return nil
	}
	for p.open >= p.max && p.tail != nil {
		if err := p.release(p.tail); err != nil {
			return err
		}
	}
	var f *os.File
	var err error
	if !o.created {
		flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if p.truncate {
			flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		f, err = os.OpenFile(o.path, flags, 0o644)
		if err != nil && errors.Is(err, fs.ErrNotExist) {
			// A template with subdirectories.
			if mkErr := os.MkdirAll(filepath.Dir(o.path), 0o755); mkErr == nil {
				f, err = os.OpenFile(o.path, flags, 0o644)
			}
		}
		if err == nil {
			o.created = true
		}
	} else {
		f, err = os.OpenFile(o.path, os.O_WRONLY, 0)
	}
	if err != nil {
		return err
	}
	p.opens++
	o.f = f
	p.open++
	if n := len(p.free); n > 0 {
		o.buf = p.free[n-1][:0]
		p.free = p.free[:n-1]
	} else {
		o.buf = make([]byte, 0, p.bufSize)
	}
	p.pushFront(o)
	return nil
}

// flush writes o's pending bytes.
func (o *outFile) flush() error {
	if len(o.buf) == 0 {
		return nil
	}
	_, err := o.f.WriteAt(o.buf, o.bufOff)
	o.bufOff += int64(len(o.buf))
	o.buf = o.buf[:0]
	return err
}

// release flushes and closes o and returns its buffer to the pool.
func (p *filePool) release(o *outFile) error {
	if o.f == nil {
		return nil
	}
	err := o.flush()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	o.f = nil
	p.free = append(p.free, o.buf[:0])
	o.buf = nil
	p.unlink(o)
	p.open--
	return err
}

// writeAt writes data at offset off of o's file.
func (p *filePool) writeAt(o *outFile, data []byte, off int64) error {
	if len(data) == 0 {
		return nil
	}
	if err := p.acquire(o); err != nil {
		return err
	}
	if end := off + int64(len(data)); end > o.size {
		o.size = end
	}
	if len(o.buf) > 0 && off == o.bufOff+int64(len(o.buf)) && len(o.buf)+len(data) <= cap(o.buf) {
		o.buf = append(o.buf, data...)
		return nil
	}
	if err := o.flush(); err != nil {
		return err
	}
	if len(data) >= cap(o.buf) {
		_, err := o.f.WriteAt(data, off)
		return err
	}
	o.bufOff = off
	o.buf = append(o.buf, data...)
	return nil
}

// finish flushes o, sets its size to length (extending with a hole or cutting)
// and closes it.
func (p *filePool) finish(o *outFile, length int64) error {
	if err := p.acquire(o); err != nil {
		return err
	}
	err := o.flush()
	if o.size != length {
		if terr := o.f.Truncate(length); err == nil {
			err = terr
		}
		o.size = length
	}
	if rerr := p.release(o); err == nil {
		err = rerr
	}
	return err
}

// closeAll flushes and closes every open file.
func (p *filePool) closeAll() error {
	var err error
	for p.tail != nil {
		if e := p.release(p.tail); err == nil {
			err = e
		}
	}
	return err
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
