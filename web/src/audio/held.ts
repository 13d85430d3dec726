// The notes sounding for each owner (this page, or a remote participant),
// so that none is left sounding: a release, the sustain pedal going up,
// the owner leaving and the connection dropping each say exactly which
// voices to stop.

export class HeldNotes<V> {
  // owner -> midi -> voice, for keys down
  private down = new Map<string, Map<number, V>>();
  // owner -> midi -> voice, for keys up but held by the pedal
  private pedalled = new Map<string, Map<number, V>>();
  private pedal = new Set<string>();

  private of(m: Map<string, Map<number, V>>, owner: string): Map<number, V> {
    let n = m.get(owner);
    if (!n) m.set(owner, (n = new Map()));
    return n;
  }

  /** A key goes down; returns the voices of the same key to stop (a repeat). */
  press(owner: string, midi: number, voice: V): V[] {
    const stop: V[] = [];
    for (const m of [this.down, this.pedalled]) {
      const v = m.get(owner)?.get(midi);
      if (v !== undefined) {
        stop.push(v);
        m.get(owner)!.delete(midi);
      }
    }
    this.of(this.down, owner).set(midi, voice);
    return stop;
  }

  /** A key goes up; returns the voice to stop now (none while the pedal is down). */
  release(owner: string, midi: number): V[] {
    const held = this.down.get(owner);
    const v = held?.get(midi);
    if (v === undefined) return [];
    held!.delete(midi);
    if (this.pedal.has(owner)) {
      this.of(this.pedalled, owner).set(midi, v);
      return [];
    }
    return [v];
  }

  /** The sustain pedal of an owner; going up returns the voices it held. */
  sustain(owner: string, down: boolean): V[] {
    if (down) {
      this.pedal.add(owner);
      return [];
    }
    this.pedal.delete(owner);
    const held = this.pedalled.get(owner);
    this.pedalled.delete(owner);
    return held ? [...held.values()] : [];
  }

  /** Everything an owner sounds, and its pedal: it left. */
  releaseOwner(owner: string): V[] {
    const out = [...(this.down.get(owner)?.values() ?? []), ...(this.pedalled.get(owner)?.values() ?? [])];
    this.down.delete(owner);
    this.pedalled.delete(owner);
    this.pedal.delete(owner);
    return out;
  }

  /** Every owner's notes except `keep`'s (the connection dropped). */
  releaseOthers(keep: string): V[] {
    const owners = new Set([...this.down.keys(), ...this.pedalled.keys(), ...this.pedal]);
    owners.delete(keep);
    return [...owners].flatMap((o) => this.releaseOwner(o));
  }

  /** How many voices sound for an owner (all owners when omitted). */
  count(owner?: string): number {
    const n = (m: Map<string, Map<number, V>>) =>
      owner === undefined ? [...m.values()].reduce((s, x) => s + x.size, 0) : (m.get(owner)?.size ?? 0);
    return n(this.down) + n(this.pedalled);
  }

  /** Whether a key sounds for an owner. */
  sounding(owner: string, midi: number): boolean {
    return this.down.get(owner)?.has(midi) === true || this.pedalled.get(owner)?.has(midi) === true;
  }
}
