package pcapng

import (
	"encoding/binary"
)

// Helpers that hand-build pcapng blocks for the tests.

type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

var (
	le order = binary.LittleEndian
	be order = binary.BigEndian
)

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// block frames a body: type, total length, body (padded), total length.
func block(o order, typ uint32, body []byte) []byte {
	body = pad4(append([]byte(nil), body...))
	n := uint32(12 + len(body))
	b := o.AppendUint32(nil, typ)
	b = o.AppendUint32(b, n)
	b = append(b, body...)
	return o.AppendUint32(b, n)
}

// opt encodes one option (padded); opts ends a list with opt_endofopt.
func opt(o order, code uint16, val []byte) []byte {
	b := o.AppendUint16(nil, code)
	b = o.AppendUint16(b, uint16(len(val)))
	return pad4(append(b, val...))
}

func opts(o order, list ...[]byte) []byte {
	var b []byte
	for _, x := range list {
		b = append(b, x...)
	}
	return append(b, 0, 0, 0, 0)
}

func u64(o order, v uint64) []byte { return o.AppendUint64(nil, v) }
func u32(o order, v uint32) []byte { return o.AppendUint32(nil, v) }

func shb(o order, major, minor uint16, options []byte) []byte {
	b := o.AppendUint32(nil, byteOrderMagic)
	b = o.AppendUint16(b, major)
	b = o.AppendUint16(b, minor)
	b = o.AppendUint64(b, ^uint64(0))
	return block(o, BlockSHB, append(b, options...))
}

func idb(o order, link uint16, snap uint32, options []byte) []byte {
	b := o.AppendUint16(nil, link)
	b = o.AppendUint16(b, 0)
	b = o.AppendUint32(b, snap)
	return block(o, BlockIDB, append(b, options...))
}

func epb(o order, ifid uint32, ts uint64, data []byte, orig uint32, options []byte) []byte {
	b := o.AppendUint32(nil, ifid)
	b = o.AppendUint32(b, uint32(ts>>32))
	b = o.AppendUint32(b, uint32(ts))
	b = o.AppendUint32(b, uint32(len(data)))
	b = o.AppendUint32(b, orig)
	b = pad4(append(b, data...))
	return block(o, BlockEPB, append(b, options...))
}

func spb(o order, orig uint32, data []byte) []byte {
	return block(o, BlockSPB, append(o.AppendUint32(nil, orig), data...))
}

func opb(o order, ifid, drops uint16, ts uint64, data []byte, orig uint32, options []byte) []byte {
	b := o.AppendUint16(nil, ifid)
	b = o.AppendUint16(b, drops)
	b = o.AppendUint32(b, uint32(ts>>32))
	b = o.AppendUint32(b, uint32(ts))
	b = o.AppendUint32(b, uint32(len(data)))
	b = o.AppendUint32(b, orig)
	b = pad4(append(b, data...))
	return block(o, BlockOPB, append(b, options...))
}

func isb(o order, ifid uint32, ts uint64, options []byte) []byte {
	b := o.AppendUint32(nil, ifid)
	b = o.AppendUint32(b, uint32(ts>>32))
	b = o.AppendUint32(b, uint32(ts))
	return block(o, BlockISB, append(b, options...))
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}
