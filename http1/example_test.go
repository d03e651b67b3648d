package http1_test

import (
	"fmt"

	"github.com/reseq/reseq/http1"
	"github.com/reseq/reseq/tcpasm"
	"github.com/reseq/reseq/tcpasm/framing"
)

type printer struct{}

func (printer) Header(m *http1.Message) {}
func (printer) Body(m *http1.Message, off int64, data []byte) {
	fmt.Printf("  body at %d: %q\n", off, data)
}
func (printer) End(m *http1.Message) {}
func (printer) Exchange(req, resp *http1.Message) {
	fmt.Printf("%s %s -> %d complete=%v gaps=%v\n", req.Method, req.Target, resp.Status, req.Complete && resp.Complete, resp.Gaps)
}

// Example frames a connection's two directions by hand (in a program, a
// framing.Handler does this on the assembler's callbacks). The second
// response loses 3 bytes inside its body: it is reported incomplete with a
// hole, and the third is intact.
func Example() {
	c := http1.NewConn(printer{}, http1.Config{})
	cli := framing.New(c.Consumer(tcpasm.ClientToServer), framing.Config{}, true)
	srv := framing.New(c.Consumer(tcpasm.ServerToClient), framing.Config{}, true)

	cli.Data(0, []byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n"), 1)
	r1 := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
	r2 := "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"
	srv.Data(0, []byte(r1+r2+"abc"), 2)
	srv.Gap(int64(len(r1+r2))+3, 3, tcpasm.ReasonAcked, 3)
	srv.Data(int64(len(r1+r2))+6, []byte("ghiHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"), 4)
	cli.End(tcpasm.ReasonFIN, 5)
	srv.End(tcpasm.ReasonFIN, 5)
	// Output:
	//   body at 0: "hi"
	// GET /a -> 200 complete=true gaps=[]
	//   body at 0: "abc"
	//   body at 6: "ghi"
	// GET /b -> 200 complete=false gaps=[{81 3}]
	// GET /c -> 404 complete=true gaps=[]
}
