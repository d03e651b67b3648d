// Package framing turns one direction of a reassembled TCP stream into a sequence
// of application messages, even when the capture lost bytes.
//
// A Framer sits between the assembler's per-stream callbacks (Data, Gap, Close)
// and a Consumer that parses messages. The consumer is offered the in-order bytes
// of the stream and returns how many it consumed; the rest is held by the framer
// and offered again, followed by newer bytes, when more arrive. The amount held is
// bounded (Config.MaxHeld): when an offer reaches the bound the consumer is told
// (Chunk.Full) and must consume or give the bytes up. Many framers (and the
// consumers' own state) may share one Budget (Config.Budget): the bytes that
// would take a framer past what it has left are offered as a Full chunk too.
//
// Loss is reported to the consumer before any byte after it (Consumer.Gap). After
// a gap the consumer decides whether it still knows where the next message starts
// (a gap inside a body of known length leaves the framing intact) or must resync.
// While out of sync, and at a mid-stream start, the framer calls Consumer.Resync
// with the bytes available: the consumer scans them once for a place a message may
// start and names it, or names how many leading bytes cannot hold one. Resync is
// called only when bytes arrived since the last call, and the bytes it declined are
// dropped, so a consumer that keeps its scan position (see Chunk.Off) scans every
// byte a bounded number of times — O(n) over the stream, never one call per byte.
//
// Handler adapts a Factory of per-connection consumers to tcpasm.Handler: in-order
// data the consumer takes whole is passed through without a copy; only the part
// it leaves is copied. Bytes the assembler delivers late, into a gap already
// reported, go to consumers that implement LateConsumer. Chunk.Time gives the
// capture time of a byte as the assembler reported it (a lower bound for bytes
// it held above a hole), Chunk.Now an upper bound, Chunk.Exact whether the two
// agree. Pairer helps match requests of one direction with the responses of
// the other, using those times.
package framing
