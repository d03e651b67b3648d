module github.com/reseq/reseq/cmd

go 1.25.0

require github.com/reseq/reseq v0.0.0

replace github.com/reseq/reseq => ../
