-- mark_cleaned.lua sets ChannelsCleaned on the given jobs; missing ids are
-- ignored (J9).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV: job ids
-- Returns 'OK'.
local K = jobkeys()
local B = batch(K, watermark(K))
prefetch(B, ARGV)
for i = 1, #ARGV do
  local j = load(B, ARGV[i])
  if j and not j.cc then
    j.cc = '1'
    put(B, j)
  end
end
flush(B)
return 'OK'
