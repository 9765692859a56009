// Package redis is the Orchestrix store driver "redis", on
// github.com/redis/go-redis/v9: standalone Redis, Sentinel and Redis Cluster.
//
//	import _ "github.com/orchestrix/persistence/redis"
//	s, err := stores.Open("redis", "redis://cache:6379/0?prefix=orchestrix")
//
// Every operation that touches more than one key or reads before it writes
// is one Lua script (scripts/*.lua), or for the enqueue of plain jobs one
// MULTI/EXEC transaction, so it is atomic on the server and N concurrent
// callers in any number of processes never interleave (J4, E4).
// keys.go documents the key layout, README.md the clock rule, memory use and
// the Cluster trade-offs.
package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	goredis "github.com/redis/go-redis/v9"
)

// DriverName is the name the driver registers under.
const DriverName = "redis"

func init() { stores.Register(DriverName, Driver{}) }

// Driver opens Redis backends; see ParseDSN for the accepted DSNs.
type Driver struct{}

// Open connects to the server a DSN names and checks it answers.
func (Driver) Open(ctx context.Context, dsn string) (stores.Backend, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig connects with a parsed configuration and checks the server
// answers.
func OpenConfig(ctx context.Context, cfg Config) (*Backend, error) {
	if !validPrefix(cfg.Prefix) {
		return nil, stores.InvalidField("prefix", "must be 1 to 64 of A-Z a-z 0-9 . _ -, got %q", cfg.Prefix)
	}
	c := goredis.NewUniversalClient(cfg.universal())
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("orchestrix/redis: cannot reach %s: %w", strings.Join(cfg.Addrs, ","), err)
	}
	return newBackend(c, cfg.Prefix), nil
}

// NewBackend returns a backend over a client the caller configured (for
// example with its own TLS or dialer); the backend closes it on Close.
func NewBackend(c goredis.UniversalClient, prefix string) (*Backend, error) {
	if !validPrefix(prefix) {
		return nil, stores.InvalidField("prefix", "must be 1 to 64 of A-Z a-z 0-9 . _ -, got %q", prefix)
	}
	return newBackend(c, prefix), nil
}

func newBackend(c goredis.UniversalClient, prefix string) *Backend {
	b := &Backend{c: c, k: newKeys(prefix)}
	b.jobs = jobStore{b}
	b.history = historyStore{b}
	b.logs = logStore{b}
	b.deadLetters = deadLetterStore{b}
	b.cron = scheduleStore[*stores.CronSchedule]{b, b.k.cron}
	b.intervals = scheduleStore[*stores.IntervalSchedule]{b, b.k.interval}
	b.workers = workerStore{b}
	b.nodes = nodeStore{b}
	return b
}

// Backend is one store on a Redis deployment. It implements stores.Backend
// and stores.Pinger.
type Backend struct {
	c goredis.UniversalClient
	k keys
	// hold is canHold's answer once asked: 1 yes, 2 no (0: not yet).
	hold atomic.Int32

	jobs        jobStore
	history     historyStore
	logs        logStore
	deadLetters deadLetterStore
	cron        scheduleStore[*stores.CronSchedule]
	intervals   scheduleStore[*stores.IntervalSchedule]
	workers     workerStore
	nodes       nodeStore
}

var (
	_ stores.Backend = (*Backend)(nil)
	_ stores.Pinger  = (*Backend)(nil)
)

// Jobs returns the job store.
func (b *Backend) Jobs() stores.JobStore { return &b.jobs }

// History returns the job history store.
func (b *Backend) History() stores.HistoryStore { return &b.history }

// Cron returns the cron schedule store.
func (b *Backend) Cron() stores.ScheduleStore[*stores.CronSchedule] { return &b.cron }

// Intervals returns the interval schedule store.
func (b *Backend) Intervals() stores.ScheduleStore[*stores.IntervalSchedule] { return &b.intervals }

// Workers returns the worker store.
func (b *Backend) Workers() stores.WorkerStore { return &b.workers }

// Nodes returns the coordinator node store.
func (b *Backend) Nodes() stores.NodeStore { return &b.nodes }

// Logs returns the job log store.
func (b *Backend) Logs() stores.LogStore { return &b.logs }

// DeadLetters returns the dead letter store.
func (b *Backend) DeadLetters() stores.DeadLetterStore { return &b.deadLetters }

// Client returns the underlying go-redis client.
func (b *Backend) Client() goredis.UniversalClient { return b.c }

// Prefix returns the key prefix of the store.
func (b *Backend) Prefix() string { return b.k.prefix }

// Ping checks that the server answers.
func (b *Backend) Ping(ctx context.Context) error { return b.wrap(b.c.Ping(ctx).Err(), "ping") }

// Close closes the client. It leaves the data in place.
func (b *Backend) Close() error { return b.c.Close() }

// ServerTime returns the clock of the Redis server that holds the store's
// job keys (TIME), truncated to microseconds. Callers that cannot trust
// their own clocks can pass it as now to every call; see README.md.
func (b *Backend) ServerTime(ctx context.Context) (time.Time, error) {
	var t time.Time
	var err error
	if cc, ok := b.c.(*goredis.ClusterClient); ok {
		// TIME has no key: ask the primary that owns the job slot.
		var node *goredis.Client
		node, err = cc.MasterForKey(ctx, b.k.job[kJobs])
		if err == nil {
			t, err = node.Time(ctx).Result()
		}
	} else {
		t, err = b.c.Time(ctx).Result()
	}
	if err != nil {
		return time.Time{}, b.wrap(err, "server time")
	}
	return stores.NormalizeTime(t), nil
}

// DeleteAll deletes every key of the store (SCAN on each primary, then
// UNLINK in batches), never FLUSHDB: other stores on the server stay.
func (b *Backend) DeleteAll(ctx context.Context) error {
	// The key set is fixed (keys.go); delete it by name, which works the
	// same on Cluster, and scan in case an older layout left others.
	for _, k := range b.k.all() {
		if err := b.c.Unlink(ctx, k).Err(); err != nil {
			return b.wrap(err, "delete keys")
		}
	}
	scan := func(ctx context.Context, c *goredis.Client) error {
		for _, pat := range []string{"{" + b.k.prefix + "}:*", "{" + b.k.prefix + ":w}:*", "{" + b.k.prefix + ":n}:*"} {
			it := c.Scan(ctx, 0, pat, 500).Iterator()
			for it.Next(ctx) {
				if err := c.Unlink(ctx, it.Val()).Err(); err != nil {
					return err
				}
			}
			if err := it.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	switch c := b.c.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *goredis.Client:
		err = scan(ctx, c)
	}
	return b.wrap(err, "delete keys")
}

// run executes a script and maps its ORX_ error replies to store errors.
func (b *Backend) run(ctx context.Context, s *goredis.Script, keys []string, args ...any) (any, error) {
	v, err := s.Run(ctx, b.c, keys, args...).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	return v, b.wrap(err, "")
}

// wrap maps a client error to the store's errors: script codes to the
// sentinels (E1), a closed client to ErrClosed, a done context to its error.
func (b *Backend) wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	var rerr goredis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		for code, sentinel := range map[string]error{
			"ORX_NOTFOUND": stores.ErrNotFound, "ORX_CONFLICT": stores.ErrConflict, "ORX_EXISTS": stores.ErrAlreadyExists,
		} {
			if rest, ok := strings.CutPrefix(msg, code); ok {
				return fmt.Errorf("%w:%s", sentinel, rest)
			}
		}
	}
	if errors.Is(err, goredis.ErrClosed) {
		return stores.ErrClosed
	}
	if what != "" {
		return fmt.Errorf("orchestrix/redis: %s: %w", what, err)
	}
	return fmt.Errorf("orchestrix/redis: %w", err)
}
