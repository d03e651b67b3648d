package http1

import "bytes"

// methods the resync scanner accepts (in sync, any token is a method).
var knownMethods = []string{
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH",
}

const maxMethodLen = 9 // longest known method

var httpVer = []byte("HTTP/1.")

func isTchar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	switch b {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// targetByte: a request target is visible ASCII (and, leniently, bytes >= 0x80).
func targetByte(b byte) bool { return b > ' ' && b != 0x7f }

type startLine struct {
	request      bool
	method       string
	target       string
	status       int
	reason       string
	proto        string
	major, minor int
}

// parseStartLine parses a request line or status line (without its line end).
func parseStartLine(line []byte) (startLine, bool) {
	var s startLine
	if bytes.HasPrefix(line, httpVer) {
		// HTTP/1.x SP 3DIGIT [SP reason]
		if len(line) < 12 || (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
			!isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) {
			return s, false
		}
		if len(line) > 12 && line[12] != ' ' {
			return s, false
		}
		s.proto = string(line[:8])
		s.major, s.minor = 1, int(line[7]-'0')
		s.status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
		if len(line) > 13 {
			s.reason = string(line[13:])
		}
		if s.status < 100 {
			return s, false
		}
		return s, true
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return s, false
	}
	for _, b := range line[:sp] {
		if !isTchar(b) {
			return s, false
		}
	}
	rest := line[sp+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return s, false
	}
	for _, b := range rest[:sp2] {
		if !targetByte(b) {
			return s, false
		}
	}
	ver := rest[sp2+1:]
	if len(ver) != 8 || !bytes.HasPrefix(ver, httpVer) || (ver[7] != '0' && ver[7] != '1') {
		return s, false
	}
	s.request = true
	s.method = string(line[:sp])
	s.target = string(rest[:sp2])
	s.proto = string(ver)
	s.major, s.minor = 1, int(ver[7]-'0')
	return s, true
}

// plausiblePrefix reports whether d can be the start of a message (checked
// before the whole start line is there, to give up on non-HTTP bytes early).
func plausiblePrefix(d []byte) bool {
	n := min(len(d), len(httpVer))
	if bytes.Equal(d[:n], httpVer[:n]) {
		return true
	}
	for i, b := range d {
		if b == ' ' {
			return i > 0
		}
		if !isTchar(b) || i >= 32 {
			return false
		}
	}
	return true
}

// headerLineOK: a field line "token: value" (no obsolete line folding).
func headerLineOK(line []byte) bool {
	i := 0
	for i < len(line) && isTchar(line[i]) {
		i++
	}
	if i == 0 || i >= len(line) || line[i] != ':' {
		return false
	}
	for _, b := range line[i+1:] {
		if b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// trimCR drops a trailing CR of a line.
func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}
