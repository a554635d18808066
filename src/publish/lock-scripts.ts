/**
 * The run lock's compare-and-act scripts. A plain PEXPIRE or DEL could act on a lock that expired
 * and was taken by another run in the meantime; comparing the stored value first, inside Redis,
 * makes "is it still mine?" and the action one step.
 *
 * The value compared is the whole holder record the owner wrote (a JSON string with its random
 * token), so no JSON parsing happens in Lua.
 */

/**
 * KEYS[1]  P:lock
 * ARGV[1]  the holder record this owner wrote
 * ARGV[2]  new time to live in milliseconds
 *
 * Returns 1 when the lock was still this owner's and its TTL was reset, 0 when it is gone or
 * someone else's (nothing changed then).
 */
export const RENEW_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

/**
 * KEYS[1]  P:lock
 * ARGV[1]  the holder record this owner wrote
 *
 * Returns 1 when the lock was this owner's and is deleted, 0 when it is gone or someone else's
 * (left as it is).
 */
export const RELEASE_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;
