-- lease.lua acquires, renews or resigns the leadership lease (W3). The term
-- counter t is never deleted, so terms strictly increase forever.
-- KEYS[1] lease HASH: h holder, t term, a acquired (T), e expires (T)
-- ARGV[1] op: 'acquire', 'renew', 'resign'   ARGV[2] node id
-- ARGV[3] term (renew, resign)   ARGV[4] now (T)   ARGV[5] now+ttl (T)
-- Returns {holder, term, acquired, expires}; ORX_CONFLICT.
local op, node, now = ARGV[1], ARGV[2], ARGV[4]
local l = {}
local kv = redis.call('HGETALL', KEYS[1])
for i = 1, #kv, 2 do l[kv[i]] = kv[i + 1] end
local valid = l.h ~= nil and l.e > now
if op == 'acquire' then
  if valid then
    if l.h == node then return {l.h, l.t, l.a, l.e} end
    return err('CONFLICT', 'lease held by another node')
  end
  local t = incr(l.t, 1)
  redis.call('HSET', KEYS[1], 'h', node, 't', t, 'a', now, 'e', ARGV[5])
  return {node, t, now, ARGV[5]}
end
if l.h ~= node or l.t ~= ARGV[3] then return err('CONFLICT', 'not the holder of that term') end
if op == 'renew' then
  if not valid then return err('CONFLICT', 'lease has expired') end
  redis.call('HSET', KEYS[1], 'e', ARGV[5])
  return {l.h, l.t, l.a, ARGV[5]}
end
redis.call('HDEL', KEYS[1], 'h', 'a', 'e')
return {node, l.t, '', ''}
