// Note names (scientific pitch, C4 = MIDI 60) and the General MIDI drum
// names of mapping/drums.go.

const NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
const STEPS: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

/** The name of a MIDI note: 60 is C4, 61 is C#4. */
export function noteName(midi: number): string {
  return NAMES[midi % 12] + String(Math.floor(midi / 12) - 1);
}

/** The MIDI note of a name (C4, F#4, Db5, c-1), or null. */
export function parseNote(name: string): number | null {
  const m = /^([A-Ga-g])([#b]?)(-?\d{1,2})$/.exec(name.trim());
  if (!m) return null;
  const n = (Number(m[3]) + 1) * 12 + STEPS[m[1].toUpperCase()] + (m[2] === '#' ? 1 : m[2] === 'b' ? -1 : 0);
  return n >= 0 && n <= 127 ? n : null;
}

export const isBlack = (midi: number) => NAMES[midi % 12].length === 2;

/** GM percussion names for keys 35-81, as mapping/drums.go. */
const GM_DRUMS = [
  'acoustic_kick', 'kick', 'side_stick', 'snare', 'clap',
  'snare_electric', 'tom_floor_low', 'hihat_closed', 'tom_floor_high', 'hihat_pedal',
  'tom_low', 'hihat_open', 'tom_low_mid', 'tom_hi_mid', 'crash',
  'tom_high', 'ride', 'china', 'ride_bell', 'tambourine',
  'splash', 'cowbell', 'crash_2', 'vibraslap', 'ride_2',
  'bongo_high', 'bongo_low', 'conga_mute_high', 'conga_open_high', 'conga_low',
  'timbale_high', 'timbale_low', 'agogo_high', 'agogo_low', 'cabasa',
  'maracas', 'whistle_short', 'whistle_long', 'guiro_short', 'guiro_long',
  'claves', 'woodblock_high', 'woodblock_low', 'cuica_mute', 'cuica_open',
  'triangle_mute', 'triangle_open',
];

/** The GM name of percussion key 35-81, or null. */
export function drumName(key: number): string | null {
  return key >= 35 && key <= 81 ? GM_DRUMS[key - 35] : null;
}

/** The GM key of a canonical drum name, or null. */
export function drumKey(name: string): number | null {
  const i = GM_DRUMS.indexOf(name);
  return i < 0 ? null : i + 35;
}

/** The pads of the page, in their order on screen. */
export const PADS = ['kick', 'snare', 'hihat_closed', 'hihat_open', 'clap', 'tom_low', 'tom_high', 'crash', 'ride'] as const;
export type Pad = (typeof PADS)[number];

/** The drum voices the page synthesises: the pads and a generic hit. */
export type DrumVoice = Pad | 'perc';

// Other GM names sound with the nearest pad's voice.
const FAMILY: Record<string, Pad> = {
  acoustic_kick: 'kick', side_stick: 'snare', snare_electric: 'snare',
  tom_floor_low: 'tom_low', tom_floor_high: 'tom_low', hihat_pedal: 'hihat_closed',
  tom_low_mid: 'tom_low', tom_hi_mid: 'tom_high', china: 'crash', splash: 'crash',
  crash_2: 'crash', ride_bell: 'ride', ride_2: 'ride', tambourine: 'hihat_open',
  maracas: 'hihat_closed', cabasa: 'hihat_closed',
};

/**
 * The voice and the pad (null when none fits) for a drum_hit's note: a GM
 * drum name, else the midi hint, else a note name read as a GM key.
 */
export function drumFor(note: string, midi?: number): { voice: DrumVoice; pad: Pad | null } {
  let name: string | null = note;
  if (drumKey(name) === null) {
    const key = midi ?? parseNote(note);
    name = key === null ? null : drumName(key);
  }
  if (name === null) return { voice: 'perc', pad: null };
  const pad = (PADS as readonly string[]).includes(name) ? (name as Pad) : (FAMILY[name] ?? null);
  return { voice: pad ?? 'perc', pad };
}
