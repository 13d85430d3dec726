import { describe, expect, it } from 'vitest';
import { fragment, newSecret, readFragment, shareLink } from './access';

describe('access', () => {
  it('makes secrets of 80 random bits, readable aloud', () => {
    const s = newSecret();
    expect(s).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
    expect(newSecret()).not.toBe(s);
    expect(newSecret((a) => a.fill(31))).toBe('ZZZZ-ZZZZ-ZZZZ-ZZZZ');
  });
  it('reads the secret and the token from the fragment', () => {
    expect(readFragment('#secret=open%20sesame&token=a.b.c')).toEqual({ secret: 'open sesame', token: 'a.b.c' });
    expect(readFragment('#token=t')).toEqual({ token: 't' });
    expect(readFragment('')).toEqual({});
    expect(readFragment('#secret=')).toEqual({});
  });
  it('writes a fragment that reads back the same', () => {
    for (const a of [{ secret: 'open sesame' }, { secret: 'a&b=c#d', token: 'x.y.z' }, {}]) {
      expect(readFragment(fragment(a))).toEqual(a);
    }
    expect(fragment({ secret: 'open sesame' })).toBe('#secret=open%20sesame');
    expect(fragment({})).toBe('');
  });
  it('shares the secret, never the token', () => {
    expect(shareLink('http://h:1', 'AB-12', 's')).toBe('http://h:1/jam/AB-12#secret=s');
    expect(shareLink('http://h:1', 'AB-12')).toBe('http://h:1/jam/AB-12');
  });
});
