// Helpers of the browser tests and the benchmark: Debian's Chromium
// driven by playwright-core (never a downloaded browser).
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync',
];
// Sound without a click, as after one.
export const AUTOPLAY = ['--autoplay-policy=no-user-gesture-required'];

export function launch(extra = AUTOPLAY) {
  return chromium.launch({ executablePath: CHROMIUM, args: [...ARGS, ...extra], headless: true });
}

// Two pages of one browser stand for two musicians, each with their page
// in front: Chromium must not lower the other page's priority.
export const FOREGROUND = ['--disable-renderer-backgrounding', '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows'];

// Records every change of data-remote: [note, sender or null, ms].
function recordLights() {
  window.__lit = [];
  new MutationObserver((recs) => {
    for (const r of recs) window.__lit.push([r.target.getAttribute('data-note'), r.target.getAttribute('data-remote'), performance.now()]);
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-remote'] });
}

/** Waits until a pad or key was lit for `who`; returns how long it stayed lit (null: still lit). */
export async function lit(page, note, who) {
  let got;
  await until(`${note} lit for ${who}`, async () => {
    got = await page.evaluate(
      ([n, w]) => {
        const i = window.__lit.findIndex(([note, by]) => note === n && by === w);
        if (i < 0) return undefined;
        const off = window.__lit.slice(i + 1).find(([note, by]) => note === n && by !== w);
        return off ? off[2] - window.__lit[i][2] : null;
      },
      [note, who],
    );
    return got !== undefined;
  });
  return got;
}

/**
 * Asks the pages of ctx for the page's test hook (window.__jam, which a
 * player's page does not have): set before any script of the page runs.
 */
export async function testHook(ctx) {
  await ctx.addInitScript(() => {
    window.__jamTestHook = true;
  });
  return ctx;
}

/** A new page that fails the test on any page error, console error or alert(). */
export async function newPage(browser, problems, initScript) {
  const ctx = await testHook(await browser.newContext({ viewport: { width: 1100, height: 820 } }));
  const page = await ctx.newPage();
  await page.addInitScript(recordLights);
  if (initScript) await page.addInitScript(initScript);
  const problem = (p) => {
    console.log(`# ${p}`);
    problems.push(p);
  };
  page.on('pageerror', (e) => problem(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    problem(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') problem(`console error: ${m.text()}`);
  });
  return page;
}

/** The page's session code, once the relay gave it (the URL says it). */
export async function roomOf(page) {
  await page.waitForURL(/\/jam\/[A-Za-z0-9-]+/);
  return decodeURIComponent(new URL(page.url()).pathname.split('/')[2]);
}

export async function live(page) {
  await page.locator('[data-testid="status"]', { hasText: 'live' }).waitFor();
}

export async function member(page, name) {
  await page.locator(`li[data-member="${name}"]`).waitFor();
}

export function button(page, name) {
  return page.getByRole('button', { name, exact: true });
}

/** Voices started on a page (window.__jam.voices.log). */
export function voices(page) {
  return page.evaluate(() => window.__jam.voices.log.map((v) => ({ ...v })));
}

export async function stats(base) {
  const r = await fetch(`${base}/e2e/stats`);
  return r.json();
}

/** Polls cond (an async function) until it is true or `ms` pass. */
export async function until(what, cond, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
