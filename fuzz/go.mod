module github.com/reseq/reseq/fuzz

go 1.25.0

require (
	github.com/gopacket/gopacket v1.7.7
	github.com/reseq/reseq v0.0.0
	pgregory.net/rapid v1.3.0
)

require (
	github.com/andybalholm/brotli v1.2.8 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/ulikunitz/xz v0.5.17 // indirect
	golang.org/x/net v0.55.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
)

replace github.com/reseq/reseq => ../
