// Command reseq reads packet captures and reassembles TCP byte streams passively.
//
// Usage:
//
//	reseq info    [--json] CAPTURE...
//	reseq extract -o DIR CAPTURE...
//	reseq flows   [--json] CAPTURE...
//	reseq follow  CAPTURE SELECTOR
//	reseq http    -o DIR CAPTURE...
//	reseq report  -o REPORT.html CAPTURE...
//	reseq plot    CAPTURE... SELECTOR -o CONN.svg
//	reseq version (or --version)
//
// Run "reseq help COMMAND" for a command's options. Exit codes: 0 success, 1 input
// error (after everything read before it was written), 2 usage.
package main

import (
	"os"
	"strconv"
	"strings"
)

func main() {
	os.Exit(newEnv(os.Stdout, os.Stderr).run(os.Args[1:]))
}

// plural writes "1 connection", "2 connections"; a word ending in "y"
// after a consonant takes "ies" ("2 bodies").
func plural[T ~int | ~int64](n T, word string) string {
	w := word
	if n != 1 {
		if strings.HasSuffix(w, "y") && !strings.HasSuffix(w, "ey") && !strings.HasSuffix(w, "ay") {
			w = w[:len(w)-1] + "ies"
		} else {
			w += "s"
		}
	}
	return strconv.FormatInt(int64(n), 10) + " " + w
}
