// The page's instruments, synthesised with WebAudio (no samples): nine
// drum voices, a generic percussion hit and a piano-like voice. Every
// voice starts on the audio clock at once; piano voices are kept in a
// HeldNotes table per owner so none is left sounding.

import type { DrumVoice } from '../music/notes';
import { HeldNotes } from './held';

/** One voice started, for the page's test hook and the benchmark. */
export interface VoiceStart {
  voice: string; // a drum voice or "piano"
  note: number | string;
  owner: string;
  at: number; // unix ms (performance.timeOrigin + performance.now())
}

/** A started piano voice: stop() lets it ring out and end. */
interface PianoVoice {
  stop(): void;
}

export class AudioEngine {
  readonly ctx: AudioContext;
  private out: AudioNode;
  private noise: AudioBuffer;
  private held = new HeldNotes<PianoVoice>();
  /** Called for every voice started. */
  onVoice: ((v: VoiceStart) => void) | null = null;

  constructor(ctx: AudioContext) {
    this.ctx = ctx;
    const comp = ctx.createDynamicsCompressor();
    comp.threshold.value = -12;
    const master = ctx.createGain();
    master.gain.value = 0.6;
    master.connect(comp).connect(ctx.destination);
    this.out = master;
    this.noise = ctx.createBuffer(1, ctx.sampleRate, ctx.sampleRate);
    const d = this.noise.getChannelData(0);
    for (let i = 0; i < d.length; i++) d[i] = Math.random() * 2 - 1;
  }

  private started(voice: string, note: number | string, owner: string) {
    this.onVoice?.({ voice, note, owner, at: performance.timeOrigin + performance.now() });
  }

  private env(t: number, peak: number, decay: number): GainNode {
    const g = this.ctx.createGain();
    g.gain.setValueAtTime(peak, t);
    g.gain.exponentialRampToValueAtTime(0.0001, t + decay);
    g.connect(this.out);
    return g;
  }

  private tone(t: number, type: OscillatorType, f0: number, f1: number, peak: number, decay: number) {
    const o = this.ctx.createOscillator();
    o.type = type;
    o.frequency.setValueAtTime(f0, t);
    o.frequency.exponentialRampToValueAtTime(f1, t + decay * 0.6);
    o.connect(this.env(t, peak, decay));
    o.start(t);
    o.stop(t + decay + 0.02);
  }

  private hiss(t: number, filter: BiquadFilterType, freq: number, peak: number, decay: number, q = 1) {
    const s = this.ctx.createBufferSource();
    s.buffer = this.noise;
    const f = this.ctx.createBiquadFilter();
    f.type = filter;
    f.frequency.value = freq;
    f.Q.value = q;
    s.connect(f).connect(this.env(t, peak, decay));
    s.start(t, Math.random() * 0.5);
    s.stop(t + decay + 0.02);
  }

  /** A drum hit, velocity 1-127. */
  drum(owner: string, voice: DrumVoice, velocity: number) {
    const t = this.ctx.currentTime;
    const a = Math.max(1, velocity) / 127;
    switch (voice) {
      case 'kick':
        this.tone(t, 'sine', 150, 42, a, 0.45);
        break;
      case 'snare':
        this.tone(t, 'triangle', 220, 160, a * 0.5, 0.12);
        this.hiss(t, 'highpass', 1500, a * 0.7, 0.2);
        break;
      case 'hihat_closed':
        this.hiss(t, 'highpass', 7500, a * 0.5, 0.05);
        break;
      case 'hihat_open':
        this.hiss(t, 'highpass', 7000, a * 0.45, 0.35);
        break;
      case 'clap':
        for (const dt of [0, 0.012, 0.024]) this.hiss(t + dt, 'bandpass', 1400, a * 0.6, 0.09, 2);
        break;
      case 'tom_low':
        this.tone(t, 'sine', 180, 110, a * 0.9, 0.35);
        break;
      case 'tom_high':
        this.tone(t, 'sine', 280, 180, a * 0.9, 0.28);
        break;
      case 'crash':
        this.hiss(t, 'highpass', 4500, a * 0.45, 1.4);
        break;
      case 'ride':
        this.hiss(t, 'bandpass', 8000, a * 0.35, 0.8, 0.8);
        this.tone(t, 'square', 5200, 5000, a * 0.03, 0.6);
        break;
      default:
        this.hiss(t, 'bandpass', 2500, a * 0.5, 0.08, 3);
    }
    this.started(voice, voice, owner);
  }

  /** A piano-like voice on a key; it sounds until pianoOff (and the pedal). */
  pianoOn(owner: string, midi: number, velocity: number) {
    const t = this.ctx.currentTime;
    const f = 440 * Math.pow(2, (midi - 69) / 12);
    const a = (Math.max(1, velocity) / 127) * 0.35;
    const g = this.ctx.createGain();
    g.gain.setValueAtTime(0, t);
    g.gain.linearRampToValueAtTime(a, t + 0.004);
    g.gain.setTargetAtTime(a * 0.25, t + 0.004, 0.9); // decays while held, as a struck string
    const lp = this.ctx.createBiquadFilter();
    lp.type = 'lowpass';
    lp.frequency.setValueAtTime(Math.min(12000, f * 8), t);
    lp.frequency.setTargetAtTime(f * 3, t, 0.4);
    lp.connect(g).connect(this.out);
    const oscs = [
      [1, 'triangle', 1],
      [2, 'sine', 0.35],
      [3, 'sine', 0.12],
    ].map(([mult, type, level]) => {
      const o = this.ctx.createOscillator();
      o.type = type as OscillatorType;
      o.frequency.value = f * (mult as number);
      const l = this.ctx.createGain();
      l.gain.value = level as number;
      o.connect(l).connect(lp);
      o.start(t);
      return o;
    });
    let stopped = false;
    const voice: PianoVoice = {
      stop: () => {
        if (stopped) return;
        stopped = true;
        const now = this.ctx.currentTime;
        g.gain.cancelScheduledValues(now);
        g.gain.setValueAtTime(g.gain.value, now);
        g.gain.setTargetAtTime(0, now, 0.08);
        for (const o of oscs) o.stop(now + 0.6);
      },
    };
    for (const v of this.held.press(owner, midi, voice)) v.stop();
    this.started('piano', midi, owner);
  }

  pianoOff(owner: string, midi: number) {
    for (const v of this.held.release(owner, midi)) v.stop();
  }

  sustain(owner: string, down: boolean) {
    for (const v of this.held.sustain(owner, down)) v.stop();
  }

  /** Ends every note of an owner (it left). */
  releaseOwner(owner: string) {
    for (const v of this.held.releaseOwner(owner)) v.stop();
  }

  /** Ends every note but `keep`'s (the connection dropped). */
  releaseOthers(keep: string) {
    for (const v of this.held.releaseOthers(keep)) v.stop();
  }

  /** Piano voices sounding (for an owner, or all). */
  sounding(owner?: string): number {
    return this.held.count(owner);
  }
}
