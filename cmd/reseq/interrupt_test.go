package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestExtractInterrupted: SIGINT or SIGTERM while 'reseq extract' reads a
// capture from a pipe that stays open (so it is surely in the middle) stops
// it: exit status 130, flows.jsonl complete — both directions of both
// connections, the open ones closed "interrupted", the bytes held above a
// hole a gap of that reason — and the summary written. The child is this
// test binary running the command (as in TestFollowRawInterrupted).
func TestExtractInterrupted(t *testing.T) {
	childMain()
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to a child on Windows")
	}
	// Connection 1 ends with FINs; connection 2 is open, and its client
	// segment at 2000 was lost: the server acknowledges nothing after it, so
	// the client's later bytes are held above the hole.
	done := &conversation{client: netip.MustParseAddrPort("10.0.0.1:40000"), server: netip.MustParseAddrPort("10.0.0.2:80"),
		c2s: []byte(strings.Repeat("a", 3000)), s2c: []byte("ok"), isnC: 1, isnS: 2}
	open := &conversation{client: netip.MustParseAddrPort("10.0.0.1:40001"), server: netip.MustParseAddrPort("10.0.0.2:80"),
		c2s: []byte(strings.Repeat("b", 5000)), s2c: []byte("y"), isnC: 100, isnS: 200, noFIN: true, t0: 1_700_000_001 * 1_000_000_000}
	pkts := done.packets()
	lost := false
	for _, p := range open.packets() {
		if p.src == open.client && p.seq == open.isnC+1+2000 && len(p.payload) > 0 {
			lost = true
			continue
		}
		if lost && p.src == open.server {
			continue
		}
		pkts = append(pkts, p)
	}
	if !lost {
		t.Fatal("no segment at 2000 to lose")
	}
	capt, err := os.ReadFile(writeCapture(t, t.TempDir(), "c.pcap", pkts))
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		for _, serial := range []bool{false, true} {
			out := filepath.Join(t.TempDir(), "out")
			var env []string
			if serial {
				env = append(env, "GOMAXPROCS=1")
			}
			cmd, in, errb := signalChild(t, "TestExtractInterrupted", env, capt, sig, "extract", "-o", out, "-")
			werr := make(chan error, 1)
			go func() { werr <- cmd.Wait() }()
			select {
			case err = <-werr:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("%v: still running 20 s after the signal", sig)
			}
			in.Close()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
				t.Errorf("%v (GOMAXPROCS=1 %v): %v, want exit status 130; stderr: %s", sig, serial, err, errb.String())
			}
			if !strings.Contains(errb.String(), "2 connections, 4 streams") || !strings.Contains(errb.String(), "interrupted") {
				t.Errorf("%v: summary: %s", sig, errb.String())
			}
			checkInterruptedIndex(t, filepath.Join(out, "flows.jsonl"))
			if names, _ := filepath.Glob(filepath.Join(out, ".flows*")); len(names) > 0 {
				t.Errorf("%v: left %v", sig, names)
			}
		}
	}
}

func checkInterruptedIndex(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type rec struct {
		Src, Dst string
		Close    string
		Length   int64
		Captured int64
		Gaps     []struct {
			Offset, Length int64
			Reason         string
		}
	}
	var recs []rec
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r rec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4: %+v", len(recs), recs)
	}
	if recs[0].Close != "fin" || recs[1].Close != "fin" {
		t.Errorf("the finished connection: %+v %+v", recs[0], recs[1])
	}
	c2s, s2c := recs[2], recs[3]
	if c2s.Close != "interrupted" || s2c.Close != "interrupted" {
		t.Errorf("the open connection: close %q, %q, want interrupted", c2s.Close, s2c.Close)
	}
	if c2s.Length != 5000 || c2s.Captured != 4000 || len(c2s.Gaps) != 1 || c2s.Gaps[0].Offset != 2000 || c2s.Gaps[0].Length != 1000 || c2s.Gaps[0].Reason != "interrupted" {
		t.Errorf("the open connection's client: %+v", c2s)
	}
}

// childMain runs the command a signal test started this test binary for
// (signalChild), and exits; it returns at once in the test itself.
func childMain() {
	if args := os.Getenv("RESEQ_TEST_CHILD"); args != "" {
		os.Exit(newEnv(os.Stdout, os.Stderr).run(strings.Split(args, "\x1f")))
	}
}

// signalChild starts this test binary again as the command args (test names
// the test that calls childMain), with env added, feeds it input through a
// pipe it keeps open (the command is surely in the middle of reading),
// waits half a second and sends sig. The caller waits for the command and
// closes in.
func signalChild(t *testing.T, test string, env []string, input []byte, sig os.Signal, args ...string) (*exec.Cmd, io.WriteCloser, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(append(os.Environ(), env...), "RESEQ_TEST_CHILD="+strings.Join(args, "\x1f"))
	errb := &strings.Builder{}
	cmd.Stderr = errb
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Write(input); err != nil {
		cmd.Wait()
		t.Fatalf("%v: %s", err, errb.String())
	}
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(sig)
	return cmd, in, errb
}
