import { describe, expect, it } from 'vitest';
import { drumFor, drumKey, drumName, noteName, parseNote } from './notes';

describe('notes', () => {
  it('names notes in scientific pitch', () => {
    expect([noteName(60), noteName(61), noteName(66), noteName(0), noteName(127)]).toEqual(['C4', 'C#4', 'F#4', 'C-1', 'G9']);
    for (let n = 0; n < 128; n++) expect(parseNote(noteName(n))).toBe(n);
    expect([parseNote('Db5'), parseNote('d#5'), parseNote('H4'), parseNote('C10'), parseNote('')]).toEqual([73, 75, null, null, null]);
  });
  it('knows the GM drum names of mapping/drums.go', () => {
    expect([drumName(36), drumName(38), drumName(42), drumName(46), drumName(39), drumName(45), drumName(50), drumName(49), drumName(51)]).toEqual([
      'kick', 'snare', 'hihat_closed', 'hihat_open', 'clap', 'tom_low', 'tom_high', 'crash', 'ride',
    ]);
    expect([drumName(34), drumName(82), drumKey('triangle_open'), drumKey('nope')]).toEqual([null, null, 81, null]);
  });
  it('finds the voice and pad of a drum_hit', () => {
    expect(drumFor('snare')).toEqual({ voice: 'snare', pad: 'snare' });
    expect(drumFor('C2')).toEqual({ voice: 'kick', pad: 'kick' }); // 36 read as a GM key
    expect(drumFor('whatever', 42)).toEqual({ voice: 'hihat_closed', pad: 'hihat_closed' });
    expect(drumFor('china')).toEqual({ voice: 'crash', pad: 'crash' });
    expect(drumFor('cowbell')).toEqual({ voice: 'perc', pad: null });
    expect(drumFor('??')).toEqual({ voice: 'perc', pad: null });
  });
});
