package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/pcapng"
)

func init() {
	register("split", "cut captures into N pcapng shard files by address pair, for N workers", runSplit)
}

const splitUsage = `usage: reseq split -n N -o DIR CAPTURE...

Reads the captures (merged by time) once and writes DIR/shard-I.pcapng for
I = 0 .. N-1: every frame goes to the shard of the symmetric hash of the
address pair of the innermost IP header its decode reaches (tunnels decoded
on their IANA ports), so both directions of a connection and every IP
fragment of a datagram land in one shard. Ports are not used: fragments
after the first carry none, and all the fragments of a datagram must go
where its connection goes. Frames without an IP header go to shard 0.

Each frame keeps its timestamp (nanoseconds), original length, link type and
interface (one interface per capture, section and interface of the input, the
same numbering in every shard), and its frame number in the merged input
(epb_packetid; shb_userappl "reseq split I/N"): 'reseq extract' of a shard
file numbers frames and connections as a run over the whole input would, and
'reseq merge' combines the shards' outputs into that run's.

Not kept: pcapng sections (a shard file has one), so --capture-point
interface names interfaces by the shard file's numbering. A tunnel carrier
that is itself fragmented goes by the carrier's addresses, and its inner
connection may then be cut between shards.

Options:
`

func runSplit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("split", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // usage on -h only, to stdout: see flagError
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), splitUsage)
		fs.PrintDefaults()
	}
	var (
		n     int
		dir   string
		force bool
	)
	fs.IntVar(&n, "n", 0, "number of shards `N`")
	fs.StringVar(&dir, "o", "", "output `DIR` (created if needed)")
	fs.BoolVar(&force, "force", false, "write into a non-empty DIR")
	inputs, err := parseArgs(fs, args)
	if err != nil {
		return flagError(fs, err, stdout, stderr)
	}
	if n < 1 || dir == "" || len(inputs) == 0 {
		fmt.Fprintln(stderr, "reseq split: -n N (1 or more), -o DIR and a capture are required")
		return exitUsage
	}
	r, err := reseq.Open(inputs...)
	if err != nil {
		fmt.Fprintln(stderr, "reseq split:", err)
		return exitInput
	}
	defer r.Close()
	if err := checkOutputDir(dir, force); err != nil {
		fmt.Fprintln(stderr, "reseq split:", err)
		return exitInput
	}
	inErr, outErr := split(r, dir, n)
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

// split writes the frames of r to n shard files in dir. inErr is the first
// input error (the other inputs are read on).
func split(r *reseq.Reader, dir string, n int) (inErr, outErr error) {
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
		w, err := pcapng.NewWriterAppl(b, fmt.Sprintf("%s %d/%d", reseq.SplitAppl, i, n))
		shards[i] = shard{f, b, w}
		if err != nil {
			return nil, err
		}
	}
	ifaces := map[ifaceKey]int{}
	var lp layers.Packet
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
		s := shards[splitShard(&lp, &pkt, n)]
		if err := s.w.WritePacketID(id, pkt.Timestamp, pkt.Data, max(pkt.Length, len(pkt.Data)), uint64(frame)); err != nil {
			return inErr, err
		}
	}
	return inErr, nil
}

// splitShard returns the shard of a frame: the symmetric hash of the address
// pair of the innermost IP header its decode reaches.
func splitShard(lp *layers.Packet, pkt *reseq.Packet, n int) int {
	lp.DecodeWith(nil, layers.LinkType(pkt.LinkType), pkt.Data, pkt.Length)
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
		return 0
	}
	return int(k.SymmetricHash() % uint64(n))
}
