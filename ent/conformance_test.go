package ent_test

import (
	"testing"

	"github.com/orchestrix/persistence/conformance"
)

func TestConformanceSQLiteFile(t *testing.T) {
	conformance.Run(t, sqliteFileHarness(t), conformance.Features{})
}

func TestConformanceSQLiteMemory(t *testing.T) {
	conformance.Run(t, sqliteMemoryHarness(), conformance.Features{})
}

func TestConformancePostgres(t *testing.T) {
	conformance.Run(t, postgresHarness(t), conformance.Features{})
}

func BenchmarkSQLiteFile(b *testing.B) { conformance.RunBenchmarks(b, sqliteFileHarness(b)) }

func BenchmarkSQLiteMemory(b *testing.B) { conformance.RunBenchmarks(b, sqliteMemoryHarness()) }

func BenchmarkPostgres(b *testing.B) { conformance.RunBenchmarks(b, postgresHarness(b)) }
