// A private session's secret and a relay's access token travel in the
// link's fragment (#secret=…&token=…), which the browser never sends to a
// server, so they never reach a server's log.

/** Crockford's base32: nothing to misread when a secret is read aloud. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A new secret: 16 symbols of base32, 80 random bits. */
export function newSecret(random: (a: Uint8Array) => Uint8Array = (a) => crypto.getRandomValues(a)): string {
  const b = random(new Uint8Array(16));
  let s = '';
  for (const x of b) s += ALPHABET[x & 31];
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}-${s.slice(12)}`;
}

export interface Access {
  secret?: string;
  token?: string;
}

/** Reads #secret= and #token= from a location hash. */
export function readFragment(hash: string): Access {
  const f = new URLSearchParams(hash.replace(/^#/, ''));
  const out: Access = {};
  const secret = f.get('secret');
  const token = f.get('token');
  if (secret) out.secret = secret;
  if (token) out.token = token;
  return out;
}

/** The fragment that carries a; "" when there is nothing to carry. */
export function fragment(a: Access): string {
  const f = new URLSearchParams();
  if (a.secret) f.set('secret', a.secret);
  if (a.token) f.set('token', a.token);
  const s = f.toString().replace(/\+/g, '%20');
  return s ? `#${s}` : '';
}

/** The link others join with: the session and its secret, never our token (it may carry our name). */
export function shareLink(origin: string, room: string, secret?: string): string {
  return `${origin}/jam/${encodeURIComponent(room)}${fragment({ secret })}`;
}
