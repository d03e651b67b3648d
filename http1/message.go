package http1

import (
	"net/http"

	"github.com/reseq/reseq/tcpasm"
)

// BodyMode says how a message's body is delimited.
type BodyMode uint8

const (
	BodyNone    BodyMode = iota // no body
	BodyLength                  // Content-Length bytes
	BodyChunked                 // chunked transfer coding
	BodyClose                   // until the connection closes
	BodyTunnel                  // the connection left HTTP (101, CONNECT 2xx): no message body
)

var bodyModeNames = [...]string{"none", "length", "chunked", "close", "tunnel"}

func (b BodyMode) String() string {
	if int(b) < len(bodyModeNames) {
		return bodyModeNames[b]
	}
	return "bodymode?"
}

// Range is a range of stream or body offsets.
type Range struct {
	Off, Len int64
}

// Message is one HTTP request or response.
type Message struct {
	Request bool
	Dir     tcpasm.Direction // the direction that sent it

	Method, Target string // request line
	Status         int    // status line
	Reason         string
	Proto          string // "HTTP/1.1"
	Major, Minor   int

	Header  http.Header // canonical keys (net/textproto)
	Trailer http.Header // chunked trailer fields, nil when none

	Start     int64 // stream offset of the first byte
	BodyStart int64 // stream offset of the first body byte (after the header block)
	End       int64 // stream offset one past the last byte (when finished)
	Time      int64 // capture time of the first byte
	EndTime   int64 // capture time of the last byte

	Mode          BodyMode
	ContentLength int64   // declared length (BodyLength), else -1
	BodyLen       int64   // body bytes after de-chunking, holes included
	Holes         []Range // body offsets the capture missed

	// Complete is false when capture loss touched the message or it was cut
	// short (end of stream before its end).
	Complete bool
	// Gaps are the stream ranges of this direction the capture missed inside
	// the message.
	Gaps []Range

	// Req is, for a response, the request it answers (nil when unknown).
	Req *Message
	// Uncertain is set on a response paired with Req after capture loss in
	// either direction: the request it answers may have been lost, or its own
	// response. Pairing then rests on capture times alone.
	Uncertain bool
	// GivenUp is set on a request given up as unanswered, before its
	// response could come, to keep the requests pending within
	// Config.MaxPending or the memory budget.
	GivenUp bool

	holes   []holeMap // body holes by stream offset, for late bytes
	ended   bool
	orphan  bool     // given up as unanswered (unrequested) before it ended
	waiting bool     // a response waiting for its request
	latest  int64    // upper bound of Time (framing.Chunk.Now), for pairing
	resp    *Message // final response that ended before this request did
	cost    int64    // what it counts while pending (Conn.pend)
}

// Handler receives the messages of a Conn. Calls for one direction come in
// stream order; Exchange is called once per exchange after both messages ended:
// for every final response (req nil when its request was not seen), and at the
// end of the connection for every request never answered (resp nil). Interim
// (1xx other than 101) responses get Header and End, not Exchange.
//
// A Handler that also implements Filler is given bytes the assembler
// delivered late into a hole of a message still in progress.
type Handler interface {
	Header(m *Message)
	// Body delivers de-chunked body bytes at body offset off; data is only
	// valid during the call. Offsets not delivered before End are holes.
	Body(m *Message, off int64, data []byte)
	End(m *Message)
	Exchange(req, resp *Message)
}

// Filler is implemented by Handlers that take late bytes: data fills the
// body hole at body offset off of m (a message not yet ended). The hole is
// then no longer in m.Holes and m.Gaps; a message whose holes are all filled
// ends complete.
type Filler interface {
	Fill(m *Message, off int64, data []byte)
}

// holeMap ties a body hole to the stream range it came from.
type holeMap struct {
	stream, body, n int64
}

// cutRange removes [off, off+n) from sorted ranges.
func cutRange(rs []Range, off, n int64) []Range {
	var out []Range
	end := off + n
	for _, r := range rs {
		re := r.Off + r.Len
		if re <= off || r.Off >= end {
			out = append(out, r)
			continue
		}
		if r.Off < off {
			out = append(out, Range{r.Off, off - r.Off})
		}
		if re > end {
			out = append(out, Range{end, re - end})
		}
	}
	return out
}
