-- log_append.lua stores log entries, all or none, in the order given (L1).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV: log entry JSON, one per entry (fields i, j, ts, ...; no s)
-- Returns the number stored; ORX_EXISTS for a duplicate id (nothing stored).
local K = jobkeys()
local es, seen = {}, {}
for i = 1, #ARGV do
  local e = cjson.decode(ARGV[i])
  if seen[e.i] or redis.call('HEXISTS', K.logs, e.i) == 1 then return err('EXISTS', 'log entry id') end
  seen[e.i] = true
  es[i] = e
end
local last = redis.call('INCRBY', K.logseq, #es)
for i, e in ipairs(es) do
  e.s = pad(string.format('%d', last - #es + i))
  redis.call('HSET', K.logs, e.i, cjson.encode(e))
  redis.call('ZADD', K.logj, 0, e.j .. e.s .. e.ts .. e.i)
  redis.call('ZADD', K.logt, 0, e.ts .. e.i)
end
return #es
