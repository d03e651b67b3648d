// Package pcapng reads and writes the pcapng capture format.
//
// A Reader walks the blocks of every section, each in its own byte order (the
// Section Header Block's byte-order magic), and returns the packets of Enhanced
// (EPB), Simple (SPB) and obsolete (OPB) Packet Blocks one at a time with Next,
// in file order, whatever their interface or link type. Packet data aliases the
// reader's buffer and stays valid until the next call to Next; the EPB path does
// not allocate. NewReaderBytes reads a capture already in memory (a mapped
// file) in place: packet data is then a sub-slice of it, nothing is copied.
//
// Timestamps are int64 nanoseconds since the Unix epoch: the interface's
// if_tsresol (a power of 10 or of 2) is converted with integer arithmetic only,
// rounding down to the nanosecond where the resolution is finer, and its
// if_tsoffset (seconds) is added. A Simple Packet Block carries no timestamp: its
// packet gets the timestamp of the previous packet of its section (0 if none),
// and its captured length is the original length capped by the interface's
// snaplen (a block too short for that length is an error).
//
// Timestamps beyond the int64 range (after the year 2262) are clamped to it. A
// section whose version is not 1.0 or 1.2 (libpcap's rule) ends the reading with
// ErrVersion: its blocks cannot be trusted to be laid out as this package
// expects, and skipping them would lose packets silently.
//
// Metadata is kept as it is read: Sections and Interfaces return every section
// and interface seen so far, with the comments and names of their options and
// the counters of the last Interface Statistics Block of each interface
// (isb_ifrecv, isb_ifdrop, isb_filteraccept, isb_osdrop, isb_usrdeliv). BlockCounts
// tells how many blocks of each kind were read. Every other block — Name
// Resolution, Decryption Secrets, custom blocks (0x00000BAD, 0x40000BAD) and
// unknown types — is skipped, and handed to the function set with SetBlockFunc,
// if any, before it is skipped.
//
// Every length is checked before it is used: a block's total length must be at
// least 12 and at most 64 MiB, a multiple of 4 (an NTAR-era length that excludes
// the padding is accepted when the trailer at the padded end repeats it, as
// Wireshark does), and equal to its trailer; the buffer grows only as the bytes
// of a block actually arrive, so a short input claiming a huge block never
// causes a large allocation. Options must stay inside their block. Problems are
// reported as a *FormatError naming the byte offset of the block at fault (the
// detail names an option's own offset), wrapping one of the sentinel errors,
// after every packet before it: reading only the bytes before that offset gives
// the same packets and a clean end.
//
// Writer writes a little-endian file: one section (with its comments,
// hardware, OS and application: NewWriterSection), interfaces (with their
// resolution, name, description, filter, OS, hardware, FCS length and
// comments: CopyInterface copies an Interface a Reader gave), and Enhanced
// Packet Blocks (with opt_comment or epb_packetid). A packet's comments are
// read from its options with Comments.
package pcapng
