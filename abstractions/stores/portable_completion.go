package stores

import "context"

// CompleteRecorded completes a batch of attempts and stores the log lines
// and history rows they wrote, the three writes a worker makes when a batch
// succeeds. The result has one entry per ref, as CompleteMany's (J5): nil,
// or ErrConflict/ErrNotFound for a ref whose job is unchanged; the records
// are stored whatever the entries say, since those attempts ran. The error
// reports a failure of the call: invalid input (nothing is stored), or a
// duplicate record ID (ErrAlreadyExists).
//
// A driver whose JobStore is a RecordedCompleter does it in one
// transaction: after an error nothing of the call is stored, and a crash
// cannot leave a history row without its completion. Without that ability
// it is the three calls in the order Logs().Append, History().AppendMany,
// Jobs().CompleteMany, and a failure part way leaves the earlier ones
// stored. Either way it is the hot path's single call instead of three.
func (s *Store) CompleteRecorded(ctx context.Context, b CompletedBatch) ([]error, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var c checker
	checkBatch(&c, "batch.Refs", len(b.Refs))
	for i := range b.Refs {
		c.ref(at("batch.Refs", i), &b.Refs[i])
	}
	c.now("batch.Now", &b.Now)
	if len(b.Logs) > MaxBatch {
		c.fail("batch.Logs", "has %d entries, the limit is %d", len(b.Logs), MaxBatch)
	}
	if len(b.History) > MaxBatch {
		c.fail("batch.History", "has %d entries, the limit is %d", len(b.History), MaxBatch)
	}
	if c.err != nil {
		return nil, c.err
	}
	c.reserveIDs(emptyIDs(b.Logs, func(e *LogEntry) string { return e.ID }) +
		emptyIDs(b.History, func(r *JobHistory) string { return r.ID }))
	c.logEntries("batch.Logs", b.Logs, s.now())
	c.historyRows("batch.History", b.History)
	if c.err != nil {
		return nil, c.err
	}
	if rc, ok := s.jobs.d.(RecordedCompleter); ok {
		return rc.CompleteRecorded(ctx, b)
	}
	if len(b.Logs) > 0 {
		if err := s.logs.d.Append(ctx, b.Logs); err != nil {
			return nil, err
		}
	}
	if len(b.History) > 0 {
		if err := s.history.d.AppendMany(ctx, b.History); err != nil {
			return nil, err
		}
	}
	return s.jobs.d.CompleteMany(ctx, b.Refs, b.Now)
}
