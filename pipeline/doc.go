// Package pipeline runs reseq's whole path — read the captures (package
// reseq), decode each frame (layers), reassemble TCP (tcpasm) — as one call.
//
// Run uses two goroutines when it can: a goroutine it starts reads and decodes
// the packets into batches of segments, and the calling goroutine assembles
// them. The batches carry the payloads without copying them: the capture
// readers read into buffers that Run lends them (reseq.Reader.SetLender) and
// gets back once every segment pointing into a buffer has been assembled. The
// assembler, its Handler, Progress and Abort are only ever called on the
// calling goroutine (Options.Keep, on the reading one), and the segments reach
// the assembler in the same order as with one goroutine (Options.Serial), so
// the output is the same. The goroutine has ended when Run returns.
//
// An assembler with an AssembleBatch method (*tcpasm.Assembler has one) is
// given whole batches, serial or not: their payloads stay valid for the call,
// which lets tcpasm defer its conflict-window copies to the end of the batch.
package pipeline
