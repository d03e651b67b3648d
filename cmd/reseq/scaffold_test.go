package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestScaffold: the scaffold parses a command's flags wherever they stand,
// answers -h on stdout with exit 0, refuses a bad flag or a wrong number of
// positional arguments with one line naming the command and exit 2, and
// otherwise runs the command with its positional arguments.
func TestScaffold(t *testing.T) {
	var got []string
	var verbose bool
	probe := &command{name: "probe", summary: "test", usage: "usage: reseq probe [-v] A B...\n\n", args: "A B...",
		run: func(in *invocation) int {
			in.flags.BoolVar(&verbose, "v", false, "say more")
			args, ok := in.parse()
			if !ok {
				return in.code
			}
			got = args
			return 7
		}}
	for _, tc := range []struct {
		argv           []string
		code           int
		args           string // the positional arguments the command got
		verbose        bool
		stdout, stderr string // prefixes
	}{
		{[]string{"a", "b"}, 7, "a b", false, "", ""},
		{[]string{"a", "-v", "b", "c"}, 7, "a b c", true, "", ""},
		{[]string{"a", "--", "-v"}, 7, "a -v", false, "", ""},
		{[]string{"-h"}, exitOK, "", false, "usage: reseq probe [-v] A B...\n\n  -v\tsay more\n", ""},
		{[]string{"a"}, exitUsage, "", false, "", "reseq probe: want A B... (see 'reseq probe -h')\n"},
		{[]string{"-x", "a", "b"}, exitUsage, "", false, "", "reseq probe: flag provided but not defined: -x (see 'reseq probe -h')\n"},
	} {
		got, verbose = nil, false
		var o, e bytes.Buffer
		en := newEnv(&o, &e)
		en.commands = []*command{probe}
		code := en.run(append([]string{"probe"}, tc.argv...))
		if code != tc.code || strings.Join(got, " ") != tc.args || verbose != tc.verbose || o.String() != tc.stdout || e.String() != tc.stderr {
			t.Errorf("%q: exit %d, args %q, -v %v, stdout %q, stderr %q", tc.argv, code, got, verbose, o.String(), e.String())
		}
	}
}

func TestArgCounts(t *testing.T) {
	for _, tc := range []struct {
		args        string
		least, most int
	}{{"", 0, 0}, {"CAPTURE...", 1, -1}, {"CAPTURE... SELECTOR", 2, -1}, {"bash|zsh|fish", 1, 1}, {"A B", 2, 2}} {
		c := &command{args: tc.args}
		if l, m := c.argCounts(); l != tc.least || m != tc.most {
			t.Errorf("%q: %d..%d, want %d..%d", tc.args, l, m, tc.least, tc.most)
		}
	}
}
