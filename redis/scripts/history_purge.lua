-- history_purge.lua deletes up to limit history rows completed before the
-- cut-off (L1, bounded: records_lib.lua purgeBefore).
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] cut-off (T8, exclusive)   ARGV[2] limit
-- Returns how many rows it deleted.
local K = jobkeys()
return purgeBefore(K.histid, K.histr, K.histbt, K.histbl, ARGV[1], tonumber(ARGV[2]), 56, 0)
