package reseq

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
)

// spillTar reads a tar archive that is not a plain uncompressed file (it is
// compressed, or comes from a pipe): a stream cannot be read at two places at
// once, yet merging its members by time needs each member from its first
// packet's time on, while the others are read too. So the decompressed archive
// is copied to a temporary file (Options.TempDir; at most Options.MaxSpill
// bytes), which is then read like a plain tar file: the result is the same
// whether a tar is plain, compressed or piped. The copy is unlinked at once
// where the system allows, otherwise removed by Close.
func (r *Reader) spillTar(name string, u *unwrapped) error {
	f, err := os.CreateTemp(r.opt.TempDir, "reseq-tar-*")
	if err != nil {
		return &InputError{Name: name, Offset: -1, Err: fmt.Errorf("tar archive read as a stream needs a temporary copy (set TMPDIR): %w", err)}
	}
	path := f.Name()
	unlinked := os.Remove(path) == nil
	r.closers = append(r.closers, func() {
		f.Close()
		if !unlinked {
			os.Remove(path)
		}
	})
	limit := r.opt.MaxSpill
	if limit <= 0 {
		limit = math.MaxInt64
	}
	buf := make([]byte, 256<<10)
	var n int64
	var readErr error
	for readErr == nil {
		var m int
		m, readErr = u.br.Read(buf)
		if m > 0 {
			if int64(m) > limit-n {
				return &InputError{Name: name, Offset: -1, Err: fmt.Errorf("tar archive read as a stream is larger than %d bytes decompressed (the temporary copy's bound)", limit)}
			}
			if _, err := f.Write(buf[:m]); err != nil {
				return &InputError{Name: name, Offset: -1, Err: fmt.Errorf("temporary copy of the tar archive: %w", err)}
			}
			n += int64(m)
		}
	}
	// The input was read to its end: let its decompressors go now.
	u.release()
	var mem *memInput
	if r.opt.Mmap {
		if data, unmap, ok := mapFile(f, n); ok {
			r.closers = append(r.closers, r.unmapSafely(unmap))
			mem = &memInput{data: data, cnt: new(atomic.Int64)}
		}
	}
	if err := r.openTarFile(name, f, n, new(atomic.Int64), mem, u.comps); err != nil {
		return err
	}
	if readErr != io.EOF {
		// A decompression or read error: the members before it are read,
		// the one it cut reports its truncation, and this says why.
		r.sources = append(r.sources, &source{name: name, err: &InputError{Name: name, Offset: -1, Err: readErr}})
	}
	return nil
}

// openZip adds a source for every capture member of a zip archive: its
// members are independent, so they are merged like separate files. The archive
// is read through ra when the input is a plain file, otherwise from memory.
func (r *Reader) openZip(name string, u *unwrapped, ra io.ReaderAt, size int64, cnt *atomic.Int64) error {
	if ra != nil {
		cnt.Store(0) // counted again through ReadAt
		ra = countingReaderAt{r: ra, n: cnt}
	} else {
		data, err := io.ReadAll(io.LimitReader(u.br, r.opt.MaxArchiveBuffer+1))
		if err != nil {
			return &InputError{Name: name, Offset: -1, Err: err}
		}
		if int64(len(data)) > r.opt.MaxArchiveBuffer {
			return &InputError{Name: name, Offset: -1, Err: fmt.Errorf("zip archive from a stream larger than %d bytes", r.opt.MaxArchiveBuffer)}
		}
		ra, size = countingReaderAt{r: bytes.NewReader(data), n: new(atomic.Int64)}, int64(len(data))
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return &InputError{Name: name, Offset: -1, Err: err}
	}
	zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser { return flate.NewReader(r) })
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		mname := name + "!" + f.Name
		if f.Method != zip.Store && f.Method != zip.Deflate {
			r.skipped = append(r.skipped, Skipped{Name: mname, Err: zip.ErrAlgorithm})
			continue
		}
		if data := storedInPlace(u.mem, f); data != nil {
			cnt := u.mem.cnt
			r.addMember(mname, func() (io.Reader, func(), error) { return &memInput{data: data, cnt: cnt}, nil, nil }, nil)
			continue
		}
		open := func() (io.Reader, func(), error) {
			rc, err := f.Open()
			if err != nil {
				return nil, nil, err
			}
			return rc, func() { rc.Close() }, nil
		}
		r.addMember(mname, open, append(u.comps[:len(u.comps):len(u.comps)], zipCompression(f.Method)...))
	}
	return nil
}

// storedInPlace returns the bytes of a zip member stored (not compressed) in a
// mapped archive, to be read in place, when they are intact: sizes that agree,
// no data descriptor, and the CRC-32 of the header. Otherwise it returns nil
// and the member is read through archive/zip, which reports what is wrong.
func storedInPlace(mem *memInput, f *zip.File) []byte {
	if mem == nil || f.Method != zip.Store || f.CompressedSize64 != f.UncompressedSize64 || f.Flags&0x8 != 0 {
		return nil
	}
	off, err := f.DataOffset()
	if err != nil || off < 0 || f.CompressedSize64 > uint64(len(mem.data)) || uint64(off) > uint64(len(mem.data))-f.CompressedSize64 {
		return nil
	}
	data := mem.data[off : off+int64(f.CompressedSize64)]
	if crc32.ChecksumIEEE(data) != f.CRC32 {
		return nil
	}
	return data
}

// addMember adds the source of an archive member that open reads (again, when
// the merge reopens it) independently of the other members; comps are the
// encodings around it.
func (r *Reader) addMember(name string, open func() (io.Reader, func(), error), comps []Compression) {
	in, rel, err := open()
	if err != nil {
		r.sources = append(r.sources, &source{name: name, err: &InputError{Name: name, Offset: -1, Err: err}})
		return
	}
	var closers []func()
	if rel != nil {
		closers = append(closers, rel)
	}
	release := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	mu, err := r.unwrap(name, in, comps)
	if err != nil {
		release()
		r.sources = append(r.sources, &source{name: name, err: err})
		return
	}
	closers = append(closers, mu.release)
	switch mu.kind {
	case kindPcap, kindPcapng:
		cp, fr, err := r.openCapture(name, mu)
		if err != nil {
			release()
			r.sources = append(r.sources, &source{name: name, err: err})
			return
		}
		s := &source{name: name, fr: fr, capture: cp, reopen: open, base: comps, closers: closers}
		r.sources = append(r.sources, s)
		r.settleLater(s)
		return
	case kindZip, kindTar:
		r.skipped = append(r.skipped, Skipped{Name: name, Err: errNestedArchive})
	default:
		r.skipped = append(r.skipped, Skipped{Name: name, Err: &NotCaptureError{Head: headPrefix(mu.head)}})
	}
	release()
}

// openTarFile adds a source for every capture member of an uncompressed tar
// archive in a plain file (or its temporary copy, see spillTar): the member's
// bytes are read in place, so members are merged like separate files.
// When mem is not nil the archive is mapped and the members are read in place.
// comps are the encodings that were around the archive.
func (r *Reader) openTarFile(name string, ra io.ReaderAt, size int64, cnt *atomic.Int64, mem *memInput, comps []Compression) error {
	cnt.Store(0) // counted again through ReadAt
	ra = countingReaderAt{r: ra, n: cnt}
	pr := &posReader{r: io.NewSectionReader(ra, 0, size)}
	tr := tar.NewReader(pr)
	type member struct {
		name      string
		off, size int64
	}
	var members []member
	var tarErr error
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			// Read what came before; the broken rest is an error of the archive.
			tarErr = &InputError{Name: name, Offset: pr.pos, Err: fmt.Errorf("tar: %w", err)}
			break
		}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			members = append(members, member{name + "!" + h.Name, pr.pos, h.Size})
		case tar.TypeGNUSparse:
			r.skipped = append(r.skipped, Skipped{Name: name + "!" + h.Name, Err: errors.New("sparse tar member is not read")})
		}
	}
	for _, m := range members {
		if m.size > size-m.off { // not m.off+m.size: a header may claim up to MaxInt64
			// Cut short: its reader reports the truncation after the
			// packets that are there, and that says all.
			m.size = max(size-m.off, 0)
			tarErr = nil
		}
		open := func() (io.Reader, func(), error) { return io.NewSectionReader(ra, m.off, m.size), nil, nil }
		if mem != nil {
			data := mem.data[min(m.off, size):min(m.off+m.size, size)]
			open = func() (io.Reader, func(), error) { return &memInput{data: data, cnt: cnt}, nil, nil }
		}
		r.addMember(m.name, open, comps)
	}
	if tarErr != nil {
		r.sources = append(r.sources, &source{name: name, err: tarErr})
	}
	return nil
}

// posReader tracks the position in a ReadSeeker, so the data offset of each tar
// member is known after tar.Reader.Next (which reads no further than the
// header, and seeks over member data).
type posReader struct {
	r   io.ReadSeeker
	pos int64
}

func (p *posReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.pos += int64(n)
	return n, err
}

func (p *posReader) Seek(off int64, whence int) (int64, error) {
	n, err := p.r.Seek(off, whence)
	if err == nil {
		p.pos = n
	}
	return n, err
}

func zipCompression(method uint16) []Compression {
	if method == zip.Deflate {
		return []Compression{Deflate}
	}
	return nil
}
