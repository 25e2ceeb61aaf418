-- Reserve one attempt on a counter, unless it is at its limit.
-- KEYS[1] counter (fixed window)
-- ARGV[1] window (ms), ARGV[2] limit
-- Returns 0 when reserved (the counter incremented, a new one expiring after the window),
-- otherwise the milliseconds until the counter ends its window.
-- One counter a call: an attempt's counters (account, address…) lie in different Redis
-- Cluster slots, and a script may take keys of one slot only (engine/throttle.py).
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[2]) then
  local left = redis.call('PTTL', KEYS[1])
  if left < 0 then
    left = tonumber(ARGV[1])
  end
  return math.max(left, 1)
end
if redis.call('INCR', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 0
