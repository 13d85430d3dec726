// Web MIDI: the inputs play in the page (mapped by midiAction), and an
// optional output plays the remote participants.

import { useEffect, useState } from 'react';
import { midiAction, midiUnavailable, type MidiAction } from './midi';

export interface MidiState {
  message: string | null; // why there is no Web MIDI, in one sentence
  inputs: string[];
  outputs: { id: string; name: string }[];
  access: MIDIAccess | null;
}

/** Asks for Web MIDI once and feeds every input's messages to onAction. */
export function useWebMidi(onAction: (a: MidiAction) => void): MidiState {
  const [st, setSt] = useState<MidiState>({ message: null, inputs: [], outputs: [], access: null });
  useEffect(() => {
    if (typeof navigator.requestMIDIAccess !== 'function') {
      setSt((s) => ({ ...s, message: midiUnavailable(null) }));
      return;
    }
    let access: MIDIAccess | null = null;
    let gone = false;
    const bound = new Set<MIDIInput>();
    const onMessage = (e: Event) => {
      const data = (e as MIDIMessageEvent).data;
      const a = data ? midiAction(data) : null;
      if (a) onAction(a);
    };
    const bind = () => {
      if (!access || gone) return;
      for (const input of access.inputs.values()) {
        if (!bound.has(input)) {
          input.addEventListener('midimessage', onMessage);
          bound.add(input);
        }
      }
      setSt({
        message: null,
        access,
        inputs: [...access.inputs.values()].filter((i) => i.state !== 'disconnected').map((i) => i.name ?? i.id),
        outputs: [...access.outputs.values()].filter((o) => o.state !== 'disconnected').map((o) => ({ id: o.id, name: o.name ?? o.id })),
      });
    };
    navigator.requestMIDIAccess().then(
      (a) => {
        if (gone) return;
        access = a;
        a.addEventListener('statechange', bind);
        bind();
      },
      (err) => !gone && setSt((s) => ({ ...s, message: midiUnavailable(err) })),
    );
    return () => {
      gone = true;
      access?.removeEventListener('statechange', bind);
      for (const i of bound) i.removeEventListener('midimessage', onMessage);
    };
  }, [onAction]);
  return st;
}
