package reseq

// The vocabulary of the opener: what a capture is (Format, Capture) and what
// is not read (Skipped).

import (
	"slices"

	"github.com/reseq/reseq/pcapfile"
	"github.com/reseq/reseq/pcapng"
)

// Format is a capture file format.
type Format uint8

// Capture formats.
const (
	Pcap   Format = iota + 1 // classic libpcap format (package pcapfile)
	Pcapng                   // pcapng (package pcapng)
)

// String returns "pcap" or "pcapng".
func (f Format) String() string {
	switch f {
	case Pcap:
		return "pcap"
	case Pcapng:
		return "pcapng"
	}
	return "unknown"
}

// Capture describes one capture: an input file or an archive member. Its fields
// are set when the capture is opened.
type Capture struct {
	Name        string        // input name, "-" for standard input, "archive!member" for a member
	Format      Format        // Pcap or Pcapng
	Version     string        // format version of the file header: "2.4", "1.0"
	Compression []Compression // encodings around the capture, outermost first; empty when none
	Source      int           // the Source of its packets

	// Format details, from the file header (pcap) or as far as the capture has
	// been read (pcapng: updated when it ends, with the statistics of every
	// Interface Statistics Block read).
	LinkType   uint32             // pcap: the link type, FCS bits masked
	Snaplen    uint32             // pcap: the header's snapshot length
	Nanosecond bool               // pcap: nanosecond timestamps
	Sections   []pcapng.Section   // pcapng: the sections
	Interfaces []pcapng.Interface // pcapng: the interfaces, with packet counts and statistics

	// TimestampsOutOfRange counts the packets returned so far whose
	// timestamp lay outside the range of Packet.Timestamp (int64
	// nanoseconds since 1970: 1677-09-21 to 2262-04-11; only pcapng can say
	// such times): they carry the bound they passed (math.MaxInt64 or
	// math.MinInt64) instead, so a merge sorts them last (first).
	// TimestampRangeOffset is the byte offset of the first (when there is
	// one; -1 when not known). Commands report them as a warning: the packets are
	// read, their data kept.
	TimestampsOutOfRange int64
	TimestampRangeOffset int64

	// The format reader, for anything else, while the capture is being read
	// (nil before its turn in a merge and once it ended, so that a long list of
	// captures does not keep every reader's buffer). Do not call their Next.
	Pcap   *pcapfile.Reader
	Pcapng *pcapng.Reader
}

// update copies the format reader's details into the Capture.
func (c *Capture) update() {
	if r := c.Pcap; r != nil {
		c.LinkType, c.Snaplen, c.Nanosecond = r.LinkType(), r.Snaplen(), r.Nanosecond()
	}
	if r := c.Pcapng; r != nil {
		c.Sections = slices.Clone(r.Sections())
		c.Interfaces = slices.Clone(r.Interfaces())
	}
}

// drop lets go of the format reader, keeping its details.
func (c *Capture) drop() {
	c.update()
	c.Pcap, c.Pcapng = nil, nil
}

// countOutOfRange counts a packet whose format reader clamped its timestamp
// to the int64 range (see TimestampsOutOfRange); off is the packet's offset
// in the capture, -1 when not known.
func (c *Capture) countOutOfRange(off int64) {
	if c.TimestampsOutOfRange == 0 {
		c.TimestampRangeOffset = off
	}
	c.TimestampsOutOfRange++
}

// CompressionName returns the capture's compression as reseq's JSON writes it:
// "none", a single name ("gzip"), or nested names outermost first joined by "+"
// ("gzip+zstd").
func (c *Capture) CompressionName() string {
	if len(c.Compression) == 0 {
		return None.String()
	}
	s := c.Compression[0].String()
	for _, x := range c.Compression[1:] {
		s += "+" + x.String()
	}
	return s
}

// Skipped is an archive member that is not a capture.
type Skipped struct {
	Name string // "archive!member"
	Err  error  // why it was skipped
}
