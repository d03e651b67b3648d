package main

// How the commands name capture points and tunnels: flows.jsonl's
// "capture_points" and "tunnels", and their compact forms in 'reseq flows'.

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/reseq/reseq/layers"
	stages "github.com/reseq/reseq/pipeline"
)

// tunnelRecord is one encapsulation of a stream direction's first packet,
// outermost first: its type, its identifier (VNI, key, session, TEID, MPLS
// label) when it has one, and the outer addresses of the IP header that
// carried it.
type tunnelRecord struct {
	Type string  `json:"type"`
	ID   *uint32 `json:"id,omitempty"`
	Src  string  `json:"src,omitempty"`
	Dst  string  `json:"dst,omitempty"`
}

// tunnelRecords returns the tunnel stack numbered h; an empty list when none.
func tunnelRecords(t *stages.Tables, h uint32) []tunnelRecord {
	recs := []tunnelRecord{}
	if t == nil {
		return recs
	}
	for _, tu := range t.Tunnels(h) {
		r := tunnelRecord{Type: tu.Type.String()}
		if tu.HasID {
			id := tu.ID
			r.ID = &id
		}
		switch tu.Network {
		case layers.NetworkIPv4:
			r.Src = netip.AddrFrom4([4]byte(tu.Src[:4])).String()
			r.Dst = netip.AddrFrom4([4]byte(tu.Dst[:4])).String()
		case layers.NetworkIPv6:
			r.Src = netip.AddrFrom16(tu.Src).String()
			r.Dst = netip.AddrFrom16(tu.Dst).String()
		}
		recs = append(recs, r)
	}
	return recs
}

// tunnelsCompact writes a tunnel stack in one word for tables:
// "vxlan:5001", "gre>erspan:12" (outermost first); "" when none.
func tunnelsCompact(recs []tunnelRecord) string {
	var b strings.Builder
	for i, r := range recs {
		if i > 0 {
			b.WriteByte('>')
		}
		b.WriteString(r.Type)
		if r.ID != nil {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(uint64(*r.ID), 10))
		}
	}
	return b.String()
}

// pointNames names the capture points of a connection (Conn.CapturePoints);
// nil when it has none.
func pointNames(t *stages.Tables, ids []int32) []string {
	if len(ids) == 0 {
		return nil
	}
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		var c stages.CapturePoint
		ok := false
		if t != nil {
			c, ok = t.CapturePoint(id)
		}
		if !ok {
			names = append(names, "#"+strconv.Itoa(int(id)))
			continue
		}
		names = append(names, c.String())
	}
	return names
}

// decodeNotes adds to a summary line's TCP count what tunnels and IP
// reassembly contributed: ", 120 through tunnels, 40 IP fragments: 20
// datagrams reassembled, 1 incomplete". Empty when neither was seen.
func decodeNotes(st *stages.Stats) string {
	var b []byte
	note := func(sep string, n int64, what string) {
		if n > 0 {
			b = append(b, sep...)
			b = strconv.AppendInt(b, n, 10)
			b = append(b, what...)
		}
	}
	note(", ", st.Tunnelled, " through tunnels")
	note(", ", st.TunnelUnsupported, " tunnelled frames of unknown payload")
	if st.Fragments > 0 {
		note(", ", st.Fragments, " IP fragments: ")
		b = strconv.AppendInt(b, st.Reassembled, 10)
		b = append(b, " datagrams reassembled"...)
		note(", ", st.FragChecksumBad, " dropped for a bad checksum")
		note(", ", st.PartialDatagrams, " incomplete")
	}
	note(", ", st.TimesBackward, " timestamps out of order")
	note(", ", st.TimeLeaps, " implausible timestamps (leaps of more than an hour)")
	return string(b)
}
