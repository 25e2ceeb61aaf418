-- Reserve one attempt on every counter at once, or on none while any is at its limit.
-- KEYS[1..n] counters (fixed windows)
-- ARGV[1] window (ms); ARGV[2..n+1] the limit of KEYS[1..n]
-- Returns 0 when reserved (each counter incremented, a new one expiring after the window),
-- otherwise the milliseconds until the last counter at its limit ends its window.
local wait = 0
for index, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[index + 1]) then
    local left = redis.call('PTTL', key)
    if left < 0 then
      left = tonumber(ARGV[1])
    end
    wait = math.max(wait, left, 1)
  end
end
if wait > 0 then
  return wait
end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then
    redis.call('PEXPIRE', key, ARGV[1])
  end
end
return 0
