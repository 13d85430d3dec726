import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { voiceStats } from './audio/context';
import { socket } from './net/socket';
import './styles.css';

// The hook the end-to-end tests and the benchmark read: voices started,
// the broadcasts that arrived (before any check), and the listeners on
// the one socket.
const RECEIVED_MAX = 4000; // the oldest entries go first
const received: unknown[] = [];
socket.onAny((ev: string, arg: unknown) => {
  if (ev !== 'event:broadcast') return;
  received.push(arg);
  if (received.length > RECEIVED_MAX) received.shift();
});
Object.assign(window, {
  __jam: {
    voices: voiceStats,
    received,
    listeners: (ev: string) => socket.listeners(ev).length,
    socketId: () => socket.id ?? null,
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
