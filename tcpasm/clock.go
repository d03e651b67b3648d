package tcpasm

// This file holds the capture clock: capture time as the timestamps tell
// it, with their leaps filtered out.

// clockLeap: a timestamp this far ahead of the capture clock, or behind it,
// is a leap (see Clock).
const clockLeap = 3600e9

// Clock is the capture clock of an Assembler (idle timeouts, linger,
// reordering allowances run on it): the latest plausible timestamp. A
// timestamp more than an hour ahead of the clock (or behind it) is a leap:
// one far-future stamp must not expire every connection, nor a far-past one
// its own. A forward leap is believed when the next timestamp confirms it
// (lands within an hour of it), as after a long pause of the capture; an
// unconfirmed one, and a backward leap, leave the clock where it was. Sharded
// pipelines run one Clock over the whole capture to advance each shard's
// Assembler (Assembler.Advance) as one Assembler's would move. The zero
// value is ready.
type Clock struct {
	now, prev, leapTo int64
	set, leapSet      bool
	Leaps, Backward   int64 // timestamps taken for leaps; timestamps earlier than the one before
}

// Now is the clock's time (0 before the first timestamp).
func (k *Clock) Now() int64 { return k.now }

// Observe moves the clock by the timestamp ts and reports whether ts is
// plausible (not a leap).
func (k *Clock) Observe(ts int64) bool {
	if !k.set {
		k.now, k.prev, k.set = ts, ts, true
		return true
	}
	if ts < k.prev {
		k.Backward++
	}
	k.prev = ts
	leap := k.leapSet
	k.leapSet = false
	switch {
	case ts > k.now+clockLeap:
		if leap && ts >= k.leapTo-clockLeap && ts <= k.leapTo+clockLeap {
			k.now = ts // the timestamp before leapt as far: a pause, not a glitch
			return true
		}
		k.leapSet, k.leapTo = true, ts
		k.Leaps++
		return false
	case ts < k.now-clockLeap:
		k.Leaps++
		return false
	case ts > k.now:
		k.now = ts
	}
	return true
}
