package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// gzipZeros is n zero bytes gzipped layers times over (a small body that
// decodes to much more: a decompression bomb).
func gzipZeros(t *testing.T, n, layers int) []byte {
	var b bytes.Buffer
	z, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	z.Write(make([]byte, n))
	z.Close()
	for range layers - 1 {
		in := bytes.Clone(b.Bytes())
		b.Reset()
		z, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		z.Write(in)
		z.Close()
	}
	return b.Bytes()
}

// TestHTTPDecodeBounded: decoded copies obey --max-body each and
// --max-decoded-total in all, and the index says which were cut. They used to
// be bounded only at 1 GiB + 1 byte each.
func TestHTTPDecodeBounded(t *testing.T) {
	requireAssembler(t)
	dir := t.TempDir()
	bomb := gzipZeros(t, 3<<20, 2)
	var s2c bytes.Buffer
	var c2s bytes.Buffer
	for i := range 3 {
		fmt.Fprintf(&c2s, "GET /b%d HTTP/1.1\r\nHost: h\r\n\r\n", i)
		fmt.Fprintf(&s2c, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip, gzip\r\nContent-Length: %d\r\n\r\n%s", len(bomb), bomb)
	}
	c := &conversation{client: netip.MustParseAddrPort("10.0.0.1:40000"), server: netip.MustParseAddrPort("10.0.0.2:80"),
		c2s: c2s.Bytes(), s2c: s2c.Bytes(), isnC: 1, isnS: 2, mss: 1400}
	capt := writeCapture(t, dir, "bomb.pcap", c.packets())
	type rec struct {
		ResponseDecoded string `json:"response_decoded"`
		DecodeError     string `json:"decode_error"`
		DecodedCut      bool   `json:"decoded_cut"`
	}
	for _, tc := range []struct {
		args  []string
		sizes []int64 // of the decoded copies; -1: none
		cut   bool
	}{
		{[]string{"--decode"}, []int64{3 << 20, 3 << 20, 3 << 20}, false},
		{[]string{"--decode", "--max-body", "1M"}, []int64{1 << 20, 1 << 20, 1 << 20}, true},
		{[]string{"--decode", "--max-decoded-total", "4M"}, []int64{3 << 20, 1 << 20, -1}, true},
	} {
		out, recs := runHTTPCmd(t, tc.args, capt)
		if len(recs) != 3 {
			t.Fatalf("%v: %d records", tc.args, len(recs))
		}
		lines := readJSONL[rec](t, filepath.Join(out, "http.jsonl"))
		for i, r := range lines {
			size := int64(-1)
			if r.ResponseDecoded != "" {
				fi, err := os.Stat(filepath.Join(out, r.ResponseDecoded))
				if err != nil {
					t.Fatal(err)
				}
				size = fi.Size()
			}
			wantCut := tc.cut && (tc.sizes[i] != 3<<20)
			if size != tc.sizes[i] || r.DecodedCut != wantCut {
				t.Errorf("%v: exchange %d: decoded %d bytes, cut %v (%q), want %d bytes, cut %v", tc.args, i, size, r.DecodedCut, r.DecodeError, tc.sizes[i], wantCut)
			}
		}
	}
}

// readJSONL decodes every line of a JSON Lines file.
func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("%s: %v: %s", path, err, line)
		}
		out = append(out, v)
	}
	return out
}
