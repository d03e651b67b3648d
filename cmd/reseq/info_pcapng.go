package main

import (
	"fmt"

	"github.com/reseq/reseq"
)

// pcapngInfo fills the pcapng details of rec: sections, interfaces with their
// link types, snaplens, resolutions and statistics, and comments.
func pcapngInfo(rec *infoRecord, c *reseq.Capture) {
	secs := c.Sections
	n := len(secs)
	rec.Sections = &n
	for _, s := range secs {
		rec.Comments = append(rec.Comments, s.Comments...)
	}
	var drops uint64
	var haveDrops bool
	for _, ifc := range c.Interfaces {
		rec.linkTypes[ifc.LinkType] = true
		ii := infoInterface{
			Section:     ifc.Section,
			Index:       ifc.Index,
			LinkType:    ifc.LinkType,
			Snaplen:     ifc.SnapLen,
			Name:        ifc.Name,
			Description: ifc.Desc,
			TSResol:     tsresolName(ifc.TSResol),
			Packets:     ifc.Packets,
		}
		if ifc.Stats.Blocks > 0 {
			if v := ifc.Stats.IfRecv; v >= 0 {
				u := uint64(v)
				ii.Received = &u
			}
			if v := ifc.Stats.IfDrop; v >= 0 {
				u := uint64(v)
				ii.IfDrop = &u
				drops += u
				haveDrops = true
			}
			if v := ifc.Stats.OSDrop; v >= 0 {
				u := uint64(v)
				ii.OSDrop = &u
				drops += u
				haveDrops = true
			}
			rec.Comments = append(rec.Comments, ifc.Stats.Comments...)
		}
		rec.Comments = append(rec.Comments, ifc.Comments...)
		rec.Interfaces = append(rec.Interfaces, ii)
	}
	if haveDrops {
		rec.Drops = &drops
	}
}

// tsresolName writes an if_tsresol value as a resolution: "ns", "us", "1e-4 s",
// "2^-10 s".
func tsresolName(v uint8) string {
	if v&0x80 != 0 {
		return fmt.Sprintf("2^-%d s", v&0x7f)
	}
	switch v {
	case 0:
		return "s"
	case 3:
		return "ms"
	case 6:
		return "us"
	case 9:
		return "ns"
	}
	return fmt.Sprintf("1e-%d s", v)
}
