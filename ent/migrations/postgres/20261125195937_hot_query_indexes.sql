-- Create index "coordinator_nodes_by_heartbeat" to table: "coordinator_nodes"
CREATE INDEX "coordinator_nodes_by_heartbeat" ON "coordinator_nodes" ("status", "last_heartbeat");
-- Create index "coordinator_nodes_by_job_count" to table: "coordinator_nodes"
CREATE INDEX "coordinator_nodes_by_job_count" ON "coordinator_nodes" ("status", "job_count", "id");
-- Create index "cronschedule_enabled_next_run" to table: "cron_schedules"
CREATE INDEX "cronschedule_enabled_next_run" ON "cron_schedules" ("enabled", "next_run");
-- Create index "dead_letters_by_failed_at" to table: "dead_letters"
CREATE INDEX "dead_letters_by_failed_at" ON "dead_letters" ("failed_at", "id");
-- Create index "intervalschedule_enabled_next_run" to table: "interval_schedules"
CREATE INDEX "intervalschedule_enabled_next_run" ON "interval_schedules" ("enabled", "next_run");
-- Create index "job_history_by_job" to table: "job_history"
CREATE INDEX "job_history_by_job" ON "job_history" ("job_id", "attempt");
-- Create index "job_history_purge" to table: "job_history"
CREATE INDEX "job_history_purge" ON "job_history" ("completed_at");
-- Drop index "jobs_unique_key_live" from table: "jobs"
DROP INDEX "jobs_unique_key_live";
-- Create index "jobs_unique_key_live" to table: "jobs"
CREATE UNIQUE INDEX "jobs_unique_key_live" ON "jobs" ("unique_key") WHERE ((unique_key IS NOT NULL) AND (((status)::text = 'pending'::text) OR ((status)::text = 'dispatched'::text) OR ((status)::text = 'running'::text)));
-- Create index "jobs_by_follower" to table: "jobs"
CREATE INDEX "jobs_by_follower" ON "jobs" ("follower_node_id", "created_at", "id") WHERE ((follower_node_id)::text <> ''::text);
-- Create index "jobs_dispatch" to table: "jobs"
CREATE INDEX "jobs_dispatch" ON "jobs" ("priority" DESC, "created_at", "id") WHERE ((status)::text = 'pending'::text);
-- Create index "jobs_dispatch_queue" to table: "jobs"
CREATE INDEX "jobs_dispatch_queue" ON "jobs" ("queue", "priority" DESC, "created_at", "id") WHERE ((status)::text = 'pending'::text);
-- Create index "jobs_due_scheduled" to table: "jobs"
CREATE INDEX "jobs_due_scheduled" ON "jobs" ("scheduled_at", "id") WHERE (((status)::text = 'pending'::text) AND (scheduled_at IS NOT NULL));
-- Create index "jobs_in_flight" to table: "jobs"
CREATE INDEX "jobs_in_flight" ON "jobs" ("status", "dispatched_at") WHERE (((status)::text = 'dispatched'::text) OR ((status)::text = 'running'::text));
-- Create index "jobs_purge" to table: "jobs"
CREATE INDEX "jobs_purge" ON "jobs" ("completed_at");
-- Create index "jobs_query" to table: "jobs"
CREATE INDEX "jobs_query" ON "jobs" ("created_at", "id");
-- Create index "jobs_uncleaned" to table: "jobs"
CREATE INDEX "jobs_uncleaned" ON "jobs" ("completed_at", "id") WHERE (channels_cleaned = false);
-- Create index "log_entries_by_job" to table: "log_entries"
CREATE INDEX "log_entries_by_job" ON "log_entries" ("job_id", "seq");
-- Create index "log_entries_purge" to table: "log_entries"
CREATE INDEX "log_entries_purge" ON "log_entries" ("timestamp", "seq");
-- Create index "workers_by_heartbeat" to table: "workers"
CREATE INDEX "workers_by_heartbeat" ON "workers" ("status", "last_heartbeat");
