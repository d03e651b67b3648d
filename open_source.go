package reseq

import (
	"io"

	"github.com/reseq/reseq/pcapfile"
)

// formatReader reads the packets of one capture (Data valid until the next
// call). It returns io.EOF at the clean end.
type formatReader interface {
	next() (Packet, error)
}

// pcapSource adapts a pcapfile.Reader.
type pcapSource struct {
	r      *pcapfile.Reader
	source int
}

func (s *pcapSource) next() (Packet, error) {
	q, err := s.r.Next()
	return Packet{Timestamp: q.Timestamp, Length: q.Length, Data: q.Data, LinkType: q.LinkType, Source: s.source}, err
}

// source is one sequence of packets taking part in the merge: a capture, or a
// tar archive read as a stream whose member captures follow one another.
type source struct {
	name    string
	order   int          // position among the sources: breaks timestamp ties
	fr      formatReader // the current capture's reader; nil between tar members
	capture *Capture
	tar     *tarChain // set for a tar archive
	err     error     // set for a source that only reports an error
	head    Packet    // the packet read last
	done    bool
}

// step reads the source's next packet into s.head. It returns false and a nil
// error at the end; an error leaves the source done unless a tar archive can go
// on with its next member.
func (s *source) step() (bool, error) {
	if s.done {
		return false, nil
	}
	if s.err != nil {
		s.done = true
		return false, s.err
	}
	for {
		if s.fr != nil {
			var err error
			s.head, err = s.fr.next()
			if err == nil {
				return true, nil
			}
			s.fr = nil
			if s.tar == nil {
				s.done = true
				if err == io.EOF {
					return false, nil
				}
				return false, inputError(s.capture.Name, err)
			}
			s.tar.endMember(err)
			if err != io.EOF {
				return false, inputError(s.capture.Name, err)
			}
		}
		fr, cp, err := s.tar.nextMember()
		if err != nil {
			s.done = true
			if err == io.EOF {
				return false, nil
			}
			return false, err
		}
		s.fr, s.capture = fr, cp
	}
}
