-- Give back one reserved attempt on every counter (it turned out to be no failure).
-- KEYS[1..n] counters
-- A counter whose window has ended since is left alone: DECR would recreate it without a TTL.
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then
    redis.call('DECR', key)
  end
end
return 0
