-- mark_cleaned.lua sets ChannelsCleaned on the given jobs; missing ids are
-- ignored (J9).
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV: job ids
-- Returns 'OK'.
local K = jobkeys()
local B = batch(K, watermark(K))
prefetch(B, ARGV)
for i = 1, #ARGV do
  local id = ARGV[i]
  local r = load(B, id)
  if r and byte(r, R_CC) ~= 49 then
    put(B, id, sub(r, 1, R_CC - 1) .. '1' .. sub(r, R_CC + 1))
  end
end
flush(B)
return 'OK'
