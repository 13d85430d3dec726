'use strict';
// Connects the real socket.io-client to a relay over https/wss and says how
// it went. Usage: node tls.js <baseURL> <caFile|none> <default|websocket>
// Prints "connected <transport>" (the transport in use once the upgrade, if
// any, is done) and exits 0, or prints "connect_error <message>" and exits 1.
const fs = require('node:fs');
const { io } = require('socket.io-client');

const [baseURL, caFile, transport = 'default'] = process.argv.slice(2);
if (!baseURL || !caFile) {
  console.error('usage: node tls.js <baseURL> <caFile|none> <default|websocket>');
  process.exit(2);
}
const opts = { forceNew: true, reconnection: false, timeout: 5000 };
if (caFile !== 'none') opts.ca = fs.readFileSync(caFile);
if (transport === 'websocket') opts.transports = ['websocket'];
const socket = io(baseURL, opts);
const done = (line, code) => { console.log(line); socket.close(); process.exit(code); };
socket.once('connect_error', (e) => done(`connect_error ${e.message}`, 1));
socket.once('connect', () => {
  const engine = socket.io.engine;
  if (engine.transport.name === 'websocket') return done('connected websocket', 0);
  engine.once('upgrade', () => done('connected websocket', 0));
  setTimeout(() => done(`connected ${engine.transport.name} (no upgrade within 5 s)`, 0), 5000);
});
