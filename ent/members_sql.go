package ent

// The SQL of the worker and node stores and the leadership lease (W1–W3).

const (
	workerColumns = `id, host_name, queues, max_concurrency, current_load, status, last_heartbeat, metadata, registered_at`
	insertWorker  = `INSERT INTO workers (` + workerColumns + `)
VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8)`
	insertWorkerIfAbsent = insertWorker + ` ON CONFLICT (id) DO NOTHING`
	// updateWorkerBeat updates a heartbeat; an offline worker is active
	// again, a draining one stays draining (W1).
	updateWorkerBeat = `UPDATE workers SET host_name = $2, queues = $3, max_concurrency = $4, current_load = $5,
	last_heartbeat = $6, metadata = $7, status = CASE WHEN status = 'offline' THEN 'active' ELSE status END
WHERE id = $1`
	setWorkerStatus = `UPDATE workers SET status = $2 WHERE id = $1`
	deleteWorker    = `DELETE FROM workers WHERE id = $1`
	selectWorker    = `SELECT ` + workerColumns + ` FROM workers WHERE id = $1`
	selectWorkers   = `SELECT ` + workerColumns + ` FROM workers ORDER BY id`
	// selectDeadWorkers (W2): $1 heartbeat cut-off.
	selectDeadWorkers = `SELECT ` + workerColumns + ` FROM workers
WHERE status <> 'offline' AND last_heartbeat < $1 ORDER BY last_heartbeat, id`

	nodeColumns = `id, role, job_count, status, last_heartbeat, metadata, host_name, process_id, joined_at`
	insertNode  = `INSERT INTO coordinator_nodes (` + nodeColumns + `)
VALUES ($1, 'follower', 0, 'active', $2, $3, $4, $5, $6)`
	insertNodeIfAbsent = insertNode + ` ON CONFLICT (id) DO NOTHING`
	// updateNodeBeat never touches role or job_count (W1).
	updateNodeBeat = `UPDATE coordinator_nodes SET last_heartbeat = $2, metadata = $3, host_name = $4, process_id = $5,
	status = CASE WHEN status = 'offline' THEN 'active' ELSE status END
WHERE id = $1`
	setNodeRole     = `UPDATE coordinator_nodes SET role = $2 WHERE id = $1`
	setNodeStatus   = `UPDATE coordinator_nodes SET status = $2 WHERE id = $1`
	deleteNode      = `DELETE FROM coordinator_nodes WHERE id = $1`
	selectNode      = `SELECT ` + nodeColumns + ` FROM coordinator_nodes WHERE id = $1`
	selectNodes     = `SELECT ` + nodeColumns + ` FROM coordinator_nodes ORDER BY id`
	selectDeadNodes = `SELECT ` + nodeColumns + ` FROM coordinator_nodes
WHERE status <> 'offline' AND last_heartbeat < $1 ORDER BY last_heartbeat, id`
	selectActiveFollowers = `SELECT ` + nodeColumns + ` FROM coordinator_nodes
WHERE status = 'active' ORDER BY job_count, id LIMIT $1`

	// The lease is the single row id 1 (W3). acquireLease takes it when it
	// is free or expired at $2, issuing term+1; the term survives
	// resignation and expiry because the row is never deleted.
	leaseColumns = `holder, term, acquired_at, expires_at`
	acquireLease = `INSERT INTO leader_lease (id, holder, term, acquired_at, expires_at) VALUES (1, $1, 1, $2, $3)
ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, term = leader_lease.term + 1,
	acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
WHERE leader_lease.holder IS NULL OR leader_lease.expires_at <= excluded.acquired_at
RETURNING ` + leaseColumns
	// renewLease: $1 holder, $2 term, $3 now, $4 new expiry.
	renewLease = `UPDATE leader_lease SET expires_at = $4
WHERE id = 1 AND holder = $1 AND term = $2 AND expires_at > $3
RETURNING ` + leaseColumns
	resignLease = `UPDATE leader_lease SET holder = NULL, acquired_at = NULL, expires_at = NULL
WHERE id = 1 AND holder = $1 AND term = $2`
	selectLease      = `SELECT ` + leaseColumns + ` FROM leader_lease WHERE id = 1`
	selectValidLease = `SELECT ` + leaseColumns + ` FROM leader_lease
WHERE id = 1 AND holder IS NOT NULL AND expires_at > $1`
)

// memberQueries are the member statements whose SQL differs by dialect.
type memberQueries struct {
	// workerStatusForUpdate / nodeStatusForUpdate read the status under
	// the row lock (PostgreSQL); SQLite's IMMEDIATE transaction already
	// holds the write lock.
	workerStatusForUpdate string
	nodeStatusForUpdate   string
	// workerBeat / nodeBeat (PostgreSQL only) update a heartbeat in one
	// statement that returns the status before it, read under the row
	// lock: $1 id, then the parameters of updateWorkerBeat/updateNodeBeat.
	workerBeat string
	nodeBeat   string
	// availableWorkers (W2): $1 queue, $2 limit.
	availableWorkers string
	// adjustWorkerLoad / adjustNodeJobCount (W2): $1 id, $2 delta; never
	// below zero.
	adjustWorkerLoad   string
	adjustNodeJobCount string
}

var postgresMemberQueries = memberQueries{
	workerBeat: `UPDATE workers SET host_name = $2, queues = $3, max_concurrency = $4, current_load = $5,
	last_heartbeat = $6, metadata = $7,
	status = CASE WHEN workers.status = 'offline' THEN 'active' ELSE workers.status END
FROM (SELECT id AS old_id, status AS old_status FROM workers WHERE id = $1 FOR UPDATE) AS old
WHERE workers.id = old.old_id
RETURNING old.old_status`,
	nodeBeat: `UPDATE coordinator_nodes SET last_heartbeat = $2, metadata = $3, host_name = $4, process_id = $5,
	status = CASE WHEN coordinator_nodes.status = 'offline' THEN 'active' ELSE coordinator_nodes.status END
FROM (SELECT id AS old_id, status AS old_status FROM coordinator_nodes WHERE id = $1 FOR UPDATE) AS old
WHERE coordinator_nodes.id = old.old_id
RETURNING old.old_status`,
	workerStatusForUpdate: `SELECT status FROM workers WHERE id = $1 FOR UPDATE`,
	nodeStatusForUpdate:   `SELECT status FROM coordinator_nodes WHERE id = $1 FOR UPDATE`,
	availableWorkers: `SELECT ` + workerColumns + ` FROM workers
WHERE status = 'active' AND current_load < max_concurrency AND queues @> jsonb_build_array($1::text)
ORDER BY current_load, id LIMIT $2`,
	adjustWorkerLoad:   `UPDATE workers SET current_load = GREATEST(current_load + $2, 0) WHERE id = $1 RETURNING current_load`,
	adjustNodeJobCount: `UPDATE coordinator_nodes SET job_count = GREATEST(job_count + $2, 0) WHERE id = $1 RETURNING job_count`,
}

var sqliteMemberQueries = memberQueries{
	workerStatusForUpdate: `SELECT status FROM workers WHERE id = $1`,
	nodeStatusForUpdate:   `SELECT status FROM coordinator_nodes WHERE id = $1`,
	availableWorkers: `SELECT ` + workerColumns + ` FROM workers
WHERE status = 'active' AND current_load < max_concurrency
  AND EXISTS (SELECT 1 FROM json_each(workers.queues) WHERE value = $1)
ORDER BY current_load, id LIMIT $2`,
	adjustWorkerLoad:   `UPDATE workers SET current_load = MAX(current_load + $2, 0) WHERE id = $1 RETURNING current_load`,
	adjustNodeJobCount: `UPDATE coordinator_nodes SET job_count = MAX(job_count + $2, 0) WHERE id = $1 RETURNING job_count`,
}
