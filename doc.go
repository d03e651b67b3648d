// Package reseq opens packet captures for passive TCP reassembly.
//
// Open sniffs each input's compression (gzip, zstd, lz4, xz, bzip2) and archive
// wrapping (zip, tar) by its magic bytes, then its format (pcap or pcapng), and
// merges several inputs into one packet sequence ordered by timestamp. The
// subpackages do the rest: pcapfile and pcapng read the formats, layers decodes
// headers without copying, and tcpasm reassembles TCP byte streams with an exact
// account of every byte the capture missed.
//
// # Recognising an input
//
// Nothing is decided by a file name. The first bytes name a compression (gzip
// 1f8b, zstd 28b52ffd, lz4 frame 04224d18, xz fd377a585a00, bzip2 "BZh1".."BZh9"),
// which is removed, and the result is sniffed again (up to four nested
// compressions); then a zip archive ("PK\x03\x04"), a tar archive ("ustar" at
// offset 257), a pcap file (any of its six magics) or a pcapng file (a Section
// Header Block). Anything else is an *InputError wrapping a *NotCaptureError that
// shows the first bytes in hex; an empty input is one too. Archive members that
// are not captures are skipped and listed by Skipped; archives inside archives
// are not read.
//
// # Several inputs
//
// Packets of several captures come in timestamp order; equal timestamps keep the
// order of the inputs, and each capture's packets keep their file order (a
// capture whose clock goes backwards is not re-sorted). Packet.Source is the
// capture's index in Captures, Packet.Index the position in the merged sequence.
// Zip members, and the members of an uncompressed tar archive in a plain file,
// are read in place as independent captures and merged like files. A tar
// archive that is compressed or comes from a pipe cannot be read at two places
// at once, so Open copies it, decompressed, to a temporary file (Options.TempDir,
// unlinked at once where the system allows; it takes the archive's decompressed
// size on disk, bounded by Options.MaxSpill) and reads that like a plain tar
// file: the packets are the same whether a tar is plain, compressed or piped.
// Options.Concat reads every capture in turn instead of merging.
//
// The merge copies nothing and allocates nothing per packet: each capture keeps
// one packet pending in its own reader's buffer, and a capture is read again
// only when its pending packet has been returned and the caller has called Next
// again. With a single capture there is no merge at all.
//
// A merge of many files (a rotated set, or an archive of one) does not hold
// them all open: Open reads the first packet of each plain file and each
// archive member read in place, and closes it again; the merge reopens it when
// its first timestamp comes up and closes it at its end, so captures that
// follow one another in time are open one or two at a time. (A file removed in
// between is an *InputError when its turn comes.)
//
// # Errors
//
// An error of one capture — a truncated or malformed record, a corrupt or cut
// compressed stream — is an *InputError naming the capture ("archive!member"
// inside an archive) and, where known, the byte offset in the decompressed
// capture. It is returned at the call to Next after that capture's last good
// packet (so every complete packet before it has been returned), and calling Next
// again continues with the other captures. A decompressor's error is a
// *DecompressError naming the compression.
//
// A packet whose timestamp Packet.Timestamp cannot hold (before 1677 or after
// 2262; only pcapng can say such times) is not capped silently: it comes with
// its timestamp at the bound, and Capture.TimestampsOutOfRange and
// TimestampRangeOffset say how many and where the first was (the commands
// print them as a warning).
//
// # Resources
//
// The library starts no goroutines: zstd is decoded synchronously by default
// (Options.ZstdConcurrency allows decoding ahead), and lz4 likewise. A
// compressed stream's header cannot make a decoder allocate more than
// Options.MaxDecoderMemory (zstd window, xz dictionary; 128 MiB by default); a
// zip archive that is not a plain file is held in memory up to
// Options.MaxArchiveBuffer; a tar archive that is not a plain file takes its
// decompressed size in a temporary file (Options.TempDir, Options.MaxSpill). Progress reports the input bytes consumed against the
// total size of the input files, for a progress bar. SetLender lets the caller
// supply the readers' input buffers, so that packets stay valid until their
// buffer is given back (package pipeline hands them to another goroutine
// that way, without copying).
package reseq

// The files of this package are the opener's stages, bottom-up; a file uses
// only what its own line and the lines above it declare, never a later one
// (checked by TestFilesLayered):
//
//	packet.go, errors.go   Packet; InputError and the other errors
//	options.go             Options and their defaults
//	compress.go            Compression: magic bytes and decompressors
//	capture.go             Format, Capture, Skipped
//	sniff.go               what the first bytes say an input is
//	mmap_*.go              mapping a file read-only
//	input.go               a named input's bytes: file, mapping, standard
//	                       input, counted for Progress
//	unwrap.go              an input with its compressions removed; member:
//	                       how to open a capture's bytes (again)
//	archive.go             a zip or tar archive as a list of members
//	format.go              pcap and pcapng readers returning Packets
//	source.go              one capture in the sequence; start, its one
//	                       constructor, the first time and when it wakes
//	merge.go               the sources in timestamp order (or Concat),
//	                       reopenable ones asleep until their turn
//	open.go                Reader: Open, NewReader, Next, Close
