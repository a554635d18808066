/**
 * The swap: puts a staged version live in one atomic step. Kept as a TS constant so the build
 * ships it without copying assets.
 *
 * It is O(languages), never O(words): consumers read continuously and Redis runs a script to the
 * end before serving anyone, so no hash contents are copied here. The old live hash is UNLINKed
 * first (freed on the lazy-free thread) so that RENAME lands on an absent key; RENAME over a big
 * hash would free it synchronously, inside the script.
 *
 * KEYS[1]              P:meta
 * KEYS[2]              P:versions
 * KEYS[3]              P:v:<version>:meta
 * KEYS[4+3i .. 6+3i]   for each new language i = 0 .. n-1:
 *                        P:staging:<runId>:<lang>, P:<lang>, P:v:<version>:<lang>
 * KEYS[4+3n ..]        P:<lang> of each language live now and absent from the new version
 *
 * ARGV[1]   fencing token of this swap
 * ARGV[2]   P:meta `fence` as the caller read it when choosing the vanished languages
 * ARGV[3]   n, the number of new languages
 * ARGV[4]   the version going live
 * ARGV[5]   its P:versions score (published epoch seconds); '' for a rollback (already listed)
 * ARGV[6]   channel P:updates
 * ARGV[7]   message for that channel
 * ARGV[8 ..] field, value pairs of the new P:meta, except fence and the counters
 *
 * Returns { 1 }               swapped
 *         { -1, liveFence }   the token is not newer than the live one: a newer swap won
 *         { -2, key }         a staging hash, version copy or version meta is missing (expired)
 *         { -3, liveFence }   P:meta moved since the caller read it: re-read and retry
 *
 * Every key is in KEYS, so with a hash-tagged prefix the script is valid on Redis Cluster.
 */
export const SWAP_SCRIPT = `
local meta = KEYS[1]
local token = tonumber(ARGV[1])
local expected = tonumber(ARGV[2])
local n = tonumber(ARGV[3])

local live_fence = tonumber(redis.call('HGET', meta, 'fence') or '0')
if token <= live_fence then return { -1, live_fence } end
if live_fence ~= expected then return { -3, live_fence } end

if redis.call('EXISTS', KEYS[3]) == 0 then return { -2, KEYS[3] } end
for i = 0, n - 1 do
  local base = 4 + 3 * i
  if redis.call('EXISTS', KEYS[base]) == 0 then return { -2, KEYS[base] } end
  if redis.call('EXISTS', KEYS[base + 2]) == 0 then return { -2, KEYS[base + 2] } end
end

for i = 0, n - 1 do
  local base = 4 + 3 * i
  redis.call('UNLINK', KEYS[base + 1])
  redis.call('RENAME', KEYS[base], KEYS[base + 1])
  redis.call('PERSIST', KEYS[base + 1])
  redis.call('PERSIST', KEYS[base + 2])
end
redis.call('PERSIST', KEYS[3])
for k = 4 + 3 * n, #KEYS do
  redis.call('UNLINK', KEYS[k])
end

local fields = { 'fence', ARGV[1] }
for a = 8, #ARGV do
  fields[#fields + 1] = ARGV[a]
end
for _, counter in ipairs({ 'versionSeq', 'fenceSeq' }) do
  local value = redis.call('HGET', meta, counter)
  if value then
    fields[#fields + 1] = counter
    fields[#fields + 1] = value
  end
end
redis.call('DEL', meta)
redis.call('HSET', meta, unpack(fields))

if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
end
redis.call('PUBLISH', ARGV[6], ARGV[7])
return { 1 }
`;
