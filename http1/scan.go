package http1

import "bytes"

// scanner finds where an HTTP message may start in bytes of unknown framing.
// It keeps its position in stream offsets, so that when the framer offers the
// same bytes again followed by new ones it resumes instead of rescanning.
type scanner struct {
	cursor   int64 // stream bytes below were searched for "HTTP/1."
	cand     int64 // start of a candidate message, -1 when none
	candVer  int64 // offset of the candidate's "HTTP/1."
	candPos  int64 // start of the candidate's next line to check
	lineScan int64 // bytes of that line below this were searched for LF
	lines    int
	verEnd   int64 // one past the last "HTTP/1." examined: look-backs stop there
	examined int64 // bytes examined, for tests of linearity
	lim      limits
}

type limits struct {
	maxLine, maxHeader, maxLines int
}

type verdict uint8

const (
	vMore verdict = iota
	vOK
	vBad
)

func (s *scanner) reset() { s.cand = -1 }

// scan looks for a message start in d (stream offset base). It returns the
// index of a candidate and found=true when the candidate has a complete,
// plausible header block; otherwise the index before which no message can
// start (the rest must be offered again with more bytes).
func (s *scanner) scan(d []byte, base int64) (int, bool) {
	end := base + int64(len(d))
	i := 0
	if s.cand >= base && s.cand < end {
		// resume the candidate below
	} else {
		s.cand = -1
		if s.cursor > base {
			i = int(min(s.cursor-base, int64(len(d))))
		}
	}
	// A request line's look-back never crosses an earlier "HTTP/1.": every byte
	// is looked back over at most once.
	floor := int(min(max(s.verEnd-base, 0), int64(len(d))))
	for {
		if s.cand >= 0 {
			switch s.validate(d, base) {
			case vOK:
				start := int(s.cand - base)
				s.cursor = s.candVer + 1
				s.cand = -1
				return start, true
			case vMore:
				return int(s.cand - base), false
			}
			i = int(s.candVer-base) + 1
			s.cand = -1
		}
		j := bytes.Index(d[i:], httpVer)
		if j < 0 {
			s.examined += int64(len(d) - i)
			// Keep a possible "HTTP/1." cut by the end and the request line
			// before it (no line end, at most maxLine).
			keep := len(d)
			for k := max(len(d)-(len(httpVer)-1), i); k < len(d); k++ {
				if d[k] == 'H' && bytes.HasPrefix(httpVer, d[k:]) {
					keep = k
					break
				}
			}
			s.cursor = base + int64(keep)
			lo := max(len(d)-s.lim.maxLine, floor, 0)
			if lf := bytes.LastIndexByte(d[lo:], '\n'); lf >= 0 {
				lo += lf + 1
			}
			return min(lo, keep), false
		}
		k := i + j
		s.examined += int64(j + len(httpVer))
		if k+9 > len(d) {
			// Not enough bytes to tell: hold from the look-back start.
			s.cursor = base + int64(k)
			if st := s.lookback(d, k, floor); st >= 0 {
				return st, false
			}
			return k, false
		}
		prevFloor := floor
		s.verEnd = base + int64(k+len(httpVer))
		floor = k + len(httpVer)
		v := d[k+7]
		if v == '0' || v == '1' {
			if d[k+8] == ' ' {
				s.candidate(base, k, k)
				continue
			}
			if d[k+8] == '\r' || d[k+8] == '\n' {
				if st := s.lookback(d, k, prevFloor); st >= 0 {
					s.candidate(base, st, k)
					continue
				}
			}
		}
		i = k + 1
	}
}

func (s *scanner) candidate(base int64, start, ver int) {
	s.cand = base + int64(start)
	s.candVer = base + int64(ver)
	s.candPos = s.cand
	s.lineScan = s.cand
	s.lines = 0
}

// lookback finds the start of a request line "METHOD SP target SP" ending just
// before d[k] ("HTTP/1."), not looking below floor. -1 when there is none.
func (s *scanner) lookback(d []byte, k, floor int) int {
	if k < 1 || d[k-1] != ' ' {
		return -1
	}
	t := k - 1
	lo := max(floor, k-1-s.lim.maxLine)
	for t > lo && targetByte(d[t-1]) {
		t--
	}
	s.examined += int64(k - t)
	if t == k-1 || t < 1 || d[t-1] != ' ' {
		return -1
	}
	me := t - 1
	m := me
	for m > max(lo, me-maxMethodLen) && d[m-1] >= 'A' && d[m-1] <= 'Z' {
		m--
	}
	run := d[m:me]
	best := ""
	for _, km := range knownMethods {
		if len(km) > len(best) && bytes.HasSuffix(run, []byte(km)) {
			best = km
		}
	}
	if best == "" {
		return -1
	}
	return me - len(best)
}

// validate checks the candidate's start line and header lines as far as d
// goes.
func (s *scanner) validate(d []byte, base int64) verdict {
	for {
		pos := int(s.candPos - base)
		from := int(s.lineScan - base)
		limit := min(len(d), pos+s.lim.maxLine+2)
		lf := bytes.IndexByte(d[from:limit], '\n')
		if lf < 0 {
			s.examined += int64(limit - from)
			s.lineScan = base + int64(limit)
			if limit-pos >= s.lim.maxLine+2 {
				return vBad
			}
			return vMore
		}
		s.examined += int64(lf + 1)
		lf += from
		if lf == pos || d[lf-1] != '\r' {
			// A resync candidate uses CRLF line ends throughout (a bare LF is
			// legal but rare, and common in text that only quotes HTTP).
			return vBad
		}
		line := d[pos : lf-1]
		if s.candPos == s.cand {
			// A start line holding another "HTTP/1." (a reason phrase or target
			// that swallowed a message start) is not taken: the later one is.
			if _, ok := parseStartLine(line); !ok || bytes.Index(line, httpVer) != int(s.candVer-s.cand) ||
				bytes.Count(line, httpVer) != 1 {
				return vBad
			}
		} else if len(line) == 0 {
			if s.lines < 2 {
				return vBad // no header field: too weak a sign of a message
			}
			return vOK
		} else if !headerLineOK(line) {
			return vBad
		}
		s.lines++
		s.candPos = base + int64(lf+1)
		s.lineScan = s.candPos
		if s.lines > s.lim.maxLines || s.candPos-s.cand > int64(s.lim.maxHeader) {
			return vBad
		}
	}
}
