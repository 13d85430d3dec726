// The page's one Socket.IO connection, as socket.io-client's React guide
// has it: one module-level socket, created without connecting, that the
// session view connects on mount and disconnects on unmount.
//
// React StrictMode mounts, unmounts and mounts again in one go; the
// connect waits for a microtask, so that sequence opens exactly one
// connection instead of opening one, abandoning it half-open and opening
// another. Leaving the view disconnects at once, and so does closing or
// leaving the tab (pagehide).

import { io } from 'socket.io-client';

// Same origin (the relay serves the page) unless a dev build names one.
const url: string | undefined = import.meta.env.VITE_RELAY_URL || undefined;

/** Default transports: long-polling, upgraded to websocket. */
export const socket = url ? io(url, { autoConnect: false }) : io({ autoConnect: false });

let holders = 0;
let connectQueued = false;

/** Connects, unless already connected or about to. */
export function acquire() {
  holders++;
  if (connectQueued || socket.active) return;
  connectQueued = true;
  queueMicrotask(() => {
    connectQueued = false;
    if (holders > 0 && !socket.active) socket.connect();
  });
}

/** Disconnects at once when the last holder lets go. */
export function release() {
  holders = Math.max(0, holders - 1);
  if (holders === 0) socket.disconnect();
}

if (typeof window !== 'undefined') {
  window.addEventListener('pagehide', () => socket.disconnect());
  // Back from the back-forward cache with the view still mounted.
  window.addEventListener('pageshow', (e) => {
    if (e.persisted && holders > 0 && !socket.active) socket.connect();
  });
}
