-- Renew a session on use: idle timeout, capped by the absolute timeout.
-- KEYS[1] session hash
-- ARGV[1] now (ms), ARGV[2] idle timeout (ms), ARGV[3] absolute timeout (ms)
-- Returns 1 when the session is alive (and renewed), 0 when it is gone or expired.
local created = tonumber(redis.call('HGET', KEYS[1], 'created_ms'))
if not created then
  return 0
end
local now = tonumber(ARGV[1])
local left = created + tonumber(ARGV[3]) - now
if left <= 0 then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[2]), left))
return 1
