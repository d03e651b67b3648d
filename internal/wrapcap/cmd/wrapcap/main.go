// Command wrapcap writes a tunnelled or fragmented variant of a capture:
//
//	wrapcap IN OUT SPEC
//
// IN is a pcap or pcapng file (Ethernet, Linux SLL/SLL2 or raw IP); OUT is a
// pcap. SPEC is described in the documentation of package wrapcap, e.g.
// "vxlan:5001,frag:576" or "mirror-vxlan:0.03:7" (two VXLAN mirror sessions,
// each copy dropped with probability 0.03). It prints one line of counts.
package main

import (
	"fmt"
	"os"

	"github.com/reseq/reseq/internal/wrapcap"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: wrapcap IN OUT SPEC")
		os.Exit(2)
	}
	in, out, spec := os.Args[1], os.Args[2], os.Args[3]
	if err := run(in, out, spec); err != nil {
		fmt.Fprintln(os.Stderr, "wrapcap:", err)
		os.Exit(1)
	}
}

func run(in, out, spec string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	tmp := out + ".tmp"
	g, err := os.Create(tmp)
	if err != nil {
		return err
	}
	st, err := wrapcap.WrapFile(g, f, spec)
	if cerr := g.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Printf("%s [%s]: %v\n", out, spec, st)
	return nil
}
