-- records_lib.lua follows lib.lua in the scripts that store and purge history
-- rows and log lines (scripts.go loadRecordScript). A row is one member of
-- its kind's rows ZSET, whole (records.go builds and reads the bytes); its
-- id is also in the kind's ids SET, which makes a stored id a duplicate.
-- Each append call files its rows' locators under one batch: the lists HASH
-- maps the batch to its locators in time order, and the bytime ZSET holds
-- one member per batch, T8(its earliest locator) followed by the batch, so
-- Purge finds the batches that hold rows before a cut-off without an index
-- member per row.
--
-- Locators (T8: an instant as 8 bytes, big-endian unix microseconds):
--   history  T8(completed) jobID attempt(8) T8(started) id   (56 bytes)
--   logs     T8(timestamp) jobID index(2) id                 (42 bytes)
-- A locator without its T8 leads its row's member, except that a log line's
-- member has its batch (6 bytes) after the jobID; the id is always the
-- locator's last 16 bytes. No member has 0xff after that prefix (a T8 or an
-- attempt follows), so '(' .. prefix .. '\255' closes its range.

-- newIDs adds ARGV[first..last] to the ids SET, or returns an ORX_EXISTS
-- reply and adds none when one is stored or given twice.
local function newIDs(ids, first, last, what)
  for i = first, last, CHUNK do
    local seen = redis.call('SMISMEMBER', ids, unpack(ARGV, i, math.min(i + CHUNK - 1, last)))
    for k = 1, #seen do
      if seen[k] == 1 then return err('EXISTS', what) end
    end
  end
  local added = 0
  for i = first, last, CHUNK do
    added = added + redis.call('SADD', ids, unpack(ARGV, i, math.min(i + CHUNK - 1, last)))
  end
  if added ~= last - first + 1 then
    -- an id given twice: none was stored before, so removing all undoes it
    for i = first, last, CHUNK do
      redis.call('SREM', ids, unpack(ARGV, i, math.min(i + CHUNK - 1, last)))
    end
    return err('EXISTS', what)
  end
end

-- fileBatch records batch b's locators (time order) in lists and bytime.
local function fileBatch(bytime, lists, b, list)
  if list == '' then return end
  redis.call('HSET', lists, b, list)
  redis.call('ZADD', bytime, 0, sub(list, 1, 8) .. b)
end

-- storeLines stores m log lines whose arguments start at ARGV[L] (the
-- locators, then m ids, m job ids, m rests: log_append.lua), their ids
-- already added. The next batch number (6 bytes) goes after each job id, so
-- a job's lines sort in written order.
local function storeLines(K, L, m)
  local b = struct.pack('>I6', redis.call('INCR', K.logseq))
  local zs = {}
  for i = 1, m do
    zs[2 * i - 1], zs[2 * i] = '0', ARGV[L + m + i] .. b .. ARGV[L + 2 * m + i]
  end
  callAll('ZADD', K.logr, zs, 2)
  fileBatch(K.logbt, K.logbl, b, ARGV[L])
end

-- storeRows stores h history rows whose arguments start at ARGV[H] (the
-- batch, the locators, then h ids, h members: history_append_many.lua),
-- their ids already added.
local function storeRows(K, H, h)
  local zs = {}
  for i = 1, h do
    zs[2 * i - 1], zs[2 * i] = '0', ARGV[H + 1 + h + i]
  end
  callAll('ZADD', K.histr, zs, 2)
  fileBatch(K.histbt, K.histbl, ARGV[H], ARGV[H + 1])
end

-- refile stores what is left of batch b's locators after some were deleted
-- (old: its list before), moving its bytime member when the earliest changed.
local function refile(bytime, lists, b, old, rest)
  if rest == '' then
    redis.call('HDEL', lists, b)
    redis.call('ZREM', bytime, sub(old, 1, 8) .. b)
    return
  end
  redis.call('HSET', lists, b, rest)
  local t0, t1 = sub(old, 1, 8), sub(rest, 1, 8)
  if t0 ~= t1 then
    redis.call('ZREM', bytime, t0 .. b)
    redis.call('ZADD', bytime, 0, t1 .. b)
  end
end

-- purgeBefore deletes up to limit rows whose locator time is before cut (a
-- T8), oldest batches first, and returns how many (L1, J9). size is the
-- locator size, split the bytes of the locator's prefix after which a log
-- line's member holds its batch (0: none). Each batch found holds a row
-- before cut, so a call reads at most limit batches and deletes at most
-- limit rows.
local function purgeBefore(ids, rows, bytime, lists, cut, limit, size, split)
  local ch, cl = struct.unpack('>I4I4', cut)
  local n, gone = 0, {}
  for _, m in ipairs(redis.call('ZRANGEBYLEX', bytime, '-', '(' .. cut, 'LIMIT', 0, limit)) do
    if n >= limit then break end
    local b = sub(m, 9)
    local list = redis.call('HGET', lists, b) or ''
    local p, len = 1, #list
    while p < len and n < limit do
      local h, l = struct.unpack('>I4I4', list, p)
      if h > ch or h == ch and l >= cl then break end
      local e = p + size - 1
      local pre
      if split > 0 then
        pre = sub(list, p + 8, p + 7 + split) .. b .. sub(list, p + 8 + split, e)
      else
        pre = sub(list, p + 8, e)
      end
      if redis.call('ZREMRANGEBYLEX', rows, '[' .. pre, '(' .. pre .. '\255') > 0 then
        n = n + 1
        gone[#gone + 1] = sub(list, e - 15, e)
      end
      p = p + size
    end
    if len == 0 then
      redis.call('ZREM', bytime, m)
    elseif p > 1 then
      refile(bytime, lists, b, list, sub(list, p))
    end
  end
  callAll('SREM', ids, gone, 1)
  return n
end

-- dropRows deletes the row members ms (a purged job's) with their ids and
-- locators; a member's batch is its bytes at bat (bl long), its id at idat.
-- Returns how many locators it read.
local function dropRows(ids, rows, bytime, lists, ms, bat, bl, idat, size)
  if #ms == 0 then return 0 end
  local dead, batches, gone = {}, {}, {}
  for i, m in ipairs(ms) do
    local id = sub(m, idat, idat + 15)
    gone[i] = id
    dead[id] = true
    batches[sub(m, bat, bat + bl - 1)] = true
  end
  callAll('ZREM', rows, ms, 1)
  callAll('SREM', ids, gone, 1)
  local read = 0
  for b in pairs(batches) do
    local list = redis.call('HGET', lists, b)
    if list then
      local keep = {}
      for p = 1, #list, size do
        if not dead[sub(list, p + size - 16, p + size - 1)] then keep[#keep + 1] = sub(list, p, p + size - 1) end
      end
      read = read + #list / size
      if #keep < #list / size then refile(bytime, lists, b, list, table.concat(keep)) end
    end
  end
  return read
end
