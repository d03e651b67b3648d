package main

// --filter EXPR (-f), --since and --until: which packets the stream commands
// take. The expression is pcap-filter's syntax (package filter), evaluated
// on each TCP segment's innermost headers; the times select [since, until).
// Without any of them the pipeline gets no Select function at all, so the
// unfiltered path does not pay for it.

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	pfilter "github.com/reseq/reseq/filter"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/tcpasm"
)

// selectFlags are the flags' values.
type selectFlags struct {
	expr         string
	since, until string
}

func addSelectFlags(fs *flag.FlagSet, sf *selectFlags) {
	const help = "keep the packets that match the pcap-filter `EXPR` (as tcpdump takes it: host, net, port, portrange, src/dst, ip, ip6, tcp, udp, vlan [ID], and/or/not, parentheses), evaluated on the innermost headers (behind VLAN tags and tunnels); with --port/--host, all must match"
	fs.StringVar(&sf.expr, "filter", "", help)
	fs.StringVar(&sf.expr, "f", "", "short for --filter `EXPR`")
	fs.StringVar(&sf.since, "since", "", "keep packets at or after `TIME`: RFC 3339 (2024-05-01T10:00:00Z) or a duration after the first packet (+10m, 90s)")
	fs.StringVar(&sf.until, "until", "", "keep packets before `TIME`: RFC 3339 or a duration after the first packet (+1h)")
}

// timeBound is a --since or --until value: an absolute time, or a duration
// after the first packet.
type timeBound struct {
	set bool
	rel bool
	ns  int64 // absolute: ns since the epoch; relative: the duration
}

func parseTimeBound(name, s string) (timeBound, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return timeBound{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return timeBound{set: true, ns: t.UnixNano()}, nil
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "+")); err == nil && d >= 0 && !strings.HasPrefix(s, "-") {
		return timeBound{set: true, rel: true, ns: int64(d)}, nil
	}
	return timeBound{}, fmt.Errorf("%s %q: want an RFC 3339 time (2024-05-01T10:00:00Z) or a duration after the first packet (+10m)", name, s)
}

func (b timeBound) resolve(first int64) int64 {
	if b.rel {
		return first + b.ns
	}
	return b.ns
}

// packetSelector is the pipeline's Select: time range, then expression.
type packetSelector struct {
	f            *pfilter.Filter // nil: none
	since, until timeBound
	from, to     int64 // resolved at the first packet
}

func (s *packetSelector) start(first int64) {
	s.from, s.to = -1<<63, 1<<63-1
	if s.since.set {
		s.from = s.since.resolve(first)
	}
	if s.until.set {
		s.to = s.until.resolve(first)
	}
}

func (s *packetSelector) keep(seg *tcpasm.Segment, p *layers.Packet) bool {
	if seg.Timestamp < s.from || seg.Timestamp >= s.to {
		return false
	}
	return s.f == nil || s.f.Match(&seg.Key, p)
}

// compile compiles the flags; nil when they select everything.
func (sf *selectFlags) compile() (*packetSelector, error) {
	s := &packetSelector{}
	var err error
	if s.since, err = parseTimeBound("--since", sf.since); err != nil {
		return nil, err
	}
	if s.until, err = parseTimeBound("--until", sf.until); err != nil {
		return nil, err
	}
	if strings.TrimSpace(sf.expr) != "" {
		f, err := pfilter.Parse(sf.expr)
		if err != nil {
			var se *pfilter.SyntaxError
			if errors.As(err, &se) {
				caret := strings.ReplaceAll(se.Caret(), "\n", "\n    ")
				return nil, fmt.Errorf("--filter: %v\n    %s", se, caret)
			}
			return nil, fmt.Errorf("--filter: %v", err)
		}
		s.f = f
	}
	if s.f == nil && !s.since.set && !s.until.set {
		return nil, nil
	}
	s.start(0) // absolute bounds hold before the first packet is seen
	return s, nil
}
