package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/reseq/reseq"
	"github.com/reseq/reseq/layers"
	stages "github.com/reseq/reseq/pipeline"
)

// shardPart is one "I/N" of a shard file: the connections whose flow hash
// modulo N is I (stages.ShardOf, the rule of --shard I/N).
type shardPart struct{ i, n int }

// shardRule is what a shard file of 'reseq split' holds the connections of:
// those every part keeps. A shard file of a shard file has two parts, its own
// and its input's. The file also holds IP fragments of other connections
// (split copies every fragment into every shard, since only reassembly tells
// whose they are): a stream command keeps, after IP reassembly, only the
// connections of the rule.
type shardRule []shardPart

// keeps reports whether the connection with flow key k is the rule's.
func (r shardRule) keeps(k *layers.FlowKey) bool {
	for _, p := range r {
		if stages.ShardOf(k, p.n) != p.i {
			return false
		}
	}
	return true
}

// String is the rule as shb_userappl writes it after SplitAppl: "1/4 0/2".
func (r shardRule) String() string {
	var b strings.Builder
	for j, p := range r {
		if j > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d/%d", p.i, p.n)
	}
	return b.String()
}

func (r shardRule) equal(o shardRule) bool {
	if len(r) != len(o) {
		return false
	}
	for j := range r {
		if r[j] != o[j] {
			return false
		}
	}
	return true
}

// parseShardAppl parses a shard file's shb_userappl, "reseq split I/N[ I/N...]";
// ok false when appl is not one.
func parseShardAppl(appl string) (r shardRule, ok bool) {
	rest, found := strings.CutPrefix(appl, reseq.SplitAppl)
	if !found {
		return nil, false
	}
	for _, f := range strings.Fields(rest) {
		i, n, ok := parseShard(f)
		if !ok {
			return nil, false
		}
		r = append(r, shardPart{i, n})
	}
	return r, len(r) > 0
}

// inputRules returns the rule of every input of r that is a shard file (by
// its first section), and whether every input is one.
func inputRules(r *reseq.Reader) (rules []shardRule, all bool) {
	all = true
	for _, cp := range r.Captures() {
		secs := sectionsOf(cp)
		var rule shardRule
		ok := false
		if len(secs) > 0 {
			rule, ok = parseShardAppl(secs[0].UserAppl)
		}
		if !ok {
			all = false
			continue
		}
		rules = append(rules, rule)
	}
	return rules, all
}

// shardFilesKeep returns the Keep filter of a run over shard files: the
// connections of any of the inputs' rules; nil when an input is not a shard
// file (nothing can then be left out: a datagram whose fragments a shard file
// holds for another shard then shows as a connection of its own) or when the
// files are of one shard (split -n 1).
func shardFilesKeep(r *reseq.Reader) func(k *layers.FlowKey) bool {
	rules, all := inputRules(r)
	if !all || len(rules) == 0 {
		return nil
	}
	whole := true // split -n 1: every connection
	for _, rule := range rules {
		for _, p := range rule {
			whole = whole && p.n == 1
		}
	}
	if whole {
		return nil
	}
	if len(rules) == 1 {
		return rules[0].keeps
	}
	return func(k *layers.FlowKey) bool {
		for _, rule := range rules {
			if rule.keeps(k) {
				return true
			}
		}
		return false
	}
}

// splitParent returns the rule split's shard files inherit from its inputs:
// none for captures that are not shard files, the inputs' rule when all are
// shard files of one shard. Anything else is refused: a fragment copied into
// a shard file belongs to a connection of another, and only the input's
// rule, carried on, leaves it out.
func splitParent(r *reseq.Reader) (shardRule, error) {
	rules, all := inputRules(r)
	if len(rules) == 0 {
		return nil, nil
	}
	for _, rule := range rules[1:] {
		if !rule.equal(rules[0]) {
			all = false
		}
	}
	if !all {
		return nil, fmt.Errorf("the inputs are shard files of different shards, or shard files and other captures: split the original captures instead")
	}
	return rules[0], nil
}

// shardAppl is the shb_userappl of shard i of n cut from inputs of rule parent.
func shardAppl(i, n int, parent shardRule) string {
	s := reseq.SplitAppl + " " + strconv.Itoa(i) + "/" + strconv.Itoa(n)
	if len(parent) > 0 {
		s += " " + parent.String()
	}
	return s
}
