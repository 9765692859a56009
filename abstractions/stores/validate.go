package stores

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Size limits the portable layer enforces for every backend.
const (
	// MaxLimit bounds every limit argument (page sizes, batch sizes).
	MaxLimit = 10000
	// MaxNameLen bounds ids, names, queues, types, keys and host names, in bytes.
	MaxNameLen = 255
	// MaxTextLen bounds error messages, log messages and exceptions, in bytes.
	MaxTextLen = 1 << 20
	// MaxJSONLen bounds job arguments and metadata, in bytes.
	MaxJSONLen = 16 << 20
	// MaxBatch bounds the jobs of one EnqueueMany or Firing, the refs of one
	// CompleteMany or MarkRunningMany and the entries of one log Append or
	// history AppendMany.
	MaxBatch = 10000
)

// minTime and maxTime bound the instants a store accepts: after the Unix
// epoch (so drivers may encode "unset" as 0) and before year 10000.
var (
	minTime = time.Unix(0, 0).UTC()
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// NormalizeTime returns t in UTC truncated to microseconds, without a
// monotonic reading: the form every backend stores and returns. The zero time
// stays zero.
func NormalizeTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// NormalizeDuration truncates d to milliseconds, the precision every backend
// keeps.
func NormalizeDuration(d time.Duration) time.Duration { return d.Truncate(time.Millisecond) }

// NewID returns a new UUIDv7 string: time-ordered keys index well.
func NewID() string { return newIDs(1) }

// checker collects the first validation error, so validation reads as a list.
type checker struct {
	err error
	// prefix names the value whose fields are being checked ("jobs[3].");
	// a full field name is built only for an error, not for every field of
	// every job of a batch.
	prefix string
	// elem, when set, names the element being checked ("jobs", 3) after
	// prefix; it is rendered into a string only for an error, so checking
	// a batch builds no per-element name.
	elem fieldName
	// ids, when reserved, fills the empty IDs of a batch (reserveIDs).
	ids idBatch
	// generated counts the IDs newID made.
	generated int
}

// reserveIDs generates the n IDs that newID fills empty fields with next,
// in one batch; newID makes its own once they are spent.
func (c *checker) reserveIDs(n int) { c.ids = idBatch{newIDs(n)} }

// emptyIDs counts the elements of a batch whose ID is empty (nil elements
// are not counted).
func emptyIDs[T any](batch []*T, id func(*T) string) int {
	n := 0
	for _, x := range batch {
		if x != nil && id(x) == "" {
			n++
		}
	}
	return n
}

// fieldName names a value: name, or name[index] when index >= 0. It is
// rendered (String) only when an error needs it.
type fieldName struct {
	name  string
	index int
}

// plain names a value that is not a batch element.
func plain(name string) fieldName { return fieldName{name, -1} }

// at names element i of the batch field name.
func at(name string, i int) fieldName { return fieldName{name, i} }

func (f fieldName) String() string {
	if f.index < 0 {
		return f.name
	}
	return indexed(f.name, f.index)
}

func (c *checker) fail(field, format string, args ...any) {
	if c.err == nil {
		c.err = InvalidField(c.path()+field, format, args...)
	}
}

// path is the rendered prefix of the fields being checked.
func (c *checker) path() string {
	if c.elem.name == "" {
		return c.prefix
	}
	return c.prefix + c.elem.String() + "."
}

// scope is what enter saves and leave restores.
type scope struct {
	prefix string
	elem   fieldName
}

// enter makes f the prefix of the field names checked until leave(saved),
// without building f's name unless an error needs it.
func (c *checker) enter(f fieldName) (saved scope) {
	saved = scope{c.prefix, c.elem}
	if c.elem.name != "" { // nested: render the outer element (rare)
		c.prefix = c.path()
	}
	c.elem = f
	return saved
}

func (c *checker) leave(saved scope) { c.prefix, c.elem = saved.prefix, saved.elem }

// text checks a free-text field: valid UTF-8, no NUL byte, at most max bytes.
func (c *checker) text(field, s string, max int) {
	switch {
	case len(s) > max:
		c.fail(field, "is %d bytes long, the limit is %d", len(s), max)
	case !utf8.ValidString(s):
		c.fail(field, "is not valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		c.fail(field, "contains a NUL byte")
	}
}

// name checks an identifier-like field that must not be empty.
func (c *checker) name(field, s string) {
	if s == "" {
		c.fail(field, "must not be empty")
		return
	}
	c.text(field, s, MaxNameLen)
}

// optName checks an identifier-like field that may be empty.
func (c *checker) optName(field, s string) {
	if s != "" {
		c.text(field, s, MaxNameLen)
	}
}

// id checks and normalises a UUID field; empty is an error.
func (c *checker) id(field string, s *string) {
	if *s == "" {
		c.fail(field, "must not be empty")
		return
	}
	if canonicalUUID(*s) { // already what Parse+String would give
		return
	}
	u, err := uuid.Parse(*s)
	if err != nil {
		c.fail(field, "%q is not a UUID", truncateForError(*s))
		return
	}
	*s = u.String()
}

// canonicalUUID reports whether s is a UUID in the canonical form
// uuid.UUID.String returns (36 bytes, lower-case hex, dashes at 8, 13, 18
// and 23): uuid.Parse accepts it and String gives it back unchanged, so it
// needs no parse and no new string.
func canonicalUUID(s string) bool {
	if len(s) != uuidLen || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	var bad byte
	for _, j := range uuidHexAt {
		bad |= notLowerHex[s[j]] | notLowerHex[s[j+1]]
	}
	return bad == 0
}

// notLowerHex is 0 for the bytes 0-9 and a-f, 1 for every other.
var notLowerHex = func() (t [256]byte) {
	for i := range t {
		if !('0' <= i && i <= '9' || 'a' <= i && i <= 'f') {
			t[i] = 1
		}
	}
	return t
}()

// newID fills an empty UUID field with a new UUIDv7, else checks it.
func (c *checker) newID(field string, s *string) {
	if *s == "" {
		id, ok := c.ids.next()
		if !ok {
			id = NewID()
		}
		*s = id
		c.generated++
		return
	}
	c.id(field, s)
}

// optID checks and normalises a UUID field that may be empty.
func (c *checker) optID(field string, s *string) {
	if *s != "" {
		c.id(field, s)
	}
}

func (c *checker) json(field string, b json.RawMessage) {
	if len(b) == 0 {
		return
	}
	if len(b) > MaxJSONLen {
		c.fail(field, "is %d bytes long, the limit is %d", len(b), MaxJSONLen)
		return
	}
	if !json.Valid(b) {
		c.fail(field, "is not valid JSON")
	}
}

// time normalises an optional instant and checks its range.
func (c *checker) time(field string, t *time.Time) {
	if t.IsZero() {
		return
	}
	*t = NormalizeTime(*t)
	if !t.After(minTime) || !t.Before(maxTime) {
		c.fail(field, "%s is outside the supported range (after 1970-01-01, before year 10000)", t.Format(time.RFC3339Nano))
	}
}

// now normalises a required instant.
func (c *checker) now(field string, t *time.Time) {
	if t.IsZero() {
		c.fail(field, "must be set")
		return
	}
	c.time(field, t)
}

// duration normalises a duration that must not be negative.
func (c *checker) duration(field string, d *time.Duration) {
	if *d < 0 {
		c.fail(field, "must not be negative, got %s", *d)
		return
	}
	*d = NormalizeDuration(*d)
}

// positive normalises a duration that must be at least a millisecond.
func (c *checker) positive(field string, d *time.Duration) {
	if *d < time.Millisecond {
		c.fail(field, "must be at least 1ms, got %s", *d)
		return
	}
	*d = NormalizeDuration(*d)
}

func (c *checker) limit(field string, n int) {
	if n < 1 || n > MaxLimit {
		c.fail(field, "must be between 1 and %d, got %d", MaxLimit, n)
	}
}

func (c *checker) nonNegative(field string, n int) {
	if n < 0 {
		c.fail(field, "must not be negative, got %d", n)
	}
}

func (c *checker) names(field string, list []string) {
	for i, s := range list {
		c.name(field+"["+strconv.Itoa(i)+"]", s)
	}
}

func truncateForError(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// job validates and normalises a job for Enqueue: defaults for ID, Status
// (pending) and CreatedAt, then every field.
func (c *checker) job(field fieldName, j *Job, now time.Time) {
	if j == nil {
		c.fail(field.String(), "must not be nil")
		return
	}
	defer c.leave(c.enter(field))
	c.newID("ID", &j.ID)
	c.name("Type", j.Type)
	c.name("Queue", j.Queue)
	c.json("Args", j.Args)
	if j.Status == "" {
		j.Status = StatusPending
	} else if !j.Status.Valid() {
		c.fail("Status", "unknown status %q", truncateForError(string(j.Status)))
	}
	c.optName("CorrelationID", j.CorrelationID)
	c.optName("UniqueKey", j.UniqueKey)
	if j.CreatedAt.IsZero() {
		j.CreatedAt = now
	}
	c.time("CreatedAt", &j.CreatedAt)
	c.time("ScheduledAt", &j.ScheduledAt)
	c.time("DispatchedAt", &j.DispatchedAt)
	c.time("StartedAt", &j.StartedAt)
	c.time("CompletedAt", &j.CompletedAt)
	c.duration("Timeout", &j.Timeout)
	c.nonNegative("RetryCount", j.RetryCount)
	c.nonNegative("MaxRetries", j.MaxRetries)
	c.duration("RetryPolicy.InitialDelay", &j.RetryPolicy.InitialDelay)
	c.duration("RetryPolicy.MaxDelay", &j.RetryPolicy.MaxDelay)
	if m := j.RetryPolicy.Multiplier; m < 0 || math.IsNaN(m) || math.IsInf(m, 0) || m > 1000 {
		c.fail("RetryPolicy.Multiplier", "must be between 0 and 1000, got %v", m)
	}
	c.text("LastError", j.LastError, MaxTextLen)
	c.optName("WorkerID", j.WorkerID)
	c.optName("FollowerNodeID", j.FollowerNodeID)
	c.optID("ScheduleID", &j.ScheduleID)
	switch j.ScheduleType {
	case ScheduleTypeNone, ScheduleTypeCron, ScheduleTypeInterval:
	default:
		c.fail("ScheduleType", "unknown schedule type %q", truncateForError(string(j.ScheduleType)))
	}
	if (j.ScheduleID == "") != (j.ScheduleType == ScheduleTypeNone) {
		c.fail("ScheduleType", "must be set together with ScheduleID")
	}
	c.time("ScheduleTick", &j.ScheduleTick)
	if j.Attempt < 0 {
		c.fail("Attempt", "must not be negative, got %d", j.Attempt)
	}
}

func (c *checker) ref(field fieldName, r *Ref) {
	defer c.leave(c.enter(field))
	c.id("ID", &r.ID)
	if r.Attempt < 1 {
		c.fail("Attempt", "must be at least 1 (the job must have been dispatched), got %d", r.Attempt)
	}
}
