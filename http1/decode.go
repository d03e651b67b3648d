package http1

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// Decode returns a reader of r's bytes with the content codings of a
// Content-Encoding field value undone (gzip, x-gzip, deflate — zlib-wrapped or
// raw —, br, zstd, identity; several codings are undone last first). close
// releases the decoders.
func Decode(encoding string, r io.Reader) (out io.Reader, close func(), err error) {
	var closers []func()
	close = func() {
		for _, c := range closers {
			c()
		}
	}
	codings := strings.Split(encoding, ",")
	out = r
	for i := len(codings) - 1; i >= 0; i-- {
		switch cd := strings.ToLower(strings.TrimSpace(codings[i])); cd {
		case "", "identity":
		case "gzip", "x-gzip":
			z, err := gzip.NewReader(out)
			if err != nil {
				close()
				return nil, nil, err
			}
			closers = append(closers, func() { z.Close() })
			out = z
		case "deflate":
			br := bufio.NewReader(out)
			hdr, _ := br.Peek(2)
			// RFC 9110 says zlib; some servers send raw deflate.
			if len(hdr) == 2 && hdr[0]&0x0f == 8 && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0 {
				z, err := zlib.NewReader(br)
				if err != nil {
					close()
					return nil, nil, err
				}
				closers = append(closers, func() { z.Close() })
				out = z
			} else {
				z := flate.NewReader(br)
				closers = append(closers, func() { z.Close() })
				out = z
			}
		case "br":
			out = brotli.NewReader(out)
		case "zstd":
			z, err := zstd.NewReader(out, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
			if err != nil {
				close()
				return nil, nil, err
			}
			closers = append(closers, z.Close)
			out = z
		default:
			close()
			return nil, nil, fmt.Errorf("http1: unknown content coding %q", cd)
		}
	}
	return out, close, nil
}
