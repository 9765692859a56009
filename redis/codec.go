package redis

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// Records are stored as JSON objects with short keys and string values only:
// Lua's cjson keeps 14 significant digits of a number, so every number and
// instant travels as text. Times are T strings (keys.go), durations decimal
// milliseconds, absent fields are zero values.

// jobRec is a stored job. lib.lua reads and writes the same fields.
type jobRec struct {
	ID            string `json:"id"`
	Type          string `json:"ty"`
	Queue         string `json:"q"`
	Args          string `json:"a,omitempty"`
	Status        string `json:"st"`
	Priority      string `json:"pr"`
	CorrelationID string `json:"ci,omitempty"`
	UniqueKey     string `json:"uk,omitempty"`
	CreatedAt     string `json:"ca"`
	ScheduledAt   string `json:"sa,omitempty"`
	DispatchedAt  string `json:"da,omitempty"`
	StartedAt     string `json:"ta,omitempty"`
	CompletedAt   string `json:"co,omitempty"`
	Timeout       string `json:"to,omitempty"`
	RetryCount    string `json:"rc,omitempty"`
	MaxRetries    string `json:"mr,omitempty"`
	InitialDelay  string `json:"pi,omitempty"`
	Multiplier    string `json:"pm,omitempty"`
	MaxDelay      string `json:"px,omitempty"`
	LastError     string `json:"le,omitempty"`
	WorkerID      string `json:"w,omitempty"`
	Follower      string `json:"f,omitempty"`
	Cleaned       string `json:"cc,omitempty"`
	ScheduleID    string `json:"si,omitempty"`
	ScheduleType  string `json:"sy,omitempty"`
	ScheduleTick  string `json:"tk,omitempty"`
	Attempt       string `json:"at"`
}

func itoa(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func ms(d time.Duration) string { return itoa(d.Milliseconds()) }

func encodeJob(j *stores.Job) jobRec {
	r := jobRec{
		ID: j.ID, Type: j.Type, Queue: j.Queue, Args: string(j.Args), Status: string(j.Status),
		Priority: prio(j.Priority), CorrelationID: j.CorrelationID, UniqueKey: j.UniqueKey,
		CreatedAt: tT(j.CreatedAt), ScheduledAt: optT(j.ScheduledAt), DispatchedAt: optT(j.DispatchedAt),
		StartedAt: optT(j.StartedAt), CompletedAt: optT(j.CompletedAt), Timeout: ms(j.Timeout),
		RetryCount: itoa(int64(j.RetryCount)), MaxRetries: itoa(int64(j.MaxRetries)),
		InitialDelay: ms(j.RetryPolicy.InitialDelay), MaxDelay: ms(j.RetryPolicy.MaxDelay),
		LastError: j.LastError, WorkerID: j.WorkerID, Follower: j.FollowerNodeID,
		ScheduleID: j.ScheduleID, ScheduleType: string(j.ScheduleType), ScheduleTick: optT(j.ScheduleTick),
		Attempt: strconv.FormatInt(j.Attempt, 10),
	}
	if j.RetryPolicy.Multiplier != 0 {
		r.Multiplier = strconv.FormatFloat(j.RetryPolicy.Multiplier, 'g', -1, 64)
	}
	if j.ChannelsCleaned {
		r.Cleaned = "1"
	}
	return r
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

func rawJSON(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

func (r *jobRec) job() (*stores.Job, error) {
	var d decoder
	p, err := parsePrio(r.Priority)
	d.fail(err)
	j := &stores.Job{
		ID: r.ID, Type: r.Type, Queue: r.Queue, Args: rawJSON(r.Args), Status: stores.JobStatus(r.Status),
		Priority: p, CorrelationID: r.CorrelationID, UniqueKey: r.UniqueKey,
		CreatedAt: d.t(r.CreatedAt), ScheduledAt: d.t(r.ScheduledAt), DispatchedAt: d.t(r.DispatchedAt),
		StartedAt: d.t(r.StartedAt), CompletedAt: d.t(r.CompletedAt), Timeout: d.ms(r.Timeout),
		RetryCount: int(d.i64(r.RetryCount)), MaxRetries: int(d.i64(r.MaxRetries)),
		RetryPolicy: stores.RetryPolicy{InitialDelay: d.ms(r.InitialDelay), Multiplier: d.f64(r.Multiplier), MaxDelay: d.ms(r.MaxDelay)},
		LastError:   r.LastError, WorkerID: r.WorkerID, FollowerNodeID: r.Follower, ChannelsCleaned: r.Cleaned != "",
		ScheduleID: r.ScheduleID, ScheduleType: stores.ScheduleType(r.ScheduleType), ScheduleTick: d.t(r.ScheduleTick),
		Attempt: d.i64(r.Attempt),
	}
	if d.err != nil {
		return nil, fmt.Errorf("orchestrix/redis: job %s: %w", r.ID, d.err)
	}
	return j, nil
}

// decodeJob decodes a job JSON returned by a script or read from the jobs hash.
func decodeJob(raw any) (*stores.Job, error) {
	s, ok := raw.(string)
	if !ok {
		return nil, fmt.Errorf("orchestrix/redis: unexpected job reply %T", raw)
	}
	var r jobRec
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, fmt.Errorf("orchestrix/redis: decode job: %w", err)
	}
	return r.job()
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

// deadLetterRec is a stored dead letter; J holds the job as it was stored.
type deadLetterRec struct {
	ID            string `json:"i"`
	Job           jobRec `json:"j"`
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
	j, err := r.Job.job()
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

// historyRec is a stored job attempt. N is the attempt as 19 digits, the
// sort key of histj.
type historyRec struct {
	ID          string `json:"i"`
	JobID       string `json:"j"`
	Attempt     string `json:"n"`
	WorkerID    string `json:"w,omitempty"`
	StartedAt   string `json:"ta,omitempty"`
	CompletedAt string `json:"co,omitempty"`
	Status      string `json:"st,omitempty"`
	Error       string `json:"e,omitempty"`
	Duration    string `json:"du,omitempty"`
}

func encodeHistory(h *stores.JobHistory) historyRec {
	return historyRec{ID: h.ID, JobID: h.JobID, Attempt: pad19(int64(h.Attempt)), WorkerID: h.WorkerID,
		StartedAt: optT(h.StartedAt), CompletedAt: optT(h.CompletedAt), Status: string(h.Status),
		Error: h.Error, Duration: ms(h.Duration)}
}

func decodeHistory(raw any) (*stores.JobHistory, error) {
	s, _ := raw.(string)
	var r historyRec
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, fmt.Errorf("orchestrix/redis: decode history: %w", err)
	}
	var d decoder
	h := &stores.JobHistory{ID: r.ID, JobID: r.JobID, Attempt: int(d.i64(strings.TrimLeft(r.Attempt, "0"))),
		WorkerID: r.WorkerID, StartedAt: d.t(r.StartedAt), CompletedAt: d.t(r.CompletedAt),
		Status: stores.JobStatus(r.Status), Error: r.Error, Duration: d.ms(r.Duration)}
	if d.err != nil {
		return nil, fmt.Errorf("orchestrix/redis: history %s: %w", r.ID, d.err)
	}
	return h, nil
}

// logRec is a stored log line; Seq (set by log_append.lua) is its place in
// the written order and the List cursor.
type logRec struct {
	ID        string `json:"i"`
	JobID     string `json:"j"`
	Timestamp string `json:"ts"`
	Level     string `json:"l,omitempty"`
	Message   string `json:"m,omitempty"`
	Exception string `json:"x,omitempty"`
	Seq       string `json:"s,omitempty"`
}

func decodeLog(raw any) (*stores.LogEntry, string, error) {
	s, _ := raw.(string)
	var r logRec
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, "", fmt.Errorf("orchestrix/redis: decode log entry: %w", err)
	}
	var d decoder
	e := &stores.LogEntry{ID: r.ID, JobID: r.JobID, Timestamp: d.t(r.Timestamp), Level: r.Level,
		Message: r.Message, Exception: r.Exception}
	if d.err != nil {
		return nil, "", fmt.Errorf("orchestrix/redis: log entry %s: %w", r.ID, d.err)
	}
	return e, r.Seq, nil
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
