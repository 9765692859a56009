package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// Redis's allocator (jemalloc) hands freed memory back to the kernel: at
// once on a synchronous FLUSHDB (asynq's clean-up), and within seconds of a
// DEL otherwise. A workload that starts after that faults every page it
// fills in anew (11–15 µs a 4 KiB page on the 2-core VM of the README: a
// third of our insert's server time), one that starts right after another
// workload's DEL reuses that memory. Left to the order of the round, our
// redis-full (after our own DEL) inserted 1.5x as fast as redis-lean
// (after asynq's FLUSHDB) with the same code. So every Redis workload,
// asynq's and ours, starts from the same state (--redis-memory):
//
//	warm  plain strings of about 1 KB a job are written and deleted first:
//	      the allocator holds free memory, as in a server in service
//	cold  MEMORY PURGE first: every page is faulted in anew, as in a
//	      freshly started server
const (
	redisWarm = "warm"
	redisCold = "cold"
)

// warmupBatch is the SETs of one pipeline and the keys of one DEL.
const warmupBatch = 5000

// warmupValue holds the longest warm-up value; the others are its prefixes.
var warmupValue = strings.Repeat("x", 64+7*120)

// prepareRedis brings the server's memory to cfg.RedisMemory before a
// Redis workload. The warm-up's keys (2 per job, 64 to 904 bytes, in DB
// --redis-db under a random prefix) are deleted again, also after an error.
func prepareRedis(ctx context.Context, cfg *config) error {
	rdb := goredis.NewClient(&goredis.Options{Addr: cfg.Redis, DB: cfg.RedisDB})
	defer rdb.Close()
	if cfg.RedisMemory == redisCold {
		if err := rdb.Do(ctx, "MEMORY", "PURGE").Err(); err != nil {
			return fmt.Errorf("--redis %s: MEMORY PURGE: %w", cfg.Redis, err)
		}
		return nil
	}
	prefix := "peerbench-warmup-" + randomSuffix() + ":"
	n := 2 * cfg.Jobs
	var err error
	for start := 0; start < n && err == nil; start += warmupBatch {
		pipe := rdb.Pipeline()
		for i := start; i < min(start+warmupBatch, n); i++ {
			pipe.Set(ctx, prefix+strconv.Itoa(i), warmupValue[:64+(i%8)*120], 0)
		}
		_, err = pipe.Exec(ctx)
	}
	keys := make([]string, 0, warmupBatch)
	for start := 0; start < n; start += warmupBatch {
		keys = keys[:0]
		for i := start; i < min(start+warmupBatch, n); i++ {
			keys = append(keys, prefix+strconv.Itoa(i))
		}
		if derr := rdb.Del(context.WithoutCancel(ctx), keys...).Err(); derr != nil && err == nil {
			err = derr
		}
	}
	if err != nil {
		return fmt.Errorf("--redis %s: warm-up in db %d: %w", cfg.Redis, cfg.RedisDB, err)
	}
	return nil
}
