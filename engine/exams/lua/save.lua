-- Store one answer or flag of an attempt that is still open, unless a later frame of it
-- (a higher seq) is stored already: a late frame of an old socket or another tab.
-- KEYS[1] attempt hash, KEYS[2] answers hash, KEYS[3] flags set
-- ARGV[1] question id, ARGV[2] operation: 'answer' | 'flag' | 'unflag',
-- ARGV[3] answer (JSON list of shown keys; '' unless answering), ARGV[4] now (ms),
-- ARGV[5] grace (ms), ARGV[6] how long to keep the drafts after the deadline (ms),
-- ARGV[7] the frame's seq ('' for a flag sent without one: stored whatever came before)
-- The attempt hash keeps the seq stored for each answer (`answer_seq:<question>`) and
-- each flag (`flag_seq:<question>`). A lower seq is stale; the same seq is the frame
-- stored already, sent again (nothing rewritten), or stale if it says something else.
-- Returns 'ok', 'stale', 'missing', 'submitted' or 'deadline_passed'.
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
local answering = ARGV[2] == 'answer'
if ARGV[7] ~= '' then
  local field = (answering and 'answer_seq:' or 'flag_seq:') .. ARGV[1]
  local seq = tonumber(ARGV[7])
  local stored = tonumber(redis.call('HGET', KEYS[1], field))
  if stored and seq < stored then
    return 'stale'
  end
  if stored and seq == stored then
    local same
    if answering then
      same = redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[3]
    else
      same = (redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1) == (ARGV[2] == 'flag')
    end
    return same and 'ok' or 'stale'
  end
  redis.call('HSET', KEYS[1], field, ARGV[7])
end
local ttl = deadline + tonumber(ARGV[5]) + tonumber(ARGV[6]) - now
if answering then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ttl)
elseif ARGV[2] == 'flag' then
  redis.call('SADD', KEYS[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[3], ttl)
else
  redis.call('SREM', KEYS[3], ARGV[1])
end
return 'ok'
