// Package reseq opens packet captures for passive TCP reassembly.
//
// Open sniffs each input's compression (gzip, zstd, lz4, xz, bzip2) and archive
// wrapping (zip, tar) by its magic bytes, then its format (pcap or pcapng), and
// merges several inputs into one packet sequence ordered by timestamp. The
// subpackages do the rest: pcapfile and pcapng read the formats, layers decodes
// headers without copying, and tcpasm reassembles TCP byte streams with an exact
// account of every byte the capture missed.
package reseq
