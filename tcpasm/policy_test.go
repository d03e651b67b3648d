package tcpasm

import (
	"strings"
	"testing"
)

// suricataTable is who wins, per policy, for a new segment N against an
// original O, as Suricata decides for TCP (src/stream-tcp-list.c,
// DoHandleDataOverlap, whose reference is Novak and Sturges, "Target-Based
// TCP Stream Reassembly", 2007; src/stream-tcp.c, StreamTcpSetOSPolicy,
// turns bsd-right into bsd and old-solaris into solaris), written out here
// rather than derived: rows N starts before, at, after O's start; columns N
// ends before, at, after O's end; 1: N's bytes are kept.
var suricataTable = map[Overlap][3][3]int{
	FirstWins:        {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
	LastWins:         {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}},
	PolicyBSD:        {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
	PolicyBSDRight:   {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
	PolicyLinux:      {{1, 1, 1}, {0, 0, 1}, {0, 0, 0}},
	PolicyOldLinux:   {{1, 1, 1}, {0, 1, 1}, {0, 0, 0}},
	PolicyWindows:    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
	PolicyWindows2k3: {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
	PolicyHPUX10:     {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
	PolicyIRIX:       {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
	PolicyMacOS:      {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
	PolicySolaris:    {{0, 1, 1}, {0, 1, 1}, {0, 0, 1}},
	PolicyOldSolaris: {{0, 1, 1}, {0, 1, 1}, {0, 0, 1}},
	PolicyHPUX11:     {{0, 1, 1}, {0, 1, 1}, {0, 0, 1}},
	PolicyVista:      {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
}

// The classic overlap cases against O = [10, 20): N starts at 5, 10 or 12
// and ends at 18, 20 or 25.
var (
	caseStarts = [3]int64{5, 10, 12}
	caseEnds   = [3]int64{18, 20, 25}
)

// Every policy's NewWins against Suricata's table.
func TestPolicyTable(t *testing.T) {
	if len(suricataTable) != int(numPolicies) {
		t.Fatalf("%d policies tested, %d defined", len(suricataTable), numPolicies)
	}
	for p, want := range suricataTable {
		for si, s := range caseStarts {
			for ei, e := range caseEnds {
				if got := p.NewWins(10, 20, s, e); got != (want[si][ei] == 1) {
					t.Errorf("%v: N [%d,%d) vs O [10,20): new wins %v, want %v", p, s, e, got, !got)
				}
			}
		}
		q, ok := ParseOverlap(p.String())
		if !ok || q != p {
			t.Errorf("%v: ParseOverlap(%q) = %v, %v", p, p.String(), q, ok)
		}
	}
	if _, ok := ParseOverlap("freebsd"); ok {
		t.Error("ParseOverlap took freebsd")
	}
}

// Every policy and overlap case through the Assembler: O = [10,20) of 'o',
// then N of 'n' over the bytes O shares (and '.' where N covers bytes of
// the filler, the same bytes as the filler's), O held above a hole or
// already delivered; the stream holds N's bytes in the shared range exactly
// where Suricata's table says so, and one Conflict reports the difference.
func TestPolicyTableAssembled(t *testing.T) {
	for p, want := range suricataTable {
		for si, ns := range caseStarts {
			for ei, ne := range caseEnds {
				for _, delivered := range []bool{false, true} {
					r := newRecorder(t)
					a := New(Config{Overlap: p}, r)
					f := newFeeder(a, 100, 200)
					f.handshake()
					fill := func(lo, hi int64) {
						if lo < hi {
							f.data(0, lo, strings.Repeat(".", int(hi-lo)))
						}
					}
					if delivered {
						fill(0, 10)
					}
					f.data(0, 10, "oooooooooo")
					nb := []byte(strings.Repeat("n", int(ne-ns)))
					for i := ns; i < min(ne, 10); i++ {
						nb[i-ns] = '.'
					}
					f.data(0, ns, string(nb))
					if !delivered {
						fill(0, min(ns, 10))
					}
					end := max(ne, 20)
					fill(max(ne, 20), 25)
					end = 25
					a.Close()
					r.allClosed()
					rs := r.stream(0, ClientToServer)
					exp := []byte(strings.Repeat(".", int(end)))
					for i := int64(10); i < 20; i++ {
						exp[i] = 'o'
					}
					for i := max(ns, 10); i < ne; i++ {
						if i >= 20 || want[si][ei] == 1 {
							exp[i] = 'n'
						}
					}
					if got := rs.text(end); got != string(exp) {
						t.Errorf("%v, N [%d,%d), O delivered %v: %q, want %q", p, ns, ne, delivered, got, exp)
					}
					if len(rs.confl) != 1 || (rs.confl[0].Replace != nil) != (delivered && want[si][ei] == 1) {
						t.Errorf("%v, N [%d,%d), O delivered %v: conflicts %+v", p, ns, ne, delivered, rs.confl)
					}
				}
			}
		}
	}
}

// A policy applies to delivered bytes too: a later copy it prefers is
// reported with the bytes that replace the delivered ones, and the retained
// window then holds the new bytes (a third copy is compared with them).
func TestPolicyDelivered(t *testing.T) {
	for _, tc := range []struct {
		pol  Overlap
		want string
	}{
		{FirstWins, "GOOD"},
		{LastWins, "EVIL"},
		{PolicyBSD, "GOOD"},      // same start: the original
		{PolicyOldLinux, "EVIL"}, // same start and end: the new one
		{PolicyWindows, "GOOD"},
	} {
		r := newRecorder(t)
		a := New(Config{Overlap: tc.pol}, r)
		f := newFeeder(a, 100, 200)
		f.handshake()
		f.data(0, 0, "GOOD")
		f.data(0, 0, "EVIL")
		f.data(0, 0, tc.want) // the kept copy again: no conflict
		a.Close()
		r.allClosed()
		rs := r.stream(0, ClientToServer)
		if got := rs.text(4); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.pol, got, tc.want)
		}
		if len(rs.confl) != 1 {
			t.Fatalf("%v: conflicts %+v", tc.pol, rs.confl)
		}
		if c := rs.confl[0]; (c.Replace != nil) != (tc.want == "EVIL") || (c.KeptIndex > c.DroppedIndex) != (tc.want == "EVIL") {
			t.Errorf("%v: %+v", tc.pol, c)
		}
		if rs.s.Stats.Bytes != 4 {
			t.Errorf("%v: %d bytes delivered", tc.pol, rs.s.Stats.Bytes)
		}
	}
}
