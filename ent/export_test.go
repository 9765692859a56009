package ent

import (
	"context"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// MigrateTo exposes migrateTo to the tests: apply migrations up to version.
func MigrateTo(ctx context.Context, b *Backend, version string) ([]stores.Migration, error) {
	return b.migrateTo(ctx, version)
}

// JobPageQuery exposes the statement Query runs, for plan tests.
func JobPageQuery(b *Backend, q stores.JobQuery) (string, []any, error) {
	return b.jobs.pageQuery(q)
}

// DeadLetterPageAfter is the statement of a dead-letter page after a cursor.
const DeadLetterPageAfter = selectDeadLetterPageAfter
