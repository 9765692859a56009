-- lib.lua is prepended to every script of this driver (scripts.go). It holds
-- the helpers and the job-family KEYS layout shared by the job, schedule,
-- history, log and dead-letter scripts. It defines functions only.
--
-- Encodings (see keys.go, which builds the same strings in Go):
--   times      19-digit zero-padded unix microseconds ("T"); absent = zero time
--   ids        canonical 36-char UUIDs (validated by the portable layer)
--   lp(s)      3-digit byte length + s: user text inside a sorted-set member,
--              so no text can run into the next field
--   pr         16 hex digits: the job priority mapped so that byte order is
--              priority descending
--
-- Job-family KEYS (all share the hash tag {P}; keys.go jobKeys order):
--   1 jobs      HASH  id -> job JSON
--   2 ready     ZSET  pr T(created) id                  pending, promoted
--   3 readyq    ZSET  lp(queue) pr T(created) id         same, by queue
--   4 sched     ZSET  T(scheduled) id                    pending with a ScheduledAt
--   5 wm        STRING T: every sched member below it has been promoted
--   6 bystatus  ZSET  status ':' T(created) id
--   7 disp      ZSET  T(dispatched) id                   dispatched
--   8 run       ZSET  T(started+timeout) id              running with a timeout
--   9 wjobs     ZSET  lp(worker) id                      in flight with a worker
--  10 fol       ZSET  lp(node) T(created) id             with a follower
--  11 done      ZSET  T(completed) id                    terminal
--  12 uncl      ZSET  T(completed) id                    terminal, channels not cleaned
--  13 uniq      HASH  unique key -> id                   non-terminal jobs only
--  14 ticks     HASH  scheduleID T(tick) -> id           stored jobs made by a schedule
--  15 dl        HASH  dead letter id -> JSON
--  16 dlidx     ZSET  T(failed) id
--  17 hist      HASH  history id -> JSON
--  18 histj     ZSET  jobID attempt(19) T(started) id
--  19 histc     ZSET  T(completed) id                    rows with a CompletedAt
--  20 logs      HASH  log id -> JSON
--  21 logj      ZSET  jobID seq(19) T(timestamp) id
--  22 logt      ZSET  T(timestamp) id
--  23 logseq    STRING log sequence counter
--  24 orphans   SET   ids of purged jobs whose history/logs remain to delete
-- Schedule scripts get four more (cron or interval):
--  25 sch       HASH  id -> schedule JSON
--  26 names     HASH  name -> id
--  27 list      ZSET  name                               (score 0, byte order)
--  28 due       ZSET  T(next run) id                     enabled schedules

local ZERO = '0000000000000000000'
local TERMINAL = {completed = true, failed = true, timed_out = true, cancelled = true}
local INFLIGHT = {dispatched = true, running = true}

local function jobkeys()
  return {jobs = KEYS[1], ready = KEYS[2], readyq = KEYS[3], sched = KEYS[4], wm = KEYS[5],
    bystatus = KEYS[6], disp = KEYS[7], run = KEYS[8], wjobs = KEYS[9], fol = KEYS[10],
    done = KEYS[11], uncl = KEYS[12], uniq = KEYS[13], ticks = KEYS[14], dl = KEYS[15],
    dlidx = KEYS[16], hist = KEYS[17], histj = KEYS[18], histc = KEYS[19], logs = KEYS[20],
    logj = KEYS[21], logt = KEYS[22], logseq = KEYS[23], orphans = KEYS[24],
    sch = KEYS[25], names = KEYS[26], list = KEYS[27], due = KEYS[28]}
end

-- pad left-pads a non-negative decimal integer string to 19 digits.
local function pad(s)
  if not s or s == '' then return ZERO end
  return string.rep('0', 19 - #s) .. s
end

local function lp(s) return string.format('%03d', #s) .. s end

-- incr adds n to a decimal integer string (exact below 2^53).
local function incr(s, n) return string.format('%.0f', tonumber(s or '0') + n) end

-- addms returns T t plus ms milliseconds, exactly (two 9/10-digit halves).
local function addms(t, ms)
  local us = pad(ms .. '000')
  local lo = tonumber(string.sub(t, 11)) + tonumber(string.sub(us, 11))
  local hi = tonumber(string.sub(t, 1, 10)) + tonumber(string.sub(us, 1, 10))
  if lo >= 1000000000 then lo = lo - 1000000000; hi = hi + 1 end
  return string.format('%010d%09d', hi, lo)
end

local function err(code, what) return redis.error_reply('ORX_' .. code .. ' ' .. what) end

local function readyMember(j) return j.pr .. j.ca .. j.id end

local function deadline(j)
  if j.st == 'running' and j.to and j.to ~= '0' then return addms(j.ta or ZERO, j.to) end
  return nil
end

local function tickField(j)
  if j.si and j.tk then return j.si .. j.tk end
  return nil
end

-- The sorted-set indexes of a job, in the order a batch writes them. A job
-- has at most one member in each.
local ZSETS = {'bystatus', 'ready', 'readyq', 'sched', 'disp', 'run', 'wjobs', 'fol', 'done', 'uncl'}

-- entries returns the index entries of j in its state: index name -> the
-- member j has there, plus uk (its field in uniq) and tf (its field in
-- ticks). wm is the promotion mark; with wm nil the result is every entry
-- the stored j may have (ready members whatever its ScheduledAt, uncl
-- whether cleaned or not), which is what removal needs.
local function entries(j, wm)
  local st, id = j.st, j.id
  local e = {bystatus = st .. ':' .. j.ca .. id}
  if st == 'pending' then
    if j.sa then e.sched = j.sa .. id end
    if not wm or not j.sa or j.sa < wm then
      local m = readyMember(j)
      e.ready = m
      e.readyq = lp(j.q) .. m
    end
  elseif st == 'dispatched' then
    e.disp = (j.da or ZERO) .. id
  end
  local dl = deadline(j)
  if dl then e.run = dl .. id end
  if INFLIGHT[st] and j.w then e.wjobs = lp(j.w) .. id end
  if j.f then e.fol = lp(j.f) .. j.ca .. id end
  if TERMINAL[st] then
    local co = j.co or ZERO
    e.done = co .. id
    if not wm or not j.cc then e.uncl = co .. id end
  elseif j.uk then
    e.uk = j.uk
  end
  e.tf = tickField(j)
  return e
end

-- CHUNK bounds the arguments of one command built with unpack (Lua's C
-- stack holds about 8000).
local CHUNK = 1000

-- call runs cmd on key with args, CHUNK at a time; step keeps pairs whole.
local function callAll(cmd, key, args, step)
  local n = #args
  if n == 0 then return end
  if n <= CHUNK then
    redis.call(cmd, key, unpack(args))
    return
  end
  local size = CHUNK - CHUNK % step
  for i = 1, n, size do
    redis.call(cmd, key, unpack(args, i, math.min(i + size - 1, n)))
  end
end

-- hmget returns the values of fields of hash (false where absent).
local function hmget(hash, fields)
  local n = #fields
  if n <= CHUNK then
    if n == 0 then return {} end
    return redis.call('HMGET', hash, unpack(fields))
  end
  local out = {}
  for i = 1, n, CHUNK do
    local part = redis.call('HMGET', hash, unpack(fields, i, math.min(i + CHUNK - 1, n)))
    for k = 1, #part do out[#out + 1] = part[k] end
  end
  return out
end

-- A batch is one script run's view of the jobs it changes. Jobs are read
-- once (prefetch: one HMGET), and every change goes through put or delete,
-- which compare the index entries the job was stored with to those of its
-- new state and queue only the difference; flush writes all of it with one
-- command per index. Each index member ends with its job's id, so the
-- changes of different jobs never touch the same member; a job put twice in
-- one batch flushes first, so its changes apply in order.
local function batch(K, wm)
  return {K = K, wm = wm, raw = {}, jobs = {}, old = {}, dirty = {},
    zrem = {}, zadd = {}, hset = {}, hdel = {}}
end

-- prefetch reads the stored JSON of ids not yet known to the batch.
local function prefetch(B, ids)
  local want = {}
  for _, id in ipairs(ids) do
    if B.raw[id] == nil then
      B.raw[id] = false
      want[#want + 1] = id
    end
  end
  local vals = hmget(B.K.jobs, want)
  for i, id in ipairs(want) do B.raw[id] = vals[i] end
end

-- load returns the job stored under id (the batch's copy), or nil.
local function load(B, id)
  local j = B.jobs[id]
  if j then return j end
  local raw = B.raw[id]
  if raw == nil then
    raw = redis.call('HGET', B.K.jobs, id)
    B.raw[id] = raw
  end
  if not raw then return nil end
  j = cjson.decode(raw)
  B.jobs[id], B.old[id] = j, entries(j, nil)
  return j
end

local function flush(B)
  local K = B.K
  for _, k in ipairs(ZSETS) do
    local rem, add = B.zrem[k], B.zadd[k]
    if rem then callAll('ZREM', K[k], rem, 1) end
    if add then callAll('ZADD', K[k], add, 2) end
  end
  callAll('HDEL', K.jobs, B.hdel, 1)
  callAll('HSET', K.jobs, B.hset, 2)
  B.zrem, B.zadd, B.hset, B.hdel, B.dirty = {}, {}, {}, {}, {}
end

-- moveField changes the field of hash naming job id from a to b (either
-- may be nil), deleting a only while it still names id.
local function moveField(hash, id, a, b)
  if a == b then return end
  if a and redis.call('HGET', hash, a) == id then redis.call('HDEL', hash, a) end
  if b then redis.call('HSET', hash, b, id) end
end

-- move queues the index changes from entries old to entries new of job id
-- (either may be nil: none). Hash fields (uniq, ticks) are written at once.
local function move(B, id, old, new)
  if B.dirty[id] then flush(B) end
  B.dirty[id] = true
  old, new = old or {}, new or {}
  for _, k in ipairs(ZSETS) do
    local a, b = old[k], new[k]
    if a ~= b then
      if a then
        local l = B.zrem[k]
        if not l then l = {}; B.zrem[k] = l end
        l[#l + 1] = a
      end
      if b then
        local l = B.zadd[k]
        if not l then l = {}; B.zadd[k] = l end
        l[#l + 1] = 0
        l[#l + 1] = b
      end
    end
  end
  moveField(B.K.uniq, id, old.uk, new.uk)
  moveField(B.K.ticks, id, old.tf, new.tf)
end

-- put stores j, in its new state, with its indexes; raw is its JSON when
-- the caller has it. Returns the JSON.
local function put(B, j, raw)
  local id = j.id
  local new = entries(j, B.wm)
  move(B, id, B.old[id], new)
  raw = raw or cjson.encode(j)
  B.jobs[id], B.raw[id], B.old[id] = j, raw, new
  local h = B.hset
  h[#h + 1] = id
  h[#h + 1] = raw
  return raw
end

-- delete removes j and all its index entries.
local function delete(B, j)
  local id = j.id
  move(B, id, B.old[id], nil)
  B.jobs[id], B.raw[id], B.old[id] = nil, false, nil
  B.hdel[#B.hdel + 1] = id
end

local function watermark(K) return redis.call('GET', K.wm) or ZERO end

-- promote makes every pending job scheduled before next (exclusive) ready,
-- advancing the watermark, and returns the watermark in force.
local function promote(K, next)
  local wm = watermark(K)
  if next <= wm then return wm end
  local ms = redis.call('ZRANGEBYLEX', K.sched, '[' .. wm, '(' .. next)
  if #ms > 0 then
    local ids = {}
    for i, m in ipairs(ms) do ids[i] = string.sub(m, 20) end
    local raws = hmget(K.jobs, ids)
    local ready, readyq = {}, {}
    for _, raw in ipairs(raws) do
      if raw then
        local j = cjson.decode(raw)
        if j.st == 'pending' then
          local rm = readyMember(j)
          ready[#ready + 1] = 0
          ready[#ready + 1] = rm
          readyq[#readyq + 1] = 0
          readyq[#readyq + 1] = lp(j.q) .. rm
        end
      end
    end
    callAll('ZADD', K.ready, ready, 2)
    callAll('ZADD', K.readyq, readyq, 2)
  end
  redis.call('SET', K.wm, next)
  return next
end

-- due reports whether a pending job may run at now (a T).
local function due(j, now) return not j.sa or j.sa <= now end

-- stored reports whether the jobs hash holds id (prefetched or asked).
local function stored(B, id)
  local raw = B.raw[id]
  if raw == nil then return redis.call('HEXISTS', B.K.jobs, id) == 1 end
  return raw ~= false
end

-- enqueueCheck returns nil when j may be stored, else an error reply. seen
-- collects the ids, unique keys and ticks of earlier jobs of the same batch.
local function enqueueCheck(B, j, seen)
  local K = B.K
  if seen.ids[j.id] or stored(B, j.id) then
    return err('EXISTS', 'job id')
  end
  if j.uk and (seen.uks[j.uk] or redis.call('HEXISTS', K.uniq, j.uk) == 1) then
    return err('EXISTS', 'unique key held by a live job')
  end
  local tf = tickField(j)
  if tf and (seen.ticks[tf] or redis.call('HEXISTS', K.ticks, tf) == 1) then
    return err('EXISTS', 'schedule tick already enqueued')
  end
  seen.ids[j.id] = true
  if j.uk and not TERMINAL[j.st] then seen.uks[j.uk] = true end
  if tf then seen.ticks[tf] = true end
  return nil
end

local function newSeen() return {ids = {}, uks = {}, ticks = {}} end

-- enqueueAll checks the jobs raws (JSON) and stores them all, or none and
-- returns the error reply.
local function enqueueAll(B, raws)
  local jobs, ids, seen = {}, {}, newSeen()
  for i, raw in ipairs(raws) do
    local j = cjson.decode(raw)
    jobs[i], ids[i] = j, j.id
  end
  prefetch(B, ids)
  for _, j in ipairs(jobs) do
    local e = enqueueCheck(B, j, seen)
    if e then return e end
  end
  for i, j in ipairs(jobs) do put(B, j, raws[i]) end
  return nil
end

-- finish moves an in-flight job at attempt to a terminal status.
local function finish(B, id, attempt, status, now, msg)
  local j = load(B, id)
  if not j then return 'NOTFOUND' end
  if not INFLIGHT[j.st] or j.at ~= attempt then return 'CONFLICT' end
  j.st = status
  j.co = now
  if msg then j.le = msg end
  put(B, j)
  return 'OK'
end
