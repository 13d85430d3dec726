// make bench: page to page through jamrelay on loopback, in headless
// Chromium. Page A is struck with the pointer (a real mouse event through
// the browser's input pipeline); the time is taken in A at pointerdown and
// in B when the drum voice starts (both performance.timeOrigin + now()).
// One note every 20 ms; the pairs are matched by order.
//
//   node e2e/bench.mjs [--jamrelay ../bin/jamrelay] [--notes 500]
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { AUTOPLAY, FOREGROUND, button, launch, live, member, roomOf, testHook, until } from './lib.mjs';

const { values: opt } = parseArgs({
  options: { jamrelay: { type: 'string', default: '../bin/jamrelay' }, notes: { type: 'string', default: '500' } },
});
const NOTES = Number(opt.notes);
const WARMUP = 20;
const GAP = 20; // ms between notes: 50 a second, a busy drummer

function startRelay() {
  const p = spawn(opt.jamrelay, ['--listen', '127.0.0.1:0', '--event-rate', '2000', '--event-burst', '4000'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    p.on('error', reject);
    p.on('exit', (code) => reject(new Error(`jamrelay exited with ${code}: ${buf}`)));
    p.stderr.on('data', (d) => {
      if (buf === null) return; // drained from now on
      buf += d;
      const m = /jamrelay listening"? addr=(\S+)/.exec(buf);
      if (m) {
        buf = null;
        resolve({ proc: p, url: `http://${m[1]}` });
      }
    });
  });
}

const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

const relay = await startRelay();
const browser = await launch([...AUTOPLAY, ...FOREGROUND]);
try {
  const a = await (await testHook(await browser.newContext())).newPage();
  await a.goto(`${relay.url}/jam?name=A`);
  const room = await roomOf(a);
  await live(a);
  const b = await (await testHook(await browser.newContext())).newPage();
  await b.goto(`${relay.url}/jam/${room}?name=B`);
  await live(b);
  await member(a, 'B');
  for (const p of [a, b]) await until('the websocket upgrade', async () => (await p.evaluate(() => window.__jam.transport())) === 'websocket');
  await a.evaluate(() => {
    window.__down = [];
    window.addEventListener('pointerdown', () => window.__down.push(performance.timeOrigin + performance.now()), { capture: true });
  });
  const aId = await a.evaluate(() => window.__jam.socketId());
  const box = await button(a, 'kick').boundingBox();
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  const start = await b.evaluate(() => window.__jam.voices.started);
  // One note every GAP ms: nothing polls page B while it plays.
  for (let i = 1; i <= NOTES + WARMUP; i++) {
    await a.mouse.click(x, y);
    await new Promise((r) => setTimeout(r, GAP));
  }
  await b.waitForFunction((n) => window.__jam.voices.started >= n, start + NOTES + WARMUP);
  const downs = await a.evaluate(() => window.__down);
  const starts = (await b.evaluate(() => window.__jam.voices.log)).filter((v) => v.owner === aId && v.voice === 'kick').map((v) => v.at);
  if (downs.length !== NOTES + WARMUP || starts.length < NOTES + WARMUP) throw new Error(`got ${downs.length} strikes and ${starts.length} voices`);
  const sent = (await a.evaluate(() => window.__jam.sentAt)).slice(-NOTES);
  const got = (await b.evaluate(() => window.__jam.receivedAt)).slice(-NOTES);
  const voiced = starts.slice(-NOTES);
  const struck = downs.slice(WARMUP);
  const sorted = (xs) => xs.sort((p, q) => p - q);
  const lat = sorted(struck.map((t, i) => voiced[i] - t));
  const f = (v) => v.toFixed(2);
  const part = (name, xs) => console.log(`  ${name}: p50 ${f(pct(sorted(xs), 0.5))} ms, p99 ${f(pct(sorted(xs), 0.99))} ms`);
  console.log('where the time goes:');
  part('A: pointerdown to emit (local voice included)', struck.map((t, i) => sent[i] - t));
  part('A emit to B receive (socket.io, loopback, jamrelay)', sent.map((t, i) => got[i] - t));
  part('B: receive to voice start', got.map((t, i) => voiced[i] - t));
  console.log(`page to page through jamrelay, pointerdown on A to voice start on B, ${NOTES} notes (after ${WARMUP} warm-up):`);
  console.log(`(load average ${loadavg()[0].toFixed(1)} over the last minute, on ${cpus().length} cores)`);
  console.log('| notes | p50 ms | p90 ms | p99 ms | max ms |');
  console.log('|---|---|---|---|---|');
  console.log(`| ${NOTES} | ${f(pct(lat, 0.5))} | ${f(pct(lat, 0.9))} | ${f(pct(lat, 0.99))} | ${f(lat[lat.length - 1])} |`);
} finally {
  await browser.close();
  relay.proc.removeAllListeners('exit');
  relay.proc.kill('SIGTERM');
}
