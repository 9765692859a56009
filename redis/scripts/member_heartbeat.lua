-- member_heartbeat.lua registers or updates a worker or node (W1): an
-- existing record takes the listed fields from the new one, keeps the rest
-- (a node's role and job count), stays draining, and leaves offline for
-- active, which the caller learns.
-- KEYS[1] member HASH (id -> JSON)
-- ARGV[1] member JSON as registered (st active, lh now, registered/joined set)
-- ARGV[2] the fields an update copies, comma separated   ARGV[3] now (T)
-- Returns {registered (0/1), was offline (0/1)}.
local m = cjson.decode(ARGV[1])
local raw = redis.call('HGET', KEYS[1], m.i)
if not raw then
  redis.call('HSET', KEYS[1], m.i, ARGV[1])
  return {1, 0}
end
local old = cjson.decode(raw)
for f in string.gmatch(ARGV[2], '[^,]+') do old[f] = m[f] end
old.lh = ARGV[3]
local was = 0
if old.st == 'offline' then old.st, was = 'active', 1 end
redis.call('HSET', KEYS[1], m.i, cjson.encode(old))
return {0, was}
