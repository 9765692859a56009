package ent

import (
	"context"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// MigrateTo exposes migrateTo to the tests: apply migrations up to version.
func MigrateTo(ctx context.Context, b *Backend, version string) ([]stores.Migration, error) {
	return b.migrateTo(ctx, version)
}
