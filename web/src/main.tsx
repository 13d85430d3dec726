import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { voiceStats } from './audio/context';
import { socket } from './net/socket';
import './styles.css';

// The hook the end-to-end tests and the benchmark read: voices started,
// and the listeners on the one socket.
Object.assign(window, {
  __jam: {
    voices: voiceStats,
    listeners: (ev: string) => socket.listeners(ev).length,
    socketId: () => socket.id ?? null,
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
