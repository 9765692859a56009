-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create index "coordinator_nodes_by_heartbeat" to table: "coordinator_nodes"
CREATE INDEX `coordinator_nodes_by_heartbeat` ON `coordinator_nodes` (`status`, `last_heartbeat`);
-- Create index "coordinator_nodes_by_job_count" to table: "coordinator_nodes"
CREATE INDEX `coordinator_nodes_by_job_count` ON `coordinator_nodes` (`status`, `job_count`, `id`);
-- Create index "cronschedule_enabled_next_run" to table: "cron_schedules"
CREATE INDEX `cronschedule_enabled_next_run` ON `cron_schedules` (`enabled`, `next_run`);
-- Create index "dead_letters_by_failed_at" to table: "dead_letters"
CREATE INDEX `dead_letters_by_failed_at` ON `dead_letters` (`failed_at`, `id`);
-- Create index "intervalschedule_enabled_next_run" to table: "interval_schedules"
CREATE INDEX `intervalschedule_enabled_next_run` ON `interval_schedules` (`enabled`, `next_run`);
-- Create "new_jobs" table
CREATE TABLE `new_jobs` (`id` text NOT NULL, `type` text NOT NULL, `queue` text NOT NULL, `args` blob NULL, `status` text NOT NULL, `priority` integer NOT NULL DEFAULT (0), `correlation_id` text NOT NULL DEFAULT (''), `unique_key` text NULL, `created_at` datetime NOT NULL, `scheduled_at` datetime NULL, `dispatched_at` datetime NULL, `started_at` datetime NULL, `completed_at` datetime NULL, `timeout_ms` integer NOT NULL DEFAULT (0), `retry_count` integer NOT NULL DEFAULT (0), `max_retries` integer NOT NULL DEFAULT (0), `retry_initial_delay_ms` integer NOT NULL DEFAULT (0), `retry_multiplier` real NOT NULL DEFAULT (0), `retry_max_delay_ms` integer NOT NULL DEFAULT (0), `last_error` text NOT NULL DEFAULT (''), `worker_id` text NOT NULL DEFAULT (''), `follower_node_id` text NOT NULL DEFAULT (''), `channels_cleaned` bool NOT NULL DEFAULT (false), `schedule_id` text NULL, `schedule_type` text NOT NULL DEFAULT (''), `schedule_tick` datetime NULL, `attempt` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
-- Copy rows from old table "jobs" to new temporary table "new_jobs"
INSERT INTO `new_jobs` (`id`, `type`, `queue`, `args`, `status`, `priority`, `correlation_id`, `unique_key`, `created_at`, `scheduled_at`, `dispatched_at`, `started_at`, `completed_at`, `timeout_ms`, `retry_count`, `max_retries`, `retry_initial_delay_ms`, `retry_multiplier`, `retry_max_delay_ms`, `last_error`, `worker_id`, `follower_node_id`, `channels_cleaned`, `schedule_id`, `schedule_type`, `schedule_tick`, `attempt`) SELECT `id`, `type`, `queue`, `args`, `status`, `priority`, `correlation_id`, `unique_key`, `created_at`, `scheduled_at`, `dispatched_at`, `started_at`, `completed_at`, `timeout_ms`, `retry_count`, `max_retries`, `retry_initial_delay_ms`, `retry_multiplier`, `retry_max_delay_ms`, `last_error`, `worker_id`, `follower_node_id`, `channels_cleaned`, `schedule_id`, `schedule_type`, `schedule_tick`, `attempt` FROM `jobs`;
-- Drop "jobs" table after copying rows
DROP TABLE `jobs`;
-- Rename temporary table "new_jobs" to "jobs"
ALTER TABLE `new_jobs` RENAME TO `jobs`;
-- Create index "jobs_dispatch" to table: "jobs"
CREATE INDEX `jobs_dispatch` ON `jobs` (`priority` DESC, `created_at`, `id`) WHERE status = 'pending';
-- Create index "jobs_dispatch_queue" to table: "jobs"
CREATE INDEX `jobs_dispatch_queue` ON `jobs` (`queue`, `priority` DESC, `created_at`, `id`) WHERE status = 'pending';
-- Create index "jobs_due_scheduled" to table: "jobs"
CREATE INDEX `jobs_due_scheduled` ON `jobs` (`scheduled_at`, `id`) WHERE status = 'pending' AND scheduled_at IS NOT NULL;
-- Create index "jobs_in_flight" to table: "jobs"
CREATE INDEX `jobs_in_flight` ON `jobs` (`status`, `dispatched_at`) WHERE status = 'dispatched' OR status = 'running';
-- Create index "jobs_by_follower" to table: "jobs"
CREATE INDEX `jobs_by_follower` ON `jobs` (`follower_node_id`, `created_at`, `id`) WHERE follower_node_id <> '';
-- Create index "jobs_uncleaned" to table: "jobs"
CREATE INDEX `jobs_uncleaned` ON `jobs` (`completed_at`, `id`) WHERE channels_cleaned = false;
-- Create index "jobs_purge" to table: "jobs"
CREATE INDEX `jobs_purge` ON `jobs` (`completed_at`);
-- Create index "jobs_query" to table: "jobs"
CREATE INDEX `jobs_query` ON `jobs` (`created_at`, `id`);
-- Create index "jobs_unique_key_live" to table: "jobs"
CREATE UNIQUE INDEX `jobs_unique_key_live` ON `jobs` (`unique_key`) WHERE unique_key IS NOT NULL AND (status = 'pending' OR status = 'dispatched' OR status = 'running');
-- Create index "jobs_schedule_tick" to table: "jobs"
CREATE UNIQUE INDEX `jobs_schedule_tick` ON `jobs` (`schedule_id`, `schedule_tick`);
-- Create index "job_history_by_job" to table: "job_history"
CREATE INDEX `job_history_by_job` ON `job_history` (`job_id`, `attempt`);
-- Create index "job_history_purge" to table: "job_history"
CREATE INDEX `job_history_purge` ON `job_history` (`completed_at`);
-- Create index "log_entries_by_job" to table: "log_entries"
CREATE INDEX `log_entries_by_job` ON `log_entries` (`job_id`, `seq`);
-- Create index "log_entries_purge" to table: "log_entries"
CREATE INDEX `log_entries_purge` ON `log_entries` (`timestamp`, `seq`);
-- Create index "workers_by_heartbeat" to table: "workers"
CREATE INDEX `workers_by_heartbeat` ON `workers` (`status`, `last_heartbeat`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
