import { useState } from 'react';
import type { Snapshot } from '../../session/controller';

const STATUS_TEXT = { connecting: 'connecting', live: 'live', reconnecting: 'reconnecting', offline: 'offline' };

export function SessionPanel({ snap, shareLink, onCreate, onBack }: { snap: Snapshot; shareLink: string | null; onCreate: () => void; onBack: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    if (!shareLink) return;
    navigator.clipboard?.writeText(shareLink).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <section className="panel session" aria-label="session">
      <div className="row">
        <button type="button" className="link" onClick={onBack}>
          ← leave
        </button>
        <h1 className="code">{snap.room ?? 'new session'}</h1>
        <span className={`status ${snap.status}`} data-testid="status">
          {STATUS_TEXT[snap.status]}
        </span>
      </div>
      {shareLink ? (
        <div className="row share">
          <input readOnly value={shareLink} aria-label="share link" onFocus={(e) => e.currentTarget.select()} />
          <button type="button" onClick={copy}>
            {copied ? 'copied' : 'copy link'}
          </button>
        </div>
      ) : null}
      {snap.error ? (
        <p className="error" role="alert">
          {snap.error}{' '}
          {snap.notFound && snap.room ? (
            <button type="button" onClick={onCreate}>
              Create session {snap.room}
            </button>
          ) : null}
        </p>
      ) : null}
      <ul className="members" aria-label="participants">
        {snap.members.map((m) => (
          <li key={m.id} data-member={m.name}>
            <span className="dot" style={{ background: m.color }} />
            <span className="who">
              {m.name}
              {m.self ? ' (you)' : ''}
            </span>
            <span className="kind">{m.kind ?? 'client'}</span>
            <span className="lat">{m.latency === null ? '–' : `${m.latency.toFixed(1)} ms`}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function DebugPanel({ snap }: { snap: Snapshot }) {
  const f = (v: number | null) => (v === null ? '–' : v.toFixed(1));
  return (
    <section className="panel debug" aria-label="debug">
      <p className="figures">
        <span>{snap.eventsPerSec} events/s</span>
        <span>latency p50 {f(snap.latencyP50)} ms</span>
        <span>max {f(snap.latencyMax)} ms</span>
        <span>clock offset {f(snap.clockOffset)} ms</span>
        <span>round trip {f(snap.rtt)} ms</span>
      </p>
      <table>
        <thead>
          <tr>
            <th></th>
            <th>sender</th>
            <th>event</th>
            <th>payload</th>
            <th>latency</th>
          </tr>
        </thead>
        <tbody>
          {[...snap.log].reverse().map((e) => (
            <tr key={e.id} className={e.dir}>
              <td>{e.dir === 'in' ? '←' : '→'}</td>
              <td>{e.sender}</td>
              <td>{e.eventName}</td>
              <td className="payload">{e.payload}</td>
              <td>{e.latency === null ? '' : e.latency.toFixed(1)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
