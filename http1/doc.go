// Package http1 parses HTTP/1.0 and HTTP/1.1 messages out of passively captured
// TCP streams, on top of the framing layer (package tcpasm/framing).
//
// A Conn parses both directions of one connection. Messages are recognised by
// content, not by port: either direction may carry requests or responses, and a
// response is paired with the oldest unanswered request of the other direction
// (see framing.Pairer). Pipelining and keep-alive are followed; bodies are
// delimited as RFC 9112 section 6 says: none for responses to HEAD and for 1xx,
// 204 and 304 responses, chunked (de-chunked, trailers kept), Content-Length, or
// the end of the connection; a 101 response or a 2xx answer to CONNECT ends
// HTTP parsing of the connection.
//
// Capture loss is handled message by message. A gap inside a body marks the
// message incomplete and leaves a hole at the body offsets it covers (the Body
// callback skips them); when the body's length is known the next message starts
// right after it, otherwise (chunked framing lost, or a gap past the body's end)
// the stream resynchronises: the scanner looks for a request line
// ("METHOD SP target SP HTTP/1.x CRLF", known methods only) or a status line
// ("HTTP/1.x SP 3DIGIT") followed by a plausible header block, resuming where it
// stopped when more bytes arrive, so it scans each byte a bounded number of
// times. A gap inside a header block drops that message only. Bytes of the next
// message are never spliced into a body.
//
// The start line is parsed here (the resync scanner needs the same grammar);
// header fields are parsed by net/textproto once the whole header block is held.
// net/http's ReadRequest and ReadResponse are not used: they bind the body to a
// reader over the connection, reject some messages a passive observer must still
// delimit and account for, and cannot resume on a partial block.
package http1
