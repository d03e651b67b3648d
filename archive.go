package reseq

// The container stage: the members of a zip or tar archive as a list of
// descriptions that open them (see member). It knows nothing of capture
// formats or of the Reader, which opens the members in turn.

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

// archive is what a zip or tar archive holds, read from its directory or
// headers: its entries in archive order, each a member to open (or one that is
// skipped or broken, see member), and what must stay open while the members
// are read (a temporary copy, a mapping).
//
// Invariant: closers are run (in reverse order) only once no member is read
// any more, at the Reader's Close; a member's open reads bytes that closers
// keep alive.
type archive struct {
	members []member
	closers []func()
}

// openArchive lists the members of the zip or tar archive in, whose
// compressions u removed (u.kind is kindZip or kindTar). The archive's
// closers are to be run at the end even when it returns an error.
func openArchive(in *input, u *unwrapped, opt *Options) (*archive, error) {
	a := &archive{}
	ra := in.ra
	if len(u.comps) > 0 {
		ra = nil // the file's bytes are compressed: not the archive's
	}
	if u.kind == kindZip {
		return a, a.zip(in.name, u, ra, in.size, in.cnt, opt)
	}
	if ra != nil {
		a.tar(in.name, ra, in.size, in.cnt, u.mem, nil)
		return a, nil
	}
	return a, a.spillTar(in.name, u, opt)
}

// spillTar reads a tar archive that is not a plain uncompressed file (it is
// compressed, or comes from a pipe): a stream cannot be read at two places at
// once, yet merging its members by time needs each member from its first
// packet's time on, while the others are read too. So the decompressed archive
// is copied to a temporary file (Options.TempDir; at most Options.MaxSpill
// bytes), which is then read like a plain tar file: the result is the same
// whether a tar is plain, compressed or piped. The copy is unlinked at once
// where the system allows, otherwise removed by Close.
func (a *archive) spillTar(name string, u *unwrapped, opt *Options) error {
	f, err := os.CreateTemp(opt.TempDir, "reseq-tar-*")
	if err != nil {
		return &InputError{Name: name, Offset: -1, Err: fmt.Errorf("tar archive read as a stream needs a temporary copy (set TMPDIR): %w", err)}
	}
	path := f.Name()
	unlinked := os.Remove(path) == nil
	a.closers = append(a.closers, func() {
		f.Close()
		if !unlinked {
			os.Remove(path)
		}
	})
	limit := opt.MaxSpill
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
	if opt.Mmap {
		// Kept until Close like the copy: the mapping serves every member.
		if data, unmap, ok := mapFile(f, n); ok {
			a.closers = append(a.closers, unmap)
			mem = &memInput{data: data, cnt: new(atomic.Int64)}
		}
	}
	a.tar(name, f, n, new(atomic.Int64), mem, u.comps)
	if readErr != io.EOF {
		// A decompression or read error: the members before it are read,
		// the one it cut reports its truncation, and this says why.
		a.members = append(a.members, member{name: name, err: &InputError{Name: name, Offset: -1, Err: readErr}})
	}
	return nil
}

// zip lists every member of a zip archive: its members are independent, so
// they are merged like separate files. The archive is read through ra when
// the input is a plain file, otherwise from memory.
func (a *archive) zip(name string, u *unwrapped, ra io.ReaderAt, size int64, cnt *atomic.Int64, opt *Options) error {
	if ra != nil {
		cnt.Store(0) // counted again through ReadAt
		ra = countingReaderAt{r: ra, n: cnt}
	} else {
		data, err := io.ReadAll(io.LimitReader(u.br, opt.MaxArchiveBuffer+1))
		if err != nil {
			return &InputError{Name: name, Offset: -1, Err: err}
		}
		if int64(len(data)) > opt.MaxArchiveBuffer {
			return &InputError{Name: name, Offset: -1, Err: fmt.Errorf("zip archive from a stream larger than %d bytes", opt.MaxArchiveBuffer)}
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
			a.members = append(a.members, member{name: mname, skip: zip.ErrAlgorithm})
			continue
		}
		if data := storedInPlace(u.mem, f); data != nil {
			cnt := u.mem.cnt
			open := func() (io.Reader, func(), error) { return &memInput{data: data, cnt: cnt}, nil, nil }
			a.members = append(a.members, member{name: mname, open: open})
			continue
		}
		open := func() (io.Reader, func(), error) {
			rc, err := f.Open()
			if err != nil {
				return nil, nil, err
			}
			return rc, func() { rc.Close() }, nil
		}
		a.members = append(a.members, member{name: mname, open: open, comps: append(u.comps[:len(u.comps):len(u.comps)], zipCompression(f.Method)...)})
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

// tar lists every member of an uncompressed tar archive in a plain file (or
// its temporary copy, see spillTar): the member's bytes are read in place, so
// members are merged like separate files. When mem is not nil the archive is
// mapped and the members are read from memory. comps are the encodings that
// were around the archive. A broken header ends the list with an entry that
// reports it, unless a member it cut short reports its truncation anyway.
func (a *archive) tar(name string, ra io.ReaderAt, size int64, cnt *atomic.Int64, mem *memInput, comps []Compression) {
	cnt.Store(0) // counted again through ReadAt
	ra = countingReaderAt{r: ra, n: cnt}
	pr := &posReader{r: io.NewSectionReader(ra, 0, size)}
	tr := tar.NewReader(pr)
	type entry struct {
		name      string
		off, size int64
	}
	var entries []entry
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
			entries = append(entries, entry{name + "!" + h.Name, pr.pos, h.Size})
		case tar.TypeGNUSparse:
			// Listed as they are met, before the members: the order
			// Reader.Skipped has always had.
			a.members = append(a.members, member{name: name + "!" + h.Name, skip: errSparseMember})
		}
	}
	for _, e := range entries {
		if e.size > size-e.off { // not e.off+e.size: a header may claim up to MaxInt64
			// Cut short: its reader reports the truncation after the
			// packets that are there, and that says all.
			e.size = max(size-e.off, 0)
			tarErr = nil
		}
		open := func() (io.Reader, func(), error) { return io.NewSectionReader(ra, e.off, e.size), nil, nil }
		if mem != nil {
			data := mem.data[min(e.off, size):min(e.off+e.size, size)]
			open = func() (io.Reader, func(), error) { return &memInput{data: data, cnt: cnt}, nil, nil }
		}
		a.members = append(a.members, member{name: e.name, open: open, comps: comps})
	}
	if tarErr != nil {
		a.members = append(a.members, member{name: name, err: tarErr})
	}
}

var errSparseMember = errors.New("sparse tar member is not read")

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
