package reseq

// An input with its compressions removed (unwrap), and member: how to open a
// capture's bytes, again when it wakes, and unwrap them.

import (
	"fmt"
	"io"
)

// maxNesting bounds how many compressions may wrap one another.
const maxNesting = 4

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
