'use strict';
// Private sessions and access tokens (PROTOCOL.md), driven with the real
// socket.io-client against a relay started with an auth secret.
// Usage: TOKEN=<valid> EXPIRED=<expired> FORGED=<bad signature> node auth.js <baseURL> <default|websocket>
const { io } = require('socket.io-client');
const { inboxOf, take, expect, check, tally } = require('./harness');

const [baseURL, transport = 'default'] = process.argv.slice(2);
const { TOKEN, EXPIRED, FORGED } = process.env;
if (!baseURL || !TOKEN || !EXPIRED || !FORGED || !['default', 'websocket'].includes(transport)) {
  console.error('usage: TOKEN=... EXPIRED=... FORGED=... node auth.js <baseURL> <default|websocket>');
  process.exit(2);
}

const WAIT = 3000; // every wait gives up after this

function open(label, auth) {
  const opts = { forceNew: true, reconnection: false, timeout: WAIT, auth };
  if (transport === 'websocket') opts.transports = ['websocket'];
  return inboxOf(label, io(baseURL, opts), WAIT);
}

// connect resolves with the client once connected; refused resolves with
// the connect_error's message.
function connect(label, auth) {
  const c = open(label, auth);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${label}: no connect within ${WAIT} ms`)), WAIT);
    c.socket.once('connect_error', (e) => { clearTimeout(t); reject(new Error(`${label}: connect_error ${e.message}`)); });
    c.socket.once('connect', () => { clearTimeout(t); resolve(c); });
  });
}

function refused(label, auth) {
  const c = open(label, auth);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${label}: no connect_error within ${WAIT} ms`)), WAIT);
    c.socket.once('connect', () => { clearTimeout(t); reject(new Error(`${label}: connected without a valid token`)); });
    c.socket.once('connect_error', (e) => { clearTimeout(t); c.socket.close(); resolve(e.message); });
  });
}

// quiet proves, with clock:sync round trips of each actor and then of c,
// that no event named ev has reached c from what they sent so far.
async function quiet(c, ev, actors) {
  for (const a of [...actors, c]) await a.socket.timeout(WAIT).emitWithAck('clock:sync', { t0: 1 });
  if (c.inbox.some((m) => m.ev === ev)) throw new Error(`${c.label}: unexpected '${ev}'`);
}

async function main() {
  const clients = [];
  await check('a. no token, an expired one, a forged one: connect_error saying why', async () => {
    for (const [auth, want] of [[undefined, 'missing'], [{ token: EXPIRED }, 'expired'], [{ token: FORGED }, 'bad signature']]) {
      const msg = await refused(`refused-${want}`, auth);
      expect(msg.includes(want), `connect_error ${JSON.stringify(msg)}, want it to say ${want}`);
    }
  });
  let host, code;
  await check('b. a valid token connects and creates a private session', async () => {
    host = await connect('host', { token: TOKEN });
    clients.push(host);
    host.socket.emit('session:create', { name: 'host', secret: 'green-tambourine' });
    code = (await take(host, 'session:created')).roomCode;
    expect(typeof code === 'string', `roomCode ${code}`);
  });
  await check('c. join without the secret, with a wrong one: forbidden; the host hears nothing', async () => {
    for (const secret of [undefined, 'red-tambourine']) {
      const c = await connect(`guess-${secret}`, { token: TOKEN });
      clients.push(c);
      c.socket.emit('session:join', { roomCode: code, name: 'guess', secret });
      const e = await take(c, 'error');
      expect(e && e.code === 'forbidden' && e.message, `error ${JSON.stringify(e)}, want forbidden`);
      await quiet(host, 'session:user-joined', [c]);
      await quiet(c, 'session:joined', []);
    }
  });
  await check('d. the right secret joins, and the host hears of it', async () => {
    const g = await connect('guest', { token: TOKEN });
    clients.push(g);
    g.socket.emit('session:join', { roomCode: code.toLowerCase(), name: 'guest', secret: 'green-tambourine' });
    const j = await take(g, 'session:joined');
    expect(j.participants.length === 2, `participants ${JSON.stringify(j.participants)}`);
    const u = await take(host, 'session:user-joined');
    expect(u.user.name === 'guest', `user-joined ${JSON.stringify(u)}`);
  });
  await check('e. guessing is rate_limited per address; a member\'s return is not', async () => {
    const g = await connect('guesser', { token: TOKEN });
    clients.push(g);
    const codes = [];
    for (let i = 0; i < 12; i++) {
      g.socket.emit('session:join', { roomCode: `GUESS-${i}`, name: 'guesser' });
      codes.push((await take(g, 'error')).code);
    }
    // 2 forbidden joins of c. count too: 8 more unknown codes, then limited.
    const want = [...Array(8).fill('session_not_found'), ...Array(4).fill('rate_limited')];
    expect(JSON.stringify(codes) === JSON.stringify(want), `codes ${codes}, want ${want}`);
    const back = await connect('back', { token: TOKEN });
    clients.push(back);
    back.socket.emit('session:join', { roomCode: code, name: 'back', secret: 'green-tambourine' });
    await take(back, 'session:joined');
  });
  for (const c of clients) c.socket.close();
}

main().then(() => {
  console.log(`${tally.passed} passed, ${tally.failed} failed`);
  process.exit(tally.failed === 0 ? 0 : 1);
}, (e) => {
  console.log(`not ok - internal: ${e && e.stack}`);
  process.exit(1);
});
