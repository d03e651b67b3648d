package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/reseq/reseq/tcpasm"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/reseq/reseq"
)

// infoRecord is one capture's summary; with --json it is written as one line.
type infoRecord struct {
	File          string `json:"file"`
	Format        string `json:"format"`
	Version       string `json:"version"`
	Compression   string `json:"compression"`
	Packets       int64  `json:"packets"`
	BytesCaptured int64  `json:"bytes_captured"`
	BytesWire     int64  `json:"bytes_wire"`
	Truncated     int64  `json:"truncated"`
	// Timestamps earlier than the packet's before, and timestamps that
	// leapt more than an hour from the capture clock (tcpasm.Clock: the
	// reassembly ignores them).
	TimesBackward int64           `json:"times_backward"`
	TimeLeaps     int64           `json:"time_leaps"`
	LinkTypes     []uint32        `json:"link_types"`
	Snaplen       *uint32         `json:"snaplen,omitempty"` // pcap only; pcapng has one per interface
	Nanosecond    *bool           `json:"nanosecond,omitempty"`
	First         *string         `json:"first"` // null when the capture has no packet
	Last          *string         `json:"last"`
	DurationNS    *int64          `json:"duration_ns"`
	Sections      *int            `json:"sections,omitempty"`
	Interfaces    []infoInterface `json:"interfaces"`
	Comments      []string        `json:"comments,omitempty"`
	Drops         *uint64         `json:"drops,omitempty"` // pcapng: sum of isb_ifdrop and isb_osdrop
	Error         string          `json:"error,omitempty"`

	first, last, min, max int64
	linkTypes             map[uint32]bool
	clock                 tcpasm.Clock
}

// infoInterface is one capture interface: for pcap the file's one interface.
type infoInterface struct {
	Section     int     `json:"section"`
	Index       int     `json:"index"`
	LinkType    uint32  `json:"link_type"`
	Snaplen     uint32  `json:"snaplen"`
	Name        string  `json:"name,omitempty"`
	Description string  `json:"description,omitempty"`
	TSResol     string  `json:"tsresol,omitempty"`
	Packets     int64   `json:"packets"`
	Received    *uint64 `json:"isb_ifrecv,omitempty"`
	IfDrop      *uint64 `json:"isb_ifdrop,omitempty"`
	OSDrop      *uint64 `json:"isb_osdrop,omitempty"`
}

const infoUsage = `usage: reseq info [--json] CAPTURE...

Describes each capture (each member of a zip or tar archive on its own):
format and version, compression, link types per interface, snaplen, packets,
bytes, truncated packets, first and last timestamp; for pcapng also sections,
interfaces, comments and drop counts. "-" reads standard input.

`

func runInfo(in *invocation) int {
	stdout, stderr := in.stdout, in.stderr
	asJSON := in.flags.Bool("json", false, "write one JSON object per capture per line")
	inputs, ok := in.parse()
	if !ok {
		return in.code
	}
	code := exitOK
	enc := json.NewEncoder(stdout)
	for _, name := range inputs {
		recs, skipped, errs := infoOf(name)
		for _, rec := range recs {
			if *asJSON {
				if err := enc.Encode(rec); err != nil {
					fmt.Fprintf(stderr, "reseq info: %v\n", err)
					return exitInput
				}
			} else {
				writeInfoText(stdout, rec)
			}
		}
		for _, sk := range skipped {
			// Not an error: an archive may hold other files too.
			fmt.Fprintf(stderr, "reseq info: %s: skipped: %v\n", sk.Name, sk.Err)
		}
		for _, err := range errs {
			fmt.Fprintf(stderr, "reseq info: %v\n", err)
			code = exitInput
		}
	}
	return code
}

// infoOf reads one input (each archive member on its own) and returns a record
// per capture, complete up to any error, the archive members skipped, and the
// errors met.
func infoOf(name string) ([]*infoRecord, []reseq.Skipped, []error) {
	r, err := reseq.OpenOptions(reseq.Options{Concat: true}, name)
	if err != nil {
		return nil, nil, []error{err}
	}
	defer r.Close()
	var recs []*infoRecord
	var errs []error
	record := func(src int) *infoRecord {
		for len(recs) <= src {
			recs = append(recs, &infoRecord{linkTypes: map[uint32]bool{}, min: math.MaxInt64, max: math.MinInt64})
		}
		return recs[src]
	}
	var perIface map[[2]int]int64 // (source, interface) → packets
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			var ie *reseq.InputError
			if errors.As(err, &ie) {
				caps := r.Captures()
				for i := len(caps) - 1; i >= 0; i-- {
					if caps[i].Name == ie.Name {
						record(caps[i].Source).Error = err.Error()
						break
					}
				}
			}
			continue
		}
		rec := record(p.Source)
		if rec.Packets == 0 {
			rec.first = p.Timestamp
		}
		rec.last = p.Timestamp
		rec.min = min(rec.min, p.Timestamp)
		rec.max = max(rec.max, p.Timestamp)
		rec.Packets++
		rec.clock.Observe(p.Timestamp)
		rec.TimesBackward, rec.TimeLeaps = rec.clock.Backward, rec.clock.Leaps
		rec.BytesCaptured += int64(len(p.Data))
		rec.BytesWire += int64(p.Length)
		if len(p.Data) < p.Length {
			rec.Truncated++
		}
		rec.linkTypes[p.LinkType] = true
		if perIface == nil {
			perIface = map[[2]int]int64{}
		}
		perIface[[2]int{p.Source, p.Interface}]++
	}
	for _, c := range r.Captures() {
		rec := record(c.Source)
		rec.File, rec.Format, rec.Version, rec.Compression = c.Name, c.Format.String(), c.Version, c.CompressionName()
		switch c.Format {
		case reseq.Pcap:
			snap, nano := c.Snaplen, c.Nanosecond
			rec.Snaplen, rec.Nanosecond = &snap, &nano
			rec.Interfaces = []infoInterface{{LinkType: c.LinkType, Snaplen: snap, Packets: perIface[[2]int{c.Source, 0}]}}
			rec.linkTypes[c.LinkType] = true
		case reseq.Pcapng:
			pcapngInfo(rec, c)
		}
		rec.LinkTypes = make([]uint32, 0, len(rec.linkTypes))
		for lt := range rec.linkTypes {
			rec.LinkTypes = append(rec.LinkTypes, lt)
		}
		slices.Sort(rec.LinkTypes)
		if rec.Packets > 0 {
			rec.First, rec.Last = timePtr(rec.first), timePtr(rec.last)
			d := rec.max - rec.min
			rec.DurationNS = &d
		}
	}
	// A source number with no capture (cannot happen) would leave an empty record.
	out := recs[:0]
	for _, rec := range recs {
		if rec.File != "" {
			out = append(out, rec)
		}
	}
	return out, r.Skipped(), errs
}

func writeInfoText(w io.Writer, rec *infoRecord) {
	var b strings.Builder
	line := func(k, format string, a ...any) {
		fmt.Fprintf(&b, "%-24s", k+":")
		fmt.Fprintf(&b, format, a...)
		b.WriteByte('\n')
	}
	line("File name", "%s", rec.File)
	line("File format", "%s %s", rec.Format, rec.Version)
	line("Compression", "%s", rec.Compression)
	lts := make([]string, len(rec.LinkTypes))
	for i, lt := range rec.LinkTypes {
		lts[i] = linkTypeName(lt)
	}
	line("Link types", "%s", strings.Join(lts, ", "))
	if rec.Snaplen != nil {
		line("Snaplen", "%d", *rec.Snaplen)
	}
	if rec.Nanosecond != nil {
		res := "microseconds"
		if *rec.Nanosecond {
			res = "nanoseconds"
		}
		line("Timestamp resolution", "%s", res)
	}
	if rec.Sections != nil {
		line("Sections", "%d", *rec.Sections)
	}
	line("Packets", "%d", rec.Packets)
	line("Bytes captured", "%d", rec.BytesCaptured)
	line("Bytes on the wire", "%d", rec.BytesWire)
	line("Truncated packets", "%d", rec.Truncated)
	if rec.TimesBackward > 0 || rec.TimeLeaps > 0 {
		line("Timestamps", "%d out of order, %d implausible (leaps of more than an hour)", rec.TimesBackward, rec.TimeLeaps)
	}
	if rec.Packets > 0 {
		line("First packet", "%s", *rec.First)
		line("Last packet", "%s", *rec.Last)
		line("Duration", "%s", time.Duration(*rec.DurationNS))
	}
	if rec.Format == "pcapng" {
		line("Interfaces", "%d", len(rec.Interfaces))
		for _, ifc := range rec.Interfaces {
			s := fmt.Sprintf("section %d, %s, snaplen %d, %d packets", ifc.Section, linkTypeName(ifc.LinkType), ifc.Snaplen, ifc.Packets)
			if ifc.Name != "" {
				s = ifc.Name + ": " + s
			}
			if ifc.TSResol != "" {
				s += ", resolution " + ifc.TSResol
			}
			if ifc.IfDrop != nil {
				s += fmt.Sprintf(", ifdrop %d", *ifc.IfDrop)
			}
			if ifc.OSDrop != nil {
				s += fmt.Sprintf(", osdrop %d", *ifc.OSDrop)
			}
			line(fmt.Sprintf("  Interface #%d", ifc.Index), "%s", s)
		}
		for _, c := range rec.Comments {
			line("Comment", "%s", c)
		}
		if rec.Drops != nil {
			line("Dropped packets", "%d", *rec.Drops)
		}
	}
	if rec.Error != "" {
		line("Error", "%s", rec.Error)
	}
	b.WriteByte('\n')
	io.WriteString(w, b.String())
}

// linkTypeName gives a link type's number and, when known, its name.
func linkTypeName(lt uint32) string {
	names := map[uint32]string{
		0: "NULL", 1: "EN10MB", 101: "RAW", 12: "RAW", 14: "RAW", 105: "IEEE802_11", 108: "LOOP",
		113: "LINUX_SLL", 127: "IEEE802_11_RADIOTAP", 228: "IPV4", 229: "IPV6", 239: "NFLOG", 276: "LINUX_SLL2",
	}
	if n, ok := names[lt]; ok {
		return fmt.Sprintf("%s (%d)", n, lt)
	}
	return fmt.Sprint(lt)
}
