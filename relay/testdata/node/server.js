'use strict';
// Reference Socket.IO v4 jam relay (Node), implementing /work/shared/PROTOCOL.md
// and the event:broadcast handler of story 7.3. Used as the baseline for
// benchmarks and to validate interop.js. Usage: PORT=0 QUIET=1 node server.js
// AUTH_SECRET=... makes every CONNECT present auth {token}: an HS256 JWT.
// With REDIS_URL=redis://HOST:PORT, several of them share events through
// @socket.io/redis-adapter (the benchmark's Node cluster): presence stays
// per process, so a join of a session made on another process is let in
// as a new local session (enough for the benchmark, not a full cluster).
const http = require('node:http');
const crypto = require('node:crypto');
const { Server } = require('socket.io');

const QUIET = process.env.QUIET === '1';
const PORT = Number(process.env.PORT ?? 3001);
const MAX_MEMBERS = 64;
const CODE_RE = /^[A-Za-z0-9-]{3,32}$/;
const ALPHABET = 'ABCDEFGHJKMNPQRSTVWXYZ23456789';
const FAILED_JOINS = Number(process.env.FAILED_JOINS ?? 10); // per client address per minute
const AUTH_SECRET = process.env.AUTH_SECRET ?? '';

const log = (line) => { if (!QUIET) console.log(line); };
const obj = (x) => (x && typeof x === 'object' && !Array.isArray(x) ? x : {});
const upper = (x) => (typeof x === 'string' ? x.toUpperCase() : '');

// roomCode -> Map(socketId -> {id, name, joinedAt, kind?})
const sessions = new Map();
// roomCode -> {salt, hash} of a private session's secret (never the secret itself)
const secrets = new Map();
// roomCode -> Set of client addresses its members came from
const known = new Map();
// client address -> {start, fails}: failed joins in the minute since start
const failures = new Map();

const hashSecret = (salt, secret) => crypto.createHash('sha256').update(salt).update(String(secret)).digest();
function admits(room, secret) {
  const k = secrets.get(room);
  if (!k) return true;
  return typeof secret === 'string' && crypto.timingSafeEqual(hashSecret(k.salt, secret), k.hash);
}
function limited(addr, now) {
  const f = failures.get(addr);
  if (!f || f.fails < FAILED_JOINS) return 0;
  const left = f.start + 60_000 - now;
  if (left <= 0) { failures.delete(addr); return 0; }
  return left;
}
function countFailure(addr, now) {
  let f = failures.get(addr);
  if (!f || now - f.start >= 60_000) { f = { start: now, fails: 0 }; failures.set(addr, f); }
  f.fails++;
}

// verifyToken checks an HS256 JWT; it returns its claims or throws the reason.
function verifyToken(token) {
  if (typeof token !== 'string' || !token) throw new Error('access token missing: connect with auth {token}');
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('access token malformed');
  let header, claims;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url'));
    claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
  } catch { throw new Error('access token malformed'); }
  const sig = crypto.createHmac('sha256', AUTH_SECRET).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (header.alg !== 'HS256' || given.length !== sig.length || !crypto.timingSafeEqual(given, sig)) {
    throw new Error('access token has a bad signature');
  }
  if (typeof claims.exp !== 'number') throw new Error('access token malformed');
  if (claims.exp * 1000 <= Date.now()) throw new Error('access token expired');
  return { room: upper(claims.room), name: typeof claims.name === 'string' ? claims.name : '' };
}

function newCode() {
  for (;;) {
    let s = '';
    for (let i = 0; i < 8; i++) s += ALPHABET[crypto.randomInt(ALPHABET.length)];
    const code = `${s.slice(0, 4)}-${s.slice(4)}`;
    if (!sessions.has(code)) return code;
  }
}

function participant(socket, a) {
  const name = socket.data.grant?.name || (typeof a.name === 'string' && a.name ? a.name : 'Player');
  const p = { id: socket.id, name, joinedAt: Date.now() };
  if (typeof a.kind === 'string' && a.kind) p.kind = a.kind;
  return p;
}

const REDIS_URL = process.env.REDIS_URL;
const httpServer = http.createServer();
const io = new Server(httpServer, { cors: { origin: '*' } });
if (AUTH_SECRET) {
  io.use((socket, next) => {
    try {
      socket.data.grant = verifyToken(socket.handshake.auth?.token);
      next();
    } catch (err) {
      next(err);
    }
  });
}

io.on('connection', (socket) => {
  // 'error' is not a reserved event name on either side in v4, so a plain emit works.
  const fail = (code, message) => socket.emit('error', { message, code });
  const addr = socket.handshake.address;
  // A refused create or join: an unknown code, a wrong secret or a taken
  // code counts against the address; over the limit, everything is
  // rate_limited.
  const refuse = (left, code, message) => {
    if (left > 0) return fail('rate_limited', `too many failed joins from your address: try again in ${Math.ceil(left / 1000)} s`);
    countFailure(addr, Date.now());
    return fail(code, message);
  };
  // The token's room claim: the only session the holder may enter.
  const allowed = (room) => {
    const only = socket.data.grant?.room;
    return !only || !room || room === only;
  };

  // Leave the current session, if any: the others get session:user-left.
  const leave = () => {
    const room = socket.data.room;
    if (!room) return null;
    socket.data.room = null;
    socket.leave(room);
    const members = sessions.get(room);
    if (members) {
      members.delete(socket.id);
      if (members.size === 0) {
        sessions.delete(room);
        secrets.delete(room);
        known.delete(room);
      }
      else io.to(room).emit('session:user-left', { userId: socket.id });
    }
    return room;
  };

  const enter = (room, p) => {
    if (!sessions.has(room)) sessions.set(room, new Map());
    if (!known.has(room)) known.set(room, new Set());
    known.get(room).add(addr);
    sessions.get(room).set(socket.id, p);
    socket.join(room);
    socket.data.room = room;
    return [...sessions.get(room).values()];
  };

  socket.on('session:create', (arg) => {
    const a = obj(arg);
    let room;
    if (a.roomCode !== undefined && a.roomCode !== null) {
      if (typeof a.roomCode !== 'string' || !CODE_RE.test(a.roomCode)) {
        return fail('bad_request', 'roomCode must be 3 to 32 letters, digits or -');
      }
      room = a.roomCode.toUpperCase();
    }
    if (!allowed(room)) return fail('forbidden', `your access token does not allow session ${room}`);
    room = room ?? (socket.data.grant?.room || undefined);
    if (room && sessions.has(room)) return refuse(limited(addr, Date.now()), 'session_exists', `Session ${room} already exists`);
    leave();
    room = room ?? newCode();
    if (typeof a.secret === 'string' && a.secret) {
      const salt = crypto.randomBytes(16);
      secrets.set(room, { salt, hash: hashSecret(salt, a.secret) });
    }
    const participants = enter(room, participant(socket, a));
    socket.emit('session:created', { roomCode: room, userId: socket.id, participants });
  });

  socket.on('session:join', (arg) => {
    const a = obj(arg);
    const room = upper(a.roomCode);
    if (!allowed(room)) return fail('forbidden', `your access token does not allow session ${room}`);
    if (REDIS_URL && !sessions.has(room) && CODE_RE.test(room)) sessions.set(room, new Map());
    const members = sessions.get(room);
    const left = limited(addr, Date.now());
    if (!members) return refuse(left, 'session_not_found', `Session ${a.roomCode} not found`);
    if (!admits(room, a.secret)) return refuse(left, 'forbidden', `Session ${room} is private: the secret is missing or wrong`);
    if (left > 0 && !known.get(room)?.has(addr)) return refuse(left);
    if (socket.data.room !== room) {
      if (members.size >= MAX_MEMBERS) return fail('session_full', `Session ${room} is full`);
      leave();
      const p = participant(socket, a);
      enter(room, p);
      socket.to(room).emit('session:user-joined', { user: p });
    }
    const participants = [...sessions.get(room).values()];
    socket.emit('session:joined', { roomCode: room, participants, userId: socket.id });
  });

  socket.on('session:leave', (arg) => {
    const room = upper(obj(arg).roomCode);
    if (!room || socket.data.room !== room) {
      return fail('not_in_session', `Not in session ${obj(arg).roomCode}`);
    }
    leave();
    socket.emit('session:left', { roomCode: room });
  });

  // Story 7.3 handler, with the room code matched without regard to case.
  socket.on('event:broadcast', (arg) => {
    const { roomCode, eventName, payload, seq } = obj(arg);
    const room = upper(roomCode);
    if (!room || socket.data.room !== room || !socket.rooms.has(room)) {
      log(`User ${socket.id} tried to broadcast to ${roomCode} but is not a member`);
      return;
    }
    const msg = { eventName, payload, senderId: socket.id };
    if (seq !== undefined) msg.seq = seq;
    msg.serverTime = Date.now();
    socket.to(room).emit('event:broadcast', msg);
    log(`Event broadcasted in ${room}: ${eventName} from ${socket.id}`);
  });

  socket.on('clock:sync', (arg, ack) => {
    if (typeof arg === 'function') [arg, ack] = [undefined, arg]; // ack without an argument
    if (typeof ack === 'function') ack({ t0: obj(arg).t0, serverTime: Date.now() });
  });

  socket.on('disconnect', () => { leave(); });
});

async function listen() {
  if (REDIS_URL) {
    const { createClient } = require('redis');
    const { createShardedAdapter } = require('@socket.io/redis-adapter');
    const pub = createClient({ url: REDIS_URL });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    // Sharded pub/sub (SPUBLISH, Redis 7): a channel per room, as jamrelay
    // has a channel per session.
    io.adapter(createShardedAdapter(pub, sub, { subscriptionMode: 'dynamic' }));
  }
  httpServer.listen(PORT, () => {
    console.log(`listening ${httpServer.address().port}`);
  });
}
listen().catch((e) => { console.error(e); process.exit(1); });

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
