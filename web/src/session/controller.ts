// JamController is the page's side of a jam session: it joins (and
// rejoins after every reconnect), keeps relay time with clock:sync, plays
// remote events through the instruments and lights their pads and keys,
// sends local playing (sound first, then the network), and makes sure no
// note outlives its player. It holds no React state: the view reads
// snapshot() when notified. One controller per mounted session view.

import {
  controlChange, drumHit, parseBroadcast, parseJoined, parseMusical, parseParticipant, parseRelayError,
  pianoPress, pianoRelease, type ClockSyncAck, type MusicalEvent, type Participant,
} from '../types/events';
import { drumFor, drumKey, noteName, parseNote, type DrumVoice, type Pad } from '../music/notes';
import { midiBytes } from '../input/midi';

/** The part of a socket.io-client Socket the controller uses. */
export interface SocketLike {
  readonly connected: boolean;
  /** false once the relay refused the connection: socket.io-client does not retry that. */
  readonly active?: boolean;
  readonly id?: string;
  on(ev: string, fn: (...args: any[]) => void): unknown;
  off(ev: string, fn: (...args: any[]) => void): unknown;
  emit(ev: string, ...args: any[]): unknown;
  timeout(ms: number): { emit(ev: string, arg: unknown, cb: (err: unknown, ack: unknown) => void): unknown };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly io: { on(ev: any, fn: any): unknown; off(ev: any, fn: any): unknown };
}

/** The instruments. */
export interface Sound {
  drum(owner: string, voice: DrumVoice, velocity: number): void;
  pianoOn(owner: string, midi: number, velocity: number): void;
  pianoOff(owner: string, midi: number): void;
  sustain(owner: string, down: boolean): void;
  releaseOwner(owner: string): void;
  releaseOthers(keep: string): void;
}

/** What lights pads and keys for remote players: target is a pad name or a note name. */
export interface Lights {
  on(target: string, who: string, color: string): void;
  off(target: string, minMs: number): void;
  allOff(): void;
}

export type Status = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface Member extends Participant {
  color: string;
  latency: number | null; // ms: one way for others, half the clock round trip for us
  self: boolean;
}

export interface LogEntry {
  id: number;
  dir: 'in' | 'out';
  sender: string;
  eventName: string;
  payload: string;
  latency: number | null;
}

export interface Snapshot {
  status: Status;
  room: string | null;
  userId: string | null;
  members: Member[];
  error: string | null;
  notFound: boolean;
  sustain: boolean;
  log: LogEntry[];
  eventsPerSec: number;
  latencyP50: number | null;
  latencyMax: number | null;
  clockOffset: number | null;
  rtt: number | null;
}

export interface Options {
  room: string | null; // null: create a new session
  name: string;
  secret?: string; // the session's secret, from the link's #secret=
  socket: SocketLike;
  sound: Sound;
  lights: Lights;
  now?: () => number; // unix ms
  onRoom?: (room: string) => void; // the session's code, once known
}

const SELF = 'local';
const PALETTE = ['#4ea8de', '#17c964', '#f5a524', '#f31260', '#b57bff', '#06b7db', '#ff7eb6', '#c3e88d'];
const LOG_MAX = 200; // entries kept in the debug log; the oldest go first
const LAT_MAX = 200; // latencies kept for the figures; the oldest go first
const DRUM_LIGHT_MS = 150;
const MIN_LIGHT_MS = 100;

export function colorOf(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

const defaultNow = () => performance.timeOrigin + performance.now();

export class JamController {
  private o: Options;
  private now: () => number;
  private status: Status = 'connecting';
  private room: string | null;
  private userId: string | null = null;
  private members = new Map<string, Member>();
  private error: string | null = null;
  private notFound = false;
  private joinedOnce = false; // a rejoin finding the session gone re-creates it
  private offset: number | null = null;
  private rtt: number | null = null;
  private sustainDown = false;
  private localHeld = new Map<number, { count: number; at: number }>();
  private remoteHeld = new Map<string, Set<number>>(); // owner -> midi lit and sounding
  private debug = false;
  private log: LogEntry[] = [];
  private logId = 0;
  private eventTimes: number[] = [];
  private latencies: number[] = [];
  private listeners = new Set<() => void>();
  private syncTimer: ReturnType<typeof setInterval> | null = null;
  private notifyTimer: ReturnType<typeof setTimeout> | null = null;
  private detached = false;
  /** An optional Web MIDI output for remote events. */
  midiOut: { send(data: number[]): void } | null = null;

  constructor(o: Options) {
    this.o = o;
    this.room = o.room;
    this.now = o.now ?? defaultNow;
  }

  // Named handlers, removed by detach with off(event, handler).
  private handlers: Record<string, (...a: any[]) => void> = {
    connect: () => this.onConnect(),
    disconnect: (reason: string) => this.onDisconnect(reason),
    connect_error: (err: Error) => this.onConnectError(err),
    'session:created': (a: unknown) => this.onJoined(a),
    'session:joined': (a: unknown) => this.onJoined(a),
    'session:user-joined': (a: unknown) => this.onUserJoined(a),
    'session:user-left': (a: unknown) => this.onUserLeft(a),
    'session:left': () => {},
    'event:broadcast': (a: unknown) => this.onBroadcast(a),
    error: (a: unknown) => this.onError(a),
  };
  private managerHandlers: Record<string, (...a: any[]) => void> = {
    reconnect_attempt: () => this.setStatus(this.offline() ? 'offline' : 'reconnecting'),
    reconnect_failed: () => this.setStatus('offline'),
  };

  attach(): () => void {
    const s = this.o.socket;
    for (const [ev, fn] of Object.entries(this.handlers)) s.on(ev, fn);
    for (const [ev, fn] of Object.entries(this.managerHandlers)) s.io.on(ev, fn);
    if (s.connected) this.onConnect();
    return () => this.detach();
  }

  private detach() {
    const s = this.o.socket;
    for (const [ev, fn] of Object.entries(this.handlers)) s.off(ev, fn);
    for (const [ev, fn] of Object.entries(this.managerHandlers)) s.io.off(ev, fn);
    this.detached = true;
    this.stopTimers();
    this.releaseRemote();
    this.listeners.clear();
  }

  private stopTimers() {
    if (this.syncTimer) clearInterval(this.syncTimer);
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    this.syncTimer = this.notifyTimer = null;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(soon = false) {
    if (this.detached || this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      for (const fn of this.listeners) fn();
    }, soon ? 0 : 250);
  }

  private setStatus(s: Status) {
    this.status = s;
    this.changed(true);
  }

  snapshot(): Snapshot {
    const lat = [...this.latencies].sort((a, b) => a - b);
    const t = this.now();
    return {
      status: this.status,
      room: this.room,
      userId: this.userId,
      members: [...this.members.values()],
      error: this.error,
      notFound: this.notFound,
      sustain: this.sustainDown,
      log: this.log.slice(),
      eventsPerSec: this.eventTimes.filter((x) => t - x <= 1000).length,
      latencyP50: lat.length ? lat[Math.floor(lat.length / 2)] : null,
      latencyMax: lat.length ? lat[lat.length - 1] : null,
      clockOffset: this.offset,
      rtt: this.rtt,
    };
  }

  setDebug(on: boolean) {
    this.debug = on;
    if (!on) this.log = [];
    this.changed(true);
  }

  /** Relay time now, unix ms: our clock until the first clock:sync. */
  relayNow(): number {
    return this.now() + (this.offset ?? 0);
  }

  // --- the connection ---

  private onConnect() {
    this.error = null;
    this.setStatus('connecting');
    const s = this.o.socket;
    if (this.room) s.emit('session:join', { roomCode: this.room, ...this.who() });
    else s.emit('session:create', this.who());
    this.syncClock(5);
    if (!this.syncTimer) this.syncTimer = setInterval(() => this.syncClock(3), 30_000);
  }

  private onDisconnect(reason: string) {
    this.releaseRemote();
    this.members.clear();
    this.setStatus(reason === 'io client disconnect' || this.offline() ? 'offline' : 'reconnecting');
  }

  private onConnectError(err: Error) {
    if (this.o.socket.active === false) {
      // The relay's CONNECT_ERROR (an access token missing, expired or
      // invalid): retrying with the same link cannot help.
      this.error = `The relay refused the connection: ${err.message}.`;
      this.setStatus('offline');
      return;
    }
    this.error = `Cannot reach the relay (${err.message}); trying again.`;
    this.setStatus('reconnecting');
  }

  /** Creates the session the page asked to join and found missing. */
  createMissing() {
    if (!this.room) return;
    this.notFound = false;
    this.error = null;
    this.o.socket.emit('session:create', { roomCode: this.room, ...this.who() });
    this.changed(true);
  }

  private who(): { name: string; kind: 'web'; secret?: string } {
    return this.o.secret ? { name: this.o.name, kind: 'web', secret: this.o.secret } : { name: this.o.name, kind: 'web' };
  }

  private offline(): boolean {
    return typeof navigator !== 'undefined' && navigator.onLine === false;
  }

  private syncClock(n: number) {
    const s = this.o.socket;
    const one = (left: number) => {
      if (left === 0 || this.detached || !s.connected) return;
      const t0 = this.now();
      s.timeout(2000).emit('clock:sync', { t0 }, (err: unknown, ack: unknown) => {
        const a = ack as ClockSyncAck | undefined;
        if (err || !a || typeof a.serverTime !== 'number') return;
        const t1 = this.now();
        const rtt = t1 - t0;
        if (this.rtt === null || rtt <= this.rtt * 1.5 || left === n) {
          this.rtt = rtt;
          this.offset = a.serverTime - (t0 + rtt / 2);
          const me = this.userId ? this.members.get(this.userId) : undefined;
          if (me) me.latency = rtt / 2;
          this.changed();
        }
        one(left - 1);
      });
    };
    one(n);
  }

  private member(p: Participant): Member {
    const self = p.id === this.userId;
    return { ...p, color: colorOf(p.id), latency: self && this.rtt !== null ? this.rtt / 2 : null, self };
  }

  private onJoined(arg: unknown) {
    const j = parseJoined(arg);
    if (!j) return;
    this.room = j.roomCode;
    this.userId = j.userId;
    this.notFound = false;
    this.error = null;
    this.members.clear();
    for (const p of j.participants) this.members.set(p.id, this.member(p));
    if (!this.members.has(j.userId)) {
      this.members.set(j.userId, this.member({ id: j.userId, name: this.o.name, joinedAt: Date.now(), kind: 'web' }));
    }
    this.joinedOnce = true;
    this.o.onRoom?.(j.roomCode);
    this.setStatus('live');
  }

  private onUserJoined(arg: unknown) {
    const u = parseParticipant((arg as { user?: unknown } | null)?.user);
    if (!u) return;
    this.members.set(u.id, this.member(u));
    this.changed(true);
  }

  private onUserLeft(arg: unknown) {
    const id = (arg as { userId?: unknown } | null)?.userId;
    if (typeof id !== 'string') return;
    this.releaseOwner(id);
    this.members.delete(id);
    this.changed(true);
  }

  private onError(arg: unknown) {
    const e = parseRelayError(arg);
    if (e.code === 'session_not_found' && this.joinedOnce && this.status !== 'live') {
      // The relay restarted, or everyone left while we were away: the
      // session goes on here, as a bridge's does.
      this.createMissing();
      return;
    }
    this.notFound = e.code === 'session_not_found';
    this.error = /[.!?]$/.test(e.message) ? e.message : e.message + '.';
    this.changed(true);
  }

  // --- remote playing ---

  private onBroadcast(arg: unknown) {
    const b = parseBroadcast(arg);
    if (!b || b.senderId === this.userId) return; // the relay never echoes; nor do we
    const ev = parseMusical(b.eventName, b.payload);
    const sender = this.members.get(b.senderId);
    const latency = this.latencyOf(ev?.payload.timestamp, b.serverTime);
    if (sender && latency !== null) sender.latency = latency;
    this.count(latency);
    if (this.debug) this.addLog('in', sender?.name ?? b.senderId, b.eventName, b.payload, latency);
    if (ev) this.playRemote(b.senderId, sender?.name ?? b.senderId, ev);
    this.changed();
  }

  private latencyOf(ts: number | undefined, serverTime: number | undefined): number | null {
    const t = this.relayNow();
    if (typeof ts === 'number' && Number.isFinite(ts) && t - ts >= -50 && t - ts < 60_000) return Math.max(0, t - ts);
    if (typeof serverTime === 'number' && this.offset !== null) return Math.max(0, t - serverTime);
    return null;
  }

  private count(latency: number | null) {
    const t = this.now();
    this.eventTimes.push(t);
    while (this.eventTimes.length && t - this.eventTimes[0] > 1000) this.eventTimes.shift();
    if (latency !== null) {
      this.latencies.push(latency);
      if (this.latencies.length > LAT_MAX) this.latencies.shift(); // keep the newest
    }
  }

  private playRemote(id: string, name: string, ev: MusicalEvent) {
    const color = colorOf(id);
    switch (ev.eventName) {
      case 'drum_hit': {
        if (ev.payload.velocity === 0) return;
        const { voice, pad } = drumFor(ev.payload.note, ev.payload.midi);
        this.o.sound.drum(id, voice, ev.payload.velocity);
        if (pad) {
          this.o.lights.on(pad, name, color);
          this.o.lights.off(pad, DRUM_LIGHT_MS);
        }
        const key = ev.payload.midi ?? drumKey(ev.payload.note) ?? parseNote(ev.payload.note) ?? 38;
        this.midiOut?.send(midiBytes({ kind: 'on', midi: key, velocity: ev.payload.velocity, channel: 10 }));
        this.midiOut?.send(midiBytes({ kind: 'off', midi: key, velocity: 0, channel: 10 }));
        return;
      }
      case 'piano_note': {
        const midi = ev.payload.midi ?? parseNote(ev.payload.note);
        if (midi === null) return;
        const ch = ev.payload.channel ?? 1;
        if (ev.payload.velocity > 0) this.remoteOn(id, name, color, midi, ev.payload.velocity, ch);
        else this.remoteOff(id, midi, ch);
        return;
      }
      case 'control_change':
        if (ev.payload.controller === 64) this.o.sound.sustain(id, ev.payload.value >= 64);
        this.midiOut?.send(midiBytes({ kind: 'cc', midi: ev.payload.controller, velocity: ev.payload.value, channel: ev.payload.channel }));
        return;
    }
  }

  private remoteOn(id: string, name: string, color: string, midi: number, velocity: number, ch: number) {
    this.o.sound.pianoOn(id, midi, velocity);
    this.o.lights.on(noteName(midi), name, color);
    let held = this.remoteHeld.get(id);
    if (!held) this.remoteHeld.set(id, (held = new Set()));
    held.add(midi);
    this.midiOut?.send(midiBytes({ kind: 'on', midi, velocity, channel: ch }));
  }

  private remoteOff(id: string, midi: number, ch: number) {
    this.o.sound.pianoOff(id, midi);
    this.o.lights.off(noteName(midi), MIN_LIGHT_MS);
    this.remoteHeld.get(id)?.delete(midi);
    this.midiOut?.send(midiBytes({ kind: 'off', midi, velocity: 0, channel: ch }));
  }

  /** Ends every note a participant sounds here. */
  private releaseOwner(id: string) {
    this.o.sound.releaseOwner(id);
    for (const midi of this.remoteHeld.get(id) ?? []) {
      this.o.lights.off(noteName(midi), 0);
      this.midiOut?.send(midiBytes({ kind: 'off', midi, velocity: 0, channel: 1 }));
    }
    this.remoteHeld.delete(id);
  }

  /** Ends every remote note: the connection dropped or the view left. */
  private releaseRemote() {
    for (const id of [...this.remoteHeld.keys()]) this.releaseOwner(id);
    this.o.sound.releaseOthers(SELF);
    this.o.lights.allOff();
  }

  // --- local playing: the sound first, then the network ---

  private send(eventName: string, payload: unknown) {
    if (this.debug) this.addLog('out', this.o.name, eventName, payload, null);
    if (this.status !== 'live' || !this.room) return; // a late note is worth nothing
    this.o.socket.emit('event:broadcast', { roomCode: this.room, eventName, payload });
    this.count(null);
    if (this.debug) this.changed();
  }

  hitPad(pad: Pad | string, velocity: number, midi?: number) {
    const { voice } = drumFor(pad, midi);
    this.o.sound.drum(SELF, voice, velocity);
    this.send('drum_hit', drumHit(pad, velocity, this.relayNow(), midi));
  }

  /** A key goes down (from any source); a key already down is not sent again. */
  pressKey(midi: number, velocity: number, channel = 1) {
    const h = this.localHeld.get(midi);
    if (h) {
      h.count++;
      return;
    }
    this.localHeld.set(midi, { count: 1, at: this.now() });
    this.o.sound.pianoOn(SELF, midi, velocity);
    this.send('piano_note', pianoPress(noteName(midi), velocity, this.relayNow(), midi, channel));
  }

  /** A key goes up; the release goes out when the last source lets go. */
  releaseKey(midi: number, channel = 1) {
    const h = this.localHeld.get(midi);
    if (!h) return;
    if (--h.count > 0) return;
    this.localHeld.delete(midi);
    this.o.sound.pianoOff(SELF, midi);
    this.send('piano_note', pianoRelease(noteName(midi), this.relayNow(), this.now() - h.at, midi, channel));
  }

  /** Releases every key this page holds (the window lost focus). */
  releaseAllKeys() {
    for (const midi of [...this.localHeld.keys()]) {
      const h = this.localHeld.get(midi)!;
      h.count = 1;
      this.releaseKey(midi);
    }
  }

  setSustain(down: boolean, channel = 1) {
    if (down === this.sustainDown) return;
    this.sustainDown = down;
    this.o.sound.sustain(SELF, down);
    this.send('control_change', controlChange(64, down ? 127 : 0, this.relayNow(), channel));
    this.changed(true);
  }

  isSustained(): boolean {
    return this.sustainDown;
  }

  private addLog(dir: 'in' | 'out', sender: string, eventName: string, payload: unknown, latency: number | null) {
    let text: string;
    try {
      text = JSON.stringify(payload) ?? 'undefined';
    } catch {
      text = String(payload);
    }
    this.log.push({ id: ++this.logId, dir, sender, eventName, payload: text.slice(0, 300), latency });
    if (this.log.length > LOG_MAX) this.log.shift(); // keep the newest
  }
}
