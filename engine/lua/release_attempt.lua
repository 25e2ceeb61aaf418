-- Give back one reserved attempt on a counter (it turned out to be no failure, or another
-- counter of the attempt refused it).
-- KEYS[1] counter
-- A counter whose window has ended since is left alone: DECR would recreate it without a TTL.
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  redis.call('DECR', KEYS[1])
end
return 0
