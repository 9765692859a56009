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

-- index adds j to every index its state calls for; wm is the promotion mark.
local function index(K, j, wm)
  local st, id = j.st, j.id
  redis.call('ZADD', K.bystatus, 0, st .. ':' .. j.ca .. id)
  if st == 'pending' then
    if j.sa then redis.call('ZADD', K.sched, 0, j.sa .. id) end
    if not j.sa or j.sa < wm then
      local m = readyMember(j)
      redis.call('ZADD', K.ready, 0, m)
      redis.call('ZADD', K.readyq, 0, lp(j.q) .. m)
    end
  elseif st == 'dispatched' then
    redis.call('ZADD', K.disp, 0, (j.da or ZERO) .. id)
  end
  local dl = deadline(j)
  if dl then redis.call('ZADD', K.run, 0, dl .. id) end
  if INFLIGHT[st] and j.w then redis.call('ZADD', K.wjobs, 0, lp(j.w) .. id) end
  if j.f then redis.call('ZADD', K.fol, 0, lp(j.f) .. j.ca .. id) end
  if TERMINAL[st] then
    local co = j.co or ZERO
    redis.call('ZADD', K.done, 0, co .. id)
    if not j.cc then redis.call('ZADD', K.uncl, 0, co .. id) end
  elseif j.uk then
    redis.call('HSET', K.uniq, j.uk, id)
  end
  local tf = tickField(j)
  if tf then redis.call('HSET', K.ticks, tf, id) end
end

-- unindex removes j, in the state it was stored in, from every index.
local function unindex(K, j)
  local st, id = j.st, j.id
  redis.call('ZREM', K.bystatus, st .. ':' .. j.ca .. id)
  if st == 'pending' then
    if j.sa then redis.call('ZREM', K.sched, j.sa .. id) end
    local m = readyMember(j)
    redis.call('ZREM', K.ready, m)
    redis.call('ZREM', K.readyq, lp(j.q) .. m)
  elseif st == 'dispatched' then
    redis.call('ZREM', K.disp, (j.da or ZERO) .. id)
  end
  local dl = deadline(j)
  if dl then redis.call('ZREM', K.run, dl .. id) end
  if INFLIGHT[st] and j.w then redis.call('ZREM', K.wjobs, lp(j.w) .. id) end
  if j.f then redis.call('ZREM', K.fol, lp(j.f) .. j.ca .. id) end
  if TERMINAL[st] then
    local co = j.co or ZERO
    redis.call('ZREM', K.done, co .. id)
    redis.call('ZREM', K.uncl, co .. id)
  elseif j.uk and redis.call('HGET', K.uniq, j.uk) == id then
    redis.call('HDEL', K.uniq, j.uk)
  end
  local tf = tickField(j)
  if tf and redis.call('HGET', K.ticks, tf) == id then redis.call('HDEL', K.ticks, tf) end
end

local function watermark(K) return redis.call('GET', K.wm) or ZERO end

local function loadJob(K, id)
  local raw = redis.call('HGET', K.jobs, id)
  if not raw then return nil end
  return cjson.decode(raw)
end

-- save stores j (already indexed) and returns its JSON.
local function save(K, j)
  local raw = cjson.encode(j)
  redis.call('HSET', K.jobs, j.id, raw)
  return raw
end

-- promote makes every pending job scheduled before next (exclusive) ready,
-- advancing the watermark, and returns the watermark in force.
local function promote(K, next)
  local wm = watermark(K)
  if next <= wm then return wm end
  local ms = redis.call('ZRANGEBYLEX', K.sched, '[' .. wm, '(' .. next)
  for _, m in ipairs(ms) do
    local j = loadJob(K, string.sub(m, 20))
    if j and j.st == 'pending' then
      local rm = readyMember(j)
      redis.call('ZADD', K.ready, 0, rm)
      redis.call('ZADD', K.readyq, 0, lp(j.q) .. rm)
    end
  end
  redis.call('SET', K.wm, next)
  return next
end

-- due reports whether a pending job may run at now (a T).
local function due(j, now) return not j.sa or j.sa <= now end

-- enqueueCheck returns nil when j may be stored, else an error reply. seen
-- collects the ids, unique keys and ticks of earlier jobs of the same batch.
local function enqueueCheck(K, j, seen)
  if seen.ids[j.id] or redis.call('HEXISTS', K.jobs, j.id) == 1 then
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

-- transition moves an in-flight job at attempt to a terminal status.
local function finish(K, wm, id, attempt, status, now, msg)
  local j = loadJob(K, id)
  if not j then return 'NOTFOUND' end
  if not INFLIGHT[j.st] or j.at ~= attempt then return 'CONFLICT' end
  unindex(K, j)
  j.st = status
  j.co = now
  if msg then j.le = msg end
  index(K, j, wm)
  save(K, j)
  return 'OK'
end
