package redis

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// Records other than jobs are stored as JSON objects with short keys and
// string values only: Lua's cjson keeps 14 significant digits of a number, so
// every number and instant travels as text. Times are T strings (keys.go),
// durations decimal milliseconds, absent fields are zero values.
//
// Jobs, the hot records, use a layout the scripts read without parsing (see
// lib.lua): a fixed-width head, then length-prefixed fields.
//
//	offset len  field
//	0      1    status code (statusCodes)
//	1      19   attempt, zero-padded decimal
//	20     19   DispatchedAt (T; zeroT when unset, as every time below)
//	39     19   StartedAt
//	58     19   CompletedAt
//	77     16   priority (prio)
//	93     19   CreatedAt
//	112    36   ID
//	148    19   ScheduledAt
//	167    19   Timeout in microseconds (whole milliseconds), zero-padded
//	186    1    ChannelsCleaned '1' or '0'
//	187    19   ScheduleTick
//	206         fields, each a zero-padded decimal byte length and the bytes:
//	            3 digits: Queue, WorkerID, FollowerNodeID, UniqueKey,
//	            ScheduleID, Type, CorrelationID, ScheduleType, RetryCount,
//	            MaxRetries, InitialDelay (ms), Multiplier, MaxDelay (ms);
//	            8 digits: Args, LastError
//
// A 3-digit field is lp(text), the same bytes a sorted-set member uses for
// caller text, so scripts copy queue and worker members straight out of the
// record, and priority, CreatedAt and ID sit together in the order of a
// ready member. Names are at most 255 bytes, Args at most 16 MiB and LastError at
// most 1 MiB (stores' validation), so the widths always suffice.
const (
	recStatus     = 0
	recAttempt    = 1
	recDispatched = 20
	recStarted    = 39
	recCompleted  = 58
	recPriority   = 77
	recCreated    = 93
	recID         = 112
	recScheduled  = 148
	recTimeout    = 167
	recCleaned    = 186
	recTick       = 187
	recFixed      = 206
)

// plainRecord returns the record of j, a pending job, followed by its
// readyq member (lp(queue), then priority, CreatedAt and ID, which the
// record holds in that order): lib.lua's entries for a plain pending job,
// which has no bystatus member. rec is where the record ends.
func plainRecord(j *stores.Job) (s string, rec int) {
	b := appendJob(nil, j, 3+len(j.Queue)+16+19+36)
	rec = len(b)
	b = append(b, b[recFixed:recFixed+3+len(j.Queue)]...)
	b = append(b, b[recPriority:recID+36]...)
	return ownString(b), rec
}

// statusCodes are the one-byte job status codes of a record.
var statusCodes = map[stores.JobStatus]byte{
	stores.StatusPending: 'p', stores.StatusDispatched: 'd', stores.StatusRunning: 'r',
	stores.StatusCompleted: 'c', stores.StatusFailed: 'f', stores.StatusTimedOut: 't', stores.StatusCancelled: 'x',
}

var codeStatuses = func() map[byte]stores.JobStatus {
	m := map[byte]stores.JobStatus{}
	for st, c := range statusCodes {
		m[c] = st
	}
	return m
}()

func itoa(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func ms(d time.Duration) string { return itoa(d.Milliseconds()) }

// appendField appends s with its byte length in width digits.
func appendField(b []byte, width int, s string) []byte {
	n := len(s)
	for div := pow10[width-1]; div > 0; div /= 10 {
		b = append(b, byte('0'+n/div%10))
	}
	return append(b, s...)
}

var pow10 = [...]int{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000}

// encodeJob returns the stored record of j.
func encodeJob(j *stores.Job) string { return ownString(appendJob(nil, j, 0)) }

// ownString returns the bytes of b as a string without copying them: b
// must be a buffer nothing writes after the call (as strings.Builder does).
func ownString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// appendJob appends the stored record of j to b, growing b to leave room
// for spare more bytes after it.
func appendJob(b []byte, j *stores.Job, spare int) []byte {
	mult := ""
	if j.RetryPolicy.Multiplier != 0 {
		mult = strconv.FormatFloat(j.RetryPolicy.Multiplier, 'g', -1, 64)
	}
	fields := [...]string{j.Queue, j.WorkerID, j.FollowerNodeID, j.UniqueKey, j.ScheduleID, j.Type,
		j.CorrelationID, string(j.ScheduleType), itoa(int64(j.RetryCount)), itoa(int64(j.MaxRetries)),
		ms(j.RetryPolicy.InitialDelay), mult, ms(j.RetryPolicy.MaxDelay)}
	size := recFixed + 3*len(fields) + 16 + len(j.Args) + len(j.LastError)
	for _, f := range fields {
		size += len(f)
	}
	b = slices.Grow(b, size+spare)
	b = append(b, statusCodes[j.Status])
	b = appendPad19(b, j.Attempt)
	b = appendT(b, j.DispatchedAt)
	b = appendT(b, j.StartedAt)
	b = appendT(b, j.CompletedAt)
	b = appendPrio(b, j.Priority)
	b = appendT(b, j.CreatedAt)
	b = append(b, j.ID...)
	b = appendT(b, j.ScheduledAt)
	b = appendPad19(b, j.Timeout.Milliseconds()*1000)
	cleaned := byte('0')
	if j.ChannelsCleaned {
		cleaned = '1'
	}
	b = append(b, cleaned)
	b = appendT(b, j.ScheduleTick)
	for _, f := range fields {
		b = appendField(b, 3, f)
	}
	b = appendField(b, 8, string(j.Args))
	return appendField(b, 8, j.LastError)
}

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("orchestrix/redis: encode %T: %v", v, err)) // only string fields: cannot fail
	}
	return string(b)
}

// decoder collects the first error of a record's fields.
type decoder struct{ err error }

func (d *decoder) t(s string) time.Time {
	t, err := parseT(s)
	if err != nil && d.err == nil {
		d.err = err
	}
	return t
}

func (d *decoder) i64(s string) int64 {
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("bad stored number %q", s)
	}
	return n
}

func (d *decoder) ms(s string) time.Duration { return time.Duration(d.i64(s)) * time.Millisecond }

func (d *decoder) f64(s string) float64 {
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("bad stored number %q", s)
	}
	return f
}

func (d *decoder) fail(err error) {
	if err != nil && d.err == nil {
		d.err = err
	}
}

// field reads the next length-prefixed field of a job record at *pos.
func (d *decoder) field(rec string, pos *int, width int) string {
	p := *pos
	if d.err != nil || p+width > len(rec) {
		d.fail(errors.New("record too short"))
		return ""
	}
	n := 0
	for _, c := range []byte(rec[p : p+width]) {
		if c < '0' || c > '9' {
			d.fail(fmt.Errorf("bad field length %q", rec[p:p+width]))
			return ""
		}
		n = n*10 + int(c-'0')
	}
	p += width
	if p+n > len(rec) {
		d.fail(errors.New("record too short"))
		return ""
	}
	*pos = p + n
	return rec[p : p+n]
}

func rawJSON(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// parseJob decodes a job record.
func parseJob(rec string) (*stores.Job, error) {
	if len(rec) < recFixed {
		return nil, fmt.Errorf("orchestrix/redis: job record of %d bytes", len(rec))
	}
	var d decoder
	at := func(off int) string { return rec[off : off+19] }
	j := &stores.Job{ID: rec[recID : recID+36], Attempt: d.i64(at(recAttempt)),
		DispatchedAt: d.t(at(recDispatched)), StartedAt: d.t(at(recStarted)), CompletedAt: d.t(at(recCompleted)),
		CreatedAt: d.t(at(recCreated)), ScheduledAt: d.t(at(recScheduled)),
		Timeout:         time.Duration(d.i64(at(recTimeout))) * time.Microsecond,
		ChannelsCleaned: rec[recCleaned] == '1', ScheduleTick: d.t(at(recTick))}
	st, ok := codeStatuses[rec[recStatus]]
	if !ok {
		d.fail(fmt.Errorf("bad status code %q", rec[recStatus]))
	}
	j.Status = st
	p, err := parsePrio(rec[recPriority : recPriority+16])
	d.fail(err)
	j.Priority = p
	pos := recFixed
	j.Queue = d.field(rec, &pos, 3)
	j.WorkerID = d.field(rec, &pos, 3)
	j.FollowerNodeID = d.field(rec, &pos, 3)
	j.UniqueKey = d.field(rec, &pos, 3)
	j.ScheduleID = d.field(rec, &pos, 3)
	j.Type = d.field(rec, &pos, 3)
	j.CorrelationID = d.field(rec, &pos, 3)
	j.ScheduleType = stores.ScheduleType(d.field(rec, &pos, 3))
	j.RetryCount = int(d.i64(d.field(rec, &pos, 3)))
	j.MaxRetries = int(d.i64(d.field(rec, &pos, 3)))
	j.RetryPolicy.InitialDelay = d.ms(d.field(rec, &pos, 3))
	j.RetryPolicy.Multiplier = d.f64(d.field(rec, &pos, 3))
	j.RetryPolicy.MaxDelay = d.ms(d.field(rec, &pos, 3))
	j.Args = rawJSON(d.field(rec, &pos, 8))
	j.LastError = d.field(rec, &pos, 8)
	if d.err == nil && pos != len(rec) {
		d.fail(fmt.Errorf("%d bytes after the last field", len(rec)-pos))
	}
	if d.err != nil {
		return nil, fmt.Errorf("orchestrix/redis: job %s: %w", j.ID, d.err)
	}
	return j, nil
}

// decodeJob decodes a job record returned by a script or read from the jobs
// hash.
func decodeJob(raw any) (*stores.Job, error) {
	s, ok := raw.(string)
	if !ok {
		return nil, fmt.Errorf("orchestrix/redis: unexpected job reply %T", raw)
	}
	return parseJob(s)
}

func decodeJobs(v any) ([]*stores.Job, error) {
	list, err := replyList(v)
	if err != nil {
		return nil, err
	}
	out := make([]*stores.Job, 0, len(list))
	for _, raw := range list {
		j, err := decodeJob(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

func replyList(v any) ([]any, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("orchestrix/redis: unexpected reply %T", v)
	}
	return list, nil
}

// deadLetterRec is a stored dead letter; J holds the job's record as it was
// stored.
type deadLetterRec struct {
	ID            string `json:"i"`
	Job           string `json:"j"`
	LastError     string `json:"e"`
	TotalAttempts string `json:"n"`
	FailedAt      string `json:"fa"`
}

func encodeDeadLetter(d *stores.DeadLetter) deadLetterRec {
	return deadLetterRec{ID: d.ID, Job: encodeJob(&d.Job), LastError: d.LastError,
		TotalAttempts: strconv.Itoa(d.TotalAttempts), FailedAt: tT(d.FailedAt)}
}

func decodeDeadLetter(raw any) (*stores.DeadLetter, error) {
	s, ok := raw.(string)
	if !ok {
		return nil, fmt.Errorf("orchestrix/redis: unexpected dead letter reply %T", raw)
	}
	var r deadLetterRec
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, fmt.Errorf("orchestrix/redis: decode dead letter: %w", err)
	}
	j, err := parseJob(r.Job)
	if err != nil {
		return nil, err
	}
	var d decoder
	dl := &stores.DeadLetter{ID: r.ID, Job: *j, LastError: r.LastError,
		TotalAttempts: int(d.i64(r.TotalAttempts)), FailedAt: d.t(r.FailedAt)}
	if d.err != nil {
		return nil, fmt.Errorf("orchestrix/redis: dead letter %s: %w", r.ID, d.err)
	}
	return dl, nil
}

// scheduleRec is a stored cron or interval schedule.
type scheduleRec struct {
	ID           string `json:"i"`
	Name         string `json:"n"`
	JobType      string `json:"jt"`
	Queue        string `json:"q"`
	Args         string `json:"a,omitempty"`
	NextRun      string `json:"nr"`
	LastRun      string `json:"lr,omitempty"`
	Enabled      string `json:"en,omitempty"`
	CreatedAt    string `json:"ca"`
	Misfire      string `json:"mf,omitempty"`
	MisfireLimit string `json:"ml,omitempty"`
	Expression   string `json:"ex,omitempty"`
	TimeZone     string `json:"tz,omitempty"`
	Interval     string `json:"iv,omitempty"`
}

func encodeSchedule[S stores.Schedule](s S) scheduleRec {
	f := s.Fields()
	r := scheduleRec{ID: f.ID, Name: f.Name, JobType: f.JobType, Queue: f.Queue, Args: string(f.Args),
		NextRun: tT(f.NextRun), LastRun: optT(f.LastRun), CreatedAt: tT(f.CreatedAt),
		Misfire: string(f.Misfire), MisfireLimit: itoa(int64(f.MisfireLimit))}
	if f.Enabled {
		r.Enabled = "1"
	}
	switch v := any(s).(type) {
	case *stores.CronSchedule:
		r.Expression, r.TimeZone = v.Expression, v.TimeZone
	case *stores.IntervalSchedule:
		r.Interval = ms(v.Interval)
	}
	return r
}

func decodeSchedule[S stores.Schedule](raw any) (S, error) {
	var zero S
	s, _ := raw.(string)
	var r scheduleRec
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return zero, fmt.Errorf("orchestrix/redis: decode schedule: %w", err)
	}
	var d decoder
	f := stores.ScheduleFields{ID: r.ID, Name: r.Name, JobType: r.JobType, Queue: r.Queue, Args: rawJSON(r.Args),
		NextRun: d.t(r.NextRun), LastRun: d.t(r.LastRun), Enabled: r.Enabled != "", CreatedAt: d.t(r.CreatedAt),
		Misfire: stores.MisfirePolicy(r.Misfire), MisfireLimit: int(d.i64(r.MisfireLimit))}
	var out S
	switch any(zero).(type) {
	case *stores.CronSchedule:
		out = any(&stores.CronSchedule{ScheduleFields: f, Expression: r.Expression, TimeZone: r.TimeZone}).(S)
	case *stores.IntervalSchedule:
		out = any(&stores.IntervalSchedule{ScheduleFields: f, Interval: d.ms(r.Interval)}).(S)
	}
	if d.err != nil {
		return zero, fmt.Errorf("orchestrix/redis: schedule %s: %w", r.ID, d.err)
	}
	return out, nil
}

// workerRec is a stored worker. Queues are joined by NUL, which validated
// names never contain, so member_scan.lua can test membership.
type workerRec struct {
	ID             string `json:"i"`
	HostName       string `json:"h,omitempty"`
	Queues         string `json:"qs,omitempty"`
	MaxConcurrency string `json:"mc"`
	CurrentLoad    string `json:"cl,omitempty"`
	Status         string `json:"st"`
	LastHeartbeat  string `json:"lh"`
	Metadata       string `json:"md,omitempty"`
	RegisteredAt   string `json:"ra"`
}

// workerUpdate lists the fields a heartbeat of a known worker copies.
const workerUpdate = "h,qs,mc,cl,md"

func decodeWorker(raw any) (*stores.Worker, error) {
	s, _ := raw.(string)
	var r workerRec
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, fmt.Errorf("orchestrix/redis: decode worker: %w", err)
	}
	var d decoder
	w := &stores.Worker{ID: r.ID, HostName: r.HostName, MaxConcurrency: int(d.i64(r.MaxConcurrency)),
		CurrentLoad: int(d.i64(r.CurrentLoad)), Status: stores.MemberStatus(r.Status),
		LastHeartbeat: d.t(r.LastHeartbeat), Metadata: rawJSON(r.Metadata), RegisteredAt: d.t(r.RegisteredAt)}
	if r.Queues != "" {
		w.Queues = strings.Split(r.Queues, "\x00")
	}
	if d.err != nil {
		return nil, fmt.Errorf("orchestrix/redis: worker: %w", d.err)
	}
	return w, nil
}

// nodeRec is a stored coordinator node.
type nodeRec struct {
	ID            string `json:"i"`
	Role          string `json:"r"`
	JobCount      string `json:"jc,omitempty"`
	Status        string `json:"st"`
	LastHeartbeat string `json:"lh"`
	Metadata      string `json:"md,omitempty"`
	HostName      string `json:"h,omitempty"`
	ProcessID     string `json:"pid,omitempty"`
	JoinedAt      string `json:"ja"`
}

// nodeUpdate lists the fields a heartbeat of a known node copies: never its
// role or job count (W1).
const nodeUpdate = "h,pid,md"

func decodeNode(raw any) (*stores.CoordinatorNode, error) {
	s, _ := raw.(string)
	var r nodeRec
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, fmt.Errorf("orchestrix/redis: decode node: %w", err)
	}
	var d decoder
	n := &stores.CoordinatorNode{ID: r.ID, Role: stores.NodeRole(r.Role), JobCount: int(d.i64(r.JobCount)),
		Status: stores.MemberStatus(r.Status), LastHeartbeat: d.t(r.LastHeartbeat), Metadata: rawJSON(r.Metadata),
		HostName: r.HostName, ProcessID: int(d.i64(r.ProcessID)), JoinedAt: d.t(r.JoinedAt)}
	if d.err != nil {
		return nil, fmt.Errorf("orchestrix/redis: node: %w", d.err)
	}
	return n, nil
}

var errUnexpected = errors.New("orchestrix/redis: unexpected reply")

// History rows and log lines are stored whole as sorted-set members
// (records_lib.lua), in binary: ids as their 16 bytes, instants as T8 (8
// bytes, big-endian unix microseconds, 0 for the zero time), so byte order
// is the order the indexes need and the scripts build no text.
//
//	history row  jobID attempt(8) T8(started) id T8(completed) batch(16)
//	             duration(8, ns) len(1) status len(1) worker error
//	log line     jobID batch(6) index(2) id T8(timestamp) len(1) level
//	             len(4) message exception
//
// A log line's batch is the number log_append.lua takes for its call and
// its index its place in the call, so a job's lines sort in written order;
// batch·index is the List cursor. A history row's batch names the list of
// locators its call filed (records_lib.lua).

// t8 encodes an instant as T8.
func t8(t time.Time) string { return string(appendT8(nil, t)) }

func appendT8(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.BigEndian.AppendUint64(b, 0)
	}
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixMicro()))
}

func parseT8(b string) time.Time {
	us := binary.BigEndian.Uint64([]byte(b))
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(int64(us)).UTC()
}

// uuidBytes returns the 16 bytes of a canonical UUID (what the portable
// layer passes).
func uuidBytes(id string) ([]byte, error) {
	b := make([]byte, 16, 24)
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return nil, stores.InvalidField("id", "%q is not a UUID", id)
	}
	for i, j := 0, 0; j < 16; i, j = i+2, j+1 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
		}
		hi, lo := unhex(id[i]), unhex(id[i+1])
		if hi > 15 || lo > 15 {
			return nil, stores.InvalidField("id", "%q is not a UUID", id)
		}
		b[j] = hi<<4 | lo
	}
	return b, nil
}

// unhex returns the value of a lower-case hex digit, or 255.
func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return 255
}

// uuidString returns the canonical form of 16 UUID bytes.
func uuidString(b string) string {
	var s [36]byte
	hex.Encode(s[:8], []byte(b[:4]))
	hex.Encode(s[9:13], []byte(b[4:6]))
	hex.Encode(s[14:18], []byte(b[6:8]))
	hex.Encode(s[19:23], []byte(b[8:10]))
	hex.Encode(s[24:], []byte(b[10:16]))
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return string(s[:])
}

// historyMember appends the member of a history row filed under batch to
// b.
func historyMember(b []byte, h *stores.JobHistory, batch []byte) ([]byte, error) {
	jid, err := uuidBytes(h.JobID)
	if err != nil {
		return nil, err
	}
	id, err := uuidBytes(h.ID)
	if err != nil {
		return nil, err
	}
	if len(h.WorkerID) > 255 || len(h.Status) > 255 {
		return nil, stores.InvalidField("history", "worker id or status longer than 255 bytes")
	}
	b = append(b, jid...)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Attempt))
	b = appendT8(b, h.StartedAt)
	b = append(b, id...)
	b = appendT8(b, h.CompletedAt)
	b = append(b, batch...)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Duration))
	b = append(b, byte(len(h.Status)))
	b = append(b, h.Status...)
	b = append(b, byte(len(h.WorkerID)))
	b = append(b, h.WorkerID...)
	return append(b, h.Error...), nil
}

func decodeHistoryMember(m string) (*stores.JobHistory, error) {
	bad := fmt.Errorf("orchestrix/redis: bad stored history row of %d bytes", len(m))
	if len(m) < 82 {
		return nil, bad
	}
	h := &stores.JobHistory{JobID: uuidString(m[:16]), Attempt: int(binary.BigEndian.Uint64([]byte(m[16:24]))),
		StartedAt: parseT8(m[24:32]), ID: uuidString(m[32:48]), CompletedAt: parseT8(m[48:56]),
		Duration: time.Duration(binary.BigEndian.Uint64([]byte(m[72:80])))}
	p := 80
	ns := int(m[p])
	if p+1+ns >= len(m) {
		return nil, bad
	}
	h.Status = stores.JobStatus(m[p+1 : p+1+ns])
	p += 1 + ns
	nw := int(m[p])
	if p+1+nw > len(m) {
		return nil, bad
	}
	h.WorkerID = m[p+1 : p+1+nw]
	h.Error = m[p+1+nw:]
	return h, nil
}

// historySize is the size of a history row's member.
func historySize(h *stores.JobHistory) int {
	return 82 + len(h.Status) + len(h.WorkerID) + len(h.Error)
}

// logRest appends log line e, the i-th of its call, from its index on: what
// log_append.lua puts after the job id and the batch.
func logRest(b []byte, e *stores.LogEntry, i int) ([]byte, error) {
	id, err := uuidBytes(e.ID)
	if err != nil {
		return nil, err
	}
	if len(e.Level) > 255 {
		return nil, stores.InvalidField("Level", "longer than 255 bytes")
	}
	b = binary.BigEndian.AppendUint16(b, uint16(i))
	b = append(b, id...)
	b = appendT8(b, e.Timestamp)
	b = append(b, byte(len(e.Level)))
	b = append(b, e.Level...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.Message)))
	b = append(b, e.Message...)
	return append(b, e.Exception...), nil
}

// logRestSize is the size of what logRest appends.
func logRestSize(e *stores.LogEntry) int {
	return 31 + len(e.Level) + len(e.Message) + len(e.Exception)
}

func decodeLogMember(m string) (*stores.LogEntry, error) {
	bad := fmt.Errorf("orchestrix/redis: bad stored log line of %d bytes", len(m))
	if len(m) < 53 {
		return nil, bad
	}
	e := &stores.LogEntry{JobID: uuidString(m[:16]), ID: uuidString(m[24:40]), Timestamp: parseT8(m[40:48])}
	p := 48
	nl := int(m[p])
	if p+1+nl+4 > len(m) {
		return nil, bad
	}
	e.Level = m[p+1 : p+1+nl]
	p += 1 + nl
	nm := int(binary.BigEndian.Uint32([]byte(m[p : p+4])))
	if p+4+nm > len(m) {
		return nil, bad
	}
	e.Message = m[p+4 : p+4+nm]
	e.Exception = m[p+4+nm:]
	return e, nil
}

// locators collects one append call's locators (records_lib.lua), each
// size bytes: an instant's T8, then the bytes that lead the row's member.
type locators struct {
	size int
	buf  []byte
}

func (l *locators) add(t []byte, parts ...[]byte) {
	l.buf = append(l.buf, t...)
	for _, p := range parts {
		l.buf = append(l.buf, p...)
	}
}

// list returns the locators in time order (ties in the order added), as one
// string.
func (l *locators) list() []byte {
	n := len(l.buf) / l.size
	at := func(i int) []byte { return l.buf[i*l.size : (i+1)*l.size] }
	sorted := true
	for i := 1; i < n && sorted; i++ {
		sorted = bytes.Compare(at(i - 1)[:8], at(i)[:8]) <= 0
	}
	if sorted {
		return l.buf
	}
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = at(i)
	}
	slices.SortStableFunc(recs, func(a, b []byte) int { return bytes.Compare(a[:8], b[:8]) })
	return bytes.Join(recs, nil)
}
