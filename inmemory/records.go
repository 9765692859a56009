package inmemory

// jobRecords holds the log lines and history rows of one job ID. The log
// and history tables share one map of them (recordsByJob), so a job's log
// line and attempt row written together cost one map entry, not one in a
// map of each table.
type jobRecords struct {
	logs []*logRow  // written order (seq ascending)
	hist []*histRow // (Attempt, StartedAt, ID) order
}

// recordsByJob maps a job ID to its records; an entry with neither log
// lines nor history rows is dropped.
type recordsByJob map[string]*jobRecords

// add returns the records of jobID, adding an empty entry when there is
// none.
func (m recordsByJob) add(jobID string) *jobRecords {
	r := m[jobID]
	if r == nil {
		r = &jobRecords{}
		m[jobID] = r
	}
	return r
}

// dropIfEmpty deletes the entry of jobID once it holds nothing.
func (m recordsByJob) dropIfEmpty(jobID string, r *jobRecords) {
	if len(r.logs) == 0 && len(r.hist) == 0 {
		delete(m, jobID)
	}
}
