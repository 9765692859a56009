-- history_append_many.lua stores job attempts, all or none (L1):
-- History().Append and AppendMany.
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] the batch (16 bytes, fresh)   ARGV[2] the completed rows' locators
-- in time order (records_lib.lua)   ARGV[3..n+2] the rows' ids (16 bytes)
-- ARGV[n+3..2n+2] their members (records.go)
-- Returns the number stored, or ORX_EXISTS when an id is stored or given
-- twice (then nothing is stored).
local K = jobkeys()
local n = (#ARGV - 2) / 2
if ARGV[2] ~= '' and redis.call('HEXISTS', K.histbl, ARGV[1]) == 1 then return err('EXISTS', 'history batch') end
local e = newIDs(K.histid, 3, n + 2, 'history id')
if e then return e end
storeRows(K, 1, n)
return n
