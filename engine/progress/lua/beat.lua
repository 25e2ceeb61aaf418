-- Validate one heartbeat (DESIGN.md, the progress core, rules 1-5) and credit what it earns.
-- KEYS[1] lease hash, KEYS[2] chapter state hash
-- ARGV[1] connection id, ARGV[2] chapter id, ARGV[3] seq, ARGV[4] position (s),
-- ARGV[5] playing (1/0), ARGV[6] focused and visible (1/0), ARGV[7] client playback rate,
-- ARGV[8] now (ms, server clock), ARGV[9] seek tolerance (s), ARGV[10] gap cap (s),
-- ARGV[11] budget cap (s), ARGV[12] completion tolerance (s), ARGV[13] TTL (ms),
-- ARGV[14] release the lease afterwards (1/0: `stop`), ARGV[15] the id of a check-in, should
-- this beat ask for one, ARGV[16] how long a check-in may be answered (ms), ARGV[17] blur
-- grace (ms), ARGV[18] the least time between two graces (ms)
-- Returns {reason, credited, hwm, position, seek_to or '', complete, duration, check id or '',
-- check expiry (ms) or ''}; reason is '' when the beat earned credit, the check fields are set
-- when this beat asked for a check-in. Floats travel as strings: Redis would truncate numbers.
--
-- Credit comes out of a budget that only server time fills: elapsed seconds x max rate,
-- and only for an interval the previous beat declared playing, focused and visible, with no
-- check-in waiting for its answer. So whatever the client says, total credit never exceeds
-- active server time x max rate. A blur shorter than the grace, ended by this beat, counts
-- as focused, once per grace window (the lease's `graced`: per learner, whatever chapter).
-- Check-ins: `due` counts down the playback seconds until the next one; at zero this beat asks
-- for it (the lease's `check`), and no beat earns until `answer.lua` clears it.
-- Timeline: consecutive beats with the same reason extend the open segment (sf from, sc
-- credited, sr reason; it ends at `at`); another reason closes it onto `closed`, which the
-- flusher writes to PostgreSQL and trims (`trim.lua`).
local lease = redis.call('HMGET', KEYS[1], 'conn', 'chapter', 'check', 'graced')
if lease[1] ~= ARGV[1] or lease[2] ~= ARGV[2] then
  return {'superseded', '0', '0', '0', '', 0, '0', '', ''}
end
local s = redis.call('HMGET', KEYS[2],
  'hwm', 'pos', 'dur', 'rate', 'seq', 'at', 'budget', 'active', 'idle', 'complete', 'due',
  'blur', 'sf', 'sc', 'sr')
if not s[3] then
  return {'superseded', '0', '0', '0', '', 0, '0', '', ''}
end
local hwm, pos, dur, rate = tonumber(s[1]), tonumber(s[2]), tonumber(s[3]), tonumber(s[4])
local last_seq, at, budget = tonumber(s[5]), tonumber(s[6]), tonumber(s[7])
local was_active, idle = s[8] == '1', s[9]
local seq = tonumber(ARGV[3])
if seq <= last_seq then
  return {'replay', '0', s[1], s[2], '', tonumber(s[10]), s[3], '', ''}
end
local now = tonumber(ARGV[8])
local tolerance, gap_cap = tonumber(ARGV[9]), tonumber(ARGV[10])
local budget_cap, end_tolerance = tonumber(ARGV[11]), tonumber(ARGV[12])
local playing, focused = ARGV[5] == '1', ARGV[6] == '1'

local reason = ''
local elapsed = math.max(0, (now - at) / 1000)
local counted = 0  -- seconds of attentive playback this beat accounts for
if elapsed > gap_cap then
  reason = 'gap'
elseif lease[3] then
  reason = 'check_pending'
elseif was_active then
  counted = elapsed
elseif idle == 'unfocused' and focused and s[12] and now - tonumber(s[12]) <= tonumber(ARGV[17])
    and now - tonumber(lease[4] or 0) >= tonumber(ARGV[18]) then
  -- A short blur (a system notification) is over: the whole blur counts, beats within included.
  counted = (now - tonumber(s[12])) / 1000
  redis.call('HSET', KEYS[1], 'graced', ARGV[8])
else
  reason = idle
end
budget = math.min(budget_cap, budget + counted * rate)

local position = math.max(0, math.min(tonumber(ARGV[4]), dur))
local advance = position - pos
local credited = 0
local seek_to = ''
if advance > budget + tolerance then
  -- Further than the time could have played: a forward seek (or a too fast player).
  if position > hwm + tolerance then
    seek_to, pos = tostring(hwm), hwm
    if reason == 'gap' or reason == 'check_pending' then
      -- The player ran on while nothing reached the server, or while a check-in waited.
    elseif tonumber(ARGV[7]) > rate + 0.01 then reason = 'too_fast' else reason = 'seek' end
  else
    pos = position
    if reason ~= 'gap' and reason ~= 'check_pending' then reason = 'seek' end
  end
elseif advance < -tolerance then
  pos = position
  if reason ~= 'gap' and reason ~= 'check_pending' then reason = 'seek' end
else
  -- Continuous playback. Only ground that joins what was already reached counts.
  if reason == '' and pos <= hwm + tolerance then
    local gain = math.min(position - hwm, budget)
    if gain > 0 then
      credited, hwm, budget = gain, hwm + gain, budget - gain
    end
  end
  pos = position
  if pos > hwm + tolerance then
    -- Ahead of validated playback (played while paused or unfocused, or too fast).
    seek_to, pos = tostring(hwm), hwm
    if reason == '' then reason = 'too_fast' end
  end
end

local complete = 0
if hwm >= dur - end_tolerance then complete = 1 end
if credited == 0 and reason == '' then
  if complete == 1 then reason = 'complete' else reason = 'rewatch' end
end
local next_idle = ''
if not playing then next_idle = 'paused' elseif not focused then next_idle = 'unfocused' end
local active = '0'
if next_idle == '' then active = '1' end
local blur = s[12] or ''
if next_idle == 'unfocused' and idle ~= 'unfocused' then blur = ARGV[8] end

local due, check, expires = s[11] or '', '', ''
if due ~= '' and counted > 0 then
  due = tonumber(due) - counted
  if due <= 0 then
    check, expires, due = ARGV[15], tostring(now + tonumber(ARGV[16])), ''
    redis.call('HSET', KEYS[1], 'check', check, 'check_exp', expires)
  end
end

local sf, sc, sr = s[13], tonumber(s[14] or 0), s[15]
if not sf or sf == '' then
  sf, sc, sr = s[6], credited, reason
elseif sr == reason then
  sc = sc + credited
elseif tonumber(sf) < at then
  local closed = redis.call('HGET', KEYS[2], 'closed') or ''
  redis.call('HSET', KEYS[2], 'closed', closed .. sf .. ',' .. s[6] .. ',' .. s[14] .. ',' .. sr .. ';')
  sf, sc, sr = s[6], credited, reason
else
  -- Nothing of the open segment has length yet: it takes this beat's reason.
  sc, sr = sc + credited, reason
end

redis.call('HSET', KEYS[2],
  'hwm', tostring(hwm), 'pos', tostring(pos), 'seq', ARGV[3], 'at', ARGV[8],
  'budget', tostring(budget), 'active', active, 'idle', next_idle, 'complete', complete,
  'due', tostring(due), 'blur', blur, 'sf', sf, 'sc', tostring(sc), 'sr', sr)
redis.call('PEXPIRE', KEYS[2], ARGV[13])
if ARGV[14] == '1' then
  -- The check-in and the grace stay with the learner: `stop` and `play` do not clear them.
  redis.call('HDEL', KEYS[1], 'conn', 'node', 'chapter')
else
  redis.call('PEXPIRE', KEYS[1], ARGV[13])
end
return {reason, tostring(credited), tostring(hwm), tostring(pos), seek_to, complete, s[3],
  check, expires}
