package ipfrag

import (
	"fmt"
	"testing"
)

// BenchmarkReassemble feeds whole datagrams in order, fragment by fragment,
// and releases each as it completes; ns/op is per fragment.
func BenchmarkReassemble(b *testing.B) {
	for _, n := range []int{2, 45} {
		b.Run(fmt.Sprintf("%dfrags", n), func(b *testing.B) {
			payload := pattern(1480*n, 1)
			var fs []*Fragment
			for id := range 16 {
				fs = append(fs, split(v4hdr(uint16(id), 17, 1, 0), payload, 1480)...)
			}
			r := New(Config{})
			var d Datagram
			b.SetBytes(1480)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.Add(fs[i%len(fs)])
				for r.Next(&d) {
					r.Release(d.Buf)
				}
			}
		})
	}
}
