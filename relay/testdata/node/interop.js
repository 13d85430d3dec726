'use strict';
// Interop checks for a jam relay (PROTOCOL.md, story 7.3), driven with the real
// socket.io-client. Usage: node interop.js <baseURL> <default|websocket>
const { isDeepStrictEqual, inspect } = require('node:util');
const { io } = require('socket.io-client');
const { inboxOf, take, expect, check, tally } = require('./harness');

const [baseURL, transport = 'default'] = process.argv.slice(2);
if (!baseURL || !['default', 'websocket'].includes(transport)) {
  console.error('usage: node interop.js <baseURL> <default|websocket>');
  process.exit(2);
}

const WAIT = 3000; // every wait gives up after this
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const show = (v) => inspect(v, { depth: 6, breakLength: Infinity });

// A client records every event it receives (onAny) in an inbox, so that no
// event is lost to a race between emit and listen; take() consumes from it.
function connect(label) {
  const opts = { forceNew: true, reconnection: false, timeout: WAIT };
  if (transport === 'websocket') opts.transports = ['websocket'];
  const socket = io(baseURL, opts);
  const c = Object.assign(inboxOf(label, socket, WAIT), { errorEvents: 0, upgraded: false });
  socket.on('error', () => { c.errorEvents++; }); // 'error' is an ordinary event in v4
  // The upgrade may finish before 'connect', so note the transport at Engine.IO open.
  socket.io.once('open', () => {
    c.firstTransport = socket.io.engine.transport.name;
    socket.io.engine.once('upgrade', () => { c.upgraded = true; });
  });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${label}: no connect within ${WAIT} ms`)), WAIT);
    socket.once('connect_error', (e) => { clearTimeout(t); reject(new Error(`${label}: connect_error ${e.message}`)); });
    socket.once('connect', () => {
      clearTimeout(t);
      c.id = socket.id;
      resolve(c);
    });
  });
}

// none checks that no matching event has reached c from anything c and
// the actors sent so far, without waiting for time to pass: a clock:sync
// round trip of each actor proves the relay has handled (and fanned out)
// what that actor sent before, and one of c's own then proves all of it
// has reached c (the relay writes in order; the client runs listeners and
// ack callbacks in packet order).
async function none(c, ev, pred = () => true, actors = []) {
  for (const a of actors) await clockSync(a);
  await clockSync(c);
  const m = c.inbox.find((x) => x.ev === ev && pred(x.args[0]));
  if (m) throw new Error(`${c.label}: unexpected '${ev}' ${show(m.args[0])}`);
}

async function clockSync(c) {
  if (!c.socket.connected) throw new Error(`${c.label} is not connected`);
  const t0 = Date.now() + 0.25;
  const res = await new Promise((resolve, reject) => {
    c.socket.timeout(WAIT).emit('clock:sync', { t0 }, (err, r) => (err ? reject(new Error(`${c.label} clock:sync: no ack within ${WAIT} ms`)) : resolve(r)));
  });
  expect(res && res.t0 === t0, `${c.label} clock:sync ack t0 ${show(res)} != ${t0}`);
  expect(typeof res.serverTime === 'number', `${c.label} serverTime not a number: ${show(res)}`);
  expect(Math.abs(res.serverTime - Date.now()) < 10000, `${c.label} serverTime off by >10 s: ${res.serverTime}`);
  return res;
}

function same(got, want, what) {
  expect(isDeepStrictEqual(got, want), `${what}: got ${show(got)}, want ${show(want)}`);
}
const need = (...xs) => { for (const x of xs) if (!x) throw new Error('prerequisite failed'); };


async function main() {
  let alice, bob, carol, dave, code;

  await check('a. alice session:create -> session:created', async () => {
    alice = await connect('alice');
    alice.socket.emit('session:create', { name: 'alice', kind: 'web' });
    const m = await take(alice, 'session:created');
    expect(typeof m.roomCode === 'string' && /^[A-Z0-9-]{3,32}$/.test(m.roomCode), `bad roomCode ${show(m.roomCode)}`);
    expect(m.userId === alice.id, `userId ${show(m.userId)} != alice.id ${alice.id}`);
    expect(Array.isArray(m.participants) && m.participants.length === 1, `participants ${show(m.participants)}`);
    const p = m.participants[0];
    expect(p.name === 'alice' && p.id === alice.id && typeof p.joinedAt === 'number', `participant ${show(p)}`);
    code = m.roomCode;
  });

  await check('b. bob session:join (lowercased code) -> session:joined + session:user-joined', async () => {
    need(alice, code);
    bob = await connect('bob');
    bob.socket.emit('session:join', { roomCode: code.toLowerCase(), name: 'bob' });
    const m = await take(bob, 'session:joined');
    expect(m.roomCode === code, `roomCode ${show(m.roomCode)} != ${code}`);
    expect(Array.isArray(m.participants) && m.participants.length === 2, `participants ${show(m.participants)}`);
    expect(m.userId === bob.id, `userId ${show(m.userId)} != bob.id ${bob.id}`);
    const u = await take(alice, 'session:user-joined');
    expect(u.user && u.user.id === bob.id && u.user.name === 'bob', `user ${show(u.user)}`);
  });

  await check('c. drum_hit reaches bob and carol, not alice (AC 2, AC 3)', async () => {
    need(alice, bob, code);
    carol = await connect('carol');
    carol.socket.emit('session:join', { roomCode: code, name: 'carol' });
    const j = await take(carol, 'session:joined');
    expect(j.participants && j.participants.length === 3, `carol sees participants ${show(j.participants)}`);
    await take(alice, 'session:user-joined', (x) => x.user && x.user.id === carol.id);
    await take(bob, 'session:user-joined', (x) => x.user && x.user.id === carol.id);
    const payload = { note: 'C4', velocity: 80, timestamp: Date.now() };
    alice.socket.emit('event:broadcast', { roomCode: code, eventName: 'drum_hit', payload });
    for (const c of [bob, carol]) {
      const m = await take(c, 'event:broadcast');
      expect(m.eventName === 'drum_hit', `${c.label} eventName ${show(m.eventName)}`);
      same(m.payload, payload, `${c.label} payload`);
      expect(m.senderId === alice.id, `${c.label} senderId ${show(m.senderId)} != ${alice.id}`);
      expect(typeof m.serverTime === 'number', `${c.label} serverTime ${show(m.serverTime)}`);
      expect(!('seq' in m), `${c.label} got seq ${show(m.seq)} though none was sent`);
    }
    await none(alice, 'event:broadcast');
  });

  await check('d. piano_note, pattern_change, x_custom pass through in order with seq (AC 4)', async () => {
    need(alice, bob, code);
    const ts = Date.now();
    const sent = [
      ['piano_note', { note: 'D#5', velocity: 0, timestamp: ts, duration: 250 }],
      ['pattern_change', { patternId: 'p1', bpm: 120, timestamp: ts + 0.5 }],
      ['x_custom', {
        text: 'é♪ 🎹 ünïcødé', html: '</script><b>&amp;</b>', sep: 'a\u2028b\u2029c', ctl: 'tab\tnl\n"q"\\',
        empty: '', nil: null, yes: true, no: false,
        nums: [0, -1, 1.5, 0.1, 3.141592653589793, 1e-7, 1e21, 1.5e300, 9007199254740991, -9007199254740991, 123456789.123456],
        list: [[], {}, [null, [1, [2, [3]]]], { a: { b: { c: { d: 'deep' } } } }],
        'clé ♪': { nested: [{ x: 1 }, { y: null }] },
      }],
    ];
    sent.forEach(([eventName, payload], i) => {
      alice.socket.emit('event:broadcast', { roomCode: code, eventName, payload, seq: i + 1 });
    });
    for (let i = 0; i < sent.length; i++) {
      const m = await take(bob, 'event:broadcast');
      expect(m.eventName === sent[i][0], `event #${i + 1}: eventName ${show(m.eventName)}, want ${sent[i][0]} (order?)`);
      same(m.payload, sent[i][1], `${sent[i][0]} payload`);
      expect(m.seq === i + 1, `${sent[i][0]} seq ${show(m.seq)}, want ${i + 1}`);
      expect(m.senderId === alice.id, `${sent[i][0]} senderId ${show(m.senderId)}`);
    }
    await none(alice, 'event:broadcast');
  });

  await check('e. broadcast in a one-member session: no error, still connected (AC 5)', async () => {
    dave = await connect('dave');
    dave.socket.emit('session:create', { name: 'dave' });
    const m = await take(dave, 'session:created');
    expect(m.roomCode !== code, `dave got alice's room ${code}`);
    dave.room = m.roomCode;
    dave.socket.emit('event:broadcast', { roomCode: dave.room, eventName: 'drum_hit', payload: { note: 'kick', velocity: 100, timestamp: Date.now() } });
    await none(dave, 'error');
    await none(dave, 'event:broadcast');
    await clockSync(dave);
  });

  await check('f. clock:sync ack {t0, serverTime}', async () => {
    need(alice);
    await clockSync(alice);
  });

  await check('g. errors: session_not_found, session_exists, non-member broadcast dropped', async () => {
    need(dave, code, alice, bob, carol);
    dave.socket.emit('session:join', { roomCode: 'NOPE-0000', name: 'dave' });
    const e1 = await take(dave, 'error');
    expect(e1 && e1.code === 'session_not_found', `join NOPE-0000: ${show(e1)}`);
    expect(typeof e1.message === 'string' && e1.message.length > 0, `empty message ${show(e1)}`);
    dave.socket.emit('session:create', { name: 'dave', roomCode: code });
    const e2 = await take(dave, 'error');
    expect(e2 && e2.code === 'session_exists', `create ${code}: ${show(e2)}`);
    expect(typeof e2.message === 'string' && e2.message.length > 0, `empty message ${show(e2)}`);
    expect(dave.errorEvents === 2, `socket.on('error') fired ${dave.errorEvents} times, want 2`);
    dave.socket.emit('event:broadcast', { roomCode: code, eventName: 'intruder', payload: { x: 1 } });
    for (const c of [alice, bob, carol]) {
      await none(c, 'event:broadcast', (x) => x && (x.senderId === dave.id || x.eventName === 'intruder'), [dave]);
    }
    await none(dave, 'error');
    await clockSync(dave);
  });

  await check('h. carol session:leave -> session:left + session:user-left', async () => {
    need(alice, bob, carol, code);
    carol.socket.emit('session:leave', { roomCode: code });
    const m = await take(carol, 'session:left');
    expect(m.roomCode === code, `session:left ${show(m)}`);
    await take(alice, 'session:user-left', (x) => x && x.userId === carol.id);
    await take(bob, 'session:user-left', (x) => x && x.userId === carol.id);
  });

  await check('i. bob disconnects -> alice gets session:user-left', async () => {
    need(alice, bob);
    bob.socket.disconnect();
    await take(alice, 'session:user-left', (x) => x && x.userId === bob.id);
  });

  await check(`j. transport (${transport}) ends on websocket`, async () => {
    need(alice);
    const engine = alice.socket.io.engine;
    if (transport === 'websocket') {
      expect(alice.firstTransport === 'websocket', `first transport ${alice.firstTransport}`);
      return;
    }
    expect(alice.firstTransport === 'polling', `default client started on ${alice.firstTransport}, want polling`);
    const end = Date.now() + WAIT;
    while (engine.transport.name !== 'websocket' && Date.now() < end) await sleep(20);
    expect(engine.transport.name === 'websocket', `still on ${engine.transport.name} after ${WAIT} ms`);
    expect(alice.upgraded, `engine 'upgrade' event not seen`);
  });

  for (const c of [alice, bob, carol, dave]) if (c) c.socket.close();
}

const watchdog = setTimeout(() => {
  console.log('not ok - watchdog: interop run exceeded 30 s');
  console.log(`${tally.passed} passed, ${tally.failed + 1} failed`);
  process.exit(1);
}, 30000);

main().then(() => {
  clearTimeout(watchdog);
  console.log(`${tally.passed} passed, ${tally.failed} failed`);
  process.exit(tally.failed === 0 ? 0 : 1);
}, (e) => {
  console.log(`not ok - internal: ${e && e.stack}`);
  console.log(`${tally.passed} passed, ${tally.failed + 1} failed`);
  process.exit(1);
});
