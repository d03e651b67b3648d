package reseq

// Packet is one captured frame as the opener returns it. Data aliases the
// reader's buffer and stays valid until the next call to Next (with
// Reader.SetLender: until the lender reuses the buffer).
type Packet struct {
	Timestamp int64  // capture time, nanoseconds since the Unix epoch
	Length    int    // original length on the wire
	Data      []byte // the captured bytes (len(Data) <= Length unless the file lies)
	LinkType  uint32 // link-layer header type, FCS bits masked
	Interface int    // pcapng interface index within its section; 0 for pcap
	Section   int    // pcapng section index (0-based) within its capture; 0 for pcap
	Source    int    // index of the capture (input file or archive member) it came from
	Index     int64  // 0-based position in the merged packet sequence
	// Frame, when HasFrame, is the frame number in the capture a 'reseq
	// split' shard file was cut from (its epb_packetid, recorded in files
	// whose shb_userappl begins with SplitAppl).
	Frame    int64
	HasFrame bool
	// Options is a pcapng packet block's options area as stored, in its
	// section's byte order (nil for pcap and blocks without options); read
	// its comments with pcapng.Comments. Like Data it aliases the reader's
	// buffer, with the same lifetime.
	Options []byte
}

// SplitAppl begins the shb_userappl of the shard files 'reseq split' writes.
const SplitAppl = "reseq split"
