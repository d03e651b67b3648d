package pcapng_test

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/reseq/reseq/pcapng"
)

func Example() {
	var buf bytes.Buffer
	w, err := pcapng.NewWriter(&buf)
	if err != nil {
		panic(err)
	}
	eth, _ := w.AddInterface(1, 65535, 9)     // Ethernet, nanoseconds
	raw, _ := w.AddInterface(101, 0, 0x80|20) // raw IP, 2^-20 s units: about 954 ns, rounded down
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC).UnixNano()
	w.WritePacket(eth, t0, []byte("ethernet frame"), 60)
	w.WritePacket(raw, t0, []byte("ip packet"), 9)

	r, err := pcapng.NewReader(&buf)
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
		fmt.Println(p.Interface, p.LinkType, time.Unix(0, p.Timestamp).UTC().Format(time.RFC3339Nano), p.Length, string(p.Data))
	}
	fmt.Println(len(r.Sections()), "section,", len(r.Interfaces()), "interfaces")
	// Output:
	// 0 1 2024-05-01T12:00:00.123456789Z 60 ethernet frame
	// 1 101 2024-05-01T12:00:00.123456001Z 9 ip packet
	// 1 section, 2 interfaces
}

// ExampleReader_Interfaces shows the metadata a capture summary needs: the
// sections, each interface's link type and snaplen, and the drop counters of
// the interface statistics blocks, all available once the packets are read.
func ExampleReader_Interfaces() {
	var buf bytes.Buffer
	w, _ := pcapng.NewWriter(&buf)
	w.AddInterface(1, 262144, 6)
	w.AddInterface(276, 0, 9)
	w.WritePacket(0, 1e15, []byte("a"), 1)
	w.WritePacket(1, 2e15, []byte("b"), 1)

	r, _ := pcapng.NewReader(&buf)
	for {
		if _, err := r.Next(); err != nil {
			break
		}
	}
	for _, in := range r.Interfaces() {
		fmt.Printf("section %d interface %d: link type %d, snaplen %d, %d packets, drops known: %v\n",
			in.Section, in.Index, in.LinkType, in.SnapLen, in.Packets, in.Stats.Blocks > 0 && in.Stats.IfDrop >= 0)
	}
	fmt.Println(r.BlockCounts()[pcapng.BlockEPB], "enhanced packet blocks in", len(r.Sections()), "section")
	// Output:
	// section 0 interface 0: link type 1, snaplen 262144, 1 packets, drops known: false
	// section 0 interface 1: link type 276, snaplen 0, 1 packets, drops known: false
	// 2 enhanced packet blocks in 1 section
}

func ExampleNewReaderBytes() {
	var buf bytes.Buffer
	w, _ := pcapng.NewWriter(&buf)
	eth, _ := w.AddInterface(1, 0, 9)
	w.WritePacket(eth, 1e9, []byte("read in place"), 13)
	file := buf.Bytes() // a capture in memory (a mapped file, say)

	r, err := pcapng.NewReaderBytes(file)
	if err != nil {
		panic(err)
	}
	for {
		p, err := r.Next()
		if err != nil {
			fmt.Println(err)
			break
		}
		// Data is a sub-slice of file at the block's offset: nothing was copied.
		fmt.Printf("%q %v\n", p.Data, &p.Data[0] == &file[p.Offset+28])
	}
	// Output:
	// "read in place" true
	// EOF
}
