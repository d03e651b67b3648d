package layers

// TCP option kinds.
const (
	TCPOptEOL           = 0
	TCPOptNOP           = 1
	TCPOptMSS           = 2
	TCPOptWindowScale   = 3
	TCPOptSACKPermitted = 4
	TCPOptSACK          = 5
	TCPOptTimestamps    = 8
)

// MaxSACKBlocks is the most SACK blocks a TCP option carries (40 option bytes).
const MaxSACKBlocks = 4

// SACKBlock is one SACK block: [Left, Right) in sequence space.
type SACKBlock struct{ Left, Right uint32 }

// TCPOptions holds the TCP options reassembly cares about, parsed without
// allocation. An option with the wrong length for its kind is ignored.
type TCPOptions struct {
	TSVal, TSEcr  uint32
	HasTimestamps bool

	HasMSS         bool
	HasWindowScale bool
	SACKPermitted  bool
	MSS            uint16
	WindowScale    uint8
	NumSACK        int
	SACK           [MaxSACKBlocks]SACKBlock

	// Malformed is set when an option's length byte was missing, below 2 or ran
	// past the header; the options after it were not read.
	Malformed bool
}

// Parse fills o from the option bytes of a TCP header (TCP.Options()).
func (o *TCPOptions) Parse(b []byte) {
	*o = TCPOptions{}
	// The layout of nearly every Linux data segment: NOP, NOP, timestamps.
	if len(b) == 12 && b[0] == TCPOptNOP && b[1] == TCPOptNOP && b[2] == TCPOptTimestamps && b[3] == 10 {
		o.TSVal, o.TSEcr, o.HasTimestamps = be.Uint32(b[4:]), be.Uint32(b[8:]), true
		return
	}
	for i := 0; i < len(b); {
		kind := b[i]
		if kind == TCPOptEOL {
			return
		}
		if kind == TCPOptNOP {
			i++
			continue
		}
		if i+1 >= len(b) {
			o.Malformed = true
			return
		}
		n := int(b[i+1])
		if n < 2 || n > len(b)-i {
			o.Malformed = true
			return
		}
		o.option(kind, b[i+2:i+n])
		i += n
	}
}

// option records one option's data.
func (o *TCPOptions) option(kind uint8, data []byte) {
	switch kind {
	case TCPOptMSS:
		if len(data) == 2 {
			o.MSS, o.HasMSS = be.Uint16(data), true
		}
	case TCPOptWindowScale:
		if len(data) == 1 {
			o.WindowScale, o.HasWindowScale = data[0], true
		}
	case TCPOptSACKPermitted:
		if len(data) == 0 {
			o.SACKPermitted = true
		}
	case TCPOptSACK:
		if len(data)%8 == 0 && len(data) > 0 {
			o.NumSACK = 0
			for len(data) >= 8 && o.NumSACK < MaxSACKBlocks {
				o.SACK[o.NumSACK] = SACKBlock{be.Uint32(data), be.Uint32(data[4:])}
				o.NumSACK++
				data = data[8:]
			}
		}
	case TCPOptTimestamps:
		if len(data) == 8 {
			o.TSVal, o.TSEcr, o.HasTimestamps = be.Uint32(data), be.Uint32(data[4:]), true
		}
	}
}

// TCPOptionIter walks the options of a TCP header without allocating. NOP
// options are skipped; an EOL option ends the walk.
type TCPOptionIter struct {
	b   []byte
	bad bool
}

// OptionIter returns an iterator over the header's options.
func (t TCP) OptionIter() TCPOptionIter { return TCPOptionIter{b: t.Options()} }

// Next returns the next option's kind and data (the bytes after kind and
// length), or ok false at the end of the options or at a malformed option.
func (it *TCPOptionIter) Next() (kind uint8, data []byte, ok bool) {
	for len(it.b) > 0 {
		kind = it.b[0]
		switch kind {
		case TCPOptEOL:
			it.b = nil
			return 0, nil, false
		case TCPOptNOP:
			it.b = it.b[1:]
			continue
		}
		if len(it.b) < 2 {
			it.b, it.bad = nil, true
			return 0, nil, false
		}
		n := int(it.b[1])
		if n < 2 || n > len(it.b) {
			it.b, it.bad = nil, true
			return 0, nil, false
		}
		data = it.b[2:n]
		it.b = it.b[n:]
		return kind, data, true
	}
	return 0, nil, false
}

// Malformed reports whether the walk stopped at a malformed option.
func (it *TCPOptionIter) Malformed() bool { return it.bad }
