package reseq

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
)

// tarChain reads the members of a tar archive one after another from a stream
// (a tar file cannot be read at two places at once without seeking, and a
// compressed one not at all): in a merge the whole archive is one source whose
// members follow each other in archive order.
type tarChain struct {
	r      *Reader
	name   string
	tr     *tar.Reader
	comps  []Compression
	member *unwrapped // the current member's decompressors
	failed bool       // the current member ended with an error
}

// endMember releases the current member after its reader returned err.
func (t *tarChain) endMember(err error) {
	if t.member != nil {
		t.member.release()
		t.member = nil
	}
	t.failed = err != io.EOF
}

// nextMember opens the next member that is a capture. Members that are not
// captures are recorded in Skipped. It returns io.EOF at the end of the
// archive.
func (t *tarChain) nextMember() (formatReader, *Capture, error) {
	for {
		h, err := t.tr.Next()
		if err != nil {
			if err == io.EOF {
				return nil, nil, io.EOF
			}
			if t.failed {
				// The member's error already said the archive broke there.
				return nil, nil, io.EOF
			}
			return nil, nil, &InputError{Name: t.name, Offset: -1, Err: fmt.Errorf("tar: %w", err)}
		}
		t.failed = false
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA && h.Typeflag != tar.TypeGNUSparse {
			continue
		}
		name := t.name + "!" + h.Name
		u, err := t.r.unwrap(name, t.tr, t.comps)
		if err != nil {
			return nil, nil, err
		}
		switch u.kind {
		case kindPcap, kindPcapng:
			cp, fr, err := t.r.openCapture(name, u)
			if err != nil {
				u.release()
				t.failed = true
				return nil, nil, err
			}
			t.member = u
			return fr, cp, nil
		case kindZip, kindTar:
			t.r.skipped = append(t.r.skipped, Skipped{Name: name, Err: errNestedArchive})
		default:
			t.r.skipped = append(t.r.skipped, Skipped{Name: name, Err: &NotCaptureError{Head: headPrefix(u.head)}})
		}
		u.release()
	}
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
		ra, size = bytes.NewReader(data), int64(len(data))
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
		rc, err := f.Open()
		if err != nil {
			if errors.Is(err, zip.ErrAlgorithm) {
				r.skipped = append(r.skipped, Skipped{Name: mname, Err: err})
			} else {
				r.sources = append(r.sources, &source{name: mname, err: &InputError{Name: mname, Offset: -1, Err: err}})
			}
			continue
		}
		r.closers = append(r.closers, func() { rc.Close() })
		comps := append(u.comps[:len(u.comps):len(u.comps)], zipCompression(f.Method)...)
		mu, err := r.unwrap(mname, rc, comps)
		if err != nil {
			r.sources = append(r.sources, &source{name: mname, err: err})
			continue
		}
		r.closers = append(r.closers, mu.release)
		switch mu.kind {
		case kindPcap, kindPcapng:
			cp, fr, err := r.openCapture(mname, mu)
			if err != nil {
				r.sources = append(r.sources, &source{name: mname, err: err})
				continue
			}
			r.sources = append(r.sources, &source{name: mname, fr: fr, capture: cp})
		case kindZip, kindTar:
			r.skipped = append(r.skipped, Skipped{Name: mname, Err: errNestedArchive})
		default:
			r.skipped = append(r.skipped, Skipped{Name: mname, Err: &NotCaptureError{Head: headPrefix(mu.head)}})
		}
	}
	return nil
}

func zipCompression(method uint16) []Compression {
	if method == zip.Deflate {
		return []Compression{Deflate}
	}
	return nil
}
