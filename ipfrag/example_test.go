package ipfrag_test

import (
	"fmt"

	"github.com/reseq/reseq/ipfrag"
)

// A datagram split in two fragments that arrive last first: the second Add
// completes it, and the datagram comes back as one IPv4 packet whose header
// says so.
func Example() {
	hdr := []byte{0x45, 0, 0, 0, 0x12, 0x34, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	payload := []byte("0123456789abcdefXYZ")
	r := ipfrag.New(ipfrag.Config{})
	r.Add(&ipfrag.Fragment{Header: hdr, ID: 0x1234, Protocol: 17, Offset: 16,
		Data: payload[16:], Length: 3, Timestamp: 2e9, Index: 2})
	r.Add(&ipfrag.Fragment{Header: hdr, ID: 0x1234, Protocol: 17, Offset: 0, More: true,
		Data: payload[:16], Length: 16, Timestamp: 3e9, Index: 3})
	var d ipfrag.Datagram
	for r.Next(&d) {
		fmt.Printf("complete %v, %d bytes, total length %d, packet %d\n",
			d.Complete, len(d.IP), int(d.IP[2])<<8|int(d.IP[3]), d.Index)
		fmt.Printf("%q\n", d.IP[20:])
		r.Release(d.Buf)
	}
	// Output:
	// complete true, 39 bytes, total length 39, packet 3
	// "0123456789abcdefXYZ"
}
