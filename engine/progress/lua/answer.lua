-- Answer the learner's check-in: single-use, and only from the socket holding the lease.
-- KEYS[1] lease hash, KEYS[2] state hash of the chapter that socket plays
-- ARGV[1] connection id, ARGV[2] check-in id, ARGV[3] now (ms), ARGV[4] playback seconds
-- until the next check-in ('': none)
-- Returns 'ok', 'unknown' (no such check-in for this socket: forged, replayed, or taken over
-- by another socket) or 'expired' (too late: a new `play` asks again).
--
-- Time from the last beat until now waited for the answer: it ends the timeline's open
-- segment as `check_pending`, and the next beat counts from now, so none of it earns.
local lease = redis.call('HMGET', KEYS[1], 'conn', 'check', 'check_exp')
if lease[1] ~= ARGV[1] or lease[2] ~= ARGV[2] then
  return 'unknown'
end
local now = tonumber(ARGV[3])
if now >= tonumber(lease[3]) then
  return 'expired'
end
redis.call('HDEL', KEYS[1], 'check', 'check_exp')
local s = redis.call('HMGET', KEYS[2], 'at', 'sf', 'sc', 'sr')
if not s[1] then
  return 'ok'
end
local at = tonumber(s[1])
local sf, sc, sr = s[2] or '', s[3] or '0', s[4] or ''
if now > at and sr ~= 'check_pending' then
  if sf ~= '' and tonumber(sf) < at then
    local closed = redis.call('HGET', KEYS[2], 'closed') or ''
    redis.call('HSET', KEYS[2], 'closed', closed .. sf .. ',' .. s[1] .. ',' .. sc .. ',' .. sr .. ';')
    sf, sc = s[1], '0'
  elseif sf == '' then
    sf, sc = s[1], '0'
  end
  sr = 'check_pending'
end
redis.call('HSET', KEYS[2], 'at', tostring(math.max(now, at)), 'due', ARGV[4],
  'sf', sf, 'sc', sc, 'sr', sr)
return 'ok'
