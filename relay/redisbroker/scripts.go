package redisbroker

import "github.com/redis/go-redis/v9"

// Keys, under Options.Prefix (default "jam:"):
//
//	s:<code>   hash: member id -> "<node>|<participant JSON>". The session
//	           exists while it has a member: the hash is its code's claim.
//	k:<code>   hash: salt, sum: a private session's key (hex), never the
//	           secret; absent for an open session. Goes with s:<code>.
//	a:<code>   set: hashes of the client addresses members came from
//	           (at most maxKnownAddrs); goes with s:<code>.
//	nm:<node>  hash: member id -> code, the members a node holds.
//	hb:<node>  the node's heartbeat, expiring after heartbeatTTL.
//	nodes      set of the node ids that hold members or did.
//	ev:<code>  the session's pub/sub channel.
//
// The scripts name keys built from their arguments (a dead node's
// sessions), so the cluster needs one Redis server, not Redis Cluster.

// joinScript adds a member. KEYS: s:<code>, nm:<node>, k:<code>,
// a:<code>. ARGV: 1 id, 2 stored value, 3 code, 4 channel, 5 the join
// message, 6 the members limit, 7 mode, 8 salt, 9 sum, 10 the client
// address's hash ("" for none), 11 "1" when that address is over its
// node's failed-join limit, 12 maxKnownAddrs.
//
// Modes: "create" (the code must be free; salt and sum, hex, are the
// new session's key, "" for an open one), "join" (the session must
// exist; salt is the one the proof in sum was made with; checks in
// order: the secret, the limit of failed joins, the members limit) and
// "assert" (a re-assertion: no checks; the key is set when the session
// has none). A join offering a proof made with another salt (or none)
// gets "salt" and the stored salt, to try again with; a wrong proof
// "forbidden"; a limited address no member came from "limited". The
// proof and the stored sum are compared through sha1hex of each, so the
// comparison's timing tells nothing of the stored sum. A join publishes
// the join message and returns "ok", the stored salt and sum ("" when
// open) and every stored member. Nothing is written or published before
// every check passed.
var joinScript = redis.NewScript(`
local exists = redis.call('EXISTS', KEYS[1]) == 1
local mode = ARGV[7]
if mode == 'create' then
  if exists then return {'taken'} end
  redis.call('DEL', KEYS[3], KEYS[4])
  if ARGV[8] ~= '' then redis.call('HSET', KEYS[3], 'salt', ARGV[8], 'sum', ARGV[9]) end
elseif mode == 'join' then
  if not exists then return {'notfound'} end
  local key = redis.call('HMGET', KEYS[3], 'salt', 'sum')
  if key[1] then
    if key[1] ~= ARGV[8] then return {'salt', key[1]} end
    if redis.sha1hex(key[2]) ~= redis.sha1hex(ARGV[9]) then return {'forbidden'} end
  end
  if ARGV[11] == '1' and redis.call('SISMEMBER', KEYS[4], ARGV[10]) == 0 then return {'limited'} end
  if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[6]) then
    return {'full'}
  end
elseif ARGV[8] ~= '' and redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('HSET', KEYS[3], 'salt', ARGV[8], 'sum', ARGV[9])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if ARGV[10] ~= '' and redis.call('SCARD', KEYS[4]) < tonumber(ARGV[12]) then
  redis.call('SADD', KEYS[4], ARGV[10])
end
if mode == 'create' then return {'ok'} end
redis.call('PUBLISH', ARGV[4], ARGV[5])
local key = redis.call('HMGET', KEYS[3], 'salt', 'sum')
local out = redis.call('HVALS', KEYS[1])
table.insert(out, 1, key[2] or '')
table.insert(out, 1, key[1] or '')
table.insert(out, 1, 'ok')
return out
`)

// leaveScript removes a member and publishes its leave; the session's
// key and addresses go with its last member. KEYS: s:<code>, nm:<node>,
// k:<code>, a:<code>. ARGV: id, channel, the leave message, code. The
// node's index keeps the member when it points at another session: one
// it moved to (a member joins the new session before leaving the old).
const leaveScript = `
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('DEL', KEYS[3], KEYS[4]) end
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
  if redis.call('EXISTS', ARGV[2] .. 's:' .. all[i+1]) == 0 then
    redis.call('DEL', ARGV[2] .. 'k:' .. all[i+1], ARGV[2] .. 'a:' .. all[i+1])
  end
  redis.call('PUBLISH', ARGV[2] .. 'ev:' .. all[i+1], 'l' .. ARGV[1] .. '|' .. all[i])
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return #all / 2
`)
