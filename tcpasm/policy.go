package tcpasm

import (
	"net/netip"
	"strconv"
)

// This file holds the overlap policies: which of two copies of the same
// stream bytes a receiver keeps, as target-based reassembly (Novak and
// Sturges, "Target-Based TCP Stream Reassembly", 2007; Snort's and Suricata's
// host-os-policy) names them after the operating systems that behave so.

// Overlap is the policy for retransmitted bytes that overlap bytes seen
// before: whether the earlier copy (O, "original") or the later one (N,
// "new") of the shared bytes is kept. Apart from FirstWins and LastWins the
// choice depends on where N starts and ends relative to O (see
// Overlap.NewWins); a policy applies to held and to delivered bytes alike
// (a delivered byte the policy gives to N is reported by a Conflict with
// Replace set).
type Overlap uint8

const (
	FirstWins        Overlap = iota // RFC 9293, Zeek, libnids: the first copy is kept
	LastWins                        // the later copy always replaces the earlier one
	PolicyBSD                       // bsd: N wins where it starts before O
	PolicyBSDRight                  // bsd-right: as bsd for TCP (Suricata; the name is HP JetDirect's IP fragment policy)
	PolicyLinux                     // linux
	PolicyOldLinux                  // old-linux
	PolicyWindows                   // windows
	PolicySolaris                   // solaris
	PolicyOldSolaris                // old-solaris
	PolicyHPUX10                    // hpux10
	PolicyHPUX11                    // hpux11
	PolicyIRIX                      // irix
	PolicyMacOS                     // macos
	PolicyVista                     // vista
	PolicyWindows2k3                // windows2k3
	numPolicies
)

var policyNames = [numPolicies]string{"first", "last", "bsd", "bsd-right", "linux", "old-linux", "windows",
	"solaris", "old-solaris", "hpux10", "hpux11", "irix", "macos", "vista", "windows2k3"}

func (p Overlap) String() string {
	if p < numPolicies {
		return policyNames[p]
	}
	return "overlap(" + strconv.Itoa(int(p)) + ")"
}

// ParseOverlap returns the policy of a name as Suricata spells it (first,
// last, bsd, bsd-right, linux, old-linux, windows, solaris, old-solaris,
// hpux10, hpux11, irix, macos, vista, windows2k3).
func ParseOverlap(s string) (Overlap, bool) {
	for i, n := range policyNames {
		if n == s {
			return Overlap(i), true
		}
	}
	return 0, false
}

// PolicyNames lists the names ParseOverlap takes.
func PolicyNames() []string { return append([]string(nil), policyNames[:]...) }

// Where N stands relative to O: its start before, at or after O's start; its
// end before, at or after O's end.
const (
	relBefore = iota
	relSame
	relAfter
)

// policyTable[p][start][end]: whether policy p keeps N's copy of the bytes N
// and O share, for N starting (before, at, after) O's start and ending
// (before, at, after) O's end. The rows are Suricata's (src/stream-tcp-list.c,
// DoHandleDataOverlap, which follows Novak and Sturges' table; stream-tcp.c,
// StreamTcpSetOSPolicy, makes bsd-right bsd and old-solaris solaris for TCP):
//
//   - first, vista: always O (the original).
//   - last: always N.
//   - bsd, bsd-right, hpux10, irix, macos, windows, windows2k3: N where it
//     starts before O.
//   - linux: N where it starts before O, or starts with O and ends after it.
//   - old-linux: N where it starts before O, or starts with O and ends at or
//     after its end.
//   - solaris, old-solaris, hpux11: N where it ends after O, or ends with O
//     and starts at or before its start.
var policyTable = func() (t [numPolicies][3][3]bool) {
	for s := range 3 {
		for e := range 3 {
			t[LastWins][s][e] = true
			for _, p := range []Overlap{PolicyBSD, PolicyBSDRight, PolicyHPUX10, PolicyIRIX, PolicyMacOS, PolicyWindows, PolicyWindows2k3} {
				t[p][s][e] = s == relBefore
			}
			t[PolicyLinux][s][e] = s == relBefore || (s == relSame && e == relAfter)
			t[PolicyOldLinux][s][e] = s == relBefore || (s == relSame && e != relBefore)
			for _, p := range []Overlap{PolicySolaris, PolicyOldSolaris, PolicyHPUX11} {
				t[p][s][e] = e == relAfter || (e == relSame && s != relAfter)
			}
		}
	}
	return t
}()

func rel(n, o int64) int {
	switch {
	case n < o:
		return relBefore
	case n == o:
		return relSame
	}
	return relAfter
}

// NewWins reports whether p keeps the later copy N = [ns, ne) of the bytes it
// shares with the earlier O = [os, oe) (stream offsets of the two segments).
func (p Overlap) NewWins(os, oe, ns, ne int64) bool {
	if p >= numPolicies {
		return false
	}
	return policyTable[p][rel(ns, os)][rel(ne, oe)]
}

// policy returns the overlap policy of h's receiver: Config.OverlapFor of
// the destination address of h's direction, or Config.Overlap.
func (a *Assembler) policy(h *half) Overlap {
	if a.cfg.OverlapFor != nil && h.Conn != nil {
		k := h.Conn.Key
		var dst netip.Addr
		if h.Dir == ClientToServer {
			dst = k.DstAddr().Addr()
		} else {
			dst = k.SrcAddr().Addr()
		}
		if p, ok := a.cfg.OverlapFor(dst); ok {
			return p
		}
	}
	return a.cfg.Overlap
}
