package reseq

import (
	"bytes"
	"errors"
	"os/exec"
	"testing"
)

// compressCLI compresses data with a command line tool, reading standard
// input and writing standard output.
func compressCLI(t testing.TB, data []byte, tool string, args ...string) ([]byte, error) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		return nil, errors.New(tool + " command not installed")
	}
	cmd := exec.Command(tool, args...)
	cmd.Stdin = bytes.NewReader(data)
	return cmd.Output()
}

// bzip2Fixture returns data compressed with the bzip2 command (the standard
// library has no bzip2 writer).
func bzip2Fixture(t testing.TB, data []byte) ([]byte, error) {
	return compressCLI(t, data, "bzip2", "-c")
}

// TestOpenCLICompressed: files made by the usual command line tools open, with
// the compression named (tools not installed are skipped).
func TestOpenCLICompressed(t *testing.T) {
	want := genPackets(0, 2000, 1e18, 1e3)
	raw := pcapBytes(t, want)
	for _, tc := range []struct {
		tool string
		args []string
		comp string
	}{
		{"gzip", []string{"-c"}, "gzip"},
		{"zstd", []string{"-c", "-q"}, "zstd"},
		{"zstd", []string{"-c", "-q", "--long=27", "-1"}, "zstd"},
		{"lz4", []string{"-c", "-q"}, "lz4"},
		{"lz4", []string{"-c", "-q", "-l"}, "lz4"},
		{"xz", []string{"-c"}, "xz"},
		{"xz", []string{"-c", "-9"}, "xz"},
		{"bzip2", []string{"-c"}, "bzip2"},
	} {
		data, err := compressCLI(t, raw, tc.tool, tc.args...)
		if err != nil {
			t.Logf("%s %v: %v", tc.tool, tc.args, err)
			continue
		}
		r, err := NewReader(bytes.NewReader(data), tc.tool)
		if err != nil {
			t.Errorf("%s %v: %v", tc.tool, tc.args, err)
			continue
		}
		ps, errs := readAll(t, r)
		r.Close()
		if len(errs) > 0 || len(ps) != len(want) || r.Captures()[0].CompressionName() != tc.comp {
			t.Errorf("%s %v: %d packets, errors %v", tc.tool, tc.args, len(ps), errs)
			continue
		}
		for i := range ps {
			if ps[i].data != string(want[i].data) {
				t.Fatalf("%s %v: packet %d differs", tc.tool, tc.args, i)
			}
		}
	}
}
