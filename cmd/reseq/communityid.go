package main

// Community ID (package communityid) of the records the commands write:
// flows.jsonl, conflicts.jsonl, 'flows --json' and http.jsonl carry
// "community_id", the same for both directions of a connection, so that they
// join with Zeek's conn.log, Suricata's eve.json or Wireshark's view of it.

import (
	"fmt"
	"strconv"

	"github.com/reseq/reseq/communityid"
	"github.com/reseq/reseq/layers"
)

// communityID returns the Community ID of the TCP flow k with seed.
func communityID(seed uint16, k *layers.FlowKey) string {
	return communityid.String(seed, communityid.Flow{
		Src: k.SrcAddr().Addr(), Dst: k.DstAddr().Addr(),
		Proto: communityid.ProtoTCP, SrcPort: k.SrcPort, DstPort: k.DstPort,
	})
}

// seedFlag is --community-id-seed: 0 to 65535.
type seedFlag struct{ v *uint16 }

func (s seedFlag) String() string {
	if s.v == nil {
		return "0"
	}
	return strconv.Itoa(int(*s.v))
}

func (s seedFlag) Set(x string) error {
	n, err := strconv.ParseUint(x, 0, 16)
	if err != nil {
		return fmt.Errorf("want a number from 0 to 65535")
	}
	*s.v = uint16(n)
	return nil
}
