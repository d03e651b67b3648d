package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/reseq/reseq/pcapfile"
)

// httpRec is a decoded line of http.jsonl.
type httpRec struct {
	Src, Dst        string
	Conn            int
	Method          string
	Host            string
	Target          string
	Status          int
	ContentType     string `json:"content_type"`
	Incomplete      string `json:"incomplete"`
	RequestBody     string `json:"request_body"`
	ResponseBody    string `json:"response_body"`
	RequestSHA256   string `json:"request_sha256"`
	ResponseSHA256  string `json:"response_sha256"`
	RequestTime     string `json:"request_time"`
	ResponseTime    string `json:"response_time"`
	ResponseDecoded string `json:"response_decoded"`
	DecodeError     string `json:"decode_error"`
	PairedAfterLoss bool   `json:"paired_after_loss"`
	BodyCut         bool   `json:"body_cut"`
	Complete        bool
	Gaps            []httpGap
}

// runHTTPCmd runs 'reseq http' on the captures into a new directory and
// returns the directory and the index records.
func runHTTPCmd(t testing.TB, extra []string, captures ...string) (string, []httpRec) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	args := append([]string{"http", "-o", dir, "--quiet"}, extra...)
	code, _, stderr := runReseq(append(args, captures...)...)
	if code != 0 {
		t.Fatalf("reseq http: exit %d: %s", code, stderr)
	}
	return dir, readHTTPIndex(t, dir)
}

func readHTTPIndex(t testing.TB, dir string) []httpRec {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "http.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []httpRec
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r httpRec
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("http.jsonl: %v: %s", err, sc.Bytes())
		}
		// Fields every consumer relies on are present.
		var raw map[string]any
		json.Unmarshal(sc.Bytes(), &raw)
		for _, k := range []string{"src", "dst", "conn", "complete", "gaps"} {
			if _, ok := raw[k]; !ok {
				t.Fatalf("http.jsonl line without %q: %s", k, sc.Bytes())
			}
		}
		out = append(out, r)
	}
	return out
}

// bodyOf reads a body file named in the index ("" gives nil) and checks its
// sha256 against the index.
func bodyOf(t testing.TB, dir, name, sum string) []byte {
	t.Helper()
	if name == "" {
		if sum != "" && sum != hex.EncodeToString(sha256.New().Sum(nil)) {
			t.Fatalf("no body file but sha256 %s", sum)
		}
		return nil
	}
	if strings.Contains(name, "\\") || filepath.IsAbs(name) {
		t.Fatalf("body path %q not relative with '/'", name)
	}
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	if got := hex.EncodeToString(h[:]); got != sum {
		t.Fatalf("%s: sha256 %s, index says %s", name, got, sum)
	}
	return b
}

func TestHTTPUsage(t *testing.T) {
	dir := t.TempDir()
	if code, _, _ := runReseq("http"); code != exitUsage {
		t.Fatalf("no args: exit %d", code)
	}
	if code, _, _ := runReseq("http", "x.pcap"); code != exitUsage {
		t.Fatalf("no -o: exit %d", code)
	}
	if code, _, _ := runReseq("http", "-o", dir); code != exitUsage {
		t.Fatalf("no capture: exit %d", code)
	}
	if code, _, _ := runReseq("http", "--bogus", "-o", dir, "x"); code != exitUsage {
		t.Fatalf("bad flag: exit %d", code)
	}
	if code, stdout, _ := runReseq("http", "-h"); code != exitOK && !strings.Contains(stdout, "usage") {
		t.Fatalf("-h: exit %d", code)
	}
	os.WriteFile(filepath.Join(dir, "keep"), []byte("x"), 0o644)
	if code, _, stderr := runReseq("http", "-o", dir, "x.pcap"); code != exitInput || !strings.Contains(stderr, "not empty") {
		t.Fatalf("non-empty dir: exit %d %s", code, stderr)
	}
	requireAssembler(t)
	empty := t.TempDir()
	if code, _, _ := runReseq("http", "-o", empty, filepath.Join(dir, "missing.pcap")); code != exitInput {
		t.Fatalf("missing capture: exit %d", code)
	}
}

func gzipBytes(s string) []byte {
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	z.Write([]byte(s))
	z.Close()
	return b.Bytes()
}

// httpConversation builds a keep-alive conversation of n exchanges; bodies[i]
// is the i-th response body.
func httpConversation(client, server netip.AddrPort, bodies [][]byte, isn uint32, t0 int64) *conversation {
	var c2s, s2c bytes.Buffer
	for i, b := range bodies {
		fmt.Fprintf(&c2s, "GET /f%d HTTP/1.1\r\nHost: %s\r\nUser-Agent: test\r\n\r\n", i, server)
		fmt.Fprintf(&s2c, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", len(b))
		s2c.Write(b)
	}
	return &conversation{client: client, server: server, c2s: c2s.Bytes(), s2c: s2c.Bytes(), isnC: isn, isnS: isn ^ 0x5a5a5a5a, t0: t0, mss: 1400}
}

func TestHTTPGenerated(t *testing.T) {
	requireAssembler(t)
	dir := t.TempDir()
	client := netip.MustParseAddrPort("10.0.0.1:40000")
	server := netip.MustParseAddrPort("10.0.0.2:8080")
	page := strings.Repeat("<p>hello</p>\n", 300)
	chunkedBody := "4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n"
	c := &conversation{client: client, server: server, isnC: 0xfffff000, isnS: 77, mss: 500,
		c2s: []byte("GET /page HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n" +
			"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello" +
			"HEAD /page HTTP/1.1\r\nHost: h\r\n\r\n" +
			"GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n" +
			"GET /close HTTP/1.0\r\n\r\n"),
	}
	gz := gzipBytes(page)
	c.s2c = []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(gz), gz) +
		"HTTP/1.1 204 No Content\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody +
		"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close")
	capt := writeCapture(t, dir, "gen.pcap", c.packets())
	out, recs := runHTTPCmd(t, []string{"--decode"}, capt)
	want := []struct {
		method, target string
		status         int
		body           string
	}{
		{"GET", "/page", 200, string(gz)},
		{"POST", "/up", 204, ""},
		{"HEAD", "/page", 200, ""},
		{"GET", "/chunked", 200, "wikipedia"},
		{"GET", "/close", 200, "until close"},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records: %+v", len(recs), recs)
	}
	for i, w := range want {
		r := recs[i]
		if r.Method != w.method || r.Target != w.target || r.Status != w.status || !r.Complete || len(r.Gaps) != 0 {
			t.Errorf("record %d: %+v", i, r)
		}
		if r.Src != client.String() || r.Dst != server.String() || r.Conn != 0 {
			t.Errorf("record %d endpoints %s %s %d", i, r.Src, r.Dst, r.Conn)
		}
		if got := bodyOf(t, out, r.ResponseBody, r.ResponseSHA256); string(got) != w.body {
			t.Errorf("record %d body %q", i, got)
		}
		if r.RequestTime == "" || r.ResponseTime == "" || r.ResponseTime < r.RequestTime {
			t.Errorf("record %d times %q %q", i, r.RequestTime, r.ResponseTime)
		}
	}
	if b := bodyOf(t, out, recs[1].RequestBody, recs[1].RequestSHA256); string(b) != "hello" || recs[1].ContentType != "text/plain" {
		t.Errorf("request body %q, content type %q", b, recs[1].ContentType)
	}
	if recs[0].ResponseDecoded == "" {
		t.Fatalf("no decoded body: %+v", recs[0])
	}
	if dec, _ := os.ReadFile(filepath.Join(out, recs[0].ResponseDecoded)); string(dec) != page {
		t.Errorf("decoded body %d bytes", len(dec))
	}
	if recs[0].ContentType != "text/html" || recs[0].Host != "h" {
		t.Errorf("content type %q host %q", recs[0].ContentType, recs[0].Host)
	}

	// --max-body: bodies are cut, the index says so, hashes follow the files.
	out, recs = runHTTPCmd(t, []string{"--max-body", "8"}, capt)
	if len(recs) != len(want) {
		t.Fatalf("--max-body: %d records", len(recs))
	}
	for i, w := range want {
		b := bodyOf(t, out, recs[i].ResponseBody, recs[i].ResponseSHA256)
		if string(b) != w.body[:min(8, len(w.body))] || recs[i].BodyCut != (len(w.body) > 8) {
			t.Errorf("--max-body record %d: body %q cut %v", i, b, recs[i].BodyCut)
		}
	}
}

// seedExamples returns ../shared/corpus/pcap_tcp_assembler/examples or skips.
func seedExamples(t testing.TB) string {
	t.Helper()
	d, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			break
		}
		p := filepath.Dir(d)
		if p == d {
			t.Skip("repository root (go.work) not found")
		}
		d = p
	}
	ex := filepath.Join(d, "..", "shared", "corpus", "pcap_tcp_assembler", "examples")
	if _, err := os.Stat(filepath.Join(ex, "segmented_tcp2.pcap")); err != nil {
		t.Skip("seed examples not present")
	}
	return ex
}

// dropFrames copies a pcap without the given frames (1-based, as editcap
// counts them).
func dropFrames(t testing.TB, src, dst string, drop func(n int) bool) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := pcapfile.NewWriter(&buf, r.LinkType(), r.Snaplen(), r.Nanosecond())
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; ; n++ {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if drop(n) {
			continue
		}
		if err := w.WritePacket(p.Timestamp, p.Data, p.Length); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

var seedFiles = map[string]string{
	"/": "index.html", "/main.css": "main.css", "/img1.jpg": "img1.jpg", "/img2.png": "img2.png", "/img3.png": "img3.png",
}

func TestHTTPSeedExample(t *testing.T) {
	requireAssembler(t)
	ex := seedExamples(t)
	www := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(ex, "www", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tmp := t.TempDir()

	t.Run("whole", func(t *testing.T) {
		out, recs := runHTTPCmd(t, nil, filepath.Join(ex, "segmented_tcp2.pcap"))
		seen := map[string]bool{}
		for _, r := range recs {
			if !r.Complete || len(r.Gaps) != 0 {
				t.Errorf("%s %s incomplete: %+v", r.Method, r.Target, r)
			}
			body := bodyOf(t, out, r.ResponseBody, r.ResponseSHA256)
			if name, ok := seedFiles[r.Target]; ok {
				if r.Status != 200 || !bytes.Equal(body, www(name)) {
					t.Errorf("%s: status %d, body %d bytes, want %s", r.Target, r.Status, len(body), name)
				}
				seen[r.Target] = true
			} else if r.Target != "/svg/binary-desktop.svg" || r.Status != 404 {
				t.Errorf("unexpected exchange %+v", r)
			}
			if r.Src != "192.168.56.1:"+strings.Split(r.Src, ":")[1] || !strings.HasSuffix(r.Dst, ":3000") {
				t.Errorf("endpoints %s -> %s", r.Src, r.Dst)
			}
		}
		if len(seen) != len(seedFiles) || len(recs) != 6 {
			t.Fatalf("%d exchanges, files seen %v", len(recs), seen)
		}
	})

	t.Run("frame60", func(t *testing.T) {
		capt := filepath.Join(tmp, "no60.pcap")
		dropFrames(t, filepath.Join(ex, "segmented_tcp2.pcap"), capt, func(n int) bool { return n == 60 })
		out, recs := runHTTPCmd(t, nil, capt)
		var css, notFound *httpRec
		for i := range recs {
			switch recs[i].Target {
			case "/main.css":
				css = &recs[i]
			case "/svg/binary-desktop.svg":
				notFound = &recs[i]
			}
		}
		if css == nil || notFound == nil {
			t.Fatalf("records %+v", recs)
		}
		if css.Complete || len(css.Gaps) != 1 || css.Gaps[0].Direction != "response" || css.Gaps[0].Length != 1460 {
			t.Fatalf("main.css: %+v", css)
		}
		// The captured bytes are at their offsets, the lost 1460 are zeros.
		body := bodyOf(t, out, css.ResponseBody, css.ResponseSHA256)
		want := www("main.css")
		if len(body) != len(want) {
			t.Fatalf("main.css body %d bytes, want %d", len(body), len(want))
		}
		hdrEnd := int64(len(want)) - int64(len(body)) // 0: the body file is offset-preserving
		_ = hdrEnd
		holes := 0
		for i := range body {
			if body[i] != want[i] {
				if body[i] != 0 {
					t.Fatalf("main.css byte %d spliced: %q", i, body[i])
				}
				holes++
			}
		}
		if holes == 0 || holes > 1460 {
			t.Fatalf("main.css differs in %d bytes", holes)
		}
		if !notFound.Complete || notFound.Status != 404 || notFound.Src != css.Src {
			t.Fatalf("404 after the gap: %+v", notFound)
		}
		for _, r := range recs {
			if r.Target != "/main.css" && !r.Complete {
				t.Errorf("%s incomplete", r.Target)
			}
		}
	})

	t.Run("first7", func(t *testing.T) {
		capt := filepath.Join(tmp, "cut7.pcap")
		dropFrames(t, filepath.Join(ex, "segmented_tcp2.pcap"), capt, func(n int) bool { return n <= 7 })
		out, recs := runHTTPCmd(t, nil, capt)
		var targets []string
		for _, r := range recs {
			targets = append(targets, r.Target)
			if r.Target == "/" || r.Method == "" {
				t.Errorf("exchange from the cut start: %+v", r)
				continue
			}
			if !r.Complete {
				t.Errorf("%s incomplete", r.Target)
			}
			if name, ok := seedFiles[r.Target]; ok {
				if !bytes.Equal(bodyOf(t, out, r.ResponseBody, r.ResponseSHA256), www(name)) {
					t.Errorf("%s body differs", r.Target)
				}
			}
		}
		sort.Strings(targets)
		if fmt.Sprint(targets) != "[/img1.jpg /img2.png /img3.png /main.css /svg/binary-desktop.svg]" {
			t.Fatalf("exchanges %v", targets)
		}
	})
}

func TestHTTPRealKeepalive(t *testing.T) {
	requireAssembler(t)
	real := realRoot(t)
	capt := filepath.Join(real, "http_keepalive.pcap")
	if _, err := os.Stat(capt); err != nil {
		t.Skip("http_keepalive.pcap not present")
	}
	var files []struct {
		Name   string
		Size   int64
		SHA256 string
	}
	b, err := os.ReadFile(filepath.Join(real, "http_keepalive.files.json"))
	if err != nil {
		t.Skip(err)
	}
	if err := json.Unmarshal(b, &files); err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, f := range files {
		sums["/"+f.Name] = f.SHA256
	}
	plan, _ := os.ReadFile(filepath.Join(real, "http_keepalive.plan"))
	wantN := len(strings.Fields(string(plan)))
	out, recs := runHTTPCmd(t, nil, capt)
	if len(recs) != wantN {
		t.Errorf("%d exchanges, plan has %d URLs", len(recs), wantN)
	}
	for _, r := range recs {
		want, ok := sums[r.Target]
		if !ok || r.Status != 200 || r.Method != "GET" {
			t.Errorf("unexpected exchange %+v", r)
			continue
		}
		if !r.Complete {
			t.Errorf("%s incomplete: gaps %v", r.Target, r.Gaps)
			continue
		}
		if r.ResponseSHA256 != want {
			t.Errorf("%s: sha256 %s, served %s", r.Target, r.ResponseSHA256, want)
		}
		bodyOf(t, out, r.ResponseBody, r.ResponseSHA256)
	}
}

// TestHTTPResyncTrap runs the bench capture whose payload only looks like
// HTTP: no exchange may come out of it.
func TestHTTPResyncTrap(t *testing.T) {
	requireAssembler(t)
	if testing.Short() {
		t.Skip("reads a 3.5 MB zstd capture")
	}
	ex := seedExamples(t)
	trap := filepath.Join(ex, "..", "..", "..", "bench", "small.pcap.zst")
	if _, err := os.Stat(trap); err != nil {
		t.Skip("bench capture not present")
	}
	_, recs := runHTTPCmd(t, nil, trap)
	if len(recs) != 0 {
		t.Fatalf("%d false exchanges, first %+v", len(recs), recs[0])
	}
}

// BenchmarkHTTP measures 'reseq http' on a capture of many small keep-alive
// exchanges over clean connections.
func BenchmarkHTTP(b *testing.B) {
	dir := b.TempDir()
	const conns, perConn = 200, 20
	var pkts []tcpPkt
	var wire int64
	for i := 0; i < conns; i++ {
		bodies := make([][]byte, perConn)
		for j := range bodies {
			bodies[j] = pattern(200+(i*31+j*17)%1800, byte(i+j))
		}
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(30000+i))
		c := httpConversation(client, netip.MustParseAddrPort("10.2.0.1:80"), bodies, uint32(i)*7919, 1_700_000_000_000_000_000+int64(i)*50*ms)
		wire += int64(len(c.c2s) + len(c.s2c))
		pkts = mergeByTime(pkts, c.packets())
	}
	capt := filepath.Join(dir, "bench.pcap")
	f, err := os.Create(capt)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	w, err := pcapfile.NewWriter(bw, 1, 65535, true)
	if err != nil {
		b.Fatal(err)
	}
	for i := range pkts {
		data, orig := pkts[i].frame()
		if err := w.WritePacket(pkts[i].ts, data, orig); err != nil {
			b.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	// Output to the test's temporary directory (disk), and to /dev/shm when
	// there is one: each body is a file, and creating files dominates on a
	// slow or busy disk.
	outs := map[string]string{"disk": dir}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "reseq-bench"); err == nil {
			defer os.RemoveAll(d)
			outs["shm"] = d
		}
	}
	for _, where := range []string{"disk", "shm"} {
		base, ok := outs[where]
		if !ok {
			continue
		}
		b.Run(where, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				out := filepath.Join(base, fmt.Sprint("out", i))
				if code, _, stderr := runReseq("http", "-o", out, "--quiet", capt); code != 0 {
					b.Fatal(stderr)
				}
				b.StopTimer()
				os.RemoveAll(out)
				b.StartTimer()
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(conns*perConn)/sec, "exchanges/s")
			b.ReportMetric(float64(wire)/1e6/sec, "MB/s")
		})
	}
}

func TestHTTPRealKeepaliveLossy(t *testing.T) {
	requireAssembler(t)
	real := realRoot(t)
	capt := filepath.Join(real, "http_keepalive.pcap")
	if _, err := os.Stat(capt); err != nil {
		t.Skip("http_keepalive.pcap not present")
	}
	var files []struct {
		Name   string
		SHA256 string
	}
	b, err := os.ReadFile(filepath.Join(real, "http_keepalive.files.json"))
	if err != nil {
		t.Skip(err)
	}
	json.Unmarshal(b, &files)
	sums := map[string]string{}
	for _, f := range files {
		sums["/"+f.Name] = f.SHA256
	}
	plan, _ := os.ReadFile(filepath.Join(real, "http_keepalive.plan"))
	planned := len(strings.Fields(string(plan)))
	for _, every := range []int{23, 97} {
		t.Run(fmt.Sprint("every", every), func(t *testing.T) {
			lossy := filepath.Join(t.TempDir(), "lossy.pcap")
			dropped := 0
			f, _ := os.Open(capt)
			r, err := pcapfile.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w, _ := pcapfile.NewWriter(&buf, r.LinkType(), r.Snaplen(), r.Nanosecond())
			for n := 1; ; n++ {
				p, err := r.Next()
				if err != nil {
					break
				}
				if n%every == 0 && len(p.Data) > 100 { // a frame carrying data
					dropped++
					continue
				}
				w.WritePacket(p.Timestamp, p.Data, p.Length)
			}
			f.Close()
			os.WriteFile(lossy, buf.Bytes(), 0o644)
			out, recs := runHTTPCmd(t, nil, lossy)
			complete := 0
			for _, r := range recs {
				if r.Target != "" {
					if _, ok := sums[r.Target]; !ok {
						t.Errorf("false exchange %+v", r)
						continue
					}
				}
				if !r.Complete {
					if r.Target != "" && r.Status != 0 && len(r.Gaps) == 0 {
						if !r.PairedAfterLoss {
							t.Errorf("%s incomplete without gaps", r.Target)
						} else if r.ResponseSHA256 != sums[r.Target] {
							t.Logf("%s paired after loss with another response", r.Target)
						}
					}
					continue
				}
				complete++
				if len(r.Gaps) != 0 || r.ResponseSHA256 != sums[r.Target] {
					t.Errorf("%s complete but sha256 %s, served %s (gaps %v)", r.Target, r.ResponseSHA256, sums[r.Target], r.Gaps)
				}
				bodyOf(t, out, r.ResponseBody, r.ResponseSHA256)
			}
			t.Logf("dropped %d frames: %d exchanges, %d complete of %d planned", dropped, len(recs), complete, planned)
			if complete < planned/2 {
				t.Errorf("only %d of %d exchanges complete", complete, planned)
			}
		})
	}
}

// TestHTTPZeekDroppedResponse: 1000 keep-alive exchanges whose first response
// header the capture lost. The responses after it are delivered late in one
// batch (held above the hole); they must still pair with their own requests:
// one request without a response, no response without a request.
func TestHTTPZeekDroppedResponse(t *testing.T) {
	ex := seedExamples(t)
	capt := filepath.Join(ex, "..", "..", "zeek", "testing", "btest", "Traces", "http", "1000-requests-one-dropped-response.pcap.gz")
	if _, err := os.Stat(capt); err != nil {
		t.Skip("zeek trace not present")
	}
	out, recs := runHTTPCmd(t, nil, capt)
	if len(recs) != 1000 {
		t.Fatalf("%d exchanges", len(recs))
	}
	var unanswered, unrequested, complete int
	var sum string
	for _, r := range recs {
		switch {
		case r.Status == 0:
			unanswered++
		case r.Method == "":
			unrequested++
		}
		if r.Complete {
			complete++
			if sum == "" {
				sum = r.ResponseSHA256
			}
			if r.ResponseSHA256 != sum {
				t.Fatalf("complete responses differ: %s %s", sum, r.ResponseSHA256)
			}
			bodyOf(t, out, r.ResponseBody, r.ResponseSHA256)
		}
	}
	if unanswered != 1 || unrequested != 0 || recs[0].Status != 0 || complete < 900 {
		t.Fatalf("unanswered %d (first: status %d), unrequested %d, complete %d", unanswered, recs[0].Status, unrequested, complete)
	}
}

// TestHTTPLateFill: a body segment captured after its ACK and after the
// reorder window (so the assembler reported a gap, then delivered the bytes
// late) fills the body's hole: the exchange ends complete, the body exact.
func TestHTTPLateFill(t *testing.T) {
	dir := t.TempDir()
	body := pattern(2500, 3)
	c := httpConversation(netip.MustParseAddrPort("10.9.0.1:5555"), netip.MustParseAddrPort("10.9.0.2:80"), [][]byte{body}, 1000, 0)
	c.mss = 500
	pkts := c.packets()
	var data []int // indexes of server data segments
	for i, p := range pkts {
		if p.src.Port() == 80 && len(p.payload) > 0 {
			data = append(data, i)
		}
	}
	if len(data) < 6 {
		t.Fatalf("%d server segments", len(data))
	}
	// Move the third segment (body bytes) to just before the sixth.
	from, to := data[2], data[5]
	moved := pkts[from]
	moved.ts = pkts[to].ts - 1000
	var re []tcpPkt
	for i, p := range pkts {
		if i == from {
			continue
		}
		if i == to {
			re = append(re, moved)
		}
		re = append(re, p)
	}
	capt := writeCapture(t, dir, "late.pcap", re)
	out, recs := runHTTPCmd(t, []string{"--reorder-window", "100us"}, capt)
	if len(recs) != 1 {
		t.Fatalf("records %+v", recs)
	}
	r := recs[0]
	if got := bodyOf(t, out, r.ResponseBody, r.ResponseSHA256); !bytes.Equal(got, body) || !r.Complete || len(r.Gaps) != 0 {
		t.Fatalf("complete %v gaps %v, body equal %v", r.Complete, r.Gaps, bytes.Equal(got, body))
	}
	// Without the late bytes (window long enough, no gap) the result is the
	// same; with no reorder allowance at all the assembler must still not
	// lose them.
	_, recs = runHTTPCmd(t, []string{"--reorder-window", "0"}, capt)
	if len(recs) != 1 || !recs[0].Complete || recs[0].ResponseSHA256 != r.ResponseSHA256 {
		t.Fatalf("no reorder window: %+v", recs)
	}
}

// TestHTTPSuricataGaps: suricata-verify's HTTP body-gap captures. A gap inside
// a Content-Length body leaves the message incomplete with exactly its gaps,
// and the exchanges around it complete and certainly paired.
func TestHTTPSuricataGaps(t *testing.T) {
	ex := seedExamples(t)
	for _, tc := range []struct {
		name string
		gaps []httpGap
	}{
		{"http-gap-simple", []httpGap{{"response", 263, 14}}},
		{"http-gap-double", []httpGap{{"response", 263, 14}, {"response", 291, 14}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			capt := filepath.Join(ex, "..", "..", "suricata-verify", "tests", tc.name, "input.pcap")
			if _, err := os.Stat(capt); err != nil {
				t.Skip("capture not present")
			}
			_, recs := runHTTPCmd(t, nil, capt)
			if len(recs) != 3 {
				t.Fatalf("%d exchanges", len(recs))
			}
			for i, r := range recs {
				if r.Target != fmt.Sprintf("/%d", i+1) || r.Status != 200 || r.PairedAfterLoss {
					t.Errorf("exchange %d: %+v", i, r)
				}
				if wantComplete := i != 1; r.Complete != wantComplete {
					t.Errorf("%s complete %v", r.Target, r.Complete)
				}
			}
			if fmt.Sprint(recs[1].Gaps) != fmt.Sprint(tc.gaps) {
				t.Errorf("gaps %v, want %v", recs[1].Gaps, tc.gaps)
			}
		})
	}
}
