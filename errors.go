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

// ErrTimestampRange is matched (errors.Is) by a *TimestampRangeError: a
// packet's timestamp lies outside what Packet.Timestamp, int64 nanoseconds
// since 1970, holds: before 1677-09-21T00:12:43.145224192Z or after
// 2262-04-11T23:47:16.854775807Z. Only pcapng can say such a time (a 64-bit
// timestamp, if_tsresol, if_tsoffset); a pcap's 32-bit seconds end in 2106.
var ErrTimestampRange = errors.New("packet timestamp outside what int64 nanoseconds since 1970 hold (1677-09-21 to 2262-04-11)")

// TimestampRangeError is the Err of the *InputError that Next returns, naming
// the capture and the packet's byte offset, before the first packet of a
// capture whose timestamp is out of range (see ErrTimestampRange). That packet
// comes at the next call to Next, with its Timestamp at the bound it passed
// (math.MaxInt64 or math.MinInt64), so no data is lost; it and any later such
// packets of the capture are counted in Capture.TimestampsOutOfRange, and only
// the first is reported. In a merge such a packet sorts at that bound: last
// (or first) of all.
type TimestampRangeError struct {
	Late bool // after 2262 (otherwise before 1677)
}

func (e *TimestampRangeError) Error() string {
	if e.Late {
		return "packet timestamp after 2262-04-11T23:47:16Z, beyond int64 nanoseconds since 1970: kept at that time, as any later such packet of this capture"
	}
	return "packet timestamp before 1677-09-21T00:12:43Z, beyond int64 nanoseconds since 1970: kept at that time, as any later such packet of this capture"
}

// Is reports whether target is ErrTimestampRange.
func (e *TimestampRangeError) Is(target error) bool { return target == ErrTimestampRange }
