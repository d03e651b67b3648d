package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const mergeUsage = `usage: reseq merge -o OUT DIR...

DIR... are the output directories of 'reseq extract' runs over the shards of
one input: 'reseq extract --shard i/N' for every i (each reading the whole
input), or 'reseq extract' of every shard file of 'reseq split -n N'. OUT
becomes the directory one 'reseq extract' of the whole input writes: the same
stream files and flows.jsonl and conflicts.jsonl with the same records in the
same order.

Connections are put in order by the frame number of their first packet
(first_frame), which a shard run knows, and numbered again ("index"); a
shard's own order is kept among connections opened by one frame. The shard
runs must use the same options and no -T template with %N. Under a filter
(--filter, --port, --host, --since, --until) a shard run (--shard, or of a
split shard file) lists the connections the filter left out in its
filtered.jsonl, so that the merged numbers are those of one filtered run.

Stream files are linked into OUT when it is on the same file system, else
copied.

Options:
`

func runMerge(in *invocation) int {
	fs, stderr := in.flags, in.stderr
	var (
		out   string
		force bool
	)
	fs.StringVar(&out, "o", "", "output `DIR` (created if needed)")
	fs.BoolVar(&force, "force", false, "write into a non-empty DIR")
	dirs, ok := in.parse()
	if !ok {
		return in.code
	}
	if out == "" {
		fmt.Fprintln(stderr, "reseq merge: -o OUT and the shard directories are required")
		return exitUsage
	}
	if err := checkOutputDir(out, force); err != nil {
		fmt.Fprintln(stderr, "reseq merge:", err)
		return exitInput
	}
	if err := mergeShards(out, dirs); err != nil {
		fmt.Fprintln(stderr, "reseq merge:", err)
		return exitInput
	}
	return exitOK
}

// shardRecords is one shard's index: its lines, in order, and its
// connections in the order of their numbers (those the filter left out,
// from its filtered.jsonl, included), with a cursor.
type shardRecords struct {
	dir   string
	lines [][]byte
	conns []shardConn
	pos   int
}

// shardConn is a connection of a shard: its number in the shard, the frame
// number of its first packet, and its records lines[lo:hi] (none for one
// the filter left out).
type shardConn struct {
	index, first int64
	lo, hi       int
}

// readShard reads the index of the shard run in dir.
func readShard(dir string) (*shardRecords, error) {
	lines, err := readLines(filepath.Join(dir, "flows.jsonl"))
	if err != nil {
		return nil, err
	}
	s := &shardRecords{dir: dir, lines: lines}
	var recs []shardConn
	for j, l := range lines {
		first, _, _, err := jsonInt(l, "first_frame")
		if err != nil {
			return nil, fmt.Errorf("%s: %v", dir, err)
		}
		index, _, _, err := jsonInt(l, "index")
		if err != nil {
			return nil, fmt.Errorf("%s: %v", dir, err)
		}
		if n := len(recs); n > 0 && recs[n-1].index == index {
			recs[n-1].hi = j + 1
			continue
		}
		recs = append(recs, shardConn{index: index, first: first, lo: j, hi: j + 1})
	}
	held, err := readLines(filepath.Join(dir, heldFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var hs []shardConn
	for _, l := range held {
		first, _, _, err := jsonInt(l, "first_frame")
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", dir, heldFile, err)
		}
		index, _, _, err := jsonInt(l, "index")
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", dir, heldFile, err)
		}
		hs = append(hs, shardConn{index: index, first: first})
	}
	// Both lists are in the order of the shard's numbers: merge them.
	s.conns = make([]shardConn, 0, len(recs)+len(hs))
	for len(recs) > 0 || len(hs) > 0 {
		if len(hs) == 0 || len(recs) > 0 && recs[0].index < hs[0].index {
			s.conns, recs = append(s.conns, recs[0]), recs[1:]
		} else {
			s.conns, hs = append(s.conns, hs[0]), hs[1:]
		}
	}
	return s, nil
}

// jsonInt returns the integer value of the first "key": in line and where its
// digits are.
func jsonInt(line []byte, key string) (v int64, start, end int, err error) {
	k := []byte(`"` + key + `":`)
	i := bytes.Index(line, k)
	if i < 0 {
		return 0, 0, 0, fmt.Errorf("no %q in %.80s", key, line)
	}
	start = i + len(k)
	end = start
	for end < len(line) && (line[end] == '-' || line[end] >= '0' && line[end] <= '9') {
		end++
	}
	v, err = strconv.ParseInt(string(line[start:end]), 10, 64)
	return v, start, end, err
}

func readLines(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lines [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil, fmt.Errorf("%s: last line not ended", path)
		}
		lines = append(lines, b[:i+1])
		b = b[i+1:]
	}
	return lines, nil
}

// mergeShards writes the merged output of the shard directories to out.
func mergeShards(out string, dirs []string) error {
	shards := make([]*shardRecords, len(dirs))
	for i, d := range dirs {
		s, err := readShard(d)
		if err != nil {
			return err
		}
		shards[i] = s
	}
	// renum[shard][old index] = new index.
	renum := make([]map[int64]int64, len(shards))
	for i := range renum {
		renum[i] = map[int64]int64{}
	}
	f, err := createOutput(filepath.Join(out, ".flows.jsonl.new"))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	next := int64(0)
	var line []byte
	for {
		// The shard whose next connection's first packet comes first
		// (ties: the lower shard).
		best := -1
		for i, s := range shards {
			if s.pos < len(s.conns) && (best < 0 || s.conns[s.pos].first < shards[best].conns[shards[best].pos].first) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		s := shards[best]
		c := s.conns[s.pos]
		s.pos++
		num := next
		next++
		renum[best][c.index] = num
		// Every record of the connection (c2s, s2c); none for one the
		// filter left out, whose number stays taken.
		for _, l := range s.lines[c.lo:c.hi] {
			_, a, b, _ := jsonInt(l, "index")
			line = append(append(append(line[:0], l[:a]...), strconv.FormatInt(num, 10)...), l[b:]...)
			if _, err := w.Write(line); err != nil {
				f.Close()
				return err
			}
			if err := linkStream(s.dir, out, l); err != nil {
				f.Close()
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := mergeConflicts(out, shards, renum); err != nil {
		return err
	}
	return os.Rename(filepath.Join(out, ".flows.jsonl.new"), filepath.Join(out, "flows.jsonl"))
}

// mergeConflicts writes conflicts.jsonl: each shard's records are in the
// order of their connections, and of their making within one; they are
// merged by the connections' new numbers.
func mergeConflicts(out string, shards []*shardRecords, renum []map[int64]int64) error {
	type conflictLines struct {
		lines [][]byte
		num   []int64
		pos   int
	}
	cs := make([]conflictLines, len(shards))
	for i, s := range shards {
		lines, err := readLines(filepath.Join(s.dir, "conflicts.jsonl"))
		if err != nil {
			return err
		}
		cs[i].lines = lines
		for _, l := range lines {
			old, _, _, err := jsonInt(l, "index")
			if err != nil {
				return fmt.Errorf("%s: conflicts.jsonl: %v", s.dir, err)
			}
			n, ok := renum[i][old]
			if !ok {
				return fmt.Errorf("%s: conflicts.jsonl: connection %d not in flows.jsonl", s.dir, old)
			}
			cs[i].num = append(cs[i].num, n)
		}
	}
	f, err := createOutput(filepath.Join(out, "conflicts.jsonl"))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	var line []byte
	for {
		best := -1
		for i := range cs {
			c := &cs[i]
			if c.pos < len(c.lines) && (best < 0 || c.num[c.pos] < cs[best].num[cs[best].pos]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		c := &cs[best]
		l := c.lines[c.pos]
		_, a, b, _ := jsonInt(l, "index")
		line = append(append(append(line[:0], l[:a]...), strconv.FormatInt(c.num[c.pos], 10)...), l[b:]...)
		if _, err := w.Write(line); err != nil {
			f.Close()
			return err
		}
		c.pos++
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// linkStream puts the stream file a record names into out: a hard link, or
// a copy.
func linkStream(dir, out string, rec []byte) error {
	i := bytes.Index(rec, []byte(`"file":`))
	if i < 0 {
		return nil
	}
	var name string
	rest := rec[i+len(`"file":`):]
	j := bytes.IndexByte(rest[1:], '"')
	if len(rest) == 0 || rest[0] != '"' || j < 0 {
		return fmt.Errorf("bad file in %.80s", rec)
	}
	// Names are file paths: no quote nor backslash to unescape (see
	// parseTemplate), but keep to strconv's reading to be sure.
	name, err := strconv.Unquote(string(rest[:j+2]))
	if err != nil || strings.Contains(name, "..") || filepath.IsAbs(name) {
		return fmt.Errorf("bad file name in %.80s", rec)
	}
	src := filepath.Join(dir, filepath.FromSlash(name))
	dst := filepath.Join(out, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	o, err := createOutput(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(o, in); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}
