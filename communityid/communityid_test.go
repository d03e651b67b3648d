package communityid

import (
	"net/netip"
	"testing"
)

// vectors: the expected strings were computed by an independent
// implementation, Wireshark's Community ID dissector (tshark 4.0.17), on a
// capture of one packet per row written by testdata/vectors.py (its doc
// comment has the commands), for seed 0 and seed 1. The first row is the
// specification's own example flow (128.232.110.120:34855 -> 66.35.250.204:80,
// "1:LQU9qZlK+B5F3KDmev6m5PMibrg=").
var vectors = []struct {
	src, dst     string
	proto        uint8
	sport, dport uint16 // ICMP: type, code
	seed0, seed1 string
}{
	{"128.232.110.120", "66.35.250.204", 6, 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
	{"66.35.250.204", "128.232.110.120", 6, 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
	{"10.0.0.1", "10.0.0.2", 6, 50000, 80, "1:jFryvin7b0RtSlPCZ3QhbbsOrZc=", "1:Go+TIMEncGzk0ufH9f1EgEOg4l8="},
	{"10.0.0.2", "10.0.0.1", 6, 80, 50000, "1:jFryvin7b0RtSlPCZ3QhbbsOrZc=", "1:Go+TIMEncGzk0ufH9f1EgEOg4l8="},
	{"10.0.0.1", "10.0.0.1", 6, 443, 80, "1:ha3Gdb1ffmoH0pMumBteoAOl/+U=", "1:IDoNGzTRbInsOLyjI+sKSNLJ4RM="},
	{"192.168.1.52", "8.8.8.8", 17, 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
	{"8.8.8.8", "192.168.1.52", 17, 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
	{"fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 6, 1234, 5678, "1:Br2FphvROtNc3GdOSec6e+vP1RI=", "1:4KTtB+FZEcJIotwTBTO7h5/Ztdc="},
	{"2001:db8::1", "2001:db8::2", 17, 5353, 5353, "1:gCiVuzjJCKrZedsfv2NEMwkrqx4=", "1:BnhY0XXw6BnFOHk69JBzWr6TCe0="},
	{"2001:db8::2", "2001:db8::1", 6, 443, 40000, "1:RYG3Msb11GthNt1OYXJouPzmrvA=", "1:peWUSlQq1xlj1PK7Xj7V/6Aio78="},
	{"192.168.0.89", "192.168.0.1", 1, 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
	{"192.168.0.1", "192.168.0.89", 1, 0, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
	{"192.168.0.1", "192.168.0.89", 1, 3, 1, "1:o3zT92uTgnRWv/YrDVeXcWumpC4=", "1:qIf6lvHfIQaHHm53mh0AAtyR6IM="},
	{"192.168.0.89", "192.168.0.1", 1, 11, 0, "1:WWhK5yv9t1/eWrodrgw+6KseRoA=", "1:rMbtrew3evxPId/m9EePP9Qv9AM="},
	{"fe80::1", "fe80::2", 58, 128, 0, "1:3H+V/JVcqh/phPel5utt4dOKqOU=", "1:HHzHBM+PXiE1xxTuksszVZfBoNw="},
	{"fe80::2", "fe80::1", 58, 129, 0, "1:3H+V/JVcqh/phPel5utt4dOKqOU=", "1:HHzHBM+PXiE1xxTuksszVZfBoNw="},
	{"fe80::2", "fe80::1", 58, 1, 4, "1:KP7k20289QLlEmMHLKdRgaeGmfo=", "1:eDQBEUy7T7DBQPWmFIDM++sUoVY="},
	{"10.1.1.1", "10.2.2.2", 47, 0, 0, "1:7mbQX2u76wBrEo5NevKQdOm9mS0=", "1:qXuKek+eqjI2el3cntAglEnKgo4="},
	{"10.2.2.2", "10.1.1.1", 50, 0, 0, "1:iOwSFK2Hvf6E0bhNPYin5dJL4cg=", "1:zE8SQ97TVO2Lp6MNieyAcUwkx2Y="},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		f := Flow{Src: netip.MustParseAddr(v.src), Dst: netip.MustParseAddr(v.dst), Proto: v.proto, SrcPort: v.sport, DstPort: v.dport}
		if got := String(0, f); got != v.seed0 {
			t.Errorf("%+v seed 0: %s, want %s", v, got, v.seed0)
		}
		if got := String(1, f); got != v.seed1 {
			t.Errorf("%+v seed 1: %s, want %s", v, got, v.seed1)
		}
	}
}

func TestBadAddresses(t *testing.T) {
	for _, f := range []Flow{
		{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("::1"), Proto: ProtoTCP},
		{Dst: netip.MustParseAddr("10.0.0.1"), Proto: ProtoTCP},
	} {
		if s := String(0, f); s != "" {
			t.Errorf("%+v: %q, want empty", f, s)
		}
	}
	// An IPv4-mapped address is its IPv4 address.
	a := Flow{Src: netip.MustParseAddr("::ffff:10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: ProtoTCP, SrcPort: 50000, DstPort: 80}
	if s := String(0, a); s != "1:jFryvin7b0RtSlPCZ3QhbbsOrZc=" {
		t.Errorf("mapped: %s", s)
	}
}

func TestAppendAllocs(t *testing.T) {
	f := Flow{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: ProtoTCP, SrcPort: 1, DstPort: 2}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = Append(buf[:0], 0, f) }); n != 0 {
		t.Errorf("Append allocates %v times", n)
	}
}
