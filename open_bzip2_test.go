package reseq

import (
	"bytes"
	"errors"
	"os/exec"
	"testing"
)

// bzip2Fixture returns data compressed with the bzip2 command (the standard
// library has no bzip2 writer).
func bzip2Fixture(t testing.TB, data []byte) ([]byte, error) {
	t.Helper()
	if _, err := exec.LookPath("bzip2"); err != nil {
		return nil, errors.New("bzip2 command not installed")
	}
	cmd := exec.Command("bzip2", "-c")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	return out, nil
}
