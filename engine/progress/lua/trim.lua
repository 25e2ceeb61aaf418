-- Forget timeline segments the flusher has written to PostgreSQL.
-- KEYS[1] chapter state hash
-- ARGV[1] the closed segments written, as read from the hash's `closed` field
-- Returns how many were still there. Segments closed since stay; each is unique (its chapter
-- and start), so two flushers trimming the same ones remove them once.
local closed = redis.call('HGET', KEYS[1], 'closed')
if not closed then
  return 0
end
local removed = 0
local rest = ';' .. closed
for segment in string.gmatch(ARGV[1], '[^;]+') do
  local first, last = string.find(rest, ';' .. segment .. ';', 1, true)
  if first then
    rest = string.sub(rest, 1, first) .. string.sub(rest, last + 1)
    removed = removed + 1
  end
end
closed = string.sub(rest, 2)
redis.call('HSET', KEYS[1], 'closed', closed)
return removed
