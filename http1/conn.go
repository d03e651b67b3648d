package http1

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/reseq/reseq/tcpasm"
	"github.com/reseq/reseq/tcpasm/framing"
)

// Config sets a Conn's limits. The zero value means the defaults.
type Config struct {
	MaxHeader int // bytes of a header block (start line included); default 64 KiB
	MaxLine   int // bytes of one start, header or chunk-size line; default 8 KiB
	MaxLines  int // lines in a header block; default 256
	// MaxPending bounds the requests of one connection that await their
	// response, counted as their header blocks plus MessageCost each;
	// default DefaultMaxPending. Beyond it (or beyond what Budget has left)
	// the oldest is given up as unanswered (Message.GivenUp).
	MaxPending int
	// Budget, when set, is charged with the pending requests of every Conn
	// sharing it (see framing.Budget).
	Budget *framing.Budget
}

// DefaultMaxPending is Config.MaxPending when it is zero.
const DefaultMaxPending = 1 << 20

// MessageCost is what a pending request counts beyond its header block: the
// Message and its parsed header (an estimate).
const MessageCost = 512

func (c Config) limits() limits {
	l := limits{maxLine: c.MaxLine, maxHeader: c.MaxHeader, maxLines: c.MaxLines}
	if l.maxLine <= 0 {
		l.maxLine = 8 << 10
	}
	if l.maxHeader <= 0 {
		l.maxHeader = 64 << 10
	}
	if l.maxLines <= 0 {
		l.maxLines = 256
	}
	return l
}

// Conn parses the two directions of one TCP connection.
type Conn struct {
	h       Handler
	dirs    [2]stream
	pair    framing.Pairer[*Message]
	loss    [2]bool       // direction lost bytes since its last answer
	waiting [2][]*Message // responses by direction waiting for their request
	lost    [2]bool       // direction lost bytes since the last pairing
	unsure  bool          // pairing after loss not re-anchored yet
	tunnel  bool          // the connection left HTTP
	ended   int
	closed  bool

	budget     *framing.Budget
	maxPending int64
	pendingMem int64 // cost of the requests pending in pair
	givingUp   bool  // pend is giving up the oldest pending request
}

// NewConn returns a Conn reporting to h.
func NewConn(h Handler, cfg Config) *Conn {
	c := &Conn{h: h, budget: cfg.Budget, maxPending: int64(cfg.MaxPending)}
	if c.maxPending <= 0 {
		c.maxPending = DefaultMaxPending
	}
	for d := range c.dirs {
		c.dirs[d] = stream{c: c, dir: tcpasm.Direction(d), lim: cfg.limits()}
		c.dirs[d].scan.lim = c.dirs[d].lim
		c.dirs[d].scan.reset()
	}
	c.pair.Unanswered = func(m *Message) {
		c.unpend(m)
		if m.ended {
			c.h.Exchange(m, nil)
		} else {
			m.orphan = true // reported when it ends
		}
	}
	return c
}

// Consumer returns the framing consumer of direction d.
func (c *Conn) Consumer(d tcpasm.Direction) framing.Consumer { return &c.dirs[d&1] }

// Consumers returns both directions' consumers, as a framing.Factory returns
// them.
func (c *Conn) Consumers() [2]framing.Consumer {
	return [2]framing.Consumer{&c.dirs[0], &c.dirs[1]}
}

// Examined returns how many bytes the resync scanners examined, for both
// directions (a measure of resync cost).
func (c *Conn) Examined() int64 { return c.dirs[0].scan.examined + c.dirs[1].scan.examined }

// Close ends the connection: every request not answered is reported to
// Exchange. It is called by itself when both directions ended; calling it again
// does nothing.
func (c *Conn) Close() {
	if c.closed {
		return
	}
	for d := range c.dirs {
		c.dirs[d].End(tcpasm.ReasonEOF, 0)
	}
	c.closed = true
	c.drain()
}

// maxWaiting bounds the responses per direction waiting for their request.
const maxWaiting = 64

// drain reports every response still waiting for a request and every request
// never answered.
func (c *Conn) drain() {
	for d := range c.waiting {
		for _, r := range c.waiting[d] {
			c.orphan(r)
		}
		c.waiting[d] = nil
	}
	c.pair.Drain()
}

// orphan gives up pairing a response.
func (c *Conn) orphan(r *Message) {
	r.waiting = false
	if r.ended {
		c.h.Exchange(nil, r)
	} else {
		r.orphan = true
	}
}

// answer pairs a final response with a request when its header is parsed. A
// response no request is known for waits: its request may still come, late,
// when the assembler held the request direction's bytes above a hole.
func (c *Conn) answer(s *stream, m *Message) {
	if c.loss[s.dir] && m.latest > m.Time {
		m.Req, _ = c.pair.PopBetween(s.dir, m.Time, m.latest)
	} else {
		m.Req, _ = c.pair.Pop(s.dir, m.latest, c.loss[s.dir])
	}
	c.loss[s.dir] = false
	c.unpend(m.Req)
	if m.Req != nil {
		// After loss, pairing rests on capture times until the requests
		// pending run out (then the next response answers a fresh request).
		m.Uncertain = c.lost[0] || c.lost[1] || c.unsure
		c.lost = [2]bool{}
		c.unsure = m.Uncertain && c.pending()
		return
	}
	m.waiting = true
	w := append(c.waiting[s.dir], m)
	if len(w) > maxWaiting {
		c.orphan(w[0])
		w = w[1:]
	}
	c.waiting[s.dir] = w
}

// pend queues a request to await its response, first giving up the oldest
// pending ones while it would not fit within MaxPending or the budget.
func (c *Conn) pend(s *stream, m *Message) {
	m.cost = MessageCost + m.BodyStart - m.Start
	for c.pair.Len(s.dir) > 0 && (c.pendingMem+m.cost > c.maxPending || !c.budget.Fits(m.cost)) {
		c.givingUp = true
		c.pair.GiveUpOldest(s.dir)
		c.givingUp = false
	}
	c.pendingMem += m.cost
	c.budget.Charge(m.cost)
	c.pair.Push(s.dir, m, m.Time)
}

// unpend releases what a request cost while it was pending (nil, or one no
// longer pending: nothing).
func (c *Conn) unpend(m *Message) {
	if m == nil || m.cost == 0 {
		return
	}
	if c.givingUp {
		m.GivenUp = true
	}
	c.pendingMem -= m.cost
	c.budget.Charge(-m.cost)
	m.cost = 0
}

// request pairs a new request with a response waiting for it, if any:
// responses sent before the request cannot answer it nor any later one.
func (c *Conn) request(s *stream, q *Message) bool {
	w := c.waiting[s.dir^1]
	for len(w) > 0 && w[0].latest < q.Time {
		c.orphan(w[0])
		w = w[1:]
	}
	if len(w) == 0 {
		c.waiting[s.dir^1] = nil
		return false
	}
	r := w[0]
	c.waiting[s.dir^1] = w[1:]
	r.waiting = false
	r.Req = q
	r.Uncertain = c.lost[0] || c.lost[1] || c.unsure
	c.lost = [2]bool{}
	c.unsure = r.Uncertain && c.pending()
	if r.ended {
		q.resp = r // reported when the request ends
	}
	return true
}

type state uint8

const (
	sStart     state = iota // expecting a message
	sBody                   // Content-Length body
	sChunkSize              // chunk-size line
	sChunkData              // chunk data
	sChunkCRLF              // the CRLF after chunk data
	sTrailer                // trailer section
	sClose                  // body until the end of the stream
	sTunnel                 // not HTTP any more: consume everything
)

// stream is the consumer of one direction.
type stream struct {
	c     *Conn
	dir   tcpasm.Direction
	lim   limits
	scan  scanner
	st    state
	m     *Message
	left  int64        // bytes left in the body or chunk
	hscan int64        // stream offset below which the header terminator was searched
	hfrom int64        // for the message starting at this offset
	rd    bytes.Reader // reused header block readers
	br    *bufio.Reader
	ended bool
}

func (s *stream) finish(end, ts int64, complete bool) {
	m := s.m
	s.m = nil
	s.st = sStart
	if m == nil {
		return
	}
	m.End = end
	m.EndTime = ts
	m.Complete = complete && len(m.Gaps) == 0
	m.ended = true
	c := s.c
	c.h.End(m)
	if m.Request {
		if m.orphan {
			c.h.Exchange(m, nil)
			return
		}
		if m.resp != nil {
			r := m.resp
			m.resp = nil
			c.h.Exchange(m, r)
		}
		return
	}
	if m.Status >= 100 && m.Status < 200 && m.Status != 101 {
		return // interim
	}
	if m.waiting {
		return // reported once paired or given up
	}
	if m.orphan {
		c.h.Exchange(nil, m)
		return
	}
	if m.Req != nil && !m.Req.ended {
		m.Req.resp = m
		return
	}
	c.h.Exchange(m.Req, m)
}

// Data implements framing.Consumer.
func (s *stream) Data(ch *framing.Chunk) (int, bool) {
	d := ch.Data
	switch s.st {
	case sTunnel:
		return len(d), false
	case sStart:
		if s.c.tunnel {
			s.st = sTunnel
			return len(d), false
		}
		return s.header(ch)
	case sBody:
		n := int(min(s.left, int64(len(d))))
		s.body(d[:n])
		s.left -= int64(n)
		if s.left == 0 {
			s.finish(ch.Off+int64(n), ch.Time(ch.Off+int64(n)-1), true)
		}
		return n, false
	case sClose:
		s.body(d)
		return len(d), false
	case sChunkData:
		n := int(min(s.left, int64(len(d))))
		s.body(d[:n])
		s.left -= int64(n)
		if s.left == 0 {
			s.st = sChunkCRLF
		}
		return n, false
	case sChunkCRLF:
		if d[0] == '\n' {
			s.st = sChunkSize
			return 1, false
		}
		if len(d) < 2 {
			return 0, false
		}
		if d[0] != '\r' || d[1] != '\n' {
			return s.broken(ch, 0)
		}
		s.st = sChunkSize
		return 2, false
	case sChunkSize:
		lf := bytes.IndexByte(d[:min(len(d), s.lim.maxLine)], '\n')
		if lf < 0 {
			if len(d) >= s.lim.maxLine || ch.Full {
				return s.broken(ch, 0)
			}
			return 0, false
		}
		size, ok := chunkSize(trimCR(d[:lf]))
		if !ok {
			return s.broken(ch, 0)
		}
		if size == 0 {
			s.st = sTrailer
		} else {
			s.st, s.left = sChunkData, size
		}
		return lf + 1, false
	case sTrailer:
		if d[0] == '\n' || (len(d) >= 2 && d[0] == '\r' && d[1] == '\n') {
			n := 1
			if d[0] == '\r' {
				n = 2
			}
			s.finish(ch.Off+int64(n), ch.Time(ch.Off+int64(n)-1), true)
			return n, false
		}
		if len(d) < 2 {
			return 0, false
		}
		end := headerEnd(d, 0)
		if end < 0 {
			if len(d) >= s.lim.maxHeader || ch.Full {
				return s.broken(ch, 0)
			}
			return 0, false
		}
		tr, err := s.readHeader(d[:end])
		if err != nil {
			return s.broken(ch, 0)
		}
		s.m.Trailer = http.Header(tr)
		s.finish(ch.Off+int64(end), ch.Time(ch.Off+int64(end)-1), true)
		return end, false
	}
	return 0, true
}

// broken ends the current message as incomplete because its framing cannot be
// followed, and asks the framer to resync at d[n].
func (s *stream) broken(ch *framing.Chunk, n int) (int, bool) {
	s.finish(ch.Off+int64(n), ch.Time(ch.Off+int64(n)), false)
	s.c.lose(s.dir)
	return n, true
}

func (s *stream) body(p []byte) {
	if len(p) == 0 {
		return
	}
	m := s.m
	s.c.h.Body(m, m.BodyLen, p)
	m.BodyLen += int64(len(p))
}

func chunkSize(line []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(line); i++ {
		b := line[i]
		var v byte
		switch {
		case b >= '0' && b <= '9':
			v = b - '0'
		case b >= 'a' && b <= 'f':
			v = b - 'a' + 10
		case b >= 'A' && b <= 'F':
			v = b - 'A' + 10
		default:
			goto rest
		}
		if i >= 15 {
			return 0, false // would overflow int64
		}
		n = n<<4 | int64(v)
	}
rest:
	if i == 0 {
		return 0, false
	}
	for ; i < len(line); i++ {
		if line[i] == ';' {
			return n, true // extensions ignored
		}
		if line[i] != ' ' && line[i] != '\t' {
			return 0, false
		}
	}
	return n, true
}

// headerEnd returns the index one past the blank line ending the header block
// that starts at d[0], searching from index from; -1 when not there yet.
func headerEnd(d []byte, from int) int {
	for i := max(from, 0); i < len(d); {
		lf := bytes.IndexByte(d[i:], '\n')
		if lf < 0 {
			return -1
		}
		i += lf + 1
		if i < len(d) && d[i] == '\n' {
			return i + 1
		}
		if i+1 < len(d) && d[i] == '\r' && d[i+1] == '\n' {
			return i + 2
		}
	}
	return -1
}

// header parses a message's header block once it is all there.
func (s *stream) header(ch *framing.Chunk) (int, bool) {
	d := ch.Data
	// Empty lines before a message are ignored (RFC 9112 section 2.2; some
	// senders end a body with an extra CRLF).
	if n := leadingEOL(d); n > 0 {
		return n, false
	}
	if !plausiblePrefix(d) {
		s.c.lose(s.dir)
		return 0, true
	}
	if lf := bytes.IndexByte(d[:min(len(d), s.lim.maxLine+2)], '\n'); lf >= 0 {
		if _, ok := parseStartLine(trimCR(d[:lf])); !ok {
			s.c.lose(s.dir)
			return 0, true
		}
	} else if len(d) >= s.lim.maxLine+2 {
		s.c.lose(s.dir)
		return 0, true
	}
	from := 0
	if s.hfrom == ch.Off && s.hscan > ch.Off && s.hscan-ch.Off <= int64(len(d)) {
		from = int(s.hscan - ch.Off)
	}
	end := headerEnd(d[:min(len(d), s.lim.maxHeader)], max(from-2, 0))
	if end < 0 {
		s.hscan, s.hfrom = ch.Off+int64(len(d)), ch.Off
		if len(d) >= s.lim.maxHeader || ch.Full {
			s.c.lose(s.dir)
			return 0, true
		}
		return 0, false
	}
	s.hscan = 0
	lf := bytes.IndexByte(d, '\n')
	sl, _ := parseStartLine(trimCR(d[:lf]))
	var hdr http.Header
	if lf+1 < end {
		mh, err := s.readHeader(d[lf+1 : end])
		if err != nil {
			s.c.lose(s.dir)
			return 0, true
		}
		hdr = http.Header(mh)
	} else {
		hdr = http.Header{}
	}
	m := &Message{
		Request: sl.request, Dir: s.dir,
		Method: sl.method, Target: sl.target, Status: sl.status, Reason: sl.reason,
		Proto: sl.proto, Major: sl.major, Minor: sl.minor,
		Header: hdr, Start: ch.Off, BodyStart: ch.Off + int64(end),
		Time: ch.Time(ch.Off), ContentLength: -1, latest: ch.Now(),
	}
	if ch.Exact(ch.Off) {
		m.latest = m.Time
	}
	mode, length, ok := s.bodyMode(m)
	if ok && ch.AfterGap && mode == BodyClose && m.Minor == 1 && !hasToken(m.Header.Values("Connection"), "close") {
		// Found by resync (or right after loss): an HTTP/1.1 response that
		// would run to the end of the connection without saying so is more
		// likely text quoting a status line than a message.
		ok = false
	}
	if !ok {
		s.c.lose(s.dir)
		return 0, true
	}
	m.Mode = mode
	if m.Request {
		if !s.c.request(s, m) {
			s.c.pend(s, m)
		}
	} else if m.Status < 100 || m.Status >= 200 || m.Status == 101 {
		s.c.answer(s, m)
	}
	if mode == BodyLength {
		m.ContentLength = length
	}
	s.m = m
	s.c.h.Header(m)
	switch mode {
	case BodyNone, BodyTunnel:
		s.finish(m.BodyStart, ch.Time(m.BodyStart-1), true)
		if mode == BodyTunnel {
			s.st = sTunnel
			s.c.tunnel = true
		}
	case BodyLength:
		if length == 0 {
			s.finish(m.BodyStart, ch.Time(m.BodyStart-1), true)
		} else {
			s.st, s.left = sBody, length
		}
	case BodyChunked:
		s.st = sChunkSize
	case BodyClose:
		s.st = sClose
	}
	return end, false
}

// bodyMode applies RFC 9112 section 6.3. It pairs responses with requests.
func (s *stream) bodyMode(m *Message) (BodyMode, int64, bool) {
	c := s.c
	te := m.Header.Values("Transfer-Encoding")
	cl := m.Header.Values("Content-Length")
	if m.Request {
		if len(te) > 0 {
			if !lastChunked(te) {
				return 0, 0, false // 400 Bad Request: the length cannot be determined
			}
			return BodyChunked, 0, true
		}
		if len(cl) > 0 {
			n, ok := contentLength(cl)
			return BodyLength, n, ok
		}
		return BodyNone, 0, true
	}
	interim := m.Status >= 100 && m.Status < 200 && m.Status != 101
	if !interim {
		m.Req, _ = c.pair.Peek(s.dir, m.latest, c.loss[s.dir]) // taken in header once accepted
	}
	method := ""
	if m.Req != nil {
		method = m.Req.Method
	}
	switch {
	case m.Status == 101, method == "CONNECT" && m.Status >= 200 && m.Status < 300:
		return BodyTunnel, 0, true
	case method == "HEAD", m.Status < 200, m.Status == 204, m.Status == 304:
		return BodyNone, 0, true
	case len(te) > 0:
		if lastChunked(te) {
			return BodyChunked, 0, true
		}
		return BodyClose, 0, true
	case len(cl) > 0:
		n, ok := contentLength(cl)
		return BodyLength, n, ok
	}
	return BodyClose, 0, true
}

func lastChunked(te []string) bool {
	last := te[len(te)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.EqualFold(strings.TrimSpace(last), "chunked")
}

// contentLength accepts one value, or a list of identical values.
func contentLength(vals []string) (int64, bool) {
	n := int64(-1)
	for _, v := range vals {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			if f == "" || f[0] < '0' || f[0] > '9' {
				return 0, false
			}
			x, err := strconv.ParseInt(f, 10, 64)
			if err != nil || (n >= 0 && x != n) {
				return 0, false
			}
			n = x
		}
	}
	return n, n >= 0
}

// Resync implements framing.Consumer.
func (s *stream) Resync(ch *framing.Chunk) (int, bool) {
	if s.c.tunnel {
		s.st = sTunnel
		return 0, true
	}
	// Loss that led here was noted by Gap (or by the parse failure). Bytes
	// skipped at a mid-stream start may be a message answering a request
	// seen: the next answer pairs as after loss (see framing.Pairer).
	start, found := s.scan.scan(ch.Data, ch.Off)
	if start > 0 {
		s.c.loss[s.dir] = true
	}
	return start, found
}

// Gap implements framing.Consumer.
func (s *stream) Gap(off, length int64, reason tcpasm.Reason, ts int64) bool {
	resync := s.gap(off, length, ts)
	if resync {
		s.c.lose(s.dir) // messages may have been lost with the framing
	}
	return resync
}

func (s *stream) gap(off, length int64, ts int64) bool {
	m := s.m
	switch s.st {
	case sTunnel:
		return false
	case sClose:
		s.hole(off, length)
		return false
	case sBody, sChunkData:
		n := min(length, s.left)
		s.hole(off, n)
		s.left -= n
		if length > n && s.st == sChunkData {
			// The chunk's end, its CRLF and the next size line are lost.
			m.Gaps = addRange(m.Gaps, Range{off + n, length - n})
			s.finish(off+n, ts, false)
			return true
		}
		if s.left == 0 && s.st == sBody {
			s.finish(off+n, ts, false)
			return length > n // the next message starts inside the gap: lost
		}
		if s.left == 0 {
			s.st = sChunkCRLF
		}
		return false
	case sStart:
		return true
	}
	// chunk size line, chunk CRLF, trailer: the framing is lost.
	if m != nil {
		m.Gaps = addRange(m.Gaps, Range{off, length})
	}
	s.finish(off, ts, false)
	return true
}

// hole records a gap of n bytes at stream offset off inside the body.
func (s *stream) hole(off, n int64) {
	m := s.m
	if n <= 0 || m == nil {
		return
	}
	m.Gaps = addRange(m.Gaps, Range{off, n})
	m.Holes = addRange(m.Holes, Range{m.BodyLen, n})
	m.holes = append(m.holes, holeMap{stream: off, body: m.BodyLen, n: n})
	m.BodyLen += n
}

// End implements framing.Consumer.
func (s *stream) End(reason tcpasm.Reason, ts int64) {
	if s.ended {
		return
	}
	s.ended = true
	if s.m != nil {
		end := s.m.BodyStart + s.m.BodyLen // approximate for chunked bodies
		s.finish(end, ts, s.st == sClose && reason == tcpasm.ReasonFIN)
	}
	s.c.ended++
	if s.c.ended == 2 && !s.c.closed {
		s.c.closed = true
		s.c.drain()
	}
}

// hasToken reports whether a comma-separated field value list holds tok.
func hasToken(vals []string, tok string) bool {
	for _, v := range vals {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), tok) {
				return true
			}
		}
	}
	return false
}

// readHeader parses a header block (field lines and the blank line).
func (s *stream) readHeader(b []byte) (textproto.MIMEHeader, error) {
	s.rd.Reset(b)
	if s.br == nil {
		s.br = bufio.NewReaderSize(&s.rd, 1024)
	} else {
		s.br.Reset(&s.rd)
	}
	return textproto.NewReader(s.br).ReadMIMEHeader()
}

// lose notes that direction d lost bytes (or a message).
func (c *Conn) lose(d tcpasm.Direction) {
	c.loss[d&1] = true
	c.lost[d&1] = true
}

// pending reports whether requests or responses wait for their other half.
func (c *Conn) pending() bool {
	return c.pair.Len(0) > 0 || c.pair.Len(1) > 0 || len(c.waiting[0]) > 0 || len(c.waiting[1]) > 0
}

// Late implements framing.LateConsumer: late bytes fill holes of the message
// in progress (bytes for messages already ended are dropped: they were
// reported).
func (s *stream) Late(off int64, data []byte, ts int64) {
	m := s.m
	if m == nil || len(m.holes) == 0 {
		return
	}
	f, _ := s.c.h.(Filler)
	end := off + int64(len(data))
	for i := 0; i < len(m.holes); i++ {
		h := m.holes[i]
		lo, hi := max(off, h.stream), min(end, h.stream+h.n)
		if lo >= hi {
			continue
		}
		bodyOff := h.body + (lo - h.stream)
		if f != nil {
			f.Fill(m, bodyOff, data[lo-off:hi-off])
		}
		m.Gaps = cutRange(m.Gaps, lo, hi-lo)
		m.Holes = cutRange(m.Holes, bodyOff, hi-lo)
		// Keep the unfilled parts of this hole.
		var rest []holeMap
		if lo > h.stream {
			rest = append(rest, holeMap{h.stream, h.body, lo - h.stream})
		}
		if hi < h.stream+h.n {
			rest = append(rest, holeMap{hi, h.body + (hi - h.stream), h.stream + h.n - hi})
		}
		m.holes = append(m.holes[:i], append(rest, m.holes[i+1:]...)...)
		i += len(rest) - 1
	}
}

// leadingEOL counts the CR and LF bytes d starts with.
func leadingEOL(d []byte) int {
	n := 0
	for n < len(d) && (d[n] == '\r' || d[n] == '\n') {
		n++
	}
	return n
}

// addRange appends r to rs, joined to the last range when it continues it:
// adjacent holes (the assembler may declare one hole in two steps) are one.
func addRange(rs []Range, r Range) []Range {
	if k := len(rs); k > 0 && rs[k-1].Off+rs[k-1].Len == r.Off {
		rs[k-1].Len += r.Len
		return rs
	}
	return append(rs, r)
}
