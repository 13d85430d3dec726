'use strict';
// Reference Socket.IO v4 jam relay (Node), implementing /work/shared/PROTOCOL.md
// and the event:broadcast handler of story 7.3. Used as the baseline for
// benchmarks and to validate interop.js. Usage: PORT=0 QUIET=1 node server.js
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

const log = (line) => { if (!QUIET) console.log(line); };
const obj = (x) => (x && typeof x === 'object' && !Array.isArray(x) ? x : {});
const upper = (x) => (typeof x === 'string' ? x.toUpperCase() : '');

// roomCode -> Map(socketId -> {id, name, joinedAt, kind?})
const sessions = new Map();

function newCode() {
  for (;;) {
    let s = '';
    for (let i = 0; i < 8; i++) s += ALPHABET[crypto.randomInt(ALPHABET.length)];
    const code = `${s.slice(0, 4)}-${s.slice(4)}`;
    if (!sessions.has(code)) return code;
  }
}

function participant(socket, a) {
  const p = { id: socket.id, name: typeof a.name === 'string' && a.name ? a.name : 'Player', joinedAt: Date.now() };
  if (typeof a.kind === 'string' && a.kind) p.kind = a.kind;
  return p;
}

const REDIS_URL = process.env.REDIS_URL;
const httpServer = http.createServer();
const io = new Server(httpServer, { cors: { origin: '*' } });

io.on('connection', (socket) => {
  // 'error' is not a reserved event name on either side in v4, so a plain emit works.
  const fail = (code, message) => socket.emit('error', { message, code });

  // Leave the current session, if any: the others get session:user-left.
  const leave = () => {
    const room = socket.data.room;
    if (!room) return null;
    socket.data.room = null;
    socket.leave(room);
    const members = sessions.get(room);
    if (members) {
      members.delete(socket.id);
      if (members.size === 0) sessions.delete(room);
      else io.to(room).emit('session:user-left', { userId: socket.id });
    }
    return room;
  };

  const enter = (room, p) => {
    if (!sessions.has(room)) sessions.set(room, new Map());
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
      if (sessions.has(room)) return fail('session_exists', `Session ${room} already exists`);
    }
    leave();
    room = room ?? newCode();
    const participants = enter(room, participant(socket, a));
    socket.emit('session:created', { roomCode: room, userId: socket.id, participants });
  });

  socket.on('session:join', (arg) => {
    const a = obj(arg);
    const room = upper(a.roomCode);
    if (REDIS_URL && !sessions.has(room) && CODE_RE.test(room)) sessions.set(room, new Map());
    const members = sessions.get(room);
    if (!members) return fail('session_not_found', `Session ${a.roomCode} not found`);
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
