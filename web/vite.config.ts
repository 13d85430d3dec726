/// <reference types="vitest/config" />
import { writeFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';

// keepPlaceholder writes dist/.gitkeep back after Vite empties dist, so
// the Go package's go:embed pattern always matches a file.
let outDir = 'dist';
const keepPlaceholder: Plugin = {
  name: 'keep-placeholder',
  apply: 'build',
  configResolved(c) {
    outDir = c.build.outDir;
  },
  closeBundle() {
    if (outDir === 'dist') writeFileSync('dist/.gitkeep', '');
  },
};

export default defineConfig({
  plugins: [keepPlaceholder],
  build: {
    outDir: 'dist',
    assetsInlineLimit: 0, // no data: URLs beyond what the CSP allows
    modulePreload: { polyfill: false }, // every browser with Web MIDI has it
    target: 'es2022',
  },
  server: {
    // npm run dev: the page on :5173, the relay (make run) on :3001. The
    // relay lets in its own origin only (never judged by the Host header):
    // the proxied requests, websockets included, come as from its own page.
    proxy: { '/socket.io': { target: 'http://localhost:3001', ws: true, headers: { origin: 'http://localhost:3001' } } },
  },
  test: {
    include: ['src/**/*.test.ts'],
  },
});
