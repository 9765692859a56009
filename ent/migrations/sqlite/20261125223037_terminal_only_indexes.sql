-- Drop index "jobs_purge" from table: "jobs"
DROP INDEX `jobs_purge`;
-- Drop index "jobs_schedule_tick" from table: "jobs"
DROP INDEX `jobs_schedule_tick`;
-- Drop index "jobs_uncleaned" from table: "jobs"
DROP INDEX `jobs_uncleaned`;
-- Create index "jobs_uncleaned" to table: "jobs"
CREATE INDEX `jobs_uncleaned` ON `jobs` (`completed_at`, `id`) WHERE channels_cleaned = false AND (status = 'completed' OR status = 'failed' OR status = 'timed_out' OR status = 'cancelled');
-- Create index "jobs_purge" to table: "jobs"
CREATE INDEX `jobs_purge` ON `jobs` (`completed_at`) WHERE status = 'completed' OR status = 'failed' OR status = 'timed_out' OR status = 'cancelled';
-- Create index "jobs_schedule_tick" to table: "jobs"
CREATE UNIQUE INDEX `jobs_schedule_tick` ON `jobs` (`schedule_id`, `schedule_tick`) WHERE schedule_id IS NOT NULL;
