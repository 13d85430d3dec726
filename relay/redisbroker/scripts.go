package redisbroker

import "github.com/redis/go-redis/v9"

// Keys, under Options.Prefix (default "jam:"):
//
//	s:<code>   hash: member id -> "<node>|<participant JSON>". The session
//	           exists while it has a member: the hash is its code's claim.
//	nm:<node>  hash: member id -> code, the members a node holds.
//	hb:<node>  the node's heartbeat, expiring after heartbeatTTL.
//	nodes      set of the node ids that hold members or did.
//	ev:<code>  the session's pub/sub channel.
//
// The scripts name keys built from their arguments (a dead node's
// sessions), so the cluster needs one Redis server, not Redis Cluster.

// joinScript adds a member. KEYS: s:<code>, nm:<node>. ARGV: id, stored
// value, code, channel, the join message, the members limit, mode:
// "create" (the code must be free), "join" (it must exist, within the
// limit) or "assert" (a re-assertion: no checks). A join publishes the
// join message and returns "ok" and every stored member.
var joinScript = redis.NewScript(`
local exists = redis.call('EXISTS', KEYS[1]) == 1
if ARGV[7] == 'create' and exists then return {'taken'} end
if ARGV[7] == 'join' then
  if not exists then return {'notfound'} end
  if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[6]) then
    return {'full'}
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if ARGV[7] == 'create' then return {'ok'} end
redis.call('PUBLISH', ARGV[4], ARGV[5])
local out = redis.call('HVALS', KEYS[1])
table.insert(out, 1, 'ok')
return out
`)

// leaveScript removes a member and publishes its leave. KEYS:
// s:<code>, nm:<node>. ARGV: id, channel, the leave message, code. The
// node's index keeps the member when it points at another session: one
// it moved to (a member joins the new session before leaving the old).
const leaveScript = `
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[4] then
  redis.call('HDEL', KEYS[2], ARGV[1])
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`

// heartbeatScript refreshes a node's heartbeat. KEYS: hb:<node>, nodes.
// ARGV: node, TTL in ms. It returns 1 when the heartbeat was still
// there, 0 when it had expired or Redis restarted empty: then the node
// must re-assert its members.
var heartbeatScript = redis.NewScript(`
local alive = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return alive
`)

// sweepScript removes a dead node: each of its members from its session,
// with a leave published to the session's channel, then the node. KEYS:
// hb:<node>, nm:<node>, nodes. ARGV: node, prefix. It does nothing while
// the heartbeat lives, so of several nodes sweeping one wins.
var sweepScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  redis.call('HDEL', ARGV[2] .. 's:' .. all[i+1], all[i])
  redis.call('PUBLISH', ARGV[2] .. 'ev:' .. all[i+1], 'l' .. ARGV[1] .. '|' .. all[i])
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return #all / 2
`)
