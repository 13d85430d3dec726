// The /jam view (story 7.3, AC 6 and 7): connects on mount through the
// one socket module, plays and hears the session, and disconnects at once
// when the view goes away.

import React, { useCallback, useEffect, useRef, useState, type FormEvent, type PointerEvent } from 'react';
import { acquire, release, socket } from '../../net/socket';
import { ctx, engine, resumeAudio } from '../../audio/context';
import { JamController, type Snapshot } from '../../session/controller';
import { domLights } from '../../session/lights';
import { readFragment, shareLink } from '../../session/access';
import { ignoredKey, keyAction, MAX_BASE, MIN_BASE } from '../../input/keyboard';
import type { MidiAction } from '../../input/midi';
import { useWebMidi } from '../../input/webmidi';
import { noteName, type Pad } from '../../music/notes';
import { saveName, savedName } from '../Landing';
import { Pads, Piano, strikeVelocity } from './Instruments';
import { DebugPanel, SessionPanel } from './Panels';

interface JamSessionProps {
  room: string | null; // null: create a new session
  name: string | null;
  onBack: () => void;
}

export const JamSession: React.FC<JamSessionProps> = ({ room, name, onBack }) => {
  const [who, setWho] = useState(() => name?.trim() || savedName() || null);
  if (!who) return <NamePrompt room={room} onName={setWho} />;
  return <Jam room={room} name={who} onBack={onBack} />;
};

function NamePrompt({ room, onName }: { room: string | null; onName: (n: string) => void }) {
  const [v, setV] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (v.trim() === '') return;
    saveName(v.trim());
    onName(v.trim());
  };
  return (
    <main className="landing">
      <h1>{room ? `Join ${room}` : 'New session'}</h1>
      <form onSubmit={submit} className="join">
        <label>
          Your name
          <input autoFocus value={v} onChange={(e) => setV(e.target.value)} maxLength={40} />
        </label>
        <button type="submit" disabled={v.trim() === ''}>
          Join
        </button>
      </form>
    </main>
  );
}

function useAudioState(): AudioContextState {
  const [st, setSt] = useState(ctx.state);
  useEffect(() => {
    const on = () => setSt(ctx.state);
    ctx.addEventListener('statechange', on);
    return () => ctx.removeEventListener('statechange', on);
  }, []);
  return st;
}

function Jam({ room, name, onBack }: { room: string | null; name: string; onBack: () => void }) {
  const rootRef = useRef<HTMLDivElement>(null);
  const [ctl, setCtl] = useState<JamController | null>(null);
  const [snap, setSnap] = useState<Snapshot | null>(null);
  const [base, setBase] = useState(60);
  const [fixed, setFixed] = useState(false);
  const [fixedVel, setFixedVel] = useState(100);
  const [debug, setDebug] = useState(false);
  const [outId, setOutId] = useState('');
  const audio = useAudioState();

  // Secrets and tokens travel in the fragment, never to a server log.
  const { secret, token } = readFragment(location.hash);

  useEffect(() => {
    socket.auth = token ? { token } : {};
    const c = new JamController({
      room,
      name,
      secret,
      socket,
      sound: engine,
      lights: domLights(() => rootRef.current),
      onRoom: (code) => history.replaceState(null, '', `/jam/${encodeURIComponent(code)}?name=${encodeURIComponent(name)}${location.hash}`),
    });
    const detach = c.attach();
    const unsubscribe = c.subscribe(() => setSnap(c.snapshot()));
    setCtl(c);
    setSnap(c.snapshot());
    acquire();
    return () => {
      unsubscribe();
      detach(); // every handler off, every remote note released
      release(); // disconnects at once
    };
  }, [room, name, secret, token]);

  const setActive = useCallback((target: string, on: boolean) => {
    const el = rootRef.current?.querySelector<HTMLElement>(`[data-note="${CSS.escape(target)}"]`);
    if (el) el.toggleAttribute('data-active', on);
  }, []);

  const hit = useCallback(
    (pad: Pad | string, vel: number, midi?: number) => {
      resumeAudio();
      ctl?.hitPad(pad, vel, midi);
      setActive(pad, true);
      setTimeout(() => setActive(pad, false), 100);
    },
    [ctl, setActive],
  );
  const press = useCallback(
    (midi: number, vel: number, channel = 1) => {
      resumeAudio();
      ctl?.pressKey(midi, vel, channel);
      setActive(noteName(midi), true);
    },
    [ctl, setActive],
  );
  const releaseKey = useCallback(
    (midi: number, channel = 1) => {
      ctl?.releaseKey(midi, channel);
      setActive(noteName(midi), false);
    },
    [ctl, setActive],
  );

  const velocity = useCallback(
    (e: PointerEvent<HTMLElement>, kind: 'pad' | 'key') => (fixed ? fixedVel : strikeVelocity(e, kind)),
    [fixed, fixedVel],
  );

  useComputerKeyboard(ctl, base, setBase, fixedVel, hit, press, releaseKey);

  const onMidi = useCallback(
    (a: MidiAction) => {
      if (a.kind === 'drum') hit(a.note, a.velocity, a.midi);
      else if (a.kind === 'noteOn') press(a.midi, a.velocity, a.channel);
      else if (a.kind === 'noteOff') releaseKey(a.midi, a.channel);
      else ctl?.setSustain(a.value >= 64, a.channel);
    },
    [ctl, hit, press, releaseKey],
  );
  const midi = useWebMidi(onMidi);

  useEffect(() => {
    if (!ctl) return;
    const out = outId && midi.access ? midi.access.outputs.get(outId) : undefined;
    ctl.midiOut = out ? { send: (d) => out.send(d) } : null;
    return () => {
      ctl.midiOut = null;
    };
  }, [ctl, outId, midi.access]);

  useEffect(() => ctl?.setDebug(debug), [ctl, debug]);

  if (!snap || !ctl) return null;
  const share = snap.room ? shareLink(location.origin, snap.room, secret) : null;
  return (
    <div className="jam" ref={rootRef} onPointerDown={resumeAudio}>
      {audio === 'suspended' ? (
        <button type="button" className="hint" onClick={resumeAudio}>
          Sound is off until you click or tap once: click here.
        </button>
      ) : null}
      <SessionPanel snap={snap} shareLink={share} onCreate={() => ctl.createMissing()} onBack={onBack} />
      <section className="panel controls" aria-label="controls">
        <button type="button" aria-pressed={snap.sustain} onClick={() => ctl.setSustain(!ctl.isSustained())}>
          sustain <kbd>space</kbd>
        </button>
        <span className="octave">
          <button type="button" aria-label="octave down" disabled={base <= MIN_BASE} onClick={() => setBase(base - 12)}>
            − <kbd>-</kbd>
          </button>
          <span>{noteName(base)}</span>
          <button type="button" aria-label="octave up" disabled={base >= MAX_BASE} onClick={() => setBase(base + 12)}>
            + <kbd>=</kbd>
          </button>
        </span>
        <label>
          <input type="checkbox" checked={fixed} onChange={(e) => setFixed(e.target.checked)} /> fixed velocity
        </label>
        <input type="range" min={1} max={127} value={fixedVel} aria-label="velocity" onChange={(e) => setFixedVel(Number(e.target.value))} />
        <span>{fixedVel}</span>
        <label>
          <input type="checkbox" checked={debug} onChange={(e) => setDebug(e.target.checked)} /> debug
        </label>
      </section>
      <Pads velocity={velocity} onHit={hit} />
      <Piano base={base} octaves={2} velocity={velocity} onPress={press} onRelease={releaseKey} />
      <section className="panel midi" aria-label="MIDI">
        {midi.message ? (
          <p>{midi.message}</p>
        ) : (
          <>
            <p>MIDI inputs: {midi.inputs.length ? midi.inputs.join(', ') : 'none plugged in'}</p>
            <label>
              Play the others on{' '}
              <select value={outId} onChange={(e) => setOutId(e.target.value)}>
                <option value="">this page only</option>
                {midi.outputs.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                  </option>
                ))}
              </select>
            </label>
          </>
        )}
      </section>
      {debug ? <DebugPanel snap={snap} /> : null}
    </div>
  );
}

/** The computer keyboard plays the piano and the pads (see input/keyboard.ts). */
function useComputerKeyboard(
  ctl: JamController | null,
  base: number,
  setBase: (b: number) => void,
  vel: number,
  hit: (pad: Pad, v: number) => void,
  press: (midi: number, v: number) => void,
  releaseKey: (midi: number) => void,
) {
  const held = useRef(new Map<string, number>()); // key code -> midi it plays
  useEffect(() => {
    if (!ctl) return;
    const keys = held.current;
    const onDown = (e: KeyboardEvent) => {
      if (ignoredKey(e)) return;
      const a = keyAction(e.code, base);
      if (!a) return;
      e.preventDefault();
      if (e.repeat) return;
      if (a.kind === 'piano') {
        keys.set(e.code, a.midi);
        press(a.midi, vel);
      } else if (a.kind === 'pad') hit(a.pad, vel);
      else if (a.kind === 'octave') setBase(Math.min(MAX_BASE, Math.max(MIN_BASE, base + 12 * a.delta)));
      else ctl.setSustain(true);
    };
    const onUp = (e: KeyboardEvent) => {
      const midi = keys.get(e.code);
      if (midi !== undefined) {
        keys.delete(e.code);
        releaseKey(midi);
      } else if (e.code === 'Space' && !ignoredKey(e)) ctl.setSustain(false);
    };
    const onBlur = () => {
      for (const midi of keys.values()) releaseKey(midi);
      keys.clear();
    };
    window.addEventListener('keydown', onDown);
    window.addEventListener('keyup', onUp);
    window.addEventListener('blur', onBlur);
    return () => {
      window.removeEventListener('keydown', onDown);
      window.removeEventListener('keyup', onUp);
      window.removeEventListener('blur', onBlur);
    };
  }, [ctl, base, setBase, vel, hit, press, releaseKey]);
}
