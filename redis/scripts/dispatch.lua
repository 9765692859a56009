-- dispatch.lua moves up to limit due pending jobs, in Pending order
-- (priority desc, created asc, id asc), to dispatched, or to running when
-- started, and returns them (J4).
-- It first promotes scheduled jobs that became due at now.
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] now (T)   ARGV[2] now+1µs (T)   ARGV[3] limit
-- ARGV[4] worker id ('' for none)   ARGV[5] '1': start them (running,
-- StartedAt now), else '0'   ARGV[6..] queues (none: every queue)
-- Returns the dispatched jobs' records, in order.
local K = jobkeys()
local now, limit, worker, start = ARGV[1], tonumber(ARGV[3]), ARGV[4], ARGV[5] == '1'
local B = batch(K, promote(K, ARGV[2]))

-- The queues asked for, or every queue; nothing writes readyq before the
-- end (flush), as the merge requires.
local lpqs = nil
if #ARGV >= 6 then
  lpqs = {}
  for i = 6, #ARGV do lpqs[#lpqs + 1] = lp(ARGV[i]) end
end
local M = merge(K, lpqs, limit)

-- Pending -> dispatched: attempt + 1, DispatchedAt now, the worker if one is
-- given; out of readyq and sched, into disp and wjobs, and into bystatus
-- under 'live' unless it has a ScheduledAt, which put it there already
-- (lib.lua's entries). A hot path of lib.lua: no flush between jobs. Started:
-- running instead, StartedAt now too, into run (with a timeout) for disp.
-- The head up to the worker field: status, attempt, DispatchedAt, and
-- StartedAt when started (kept from the record when not).
local lw = worker ~= '' and lp(worker)
local DIGITS = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9'}
local hset = B.hset
local readyq, sched = B.zrem.readyq, B.zrem.sched
local disp, wjobs, run, bys = B.zadd.disp, B.zadd.wjobs, B.zadd.run, B.zadd.bystatus
local code, times, rest = 'd', now, R_TA
if start then code, times, rest = 'r', now .. now, R_CO end
local nh, nq, ns, nd, nw_, nr, nb = 0, 0, 0, 0, 0, 0, 0
local out, n = {}, 0
-- With one source (one queue has ready jobs) the members taken are a run
-- from the start of its range until one is skipped: that run goes out with
-- one ZREMRANGEBYLEX from its first (lo) to its last (hi), cheaper than a ZREM argument per
-- job; what is taken after a skip goes to the ZREM.
local run1, lo, hi = M.n == 1, nil, nil
while n < limit do
  local ms, ids = take(M, limit - n)
  if #ids == 0 then break end
  -- readyq holds a job once and the merge reads each member once, so the
  -- ids are distinct: their records come straight from one HMGET, without
  -- the batch's table of records (no script here reads them again)
  local rs = hmget(K.jobs, ids)
  for i = 1, #ids do
    local id = ids[i]
    local r = rs[i]
    -- A ready job may be scheduled after now when a caller with a later
    -- clock promoted it; it is skipped, not taken.
    local due = r and byte(r, R_ST) == C_PENDING
    local sa = due and find(r, ZERO, R_SA, true) ~= R_SA and sub(r, R_SA, R_SA + 18)
    if due and (not sa or sa <= now) then
      local a, b, c = byte(r, R_VAR, R_VAR + 2)
      local pw = R_VAR + 3 + a * 100 + b * 10 + c - 5328
      a, b, c = byte(r, pw, pw + 2)
      local nw = a * 100 + b * 10 + c - 5328
      -- attempt + 1: unless it ends in 9, only its last digit changes
      -- (its first 18 digits and the last, joined in the record's one
      -- concatenation)
      local last, attempt, digit = byte(r, R_AT + 18), nil, nil
      if last < 57 then
        attempt, digit = sub(r, R_AT, R_AT + 17), DIGITS[last - 46]
      else
        attempt, digit = string.format('%019.0f', tonumber(sub(r, R_AT, R_AT + 18)) + 1), ''
      end
      local x
      if lw then
        x = code .. attempt .. digit .. times .. sub(r, rest, pw - 1) .. lw .. sub(r, pw + 3 + nw)
      else
        x = code .. attempt .. digit .. times .. sub(r, rest)
      end
      n = n + 1
      out[n] = x
      hset[nh + 1], hset[nh + 2] = id, x
      nh = nh + 2
      if run1 then
        lo = lo or ms[i]
        hi = ms[i]
      else
        nq = nq + 1
        readyq[nq] = ms[i]
      end
      if sa then
        ns = ns + 1
        sched[ns] = sa .. id
      else
        bys[nb + 1], bys[nb + 2] = '0', 'live:' .. sub(r, R_CA, R_ID + 35)
        nb = nb + 2
      end
      if not start then
        disp[nd + 1], disp[nd + 2] = '0', now .. id
        nd = nd + 2
      elseif find(r, ZERO, R_TO, true) ~= R_TO then
        run[nr + 1], run[nr + 2] = '0', addT(now, sub(r, R_TO, R_TO + 18)) .. id
        nr = nr + 2
      end
      if lw or nw > 0 then
        wjobs[nw_ + 1], wjobs[nw_ + 2] = '0', (lw or sub(r, pw, pw + 2 + nw)) .. id
        nw_ = nw_ + 2
      end
    else
      run1 = false
    end
  end
end
if lo then redis.call('ZREMRANGEBYLEX', K.readyq, '[' .. lo, '[' .. hi) end
flush(B)
return out
