import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { engine, voiceStats } from './audio/context';
import { socket } from './net/socket';
import './styles.css';

// The hook the end-to-end tests and the benchmark read: voices started,
// the broadcasts that arrived (before any check), and the listeners on
// the one socket. Installed only when a test's init script set
// window.__jamTestHook before the page ran (web/e2e/lib.mjs, testHook):
// a player's page records no broadcasts.
const RECEIVED_MAX = 4000; // the oldest entries go first
function installTestHook() {
  const received: unknown[] = [];
  const receivedAt: number[] = []; // unix ms, as the voices' times
  const sentAt: number[] = [];
  const now = () => performance.timeOrigin + performance.now();
  socket.onAny((ev: string, arg: unknown) => {
    if (ev !== 'event:broadcast') return;
    received.push(arg);
    receivedAt.push(now());
    if (received.length > RECEIVED_MAX) received.shift(), receivedAt.shift();
  });
  socket.onAnyOutgoing((ev: string) => {
    if (ev !== 'event:broadcast') return;
    sentAt.push(now());
    if (sentAt.length > RECEIVED_MAX) sentAt.shift();
  });
  Object.assign(window, {
    __jam: {
      voices: voiceStats,
      received,
      receivedAt,
      sentAt,
      listeners: (ev: string) => socket.listeners(ev).length,
      socketId: () => socket.id ?? null,
      sounding: () => engine.sounding(),
      transport: () => socket.io.engine?.transport?.name ?? null,
    },
  });
}
if ((window as { __jamTestHook?: boolean }).__jamTestHook === true) installTestHook();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
