module github.com/reseq/reseq/fuzz

go 1.25

require (
	github.com/gopacket/gopacket v1.7.7
	github.com/reseq/reseq v0.0.0
	pgregory.net/rapid v1.3.0
)

replace github.com/reseq/reseq => ../
