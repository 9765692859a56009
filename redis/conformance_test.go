package redis

import (
	"context"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/conformance"
)

// cleanedBackend deletes its prefix's keys (SCAN/UNLINK, never FLUSHDB) when
// the suite closes the store.
type cleanedBackend struct{ *Backend }

func (b cleanedBackend) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := b.DeleteAll(ctx)
	if cerr := b.Backend.Close(); err == nil {
		err = cerr
	}
	return err
}

// harness opens every store on a fresh random prefix of the server dsn
// names.
func harness(dsn string) conformance.Harness {
	return conformance.HarnessFunc(func(ctx context.Context) (*stores.Store, error) {
		cfg, err := ParseDSN(dsn)
		if err != nil {
			return nil, err
		}
		cfg.Prefix = randomPrefix()
		b, err := OpenConfig(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return stores.Wrap(DriverName, cleanedBackend{b}), nil
	})
}

func TestConformance(t *testing.T) {
	requireServer(t, testAddr())
	conformance.Run(t, harness(standaloneDSN()), conformance.Features{})
}

func TestConformanceCluster(t *testing.T) {
	conformance.Run(t, harness(clusterDSN(t)), conformance.Features{})
}

func BenchmarkConformance(b *testing.B) {
	requireServer(b, testAddr())
	conformance.RunBenchmarks(b, harness(standaloneDSN()))
}

func BenchmarkConformanceCluster(b *testing.B) {
	conformance.RunBenchmarks(b, harness(clusterDSN(b)))
}
