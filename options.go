package reseq

// Options tune Open. The zero value is the default.
type Options struct {
	// Concat reads the captures one after another, in the order given (archive
	// members in archive order), instead of merging them by timestamp.
	Concat bool

	// ZstdConcurrency is the number of goroutines klauspost's zstd decoder may
	// use to decode ahead of the reader (zstd.WithDecoderConcurrency). 0 or 1
	// decodes synchronously in the caller's goroutine: no goroutines, and on
	// this project's measurements the fastest, since the reader is busy anyway.
	ZstdConcurrency int

	// MaxDecoderMemory bounds the memory a compressed stream's header may ask
	// a decompressor to allocate: the zstd window, the xz dictionary (of the
	// first block). 0 means 128 MiB, the zstd tool's default limit.
	MaxDecoderMemory int64

	// MaxArchiveBuffer bounds the size of a zip archive that is not a plain file
	// (standard input, or compressed) and so must be held in memory to read its
	// directory. 0 means 256 MiB.
	MaxArchiveBuffer int64

	// TempDir is where a tar archive that is not a plain file (compressed,
	// or read from a pipe or standard input) is copied, decompressed, while
	// opening: its members can then be merged by time like those of a plain
	// tar file. "" means os.TempDir() ($TMPDIR on Unix). The copy takes the
	// archive's decompressed size on disk; it is unlinked right after it is
	// created where the system allows (Unix), so it is freed however the
	// process ends, and otherwise removed by Close.
	TempDir string

	// MaxSpill bounds the decompressed size of such a tar archive (the disk
	// space its copy takes); a larger one is an *InputError. 0 means no
	// limit.
	MaxSpill int64

	// Mmap maps uncompressed input files into memory instead of reading
	// them: a regular, non-empty file holding an uncompressed capture, or a
	// zip or tar archive, is mapped read-only (on Linux, macOS and the BSDs;
	// elsewhere, and when the mapping fails, it is read) and its packets'
	// Data point into the mapping: no copy, no system call per chunk.
	//
	// It is off by default because it is slower where this project measured
	// it (Linux in a VM, files in the page cache): mapping and unmapping the
	// pages, and the parser's first touch of each, cost more than the
	// kernel's copy into a 256 KiB buffer that stays in cache (see
	// BenchmarkRead and BenchmarkPipeline in the fuzz module).
	//
	// A mapped file that another process truncates while it is being read
	// makes the program crash with SIGBUS (the trade-off other mmap readers
	// such as ripgrep make; tcpdump's rotation does not truncate).
	Mmap bool
}

// defaultMaxDecoderMemory bounds the window a zstd frame and the dictionary an
// xz block may ask for, like the zstd command line tool's default (--long=27;
// xz -9 needs 64 MiB): a hostile header cannot make a decoder allocate more.
const defaultMaxDecoderMemory = 128 << 20

// withDefaults returns the options with the defaults of the fields left zero
// that are read directly.
func (o Options) withDefaults() Options {
	if o.MaxArchiveBuffer <= 0 {
		o.MaxArchiveBuffer = 256 << 20
	}
	return o
}

func (o *Options) maxDecoderMemory() int64 {
	if o.MaxDecoderMemory <= 0 {
		return defaultMaxDecoderMemory
	}
	return o.MaxDecoderMemory
}
