package pipeline_test

import (
	"fmt"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// bytesPerStream prints each stream direction's totals when it closes.
type bytesPerStream struct{}

func (bytesPerStream) Open(*tcpasm.Conn)                                      {}
func (bytesPerStream) Data(*tcpasm.Stream, int64, []byte, int64)              {}
func (bytesPerStream) Gap(*tcpasm.Stream, int64, int64, tcpasm.Reason, int64) {}
func (bytesPerStream) Late(*tcpasm.Stream, int64, []byte, int64)              {}
func (bytesPerStream) Conflict(*tcpasm.Stream, tcpasm.Conflict, int64)        {}
func (bytesPerStream) Close(s *tcpasm.Stream, r tcpasm.Reason, _ int64) {
	fmt.Printf("%v dir %d: %d bytes, %d in gaps, closed by %v\n", s.Conn.Key, s.Dir, s.Stats.Bytes, s.Stats.GapBytes, r)
}

// Read a capture, decode it and reassemble its TCP streams: the reading and
// decoding run on a goroutine of Run's, the assembling (and so the handler) on
// the caller's.
func Example() {
	r, err := reseq.Open("../testdata/sample.pcap")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	a := tcpasm.New(tcpasm.DefaultConfig(), bytesPerStream{})
	st, err := pipeline.Run(r, a, pipeline.Options{CapturePoint: true})
	a.Close() // flushes every stream to the handler
	fmt.Printf("%d packets, %d TCP segments, %d payload bytes, err %v\n", st.Packets, st.TCP, st.Bytes, err)
	// Output:
	// 10.0.0.1:50000 > 10.0.0.2:80 dir 0: 48 bytes, 0 in gaps, closed by fin
	// 10.0.0.1:50000 > 10.0.0.2:80 dir 1: 2066 bytes, 1000 in gaps, closed by fin
	// 10.0.0.1:50001 > 10.0.0.2:80 dir 0: 47 bytes, 0 in gaps, closed by fin
	// 10.0.0.1:50001 > 10.0.0.2:80 dir 1: 77 bytes, 0 in gaps, closed by fin
	// 19 packets, 19 TCP segments, 2238 payload bytes, err <nil>
}
