// The computer keyboard, as DAWs lay it out: the home row plays the white
// keys and the row above the black ones (A W S E D F T G Y H U J K O L P ;),
// the bottom row plays the pads (Z X C V B N M , .), - and = shift the
// octave, and the space bar holds the sustain pedal. Keys are matched by
// KeyboardEvent.code, so they stay in place on any layout.

import { PADS, type Pad } from '../music/notes';

/** Semitones above the octave's C, by key code. */
export const PIANO_KEYS: ReadonlyArray<readonly [code: string, label: string, semitone: number]> = [
  ['KeyA', 'A', 0], ['KeyW', 'W', 1], ['KeyS', 'S', 2], ['KeyE', 'E', 3], ['KeyD', 'D', 4],
  ['KeyF', 'F', 5], ['KeyT', 'T', 6], ['KeyG', 'G', 7], ['KeyY', 'Y', 8], ['KeyH', 'H', 9],
  ['KeyU', 'U', 10], ['KeyJ', 'J', 11], ['KeyK', 'K', 12], ['KeyO', 'O', 13], ['KeyL', 'L', 14],
  ['KeyP', 'P', 15], ['Semicolon', ';', 16],
];

export const PAD_KEYS: ReadonlyArray<readonly [code: string, label: string]> = [
  ['KeyZ', 'Z'], ['KeyX', 'X'], ['KeyC', 'C'], ['KeyV', 'V'], ['KeyB', 'B'],
  ['KeyN', 'N'], ['KeyM', 'M'], ['Comma', ','], ['Period', '.'],
];

export type KeyAction =
  | { kind: 'piano'; midi: number }
  | { kind: 'pad'; pad: Pad }
  | { kind: 'octave'; delta: -1 | 1 }
  | { kind: 'sustain' };

const pianoByCode = new Map(PIANO_KEYS.map(([code, , s]) => [code, s]));
const padByCode = new Map(PAD_KEYS.map(([code], i) => [code, PADS[i]]));

/** What a key does with the keyboard's lowest C at `baseMidi`, or null. */
export function keyAction(code: string, baseMidi: number): KeyAction | null {
  const s = pianoByCode.get(code);
  if (s !== undefined) {
    const midi = baseMidi + s;
    return midi <= 127 ? { kind: 'piano', midi } : null;
  }
  const pad = padByCode.get(code);
  if (pad) return { kind: 'pad', pad };
  if (code === 'Minus' || code === 'NumpadSubtract') return { kind: 'octave', delta: -1 };
  if (code === 'Equal' || code === 'NumpadAdd') return { kind: 'octave', delta: 1 };
  if (code === 'Space') return { kind: 'sustain' };
  return null;
}

/** The label shown on a piano key, or '' when no key plays it. */
export function pianoLabel(midi: number, baseMidi: number): string {
  const k = PIANO_KEYS.find(([, , s]) => baseMidi + s === midi);
  return k ? k[1] : '';
}

/** The label shown on a pad. */
export function padLabel(pad: Pad): string {
  return PAD_KEYS[PADS.indexOf(pad)][1];
}

/** Whether a keydown should be left to the page (typing, shortcuts). */
export function ignoredKey(e: { ctrlKey: boolean; metaKey: boolean; altKey: boolean; target: EventTarget | null }): boolean {
  if (e.ctrlKey || e.metaKey || e.altKey) return true;
  const t = e.target as { tagName?: string; type?: string; isContentEditable?: boolean } | null;
  const tag = t?.tagName ?? '';
  if (tag === 'INPUT') return !NOT_TYPING.has(t?.type ?? 'text');
  return tag === 'TEXTAREA' || tag === 'SELECT' || t?.isContentEditable === true;
}

// Inputs that take no typing: the keyboard still plays while they have focus.
const NOT_TYPING = new Set(['checkbox', 'radio', 'range', 'button', 'submit', 'reset', 'color']);

/** Octave bounds: the keyboard's lowest C from C1 to C7. */
export const MIN_BASE = 24;
export const MAX_BASE = 96;
