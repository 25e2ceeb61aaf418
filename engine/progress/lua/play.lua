-- Take the learner's playback lease for a chapter and (re)start its validated state.
-- KEYS[1] lease hash, KEYS[2] chapter state hash
-- ARGV[1] connection id, ARGV[2] node id, ARGV[3] chapter id, ARGV[4] duration (s),
-- ARGV[5] max rate, ARGV[6] hwm stored in PostgreSQL, ARGV[7] position stored in PostgreSQL,
-- ARGV[8] requested start position (-1: resume), ARGV[9] now (ms), ARGV[10] TTL (ms),
-- ARGV[11] completion tolerance (s)
-- Returns {previous conn, previous node, hwm, position, complete}.
local previous = redis.call('HMGET', KEYS[1], 'conn', 'node')
redis.call('HSET', KEYS[1], 'conn', ARGV[1], 'node', ARGV[2], 'chapter', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[10])

local dur = tonumber(ARGV[4])
local stored = redis.call('HMGET', KEYS[2], 'hwm', 'pos')
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
redis.call('HSET', KEYS[2],
  'hwm', tostring(hwm), 'pos', tostring(pos), 'dur', ARGV[4], 'rate', ARGV[5],
  'seq', '0', 'at', ARGV[9], 'budget', '0', 'active', '1', 'idle', '', 'complete', complete)
redis.call('PEXPIRE', KEYS[2], ARGV[10])
return {previous[1] or '', previous[2] or '', tostring(hwm), tostring(pos), complete}
