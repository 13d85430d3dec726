// The jam page in real headless Chromium against the real relay (run by
// the Go test in e2e_test.go, which serves the page and a Go bridge).
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { io } from 'socket.io-client';
import { button, launch, lit, live, member, newPage, roomOf, stats, testHook, until, voices } from './lib.mjs';

const BASE = process.env.JAM_URL;
const DEV = process.env.JAM_DEV_URL;
const GO_ROOM = process.env.JAM_GO_ROOM;
assert.ok(BASE && DEV && GO_ROOM, 'run through the Go test: go test -tags browser ./web/e2e/');

let browser;
const problems = [];
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});
afterEach(() => {
  assert.deepEqual(problems.splice(0), [], 'no page error, console error or alert()');
});

const received = (page) => page.evaluate(() => window.__jam.received.map((r) => JSON.parse(JSON.stringify(r))));
const idOf = (page) => page.evaluate(() => window.__jam.socketId());

/** Two pages in one new session: a created it, b joined by its link. */
async function duo(a_name = 'alice', b_name = 'bob') {
  const a = await newPage(browser, problems);
  await a.goto(`${BASE}/jam?name=${a_name}`);
  const room = await roomOf(a);
  await live(a);
  const b = await newPage(browser, problems);
  await b.goto(`${BASE}/jam/${room}?name=${b_name}`);
  await live(b);
  await member(a, b_name);
  await member(b, a_name);
  return { a, b, room };
}

async function hold(page, name) {
  await button(page, name).hover();
  await page.mouse.down();
}

test('two pages jam both ways, with no echo', async () => {
  const { a, b } = await duo();
  const [aliceId, bobId] = [await idOf(a), await idOf(b)];
  // The default transports: long-polling, then the upgrade to websocket
  // (which the content security policy must allow).
  await until('the websocket upgrade', async () => (await a.evaluate(() => window.__jam.transport())) === 'websocket');
  await b.getByLabel('debug').check();

  await button(a, 'kick').click();
  await lit(b, 'kick', 'alice');
  await until('a kick voice on bob', async () => (await voices(b)).some((v) => v.voice === 'kick' && v.owner === aliceId));
  await until('the kick light off', async () => (await lit(b, 'kick', 'alice')) !== null);
  assert.ok((await lit(b, 'kick', 'alice')) >= 100, 'lit for at least 100 ms');

  await hold(b, 'F#4');
  await a.locator('[data-note="F#4"][data-remote="bob"]').waitFor();
  await until('a piano voice on alice', async () => (await voices(a)).some((v) => v.voice === 'piano' && v.note === 66 && v.owner === bobId));
  await b.mouse.up();
  await a.locator('[data-note="F#4"][data-remote]').waitFor({ state: 'detached' });

  await hold(a, 'C4');
  await b.locator('[data-note="C4"][data-remote="alice"]').waitFor();
  await button(b, 'snare').click();
  await lit(a, 'snare', 'bob');
  mkdirSync('test-results', { recursive: true });
  await b.screenshot({ path: 'test-results/jam-page.png' });
  await a.mouse.up();

  const toA = await received(a);
  const bobPiano = toA.filter((r) => r.eventName === 'piano_note').map((r) => r.payload);
  assert.equal(bobPiano.length, 2);
  assert.deepEqual(Object.keys(bobPiano[0]).sort(), ['channel', 'midi', 'note', 'timestamp', 'velocity']);
  assert.equal(bobPiano[0].note, 'F#4');
  assert.ok(bobPiano[0].velocity >= 1 && bobPiano[0].velocity <= 127);
  assert.deepEqual(Object.keys(bobPiano[1]).sort(), ['channel', 'duration', 'midi', 'note', 'timestamp', 'velocity']);
  assert.equal(bobPiano[1].velocity, 0);
  assert.ok(bobPiano[1].duration >= 0 && bobPiano[1].timestamp >= bobPiano[0].timestamp);
  const kick = (await received(b)).find((r) => r.eventName === 'drum_hit').payload;
  assert.deepEqual(Object.keys(kick).sort(), ['note', 'timestamp', 'velocity']);
  assert.equal(kick.note, 'kick');
  assert.ok(Math.abs(kick.timestamp - Date.now()) < 60_000, 'stamped in relay time (unix ms)');

  // No echo: neither page got its own events back.
  assert.deepEqual(toA.filter((r) => r.senderId !== bobId), []);
  assert.deepEqual((await received(b)).filter((r) => r.senderId !== aliceId), []);
  await a.context().close();
  await b.context().close();
});

test('several fingers at once on a phone', async () => {
  const { a, b, room } = await duo('tess', 'pat');
  const ctx = await testHook(await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true }));
  const phone = await ctx.newPage();
  phone.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await phone.goto(`${BASE}/jam/${room}?name=phone`);
  await live(phone);
  await member(a, 'phone');
  const centre = async (name) => {
    const b = await button(phone, name).boundingBox();
    return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
  };
  const [c4, g4, kick] = [await centre('C4'), await centre('G4'), await centre('kick')];
  const ride = await button(phone, 'ride').boundingBox();
  assert.ok(ride.x + ride.width <= 390, 'the pads fit a phone screen');
  const cdp = await ctx.newCDPSession(phone);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ ...c4, id: 1 }, { ...g4, id: 2 }] });
  await lit(a, 'C4', 'phone');
  await lit(a, 'G4', 'phone');
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ ...c4, id: 1 }, { ...g4, id: 2 }, { ...kick, id: 3 }] });
  await lit(a, 'kick', 'phone');
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await a.locator('[data-note="C4"][data-remote]').waitFor({ state: 'detached' });
  await a.locator('[data-note="G4"][data-remote]').waitFor({ state: 'detached' });
  const notes = (await received(a)).filter((r) => r.eventName === 'piano_note').map((r) => `${r.payload.note}:${r.payload.velocity > 0 ? 'on' : 'off'}`);
  assert.deepEqual(notes.sort(), ['C4:off', 'C4:on', 'G4:off', 'G4:on']);
  await ctx.close();
  await a.context().close();
  await b.context().close();
});

test('closing a page or navigating away tells the others within 1 s', async () => {
  const { a, b, room } = await duo('amy', 'ben');
  const c = await newPage(browser, problems);
  await c.goto(`${BASE}/jam/${room}?name=cy`);
  await live(c);
  await member(a, 'cy');

  await hold(c, 'D4'); // and never let go: the page closes
  await lit(a, 'D4', 'cy');
  assert.equal(await a.evaluate(() => window.__jam.sounding()), 1);
  await c.close();
  await a.locator('li[data-member="cy"]').waitFor({ state: 'detached', timeout: 1000 });
  await a.locator('[data-note="D4"][data-remote]').waitFor({ state: 'detached' });
  assert.equal(await a.evaluate(() => window.__jam.sounding()), 0, 'no stuck note');
  await b.goto('about:blank');
  await a.locator('li[data-member="ben"]').waitFor({ state: 'detached', timeout: 1000 });

  // Leaving the view inside the page disconnects too.
  const d = await newPage(browser, problems);
  await d.goto(`${BASE}/jam/${room}?name=dee`);
  await live(d);
  await member(a, 'dee');
  await button(d, '← leave').click();
  await d.getByRole('button', { name: 'Create a session' }).waitFor();
  await a.locator('li[data-member="dee"]').waitFor({ state: 'detached', timeout: 1000 });
  await a.context().close();
  await b.context().close();
  await d.context().close();
});

test('StrictMode mount, unmount and remount leave one connection and one set of listeners', async () => {
  const host = await newPage(browser, problems);
  await host.goto(`${BASE}/jam?name=host`);
  const room = await roomOf(host);
  await live(host);
  // Only the Go bridge and the host are connected (earlier pages gone).
  await until('earlier pages disconnected', async () => (await stats(BASE)).connections === 2);
  const p = await newPage(browser, problems);
  const s0 = await stats(BASE);
  await p.goto(`${DEV}/jam/${room}?name=strict`); // the development build: StrictMode mounts twice
  await live(p);
  const s1 = await stats(BASE);
  assert.equal(s1.connects - s0.connects, 1, 'one connection for the double mount');
  assert.equal(s1.connections - s0.connections, 1);
  assert.equal(await p.evaluate(() => window.__jam.listeners('event:broadcast')), 1);

  await button(p, '← leave').click();
  await until('the connection closed on unmount', async () => (await stats(BASE)).connections === s0.connections);
  await p.goBack();
  await live(p);
  const s2 = await stats(BASE);
  assert.equal(s2.connects - s0.connects, 2, 'one more connection for the remount');
  assert.equal(s2.connections - s0.connections, 1);
  for (const ev of ['event:broadcast', 'session:joined', 'session:user-left', 'connect', 'error']) {
    assert.equal(await p.evaluate((e) => window.__jam.listeners(e), ev), 1, `listeners of ${ev}`);
  }
  await p.context().close();
  await host.context().close();
});

// A Web MIDI system with one input and one output, for the page.
function stubMidi() {
  const listeners = new Set();
  const input = {
    id: 'in-1', name: 'Stub Keys', state: 'connected',
    addEventListener: (t, f) => t === 'midimessage' && listeners.add(f),
    removeEventListener: (t, f) => listeners.delete(f),
  };
  const sent = [];
  const output = { id: 'out-1', name: 'Stub Synth', state: 'connected', send: (d) => sent.push(Array.from(d)) };
  const access = { inputs: new Map([['in-1', input]]), outputs: new Map([['out-1', output]]), addEventListener() {}, removeEventListener() {} };
  window.__midi = {
    sent,
    play(bytes) {
      const e = new Event('midimessage');
      e.data = new Uint8Array(bytes);
      for (const f of listeners) f(e);
    },
  };
  Object.defineProperty(Navigator.prototype, 'requestMIDIAccess', { value: () => Promise.resolve(access), configurable: true });
}

test('Web MIDI input plays in the session, and remote notes go to a MIDI output', async () => {
  const m = await newPage(browser, problems, stubMidi);
  await m.goto(`${BASE}/jam?name=midi`);
  const room = await roomOf(m);
  await live(m);
  await m.getByText('MIDI inputs: Stub Keys').waitFor();
  const n = await newPage(browser, problems);
  await n.goto(`${BASE}/jam/${room}?name=ear`);
  await live(n);
  await member(m, 'ear');

  const play = (bytes) => m.evaluate((b) => window.__midi.play(b), bytes);
  await play([0x90, 60, 100]);
  await n.locator('[data-note="C4"][data-remote="midi"]').waitFor();
  await play([0x99, 38, 90]);
  await lit(n, 'snare', 'midi');
  await play([0xb0, 64, 127]);
  await play([0x80, 60, 0]);
  await play([0xb0, 64, 0]);
  await until('five events at ear', async () => (await received(n)).length === 5);
  await n.locator('[data-note="C4"][data-remote]').waitFor({ state: 'detached' });
  const got = (await received(n)).map((r) => [r.eventName, r.payload]);
  const strip = ([e, p]) => [e, { ...p, timestamp: typeof p.timestamp, ...(p.duration !== undefined ? { duration: typeof p.duration } : {}) }];
  assert.deepEqual(got.map(strip), [
    ['piano_note', { note: 'C4', velocity: 100, timestamp: 'number', midi: 60, channel: 1 }],
    ['drum_hit', { note: 'snare', velocity: 90, timestamp: 'number', midi: 38, channel: 10 }],
    ['control_change', { controller: 64, value: 127, channel: 1, timestamp: 'number' }],
    ['piano_note', { note: 'C4', velocity: 0, timestamp: 'number', duration: 'number', midi: 60, channel: 1 }],
    ['control_change', { controller: 64, value: 0, channel: 1, timestamp: 'number' }],
  ]);

  await m.getByLabel('Play the others on').selectOption({ label: 'Stub Synth' });
  await button(n, 'kick').click();
  await until('the kick on the MIDI output', async () =>
    (await m.evaluate(() => window.__midi.sent)).some((d) => d[0] === 0x99 && d[1] === 36 && d[2] > 0),
  );
  await m.context().close();
  await n.context().close();
});

test('refused Web MIDI is said in one sentence and the page works', async () => {
  const p = await newPage(browser, problems, () => {
    Object.defineProperty(Navigator.prototype, 'requestMIDIAccess', {
      value: () => Promise.reject(new DOMException('denied', 'SecurityError')),
      configurable: true,
    });
  });
  await p.goto(`${BASE}/jam?name=nomidi`);
  await live(p);
  await p.getByText(/^Web MIDI was refused, .*\.$/).waitFor();
  await button(p, 'kick').click();
  await p.context().close();
});

test('a Go bridge and a page play to each other', async () => {
  await until('the bridge ports', async () => (await (await fetch(`${BASE}/e2e/bridge/ready`)).text()) === 'true');
  const play = async (hex) => assert.equal((await fetch(`${BASE}/e2e/bridge/play?msg=${hex}`, { method: 'POST' })).status, 200);
  const synth = async (n) => (await fetch(`${BASE}/e2e/bridge/synth?n=${n}`)).json();
  const p = await newPage(browser, problems);
  await p.goto(`${BASE}/jam/${GO_ROOM}?name=web`);
  await live(p);
  await member(p, 'gobridge');
  await p.locator('li[data-member="gobridge"] .kind', { hasText: 'bridge' }).waitFor();

  await play('903c64');
  await p.locator('[data-note="C4"][data-remote="gobridge"]').waitFor();
  await until('a piano voice for the bridge', async () => (await voices(p)).some((v) => v.voice === 'piano' && v.note === 60 && v.owner !== 'local'));
  await play('803c00');
  await p.locator('[data-note="C4"][data-remote]').waitFor({ state: 'detached' });
  await play('992650');
  await lit(p, 'snare', 'gobridge');

  await hold(p, 'E4');
  await p.mouse.up();
  const keys = await synth(2);
  assert.equal(keys.length, 2, `synth got ${JSON.stringify(keys)}`);
  assert.match(keys[0], /^9040[0-7][0-9a-f]$/);
  assert.equal(keys[1], '804000');
  await button(p, 'kick').click();
  assert.match((await synth(1))[0] ?? '', /^9924/);
  await p.keyboard.down('Space');
  assert.deepEqual(await synth(1), ['b0407f']);
  await p.keyboard.up('Space');
  assert.deepEqual(await synth(1), ['b04000']);

  // The computer keyboard: A is C4, = shifts up an octave, Z is the kick.
  await p.getByLabel('fixed velocity').check();
  await p.keyboard.down('KeyA');
  await p.keyboard.up('KeyA');
  await p.keyboard.press('Equal');
  await p.keyboard.down('KeyW');
  await p.keyboard.up('KeyW');
  await p.keyboard.press('KeyZ');
  assert.deepEqual(await synth(5), ['903c64', '803c00', '904964', '804900', '992464']);
  await p.context().close();
});

test('odd events leave the page working', async () => {
  const p = await newPage(browser, problems);
  await p.goto(`${BASE}/jam?name=steady`);
  const room = await roomOf(p);
  await live(p);
  const s = io(BASE, { transports: ['websocket'] });
  try {
    await new Promise((resolve, reject) => {
      s.once('session:joined', resolve);
      s.once('error', (e) => reject(new Error(e.message)));
      s.emit('session:join', { roomCode: room, name: 'odd' });
    });
    await member(p, 'odd');
    const odd = [
      ['no_such_event', { note: 'kick', velocity: 100 }],
      ['drum_hit', null],
      ['drum_hit', 42],
      ['drum_hit', [1, 2, 3]],
      ['drum_hit', {}],
      ['drum_hit', { note: { deep: [1] }, velocity: 'loud' }],
      ['drum_hit', { note: 'kick', velocity: 1e9, timestamp: 'now' }],
      ['drum_hit', { note: 'unheard_of_drum', velocity: 100, midi: 'x', channel: -3 }],
      ['piano_note', { note: 'Z9', velocity: 100 }],
      ['piano_note', { note: 'C4', velocity: -1 }],
      ['piano_note', { note: 'C4', velocity: 0, duration: 'long' }],
      ['piano_note', { note: 'G9', velocity: 1, midi: 127 }],
      ['piano_note', { note: 'C4', velocity: 10, midi: 500 }],
      ['control_change', { controller: '64', value: [] }],
      ['control_change', { controller: 64, value: 127, channel: 99 }],
      ['control_change', { controller: 64, value: 0 }],
      ['pattern_change', { patternId: 'p1', bpm: 'fast' }],
      ['piano_note', 'C4'],
    ];
    for (const [eventName, payload] of odd) s.emit('event:broadcast', { roomCode: room, eventName, payload });
    s.emit('event:broadcast', { roomCode: room, eventName: 'drum_hit', payload: { note: 'kick', velocity: 99, timestamp: Date.now() } });
    await lit(p, 'kick', 'odd');
    assert.equal((await received(p)).length, odd.length + 1);
    await button(p, 'snare').click(); // still playing
    await live(p);
  } finally {
    s.close();
  }
  await p.locator('li[data-member="odd"]').waitFor({ state: 'detached' });
  await p.context().close();
});

test('while the browser keeps the sound off, a hint asks for one click', async () => {
  const strict = await launch([]); // the default autoplay policy
  try {
    const p = await newPage(strict, problems);
    await p.goto(`${BASE}/jam?name=quiet`);
    await live(p);
    const hint = p.getByRole('button', { name: /^Sound is off until you click or tap once/ });
    await hint.waitFor();
    await hint.click();
    await hint.waitFor({ state: 'detached' });
  } finally {
    await strict.close();
  }
});

test('relay errors show in the page in one sentence', async () => {
  const p = await newPage(browser, problems);
  await p.goto(`${BASE}/jam/NOPE-4040?name=lost`);
  const alert = p.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /NOPE-4040/i);
  await button(p, 'Create session NOPE-4040').click();
  await live(p);
  await p.context().close();
});

test('a secret in the link goes with the join, and stays in the fragment', async () => {
  const p = await newPage(browser, problems);
  const sent = [];
  p.on('request', (r) => r.url().includes('/socket.io/') && sent.push(`${r.url()} ${r.postData() ?? ''}`));
  p.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
  await p.goto(`${BASE}/jam?name=keeper#secret=open%20sesame`);
  const room = await roomOf(p);
  await live(p);
  assert.equal(await p.getByLabel('share link').inputValue(), `${BASE}/jam/${room}#secret=open%20sesame`);
  const create = sent.filter((x) => x.includes('session:create'));
  assert.equal(create.length, 1, `one session:create in ${JSON.stringify(sent)}`);
  assert.match(create[0], /"secret":"open sesame"/);
  assert.ok(sent.every((x) => !x.split(' ')[0].includes('sesame')), 'no secret in a URL');
  await p.context().close();
});

test('a private session: its link joins, a page without the secret is told it is private', async () => {
  const a = await newPage(browser, problems);
  await a.goto(`${BASE}/`);
  await a.getByLabel('Your name').fill('keeper');
  await button(a, 'Generate a secret').click();
  const secret = await a.getByLabel(/^Secret/).inputValue();
  assert.match(secret, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
  await button(a, 'Create a session').click();
  const room = await roomOf(a);
  await live(a);
  const link = await a.getByLabel('share link').inputValue();
  assert.equal(link, `${BASE}/jam/${room}#secret=${secret}`);

  const b = await newPage(browser, problems);
  await b.goto(link.replace('#', '?name=guest#'));
  await live(b);
  await member(a, 'guest');
  await member(b, 'keeper');

  const c = await newPage(browser, problems);
  await c.goto(`${BASE}/jam/${room}?name=stranger`);
  const alert = c.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), new RegExp(`session ${room} is private: the secret is missing or wrong`));
  assert.equal(await c.locator('[data-testid="status"]', { hasText: 'live' }).count(), 0);
  assert.equal(await a.locator('li[data-member="stranger"]').count(), 0);
  await button(a, 'snare').click(); // the session goes on
  await lit(b, 'snare', 'keeper');
  for (const p of [a, b, c]) await p.context().close();
});

test("a player's page has no test hook and records no broadcasts", async () => {
  const { a, room } = await duo('hooked', 'host');
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 820 } }); // no testHook
  const p = await ctx.newPage();
  p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await p.goto(`${BASE}/jam/${room}?name=player`);
  await live(p);
  await member(a, 'player');
  await button(p, 'kick').click();
  await until("the player's kick at the hooked page", async () => (await received(a)).some((r) => r.eventName === 'drum_hit'));
  assert.equal(await p.evaluate(() => typeof window.__jam), 'undefined');
  await ctx.close();
  await a.context().close();
});
