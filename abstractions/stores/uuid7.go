package stores

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// UUIDv7 generation (RFC 9562 §5.7), in batches: the empty IDs of one
// EnqueueMany, log Append or history AppendMany are filled from one clock
// reading, one read of random bytes and one string, instead of a clock
// reading under a lock, a random read, a UUID and a string per ID.
//
// Layout, as RFC 9562 §5.7 and method 3 of §6.2 (replace the leftmost
// random bits with increased clock precision) give it:
//
//	48 bits  unix_ts_ms: Unix time in milliseconds
//	 4 bits  version 7
//	12 bits  rand_a: the fraction of the millisecond, in 1/4096 ms
//	 2 bits  variant 10
//	62 bits  rand_b: from a ChaCha8 stream (math/rand/v2, a CSPRNG as
//	         RFC 9562 §6.9 asks) seeded from crypto/rand for each batch
//
// The 60 bits of milliseconds and fraction are a clock that only moves
// forward within the process: a batch reserves as many consecutive values
// as it has IDs, after every value reserved before (v7clock), so IDs made
// by one process are unique whatever their random bits, and sort in the
// order they were reserved. A process that makes more than 4096 IDs per
// millisecond runs its clock ahead of time, as RFC 9562 §6.2 allows on a
// counter overflow (google/uuid does the same).

var v7clock struct {
	sync.Mutex
	last int64 // the last value reserved: Unix ms << 12 | fraction
}

// reserveV7 reserves n consecutive clock values and returns the first.
func reserveV7(now time.Time, n int) int64 {
	nano := now.UnixNano()
	ms := nano / 1e6
	t := ms<<12 | (nano-ms*1e6)*4096/1e6
	v7clock.Lock()
	if t <= v7clock.last {
		t = v7clock.last + 1
	}
	v7clock.last = t + int64(n) - 1
	v7clock.Unlock()
	return t
}

// uuidLen is the length of a canonical UUID string.
const uuidLen = 36

// newIDs returns n new UUIDv7s in canonical form, back to back in one
// string (n*36 bytes).
func newIDs(n int) string {
	if n == 0 {
		return ""
	}
	var next func() uint64
	if n == 1 {
		var r [8]byte
		_, _ = crand.Read(r[:]) // never fails (Go 1.24+)
		next = func() uint64 { return binary.BigEndian.Uint64(r[:]) }
	} else {
		var seed [32]byte
		_, _ = crand.Read(seed[:])
		next = rand.NewChaCha8(seed).Uint64
	}
	t := reserveV7(time.Now(), n)
	var b strings.Builder
	b.Grow(n * uuidLen)
	// Formatted 32 at a time into text, then appended to b.
	var text [32 * uuidLen]byte
	var u [16]byte
	for i := range n {
		v := t + int64(i)
		ms := v >> 12
		u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
		u[6], u[7] = 0x70|byte(v>>8)&0x0f, byte(v)
		binary.BigEndian.PutUint64(u[8:], next())
		u[8] = 0x80 | u[8]&0x3f
		k := i % 32
		formatUUID((*[uuidLen]byte)(text[k*uuidLen:]), &u)
		if k == 31 || i == n-1 {
			b.Write(text[:(k+1)*uuidLen])
		}
	}
	return b.String()
}

// uuidHexAt is where each byte of a UUID goes in its canonical text.
var uuidHexAt = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

const hexDigits = "0123456789abcdef"

// formatUUID writes u in canonical form (lower-case hex, dashes at 8, 13,
// 18 and 23), as uuid.UUID.String does.
func formatUUID(dst *[uuidLen]byte, u *[16]byte) {
	for i, c := range u {
		j := uuidHexAt[i]
		dst[j], dst[j+1] = hexDigits[c>>4], hexDigits[c&0x0f]
	}
	dst[8], dst[13], dst[18], dst[23] = '-', '-', '-', '-'
}

// idBatch hands out the IDs of one newIDs call in order.
type idBatch struct{ ids string }

// next returns the next ID, false when the batch is spent.
func (b *idBatch) next() (string, bool) {
	if len(b.ids) < uuidLen {
		return "", false
	}
	id := b.ids[:uuidLen]
	b.ids = b.ids[uuidLen:]
	return id, true
}
