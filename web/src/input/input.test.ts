import { describe, expect, it } from 'vitest';
import { ignoredKey, keyAction, padLabel, pianoLabel } from './keyboard';
import { midiAction, midiBytes, midiUnavailable } from './midi';

describe('computer keyboard', () => {
  it('plays the piano on the home row, black keys above', () => {
    const row = ['KeyA', 'KeyW', 'KeyS', 'KeyE', 'KeyD', 'KeyF', 'KeyT', 'KeyG', 'KeyY', 'KeyH', 'KeyU', 'KeyJ', 'KeyK', 'KeyO', 'KeyL', 'KeyP', 'Semicolon'];
    expect(row.map((c) => keyAction(c, 60))).toEqual(row.map((_, i) => ({ kind: 'piano', midi: 60 + i })));
    expect(keyAction('KeyA', 48)).toEqual({ kind: 'piano', midi: 48 });
    expect(keyAction('Semicolon', 120)).toBeNull(); // past MIDI 127
  });
  it('plays the pads on the bottom row', () => {
    const row = ['KeyZ', 'KeyX', 'KeyC', 'KeyV', 'KeyB', 'KeyN', 'KeyM', 'Comma', 'Period'];
    expect(row.map((c) => (keyAction(c, 60) as { pad: string }).pad)).toEqual([
      'kick', 'snare', 'hihat_closed', 'hihat_open', 'clap', 'tom_low', 'tom_high', 'crash', 'ride',
    ]);
  });
  it('shifts octaves and holds the pedal', () => {
    expect([keyAction('Minus', 60), keyAction('Equal', 60), keyAction('Space', 60), keyAction('KeyQ', 60)]).toEqual([
      { kind: 'octave', delta: -1 },
      { kind: 'octave', delta: 1 },
      { kind: 'sustain' },
      null,
    ]);
  });
  it('labels keys and pads', () => {
    expect([pianoLabel(60, 60), pianoLabel(61, 60), pianoLabel(76, 60), pianoLabel(77, 60), padLabel('kick'), padLabel('ride')]).toEqual(['A', 'W', ';', '', 'Z', '.']);
  });
  it('leaves typing and shortcuts alone', () => {
    const k = (o: object) => ({ ctrlKey: false, metaKey: false, altKey: false, target: null, ...o });
    expect(ignoredKey(k({}))).toBe(false);
    expect(ignoredKey(k({ ctrlKey: true }))).toBe(true);
    expect(ignoredKey(k({ target: { tagName: 'INPUT' } }))).toBe(true);
    expect(ignoredKey(k({ target: { tagName: 'INPUT', type: 'text' } }))).toBe(true);
    expect(ignoredKey(k({ target: { tagName: 'INPUT', type: 'checkbox' } }))).toBe(false);
    expect(ignoredKey(k({ target: { tagName: 'INPUT', type: 'range' } }))).toBe(false);
    expect(ignoredKey(k({ target: { tagName: 'SELECT' } }))).toBe(true);
  });
});

describe('Web MIDI mapping', () => {
  it('maps channel 10 to drum_hit and ignores its note-offs', () => {
    expect(midiAction([0x99, 36, 127])).toEqual({ kind: 'drum', note: 'kick', midi: 36, velocity: 127 });
    expect(midiAction([0x99, 20, 50])).toEqual({ kind: 'drum', note: 'G#0', midi: 20, velocity: 50 });
    expect(midiAction([0x89, 36, 0])).toBeNull();
    expect(midiAction([0x99, 36, 0])).toBeNull();
  });
  it('maps other channels to piano notes, note-off and note-on 0 alike', () => {
    expect(midiAction([0x90, 60, 100])).toEqual({ kind: 'noteOn', note: 'C4', midi: 60, velocity: 100, channel: 1 });
    expect(midiAction([0x93, 66, 1])).toEqual({ kind: 'noteOn', note: 'F#4', midi: 66, velocity: 1, channel: 4 });
    expect(midiAction([0x80, 60, 64])).toEqual({ kind: 'noteOff', note: 'C4', midi: 60, channel: 1 });
    expect(midiAction([0x90, 60, 0])).toEqual({ kind: 'noteOff', note: 'C4', midi: 60, channel: 1 });
  });
  it('maps the sustain pedal and ignores the rest', () => {
    expect(midiAction([0xb0, 64, 127])).toEqual({ kind: 'cc', controller: 64, value: 127, channel: 1 });
    expect(midiAction([0xb0, 7, 100])).toBeNull();
    expect(midiAction([0xe0, 0, 64])).toBeNull();
    expect(midiAction([0xf8])).toBeNull();
  });
  it('writes MIDI for an output', () => {
    expect(midiBytes({ kind: 'on', midi: 60, velocity: 90, channel: 1 })).toEqual([0x90, 60, 90]);
    expect(midiBytes({ kind: 'off', midi: 36, velocity: 0, channel: 10 })).toEqual([0x89, 36, 0]);
    expect(midiBytes({ kind: 'cc', midi: 64, velocity: 127, channel: 2 })).toEqual([0xb1, 64, 127]);
  });
  it('says in one sentence why there is no MIDI', () => {
    expect(midiUnavailable({ name: 'SecurityError' })).toMatch(/^Web MIDI was refused.*\.$/);
    expect(midiUnavailable(null)).toMatch(/^This browser has no Web MIDI.*\.$/);
  });
});
