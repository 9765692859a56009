package redis

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// Key layout. Every key name this driver uses is built in this file.
//
// A store with prefix P (DSN ?prefix=, default "orchestrix") owns exactly
// these keys, and no others:
//
//	{P}:jobs {P}:queues {P}:readyq {P}:sched {P}:wm {P}:bystatus {P}:disp
//	{P}:run {P}:wjobs {P}:fol {P}:done {P}:uncl {P}:uniq {P}:ticks {P}:dl
//	{P}:dlidx {P}:histid {P}:histr {P}:histbt {P}:histbl {P}:logid
//	{P}:logr {P}:logbt {P}:logbl {P}:logseq {P}:orphans
//	                                            job family: jobs, their
//	                                            indexes, dead letters,
//	                                            history and logs
//	{P}:hold:jobs {P}:hold:readyq {P}:hold:queues
//	                                            where a rejected plain
//	                                            enqueue holds those three
//	                                            keys; they exist only
//	                                            inside its transaction
//	{P}:hold:histid {P}:hold:histr {P}:hold:histbt {P}:hold:histbl
//	                                            the same for a rejected
//	                                            history append
//	{P}:cron {P}:cron:names {P}:cron:list {P}:cron:due      cron schedules
//	{P}:ival {P}:ival:names {P}:ival:list {P}:ival:due      interval schedules
//	{P:w}:workers                               workers
//	{P:n}:nodes {P:n}:lease                     coordinator nodes, leadership
//
// Three hash tags, so on Redis Cluster a store lives on at most three slots:
// {P} holds everything a job operation may touch in one script (Fire enqueues
// jobs and advances a schedule; MoveToDeadLetter, Requeue and Purge cross
// jobs, dead letters, history and logs; Dispatch crosses queues and unique
// keys), {P:w} the workers and {P:n} the nodes and the lease, which no job
// script touches. The set of keys is fixed: records of one kind share one
// hash (id -> JSON) and every index is one sorted set whose members encode
// the sort order as fixed-width text (see the T, lp and priority encodings
// below). So every script receives every key it touches in KEYS, and no key
// name ever contains caller text (ids, queues, names, unique keys): that text
// only appears inside hash fields and length-prefixed sorted-set members,
// where it cannot change a slot or reach another key (E3). The README
// explains the trade-off: one store's job data is one slot, so a store scales
// with one Redis primary, and a deployment spreads load over a cluster by
// running several stores (prefixes).
type keys struct {
	prefix string
	// job lists the job-family keys in the order lib.lua's jobkeys() reads.
	job []string
	// cron and interval are job followed by that kind's four schedule keys.
	cron, interval []string
	// plain lists the keys a plain enqueue writes (jobs, readyq,
	// queues), then their holding keys in the same order
	// (enqueue_check.lua).
	plain []string
	// hist lists the keys a history append writes (histid, histr, histbt,
	// histbl), then their holding keys (history_check.lua).
	hist    []string
	workers string
	nodes   string
	lease   string
}

// jobKeyNames are the job-family key suffixes in KEYS order (lib.lua).
var jobKeyNames = []string{"jobs", "queues", "readyq", "sched", "wm", "bystatus", "disp",
	"run", "wjobs", "fol", "done", "uncl", "uniq", "ticks", "dl", "dlidx", "histid", "histr",
	"histbt", "histbl", "logid", "logr", "logbt", "logbl", "logseq", "orphans"}

// plainKeyNames are the keys a plain enqueue writes, in the order of
// enqueue_check.lua's KEYS.
var plainKeyNames = []string{"jobs", "readyq", "queues"}

// histKeyNames are the keys a history append writes, in the order of
// history_check.lua's KEYS.
var histKeyNames = []string{"histid", "histr", "histbt", "histbl"}

// Positions in hist.
const (
	kHeldHistID = iota
	kHeldHistR
	kHeldHistBT
	kHeldHistBL
)

// Positions of job-family keys that Go code reads directly.
const (
	kJobs = iota
	kQueues
	kReadyQ
	kSched
	kWM
	kByStatus
	kDisp
	kRun
	kWJobs
	kFol
	kDone
	kUncl
	kUniq
	kTicks
	kDL
	kDLIdx
	kHistID
	kHistR
	kHistBT
	kHistBL
	kLogID
	kLogR
	kLogBT
	kLogBL
	kLogSeq
	kOrphans
	// schedule keys follow the job family in cron and interval
	kSch
	kSchNames
	kSchList
	kSchDue
)

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// validPrefix reports whether p may be a key prefix: no hash-tag braces, no
// glob characters, no ':' (which would let one prefix's tags reach another's).
func validPrefix(p string) bool { return prefixPattern.MatchString(p) }

func newKeys(prefix string) keys {
	tag := "{" + prefix + "}:"
	k := keys{prefix: prefix}
	for _, n := range jobKeyNames {
		k.job = append(k.job, tag+n)
	}
	sched := func(kind string) []string {
		out := append([]string(nil), k.job...)
		return append(out, tag+kind, tag+kind+":names", tag+kind+":list", tag+kind+":due")
	}
	k.cron = sched("cron")
	k.interval = sched("ival")
	k.plain = heldKeys(tag, plainKeyNames)
	k.hist = heldKeys(tag, histKeyNames)
	k.workers = "{" + prefix + ":w}:workers"
	k.nodes = "{" + prefix + ":n}:nodes"
	k.lease = "{" + prefix + ":n}:lease"
	return k
}

// heldKeys returns the keys tag+name of names, then their holding keys.
func heldKeys(tag string, names []string) []string {
	out := make([]string, 0, 2*len(names))
	for _, n := range names {
		out = append(out, tag+n)
	}
	for _, n := range names {
		out = append(out, tag+"hold:"+n)
	}
	return out
}

// all returns every key the store may create.
func (k keys) all() []string {
	out := append([]string(nil), k.cron...)
	out = append(out, k.interval[len(k.job):]...)
	out = append(out, k.plain[len(plainKeyNames):]...)
	out = append(out, k.hist[len(histKeyNames):]...)
	return append(out, k.workers, k.nodes, k.lease)
}

// Member encodings (the same as lib.lua's).

// zeroT is the T of the zero time.
const zeroT = "0000000000000000000"

// tT encodes an instant as T: 19-digit zero-padded unix microseconds, whose
// byte order is time order. The zero time is zeroT.
func tT(t time.Time) string {
	var b [19]byte
	return string(appendT(b[:0], t))
}

// appendPad19 appends n (non-negative) as 19 zero-padded digits.
func appendPad19(b []byte, n int64) []byte {
	var d [19]byte
	for i := 18; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[:]...)
}

// appendT appends t as a T (zeroT for the zero time).
func appendT(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, zeroT...)
	}
	return appendPad19(b, t.UnixMicro())
}

// optT is tT with the zero time as "" (an absent field).
func optT(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return tT(t)
}

// parseT decodes a T; "" and zeroT are the zero time.
func parseT(s string) (time.Time, error) {
	if s == "" || s == zeroT {
		return time.Time{}, nil
	}
	us, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad stored time %q", s)
	}
	return time.UnixMicro(us).UTC(), nil
}

// pad19 encodes a non-negative integer as 19 zero-padded digits.
func pad19(n int64) string {
	var b [19]byte
	return string(appendPad19(b[:0], n))
}

// lp length-prefixes caller text inside a member, as lib.lua's lp does.
func lp(s string) string { return fmt.Sprintf("%03d", len(s)) + s }

// prio encodes a priority as 16 hex digits whose byte order is priority
// descending: flip the sign bit (offset binary), then invert.
func prio(p int) string {
	var b [16]byte
	return string(appendPrio(b[:0], p))
}

// appendPrio appends prio(p).
func appendPrio(b []byte, p int) []byte {
	const hex = "0123456789abcdef"
	u := ^(uint64(int64(p)) ^ (1 << 63))
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, hex[u>>uint(shift)&0xf])
	}
	return b
}

func parsePrio(s string) (int, error) {
	u, err := strconv.ParseUint(s, 16, 64)
	if err != nil || len(s) != 16 {
		return 0, fmt.Errorf("bad stored priority %q", s)
	}
	return int(int64(^u ^ (1 << 63))), nil
}

// statusPrefix is the start of a job's bystatus member: its status and ':',
// with the live statuses (pending, dispatched, running) sharing "live:" so
// that MarkRunning leaves bystatus alone (lib.lua's BYSTATUS). A pending
// job without a ScheduledAt has no bystatus member (lib.lua's entries).
func statusPrefix(st stores.JobStatus) string {
	if st == stores.StatusPending || st.InFlight() {
		return "live:"
	}
	return string(st) + ":"
}

// maxSuffix closes a prefix range in ZRANGEBYLEX: no member byte is 0xff
// (members are ASCII around UTF-8 caller text).
const maxSuffix = "\xff"
