package framing_test

import (
	"bytes"
	"fmt"

	"github.com/reseq/reseq/tcpasm"
	"github.com/reseq/reseq/tcpasm/framing"
)

// lines frames newline-terminated messages; after a gap it resyncs at the next
// line start.
type lines struct{}

func (lines) Data(c *framing.Chunk) (int, bool) {
	i := bytes.IndexByte(c.Data, '\n')
	if i < 0 {
		return 0, false // hold: wait for the rest of the line
	}
	fmt.Printf("line at %d: %s\n", c.Off, c.Data[:i])
	return i + 1, false
}

func (lines) Resync(c *framing.Chunk) (int, bool) {
	i := bytes.IndexByte(c.Data, '\n')
	if i < 0 {
		return len(c.Data), false
	}
	return i + 1, true
}

func (lines) Gap(off, n int64, _ tcpasm.Reason, _ int64) bool {
	fmt.Printf("gap at %d, %d bytes\n", off, n)
	return true // the line in progress is lost
}

func (lines) End(r tcpasm.Reason, _ int64) { fmt.Println("end:", r) }

func Example() {
	f := framing.New(lines{}, framing.Config{}, true)
	f.Data(0, []byte("one\ntw"), 1)
	f.Data(6, []byte("o\nthr"), 2)
	f.Gap(11, 2, tcpasm.ReasonAcked, 3)
	f.Data(13, []byte("e-cut\nfour\n"), 4)
	f.End(tcpasm.ReasonFIN, 5)
	// Output:
	// line at 0: one
	// line at 4: two
	// gap at 11, 2 bytes
	// line at 19: four
	// end: fin
}
