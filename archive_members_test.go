package reseq

import (
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// TestManyMembers: an archive of many members is opened one member at a time
// (a member is read up to its first packet, closed, and opened again when the
// merge reaches that time), so memory does not grow with the number of
// members, and the packets still come in time order across members listed
// out of time order, overlapping their neighbours.
func TestManyMembers(t *testing.T) {
	const n = 20000
	ms := make([]testMember, n)
	perm := rand.New(rand.NewSource(1)).Perm(n)
	for i, k := range perm {
		// Member k holds packets at 10k, 10k+5 and 10k+15: it overlaps the
		// next member's first packet.
		ms[i] = testMember{fmt.Sprintf("m%05d.pcap", k), pcapBytes(t, genPackets(k, 3, 10*int64(k), 5))}
	}
	dir := t.TempDir()
	inputs := map[string]string{
		"zip": writeFile(t, dir, "a.zip", zipBytes(t, ms)),
		"tar": writeFile(t, dir, "a.tar", tarBytes(t, ms)),
	}
	for _, name := range []string{"zip", "tar"} {
		for _, opt := range []Options{{}, {Mmap: true}, {Concat: true}} {
			t.Run(fmt.Sprintf("%s-mmap=%v-concat=%v", name, opt.Mmap, opt.Concat), func(t *testing.T) {
				var count int
				var last int64 = -1
				maxOpen := 0
				peak := peakHeap(t, func() {
					r, err := OpenOptions(opt, inputs[name])
					if err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					maxOpen = openSources(r)
					for {
						p, err := r.Next()
						if err == io.EOF {
							break
						}
						if err != nil {
							t.Fatal(err)
						}
						if !opt.Concat && p.Timestamp < last {
							t.Fatalf("packet %d at %d after %d", count, p.Timestamp, last)
						}
						if c := r.Captures()[p.Source]; !strings.HasPrefix(c.Name, inputs[name]+"!m") {
							t.Fatalf("source %d: %q", p.Source, c.Name)
						}
						last = p.Timestamp
						count++
						if count%997 == 0 {
							maxOpen = max(maxOpen, openSources(r))
						}
					}
				})
				t.Logf("peak heap growth %d MiB, at most %d members open", peak>>20, maxOpen)
				if count != 3*n {
					t.Fatalf("%d packets, want %d", count, 3*n)
				}
				if maxOpen > 3 {
					t.Errorf("%d members open at once", maxOpen)
				}
				if peak > 100<<20 {
					t.Errorf("peak heap growth %d MiB for %d members", peak>>20, n)
				}
			})
		}
	}
}

// peakHeap runs fn while sampling the live heap (the bytes the latest
// garbage collection found reachable: garbage not yet collected, which
// depends on when the collector got the CPU, does not count); it returns the
// peak growth over the live heap before fn.
func peakHeap(t *testing.T, fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > base {
				peak = max(peak, v-base)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	runtime.GC()
	metrics.Read(sample)
	if v := sample[0].Value.Uint64(); v > base {
		peak = max(peak, v-base)
	}
	return peak
}
