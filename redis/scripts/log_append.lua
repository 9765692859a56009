-- log_append.lua stores log lines, all or none, in the order given (L1).
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] the lines' locators in time order (records_lib.lua)
-- ARGV[2..n+1] the lines' ids (16 bytes)   ARGV[n+2..2n+1] their job ids
-- (16 bytes)   ARGV[2n+2..3n+1] the rest of each member: index(2) id T8 ...
-- (records.go). The script takes the next batch number (6 bytes) and puts
-- it after the job id: a job's lines sort in written order.
-- Returns the number stored; ORX_EXISTS for a stored id or one given twice
-- (nothing stored).
local K = jobkeys()
local n = (#ARGV - 1) / 3
local e = newIDs(K.logid, 2, n + 1, 'log entry id')
if e then return e end
storeLines(K, 1, n)
return n
