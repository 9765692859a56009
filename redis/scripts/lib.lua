-- lib.lua is prepended to every script of this driver (scripts.go). It holds
-- the helpers and the job-family KEYS layout shared by the job, schedule,
-- history, log and dead-letter scripts. It defines functions and constants only.
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
--   1 jobs      HASH  id -> job record (below)
--   2 queues    SET   lp(queue) of every queue with readyq members (and
--                     perhaps some without: dispatch drops those it finds)
--   3 readyq    ZSET  lp(queue) pr T(created) id         pending, promoted, by queue
--   4 sched     ZSET  T(scheduled) id                    pending with a ScheduledAt
--   5 wm        STRING T: every sched member below it has been promoted
--   6 bystatus  ZSET  status ':' T(created) id        status: 'live' for pending, dispatched and running;
--                     none for a pending job without a ScheduledAt (Query reads readyq)
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
--  17 histid    SET   binary ids of stored history rows
--  18 histr     ZSET  history rows, whole (records.go): jobID attempt
--                     T(started) id T(completed) batch ..., by job in attempt order
--  19 histbt    ZSET  T(earliest completed) batch: one member per append call
--                     that stored completed rows
--  20 histbl    HASH  batch -> its completed rows' locators, by CompletedAt
--  21 logid     SET   binary ids of stored log lines
--  22 logr      ZSET  log lines, whole: jobID batch(6) index(2) id T ..., by
--                     job in written order
--  23 logbt     ZSET  T(earliest timestamp) batch: one member per Append
--  24 logbl     HASH  batch -> its lines' locators, by Timestamp
--  25 logseq    STRING log batch counter
--  26 orphans   SET   ids of purged jobs whose history/logs remain to delete
--  (T8 is an instant as 8 bytes, big-endian unix microseconds; ids here are
--  16 binary bytes. records.go documents every layout.)
-- Schedule scripts get four more (cron or interval):
--  27 sch       HASH  id -> schedule JSON
--  28 names     HASH  name -> id
--  29 list      ZSET  name                               (score 0, byte order)
--  30 due       ZSET  T(next run) id                     enabled schedules

-- Job records (codec.go writes and reads the same layout): a fixed-width
-- head at these 1-based offsets, then length-prefixed fields (3-digit
-- lengths, the last two 8-digit) in the order listed below.
local R_ST, R_AT, R_DA, R_TA, R_CO, R_PR, R_CA, R_ID, R_SA, R_TO, R_CC, R_TK, R_VAR =
  1, 2, 21, 40, 59, 78, 94, 113, 149, 168, 187, 188, 207
--   ST status code (byte, STATUS)   AT attempt (19 digits)   DA dispatched
--   TA started   CO completed   PR priority (16)   CA created   ID id (36)
--   SA scheduled   TO timeout in µs (19 digits)   CC '1' channels cleaned,
--   else '0'   TK tick   (times are T; ZERO when unset). PR CA ID is a readyq
--   member without its queue, CA ID the tail of a bystatus member.
local F_W, F_F, F_UK, F_RC, F_LE = 2, 3, 4, 9, 15
--   fields: 1 queue, 2 worker, 3 follower, 4 unique key, 5 schedule id,
--   6 type, 7 correlation id, 8 schedule type, 9 retry count, 10 max retries,
--   11 initial delay, 12 multiplier, 13 max delay (3-digit lengths);
--   14 args, 15 last error (8-digit lengths). Fields 1-3 are lp(text), the
--   bytes of a member.
local F_WIDE = 14
--
-- What a script costs is mostly the Lua calls it makes and the strings it
-- creates (each is hashed, allocated and later collected): scripts read
-- records with string.byte and find, copy out only the bytes a member needs,
-- and never parse a record whole.

local ZERO = '0000000000000000000'
local sub, byte, find = string.sub, string.byte, string.find
-- status code bytes (p d r c f t x)
local C_PENDING, C_DISPATCHED, C_RUNNING = 112, 100, 114
local STATUS = {[112] = 'pending', [100] = 'dispatched', [114] = 'running', [99] = 'completed',
  [102] = 'failed', [116] = 'timed_out', [120] = 'cancelled'}
local CODE = {pending = 'p', dispatched = 'd', running = 'r', completed = 'c', failed = 'f',
  timed_out = 't', cancelled = 'x'}
-- bystatus prefix by status code: the live statuses (pending, dispatched,
-- running) share one, so Dispatch and MarkRunning leave bystatus alone (Query
-- reads the status from the record).
local BYSTATUS = {[112] = 'live:', [100] = 'live:', [114] = 'live:', [99] = 'completed:',
  [102] = 'failed:', [116] = 'timed_out:', [120] = 'cancelled:'}
local TERMINAL = {completed = true, failed = true, timed_out = true, cancelled = true}

local function jobkeys()
  return {jobs = KEYS[1], queues = KEYS[2], readyq = KEYS[3], sched = KEYS[4], wm = KEYS[5],
    bystatus = KEYS[6], disp = KEYS[7], run = KEYS[8], wjobs = KEYS[9], fol = KEYS[10],
    done = KEYS[11], uncl = KEYS[12], uniq = KEYS[13], ticks = KEYS[14], dl = KEYS[15],
    dlidx = KEYS[16], histid = KEYS[17], histr = KEYS[18], histbt = KEYS[19], histbl = KEYS[20],
    logid = KEYS[21], logr = KEYS[22], logbt = KEYS[23], logbl = KEYS[24], logseq = KEYS[25],
    orphans = KEYS[26], sch = KEYS[27], names = KEYS[28], list = KEYS[29], due = KEYS[30]}
end

local function lp(s) return string.format('%03d', #s) .. s end

-- incr adds n to a decimal integer string (exact below 2^53).
local function incr(s, n) return string.format('%.0f', tonumber(s or '0') + n) end

-- addT returns T t plus the 19-digit microsecond count d, exactly (two
-- 9/10-digit halves).
local function addT(t, d)
  local lo = tonumber(sub(t, 11)) + tonumber(sub(d, 11))
  local hi = tonumber(sub(t, 1, 10)) + tonumber(sub(d, 1, 10))
  if lo >= 1000000000 then lo = lo - 1000000000; hi = hi + 1 end
  return string.format('%010d%09d', hi, lo)
end

local function err(code, what) return redis.error_reply('ORX_' .. code .. ' ' .. what) end

-- at returns the 19-byte head field of record r at offset o.
local function at(r, o) return sub(r, o, o + 18) end

-- has reports whether record r holds the bytes s at offset o (no string is
-- created).
local function has(r, o, s) return find(r, s, o, true) == o end

local function status(r) return STATUS[byte(r, R_ST)] end

-- len3 reads the 3-digit length at offset p of record r.
local function len3(r, p)
  local a, b, c = byte(r, p, p + 2)
  return a * 100 + b * 10 + c - 5328
end

-- wspan returns where the worker field of record r starts and its length.
local function wspan(r)
  local pw = R_VAR + 3 + len3(r, R_VAR)
  return pw, len3(r, pw)
end

-- span returns where field k of record r starts (its length prefix), its
-- length and the width of its prefix.
local function span(r, k)
  local p = R_VAR
  for i = 1, k - 1 do
    local w = i >= F_WIDE and 8 or 3
    p = p + w + tonumber(sub(r, p, p + w - 1))
  end
  local w = k >= F_WIDE and 8 or 3
  return p, tonumber(sub(r, p, p + w - 1)), w
end

-- field returns the text of field k of record r.
local function field(r, k)
  local p, n, w = span(r, k)
  return sub(r, p + w, p + w + n - 1)
end

-- setField returns record r with field k set to v.
local function setField(r, k, v)
  local p, n, w = span(r, k)
  return sub(r, 1, p - 1) .. string.format(w == 3 and '%03d' or '%08d', #v) .. v .. sub(r, p + w + n)
end

-- due reports whether pending record r may run at now (a T).
local function due(r, now) return has(r, R_SA, ZERO) or at(r, R_SA) <= now end

-- The indexes of a job, in the order entries lists its members: nine sorted
-- sets, then its field in uniq, its field in ticks and, with a readyq
-- member, lp(queue) (a member of queues).
local ZSETS = {'bystatus', 'readyq', 'sched', 'disp', 'run', 'wjobs', 'fol', 'done', 'uncl'}
local E_UK, E_TF, E_Q = 10, 11, 12

-- entries returns the index entries of record r of job id in its state: an
-- array in ZSETS order of the member the job has in each sorted set (nil:
-- none), then its unique key (uniq holds it for non-terminal jobs) and its
-- ticks field. wm is the promotion mark; with wm nil the result is every
-- entry the stored job may have (ready members whatever its ScheduledAt,
-- uncl whether cleaned or not), which is what removal needs. This is the
-- definition of the indexes; the hot transitions below (enqueueOne,
-- dispatch.lua, toRunning, finishOne) write the same members directly, and
-- index_test.go checks every index against the records.
local function entries(r, id, wm)
  local c = byte(r, R_ST)
  local cai = sub(r, R_CA, R_ID + 35)
  local readyq, lpq, sched, disp, run, wjobs, fol, done, uncl, uk, tf
  local pw, nw = wspan(r)
  local pf = pw + 3 + nw
  local nf = len3(r, pf)
  if nf > 0 then fol = sub(r, pf, pf + 2 + nf) .. cai end
  local pu = pf + 3 + nf
  local nu = len3(r, pu)
  local ps = pu + 3 + nu
  local ns = len3(r, ps)
  if ns > 0 and not has(r, R_TK, ZERO) then tf = sub(r, ps + 3, ps + 2 + ns) .. at(r, R_TK) end
  if c == C_PENDING then
    if nu > 0 then uk = sub(r, pu + 3, pu + 2 + nu) end
    local sa = nil
    if not has(r, R_SA, ZERO) then
      sa = at(r, R_SA)
      sched = sa .. id
    end
    if not wm or not sa or sa < wm then
      lpq = sub(r, R_VAR, pw - 1)
      readyq = lpq .. sub(r, R_PR, R_ID + 35)
    end
  elseif c == C_DISPATCHED or c == C_RUNNING then
    if nu > 0 then uk = sub(r, pu + 3, pu + 2 + nu) end
    if nw > 0 then wjobs = sub(r, pw, pw + 2 + nw) .. id end
    if c == C_DISPATCHED then
      disp = at(r, R_DA) .. id
    elseif not has(r, R_TO, ZERO) then
      run = addT(at(r, R_TA), at(r, R_TO)) .. id
    end
  else
    done = at(r, R_CO) .. id
    if not wm or byte(r, R_CC) ~= 49 then uncl = done end
  end
  -- A pending job without a ScheduledAt is always in readyq, where Query
  -- finds it, so it has no bystatus member: enqueue writes one index entry
  -- fewer and dispatch adds it. For removal (wm nil) it is listed anyway,
  -- which also clears the member a store written before kept.
  local bys = BYSTATUS[c] .. cai
  if wm and c == C_PENDING and not sched then bys = nil end
  return {bys, readyq, sched, disp, run, wjobs, fol, done, uncl, uk, tf, lpq}
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

-- hsetNew sets the field-value pairs of hash and returns how many fields
-- were new, CHUNK arguments at a time. Scripts that store rows under fresh
-- ids check with one HMGET that none is stored, then compare this count
-- with the number of rows: fewer means an id was given twice, and deleting
-- all the ids undoes the write (none was stored before). That replaces a
-- Lua table of the ids seen, which costs more than the HSET.
local function hsetNew(hash, pairs_)
  local n = #pairs_
  if n == 0 then return 0 end
  if n <= CHUNK then return redis.call('HSET', hash, unpack(pairs_)) end
  local added = 0
  for i = 1, n, CHUNK do
    added = added + redis.call('HSET', hash, unpack(pairs_, i, math.min(i + CHUNK - 1, n)))
  end
  return added
end

-- A batch is one script run's view of the jobs it changes. Records are read
-- once (prefetch: one HMGET) and index changes are queued per index (zrem:
-- members, zadd: score-member pairs; qs: queues that got readyq members) and
-- written by flush with one command per index, removals first. Each index member ends with its job's id, so
-- the changes of different jobs never touch the same member; touch, which
-- every change of a job starts with, flushes first when the job already
-- changed in this batch, so its changes apply in order.
local function batch(K, wm)
  local B = {K = K, wm = wm, raw = {}, old = {}, dirty = {}, zrem = {}, zadd = {}, hset = {}, hdel = {}, qs = {}}
  for _, k in ipairs(ZSETS) do B.zrem[k], B.zadd[k] = {}, {} end
  return B
end

-- prefetch reads the stored records of ids not yet known to the batch.
local function prefetch(B, ids)
  local raw, want, n = B.raw, {}, 0
  for i = 1, #ids do
    local id = ids[i]
    if raw[id] == nil then
      raw[id] = false
      n = n + 1
      want[n] = id
    end
  end
  local vals = hmget(B.K.jobs, want)
  for i = 1, n do raw[want[i]] = vals[i] end
end

-- load returns the record of job id as the batch has it, or nil.
local function load(B, id)
  local r = B.raw[id]
  if r == nil then
    r = redis.call('HGET', B.K.jobs, id)
    B.raw[id] = r
  end
  return r or nil
end

local function flush(B)
  local K = B.K
  for _, k in ipairs(ZSETS) do
    callAll('ZREM', K[k], B.zrem[k], 1)
    callAll('ZADD', K[k], B.zadd[k], 2)
    B.zrem[k], B.zadd[k] = {}, {}
  end
  callAll('HDEL', K.jobs, B.hdel, 1)
  callAll('HSET', K.jobs, B.hset, 2)
  local qs = {}
  for q in pairs(B.qs) do qs[#qs + 1] = q end
  callAll('SADD', K.queues, qs, 1)
  B.hset, B.hdel, B.dirty, B.qs = {}, {}, {}, {}
end

-- touch starts a change of job id to record r (false: deleted).
local function touch(B, id, r)
  if B.dirty[id] then flush(B) end
  B.dirty[id] = true
  B.raw[id], B.old[id] = r, nil
  if r then
    local h = B.hset
    h[#h + 1] = id
    h[#h + 1] = r
  else
    B.hdel[#B.hdel + 1] = id
  end
end

local function zrem(B, k, m)
  local l = B.zrem[k]
  l[#l + 1] = m
end

local function zadd(B, k, m)
  local l = B.zadd[k]
  l[#l + 1] = '0'
  l[#l + 1] = m
end

-- moveField changes the field of hash naming job id from a to b (either
-- may be nil), deleting a only while it still names id.
local function moveField(hash, id, a, b)
  if a == b then return end
  if a and redis.call('HGET', hash, a) == id then redis.call('HDEL', hash, a) end
  if b then redis.call('HSET', hash, b, id) end
end

-- store changes job id to record r (nil: deletes it), queueing the
-- difference between the entries of its record in the batch and those of r.
-- Hash fields (uniq, ticks) are written at once.
local function store(B, id, r)
  local cur = B.raw[id]
  local old = B.old[id] or (cur and entries(cur, id, nil)) or {}
  local new = r and entries(r, id, B.wm) or {}
  touch(B, id, r or false)
  B.old[id] = r and new or nil
  for i = 1, #ZSETS do
    local a, b = old[i], new[i]
    if a ~= b then
      if a then zrem(B, ZSETS[i], a) end
      if b then zadd(B, ZSETS[i], b) end
    end
  end
  moveField(B.K.uniq, id, old[E_UK], new[E_UK])
  moveField(B.K.ticks, id, old[E_TF], new[E_TF])
  if new[E_Q] then B.qs[new[E_Q]] = true end
end

-- put stores record r of job id with its indexes and returns r.
local function put(B, id, r)
  store(B, id, r)
  return r
end

-- delete removes job id and all its index entries.
local function delete(B, id) store(B, id, nil) end

local function watermark(K) return redis.call('GET', K.wm) or ZERO end

-- promote makes every pending job scheduled before next (exclusive) ready,
-- advancing the watermark, and returns the watermark in force.
local function promote(K, next)
  local wm = watermark(K)
  if next <= wm then return wm end
  local ms = redis.call('ZRANGEBYLEX', K.sched, '[' .. wm, '(' .. next)
  if #ms > 0 then
    local ids = {}
    for i, m in ipairs(ms) do ids[i] = sub(m, 20) end
    local readyq, qs, seen = {}, {}, {}
    for i, r in ipairs(hmget(K.jobs, ids)) do
      if r and byte(r, R_ST) == C_PENDING then
        local e = entries(r, ids[i], nil)
        readyq[#readyq + 1] = '0'
        readyq[#readyq + 1] = e[2]
        if not seen[e[E_Q]] then
          seen[e[E_Q]] = true
          qs[#qs + 1] = e[E_Q]
        end
      end
    end
    callAll('ZADD', K.readyq, readyq, 2)
    callAll('SADD', K.queues, qs, 1)
  end
  redis.call('SET', K.wm, next)
  return next
end

-- A merge reads readyq in Pending order (priority desc, created asc, id asc)
-- across queues: one source per queue, each a range of readyq read a chunk
-- at a time, the sources kept in a binary heap by their next member without
-- the queue prefix (a ready member: pr T(created) id). lpqs lists the queues
-- (lp-encoded); nil means every queue in queues, and a queue found without
-- members leaves that set. limit bounds what one caller takes.

-- sift moves the source at H[j] down the heap of n sources to its place.
local function sift(H, j, n)
  local x = H[j]
  while true do
    local c = 2 * j
    if c > n then break end
    if c < n and H[c + 1].h < H[c].h then c = c + 1 end
    if not (H[c].h < x.h) then break end
    H[j] = H[c]
    j = c
  end
  H[j] = x
end

local function merge(K, lpqs, limit)
  local all = not lpqs
  if all then lpqs = redis.call('SMEMBERS', K.queues) end
  local max = limit + 16
  -- many queues: start with small chunks, doubling as a queue is drained
  local first = math.min(max, math.max(16, math.ceil(max / math.max(#lpqs, 1))))
  local H, n, gone = {}, 0, {}
  for _, p in ipairs(lpqs) do
    local q = {np = #p + 1, min = '[' .. p, lim = '(' .. p .. '\255', size = first}
    q.buf = redis.call('ZRANGEBYLEX', K.readyq, q.min, q.lim, 'LIMIT', 0, first)
    q.len, q.pos, q.off, q.done = #q.buf, 1, #q.buf, #q.buf < first
    if q.len > 0 then
      q.h = sub(q.buf[1], q.np)
      n = n + 1
      H[n] = q
    elseif all then
      gone[#gone + 1] = p
    end
  end
  callAll('SREM', K.queues, gone, 1)
  for j = math.floor(n / 2), 1, -1 do sift(H, j, n) end
  return {K = K, max = max, heap = H, n = n}
end

-- take returns the next n members of merge M in Pending order (fewer when
-- readyq runs out) and their job ids. Nothing may write readyq while a merge
-- is in use: its sources read by offset. A source's heap key is kept only
-- while the heap has more than one source (a string costs in proportion to
-- its length: Lua hashes every byte).
local function take(M, n)
  local K, H = M.K, M.heap
  local ms, ids = {}, {}
  for i = 1, n do
    local q = H[1]
    if not q then break end
    local m = q.buf[q.pos]
    ms[i], ids[i] = m, sub(m, -36)
    q.pos = q.pos + 1
    if q.pos > q.len and not q.done then
      q.size = math.min(q.size * 2, M.max)
      q.buf = redis.call('ZRANGEBYLEX', K.readyq, q.min, q.lim, 'LIMIT', q.off, q.size)
      q.len, q.pos, q.off = #q.buf, 1, q.off + #q.buf
      q.done = q.len < q.size
    end
    if q.pos > q.len then
      -- drained: the last source takes its place
      H[1] = H[M.n]
      H[M.n] = nil
      M.n = M.n - 1
    elseif M.n > 1 then
      q.h = sub(q.buf[q.pos], q.np)
    end
    if M.n > 1 then sift(H, 1, M.n) end
  end
  return ms, ids
end

-- stored reports whether the jobs hash holds id (prefetched or asked).
local function stored(B, id)
  local raw = B.raw[id]
  if raw == nil then return redis.call('HEXISTS', B.K.jobs, id) == 1 end
  return raw ~= false
end

-- keysCheck returns nil when the unique key and schedule tick of record r
-- of job id are free, else an error reply. seen collects the unique keys and
-- ticks of earlier jobs of the same batch.
local function keysCheck(B, id, r, seen)
  local K = B.K
  local uk, e = field(r, F_UK), entries(r, id, nil)
  if uk ~= '' and (seen.uks[uk] or redis.call('HEXISTS', K.uniq, uk) == 1) then
    return err('EXISTS', 'unique key held by a live job')
  end
  local tf = e[E_TF]
  if tf and (seen.ticks[tf] or redis.call('HEXISTS', K.ticks, tf) == 1) then
    return err('EXISTS', 'schedule tick already enqueued')
  end
  if e[E_UK] then seen.uks[e[E_UK]] = true end
  if tf then seen.ticks[tf] = true end
  return nil
end

-- enqueueCheck returns nil when record r of job id may be stored, else an
-- error reply; seen collects the ids, unique keys and ticks of earlier jobs
-- of the same batch.
local function enqueueCheck(B, id, r, seen)
  if seen.ids[id] or stored(B, id) then return err('EXISTS', 'job id') end
  seen.ids[id] = true
  return keysCheck(B, id, r, seen)
end

local function newSeen() return {ids = {}, uks = {}, ticks = {}} end

-- The hot transitions below (enqueueAll's plain pending jobs, markRunning,
-- finishAll, and dispatch.lua) write their index changes straight into the
-- batch's lists instead of going through store: each costs a fraction of
-- computing both states' entries. Each job changes at most once in them (a
-- job they moved no longer has the status they require, and enqueued ids
-- are unique), so they need no flush between jobs; they keep B.raw current
-- so a repeated id sees the new record. markRunning and finishAll read the
-- records with one HMGET of ids as given and take a job's record from B.raw
-- only when the batch already has it (a repeated id, or a job changed
-- before in the same batch): no table of the ids to read is built.

-- enqueueAll checks the records rs and stores them all, or none and returns
-- the error reply. A pending job with no worker, follower, unique key or
-- schedule id (the four fields after the queue all '000') takes the short
-- path; any other goes through put.
local function enqueueAll(B, rs)
  local n, ids, seen = #rs, {}, newSeen()
  for i = 1, n do ids[i] = sub(rs[i], R_ID, R_ID + 35) end
  prefetch(B, ids)
  local raw, seenIds, plain = B.raw, seen.ids, {}
  for i = 1, n do
    local r, id = rs[i], ids[i]
    if seenIds[id] or raw[id] then return err('EXISTS', 'job id') end
    seenIds[id] = true
    local a, b, c = byte(r, R_VAR, R_VAR + 2)
    local pw = R_VAR + 3 + a * 100 + b * 10 + c - 5328
    if find(r, '000000000000', pw, true) == pw then
      plain[i] = byte(r, R_ST) == C_PENDING and pw
    else
      local e = keysCheck(B, id, r, seen)
      if e then return e end
    end
  end
  local hset, wm = B.hset, B.wm
  local bys, sched, readyq, qs = B.zadd.bystatus, B.zadd.sched, B.zadd.readyq, B.qs
  local nh, nb, ns, nq = #hset, #bys, #sched, #readyq
  for i = 1, n do
    local id, r, pw = ids[i], rs[i], plain[i]
    if not pw then
      put(B, id, r)
      hset, bys, sched, readyq, qs = B.hset, B.zadd.bystatus, B.zadd.sched, B.zadd.readyq, B.qs
      nh, nb, ns, nq = #hset, #bys, #sched, #readyq
    else
      raw[id] = r
      hset[nh + 1], hset[nh + 2] = id, r
      nh = nh + 2
      local sa = nil
      if find(r, ZERO, R_SA, true) ~= R_SA then
        sa = sub(r, R_SA, R_SA + 18)
        sched[ns + 1], sched[ns + 2] = '0', sa .. id
        ns = ns + 2
        bys[nb + 1], bys[nb + 2] = '0', 'live:' .. sub(r, R_CA, R_ID + 35)
        nb = nb + 2
      end
      if not sa or sa < wm then
        local lpq = sub(r, R_VAR, pw - 1)
        qs[lpq] = true
        readyq[nq + 1], readyq[nq + 2] = '0', lpq .. sub(r, R_PR, R_ID + 35)
        nq = nq + 2
      end
    end
  end
  return nil
end

-- restate returns record r with status code and the time at offset o set
-- to t.
local function restate(r, code, o, t) return code .. sub(r, R_AT, o - 1) .. t .. sub(r, o + 19) end

-- markRunning and finishAll return their failures: a flat list of pairs,
-- the job's place in ids (1-based) and 'NOTFOUND' or 'CONFLICT', in ids
-- order; empty when every job moved. A reply of one code per job cost the
-- server a bulk string per job (and the client as many to read).

-- markRunning moves the dispatched jobs ids at attempts ats (19 digits) to
-- running at now by worker ('' keeps each job's worker) and returns the jobs
-- it did not move (failures, below). Only disp, run and wjobs change.
local function markRunning(B, ids, ats, now, worker)
  local vals, raw, hset = hmget(B.K.jobs, ids), B.raw, B.hset
  local disp, run, wrem, wadd = B.zrem.disp, B.zadd.run, B.zrem.wjobs, B.zadd.wjobs
  local nh, nd, nr, nwr, nwa = #hset, #disp, #run, #wrem, #wadd
  local lw, lwn = worker ~= '' and lp(worker), #worker
  local out, nf = {}, 0
  for i = 1, #ids do
    local id = ids[i]
    local r = raw[id]
    if r == nil then r = vals[i] end
    if not r then
      out[nf + 1], out[nf + 2] = i, 'NOTFOUND'
      nf = nf + 2
    elseif byte(r, R_ST) ~= C_DISPATCHED or find(r, ats[i], R_AT, true) ~= R_AT then
      out[nf + 1], out[nf + 2] = i, 'CONFLICT'
      nf = nf + 2
    else
      local x = 'r' .. sub(r, R_AT, R_TA - 1) .. now .. sub(r, R_CO)
      if lw then
        local a, b, c = byte(r, R_VAR, R_VAR + 2)
        local pw = R_VAR + 3 + a * 100 + b * 10 + c - 5328
        a, b, c = byte(r, pw, pw + 2)
        local nw = a * 100 + b * 10 + c - 5328
        if nw ~= lwn or find(r, worker, pw + 3, true) ~= pw + 3 then
          x = sub(x, 1, pw - 1) .. lw .. sub(x, pw + 3 + nw)
          if nw > 0 then
            nwr = nwr + 1
            wrem[nwr] = sub(r, pw, pw + 2 + nw) .. id
          end
          wadd[nwa + 1], wadd[nwa + 2] = '0', lw .. id
          nwa = nwa + 2
        end
      end
      raw[id] = x
      hset[nh + 1], hset[nh + 2] = id, x
      nh = nh + 2
      nd = nd + 1
      disp[nd] = sub(r, R_DA, R_DA + 18) .. id
      if find(r, ZERO, R_TO, true) ~= R_TO then
        run[nr + 1], run[nr + 2] = '0', addT(now, sub(r, R_TO, R_TO + 18)) .. id
        nr = nr + 2
      end
    end
  end
  return out
end

-- finishAll moves the in-flight jobs ids at attempts ats (19 digits) to the
-- terminal status code at now; msg, when not nil, becomes their last error.
-- Returns the jobs it did not move (failures, below).
local function finishAll(B, ids, ats, code, now, msg)
  local vals, raw, hset = hmget(B.K.jobs, ids), B.raw, B.hset
  local brem, badd, disp, run, wrem = B.zrem.bystatus, B.zadd.bystatus, B.zrem.disp, B.zrem.run, B.zrem.wjobs
  local done, uncl = B.zadd.done, B.zadd.uncl
  local nh, nbr, nba, nd, nr, nw_, ndo, nu_ = #hset, #brem, #badd, #disp, #run, #wrem, #done, #uncl
  local prefix = BYSTATUS[byte(code)]
  local out, nf = {}, 0
  for i = 1, #ids do
    local id = ids[i]
    local r = raw[id]
    if r == nil then r = vals[i] end
    local c = r and byte(r, R_ST)
    if not r then
      out[nf + 1], out[nf + 2] = i, 'NOTFOUND'
      nf = nf + 2
    elseif (c ~= C_DISPATCHED and c ~= C_RUNNING) or find(r, ats[i], R_AT, true) ~= R_AT then
      out[nf + 1], out[nf + 2] = i, 'CONFLICT'
      nf = nf + 2
    else
      local x = code .. sub(r, R_AT, R_CO - 1) .. now .. sub(r, R_PR)
      if msg then x = setField(x, F_LE, msg) end
      raw[id] = x
      hset[nh + 1], hset[nh + 2] = id, x
      nh = nh + 2
      local cai = sub(r, R_CA, R_ID + 35)
      nbr = nbr + 1
      brem[nbr] = 'live:' .. cai
      badd[nba + 1], badd[nba + 2] = '0', prefix .. cai
      nba = nba + 2
      if c == C_DISPATCHED then
        nd = nd + 1
        disp[nd] = sub(r, R_DA, R_DA + 18) .. id
      elseif find(r, ZERO, R_TO, true) ~= R_TO then
        nr = nr + 1
        run[nr] = addT(sub(r, R_TA, R_TA + 18), sub(r, R_TO, R_TO + 18)) .. id
      end
      -- worker, follower, unique key: drop the worker's member and the
      -- unique key (uniq holds live jobs only)
      local a, b, d = byte(r, R_VAR, R_VAR + 2)
      local pw = R_VAR + 3 + a * 100 + b * 10 + d - 5328
      if find(r, '000000000', pw, true) ~= pw then
        a, b, d = byte(r, pw, pw + 2)
        local nw = a * 100 + b * 10 + d - 5328
        if nw > 0 then
          nw_ = nw_ + 1
          wrem[nw_] = sub(r, pw, pw + 2 + nw) .. id
        end
        local pf = pw + 3 + nw
        a, b, d = byte(r, pf, pf + 2)
        local pu = pf + 3 + a * 100 + b * 10 + d - 5328
        a, b, d = byte(r, pu, pu + 2)
        local nu = a * 100 + b * 10 + d - 5328
        if nu > 0 then moveField(B.K.uniq, id, sub(r, pu + 3, pu + 2 + nu), nil) end
      end
      local dm = now .. id
      done[ndo + 1], done[ndo + 2] = '0', dm
      ndo = ndo + 2
      if byte(r, R_CC) ~= 49 then
        uncl[nu_ + 1], uncl[nu_ + 2] = '0', dm
        nu_ = nu_ + 2
      end
    end
  end
  return out
end
