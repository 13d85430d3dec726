import { useEffect, useState } from 'react';
import { Landing } from './components/Landing';
import { JamSession } from './components/JamSession/JamSession';

/** Routes: "/" the landing page, "/jam" a new session, "/jam/CODE" a session. */
export function route(path: string): { view: 'landing' } | { view: 'jam'; room: string | null } {
  const m = /^\/jam(?:\/([^/]*))?\/?$/.exec(path);
  if (!m) return { view: 'landing' };
  const room = m[1] ? decodeURIComponent(m[1]) : null;
  return { view: 'jam', room };
}

export function navigate(to: string) {
  history.pushState(null, '', to);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function App() {
  const [loc, setLoc] = useState(() => ({ path: location.pathname, search: location.search, n: 0 }));
  useEffect(() => {
    const onPop = () => setLoc((l) => ({ path: location.pathname, search: location.search, n: l.n + 1 }));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const r = route(loc.path);
  if (r.view === 'landing') return <Landing />;
  const name = new URLSearchParams(loc.search).get('name');
  // A new key per navigation: a new session view, a new connection.
  return <JamSession key={loc.n} room={r.room} name={name} onBack={() => navigate('/')} />;
}
