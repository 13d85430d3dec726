'use strict';
// What the socket.io-client scripts (interop.js, auth.js, cluster.js)
// share: a client's inbox, which records every event it receives (onAny)
// so none is lost to a race between emit and listen; take(), which
// consumes from it; expect(); and check(), which runs one named check and
// tallies it.

// inboxOf wraps socket as a client named label whose waits give up after
// wait ms.
function inboxOf(label, socket, wait) {
  const c = { label, socket, wait, inbox: [], waiters: new Set() };
  socket.onAny((ev, ...args) => {
    c.inbox.push({ ev, args, arg: args[0] });
    for (const w of [...c.waiters]) w();
  });
  return c;
}

// take resolves with the first argument of the first event ev in c's
// inbox that pred accepts, removing it; it rejects after ms.
function take(c, ev, pred = () => true, ms = c.wait) {
  return new Promise((resolve, reject) => {
    const scan = () => {
      const i = c.inbox.findIndex((m) => m.ev === ev && pred(m.arg));
      if (i < 0) return false;
      const [m] = c.inbox.splice(i, 1);
      c.waiters.delete(scan);
      clearTimeout(t);
      resolve(m.arg);
      return true;
    };
    const t = setTimeout(() => {
      c.waiters.delete(scan);
      const seen = c.inbox.map((m) => m.ev).join(', ') || 'nothing';
      reject(new Error(`${c.label}: no matching '${ev}' within ${ms} ms (inbox: ${seen})`));
    }, ms);
    if (!scan()) c.waiters.add(scan);
  });
}

function expect(cond, msg) { if (!cond) throw new Error(msg); }

// tally counts the checks run by check.
const tally = { passed: 0, failed: 0 };

async function check(name, fn) {
  try {
    await fn();
    tally.passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    tally.failed++;
    console.log(`not ok - ${name}: ${e && e.message ? e.message : e}`);
  }
}

module.exports = { inboxOf, take, expect, check, tally };
