-- Take the learner's playback lease for a chapter and (re)start its validated state.
-- KEYS[1] lease hash, KEYS[2] chapter state hash
-- ARGV[1] connection id, ARGV[2] node id, ARGV[3] chapter id, ARGV[4] duration (s),
-- ARGV[5] max rate, ARGV[6] hwm stored in PostgreSQL, ARGV[7] position stored in PostgreSQL,
-- ARGV[8] requested start position (-1: resume), ARGV[9] now (ms), ARGV[10] TTL (ms),
-- ARGV[11] completion tolerance (s), ARGV[12] playback seconds until the next check-in
-- ('': none), ARGV[13] a new check-in id, ARGV[14] how long a check-in may be answered (ms)
-- Returns {previous conn, previous node, hwm, position, complete, check id or '', check expiry
-- (ms) or ''}: the check-in still waiting for its answer, which this socket must show.
local previous = redis.call('HMGET', KEYS[1], 'conn', 'node', 'check', 'check_exp')
local check, expires = previous[3], previous[4]
if check and tonumber(ARGV[9]) >= tonumber(expires) then
  -- Unanswered in time: still no credit, and the learner is asked again, under a new id.
  check, expires = ARGV[13], tostring(tonumber(ARGV[9]) + tonumber(ARGV[14]))
  redis.call('HSET', KEYS[1], 'check', check, 'check_exp', expires)
end
redis.call('HSET', KEYS[1], 'conn', ARGV[1], 'node', ARGV[2], 'chapter', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[10])

local dur = tonumber(ARGV[4])
local stored = redis.call('HMGET', KEYS[2], 'hwm', 'pos', 'at', 'sf', 'sc', 'sr', 'closed')
-- Redis may be ahead of PostgreSQL (the flusher lags); never move backwards.
local hwm = math.min(dur, math.max(tonumber(stored[1] or 0), tonumber(ARGV[6])))
local pos = tonumber(stored[2] or ARGV[7])
local requested = tonumber(ARGV[8])
if requested >= 0 then
  pos = requested
end
-- Playback may start anywhere already watched, never beyond.
pos = math.max(0, math.min(pos, hwm))
local complete = 0
if hwm >= dur - tonumber(ARGV[11]) then
  complete = 1
end
-- The previous playback's open timeline segment ends where its last beat was.
-- One without length keeps going if it holds credit and time has not moved (a segment's
-- start is its key), and is dropped if it holds none.
local sf, sc, sr, closed = stored[4] or '', stored[5] or '0', stored[6] or '', stored[7] or ''
local last = tonumber(stored[3] or 0)
if sf ~= '' and (tonumber(sf) < last or (tonumber(sc) > 0 and tonumber(ARGV[9]) > last)) then
  closed = closed .. sf .. ',' .. stored[3] .. ',' .. sc .. ',' .. sr .. ';'
  sf, sc, sr = '', '0', ''
elseif tonumber(sc) == 0 then
  sf = ''
end
redis.call('HSET', KEYS[2],
  'hwm', tostring(hwm), 'pos', tostring(pos), 'dur', ARGV[4], 'rate', ARGV[5],
  'seq', '0', 'at', ARGV[9], 'budget', '0', 'active', '1', 'idle', '', 'complete', complete,
  'due', ARGV[12], 'blur', '', 'sf', sf, 'sc', sc, 'sr', sr, 'closed', closed)
redis.call('PEXPIRE', KEYS[2], ARGV[10])
return {previous[1] or '', previous[2] or '', tostring(hwm), tostring(pos), complete,
  check or '', expires or ''}
