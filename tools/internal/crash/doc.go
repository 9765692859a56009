// Package crash holds the crash tests of the stores: a helper process (the
// test binary run again in helper mode) enqueues, dispatches, runs and
// finishes jobs in batches and holds the leadership lease, and is killed
// with SIGKILL at random points, many times, on SQLite, PostgreSQL and
// Redis. After every kill the store must be consistent; after the last one,
// recovery must return every orphaned job and a final run must drain them
// all. See crash_test.go and docs/RELIABILITY.md.
//
// Short form (CI): go test ./tools/internal/crash (10 kills per backend).
// Long form: ORCHESTRIX_CRASH_KILLS=500 go test -timeout 2h ./tools/internal/crash.
package crash
