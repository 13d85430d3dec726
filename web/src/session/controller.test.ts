import { describe, expect, it } from 'vitest';
import { JamController, type Lights, type Sound, type SocketLike } from './controller';

class FakeSocket implements SocketLike {
  connected = false;
  active = true;
  id = 'me';
  handlers = new Map<string, Set<(...a: any[]) => void>>();
  emitted: [string, unknown][] = [];
  io = { on: () => this, off: () => this };
  on(ev: string, fn: (...a: any[]) => void) {
    if (!this.handlers.has(ev)) this.handlers.set(ev, new Set());
    this.handlers.get(ev)!.add(fn);
  }
  off(ev: string, fn: (...a: any[]) => void) {
    this.handlers.get(ev)?.delete(fn);
  }
  emit(ev: string, arg: unknown) {
    this.emitted.push([ev, arg]);
  }
  timeout() {
    return { emit: (_ev: string, arg: unknown, cb: (e: unknown, a: unknown) => void) => cb(null, { t0: (arg as { t0: number }).t0, serverTime: 5000 }) };
  }
  fire(ev: string, arg?: unknown) {
    for (const fn of this.handlers.get(ev) ?? []) fn(arg);
  }
  count() {
    return [...this.handlers.values()].reduce((n, s) => n + s.size, 0);
  }
}

function setup(room: string | null = 'ROOM-1', secret?: string) {
  const calls: string[] = [];
  const sound: Sound = {
    drum: (o, v, vel) => calls.push(`drum ${o} ${v} ${vel}`),
    pianoOn: (o, m, vel) => calls.push(`on ${o} ${m} ${vel}`),
    pianoOff: (o, m) => calls.push(`off ${o} ${m}`),
    sustain: (o, d) => calls.push(`sustain ${o} ${d}`),
    releaseOwner: (o) => calls.push(`releaseOwner ${o}`),
    releaseOthers: (k) => calls.push(`releaseOthers ${k}`),
  };
  const lit = new Map<string, string>();
  const lights: Lights = { on: (t, who) => lit.set(t, who), off: (t) => lit.delete(t), allOff: () => lit.clear() };
  const s = new FakeSocket();
  let t = 1000;
  const c = new JamController({ room, name: 'ada', secret, socket: s, sound, lights, now: () => t });
  const detach = c.attach();
  return { c, s, calls, lit, detach, tick: (ms: number) => (t += ms) };
}

function live(s: FakeSocket) {
  s.connected = true;
  s.fire('connect');
  s.fire('session:joined', { roomCode: 'ROOM-1', userId: 'me', participants: [{ id: 'me', name: 'ada', joinedAt: 1 }, { id: 'bob', name: 'bob', joinedAt: 2, kind: 'bridge' }] });
}

describe('JamController', () => {
  it('joins on connect, and rejoins after a reconnect', () => {
    const { c, s } = setup();
    live(s);
    expect(s.emitted.filter(([e]) => e === 'session:join')).toEqual([['session:join', { roomCode: 'ROOM-1', name: 'ada', kind: 'web' }]]);
    expect(c.snapshot().status).toBe('live');
    expect(c.snapshot().clockOffset).toBe(5000 - 1000);
    s.fire('disconnect', 'transport close');
    expect(c.snapshot().status).toBe('reconnecting');
    live(s);
    expect(s.emitted.filter(([e]) => e === 'session:join')).toHaveLength(2);
  });
  it('joins with the secret of the link', () => {
    const { s } = setup('ROOM-1', 's3cret');
    s.connected = true;
    s.fire('connect');
    expect(s.emitted[0]).toEqual(['session:join', { roomCode: 'ROOM-1', name: 'ada', kind: 'web', secret: 's3cret' }]);
  });
  it('says a private session refused it, and does not try again', () => {
    const { c, s } = setup('ROOM-1', 'wrong');
    s.connected = true;
    s.fire('connect');
    s.fire('error', { message: 'session ROOM-1 is private: the secret is missing or wrong', code: 'forbidden' });
    expect(c.snapshot().error).toBe('session ROOM-1 is private: the secret is missing or wrong.');
    expect(c.snapshot().notFound).toBe(false);
    expect(s.emitted.filter(([e]) => e.startsWith('session:'))).toHaveLength(1);
  });
  it('tells a refused connection (an access token) from an unreachable relay', () => {
    const { c, s } = setup();
    s.fire('connect_error', new Error('xhr poll error'));
    expect(c.snapshot().error).toBe('Cannot reach the relay (xhr poll error); trying again.');
    expect(c.snapshot().status).toBe('reconnecting');
    s.active = false;
    s.fire('connect_error', new Error('access token expired'));
    expect(c.snapshot().error).toBe('The relay refused the connection: access token expired.');
    expect(c.snapshot().status).toBe('offline');
  });
  it('re-creates its session when a rejoin finds it gone, but not on a first join', () => {
    const { c, s } = setup();
    s.connected = true;
    s.fire('connect');
    s.fire('error', { message: 'session ROOM-1 not found', code: 'session_not_found' });
    expect(c.snapshot().notFound).toBe(true);
    expect(s.emitted.some(([e]) => e === 'session:create')).toBe(false);
    live(s);
    s.fire('disconnect', 'transport close');
    s.fire('connect');
    s.fire('error', { message: 'session ROOM-1 not found', code: 'session_not_found' });
    expect(s.emitted.filter(([e]) => e === 'session:create')).toEqual([['session:create', { roomCode: 'ROOM-1', name: 'ada', kind: 'web' }]]);
    expect(c.snapshot().error).toBeNull();
  });
  it('creates a session when it has no code', () => {
    const { s } = setup(null);
    s.connected = true;
    s.fire('connect');
    expect(s.emitted[0]).toEqual(['session:create', { name: 'ada', kind: 'web' }]);
  });
  it('sounds locally first, then sends in relay time', () => {
    const { c, s, calls } = setup();
    live(s);
    s.emitted = [];
    c.hitPad('kick', 100);
    c.pressKey(60, 90);
    c.pressKey(60, 90); // a second source on the same key: not sent again
    c.releaseKey(60);
    expect(calls.filter((x) => x.includes('local'))).toEqual(['drum local kick 100', 'on local 60 90']);
    c.releaseKey(60);
    expect(s.emitted).toEqual([
      ['event:broadcast', { roomCode: 'ROOM-1', eventName: 'drum_hit', payload: { note: 'kick', velocity: 100, timestamp: 5000 } }],
      ['event:broadcast', { roomCode: 'ROOM-1', eventName: 'piano_note', payload: { note: 'C4', velocity: 90, timestamp: 5000, midi: 60, channel: 1 } }],
      ['event:broadcast', { roomCode: 'ROOM-1', eventName: 'piano_note', payload: { note: 'C4', velocity: 0, timestamp: 5000, duration: 0, midi: 60, channel: 1 } }],
    ]);
  });
  it('sends the sustain pedal as control_change 64', () => {
    const { c, s } = setup();
    live(s);
    s.emitted = [];
    c.setSustain(true);
    c.setSustain(true);
    c.setSustain(false);
    expect(s.emitted.map(([, a]) => (a as { payload: unknown }).payload)).toEqual([
      { controller: 64, value: 127, channel: 1, timestamp: 5000 },
      { controller: 64, value: 0, channel: 1, timestamp: 5000 },
    ]);
  });
  it('plays and lights remote notes, and ends them when the player leaves', () => {
    const { s, calls, lit } = setup();
    live(s);
    s.fire('event:broadcast', { eventName: 'piano_note', payload: { note: 'F#4', velocity: 80, timestamp: 4990 }, senderId: 'bob', serverTime: 4995 });
    s.fire('event:broadcast', { eventName: 'drum_hit', payload: { note: 'snare', velocity: 70, timestamp: 4990 }, senderId: 'bob' });
    expect(calls.slice(-2)).toEqual(['on bob 66 80', 'drum bob snare 70']);
    expect(lit.get('F#4')).toBe('bob');
    s.fire('session:user-left', { userId: 'bob' });
    expect(calls).toContain('releaseOwner bob');
    expect(lit.has('F#4')).toBe(false);
  });
  it('releases every remote note when the connection drops', () => {
    const { s, calls, lit } = setup();
    live(s);
    s.fire('event:broadcast', { eventName: 'piano_note', payload: { note: 'C4', velocity: 80, timestamp: 1 }, senderId: 'bob' });
    s.fire('disconnect', 'ping timeout');
    expect(calls.slice(-2)).toEqual(['releaseOwner bob', 'releaseOthers local']);
    expect(lit.size).toBe(0);
  });
  it('ignores odd events', () => {
    const { c, s, calls } = setup();
    live(s);
    const n = calls.length;
    for (const odd of [null, 7, 'x', { eventName: 'no_such', payload: {}, senderId: 'bob' }, { eventName: 'drum_hit', payload: { velocity: 3 }, senderId: 'bob' },
      { eventName: 'piano_note', payload: { note: 'H2', velocity: 3 }, senderId: 'bob' }, { eventName: 'piano_note', payload: 'C4', senderId: 'bob' }]) {
      s.fire('event:broadcast', odd);
    }
    s.fire('session:user-joined', { user: 'nobody' });
    s.fire('session:user-left', {});
    s.fire('error', 'boom');
    expect(calls.length).toBe(n);
    expect(c.snapshot().error).toBe('the relay reported an error.');
  });
  it('shows relay errors in one sentence', () => {
    const { c, s } = setup();
    live(s);
    s.fire('error', { message: 'session NOPE not found', code: 'session_not_found' });
    expect(c.snapshot()).toMatchObject({ error: 'session NOPE not found.', notFound: true });
  });
  it('leaves no handler behind', () => {
    const { s, detach } = setup();
    expect(s.count()).toBeGreaterThan(0);
    detach();
    expect(s.count()).toBe(0);
  });
});
