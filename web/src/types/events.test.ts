import { describe, expect, it } from 'vitest';
import { controlChange, drumHit, parseBroadcast, parseJoined, parseMusical, parseRelayError, pianoPress, pianoRelease } from './events';

describe('outgoing payloads', () => {
  it('builds drum_hit as PROTOCOL.md says', () => {
    expect(drumHit('kick', 100, 1700000000000.5)).toEqual({ note: 'kick', velocity: 100, timestamp: 1700000000000.5 });
    expect(drumHit('snare', 0, 1)).toEqual({ note: 'snare', velocity: 1, timestamp: 1 }); // 1-127
    expect(drumHit('kick', 300.4, 1, 36)).toEqual({ note: 'kick', velocity: 127, timestamp: 1, midi: 36, channel: 10 });
  });
  it('builds piano_note press and release', () => {
    expect(pianoPress('C4', 90, 5)).toEqual({ note: 'C4', velocity: 90, timestamp: 5 });
    expect(pianoPress('F#4', 90, 5, 66, 2)).toEqual({ note: 'F#4', velocity: 90, timestamp: 5, midi: 66, channel: 2 });
    expect(pianoRelease('C4', 9, 412.6)).toEqual({ note: 'C4', velocity: 0, timestamp: 9, duration: 413 });
  });
  it('builds the sustain pedal', () => {
    expect(controlChange(64, 127, 3)).toEqual({ controller: 64, value: 127, channel: 1, timestamp: 3 });
  });
});

describe('incoming events', () => {
  it('reads a broadcast and its musical event', () => {
    const b = parseBroadcast({ eventName: 'piano_note', payload: { note: 'D#5', velocity: 0, timestamp: 7, duration: 120 }, senderId: 'abc', serverTime: 8 });
    expect(b).toEqual({ eventName: 'piano_note', payload: { note: 'D#5', velocity: 0, timestamp: 7, duration: 120 }, senderId: 'abc', serverTime: 8, seq: undefined });
    expect(parseMusical(b!.eventName, b!.payload)).toEqual({
      eventName: 'piano_note',
      payload: { note: 'D#5', velocity: 0, timestamp: 7, duration: 120, midi: undefined, channel: undefined },
    });
  });
  it('drops what does not fit', () => {
    for (const v of [null, 1, 'x', [], { eventName: 1, senderId: 'a' }, { eventName: 'drum_hit' }]) expect(parseBroadcast(v)).toBeNull();
    const bad: [string, unknown][] = [
      ['drum_hit', null],
      ['drum_hit', []],
      ['drum_hit', { velocity: 100 }],
      ['drum_hit', { note: 'kick', velocity: '100' }],
      ['drum_hit', { note: 'kick', velocity: 300 }],
      ['piano_note', { note: 60, velocity: 1 }],
      ['piano_note', { note: 'C4', velocity: 1.5 }],
      ['control_change', { controller: 'x', value: 1 }],
      ['pattern_change', { bpm: 120 }],
      ['no_such_event', { note: 'kick', velocity: 1 }],
    ];
    for (const [name, p] of bad) expect(parseMusical(name, p), `${name} ${JSON.stringify(p)}`).toBeNull();
  });
  it('ignores bad optional fields and keeps the event', () => {
    expect(parseMusical('drum_hit', { note: 'kick', velocity: 9, timestamp: 'x', midi: 300, channel: 'ten', extra: {} })).toEqual({
      eventName: 'drum_hit',
      payload: { note: 'kick', velocity: 9, timestamp: NaN, midi: undefined, channel: undefined },
    });
  });
  it('reads joins and errors', () => {
    expect(parseJoined({ roomCode: 'AB-1', userId: 'u', participants: [{ id: 'u', name: 'ada', joinedAt: 1, kind: 'web' }, { nope: 1 }, 'x'] })).toEqual({
      roomCode: 'AB-1',
      userId: 'u',
      participants: [{ id: 'u', name: 'ada', joinedAt: 1, kind: 'web' }],
    });
    expect(parseRelayError({ message: 'session X not found', code: 'session_not_found' })).toEqual({ message: 'session X not found', code: 'session_not_found' });
    expect(parseRelayError(42).message).toBe('the relay reported an error');
  });
});
