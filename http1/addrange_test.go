package http1

import (
	"slices"
	"testing"
)

// One hole the assembler declared in two steps (732 bytes, then 1) is one
// gap of the message, not two.
func TestAdjacentGapsJoin(t *testing.T) {
	var rs []Range
	rs = addRange(rs, Range{100, 732})
	rs = addRange(rs, Range{832, 1})
	rs = addRange(rs, Range{900, 5})
	if want := []Range{{100, 733}, {900, 5}}; !slices.Equal(rs, want) {
		t.Errorf("ranges %v, want %v", rs, want)
	}
}
