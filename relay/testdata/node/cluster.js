'use strict';
// Three stock socket.io-client clients join one session through a load
// balancer in front of several relay nodes, and play: every event reaches
// the two others once, never its sender. Usage:
//   node cluster.js <baseURL> <default|websocket>
// default: long-polling then the upgrade (withCredentials: true, so the
// balancer's cookie keeps the session on its node); websocket: websocket
// only. Prints `ok - ...` lines; exits 1 on the first failure.
const { io } = require('socket.io-client');
const { inboxOf, take, expect } = require('./harness');

const [baseURL, transport = 'default'] = process.argv.slice(2);
if (!baseURL || !['default', 'websocket'].includes(transport)) {
  console.error('usage: node cluster.js <baseURL> <default|websocket>');
  process.exit(2);
}
const WAIT = 10000; // every wait gives up after this

function connect(label) {
  const opts = { forceNew: true, reconnection: false, timeout: WAIT, withCredentials: true };
  if (transport === 'websocket') opts.transports = ['websocket'];
  const socket = io(baseURL, opts);
  const c = inboxOf(label, socket, WAIT);
  return new Promise((resolve, reject) => {
    socket.once('connect_error', (e) => reject(new Error(`${label}: connect_error ${e.message}`)));
    socket.once('connect', () => resolve(c));
  });
}

function upgraded(c) {
  return new Promise((resolve, reject) => {
    if (c.socket.io.engine.transport.name === 'websocket') return resolve();
    const t = setTimeout(() => reject(new Error(`${c.label}: no upgrade to websocket within ${WAIT} ms`)), WAIT);
    c.socket.io.engine.once('upgrade', () => { clearTimeout(t); resolve(); });
  });
}

async function main() {
  const names = ['ana', 'ben', 'cleo'];
  const cs = [];
  for (const n of names) cs.push(await connect(n));
  console.log(`ok - three clients connected (${transport})`);
  cs[0].socket.emit('session:create', { name: 'ana', kind: 'web' });
  const { roomCode } = await take(cs[0], 'session:created');
  for (let i = 1; i < cs.length; i++) {
    cs[i].socket.emit('session:join', { roomCode, name: names[i], kind: 'web' });
    const j = await take(cs[i], 'session:joined');
    expect(j.participants.length === i + 1, `${names[i]} sees ${j.participants.length} participants, want ${i + 1}`);
    for (let k = 0; k < i; k++) await take(cs[k], 'session:user-joined', (a) => a.user.id === cs[i].socket.id);
  }
  console.log(`ok - one session ${roomCode}, presence on every client`);
  if (transport === 'default') {
    await Promise.all(cs.map(upgraded));
    console.log('ok - every client upgraded from long-polling to websocket');
  }
  for (let round = 1; round <= 3; round++) {
    cs.forEach((c, i) => c.socket.emit('event:broadcast', { roomCode, eventName: 'drum_hit', payload: { drum: 'snare', velocity: 90 + i }, seq: round }));
    for (const c of cs) {
      for (const o of cs) {
        if (o === c) continue;
        const e = await take(c, 'event:broadcast', (a) => a.senderId === o.socket.id && a.seq === round);
        expect(e.eventName === 'drum_hit' && typeof e.serverTime === 'number', `${c.label} got ${JSON.stringify(e)}`);
      }
    }
  }
  for (const c of cs) {
    const own = c.inbox.find((m) => m.ev === 'event:broadcast' && m.arg.senderId === c.socket.id);
    expect(!own, `${c.label} got its own event back`);
  }
  console.log('ok - every event reached the two others');
  cs[2].socket.emit('session:leave', { roomCode });
  for (const c of cs.slice(0, 2)) await take(c, 'session:user-left', (a) => a.userId === cs[2].socket.id);
  console.log('ok - a leave reached the others');
  for (const c of cs) c.socket.close();
}

main().then(() => process.exit(0), (e) => { console.log(`not ok - ${e.message}`); process.exit(1); });
