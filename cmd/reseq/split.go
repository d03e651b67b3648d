package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/pcapng"
	stages "github.com/reseq/reseq/pipeline"
)

const splitUsage = `usage: reseq split -n N -o DIR CAPTURE...

Reads the captures (merged by time) once and writes DIR/shard-I.pcapng for
I = 0 .. N-1, routing each frame by what its decode reaches (tunnels decoded
on the ports --vxlan-port, --geneve-port and --gtpu-port give):
  - a whole TCP segment goes to the shard of its connection: the flow key's
    symmetric hash modulo N, the rule of 'reseq extract --shard I/N' (so both
    directions of a connection land in one shard, and the connections between
    one pair of hosts are shared out);
  - an IP fragment (IPv4 MF or offset, IPv6 Fragment header; outer or inside
    a tunnel) of a datagram that may carry TCP goes to every shard: only
    reassembly tells whose it is. Fragments are rare; where they are not,
    every shard file holds all of them;
  - any other frame with an IP header goes to the shard of the symmetric
    hash of its innermost address pair (UDP and the rest stay together);
    a frame without one goes to shard 0.

A stream command (extract, flows, follow, http) of a shard file keeps only
the connections of its shard ("reseq split I/N" in shb_userappl), after IP
reassembly, so the fragments' datagrams that belong to other shards are left
out (each shard's summary counts every fragment; the merged index counts
each once). It must be given the same --capture-point and tunnel ports as split
(they make the flow key): a connection keyed otherwise may be left out of
every shard.

Each frame keeps its timestamp (nanoseconds), original length, link type and
interface (one interface per capture, section and interface of the input, the
same numbering in every shard), and its frame number in the merged input
(epb_packetid): 'reseq extract' of a shard file numbers frames and
connections as a run over the whole input would, and 'reseq merge' combines
the shards' outputs into that run's.

Not kept: pcapng sections (a shard file has one), so --capture-point
interface names interfaces by the shard file's numbering. A shard file split
again keeps its own shard's rule too; shard files of different shards are
not split together.

Options:
`

func runSplit(in *invocation) int {
	fs, stderr := in.flags, in.stderr
	var (
		n     int
		dir   string
		force bool
		dec   decodeFlags
	)
	fs.IntVar(&n, "n", 0, "number of shards `N`")
	dec.add(fs)
	fs.StringVar(&dir, "o", "", "output `DIR` (created if needed)")
	fs.BoolVar(&force, "force", false, "write into a non-empty DIR")
	inputs, ok := in.parse()
	if !ok {
		return in.code
	}
	if n < 1 || dir == "" {
		fmt.Fprintln(stderr, "reseq split: -n N (1 or more), -o DIR and a capture are required")
		return exitUsage
	}
	cps, dopt, err := dec.compile()
	if err != nil {
		fmt.Fprintln(stderr, "reseq split:", err)
		return exitUsage
	}
	r, err := reseq.Open(inputs...)
	if err != nil {
		fmt.Fprintln(stderr, "reseq split:", err)
		return exitInput
	}
	defer r.Close()
	parent, err := splitParent(r)
	if err != nil {
		fmt.Fprintln(stderr, "reseq split:", err)
		return exitUsage
	}
	if err := checkOutputDir(dir, force); err != nil {
		fmt.Fprintln(stderr, "reseq split:", err)
		return exitInput
	}
	inErr, outErr := split(r, dir, n, splitRouter{n: n, decode: dopt, points: cps}, parent)
	code := exitOK
	if inErr != nil {
		fmt.Fprintln(stderr, "reseq split:", inErr)
		code = exitInput
	}
	if outErr != nil {
		fmt.Fprintln(stderr, "reseq split: writing output:", outErr)
		code = exitInput
	}
	return code
}

// shardFile names shard i of n.
func shardFile(i, n int) string {
	w := len(fmt.Sprint(n - 1))
	return fmt.Sprintf("shard-%0*d.pcapng", w, i)
}

// ifaceKey is an interface of the input.
type ifaceKey struct {
	source, section, iface int
	linkType               uint32
}

// split writes the frames of r to n shard files in dir, routed by rt, the
// files' rule that of theirs and parent's. inErr is the first input error
// (the other inputs are read on).
func split(r *reseq.Reader, dir string, n int, rt splitRouter, parent shardRule) (inErr, outErr error) {
	type shard struct {
		f *os.File
		b *bufio.Writer
		w *pcapng.Writer
	}
	shards := make([]shard, n)
	defer func() {
		for _, s := range shards {
			if s.f == nil {
				continue
			}
			if err := s.b.Flush(); err != nil && outErr == nil {
				outErr = err
			}
			if err := s.f.Close(); err != nil && outErr == nil {
				outErr = err
			}
		}
	}()
	for i := range shards {
		f, err := createOutput(filepath.Join(dir, shardFile(i, n)))
		if err != nil {
			return nil, err
		}
		b := bufio.NewWriterSize(f, 256<<10)
		w, err := pcapng.NewWriterAppl(b, shardAppl(i, n, parent))
		shards[i] = shard{f, b, w}
		if err != nil {
			return nil, err
		}
	}
	ifaces := map[ifaceKey]int{}
	errRun := 0
	for {
		pkt, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if inErr == nil {
				inErr = err
			}
			if errRun++; errRun > 64 {
				break
			}
			continue
		}
		errRun = 0
		k := ifaceKey{pkt.Source, pkt.Section, pkt.Interface, pkt.LinkType}
		id, ok := ifaces[k]
		if !ok {
			// In every shard, so that the numbering is the same.
			id = len(ifaces)
			ifaces[k] = id
			for _, s := range shards {
				if _, err := s.w.AddInterface(uint16(pkt.LinkType), 0, 9); err != nil {
					return inErr, err
				}
			}
		}
		frame := pkt.Index
		if pkt.HasFrame {
			frame = pkt.Frame // a shard file split again
		}
		to, every := rt.shard(&pkt)
		for i := range shards {
			if !every && i != to {
				continue
			}
			if err := shards[i].w.WritePacketID(id, pkt.Timestamp, pkt.Data, max(pkt.Length, len(pkt.Data)), uint64(frame)); err != nil {
				return inErr, err
			}
		}
	}
	return inErr, nil
}

// splitRouter chooses the shard of a frame.
type splitRouter struct {
	n      int
	decode *layers.DecodeOptions // tunnel ports
	points stages.CaptureSource  // what the flow key leaves out
	lp     layers.Packet
}

// shard returns the shard of pkt, or every: a whole TCP segment goes to its
// connection's shard (stages.ShardOf of the key the pipeline gives it); an IP
// fragment of a datagram that may lead to TCP to every shard; another frame
// with an IP header to the shard of its innermost address pair; the rest to
// shard 0.
func (rt *splitRouter) shard(pkt *reseq.Packet) (i int, every bool) {
	lp := &rt.lp
	st := lp.DecodeWith(rt.decode, layers.LinkType(pkt.LinkType), pkt.Data, pkt.Length)
	switch {
	case st.OK() && lp.Transport == layers.TransportTCP && len(lp.TCP) >= layers.TCPMinLen:
		k := stages.FlowKeyOf(lp, rt.points)
		return stages.ShardOf(&k, rt.n), false
	case st.Reason == layers.StopFragment:
		// The protocols the pipeline reassembles (see its decoder): TCP,
		// and what can carry it.
		switch lp.Protocol {
		case layers.IPProtoTCP, layers.IPProtoUDP, layers.IPProtoGRE, layers.IPProtoIPIP, layers.IPProtoIPv6:
			return 0, true
		}
	}
	var k layers.FlowKey
	switch {
	case lp.Network == layers.NetworkIPv4 && len(lp.IPv4) >= 20:
		copy(k.SrcIP[:4], lp.IPv4[12:16])
		copy(k.DstIP[:4], lp.IPv4[16:20])
	case lp.Network == layers.NetworkIPv6 && len(lp.IPv6) >= 40:
		copy(k.SrcIP[:], lp.IPv6[8:24])
		copy(k.DstIP[:], lp.IPv6[24:40])
		k.V6 = true
	default:
		return 0, false
	}
	return stages.ShardOf(&k, rt.n), false
}
