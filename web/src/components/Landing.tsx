import { useState, type FormEvent } from 'react';
import { navigate } from '../App';
import { fragment, newSecret } from '../session/access';

const NAME_KEY = 'jam.name';

export function savedName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

export function saveName(name: string) {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // private mode: the name is asked again next time
  }
}

export function Landing() {
  const [name, setName] = useState(savedName);
  const [code, setCode] = useState('');
  const [secret, setSecret] = useState('');
  const ok = name.trim() !== '';
  const codeOk = /^[A-Za-z0-9-]{3,32}$/.test(code.trim());
  const go = (room: string | null) => {
    saveName(name.trim());
    // The secret goes in the fragment: it never reaches a server.
    const q = '?name=' + encodeURIComponent(name.trim()) + fragment({ secret: secret.trim() });
    navigate(room ? `/jam/${encodeURIComponent(room.toUpperCase())}${q}` : `/jam${q}`);
  };
  const join = (e: FormEvent) => {
    e.preventDefault();
    if (ok && codeOk) go(code.trim());
  };
  return (
    <main className="landing">
      <h1>jam</h1>
      <p className="lede">Play together in the browser, in the same session as USB keyboards and drum pads.</p>
      <label>
        Your name
        <input value={name} onChange={(e) => setName(e.target.value)} maxLength={40} autoComplete="nickname" placeholder="Ada" />
      </label>
      <label>
        Secret (optional: a session created with one is private)
        <input value={secret} onChange={(e) => setSecret(e.target.value)} maxLength={256} autoComplete="off" placeholder="none" />
      </label>
      <button type="button" onClick={() => setSecret(newSecret())}>
        Generate a secret
      </button>
      <button type="button" className="primary" disabled={!ok} onClick={() => go(null)}>
        Create a session
      </button>
      <form onSubmit={join} className="join">
        <label>
          Session code
          <input value={code} onChange={(e) => setCode(e.target.value)} placeholder="K7QM-3XRD" autoCapitalize="characters" />
        </label>
        <button type="submit" disabled={!ok || !codeOk}>
          Join
        </button>
      </form>
    </main>
  );
}
