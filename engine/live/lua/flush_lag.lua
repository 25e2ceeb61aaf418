-- How far the flushers are behind: the progress stream's length and the age of its oldest
-- entry, by the clock of the Redis that holds the stream (entry ids are that clock's ms).
-- Flushed entries are deleted, so the oldest left is the oldest not yet in PostgreSQL.
-- KEYS[1] the progress stream
-- Returns {entries, age of the oldest in ms (0 when empty)}.
local length = redis.call('XLEN', KEYS[1])
local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #oldest == 0 then
  return {length, 0}
end
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local entry_ms = tonumber(string.match(oldest[1][1], '^(%d+)'))
return {length, math.max(0, now_ms - entry_ms)}
