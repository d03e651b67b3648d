// Package pcapfile reads and writes the classic libpcap capture format.
//
// A file starts with a 24-byte header whose magic number gives the byte order and
// the timestamp resolution: a1b2c3d4 (microseconds), a1b23c4d (nanoseconds), and
// a1b2cd34 (Alexey Kuznetzov's "modified" format, microseconds, 24-byte record
// headers). Every magic is accepted in both byte orders. The link-type field's
// upper bits may carry the length of a frame check sequence at the end of every
// packet: it is exposed by FCSLength and masked from LinkType.
//
// Reader returns one packet at a time from a large internal buffer, without
// allocating per packet: the Data of a Packet aliases that buffer and is valid
// only until the next call to Next. Timestamps are nanoseconds since the Unix
// epoch, exact for both resolutions. NewReaderBytes reads a capture already in
// memory (a mapped file) in place: Data is then a sub-slice of it, and nothing
// is read or copied.
//
// Every length taken from the file is checked before it is used: a record's
// captured length may not exceed max(snaplen, 256 KiB), capped at 16 MiB, so a
// short or hostile file never causes a large allocation. A captured length above
// the header's snaplen (but within that bound) is accepted and delivered whole;
// a captured length above the original length is delivered too (Length is then
// smaller than len(Data)) because real captures carry such records — see
// Reader.Next. A record cut short by the end of the input ends the packet
// sequence with a *FormatError wrapping ErrTruncated that names the record's byte
// offset; every complete packet before it has been returned.
//
// The header must carry version 2.0 to 2.4 and no reserved bits in its link-type
// field (libpcap's rules; *FormatError wrapping ErrHeader otherwise). A
// sub-second field of 10^6 µs (10^9 ns) or more is invalid but kept: its excess
// is carried into the seconds (Wireshark and gopacket wrap it in 32 bits
// instead).
//
// Writer writes the format (little-endian, microsecond or nanosecond).
package pcapfile
