-- Store one answer or flag of an attempt that is still open.
-- KEYS[1] attempt hash, KEYS[2] answers hash, KEYS[3] flags set
-- ARGV[1] question id, ARGV[2] operation: 'answer' | 'flag' | 'unflag',
-- ARGV[3] answer (JSON list of shown keys; '' unless answering), ARGV[4] now (ms),
-- ARGV[5] grace (ms), ARGV[6] how long to keep the drafts after the deadline (ms)
-- Returns 'ok', 'missing', 'submitted' or 'deadline_passed'.
local state = redis.call('HMGET', KEYS[1], 'status', 'deadline')
if not state[1] then
  return 'missing'
end
if state[1] ~= 'in_progress' then
  return 'submitted'
end
local now = tonumber(ARGV[4])
local deadline = tonumber(state[2])
if now > deadline + tonumber(ARGV[5]) then
  return 'deadline_passed'
end
local ttl = deadline + tonumber(ARGV[5]) + tonumber(ARGV[6]) - now
if ARGV[2] == 'answer' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ttl)
elseif ARGV[2] == 'flag' then
  redis.call('SADD', KEYS[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[3], ttl)
else
  redis.call('SREM', KEYS[3], ARGV[1])
end
return 'ok'
