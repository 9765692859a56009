package ent

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// nullTime scans a time column of either dialect: timestamptz (time.Time)
// on PostgreSQL; on SQLite a time.Time when the driver knows the column's
// declared type, else the stored int64 Unix microseconds (RETURNING and
// expressions carry no declared type). NULL is the zero time.
type nullTime struct{ Time time.Time }

// Scan implements sql.Scanner.
func (n *nullTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		n.Time = time.Time{}
	case time.Time:
		n.Time = v.UTC()
	case int64:
		n.Time = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("ent: cannot scan %T into a time", src)
	}
	return nil
}

// timeArg is the parameter for an optional time: NULL for the zero time.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// bytesArg is the parameter for optional JSON bytes: NULL when empty.
func bytesArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// nullStringArg is the parameter for an optional string whose absence is
// NULL (unique keys, schedule ids).
func nullStringArg(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// copyBytes returns a copy of b, nil when b is empty.
func copyBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// listArg binds a list of strings as one parameter: a PostgreSQL array
// (used as = ANY($n::text[]) or $n::uuid[]) or a JSON array on SQLite (used
// as IN (SELECT value FROM json_each($n))).
func (b *backend) listArg(vals []string) any {
	if b.cfg.Dialect == DialectPostgres {
		return pq.StringArray(vals)
	}
	if vals == nil {
		vals = []string{}
	}
	out, _ := json.Marshal(vals)
	return string(out)
}

// ms converts a duration to the stored milliseconds and back.
func ms(d time.Duration) int64 { return d.Milliseconds() }

func fromMS(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// execer is *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// execOnce runs one statement on a connection taken for it alone, so that
// database/sql never runs it a second time. *sql.DB re-executes a statement
// whose connection the driver reports bad, and lib/pq reports a terminated
// backend or a connection lost mid-reply that way: a write that committed
// before its reply was lost would apply twice (a load counted twice, a batch
// reported as a duplicate of itself). The caller gets the error instead.
func execOnce(ctx context.Context, db *sql.DB, query string, args ...any) (sql.Result, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ExecContext(ctx, query, args...)
}

// queryRowOnce is execOnce for a statement that returns one row.
func queryRowOnce(ctx context.Context, db *sql.DB, query string, args []any, dest ...any) error {
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.QueryRowContext(ctx, query, args...).Scan(dest...)
}

// onceExecer runs ExecContext through execOnce.
type onceExecer struct{ *sql.DB }

func (o onceExecer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return execOnce(ctx, o.DB, query, args...)
}
