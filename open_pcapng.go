package reseq

import (
	"errors"
	"io"
)

// pcapngReader is a placeholder until package pcapng lands.
type pcapngReader struct{}

func newPcapngSource(cp *Capture, br io.Reader) (formatReader, error) {
	return nil, errors.New("pcapng: not supported yet")
}

func pcapngOffset(err error) (int64, bool) { return 0, false }

func pcapngError(err error) bool { return false }
