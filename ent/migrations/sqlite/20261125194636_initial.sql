-- Create "coordinator_nodes" table
CREATE TABLE `coordinator_nodes` (`id` text NOT NULL, `role` text NOT NULL, `job_count` integer NOT NULL DEFAULT (0), `status` text NOT NULL, `last_heartbeat` datetime NOT NULL, `metadata` blob NULL, `host_name` text NOT NULL DEFAULT (''), `process_id` integer NOT NULL DEFAULT (0), `joined_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create "cron_schedules" table
CREATE TABLE `cron_schedules` (`id` text NOT NULL, `name` text NOT NULL, `job_type` text NOT NULL, `queue` text NOT NULL, `args` blob NULL, `next_run` datetime NULL, `last_run` datetime NULL, `enabled` bool NOT NULL DEFAULT (true), `created_at` datetime NOT NULL, `misfire` text NOT NULL DEFAULT ('fire_once'), `misfire_limit` integer NOT NULL DEFAULT (0), `expression` text NOT NULL, `time_zone` text NOT NULL DEFAULT ('UTC'), PRIMARY KEY (`id`));
-- Create index "cron_schedules_name_key" to table: "cron_schedules"
CREATE UNIQUE INDEX `cron_schedules_name_key` ON `cron_schedules` (`name`);
-- Create "dead_letters" table
CREATE TABLE `dead_letters` (`id` text NOT NULL, `job_id` text NOT NULL, `type` text NOT NULL, `queue` text NOT NULL, `args` blob NULL, `last_error` text NOT NULL DEFAULT (''), `total_attempts` integer NOT NULL DEFAULT (0), `failed_at` datetime NOT NULL, `job` blob NOT NULL, PRIMARY KEY (`id`));
-- Create "interval_schedules" table
CREATE TABLE `interval_schedules` (`id` text NOT NULL, `name` text NOT NULL, `job_type` text NOT NULL, `queue` text NOT NULL, `args` blob NULL, `next_run` datetime NULL, `last_run` datetime NULL, `enabled` bool NOT NULL DEFAULT (true), `created_at` datetime NOT NULL, `misfire` text NOT NULL DEFAULT ('fire_once'), `misfire_limit` integer NOT NULL DEFAULT (0), `interval_ms` integer NOT NULL, PRIMARY KEY (`id`));
-- Create index "interval_schedules_name_key" to table: "interval_schedules"
CREATE UNIQUE INDEX `interval_schedules_name_key` ON `interval_schedules` (`name`);
-- Create "jobs" table
CREATE TABLE `jobs` (`id` text NOT NULL, `type` text NOT NULL, `queue` text NOT NULL, `args` blob NULL, `status` text NOT NULL, `priority` integer NOT NULL DEFAULT (0), `correlation_id` text NOT NULL DEFAULT (''), `unique_key` text NULL, `created_at` datetime NOT NULL, `scheduled_at` datetime NULL, `dispatched_at` datetime NULL, `started_at` datetime NULL, `completed_at` datetime NULL, `timeout_ms` integer NOT NULL DEFAULT (0), `retry_count` integer NOT NULL DEFAULT (0), `max_retries` integer NOT NULL DEFAULT (0), `retry_initial_delay_ms` integer NOT NULL DEFAULT (0), `retry_multiplier` real NOT NULL DEFAULT (0), `retry_max_delay_ms` integer NOT NULL DEFAULT (0), `last_error` text NOT NULL DEFAULT (''), `worker_id` text NOT NULL DEFAULT (''), `follower_node_id` text NOT NULL DEFAULT (''), `channels_cleaned` bool NOT NULL DEFAULT (false), `schedule_id` text NULL, `schedule_type` text NOT NULL DEFAULT (''), `schedule_tick` datetime NULL, `attempt` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
-- Create index "jobs_unique_key_live" to table: "jobs"
CREATE UNIQUE INDEX `jobs_unique_key_live` ON `jobs` (`unique_key`) WHERE unique_key IS NOT NULL AND status NOT IN ('completed', 'failed', 'timed_out', 'cancelled');
-- Create index "jobs_schedule_tick" to table: "jobs"
CREATE UNIQUE INDEX `jobs_schedule_tick` ON `jobs` (`schedule_id`, `schedule_tick`);
-- Create "job_history" table
CREATE TABLE `job_history` (`id` text NOT NULL, `job_id` text NOT NULL, `attempt` integer NOT NULL, `worker_id` text NOT NULL DEFAULT (''), `started_at` datetime NULL, `completed_at` datetime NULL, `status` text NOT NULL DEFAULT (''), `error` text NOT NULL DEFAULT (''), `duration_ms` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
-- Create "leader_lease" table
CREATE TABLE `leader_lease` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `holder` text NULL, `term` integer NOT NULL DEFAULT (0), `acquired_at` datetime NULL, `expires_at` datetime NULL);
-- Create "log_entries" table
CREATE TABLE `log_entries` (`seq` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `entry_id` text NOT NULL, `job_id` text NOT NULL, `timestamp` datetime NOT NULL, `level` text NOT NULL DEFAULT (''), `message` text NOT NULL DEFAULT (''), `exception` text NOT NULL DEFAULT (''));
-- Create index "log_entries_entry_id_key" to table: "log_entries"
CREATE UNIQUE INDEX `log_entries_entry_id_key` ON `log_entries` (`entry_id`);
-- Create "workers" table
CREATE TABLE `workers` (`id` text NOT NULL, `host_name` text NOT NULL DEFAULT (''), `queues` text NOT NULL, `max_concurrency` integer NOT NULL, `current_load` integer NOT NULL DEFAULT (0), `status` text NOT NULL, `last_heartbeat` datetime NOT NULL, `metadata` blob NULL, `registered_at` datetime NOT NULL, PRIMARY KEY (`id`));
