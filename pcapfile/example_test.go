package pcapfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/reseq/reseq/pcapfile"
)

func Example() {
	// Write a small nanosecond capture, then read it back.
	var buf bytes.Buffer
	w, err := pcapfile.NewWriter(&buf, 1 /* Ethernet */, 65535, true)
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC).UnixNano()
	w.WritePacket(t0, []byte("frame one"), 60)
	w.WritePacket(t0+1500, []byte("frame two"), 9)

	r, err := pcapfile.NewReader(&buf)
	if err != nil {
		panic(err)
	}
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Println(time.Unix(0, p.Timestamp).UTC().Format(time.RFC3339Nano), p.Length, len(p.Data), p.LinkType)
	}
	// Output:
	// 2024-05-01T12:00:00.123456789Z 60 9 1
	// 2024-05-01T12:00:00.123458289Z 9 9 1
}

func ExampleReader_Next_truncated() {
	var buf bytes.Buffer
	w, _ := pcapfile.NewWriter(&buf, 1, 0, false)
	w.WritePacket(1e9, []byte("complete"), 8)
	w.WritePacket(2e9, []byte("cut short"), 9)
	file := buf.Bytes()[:buf.Len()-3]

	r, _ := pcapfile.NewReader(bytes.NewReader(file))
	for {
		p, err := r.Next()
		if err != nil {
			var fe *pcapfile.FormatError
			fmt.Println(errors.Is(err, pcapfile.ErrTruncated), errors.As(err, &fe) && fe.Offset == 48)
			fmt.Println(err)
			break
		}
		fmt.Printf("%q\n", p.Data)
	}
	// Output:
	// "complete"
	// true true
	// pcap: offset 48: truncated: record of 25 bytes (caplen 9): 22 bytes left
}

func ExampleNewReader_notPcap() {
	_, err := pcapfile.NewReader(bytes.NewReader([]byte("this is plain text, not a capture")))
	fmt.Println(errors.Is(err, pcapfile.ErrNotPcap))
	fmt.Println(err)
	// Output:
	// true
	// pcap: offset 0: not a pcap capture: starts with 7468697320697320706c61696e207465
}

func ExampleNewReaderBytes() {
	var buf bytes.Buffer
	w, _ := pcapfile.NewWriter(&buf, 1, 0, false)
	w.WritePacket(1e9, []byte("in place"), 8)
	w.WritePacket(2e9, []byte("cut short"), 9)
	file := buf.Bytes()[:buf.Len()-3] // a capture in memory (a mapped file, say)

	r, _ := pcapfile.NewReaderBytes(file)
	for {
		p, err := r.Next()
		if err != nil {
			fmt.Println(err) // the same error NewReader gives
			break
		}
		// Data is a sub-slice of file: nothing was copied.
		fmt.Printf("%q %v\n", p.Data, &p.Data[0] == &file[24+16])
	}
	// Output:
	// "in place" true
	// pcap: offset 48: truncated: record of 25 bytes (caplen 9): 22 bytes left
}
