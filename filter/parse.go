package filter

import (
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

type tokKind uint8

const (
	tokEnd tokKind = iota
	tokWord
	tokLParen
	tokRParen
	tokNot // ! or not
	tokAnd // && or and
	tokOr  // || or or
)

type token struct {
	kind tokKind
	text string
	col  int // 1-based byte column
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == ':' || c == '/' || c == '-' || c == '_' || c == '%'
}

// lex splits expr into tokens; words are names, numbers, addresses, prefixes
// and port ranges.
func lex(expr string) ([]token, error) {
	var toks []token
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i + 1})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i + 1})
			i++
		case c == '!':
			if i+1 < len(expr) && expr[i+1] == '=' {
				return nil, &SyntaxError{expr, i + 1, "comparisons (!=) are not supported"}
			}
			toks = append(toks, token{tokNot, "!", i + 1})
			i++
		case c == '&' || c == '|':
			if i+1 < len(expr) && expr[i+1] == c {
				k := tokAnd
				if c == '|' {
					k = tokOr
				}
				toks = append(toks, token{k, expr[i : i+2], i + 1})
				i += 2
				continue
			}
			return nil, &SyntaxError{expr, i + 1, "bit operations are not supported (did you mean " + string([]byte{c, c}) + "?)"}
		case c == '[':
			return nil, &SyntaxError{expr, i + 1, "byte offsets (proto[expr]) are not supported"}
		case isWordByte(c):
			j := i
			for j < len(expr) && isWordByte(expr[j]) {
				j++
			}
			w := expr[i:j]
			k := tokWord
			switch w {
			case "and":
				k = tokAnd
			case "or":
				k = tokOr
			case "not":
				k = tokNot
			}
			toks = append(toks, token{k, w, i + 1})
			i = j
		default:
			return nil, &SyntaxError{expr, i + 1, "unexpected character " + strconv.QuoteRune(rune(c))}
		}
	}
	return append(toks, token{tokEnd, "", len(expr) + 1}), nil
}

// Qualifiers of a primitive.
type protoQual uint8

const (
	protoAny protoQual = iota
	protoIP
	protoIP6
	protoTCP
	protoUDP
	protoSCTP
	protoICMP
	protoICMP6
)

// protoNames, like the other keyword tables, is built on first use: a run
// without a filter (and every process of the split route) skips it.
var protoNames = sync.OnceValue(func() map[string]protoQual {
	return map[string]protoQual{"ip": protoIP, "ip6": protoIP6, "tcp": protoTCP, "udp": protoUDP,
		"sctp": protoSCTP, "icmp": protoICMP, "icmp6": protoICMP6}
})

type dirQual uint8

const (
	dirAny   dirQual = iota // src or dst (the default)
	dirSrc                  // src
	dirDst                  // dst
	dirBoth                 // src and dst
	dirUnset                // for the carried qualifiers: none given
)

type typeQual uint8

const (
	typeNone typeQual = iota
	typeHost
	typeNet
	typePort
	typePortRange
)

var typeNames = sync.OnceValue(func() map[string]typeQual {
	return map[string]typeQual{"host": typeHost, "net": typeNet, "port": typePort, "portrange": typePortRange}
})

// unsupported names keywords of pcap-filter this package does not evaluate.
var unsupported = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"ether": "link-layer (ether) primitives", "arp": "arp", "rarp": "rarp", "less": "packet lengths (less)",
		"greater": "packet lengths (greater)", "broadcast": "broadcast", "multicast": "multicast",
		"gateway": "gateway", "proto": "proto", "len": "len", "mpls": "mpls (the filter sees the headers inside it)",
		"pppoes": "pppoes (the filter sees the headers inside it)", "geneve": "geneve (the filter sees the headers inside it)",
		"vxlan": "vxlan (the filter sees the headers inside it)", "decnet": "decnet", "atalk": "atalk", "aarp": "aarp",
		"iso": "iso", "stp": "stp", "ipx": "ipx", "netbeui": "netbeui", "fddi": "fddi", "tr": "tr", "wlan": "wlan",
		"inbound": "inbound", "outbound": "outbound", "ifname": "ifname", "on": "on", "rnr": "rnr", "rulenum": "rulenum",
		"reason": "reason", "rset": "rset", "ruleset": "ruleset", "srnr": "srnr", "subrulenum": "subrulenum", "action": "action",
		"type": "type", "subtype": "subtype", "dir": "dir", "ra": "ra", "ta": "ta", "addr1": "addr1", "addr2": "addr2",
		"addr3": "addr3", "addr4": "addr4", "pim": "pim", "igmp": "igmp", "igrp": "igrp", "vrrp": "vrrp", "carp": "carp",
		"ah": "ah", "esp": "esp", "lat": "lat", "sca": "sca", "moprc": "moprc", "mopdl": "mopdl", "llc": "llc", "clnp": "clnp",
		"esis": "esis", "isis": "isis", "protochain": "protochain", "ip6multicast": "ip6multicast", "ipmulticast": "ipmulticast",
	}
})

// quals are the qualifiers a primitive was given, carried to the bare values
// after it.
type quals struct {
	proto protoQual
	dir   dirQual
	typ   typeQual
	col   int
}

type parser struct {
	expr string
	toks []token
	pos  int
	last *quals // the qualifiers of the last primitive with a value
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEnd {
		p.pos++
	}
	return t
}

func (p *parser) errAt(col int, msg string) error { return &SyntaxError{p.expr, col, msg} }

func (p *parser) parse() (matchFn, error) {
	fn, err := p.expr0()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEnd {
		if t.kind == tokRParen {
			return nil, p.errAt(t.col, "unbalanced ')'")
		}
		return nil, p.errAt(t.col, "expected 'and' or 'or' before "+strconv.Quote(t.text))
	}
	return fn, nil
}

// expr0: unary { (and|or) unary }, left to right, equal precedence.
func (p *parser) expr0() (matchFn, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokAnd && t.kind != tokOr {
			return l, nil
		}
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		if t.kind == tokAnd {
			l = and(l, r)
		} else {
			l = or(l, r)
		}
	}
}

func (p *parser) unary() (matchFn, error) {
	t := p.peek()
	switch t.kind {
	case tokNot:
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return not(x), nil
	case tokLParen:
		p.next()
		x, err := p.expr0()
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != tokRParen {
			if c.kind == tokEnd {
				return nil, p.errAt(c.col, "expected ')' to close the '(' at column "+strconv.Itoa(t.col))
			}
			return nil, p.errAt(c.col, "expected 'and', 'or' or ')' before "+strconv.Quote(c.text))
		}
		p.next()
		return x, nil
	case tokWord:
		return p.primitive()
	case tokEnd:
		return nil, p.errAt(t.col, "expected an expression")
	default:
		return nil, p.errAt(t.col, "expected an expression before "+strconv.Quote(t.text))
	}
}

// primitive parses [proto] [dir] [type] value, vlan [ID], a protocol test, or
// a bare value that takes the qualifiers of the primitive before it.
func (p *parser) primitive() (matchFn, error) {
	start := p.peek()
	if start.text == "vlan" {
		p.next()
		if t := p.peek(); t.kind == tokWord && isDigits(t.text) {
			p.next()
			n, err := strconv.ParseUint(t.text, 10, 16)
			if err != nil || n > 4095 {
				return nil, p.errAt(t.col, "expected a VLAN ID (0-4095)")
			}
			return vlanID(uint16(n)), nil
		}
		return vlanAny, nil
	}
	if what, ok := unsupported()[start.text]; ok {
		return nil, p.errAt(start.col, what+" is not supported (reseq filters on host, net, port, portrange, ip, ip6, tcp, udp and vlan)")
	}
	q := quals{proto: protoAny, dir: dirUnset, col: start.col}
	if pq, ok := protoNames()[start.text]; ok {
		q.proto = pq
		p.next()
	}
	// dir: src | dst | src or dst | src and dst
	if t := p.peek(); t.kind == tokWord && (t.text == "src" || t.text == "dst") {
		p.next()
		q.dir = dirSrc
		if t.text == "dst" {
			q.dir = dirDst
		}
		if c := p.peek(); (c.kind == tokOr || c.kind == tokAnd) && p.pos+1 < len(p.toks) {
			if o := p.toks[p.pos+1]; o.kind == tokWord && (o.text == "src" || o.text == "dst") && o.text != t.text {
				p.next()
				p.next()
				q.dir = dirAny
				if c.kind == tokAnd {
					q.dir = dirBoth
				}
			}
		}
	}
	if t := p.peek(); t.kind == tokWord {
		if tq, ok := typeNames()[t.text]; ok {
			q.typ = tq
			p.next()
		}
	}
	if q.typ == typeNone && q.dir == dirUnset {
		if q.proto != protoAny {
			// A protocol test ("tcp", "ip6"), unless a value follows with
			// no keyword, which pcap-filter does not allow either.
			return protoTest(q.proto), nil
		}
		// A bare value: the qualifiers of the primitive before it, else host.
		if p.last != nil {
			c := *p.last
			c.col = start.col
			q = c
		} else {
			q.typ = typeHost
		}
	}
	if q.typ == typeNone {
		q.typ = typeHost // "src 10.0.0.1"
	}
	v := p.peek()
	if v.kind != tokWord {
		return nil, p.errAt(v.col, "expected "+valueName(q.typ))
	}
	p.next()
	fn, err := p.value(&q, v)
	if err != nil {
		return nil, err
	}
	p.last = &q
	return fn, nil
}

func valueName(t typeQual) string {
	switch t {
	case typeNet:
		return "a network (ADDR/LEN, ADDR mask MASK, or leading octets)"
	case typePort:
		return "a port number"
	case typePortRange:
		return "a port range (N-M)"
	}
	return "an address"
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// value compiles the primitive q applied to the value token v.
func (p *parser) value(q *quals, v token) (matchFn, error) {
	switch q.typ {
	case typeHost:
		if strings.Contains(v.text, "/") {
			return nil, p.errAt(v.col, "expected an address (a prefix wants 'net')")
		}
		a, err := netip.ParseAddr(v.text)
		if err != nil {
			if _, ok := typeNames()[v.text]; ok || v.text == "src" || v.text == "dst" {
				return nil, p.errAt(v.col, "expected an address before "+strconv.Quote(v.text)+" (qualifiers go proto, then src/dst, then host/net/port)")
			}
			return nil, p.errAt(v.col, "expected an address (host names are not looked up)")
		}
		if err := p.checkFamily(q, a, v.col); err != nil {
			return nil, err
		}
		return withProto(q.proto, hostMatch(q.dir, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))), nil
	case typeNet:
		pf, err := p.network(v)
		if err != nil {
			return nil, err
		}
		if err := p.checkFamily(q, pf.Addr(), v.col); err != nil {
			return nil, err
		}
		return withProto(q.proto, hostMatch(q.dir, pf)), nil
	case typePort:
		n, ok := portNumber(v.text)
		if !ok {
			return nil, p.errAt(v.col, "expected a port number")
		}
		if err := p.checkPortProto(q); err != nil {
			return nil, err
		}
		return withPortProto(q.proto, portMatch(q.dir, n, n)), nil
	case typePortRange:
		a, b, ok := strings.Cut(v.text, "-")
		lo, ok1 := portNumber(a)
		hi, ok2 := portNumber(b)
		if !ok || !ok1 || !ok2 {
			return nil, p.errAt(v.col, "expected a port range (N-M)")
		}
		if lo > hi {
			lo, hi = hi, lo // libpcap swaps them too
		}
		if err := p.checkPortProto(q); err != nil {
			return nil, err
		}
		return withPortProto(q.proto, portMatch(q.dir, lo, hi)), nil
	}
	return nil, p.errAt(v.col, "expected a primitive")
}

func (p *parser) checkFamily(q *quals, a netip.Addr, col int) error {
	switch {
	case q.proto == protoIP && !a.Unmap().Is4():
		return p.errAt(col, "'ip' with an IPv6 address")
	case q.proto == protoIP6 && a.Unmap().Is4():
		return p.errAt(col, "'ip6' with an IPv4 address")
	case q.proto != protoAny && q.proto != protoIP && q.proto != protoIP6:
		return p.errAt(q.col, "a host or net qualifier takes ip or ip6, not a transport protocol")
	}
	return nil
}

func (p *parser) checkPortProto(q *quals) error {
	switch q.proto {
	case protoAny, protoIP, protoIP6, protoTCP, protoUDP, protoSCTP:
		return nil
	}
	return p.errAt(q.col, "a port qualifier takes tcp, udp or sctp")
}

// network parses ADDR/LEN, ADDR mask MASK, an address (all of its bits) or
// 1 to 3 leading IPv4 octets ("10", "192.168").
func (p *parser) network(v token) (netip.Prefix, error) {
	s := v.text
	if strings.Contains(s, "/") {
		pf, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, p.errAt(v.col, "expected a network (ADDR/LEN)")
		}
		return netip.PrefixFrom(pf.Addr().Unmap(), pf.Bits()-(pf.Addr().BitLen()-pf.Addr().Unmap().BitLen())).Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		// Leading octets.
		parts := strings.Split(s, ".")
		if len(parts) > 3 {
			return netip.Prefix{}, p.errAt(v.col, "expected a network (ADDR/LEN, ADDR mask MASK, or leading octets)")
		}
		var b [4]byte
		for i, x := range parts {
			n, err := strconv.ParseUint(x, 10, 8)
			if err != nil || !isDigits(x) {
				return netip.Prefix{}, p.errAt(v.col, "expected a network (ADDR/LEN, ADDR mask MASK, or leading octets)")
			}
			b[i] = byte(n)
		}
		a, bits := netip.AddrFrom4(b), 8*len(parts)
		if t := p.peek(); t.kind == tokWord && t.text == "mask" {
			return netip.Prefix{}, p.errAt(t.col, "'mask' wants a whole IPv4 address before it")
		}
		return netip.PrefixFrom(a, bits), nil
	}
	a = a.Unmap()
	if t := p.peek(); t.kind == tokWord && t.text == "mask" {
		p.next()
		m := p.peek()
		if m.kind != tokWord {
			return netip.Prefix{}, p.errAt(m.col, "expected a netmask")
		}
		p.next()
		ma, err := netip.ParseAddr(m.text)
		if err != nil || !ma.Is4() || !a.Is4() {
			return netip.Prefix{}, p.errAt(m.col, "expected an IPv4 netmask (mask is for IPv4 networks)")
		}
		bits, ok := maskBits(ma.As4())
		if !ok {
			return netip.Prefix{}, p.errAt(m.col, "the netmask's ones are not contiguous")
		}
		pf := netip.PrefixFrom(a, bits)
		if pf.Masked().Addr() != a {
			return netip.Prefix{}, p.errAt(v.col, "the network has bits set outside its mask")
		}
		return pf, nil
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func maskBits(m [4]byte) (int, bool) {
	v := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
	n := 0
	for v&(1<<31) != 0 {
		n++
		v <<= 1
	}
	return n, v == 0
}

// services are the port names pcap-filter users write most (libpcap looks
// them up in the services database).
var services = sync.OnceValue(func() map[string]uint16 {
	return map[string]uint16{
		"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "http": 80, "www": 80,
		"pop3": 110, "sunrpc": 111, "nntp": 119, "ntp": 123, "imap": 143, "imap2": 143, "snmp": 161, "bgp": 179, "ldap": 389,
		"https": 443, "microsoft-ds": 445, "submission": 587, "ldaps": 636, "imaps": 993, "pop3s": 995,
		"mysql": 3306, "postgresql": 5432, "http-alt": 8080,
	}
})

func portNumber(s string) (uint16, bool) {
	if isDigits(s) {
		n, err := strconv.ParseUint(s, 10, 16)
		return uint16(n), err == nil
	}
	n, ok := services()[s]
	return n, ok
}
