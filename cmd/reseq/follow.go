package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"

	"github.com/reseq/reseq/tcpasm"
)

const followUsage = `usage: reseq follow [options] CAPTURE... SELECTOR

Prints one connection. SELECTOR is its number as listed by 'reseq flows' (run
with the same --capture-point and filter options), or ADDR:PORT-ADDR:PORT in
either order (IPv6 in brackets: [fd77::1]:5001-[fd77::2]:80; --conn N picks
the N-th connection on a reused tuple).

By default both directions are shown interleaved in capture order, each block
headed by its direction, offset and length; bytes other than printable ASCII,
tab and newline (CR too) show as '.'; with --hex, each block is a hexdump
like tshark's -z follow,tcp,hex: the direction's stream offset, 16 bytes in
hex, the same as text (server-to-client lines indented by a tab). Gaps, late bytes, conflicts and the close are
annotated on lines "--- [...]" with offset and length.

--write FILE (-w) also writes the connection's packets as pcapng (like
tshark -w): the frames between its endpoints from its first to its last
packet, each input interface's link type kept, so the conversation opens
alone in Wireshark.

--raw --dir c2s|s2c writes the exact bytes of one direction: offset-preserving
(gap bytes are zero, late bytes in place), so the output equals the file
'reseq extract' writes for that stream. Gaps are listed on stderr.

Options:
`

// selector names the connection to follow.
type selector struct {
	index  int64 // -1: by address
	a, b   netip.AddrPort
	connIx int
}

func parseSelector(s string, connIx int) (selector, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return selector{index: n}, nil
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			continue
		}
		a, errA := netip.ParseAddrPort(s[:i])
		b, errB := netip.ParseAddrPort(s[i+1:])
		if errA == nil && errB == nil {
			return selector{index: -1, a: unmapAP(a), b: unmapAP(b), connIx: connIx}, nil
		}
	}
	return selector{}, fmt.Errorf("bad selector %q: want a connection number or ADDR:PORT-ADDR:PORT", s)
}

func unmapAP(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

func (sel *selector) match(c *tcpasm.Conn) bool {
	if sel.index >= 0 {
		return c.Seq == sel.index
	}
	if c.Index != sel.connIx {
		return false
	}
	src, dst := c.Key.SrcAddr(), c.Key.DstAddr()
	return (src == sel.a && dst == sel.b) || (src == sel.b && dst == sel.a)
}

// follower implements tcpasm.Handler for 'reseq follow'.
type follower struct {
	sel    selector
	conn   *tcpasm.Conn
	dirs   [2]bool // directions shown
	raw    bool
	hex    bool          // --hex
	w      *bufio.Writer // the readable view
	note   io.Writer     // gap notes in raw mode
	tmp    *os.File      // raw mode: the offset-preserving copy
	err    error
	curDir int   // direction of the open block, -1 none
	curEnd int64 // offset after the open block
	extent int64
	closed int
	lastNL bool // the view's last byte was a newline
}

func (f *follower) fail(err error) {
	if err != nil && f.err == nil {
		f.err = err
	}
}

func (f *follower) mine(s *tcpasm.Stream) bool {
	return f.conn != nil && s.Conn == f.conn && f.dirs[s.Dir]
}

func (f *follower) Open(c *tcpasm.Conn) {
	if f.conn == nil && f.sel.match(c) {
		f.conn = c
	}
}

func (f *follower) endpoints(s *tcpasm.Stream) string {
	k := s.Conn.Key
	if s.Dir == tcpasm.ServerToClient {
		k = k.Reverse()
	}
	return k.SrcAddr().String() + " -> " + k.DstAddr().String()
}

func (f *follower) Data(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	if !f.mine(s) {
		return
	}
	if f.raw {
		_, err := f.tmp.WriteAt(data, off)
		f.fail(err)
		return
	}
	if f.curDir != int(s.Dir) || f.curEnd != off {
		f.endBlock()
		arrow := "==>"
		if s.Dir == tcpasm.ServerToClient {
			arrow = "<=="
		}
		fmt.Fprintf(f.w, "%s %s %s offset %d\n", arrow, dirName(s.Dir), f.endpoints(s), off)
		f.curDir = int(s.Dir)
	}
	f.curEnd = off + int64(len(data))
	f.printable(data, s.Dir, off)
}

// printable writes data with bytes other than printable ASCII, tab and newline
// (CR too) as '.'; with --hex, as a hexdump from stream offset off.
func (f *follower) printable(data []byte, dir tcpasm.Direction, off int64) {
	if f.hex {
		f.hexdump(data, dir, off)
		return
	}
	var buf [512]byte
	n := 0
	for _, c := range data {
		switch {
		case c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f):
		default:
			c = '.'
		}
		buf[n] = c
		n++
		if n == len(buf) {
			f.w.Write(buf[:n])
			n = 0
		}
	}
	f.w.Write(buf[:n])
	f.lastNL = len(data) > 0 && data[len(data)-1] == '\n'
}

// hexdump writes data as tshark's follow,tcp,hex does: offset, 16 bytes in
// two groups of 8, their text; server-to-client lines indented by a tab.
func (f *follower) hexdump(data []byte, dir tcpasm.Direction, off int64) {
	const hx = "0123456789abcdef"
	line := make([]byte, 0, 96)
	for len(data) > 0 {
		k := min(16, len(data))
		line = line[:0]
		if dir == tcpasm.ServerToClient {
			line = append(line, '\t')
		}
		line = fmt.Appendf(line, "%08x  ", off)
		for i := 0; i < 16; i++ {
			if i < k {
				line = append(line, hx[data[i]>>4], hx[data[i]&15], ' ')
			} else {
				line = append(line, "   "...)
			}
			if i == 7 {
				line = append(line, ' ')
			}
		}
		line = append(line, ' ')
		for _, c := range data[:k] {
			if c < 0x20 || c >= 0x7f {
				c = '.'
			}
			line = append(line, c)
		}
		line = append(line, '\n')
		f.w.Write(line)
		data, off = data[k:], off+int64(k)
	}
	f.lastNL = true
}

func (f *follower) endBlock() {
	if f.curDir >= 0 && !f.lastNL {
		f.w.WriteByte('\n')
	}
	f.curDir = -1
	f.lastNL = true
}

func (f *follower) annotate(s *tcpasm.Stream, format string, args ...any) {
	if f.raw {
		fmt.Fprintf(f.note, "reseq follow: %s "+format+"\n", append([]any{dirName(s.Dir)}, args...)...)
		return
	}
	f.endBlock()
	fmt.Fprintf(f.w, "--- [%s "+format+"]\n", append([]any{dirName(s.Dir)}, args...)...)
}

func (f *follower) Gap(s *tcpasm.Stream, off, n int64, r tcpasm.Reason, ts int64) {
	if !f.mine(s) {
		return
	}
	if r == tcpasm.ReasonFiltered {
		f.annotate(s, "gap at offset %d, %d bytes captured but left out by the filter (%s)", off, n, r)
		return
	}
	f.annotate(s, "gap at offset %d, %d bytes not captured (%s)", off, n, r)
}

func (f *follower) Late(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	if !f.mine(s) {
		return
	}
	if f.raw {
		_, err := f.tmp.WriteAt(data, off)
		f.fail(err)
		f.annotate(s, "late bytes at offset %d, %d bytes (written in place)", off, len(data))
		return
	}
	f.annotate(s, "late bytes at offset %d, %d bytes, inside an earlier gap:", off, len(data))
	f.printable(data, s.Dir, off)
	f.endBlock()
}

func (f *follower) Conflict(s *tcpasm.Stream, c tcpasm.Conflict, ts int64) {
	if f.mine(s) {
		f.annotate(s, "conflict at offset %d, %d bytes: frame %d kept, frame %d differs", c.Offset, c.Length, frameNumber(c.KeptIndex), frameNumber(c.DroppedIndex))
	}
}

func (f *follower) Close(s *tcpasm.Stream, r tcpasm.Reason, ts int64) {
	if !f.mine(s) {
		return
	}
	f.closed++
	if f.raw {
		f.extent = s.Extent
		f.fail(f.tmp.Truncate(s.Extent))
		return
	}
	f.annotate(s, "%s closed (%s): length %d, %d packets", f.endpoints(s), r, s.Extent, s.Stats.Packets)
}

func runFollow(in *invocation) int {
	fs, stdout, stderr := in.flags, in.stdout, in.stderr
	dir := fs.String("dir", "both", "direction: `c2s`, s2c or both")
	raw := fs.Bool("raw", false, "exact bytes of one direction (needs --dir c2s or s2c)")
	var writeTo string
	fs.StringVar(&writeTo, "write", "", "also write the connection's packets to `FILE` (pcapng; opens alone in Wireshark)")
	fs.StringVar(&writeTo, "w", "", "short for --write")
	hexOut := fs.Bool("hex", false, "show the bytes as a hexdump (like tshark -z follow,tcp,hex)")
	connIx := fs.Int("conn", 0, "with an address selector: the `N`-th connection on the tuple")
	pf := addPipelineFlags(fs)
	pos, ok := in.parse()
	if !ok {
		return in.code
	}
	sel, err := parseSelector(pos[len(pos)-1], *connIx)
	if err != nil {
		fmt.Fprintln(stderr, "reseq follow:", err)
		return exitUsage
	}
	f := &follower{sel: sel, raw: *raw, hex: *hexOut, note: stderr, curDir: -1}
	if f.raw && f.hex {
		fmt.Fprintln(stderr, "reseq follow: --raw and --hex exclude each other")
		return exitUsage
	}
	switch *dir {
	case "c2s":
		f.dirs[tcpasm.ClientToServer] = true
	case "s2c":
		f.dirs[tcpasm.ServerToClient] = true
	case "both":
		if *raw {
			fmt.Fprintln(stderr, "reseq follow: --raw needs --dir c2s or --dir s2c")
			return exitUsage
		}
		f.dirs = [2]bool{true, true}
	default:
		fmt.Fprintf(stderr, "reseq follow: --dir %q: want c2s, s2c or both\n", *dir)
		return exitUsage
	}
	p, err := pf.pipeline(in.env, pos[:len(pos)-1])
	if err != nil {
		fmt.Fprintln(stderr, "reseq follow:", err)
		return exitUsage
	}
	p.Warn = warner(stderr, "reseq follow")
	if sel.index < 0 {
		// Only this tuple matters: let the others go before the assembler.
		// (The user's filters, if any, are alternatives: adding ours would
		// widen them, so they are kept as they are.)
		if len(p.Filter.Ports) == 0 && len(p.Filter.Hosts) == 0 {
			a := sel.a.Addr()
			p.Filter = filter{Ports: []uint16{sel.a.Port()}, Hosts: []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}}
		}
	}
	f.w = bufio.NewWriterSize(stdout, 64<<10)
	if f.raw {
		var release func()
		if f.tmp, release, err = in.signals().newTempFile("", "reseq-follow-*"); err != nil {
			fmt.Fprintln(stderr, "reseq follow:", err)
			return exitInput
		}
		defer release()
	}
	p.Abort = func() error { return f.err }
	_, inErr := p.Run(f)
	if !f.raw {
		f.endBlock()
	}
	if f.conn == nil {
		fmt.Fprintf(stderr, "reseq follow: no connection matches %s\n", pos[len(pos)-1])
		f.w.Flush()
		if inErr != nil {
			fmt.Fprintln(stderr, "reseq follow:", inErr)
		}
		return exitInput
	}
	if f.raw && f.err == nil {
		if _, err := f.tmp.Seek(0, io.SeekStart); err != nil {
			f.fail(err)
		} else if _, err := io.Copy(f.w, io.LimitReader(f.tmp, f.extent)); err != nil {
			f.fail(err)
		}
	}
	f.fail(f.w.Flush())
	if writeTo != "" && f.err == nil {
		if _, err := writeConnPackets(writeTo, p.Inputs, p.Decode, f.conn); err != nil {
			f.fail(err)
		}
	}
	code := exitOK
	if f.err != nil {
		fmt.Fprintln(stderr, "reseq follow:", f.err)
		code = exitInput
	}
	if inErr != nil && !errors.Is(inErr, f.err) {
		fmt.Fprintln(stderr, "reseq follow:", inErr)
		code = exitInput
	}
	return code
}
