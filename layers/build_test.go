package layers

import (
	"encoding/binary"
)

// Hand-built packets for the tests: each helper returns fresh bytes.

var (
	v4a = [4]byte{10, 77, 0, 1}
	v4b = [4]byte{10, 77, 0, 2}
	v6a = [16]byte{0xfd, 0x77, 15: 1}
	v6b = [16]byte{0xfd, 0x77, 15: 2}
)

type tcpSpec struct {
	sport, dport uint16
	seq, ack     uint32
	flags        uint8
	win          uint16
	opts         []byte // padded to a multiple of 4 by the caller
	payload      []byte
	doff         int // data offset in words when non-zero (overrides the computed one)
}

func (s tcpSpec) bytes() []byte {
	hl := TCPMinLen + len(s.opts)
	b := make([]byte, hl, hl+len(s.payload))
	binary.BigEndian.PutUint16(b[0:], s.sport)
	binary.BigEndian.PutUint16(b[2:], s.dport)
	binary.BigEndian.PutUint32(b[4:], s.seq)
	binary.BigEndian.PutUint32(b[8:], s.ack)
	doff := hl / 4
	if s.doff != 0 {
		doff = s.doff
	}
	b[12] = byte(doff << 4)
	b[13] = s.flags
	binary.BigEndian.PutUint16(b[14:], s.win)
	copy(b[20:], s.opts)
	return append(b, s.payload...)
}

func defTCP(payload string) tcpSpec {
	return tcpSpec{sport: 5001, dport: 8080, seq: 1000, ack: 2000, flags: TCPFlagACK | TCPFlagPSH, win: 512, payload: []byte(payload)}
}

type v4Spec struct {
	proto    uint8
	opts     []byte
	totalLen int // -1: computed; otherwise written as is
	flags    uint16
	id       uint16
	ihl      int // words; 0: computed
	version  int // 0: 4
}

func ipv4(s v4Spec, payload []byte) []byte {
	hl := IPv4MinLen + len(s.opts)
	b := make([]byte, hl, hl+len(payload))
	ver := 4
	if s.version != 0 {
		ver = s.version
	}
	ihl := hl / 4
	if s.ihl != 0 {
		ihl = s.ihl
	}
	b[0] = byte(ver<<4 | ihl&0xf)
	tl := hl + len(payload)
	if s.totalLen >= 0 {
		tl = s.totalLen
	}
	binary.BigEndian.PutUint16(b[2:], uint16(tl))
	binary.BigEndian.PutUint16(b[4:], s.id)
	binary.BigEndian.PutUint16(b[6:], s.flags)
	b[8] = 64
	b[9] = s.proto
	copy(b[12:], v4a[:])
	copy(b[16:], v4b[:])
	copy(b[20:], s.opts)
	cs := checksum(b, 0)
	binary.BigEndian.PutUint16(b[10:], ^cs)
	return append(b, payload...)
}

func tcp4(t tcpSpec) []byte { return ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1}, t.bytes()) }

// ipv6 builds an IPv6 header with next header nh; plen < 0 means computed.
func ipv6(nh uint8, plen int, payload []byte) []byte {
	b := make([]byte, IPv6Len, IPv6Len+len(payload))
	b[0] = 0x60
	if plen < 0 {
		plen = len(payload)
	}
	binary.BigEndian.PutUint16(b[4:], uint16(plen))
	b[6] = nh
	b[7] = 64
	copy(b[8:], v6a[:])
	copy(b[24:], v6b[:])
	return append(b, payload...)
}

func tcp6(t tcpSpec) []byte { return ipv6(IPProtoTCP, -1, t.bytes()) }

// ext6 builds an extension header of kind with next header nh and the given
// total length in bytes (a multiple of 8, or of 4 for AH).
func ext6(kind, nh uint8, total int) []byte {
	b := make([]byte, total)
	b[0] = nh
	switch kind {
	case IPProtoAH:
		b[1] = byte(total/4 - 2)
	case IPProtoFragment:
	default:
		b[1] = byte(total/8 - 1)
	}
	return b
}

func frag6(nh uint8, offset int, more bool, id uint32) []byte {
	b := make([]byte, 8)
	b[0] = nh
	f := uint16(offset) &^ 7
	if more {
		f |= 1
	}
	binary.BigEndian.PutUint16(b[2:], f)
	binary.BigEndian.PutUint32(b[4:], id)
	return b
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

var (
	macA = []byte{0x02, 0, 0, 0, 0, 1}
	macB = []byte{0x02, 0, 0, 0, 0, 2}
)

// eth builds an Ethernet header with the given tags (outer first) and final EtherType.
func eth(et uint16, payload []byte, tags ...VLAN) []byte {
	b := cat(macB, macA)
	for _, t := range tags {
		b = binary.BigEndian.AppendUint16(b, t.TPID)
		tci := t.ID&0xfff | uint16(t.Priority)<<13
		if t.DEI {
			tci |= 0x1000
		}
		b = binary.BigEndian.AppendUint16(b, tci)
	}
	b = binary.BigEndian.AppendUint16(b, et)
	return append(b, payload...)
}

func sll(proto uint16, payload []byte) []byte {
	b := make([]byte, SLLLen)
	binary.BigEndian.PutUint16(b[0:], 4)
	binary.BigEndian.PutUint16(b[2:], 1)
	binary.BigEndian.PutUint16(b[4:], 6)
	copy(b[6:], macA)
	binary.BigEndian.PutUint16(b[14:], proto)
	return append(b, payload...)
}

func sll2(proto uint16, addrLen uint8, payload []byte) []byte {
	b := make([]byte, SLL2Len)
	binary.BigEndian.PutUint16(b[0:], proto)
	binary.BigEndian.PutUint32(b[4:], 3)
	binary.BigEndian.PutUint16(b[8:], 1)
	b[10] = 4
	b[11] = addrLen
	copy(b[12:], macA)
	return append(b, payload...)
}

func null(fam uint32, bigEndian bool, payload []byte) []byte {
	b := make([]byte, 4)
	if bigEndian {
		binary.BigEndian.PutUint32(b, fam)
	} else {
		binary.LittleEndian.PutUint32(b, fam)
	}
	return append(b, payload...)
}
