package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reseq/reseq/http1"
	"github.com/reseq/reseq/tcpasm"
	"github.com/reseq/reseq/tcpasm/framing"
)

const httpUsage = `usage: reseq http -o DIR [options] CAPTURE...

Reassembles every TCP connection and parses HTTP/1.0 and HTTP/1.1 in both
directions, recognised by content (any port): pipelining and keep-alive,
bodies by Content-Length, chunked (de-chunked) or connection close. Each body
goes to a file under DIR/bodies/ holding the body bytes as carried on the wire
after de-chunking; bytes the capture missed are zeros (holes) at their
offsets. With --decode, bodies with a Content-Encoding (gzip, deflate, br,
zstd) are also written decoded, to a separate file: each at most --max-body
bytes, all of them together at most --max-decoded-total bytes (decompression
bombs); a decoded copy cut short, or not written for the total, is marked
decoded_cut in its record.

DIR/http.jsonl has one object per exchange, in the order the exchanges ended
(README "Output fields"): index (the connection's number, as in 'reseq
flows'), conn (its index on a reused tuple), src (client) and dst (server) as
ip:port, method, host, target, status, content_type,
request_body / response_body (paths relative to DIR, absent when the body is
empty), request_sha256 / response_sha256 (of the body files' bytes),
request_time / response_time (first byte, RFC 3339 UTC, 9 fractional
digits), complete (false when
either message is missing, capture loss touched it, or the pairing was decided
after loss: then paired_after_loss is true) and gaps
([{direction, offset, length}] in that direction's stream offsets). Requests
without a response and responses without a request are listed too. Interim
1xx responses are not listed; a 101 response or a 2xx answer to CONNECT ends
HTTP parsing of its connection.

A gap inside a body marks the exchange incomplete and never splices bytes of
the next message into the body; parsing resumes at the next message start
(found by scanning for a request or status line followed by a header block).
A gap inside a header block drops that message only.

Exit status: 0 success, 1 input or output error (everything read before it
was written and indexed), 2 usage. A non-empty DIR is refused unless --force.

Options:
`

func runHTTP(in *invocation) int {
	fs, stderr := in.flags, in.stderr
	var (
		dir     string
		force   bool
		decode  bool
		quiet   bool
		maxHeld int64 = framing.DefaultMaxHeld
		maxBody int64 = 1 << 30
		maxDec  int64 = 1 << 30
		reorder time.Duration
	)
	fs.StringVar(&dir, "o", "", "output `DIR` (created if needed)")
	fs.BoolVar(&force, "force", false, "write into a non-empty DIR: first remove the files a previous run listed in DIR's flows.jsonl and http.jsonl (and those indexes and conflicts.jsonl), nothing else")
	fs.BoolVar(&decode, "decode", false, "also write content-decoded copies of encoded bodies (gzip, deflate, br, zstd)")
	fs.BoolVar(&quiet, "quiet", false, "no summary line")
	fs.BoolVar(&quiet, "q", false, "short for --quiet")
	fs.DurationVar(&reorder, "reorder-window", httpReorderWindow, "capture time a hole the peer acknowledged may wait for reordered data before it is a gap (`DURATION`; bytes arriving later fill only body holes of messages still in progress)")
	fs.Var(sizeFlag{&maxBody}, "max-body", "write at most the first `SIZE` bytes of each body (the sha256 is of what is written; the record says body_cut; 0: no limit)")
	fs.Var(sizeFlag{&maxDec}, "max-decoded-total", "with --decode, write at most `SIZE` bytes of decoded bodies in all (each is also cut at --max-body; the record says decoded_cut; 0: no limit)")
	fs.Var(sizeFlag{&maxHeld}, "max-header-held", "bytes held per direction while a header block is incomplete or a message start is sought (`SIZE`)")
	pf := addPipelineFlags(fs)
	inputs, ok := in.parse()
	if !ok {
		return in.code
	}
	if dir == "" {
		fmt.Fprintln(stderr, "reseq http: -o DIR is required")
		return exitUsage
	}
	p, err := pf.pipeline(in.env, inputs)
	if err != nil {
		fmt.Fprintln(stderr, "reseq http:", err)
		return exitUsage
	}
	p.Warn = warner(stderr, "reseq http")
	p.Config.ConnOverhead = httpConnOverhead
	// Message framing cannot take back a gap: when late data would fill it,
	// the message is already incomplete. Give reordered segments longer than
	// the assembler's default before declaring a hole the peer acknowledged
	// (the wait also ends when ReorderBytes are held above the hole). Longer
	// waits delay the data after real loss, which makes pairing less certain.
	p.Config.ReorderWindow = int64(reorder)
	if reorder <= 0 {
		p.Config.ReorderWindow = -1
	}
	if err := checkOutputDir(dir, force); err != nil {
		fmt.Fprintln(stderr, "reseq http:", err)
		return exitInput
	}
	if force {
		// What the previous run listed goes, so that the new index lists
		// every file of its kind in DIR.
		if _, err := removePrevious(dir); err != nil {
			fmt.Fprintln(stderr, "reseq http: --force: removing the previous run's files:", err)
			return exitInput
		}
	}
	hx, err := newHTTPExtractor(dir, decode, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "reseq http:", err)
		return exitInput
	}
	hx.maxBody = limit(maxBody)
	hx.decodeLeft = limit(maxDec)
	hx.cidSeed = p.CommunityIDSeed
	// HTTP parser state has its share of --max-memory (see httpMemory).
	hx.budget = &framing.Budget{Max: pf.takeShare(p)}
	h := framing.NewHandler(framing.Config{MaxHeld: int(min(limit(maxHeld), math.MaxInt)), Budget: hx.budget}, hx.open)
	p.Abort = func() error { return hx.err }
	intr := in.signals().catchInterrupts(inputs)
	defer intr.stop()
	p.Interrupt = intr
	st, inErr := p.Run(h)
	outErr := hx.finish()
	if n := hx.budget.Refused(); n > 0 {
		p.Warn(fmt.Sprintf("HTTP parser state reached its share of --max-memory (%d bytes) %s: held header bytes or pending requests were given up (records say %q)", hx.budget.Max, plural(n, "time"), givenUp))
	}
	if !quiet {
		fmt.Fprintf(stderr, "reseq http: %s (%d TCP), %s, %s (%d complete), %s, %s, %s (%s)\n",
			plural(st.Packets, "packet"), st.TCP, plural(hx.tot.conns, "connection"), plural(hx.tot.exchanges, "exchange"), hx.tot.complete,
			plural(hx.tot.requests, "request"), plural(hx.tot.responses, "response"), plural(hx.tot.bodies, "body"), plural(hx.tot.bodyBytes, "byte"))
	}
	code := exitOK
	if inErr != nil && !errors.Is(inErr, outErr) {
		fmt.Fprintln(stderr, "reseq http:", inErr)
		code = exitInput
	}
	if outErr != nil {
		fmt.Fprintln(stderr, "reseq http: writing output:", outErr)
		code = exitInput
	} else if errors.Is(inErr, errInterrupted) {
		code = exitInterrupted
	}
	return code
}

// httpReorderWindow is the assembler's default ReorderWindow for 'reseq http'
// (measured on perturb.py variants of the real keep-alive capture: 5 ms lost
// exchanges to reordering, 2 s lost more to the delay it adds after loss).
const httpReorderWindow = 50 * time.Millisecond

// httpTotals count what was extracted.
type httpTotals struct {
	conns, exchanges, complete, requests, responses, bodies, bodyBytes int64
}

// httpExtractor writes bodies and http.jsonl.
type httpExtractor struct {
	dir     string
	decode  bool
	warn    io.Writer
	index   *os.File
	w       *bufio.Writer
	enc     *json.Encoder
	err     error // first output error
	tot     httpTotals
	maxBody int64 // bytes of a body written at most
	// decodeLeft is how many more decoded bytes may be written in all.
	decodeLeft int64
	cidSeed    uint16 // Community ID seed
	// budget bounds the HTTP parser state of all connections together (see
	// httpMemory).
	budget *framing.Budget
}

// httpMemory: what 'reseq http' keeps per connection beyond the assembler's
// state grows with the input, so it is charged to one framing.Budget, an
// eighth of --max-memory taken from the assembler's part (pipelineFlags.takeShare):
//
//   - the framers' buffers: a header block or a message start being sought,
//     at most --max-header-held per direction;
//   - the requests awaiting their response: their header blocks plus
//     http1.MessageCost each, at most http1.DefaultMaxPending (1 MiB) per
//     connection;
//   - bodies of up to smallBody (16 KiB) kept in memory until their end, one
//     per message in progress.
//
// So one connection holds at most 2 x --max-header-held + 1 MiB + 32 KiB of
// it, and all together at most the budget: over it, a framer gives up the
// bytes it would hold (the header block is lost, the direction resynchronises),
// the oldest pending request is given up as unanswered (its record says
// givenUp), and a small body goes to its file at once instead of memory.

func newHTTPExtractor(dir string, decode bool, warn io.Writer) (*httpExtractor, error) {
	if err := outputSubdir(filepath.Join(dir, "bodies"), true); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	f, err := createOutput(filepath.Join(dir, "http.jsonl"))
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	return &httpExtractor{dir: dir, decode: decode, warn: warn, index: f, w: w, enc: json.NewEncoder(w)}, nil
}

func (x *httpExtractor) fail(err error) {
	if err != nil && x.err == nil {
		x.err = err
	}
}

func (x *httpExtractor) finish() error {
	x.fail(x.w.Flush())
	x.fail(x.index.Close())
	return x.err
}

// open is the framing.Factory: one http1.Conn per TCP connection.
func (x *httpExtractor) open(c *tcpasm.Conn) [2]framing.Consumer {
	x.tot.conns++
	hc := &httpConn{x: x, c: c}
	hc.p = http1.NewConn(hc, http1.Config{Budget: x.budget})
	cs := hc.p.Consumers()
	for d := range cs {
		cs[d] = &lossWatch{Consumer: cs[d], n: &hc.lost[d]}
	}
	return cs
}

// lossWatch passes a direction's stream to the HTTP parser and counts its
// gaps, so that an exchange without its request or response can say whether
// capture loss in that direction took its header block.
type lossWatch struct {
	framing.Consumer
	n *int64
}

func (w *lossWatch) Gap(off, length int64, reason tcpasm.Reason, ts int64) bool {
	*w.n++
	return w.Consumer.Gap(off, length, reason, ts)
}

func (w *lossWatch) Late(off int64, data []byte, ts int64) {
	if l, ok := w.Consumer.(framing.LateConsumer); ok {
		l.Late(off, data, ts)
	}
}

// httpConn is the http1.Handler of one connection.
type httpConn struct {
	x    *httpExtractor
	c    *tcpasm.Conn
	p    *http1.Conn
	n    int      // messages seen, for body file names
	lost [2]int64 // gaps seen per direction so far
	body map[*http1.Message]*bodyFile
}

// bodyFile is a body being written. Bodies up to smallBody bytes are kept in
// memory and written whole at their end (one file creation, no per-segment
// writes, no file held open); longer ones go to their file as they come.
type bodyFile struct {
	name string // relative to DIR
	f    *os.File
	buf  []byte // the body so far while it is small (holes as zeros)
	h    hash.Hash
	n    int64 // bytes hashed (holes as zeros)
	sum  string
	size int64 // bytes in the file
	cut  bool  // the body was longer than --max-body
	late bool  // late bytes filled holes: hash the body at the end
	// charged is what buf's capacity was charged to the budget.
	charged int64
}

// charge charges the change of b's buffer capacity to the budget.
func (x *httpExtractor) charge(b *bodyFile) {
	c := int64(cap(b.buf))
	x.budget.Charge(c - b.charged)
	b.charged = c
}

// smallBody is the most a body buffers in memory before it gets its file.
const smallBody = 16 << 10

var zeros [32 << 10]byte

func (b *bodyFile) hashTo(off int64) {
	for b.n < off {
		k := min(off-b.n, int64(len(zeros)))
		b.h.Write(zeros[:k])
		b.n += k
	}
}

func (hc *httpConn) Header(m *http1.Message) {
	hc.n++
	if m.Request {
		hc.x.tot.requests++
	} else {
		hc.x.tot.responses++
	}
	if hc.body == nil {
		hc.body = map[*http1.Message]*bodyFile{}
	}
	kind := "response"
	if m.Request {
		kind = "request"
	}
	target := m.Target
	if !m.Request && m.Req != nil {
		target = m.Req.Target
	}
	hc.body[m] = &bodyFile{
		name: fmt.Sprintf("bodies/%06d-%04d-%s-%s", hc.c.Seq, hc.n, kind, bodyBaseName(target, m.Header.Get("Content-Type"))),
		h:    sha256.New(),
	}
}

// bodyBaseName names a body file after its URL, as a browser or tshark's
// export would: the last path segment ("index" for a directory), reduced to
// letters, digits, '.', '_' and '-' (at most 64 bytes), with an extension
// from the path, else from the Content-Type, else ".bin".
func bodyBaseName(target, contentType string) string {
	p := target
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if i := strings.Index(p, "://"); i >= 0 { // absolute form (proxies)
		p = p[i+3:]
		if j := strings.IndexByte(p, '/'); j >= 0 {
			p = p[j:]
		} else {
			p = "/"
		}
	}
	base := p[strings.LastIndexByte(p, '/')+1:]
	if u, err := url.PathUnescape(base); err == nil {
		base = u
	}
	b := make([]byte, 0, len(base))
	for i := 0; i < len(base) && len(b) < 64; i++ {
		c := base[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
			b = append(b, c)
		default:
			b = append(b, '_')
		}
	}
	name := strings.Trim(string(b), ".")
	if name == "" {
		name = "index"
	}
	if dot := strings.LastIndexByte(name, '.'); dot > 0 && dot < len(name)-1 {
		return name
	}
	return name + extFor(contentType)
}

// extFor is the file extension of a media type, ".bin" when unknown.
func extFor(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case "text/html":
		return ".html"
	case "text/plain":
		return ".txt"
	case "text/css":
		return ".css"
	case "text/javascript", "application/javascript", "application/x-javascript":
		return ".js"
	case "application/json":
		return ".json"
	case "text/xml", "application/xml":
		return ".xml"
	case "image/jpeg", "image/jpg", "image/pjpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "image/svg+xml":
		return ".svg"
	case "image/x-icon", "image/vnd.microsoft.icon":
		return ".ico"
	case "application/pdf":
		return ".pdf"
	case "application/zip":
		return ".zip"
	case "application/gzip", "application/x-gzip":
		return ".gz"
	case "application/x-www-form-urlencoded":
		return ".form"
	}
	return ".bin"
}

// write puts data at body offset off: in the buffer while the body is small,
// else in its file (created, and the buffer flushed, on the way).
func (hc *httpConn) write(b *bodyFile, off int64, data []byte) {
	end := off + int64(len(data))
	if b.f == nil && end <= smallBody && (end <= int64(cap(b.buf)) || hc.x.budget.Fits(end-int64(cap(b.buf)))) {
		if int64(len(b.buf)) < end {
			b.buf = append(b.buf, make([]byte, end-int64(len(b.buf)))...)
		}
		copy(b.buf[off:], data)
		hc.x.charge(b)
		return
	}
	if b.f == nil {
		f, err := createOutput(filepath.Join(hc.x.dir, filepath.FromSlash(b.name)))
		if err != nil {
			hc.x.fail(err)
			return
		}
		b.f = f
		if len(b.buf) > 0 {
			_, err := f.WriteAt(b.buf, 0)
			hc.x.fail(err)
		}
		b.buf = nil
		hc.x.charge(b)
	}
	_, err := b.f.WriteAt(data, off)
	hc.x.fail(err)
}

func (hc *httpConn) Body(m *http1.Message, off int64, data []byte) {
	b := hc.body[m]
	if b == nil || hc.x.err != nil {
		return
	}
	if off >= hc.x.maxBody {
		b.cut = true
		return
	}
	if int64(len(data)) > hc.x.maxBody-off {
		data = data[:hc.x.maxBody-off]
		b.cut = true
	}
	b.hashTo(off)
	b.h.Write(data)
	b.n += int64(len(data))
	hc.write(b, off, data)
	hc.x.tot.bodyBytes += int64(len(data))
}

// Fill writes late bytes into a body hole (http1.Filler).
func (hc *httpConn) Fill(m *http1.Message, off int64, data []byte) {
	b := hc.body[m]
	if b == nil || hc.x.err != nil || off >= hc.x.maxBody {
		return
	}
	data = data[:min(int64(len(data)), hc.x.maxBody-off)]
	hc.write(b, off, data)
	b.late = true
	hc.x.tot.bodyBytes += int64(len(data))
}

func (hc *httpConn) End(m *http1.Message) {
	b := hc.body[m]
	if b == nil {
		return
	}
	size := m.BodyLen
	if size > hc.x.maxBody {
		size, b.cut = hc.x.maxBody, true
	}
	b.size = size
	b.hashTo(size)
	b.sum = hex.EncodeToString(b.h.Sum(nil))
	switch {
	case size == 0:
		b.name = ""
	case b.f == nil && size <= smallBody:
		if int64(len(b.buf)) < size { // trailing hole
			b.buf = append(b.buf, make([]byte, size-int64(len(b.buf)))...)
		}
		b.buf = b.buf[:size]
		if b.late {
			sum := sha256.Sum256(b.buf)
			b.sum = hex.EncodeToString(sum[:])
		}
		hc.x.fail(writeOutput(filepath.Join(hc.x.dir, filepath.FromSlash(b.name)), b.buf))
		hc.x.tot.bodies++
	default:
		if b.f == nil { // a long body made of holes only
			hc.write(b, 0, nil)
		}
		if b.f == nil {
			break // the error is recorded
		}
		hc.x.tot.bodies++
		hc.x.fail(b.f.Truncate(size))
		if b.late {
			// Late bytes went in out of order: hash what the file holds.
			h := sha256.New()
			_, err := io.Copy(h, io.NewSectionReader(b.f, 0, size))
			hc.x.fail(err)
			b.sum = hex.EncodeToString(h.Sum(nil))
		}
		hc.x.fail(b.f.Close())
		b.f = nil
	}
	b.buf = nil
	hc.x.charge(b)
	if !m.Request && m.Status >= 100 && m.Status < 200 && m.Status != 101 {
		delete(hc.body, m) // interim: not listed
	}
}

// httpGap is one entry of an exchange's gaps.
type httpGap struct {
	Direction string `json:"direction"`
	Offset    int64  `json:"offset"`
	Length    int64  `json:"length"`
}

// httpRecord is one line of http.jsonl.
type httpRecord struct {
	Src             string    `json:"src"`
	Dst             string    `json:"dst"`
	CommunityID     string    `json:"community_id"`
	Index           int64     `json:"index"` // the connection's number, as in 'reseq flows'
	Conn            int       `json:"conn"`
	Method          string    `json:"method,omitempty"`
	Host            string    `json:"host,omitempty"`
	Target          string    `json:"target,omitempty"`
	Status          int       `json:"status,omitempty"`
	ContentType     string    `json:"content_type,omitempty"`
	RequestBody     string    `json:"request_body,omitempty"`
	ResponseBody    string    `json:"response_body,omitempty"`
	RequestSHA256   string    `json:"request_sha256,omitempty"`
	ResponseSHA256  string    `json:"response_sha256,omitempty"`
	RequestLength   *int64    `json:"request_length,omitempty"`
	ResponseLength  *int64    `json:"response_length,omitempty"`
	RequestTime     string    `json:"request_time,omitempty"`
	ResponseTime    string    `json:"response_time,omitempty"`
	ContentEncoding string    `json:"content_encoding,omitempty"`
	RequestDecoded  string    `json:"request_decoded,omitempty"`
	ResponseDecoded string    `json:"response_decoded,omitempty"`
	DecodeError     string    `json:"decode_error,omitempty"`
	DecodedCut      bool      `json:"decoded_cut,omitempty"`
	PairedAfterLoss bool      `json:"paired_after_loss,omitempty"`
	BodyCut         bool      `json:"body_cut,omitempty"`
	Complete        bool      `json:"complete"`
	Incomplete      string    `json:"incomplete,omitempty"` // why not complete
	Gaps            []httpGap `json:"gaps"`
}

func (hc *httpConn) Exchange(req, resp *http1.Message) {
	x := hc.x
	x.tot.exchanges++
	r := httpRecord{Index: hc.c.Seq, Conn: hc.c.Index, Gaps: []httpGap{}}
	// The client is the sender of the requests; without a request, the
	// receiver of the response.
	client := tcpasm.ClientToServer
	switch {
	case req != nil:
		client = req.Dir
	case resp != nil:
		client = resp.Dir ^ 1
	}
	k := hc.c.Key
	if client == tcpasm.ServerToClient {
		k = k.Reverse()
	}
	r.Src, r.Dst = k.SrcAddr().String(), k.DstAddr().String()
	r.CommunityID = communityID(x.cidSeed, &k)
	r.Complete = req != nil && resp != nil
	for _, m := range []*http1.Message{req, resp} {
		if m == nil {
			continue
		}
		r.Complete = r.Complete && m.Complete
		dir := "response"
		if m.Request {
			dir = "request"
		}
		for _, g := range m.Gaps {
			r.Gaps = append(r.Gaps, httpGap{dir, g.Off, g.Len})
		}
	}
	if req != nil {
		r.Method, r.Target, r.Host = req.Method, req.Target, req.Header.Get("Host")
		r.RequestTime = fmtTime(req.Time)
		r.ContentType = req.Header.Get("Content-Type")
		n := req.BodyLen
		r.RequestLength = &n
		if b := hc.body[req]; b != nil {
			r.RequestBody, r.RequestSHA256 = b.name, b.sum
			r.BodyCut = r.BodyCut || b.cut
			if x.decode && b.name != "" {
				r.RequestDecoded, r.DecodeError, r.DecodedCut = hc.decodeBody(req, b)
			}
			delete(hc.body, req)
		}
	}
	if resp != nil {
		r.Status = resp.Status
		r.ResponseTime = fmtTime(resp.Time)
		if ct := resp.Header.Get("Content-Type"); ct != "" {
			r.ContentType = ct
		}
		r.ContentEncoding = resp.Header.Get("Content-Encoding")
		n := resp.BodyLen
		r.ResponseLength = &n
		if b := hc.body[resp]; b != nil {
			r.ResponseBody, r.ResponseSHA256 = b.name, b.sum
			r.BodyCut = r.BodyCut || b.cut
			if x.decode && b.name != "" {
				var e string
				var cut bool
				r.ResponseDecoded, e, cut = hc.decodeBody(resp, b)
				if e != "" {
					r.DecodeError = e
				}
				r.DecodedCut = r.DecodedCut || cut
			}
			delete(hc.body, resp)
		}
	}
	if resp != nil && resp.Uncertain {
		// Capture loss in either direction before this pairing: the request
		// or response it rests on may have been lost, so it is not certain.
		r.PairedAfterLoss = true
		r.Complete = false
	}
	if r.Complete {
		x.tot.complete++
	} else {
		r.Incomplete = hc.whyIncomplete(req, resp, client)
	}
	if x.err == nil {
		x.fail(x.enc.Encode(&r))
	}
}

// whyIncomplete says why an exchange is not complete: each of the
// following that applies, joined by "; ": "request lost" / "response lost"
// (the message is missing and its direction had capture loss, which took
// its header block), "no request" / "no response" (missing without loss:
// never sent, or before the capture began or after it ended), "request body
// gap" / "response body gap", "request header gap" / "response header gap"
// (loss inside the message outside its body), "request cut" / "response cut"
// (the stream ended before the message did), "paired after loss".
// givenUp is the reason of a request given up as unanswered to keep the
// requests pending within their memory bound (see httpMemory).
const givenUp = "given up: pending requests over the memory budget"

func (hc *httpConn) whyIncomplete(req, resp *http1.Message, client tcpasm.Direction) string {
	var why []string
	for _, x := range []struct {
		m    *http1.Message
		name string
		dir  tcpasm.Direction
	}{{req, "request", client}, {resp, "response", client ^ 1}} {
		m := x.m
		switch {
		case m == nil && hc.lost[x.dir] > 0:
			why = append(why, x.name+" lost")
		case m == nil:
			why = append(why, "no "+x.name)
		case m.Complete:
		case len(m.Holes) > 0:
			why = append(why, x.name+" body gap")
		case len(m.Gaps) > 0:
			why = append(why, x.name+" header gap")
		default:
			why = append(why, x.name+" cut")
		}
	}
	if resp != nil && resp.Uncertain {
		why = append(why, "paired after loss")
	}
	if req != nil && req.GivenUp {
		why = append(why, givenUp)
	}
	return strings.Join(why, "; ")
}

// decodeBody writes the content-decoded copy of a complete body and returns
// its name, or an error text, and whether the copy was cut short (at
// --max-body, or at what --max-decoded-total leaves: then, when nothing is
// left, no copy is written).
func (hc *httpConn) decodeBody(m *http1.Message, b *bodyFile) (string, string, bool) {
	ce := m.Header.Get("Content-Encoding")
	if ce == "" {
		return "", "", false
	}
	if !m.Complete {
		return "", "body incomplete: not decoded", false
	}
	x := hc.x
	if x.decodeLeft <= 0 {
		return "", "not decoded: --max-decoded-total reached", true
	}
	dir := x.dir
	in, err := os.Open(filepath.Join(dir, filepath.FromSlash(b.name)))
	if err != nil {
		x.fail(err)
		return "", "", false
	}
	defer in.Close()
	r, closeDec, err := http1.Decode(ce, in)
	if err != nil {
		return "", err.Error(), false
	}
	defer closeDec()
	name := b.name + ".decoded"
	out, err := createOutput(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		x.fail(err)
		return "", "", false
	}
	// Bound the decoded size (decompression bombs): each copy by
	// --max-body, all of them by --max-decoded-total.
	limit := min(x.maxBody, x.decodeLeft)
	n, err := io.Copy(out, io.LimitReader(r, limit))
	x.decodeLeft -= n
	x.fail(out.Close())
	cut := false
	if err == nil && n == limit {
		// Is there more? One byte tells, without writing it.
		var one [1]byte
		k, _ := io.ReadFull(r, one[:])
		cut = k > 0
	}
	if err != nil {
		return name, err.Error(), cut
	}
	return name, "", cut
}
