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

// BenchmarkReassembleMix is the pipeline's case: datagrams cut at MTU 576
// (three fragments each), from 32 pairs of hosts, four datagrams in flight
// with their fragments interleaved, buffers released a batch (64 datagrams)
// later; ns/op is per fragment.
func BenchmarkReassembleMix(b *testing.B) {
	payload := pattern(1460, 1)
	var fs []*Fragment
	for g := range 256 {
		var group [4][]*Fragment
		for j := range group {
			id := uint16(g*4 + j)
			group[j] = split(v4hdr(id, 6, uint8(id%32), 0), payload, 552)
		}
		for i := range group[0] {
			for j := range group {
				fs = append(fs, group[j][i])
			}
		}
	}
	r := New(Config{})
	var d Datagram
	var held []*Buffer
	b.SetBytes(1460 / 3)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Add(fs[i%len(fs)])
		for r.Next(&d) {
			held = append(held, d.Buf)
		}
		if len(held) >= 64 {
			for _, h := range held {
				r.Release(h)
			}
			held = held[:0]
		}
	}
}
