package main

import (
	"net/netip"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestFollowRawInterrupted: 'follow --raw' holds the stream in a temporary
// file until the end; SIGINT (or SIGTERM) in the middle leaves nothing in
// TMPDIR. It used to leave the file, as large as the stream. The child is
// this test binary running the command on a capture fed through a pipe that
// stays open, so that it is surely in the middle.
func TestFollowRawInterrupted(t *testing.T) {
	childMain()
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to a child on Windows")
	}
	requireAssembler(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		tmp := t.TempDir()
		c := &conversation{client: netip.MustParseAddrPort("10.0.0.1:40000"), server: netip.MustParseAddrPort("10.0.0.2:80"),
			c2s: []byte(strings.Repeat("x", 1<<20)), s2c: []byte("y"), isnC: 1, isnS: 2, mss: 1400, noFIN: true}
		capt, err := os.ReadFile(writeCapture(t, t.TempDir(), "c.pcap", c.packets()))
		if err != nil {
			t.Fatal(err)
		}
		cmd, in, _ := signalChild(t, "TestFollowRawInterrupted", []string{"TMPDIR=" + tmp}, capt, sig,
			"follow", "--raw", "--dir", "c2s", "-", "10.0.0.1:40000-10.0.0.2:80")
		cmd.Wait()
		in.Close()
		if names, _ := os.ReadDir(tmp); len(names) > 0 {
			t.Errorf("%v: left in TMPDIR: %v", sig, names)
		}
	}
}
