package tcpasm

import "testing"

// The target-based table: for each policy, who wins for a new segment N
// against an original O = [10, 20), N starting before/at/after O's start and
// ending before/at/after O's end (N always overlaps O).
func TestPolicyTable(t *testing.T) {
	// N's extents: [start][end] with start 5/10/12 and end 18/20/25.
	starts := [3]int64{5, 10, 12}
	ends := [3]int64{18, 20, 25}
	// Rows: start before, same, after; columns: end before, same, after.
	// 1: N wins.
	cases := map[Overlap][3][3]int{
		FirstWins:        {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
		LastWins:         {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}},
		PolicyBSD:        {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
		PolicyBSDRight:   {{0, 0, 1}, {0, 0, 1}, {0, 0, 1}},
		PolicyLinux:      {{1, 1, 1}, {0, 1, 1}, {0, 0, 0}},
		PolicyOldLinux:   {{1, 1, 1}, {0, 1, 1}, {0, 0, 0}},
		PolicyWindows:    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
		PolicyWindows2k3: {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
		PolicyHPUX10:     {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
		PolicyIRIX:       {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
		PolicyMacOS:      {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
		PolicySolaris:    {{0, 1, 1}, {0, 1, 1}, {0, 0, 1}},
		PolicyHPUX11:     {{0, 1, 1}, {0, 1, 1}, {0, 0, 1}},
		PolicyOldSolaris: {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
		PolicyVista:      {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
	}
	if len(cases) != int(numPolicies) {
		t.Fatalf("%d policies tested, %d defined", len(cases), numPolicies)
	}
	for p, want := range cases {
		for si, s := range starts {
			for ei, e := range ends {
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
