-- Close an attempt to further answers and return its drafts for grading. Idempotent, so
-- nodes racing to submit the same attempt all read the same drafts.
-- KEYS[1] attempt hash, KEYS[2] answers hash, KEYS[3] flags set
-- Returns {found (1 or 0), answers as a flat list of question, JSON, ..., flagged questions}.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, {}, {}}
end
redis.call('HSET', KEYS[1], 'status', 'submitted')
return {1, redis.call('HGETALL', KEYS[2]), redis.call('SMEMBERS', KEYS[3])}
