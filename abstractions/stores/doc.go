// Package stores is the portable persistence API of Orchestrix.
//
// A program opens a store by driver name, the way database/sql opens a
// database:
//
//	import (
//		"github.com/orchestrix/persistence/abstractions/stores"
//		_ "github.com/orchestrix/persistence/ent" // registers "ent"
//	)
//
//	s, err := stores.Open("ent", "sqlite:///var/lib/orchestrix/orchestrix.db")
//	if err != nil { ... }
//	defer s.Close()
//	jobs, err := s.Jobs().Dispatch(ctx, stores.DispatchParams{Limit: 100, Now: time.Now()})
//
// The *Store returned by Open validates and normalises every argument once
// (ids, JSON, limits, enums, cron expressions, time zones; times to UTC
// microseconds) and then calls the driver, so every backend rejects bad input
// the same way and drivers stay small. The guarantees each call makes are
// those of the contract (DESIGN.md); doc comments cite their ids (J1, S3, W3…).
//
// Drivers implement Driver and Backend, and register themselves from an init
// function with Register. Optional abilities (Migrator, Pinger, and
// FreshEnqueuer and RecordedCompleter on a JobStore) are separate
// interfaces found by type assertion, as in database/sql.
package stores
