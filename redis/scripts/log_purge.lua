-- log_purge.lua deletes up to limit log lines with a Timestamp before the
-- cut-off (L1, bounded: records_lib.lua purgeBefore).
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] cut-off (T8, exclusive)   ARGV[2] limit
-- Returns how many lines it deleted.
local K = jobkeys()
return purgeBefore(K.logid, K.logr, K.logbt, K.logbl, ARGV[1], tonumber(ARGV[2]), 42, 16)
