// Package filter compiles packet filter expressions in the syntax of
// pcap-filter(7) — as tcpdump and tcpflow take them — and evaluates them on
// packets reseq has decoded, without libpcap or BPF: the expression becomes a
// tree of closures over the decoded values (addresses, ports, protocol, VLAN
// IDs).
//
// Supported primitives, with pcap-filter's qualifiers:
//
//	[src|dst|src or dst|src and dst] host ADDR
//	[src|dst|...] net ADDR/LEN | net ADDR mask MASK | net 10.1 (leading octets)
//	[tcp|udp|sctp] [src|dst|...] port N | portrange N-M   (N may be a service name: http, https, ssh, ...)
//	ip, ip6, tcp, udp, sctp, icmp, icmp6   (protocol tests; "ip host X", "ip6 net P", "tcp port N" too)
//	vlan [ID]
//	not, !, and, &&, or, ||, ( )
//
// As in pcap-filter, "not" binds tightest and "and" and "or" have equal
// precedence and associate left to right ("a or b and c" is "(a or b) and
// c"), and a bare value repeats the qualifiers of the primitive before it
// ("port 80 or 443", "host 10.0.0.1 or 10.0.0.2"); a bare address with no
// primitive before it is a host.
//
// Differences from tcpdump, who compiles to BPF on the raw frame: the
// expression is evaluated on the innermost headers reseq decoded (behind
// VLAN tags, MPLS, PPPoE and tunnels alike), so "host X" matches a tagged or
// tunnelled packet without "vlan and" in front; "vlan ID" is true when any
// tag of the frame has that ID (tcpdump's walks down the stack, one tag per
// "vlan"); host names are not looked up. Byte-offset expressions
// (tcp[13] & 2 != 0), ether, arp, less/greater and the like are rejected
// with an error naming their column.
package filter

import (
	"fmt"
	"strings"

	"github.com/reseq/reseq/layers"
)

// Filter is a compiled expression. It is immutable and safe for concurrent
// use.
type Filter struct {
	expr string
	fn   matchFn
}

// matchFn evaluates a node on a flow key (the packet's direction) and the
// decoded packet, which may be nil (see Filter.Match).
type matchFn func(k *layers.FlowKey, p *layers.Packet) bool

// Parse compiles expr. An expression of only blanks matches every packet.
// A syntax error is a *SyntaxError.
func Parse(expr string) (*Filter, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	if len(toks) == 1 { // only the end
		return &Filter{expr: expr, fn: func(*layers.FlowKey, *layers.Packet) bool { return true }}, nil
	}
	ps := &parser{expr: expr, toks: toks}
	fn, err := ps.parse()
	if err != nil {
		return nil, err
	}
	return &Filter{expr: expr, fn: fn}, nil
}

// MustParse is Parse that panics on an error (for tests and constants).
func MustParse(expr string) *Filter {
	f, err := Parse(expr)
	if err != nil {
		panic(err)
	}
	return f
}

// String returns the expression as given.
func (f *Filter) String() string { return f.expr }

// Match evaluates the filter on one packet: k is its flow key in the
// direction it travelled (src is the sender), p the decoded packet for its
// IP protocol and its VLAN tags. With p nil the packet is taken to be TCP
// and its tags to be the key's.
func (f *Filter) Match(k *layers.FlowKey, p *layers.Packet) bool { return f.fn(k, p) }

// SyntaxError is an error in an expression, at a column (1-based, in bytes).
type SyntaxError struct {
	Expr   string
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Column, e.Msg) }

// Caret returns two lines: the expression and a caret under the column.
func (e *SyntaxError) Caret() string {
	pad := strings.Map(func(r rune) rune {
		if r == '\t' {
			return '\t'
		}
		return ' '
	}, e.Expr[:min(max(e.Column-1, 0), len(e.Expr))])
	return e.Expr + "\n" + pad + "^"
}
