// Web MIDI input mapped the way mapping/ maps a USB device for the
// bridge: channel 10 to drum_hit, other channels to piano_note, note-off
// (or note-on with velocity 0) to a piano_note with velocity 0 and the
// time held, and the sustain pedal (CC 64) to control_change.

import { drumName, noteName } from '../music/notes';

export type MidiAction =
  | { kind: 'drum'; note: string; midi: number; velocity: number }
  | { kind: 'noteOn'; note: string; midi: number; velocity: number; channel: number }
  | { kind: 'noteOff'; note: string; midi: number; channel: number }
  | { kind: 'cc'; controller: number; value: number; channel: number };

/** The action of one MIDI message, or null for what the page ignores. */
export function midiAction(data: ArrayLike<number>): MidiAction | null {
  if (data.length < 3) return null;
  const status = data[0] & 0xf0;
  const channel = (data[0] & 0x0f) + 1;
  const d1 = data[1] & 0x7f;
  const d2 = data[2] & 0x7f;
  const on = status === 0x90 && d2 > 0;
  const off = status === 0x80 || (status === 0x90 && d2 === 0);
  if (channel === 10 && (on || off)) {
    return on ? { kind: 'drum', note: drumName(d1) ?? noteName(d1), midi: d1, velocity: d2 } : null;
  }
  if (on) return { kind: 'noteOn', note: noteName(d1), midi: d1, velocity: d2, channel };
  if (off) return { kind: 'noteOff', note: noteName(d1), midi: d1, channel };
  if (status === 0xb0 && d1 === 64) return { kind: 'cc', controller: 64, value: d2, channel };
  return null;
}

/** MIDI bytes for a remote event, for an optional Web MIDI output. */
export function midiBytes(ev: { kind: 'on' | 'off' | 'cc'; midi: number; velocity: number; channel: number }): number[] {
  const ch = (Math.max(1, Math.min(16, ev.channel)) - 1) & 0x0f;
  switch (ev.kind) {
    case 'on':
      return [0x90 | ch, ev.midi & 0x7f, ev.velocity & 0x7f];
    case 'off':
      return [0x80 | ch, ev.midi & 0x7f, 0];
    case 'cc':
      return [0xb0 | ch, ev.midi & 0x7f, ev.velocity & 0x7f];
  }
}

/** Why Web MIDI is not available, as one sentence for the page. */
export function midiUnavailable(err: unknown): string {
  const name = (err as { name?: string } | null)?.name;
  if (name === 'SecurityError' || name === 'NotAllowedError') {
    return 'Web MIDI was refused, so MIDI devices plugged into this computer cannot play here (the rest of the page works).';
  }
  return 'This browser has no Web MIDI, so MIDI devices plugged into this computer cannot play here (Chrome, Edge or Opera can).';
}
