package main

import (
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errb strings.Builder
		if code := newEnv(&out, &errb).run(args); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		s := out.String()
		for _, want := range []string{"reseq ", "module:     github.com/reseq/reseq", "revision:", "built:", "go:"} {
			if !strings.Contains(s, want) {
				t.Errorf("%v: no %q in\n%s", args, want, s)
			}
		}
	}
	var out, errb strings.Builder
	if code := newEnv(&out, &errb).run([]string{"version", "x"}); code != exitUsage {
		t.Errorf("version x: exit %d", code)
	}
}
