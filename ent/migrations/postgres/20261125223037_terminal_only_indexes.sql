-- Drop index "jobs_purge" from table: "jobs"
DROP INDEX "jobs_purge";
-- Drop index "jobs_schedule_tick" from table: "jobs"
DROP INDEX "jobs_schedule_tick";
-- Drop index "jobs_uncleaned" from table: "jobs"
DROP INDEX "jobs_uncleaned";
-- Create index "jobs_purge" to table: "jobs"
CREATE INDEX "jobs_purge" ON "jobs" ("completed_at") WHERE (((status)::text = 'completed'::text) OR ((status)::text = 'failed'::text) OR ((status)::text = 'timed_out'::text) OR ((status)::text = 'cancelled'::text));
-- Create index "jobs_schedule_tick" to table: "jobs"
CREATE UNIQUE INDEX "jobs_schedule_tick" ON "jobs" ("schedule_id", "schedule_tick") WHERE (schedule_id IS NOT NULL);
-- Create index "jobs_uncleaned" to table: "jobs"
CREATE INDEX "jobs_uncleaned" ON "jobs" ("completed_at", "id") WHERE ((channels_cleaned = false) AND (((status)::text = 'completed'::text) OR ((status)::text = 'failed'::text) OR ((status)::text = 'timed_out'::text) OR ((status)::text = 'cancelled'::text)));
