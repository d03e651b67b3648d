package pipeline_test

import (
	"compress/gzip"
	"errors"
	"hash/fnv"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/internal/testshared"
	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// recorder keeps a digest of every segment it is given, in order: what the
// assembler would see. The payload is hashed at once, as an assembler must use
// it before Assemble returns.
type recorder struct {
	segs []segDigest
}

type segDigest struct {
	key             layers.FlowKey
	cp              int32
	ts, index       int64
	seq, ack        uint32
	flags           uint8
	length, payload int
	sum             uint64
}

func (r *recorder) Assemble(s *tcpasm.Segment) {
	h := fnv.New64a()
	h.Write(s.Payload)
	r.segs = append(r.segs, segDigest{s.Key, s.CapturePoint, s.Timestamp, s.Index, s.Seq, s.Ack, s.Flags, s.Length, len(s.Payload), h.Sum64()})
}

// batchRecorder takes whole batches (as *tcpasm.Assembler does), whose
// payloads must stay valid until AssembleBatch returns: a buffer lent again
// too early would change the digests.
type batchRecorder struct {
	recorder
	batches int
}

func (r *batchRecorder) AssembleBatch(segs []tcpasm.Segment) {
	r.batches++
	for i := range segs {
		r.Assemble(&segs[i])
	}
}

func run(t *testing.T, opt pipeline.Options, names ...string) (*recorder, pipeline.Stats, error) {
	t.Helper()
	return runWith(t, &recorder{}, reseq.Options{}, opt, names...)
}

func runWith(t *testing.T, a interface {
	Assemble(*tcpasm.Segment)
}, ropt reseq.Options, opt pipeline.Options, names ...string) (*recorder, pipeline.Stats, error) {
	t.Helper()
	r, err := reseq.OpenOptions(ropt, names...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st, err := pipeline.Run(r, a, opt)
	switch x := a.(type) {
	case *recorder:
		return x, st, err
	case *batchRecorder:
		if len(x.segs) > 0 && x.batches == 0 {
			t.Fatal("segments given one by one to an assembler that takes batches")
		}
		return &x.recorder, st, err
	}
	panic("unknown recorder")
}

// same runs names serially and staged, read or mapped (reseq.Options.Mmap: a
// batch's payloads point into the mapping, which must outlive the batch), and
// requires the same segments, in the same order, and the same counts.
func same(t *testing.T, opt pipeline.Options, names ...string) pipeline.Stats {
	t.Helper()
	opt.Serial = true
	want, wst, werr := run(t, opt, names...)
	for _, mode := range []struct {
		serial, batch, mmap bool
	}{{true, true, false}, {false, false, false}, {false, true, false}, {true, true, true}, {false, true, true}} {
		opt.Serial = mode.serial
		var a interface{ Assemble(*tcpasm.Segment) } = &recorder{}
		if mode.batch {
			a = &batchRecorder{}
		}
		got, gst, gerr := runWith(t, a, reseq.Options{Mmap: mode.mmap}, opt, names...)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("%+v: errors differ: serial %v, this %v", mode, werr, gerr)
		}
		if wst != gst {
			t.Fatalf("%+v: stats differ: serial %+v, this %+v", mode, wst, gst)
		}
		if len(got.segs) != len(want.segs) {
			t.Fatalf("%+v: %d segments, serial %d", mode, len(got.segs), len(want.segs))
		}
		for i := range got.segs {
			if got.segs[i] != want.segs[i] {
				t.Fatalf("%+v: segment %d differs:\nserial %+v\nthis   %+v", mode, i, want.segs[i], got.segs[i])
			}
		}
	}
	if wst.TCP != int64(len(want.segs)) {
		t.Fatalf("Stats.TCP %d, %d segments given", wst.TCP, len(want.segs))
	}
	return wst
}

func sample(t *testing.T) string {
	return filepath.Join(testshared.RootTB(t), "testdata", "sample.pcap")
}

func TestSample(t *testing.T) {
	st := same(t, pipeline.Options{CapturePoint: true}, sample(t))
	if st.Packets != 19 || st.TCP == 0 || st.TCP+st.NotTCP+st.Filtered != st.Packets {
		t.Fatalf("stats %+v", st)
	}
}

// Real captures, alone and all merged by time (the merge holds one buffer per
// input), pcap and pcapng, with and without capture points.
func TestReal(t *testing.T) {
	dir := testshared.Dir(t, "real")
	var all []string
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		all = append(all, m...)
	}
	if len(all) == 0 {
		t.Skip("no real captures")
	}
	for _, f := range all {
		t.Run(filepath.Base(f), func(t *testing.T) {
			st := same(t, pipeline.Options{CapturePoint: true}, f)
			if st.TCP == 0 {
				t.Fatalf("no TCP segment: %+v", st)
			}
		})
	}
	t.Run("merged", func(t *testing.T) {
		same(t, pipeline.Options{}, all...)
	})
}

// More inputs than the buffers the stages keep in flight: every reader holds a
// buffer of its own, and Run must lend more rather than wait for ever.
func TestManyInputs(t *testing.T) {
	var names []string
	for range 40 {
		names = append(names, sample(t))
	}
	st := same(t, pipeline.Options{}, names...)
	if st.Packets != 40*19 {
		t.Fatalf("%d packets, want %d", st.Packets, 40*19)
	}
}

// A compressed input: the decompressor writes into the lent buffers.
func TestCompressed(t *testing.T) {
	dir := testshared.Dir(t, "real")
	src, err := os.ReadFile(filepath.Join(dir, "lossy_v4.pcap"))
	if err != nil {
		t.Skip(err)
	}
	gz := filepath.Join(t.TempDir(), "lossy_v4.pcap.gz")
	f, err := os.Create(gz)
	if err != nil {
		t.Fatal(err)
	}
	w := gzip.NewWriter(f)
	w.Write(src)
	w.Close()
	f.Close()
	same(t, pipeline.Options{CapturePoint: true}, gz)
}

// Keep filters by flow key on the reading goroutine; the counts add up.
func TestKeep(t *testing.T) {
	keep := func(k *layers.FlowKey) bool { return k.SrcPort%2 == 0 }
	all := same(t, pipeline.Options{}, sample(t))
	st := same(t, pipeline.Options{Keep: keep}, sample(t))
	if st.Filtered == 0 || st.TCP+st.Filtered != all.TCP {
		t.Fatalf("filtered %+v, all %+v", st, all)
	}
}

// A broken capture: everything before the damage is assembled, the error comes
// back, and serial and staged agree.
func TestInputError(t *testing.T) {
	data, err := os.ReadFile(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, data[:len(data)-7], 0o644); err != nil {
		t.Fatal(err)
	}
	_, st, err := run(t, pipeline.Options{}, cut)
	var ie *reseq.InputError
	if !errors.As(err, &ie) || st.InputErrs != 1 || st.Packets != 18 {
		t.Fatalf("err %v, stats %+v", err, st)
	}
	same(t, pipeline.Options{}, cut)
}

// Abort stops the run with its error; Progress is called at least at the end.
func TestAbortProgress(t *testing.T) {
	dir := testshared.Dir(t, "real")
	f := filepath.Join(dir, "lossy_v4.pcap") // > 4096 packets: Abort is polled
	for i, serial := range []bool{true, false, true, false} {
		var a interface{ Assemble(*tcpasm.Segment) } = &recorder{}
		if i >= 2 {
			a = &batchRecorder{}
		}
		stop := errors.New("stop")
		polls := 0
		var calls int
		var last [3]int64
		rec, st, err := runWith(t, a, reseq.Options{}, pipeline.Options{
			Serial: serial,
			Abort: func() error {
				if polls++; polls == 1 {
					return stop
				}
				return nil
			},
			Progress: func(read, total, packets int64) { calls++; last = [3]int64{read, total, packets} },
		}, f)
		if err != stop {
			t.Fatalf("serial %v: err %v, want the Abort error", serial, err)
		}
		full, fst, _ := run(t, pipeline.Options{}, f)
		if len(rec.segs) >= len(full.segs) || st.Packets >= fst.Packets {
			t.Fatalf("serial %v: aborted run assembled %d of %d segments", serial, len(rec.segs), len(full.segs))
		}
		if calls == 0 || last[2] != st.Packets || last[1] <= 0 {
			t.Fatalf("serial %v: progress calls %d, last %v, stats %+v", serial, calls, last, st)
		}
	}
}
