package wrapcap

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/reseq/reseq/internal/testshared"
	"github.com/reseq/reseq/pcapfile"
)

// tsharkSpecs are every spec tshark can judge (ppp-pppd, link type 166,
// tshark 4.0 does not read). The default run takes a few per capture, in
// turn; WRAPCAP_TSHARK_ALL=1 runs them all on the whole captures.
var tsharkSpecs = []string{
	"mpls", "mpls:100,200,300", "mpls-pw", "mpls-pw-nocw", "pppoe", "qinq-pppoe",
	"llcsnap,frag:1492", "gre", "gre-key:77", "gre-seq", "gre-csum", "gre-eth", "gre6",
	"erspan2:5", "erspan3:6", "erspan3p:7", "vxlan:5001", "vxlan6:5001", "geneve:5002",
	"gtpu:4097", "ipip", "6in4", "4in6", "6in6", "nflog", "ppp", "ppp-dir", "ppp-hdlc",
	"frag:576", "frag-rev:576", "frag-shuffle:576:3", "vxlan:5001,outer-frag:1400",
	"6in4,frag:576", "mirror-vxlan", "mirror-erspan2", "mirror-erspan3",
}

type tcpView struct {
	packets int
	bytes   map[string]int // "stream/srcport" -> TCP payload bytes
}

func tsharkView(t *testing.T, path string, spec string) tcpView {
	t.Helper()
	args := []string{"-n", "-r", path}
	if strings.Contains(spec, "nocw") {
		// mpls-pw-nocw's payload has no first-nibble hint: tell tshark.
		args = append(args, "-d", "mpls.label==200,pwethnocw")
	}
	args = append(args, "-Y", "tcp", "-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.len")
	cmd := exec.Command("tshark", args...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	v := tcpView{bytes: map[string]int{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 3 {
			continue
		}
		v.packets++
		n, _ := strconv.Atoi(f[2])
		v.bytes[f[0]+"/"+f[1]] += n
	}
	return v
}

// head writes the first n packets of a capture to a pcap in dir.
func head(t *testing.T, src string, n int, dir string) string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, nano, err := open(f)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	var pw *pcapfile.Writer
	for i := 0; n <= 0 || i < n; i++ {
		p, lt, err := in.next()
		if err != nil {
			break
		}
		if pw == nil {
			if pw, err = pcapfile.NewWriter(&b, lt, OutSnaplen, nano); err != nil {
				t.Fatal(err)
			}
		}
		pw.WritePacket(p.Timestamp, p.Data, p.Length)
	}
	out := filepath.Join(dir, filepath.Base(src)+".head.pcap")
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTshark wraps real captures and checks with tshark that every spec
// keeps the TCP packet count (fragments reassembled by tshark) and the TCP
// payload bytes of every stream direction; mirror specs double both.
func TestTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark absent")
	}
	real := testshared.Dir(t, "real")
	all := os.Getenv("WRAPCAP_TSHARK_ALL") != ""
	limit, per := 200, 2
	if all {
		limit, per = 0, len(tsharkSpecs)
	}
	dir := t.TempDir()
	k := 0
	for _, name := range []string{"lossy_v4.pcap", "clean_v6_nano.pcap", "http_keepalive.pcap"} {
		src := filepath.Join(real, name)
		if _, err := os.Stat(src); err != nil {
			t.Logf("%s absent", src)
			continue
		}
		small := head(t, src, limit, dir)
		ref := tsharkView(t, small, "")
		data, err := os.ReadFile(small)
		if err != nil {
			t.Fatal(err)
		}
		for range per {
			spec := tsharkSpecs[k%len(tsharkSpecs)]
			k++
			out, st, err := WrapBytes(data, spec)
			if err != nil {
				t.Errorf("%s %s: %v", name, spec, err)
				continue
			}
			p := filepath.Join(dir, "out.pcap")
			if err := os.WriteFile(p, out, 0o644); err != nil {
				t.Fatal(err)
			}
			got := tsharkView(t, p, spec)
			mult := 1
			if strings.HasPrefix(spec, "mirror") {
				mult = 2
			}
			bad := got.packets != mult*ref.packets
			for key, n := range ref.bytes {
				if got.bytes[key] != mult*n {
					bad = true
				}
			}
			msg := fmt.Sprintf("%s [%s]: %d TCP packets (original %d), %d stream directions, %d packets written (%d fragments)",
				name, spec, got.packets, ref.packets, len(got.bytes), st.Out, st.Fragments)
			if bad || len(got.bytes) != len(ref.bytes) {
				t.Errorf("%s: bytes per direction %v, original %v", msg, got.bytes, ref.bytes)
			} else {
				t.Log(msg)
			}
		}
	}
}
