package reseq_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/pcapfile"
)

// writeCapture writes a gzip-compressed pcap of n packets, one every second
// from start, to a file in dir.
func writeCapture(dir, name string, start int64, n int) string {
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	w, err := pcapfile.NewWriter(z, 1, 65535, false)
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < n; i++ {
		data := []byte(fmt.Sprintf("%s packet %d", name, i))
		if err := w.WritePacket((start+int64(i))*1e9, data, len(data)); err != nil {
			log.Fatal(err)
		}
	}
	z.Close()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	return path
}

// Open two rotated captures (compressed; recognised by their content, not by
// their names) and read their packets merged by timestamp.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "reseq-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	a := writeCapture(dir, "a", 100, 2) // at 100 s and 101 s
	b := writeCapture(dir, "b", 100, 3) // at 100 s, 101 s, 102 s

	r, err := reseq.Open(a, b)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	for _, c := range r.Captures() {
		fmt.Println(filepath.Base(c.Name), c.Format, c.Version, c.CompressionName())
	}
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			// An *reseq.InputError names the capture and the byte offset;
			// the other captures go on.
			fmt.Println("error:", err)
			continue
		}
		fmt.Printf("#%d t=%ds source %d: %s\n", p.Index, p.Timestamp/1e9, p.Source, p.Data)
	}
	// Output:
	// a pcap 2.4 gzip
	// b pcap 2.4 gzip
	// #0 t=100s source 0: a packet 0
	// #1 t=100s source 1: b packet 0
	// #2 t=101s source 0: a packet 1
	// #3 t=101s source 1: b packet 1
	// #4 t=102s source 1: b packet 2
}

// Read a zip archive of captures from any io.Reader (here memory; Open takes
// file names): its capture members are merged, other members skipped.
func ExampleNewReader() {
	var pcap bytes.Buffer
	w, _ := pcapfile.NewWriter(&pcap, 1, 65535, false)
	w.WritePacket(100e9, []byte("hello"), 5)

	var archive bytes.Buffer
	zw := zip.NewWriter(&archive)
	f, _ := zw.Create("day1/capture.pcap")
	f.Write(pcap.Bytes())
	f, _ = zw.Create("day1/notes.txt")
	f.Write([]byte("rotated every hour"))
	zw.Close()

	r, err := reseq.NewReader(&archive, "captures.zip")
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	for _, c := range r.Captures() {
		fmt.Println("capture:", c.Name, c.Format, c.CompressionName())
	}
	for _, s := range r.Skipped() {
		fmt.Println("skipped:", s.Name)
	}
	for {
		p, err := r.Next()
		if err != nil {
			break // io.EOF, or an *reseq.InputError
		}
		fmt.Printf("%q from capture %d\n", p.Data, p.Source)
	}
	// Output:
	// capture: captures.zip!day1/capture.pcap pcap deflate
	// skipped: captures.zip!day1/notes.txt
	// "hello" from capture 0
}
