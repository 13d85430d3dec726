import { describe, expect, it } from 'vitest';
import { HeldNotes } from './held';

describe('note release', () => {
  it('stops a key on release, and a repeated key once', () => {
    const h = new HeldNotes<string>();
    expect(h.press('a', 60, 'v1')).toEqual([]);
    expect(h.press('a', 60, 'v2')).toEqual(['v1']);
    expect(h.release('a', 60)).toEqual(['v2']);
    expect(h.release('a', 60)).toEqual([]);
    expect(h.count()).toBe(0);
  });
  it('keeps released keys under the pedal until it goes up', () => {
    const h = new HeldNotes<string>();
    h.press('a', 60, 'c');
    h.sustain('a', true);
    h.press('a', 64, 'e');
    expect(h.release('a', 60)).toEqual([]);
    expect(h.sounding('a', 60)).toBe(true);
    expect(h.sustain('a', false)).toEqual(['c']);
    expect(h.sounding('a', 64)).toBe(true); // still down
    expect(h.release('a', 64)).toEqual(['e']);
  });
  it('ends everything of a participant who leaves, pedal included', () => {
    const h = new HeldNotes<string>();
    h.press('bob', 60, 'b60');
    h.sustain('bob', true);
    h.press('bob', 62, 'b62');
    h.release('bob', 62);
    h.press('amy', 60, 'a60');
    expect(h.releaseOwner('bob').sort()).toEqual(['b60', 'b62']);
    expect(h.count('bob')).toBe(0);
    h.press('bob', 65, 'b65');
    expect(h.release('bob', 65)).toEqual(['b65']); // the pedal left with him
    expect(h.count('amy')).toBe(1);
  });
  it('ends every remote note when the connection drops, but ours', () => {
    const h = new HeldNotes<string>();
    h.press('local', 60, 'mine');
    h.press('x', 61, 'x61');
    h.sustain('y', true);
    h.press('y', 62, 'y62');
    h.release('y', 62);
    expect(h.releaseOthers('local').sort()).toEqual(['x61', 'y62']);
    expect(h.count()).toBe(1);
  });
});
