// The shared event types of shared/PROTOCOL.md (the wire contract), and
// the checks that turn what arrives from the relay into them. Anything
// that does not fit is dropped here, so odd events from other clients
// never reach the audio or the UI.

/** A participant as the relay lists it. `kind` is set by the client. */
export interface Participant {
  id: string;
  name: string;
  joinedAt: number;
  kind?: string;
}

export interface DrumHitPayload {
  note: string; // a drum name (kick, snare, ...) or a note name
  velocity: number; // 1-127
  timestamp: number; // unix ms, relay time
  midi?: number; // 0-127
  channel?: number; // 1-16
}

export interface PianoNotePayload {
  note: string; // scientific pitch: C4 is MIDI 60
  velocity: number; // 0-127; 0 releases the note
  timestamp: number;
  duration?: number; // ms held, on release
  midi?: number;
  channel?: number;
}

export interface PatternChangePayload {
  patternId: string;
  bpm?: number;
  timestamp: number;
}

export interface ControlChangePayload {
  controller: number; // 0-127, e.g. 64 sustain
  value: number; // 0-127
  channel: number; // 1-16
  timestamp: number;
}

export type DrumHitEvent = { eventName: 'drum_hit'; payload: DrumHitPayload };
export type PianoNoteEvent = { eventName: 'piano_note'; payload: PianoNotePayload };
export type PatternChangeEvent = { eventName: 'pattern_change'; payload: PatternChangePayload };
export type ControlChangeEvent = { eventName: 'control_change'; payload: ControlChangePayload };

/** Every musical event the page knows. */
export type MusicalEvent = DrumHitEvent | PianoNoteEvent | PatternChangeEvent | ControlChangeEvent;

/** event:broadcast, client to relay. */
export interface BroadcastRequest {
  roomCode: string;
  eventName: string;
  payload: unknown;
  seq?: number;
}

/** event:broadcast, relay to client, before checking the event. */
export interface IncomingBroadcast {
  eventName: string;
  payload: unknown;
  senderId: string;
  serverTime?: number;
  seq?: number;
}

export interface SessionJoined {
  roomCode: string;
  userId: string;
  participants: Participant[];
}

export interface RelayError {
  message: string;
  code?: string;
}

export interface ClockSyncAck {
  t0: number;
  serverTime: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function isInt(v: unknown, lo: number, hi: number): v is number {
  return Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
}

function optInt(o: Record<string, unknown>, k: string, lo: number, hi: number): number | undefined {
  return isInt(o[k], lo, hi) ? (o[k] as number) : undefined;
}

/** The relay's event:broadcast argument, or null when it is not one. */
export function parseBroadcast(v: unknown): IncomingBroadcast | null {
  if (!isObject(v) || typeof v.eventName !== 'string' || typeof v.senderId !== 'string') return null;
  return {
    eventName: v.eventName,
    payload: v.payload,
    senderId: v.senderId,
    serverTime: isNum(v.serverTime) ? v.serverTime : undefined,
    seq: isNum(v.seq) ? v.seq : undefined,
  };
}

/** A musical event from a broadcast, or null for unknown names and bad payloads. */
export function parseMusical(eventName: string, p: unknown): MusicalEvent | null {
  if (!isObject(p)) return null;
  const timestamp = isNum(p.timestamp) ? p.timestamp : NaN;
  switch (eventName) {
    case 'drum_hit':
      if (typeof p.note !== 'string' || !isInt(p.velocity, 0, 127)) return null;
      return {
        eventName,
        payload: { note: p.note, velocity: p.velocity, timestamp, midi: optInt(p, 'midi', 0, 127), channel: optInt(p, 'channel', 1, 16) },
      };
    case 'piano_note':
      if (typeof p.note !== 'string' || !isInt(p.velocity, 0, 127)) return null;
      return {
        eventName,
        payload: {
          note: p.note,
          velocity: p.velocity,
          timestamp,
          duration: isNum(p.duration) ? p.duration : undefined,
          midi: optInt(p, 'midi', 0, 127),
          channel: optInt(p, 'channel', 1, 16),
        },
      };
    case 'control_change':
      if (!isInt(p.controller, 0, 127) || !isInt(p.value, 0, 127)) return null;
      return { eventName, payload: { controller: p.controller, value: p.value, channel: optInt(p, 'channel', 1, 16) ?? 1, timestamp } };
    case 'pattern_change':
      if (typeof p.patternId !== 'string') return null;
      return { eventName, payload: { patternId: p.patternId, bpm: isNum(p.bpm) ? p.bpm : undefined, timestamp } };
  }
  return null;
}

/** A participant object from the relay, or null. */
export function parseParticipant(v: unknown): Participant | null {
  if (!isObject(v) || typeof v.id !== 'string') return null;
  return {
    id: v.id,
    name: typeof v.name === 'string' && v.name !== '' ? v.name : v.id.slice(0, 6),
    joinedAt: isNum(v.joinedAt) ? v.joinedAt : 0,
    kind: typeof v.kind === 'string' ? v.kind : undefined,
  };
}

/** session:created / session:joined, or null. */
export function parseJoined(v: unknown): SessionJoined | null {
  if (!isObject(v) || typeof v.roomCode !== 'string' || typeof v.userId !== 'string') return null;
  const list = Array.isArray(v.participants) ? v.participants : [];
  return {
    roomCode: v.roomCode,
    userId: v.userId,
    participants: list.map(parseParticipant).filter((p): p is Participant => p !== null),
  };
}

/** The relay's error event as one sentence. */
export function parseRelayError(v: unknown): RelayError {
  if (isObject(v) && typeof v.message === 'string' && v.message !== '') {
    return { message: v.message, code: typeof v.code === 'string' ? v.code : undefined };
  }
  return { message: 'the relay reported an error' };
}

// Builders of outgoing payloads, exactly as PROTOCOL.md says.

const clampVelocity = (v: number, lo: number) => Math.max(lo, Math.min(127, Math.round(v)));

export function drumHit(note: string, velocity: number, timestamp: number, midi?: number): DrumHitPayload {
  const p: DrumHitPayload = { note, velocity: clampVelocity(velocity, 1), timestamp };
  if (midi !== undefined) {
    p.midi = midi;
    p.channel = 10;
  }
  return p;
}

export function pianoPress(note: string, velocity: number, timestamp: number, midi?: number, channel = 1): PianoNotePayload {
  const p: PianoNotePayload = { note, velocity: clampVelocity(velocity, 1), timestamp };
  if (midi !== undefined) {
    p.midi = midi;
    p.channel = channel;
  }
  return p;
}

export function pianoRelease(note: string, timestamp: number, duration: number, midi?: number, channel = 1): PianoNotePayload {
  const p: PianoNotePayload = { note, velocity: 0, timestamp, duration: Math.max(0, Math.round(duration)) };
  if (midi !== undefined) {
    p.midi = midi;
    p.channel = channel;
  }
  return p;
}

export function controlChange(controller: number, value: number, timestamp: number, channel = 1): ControlChangePayload {
  return { controller, value, channel, timestamp };
}
