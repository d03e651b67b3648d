package reseq

import (
	"encoding/hex"
	"errors"
	"fmt"
)

// InputError reports a problem with one input: the capture's name (a file name,
// "-" for standard input, or "archive!member" for an archive member), the byte
// offset in the decompressed capture where the problem was found (-1 when it
// is not known, as for errors of the file system or of a decompressor), and the
// underlying error.
//
// Next returns an InputError only after every good packet of that input before
// the broken spot has been returned.
type InputError struct {
	Name   string
	Offset int64
	Err    error
}

func (e *InputError) Error() string {
	if _, shown := errOffset(e.Err); e.Offset >= 0 && !shown {
		return fmt.Sprintf("%s: offset %d: %v", e.Name, e.Offset, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Name, e.Err)
}

// offsetError is a format error that names the byte offset of its fault and
// shows it in its text (pcapfile's and pcapng's FormatError).
type offsetError interface {
	error
	ByteOffset() int64
}

// errOffset returns the byte offset err names, if it wraps an offsetError.
func errOffset(err error) (int64, bool) {
	var oe offsetError
	if errors.As(err, &oe) {
		return oe.ByteOffset(), true
	}
	return 0, false
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

// Unwrap returns the underlying error.
func (e *InputError) Unwrap() error { return e.Err }

// ErrNotCapture is wrapped (in a *NotCaptureError inside an *InputError) when an
// input is neither a known compression, nor an archive, nor a pcap or pcapng
// capture.
var ErrNotCapture = errors.New("not a pcap or pcapng capture")

// NotCaptureError says an input is not a capture and shows its first bytes.
type NotCaptureError struct {
	Head []byte // up to the first 16 bytes of the (decompressed) input
}

func (e *NotCaptureError) Error() string {
	if len(e.Head) == 0 {
		return "empty input: " + ErrNotCapture.Error()
	}
	return fmt.Sprintf("%v (first bytes: %s)", ErrNotCapture, hex.EncodeToString(e.Head))
}

// Is reports whether target is ErrNotCapture.
func (e *NotCaptureError) Is(target error) bool { return target == ErrNotCapture }
