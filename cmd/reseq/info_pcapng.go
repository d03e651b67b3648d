package main

import "github.com/reseq/reseq"

// pcapngInfo fills the pcapng details of rec.
func pcapngInfo(rec *infoRecord, c *reseq.Capture, packets func(iface int) int64) {
}
