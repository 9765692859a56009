-- mark_cleaned.lua sets ChannelsCleaned on the given jobs; missing ids are
-- ignored (J9).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV: job ids
-- Returns 'OK'.
local K = jobkeys()
local wm = watermark(K)
for i = 1, #ARGV do
  local j = loadJob(K, ARGV[i])
  if j and not j.cc then
    unindex(K, j)
    j.cc = '1'
    index(K, j, wm)
    save(K, j)
  end
end
return 'OK'
