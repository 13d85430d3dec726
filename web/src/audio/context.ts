// The page's audio context and instruments, created on load so remote
// notes sound as soon as the browser allows (most keep a context
// suspended until the first click: the view shows a hint meanwhile).

import { AudioEngine, type VoiceStart } from './engine';

export const ctx = new AudioContext({ latencyHint: 'interactive' });
export const engine = new AudioEngine(ctx);

/** Voices started, for tests and the benchmark (window.__jam). */
export const voiceStats = { started: 0, log: [] as VoiceStart[] };
const VOICE_LOG_MAX = 4000; // the oldest entries go first

engine.onVoice = (v) => {
  voiceStats.started++;
  voiceStats.log.push(v);
  if (voiceStats.log.length > VOICE_LOG_MAX) voiceStats.log.splice(0, voiceStats.log.length - VOICE_LOG_MAX);
};

/** Resumes a suspended context; called from user gestures. */
export function resumeAudio() {
  if (ctx.state === 'suspended') void ctx.resume().catch(() => {});
}
