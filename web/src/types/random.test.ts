// The checks of incoming events never throw and never let a bad field
// through, whatever arrives (a seeded random walk over JSON values).
import { describe, expect, it } from 'vitest';
import { parseBroadcast, parseJoined, parseMusical, parseParticipant, parseRelayError } from './events';

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const NAMES = ['drum_hit', 'piano_note', 'control_change', 'pattern_change', 'x'];
const KEYS = ['note', 'velocity', 'timestamp', 'duration', 'midi', 'channel', 'controller', 'value', 'patternId', 'bpm', 'eventName', 'payload', 'senderId', 'serverTime', 'seq', 'roomCode', 'userId', 'participants', 'id', 'name', 'joinedAt', 'kind', 'message', 'code', '__proto__'];

function value(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 2 ? 7 : 9));
  switch (k) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return [0, 1, 127, 128, -1, 0.5, 1e308, NaN, Infinity][Math.floor(r() * 9)];
    case 3: return ['', 'C4', 'kick', 'H9', 'F#4', '\u0000', 'x'.repeat(300)][Math.floor(r() * 7)];
    case 4: return NAMES[Math.floor(r() * NAMES.length)];
    case 5: return undefined;
    case 6: return Math.floor(r() * 200) - 20;
    case 7: return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 6); i > 0; i--) o[KEYS[Math.floor(r() * KEYS.length)]] = value(r, depth + 1);
      return o;
    }
  }
}

describe('incoming checks on random input', () => {
  it('never throw and keep their promises', () => {
    const r = rng(42);
    for (let i = 0; i < 20000; i++) {
      const v = value(r, 0);
      const name = NAMES[Math.floor(r() * NAMES.length)];
      const m = parseMusical(name, v);
      if (m?.eventName === 'drum_hit' || m?.eventName === 'piano_note') {
        expect(typeof m.payload.note).toBe('string');
        expect(Number.isInteger(m.payload.velocity) && m.payload.velocity >= 0 && m.payload.velocity <= 127).toBe(true);
        if (m.payload.midi !== undefined) expect(m.payload.midi >= 0 && m.payload.midi <= 127).toBe(true);
      }
      if (m?.eventName === 'control_change') expect(m.payload.channel >= 1 && m.payload.channel <= 16).toBe(true);
      const b = parseBroadcast(v);
      if (b) expect(typeof b.senderId).toBe('string');
      const j = parseJoined(v);
      if (j) expect(j.participants.every((p) => typeof p.id === 'string' && typeof p.name === 'string')).toBe(true);
      parseParticipant(v);
      expect(typeof parseRelayError(v).message).toBe('string');
    }
  });
});
